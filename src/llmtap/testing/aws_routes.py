"""AWS routes: Bedrock Converse/ConverseStream/InvokeModel, STS, container and instance credentials.

Every Bedrock and STS request must carry a valid SigV4 signature made with credentials the
emulator knows: the fixed test pair (``TEST_ACCESS_KEY``/``TEST_SECRET_KEY``) or temporary
credentials it minted itself (STS AssumeRole, the container endpoint, IMDSv2). A wrong
signature gets Bedrock's 403 ``InvalidSignatureException`` body, an unknown key or session
token ``UnrecognizedClientException``. Streams are AWS's binary event stream.

Point clients here with ``AWS_ENDPOINT_URL=emu.url`` (or ``api_base=emu.url``), and for the
credential sources ``AWS_CONTAINER_CREDENTIALS_FULL_URI=emu.url + CONTAINER_PATH`` or
``AWS_EC2_METADATA_SERVICE_ENDPOINT=emu.url``.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, quote

from ..eventstream import encode_message
from ..providers import aws_sigv4
from .common import DEFAULT_PREFIX, arguments_of, route, split_content
from .http import Request, Response, StreamResponse
from .script import Fault, Reply

TEST_ACCESS_KEY = "AKIDLLMTAPEXAMPLE"
TEST_SECRET_KEY = "llmtap+emulator/secret/KEY/EXAMPLE0"
TEST_REGION = "us-east-1"
TEST_BEDROCK_API_KEY = "ABSKbGxtdGFwLXRlc3Qta2V5"  # a Bedrock API key (bearer token) the emulator accepts
CONTAINER_PATH = "/aws/container-credentials"
CONTAINER_TOKEN = "llmtap-container-auth-token"
TEST_WEB_IDENTITY_TOKEN = "eyJhbGciOiJSUzI1NiJ9.llmtap-test-oidc-token.sig"
IMDS_ROLE = "llmtap-instance-role"
DEFAULT_LIFETIME = 3600.0

BEDROCK = re.compile(r"^/model/([^/]+)/(converse|converse-stream|invoke)$")

_BAD_SIGNATURE = ("The request signature we calculated does not match the signature you provided. Check your AWS "
                  "Secret Access Key and signing method. Consult the service documentation for details.")
_BAD_TOKEN = "The security token included in the request is invalid."
_FAULT_TYPES = {400: "ValidationException", 403: "AccessDeniedException", 404: "ResourceNotFoundException",
                408: "ModelTimeoutException", 424: "ModelErrorException", 429: "ThrottlingException",
                500: "InternalServerException", 503: "ServiceUnavailableException"}
_FAULT_MESSAGES = {429: "Too many requests, please wait before trying again.",
                   503: "Bedrock is unable to process your request.",
                   400: "Malformed input request, please reformat your input and try again."}


class AwsState:
    """The credentials this emulator accepts (access key → (secret, session token or None))."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[str, str | None]] = {TEST_ACCESS_KEY: (TEST_SECRET_KEY, None)}
        self.minted: list[str] = []  # how temporary credentials were issued, in order ("sts", "container", "imds")
        self.lifetime = DEFAULT_LIFETIME
        self._lock = threading.Lock()

    def mint(self, how: str) -> dict[str, Any]:
        key = "ASIA" + secrets.token_hex(8).upper()
        secret = secrets.token_urlsafe(30)
        token = "FwoGZXIvYXdzE" + secrets.token_urlsafe(60)
        with self._lock:
            self.keys[key] = (secret, token)
            self.minted.append(how)
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.lifetime)
        return {"AccessKeyId": key, "SecretAccessKey": secret, "Token": token,
                "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}


def error(status: int, kind: str, message: str, headers: dict | None = None) -> Response:
    return Response.json({"message": message}, status, {"x-amzn-errortype": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/", **(headers or {})})


def verify(state: AwsState, request: Request, service: str) -> Response | None:
    """None if the request is signed by known credentials; else AWS's 403 answer."""
    header = request.headers.get("authorization")
    if header and header.startswith("Bearer ") and service == "bedrock":  # a Bedrock API key
        if header[7:] == TEST_BEDROCK_API_KEY:
            return None
        return error(403, "UnrecognizedClientException", "Invalid API Key format: Must start with pre-defined prefix")
    if not header:
        return error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    fields = aws_sigv4.parse_authorization(header)
    if fields is None:
        return error(403, "IncompleteSignatureException", "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders'.")
    key, _, scope = fields["Credential"].partition("/")
    known = state.keys.get(key)
    if known is None:
        return error(403, "UnrecognizedClientException", _BAD_TOKEN)
    secret, token = known
    if token is not None and request.headers.get("x-amz-security-token") != token:
        return error(403, "UnrecognizedClientException", _BAD_TOKEN)
    date, region, signed_service, _ = (scope.split("/") + ["", "", "", ""])[:4]
    amz_date = request.headers.get("x-amz-date", "")
    signed = fields["SignedHeaders"].split(";")
    if signed_service != service or amz_date[:8] != date or "host" not in signed or "x-amz-date" not in signed:
        return error(403, "InvalidSignatureException", _BAD_SIGNATURE)
    if token is not None and "x-amz-security-token" not in signed:
        return error(403, "InvalidSignatureException", _BAD_SIGNATURE)
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in request.query.items())
    url = f"http://{request.headers.get('host', '')}{request.path}" + (f"?{query}" if query else "")
    expected = aws_sigv4.signature_for(request.method, url, request.headers, signed, request.body, secret, amz_date, region, service)
    if not secrets.compare_digest(expected, fields["Signature"]):
        return error(403, "InvalidSignatureException", _BAD_SIGNATURE)
    try:
        skew = abs(datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc).timestamp() - time.time())
    except ValueError:
        skew = 1e9
    if skew > 900:
        return error(403, "InvalidSignatureException", "Signature expired: the request date is more than 15 minutes from now.")
    return None


def handle(state: AwsState, request: Request, next_item: Any) -> Response | StreamResponse | None:
    """The answer for an AWS route, or None if the request is not for one."""
    if request.path == CONTAINER_PATH and request.method == "GET":
        if request.headers.get("authorization") != CONTAINER_TOKEN:
            return Response.json({"message": "unauthorized"}, 401)
        return Response.json(state.mint("container"))
    if request.path.startswith("/latest/"):
        return _imds(state, request)
    if request.path == "/" and request.method == "POST" and b"Action=AssumeRoleWithWebIdentity" in request.body:
        return _assume_role(state, request, web_identity=True)
    if request.path == "/" and request.method == "POST" and b"Action=AssumeRole" in request.body:
        return _assume_role(state, request)
    match = BEDROCK.match(request.path)
    if match is None or request.method != "POST":
        return None
    denied = verify(state, request, "bedrock")
    if denied is not None:
        return denied
    if not isinstance(request.json, dict):
        return error(400, "ValidationException", "Malformed input request, please reformat your input and try again.")
    model = re.sub(r"%3A", ":", match.group(1), flags=re.I)
    item = next_item(request)
    action = match.group(2)
    if action == "invoke":
        return _invoke(request, item, model)
    return _converse(request, item, model, action == "converse-stream")


def _imds(state: AwsState, request: Request) -> Response:
    if request.path == "/latest/api/token" and request.method == "PUT":
        return Response(200, b"llmtap-imds-session-token", {"content-type": "text/plain"})
    if request.headers.get("x-aws-ec2-metadata-token") != "llmtap-imds-session-token":
        return Response(401, b"", {"content-type": "text/plain"})
    base = "/latest/meta-data/iam/security-credentials/"
    if request.path == base:
        return Response(200, IMDS_ROLE.encode(), {"content-type": "text/plain"})
    if request.path == base + IMDS_ROLE:
        return Response.json({"Code": "Success", "Type": "AWS-HMAC", **state.mint("imds")})
    return Response(404, b"", {"content-type": "text/plain"})


def _assume_role(state: AwsState, request: Request, web_identity: bool = False) -> Response:
    form = dict(parse_qsl(request.body.decode()))
    if web_identity:  # unsigned: the OIDC token is the credential
        if form.get("WebIdentityToken") != TEST_WEB_IDENTITY_TOKEN:
            return _sts_error(400, "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider")
    else:
        denied = verify(state, request, "sts")
        if denied is not None:
            return _sts_error(denied.status, "SignatureDoesNotMatch", json.loads(denied.body)["message"])
    if not form.get("RoleArn", "").startswith("arn:aws:iam::"):
        return _sts_error(400, "ValidationError", "RoleArn is not a valid ARN")
    creds = state.mint("sts-web-identity" if web_identity else "sts")
    xml = (
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>'
        f"<AccessKeyId>{creds['AccessKeyId']}</AccessKeyId><SecretAccessKey>{creds['SecretAccessKey']}</SecretAccessKey>"
        f"<SessionToken>{creds['Token']}</SessionToken><Expiration>{creds['Expiration']}</Expiration>"
        f"</Credentials><AssumedRoleUser><Arn>{form['RoleArn']}/{form.get('RoleSessionName', '')}</Arn></AssumedRoleUser>"
        "</AssumeRoleResult></AssumeRoleResponse>"
    )
    return Response(200, xml.encode(), {"content-type": "text/xml"})


def _sts_error(status: int, code: str, message: str) -> Response:
    xml = f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error></ErrorResponse>"
    return Response(status, xml.encode(), {"content-type": "text/xml"})


def _fault(fault: Fault) -> Response:
    kind = fault.code if fault.code and fault.code[:1].isupper() else _FAULT_TYPES.get(fault.status, "InternalServerException")
    headers = dict(fault.headers or {})
    if fault.retry_after is not None:
        headers["retry-after"] = f"{fault.retry_after:g}"
    if fault.body is not None:
        return Response(fault.status, fault.body, {"content-type": fault.content_type or "text/plain", **headers}, fault.delay)
    response = error(fault.status, kind, fault.message or _FAULT_MESSAGES.get(fault.status, f"{kind} ({fault.status})"), headers)
    response.delay = fault.delay
    return response


def _last_text(messages: Any) -> str:
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            for block in message.get("content") or ():
                if isinstance(block, dict) and isinstance(block.get("text"), str):
                    return block["text"]
    return ""


def _converse(request: Request, item: Any, model: str, stream: bool) -> Response | StreamResponse:
    body = request.json
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return error(400, "ValidationException", "The messages field is required and must not be empty.")
    for message in messages:
        for block in message.get("content") or ():
            if "text" in block and not str(block["text"]).strip():
                return error(400, "ValidationException", "The text field in the ContentBlock object is blank.")
    fault = item if isinstance(item, Fault) else None
    if fault is not None and not fault.breaks_stream:
        return _fault(fault)
    reply = item if isinstance(item, Reply) else Reply()
    last = _last_text(messages)
    content = reply.content if reply.content is not None else DEFAULT_PREFIX + last[:200]
    prompt = reply.prompt_tokens or max(1, len(last.split()) + 4)
    output = reply.completion_tokens or max(1, len(content.split()))
    usage = {"inputTokens": prompt, "outputTokens": output, "totalTokens": prompt + output}
    calls = reply.tool_calls or []
    stop = {"length": "max_tokens", "content_filter": "guardrail_intervened"}.get(reply.finish_reason or "", "tool_use" if calls else "end_turn")
    if not stream:
        blocks: list[dict] = [] if calls and reply.content is None else [{"text": content}]
        blocks += [{"toolUse": {"toolUseId": f"tooluse_{i}", "name": c["name"], "input": arguments_of(c)}}
                   for i, c in enumerate(calls)]
        answer: dict[str, Any] = {"output": {"message": {"role": "assistant", "content": blocks}}, "stopReason": stop,
                                  "usage": usage, "metrics": {"latencyMs": 12}}
        if stop == "guardrail_intervened":
            answer["trace"] = {"guardrail": {"inputAssessment": {"emulator": {"contentPolicy": {"filters": [{"action": "BLOCKED"}]}}}}}
        return Response.json(answer, headers={"x-amzn-requestid": "emulator-" + secrets.token_hex(6)}, delay=reply.delay)
    events: list[tuple[str, dict]] = [("messageStart", {"role": "assistant"})]
    if not (calls and reply.content is None):
        for piece in split_content(content, reply.chunks):
            events.append(("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}}))
        events.append(("contentBlockStop", {"contentBlockIndex": 0}))
    for i, c in enumerate(calls, start=1):
        events.append(("contentBlockStart", {"contentBlockIndex": i, "start": {"toolUse": {"toolUseId": f"tooluse_{i}", "name": c["name"]}}}))
        events.append(("contentBlockDelta", {"contentBlockIndex": i, "delta": {"toolUse": {"input": c.get("arguments") or "{}"}}}))
        events.append(("contentBlockStop", {"contentBlockIndex": i}))
    events.append(("messageStop", {"stopReason": stop}))
    metadata: dict[str, Any] = {"usage": usage, "metrics": {"latencyMs": 12}}
    if stop == "guardrail_intervened":
        metadata["trace"] = {"guardrail": {"inputAssessment": {"emulator": {"contentPolicy": {"filters": [{"action": "BLOCKED"}]}}}}}
    events.append(("metadata", metadata))
    frames = [encode_message({":event-type": kind, ":content-type": "application/json", ":message-type": "event"},
                             json.dumps({**data, "p": "abc"}).encode()) for kind, data in events]
    ending = "done"
    if fault is not None:
        if fault.cut_after is not None:
            frames = frames[: fault.cut_after + 1]
            ending = fault.cut_mode
        if fault.malformed:
            broken = bytearray(frames[1])
            broken[-1] ^= 0xFF  # the message CRC no longer matches
            frames[1] = bytes(broken)
        if fault.mid_stream:
            kind = (fault.code or "throttlingException")
            frames = frames[:2] + [encode_message(
                {":exception-type": kind[:1].lower() + kind[1:], ":content-type": "application/json", ":message-type": "exception"},
                json.dumps({"message": fault.message or "Too many requests, please wait before trying again."}).encode())]
    return StreamResponse(frames, headers={"content-type": "application/vnd.amazon.eventstream",
                                           "x-amzn-requestid": "emulator-" + secrets.token_hex(6)},
                          delay=reply.delay, piece_delay=reply.chunk_delay, ending=ending)


def _vector(text: str, size: int) -> list[float]:
    seed = sum(text.encode()) or 1
    return [((seed * (i + 7)) % 97) / 97.0 for i in range(size)]


def _invoke(request: Request, item: Any, model: str) -> Response:
    if isinstance(item, Fault):
        return _fault(item)
    body = request.json
    if "titan-embed" in model:
        text = body.get("inputText")
        if not isinstance(text, str) or not text:
            return error(400, "ValidationException", "Malformed input request: #: required key [inputText] not found")
        return Response.json({"embedding": _vector(text, int(body.get("dimensions") or 8)), "inputTextTokenCount": len(text.split())})
    if "cohere.embed" in model:
        texts = body.get("texts")
        if not isinstance(texts, list) or not texts or "input_type" not in body:
            return error(400, "ValidationException", "Malformed input request: texts and input_type are required")
        return Response.json({"embeddings": [_vector(t, 8) for t in texts], "id": "emb-emulator", "response_type": "embeddings_floats",
                              "texts": texts}, headers={"x-amzn-bedrock-input-token-count": str(sum(len(t.split()) for t in texts))})
    return error(400, "ValidationException", f"The provided model identifier is invalid: {model}")


# Credential endpoints (container, IMDS, STS at "/") and Bedrock; ``handle`` declines the rest.
ROUTES = (
    route("*", rf"^(/model/|/latest/|{re.escape(CONTAINER_PATH)}|/$)", lambda emulator, request, _: handle(
        emulator.aws, request, emulator.next_item
    )),
)
