"""A stand-in for the Mixpanel client the seed imports: ``track`` POSTs the event as JSON over a
real socket to the collector the test runs (MIXPANEL_COLLECTOR_URL), as a real client would."""

import json
import os
import urllib.request


def track(event_name, properties):
    body = json.dumps({"event": event_name, "properties": properties}, default=str).encode()
    request = urllib.request.Request(
        os.environ["MIXPANEL_COLLECTOR_URL"], data=body, headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=5).read()
