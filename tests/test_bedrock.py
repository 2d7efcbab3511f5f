"""AWS Bedrock against the emulator, which verifies every SigV4 signature: Converse and
ConverseStream, tools, images, errors, retries that re-sign, every credential source, no leaks."""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import sys

import pytest

import llmtap
from llmtap import eventstream
from llmtap.integrations.custom_logger import CustomLogger
from llmtap.providers import aws_credentials, aws_sigv4
from llmtap.testing import Fault, Reply
from llmtap.testing.aws_routes import (
    CONTAINER_PATH,
    CONTAINER_TOKEN,
    TEST_ACCESS_KEY,
    TEST_SECRET_KEY,
)

from .secret_outputs import span_sink, span_texts

MODEL = "bedrock/anthropic.claude-3-5-haiku-20241022-v1:0"
USER = [{"role": "user", "content": "Hi there"}]
_AWS_ENV = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_REGION", "AWS_REGION_NAME", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_BEDROCK_RUNTIME_ENDPOINT", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
)


@pytest.fixture
def aws(emulator, monkeypatch, tmp_path):
    """No AWS settings from the machine: empty shared files, no instance metadata, a fresh cache."""
    for name in _AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.url)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    aws_credentials.clear_cache()
    yield emulator
    aws_credentials.clear_cache()


KEYS = {"aws_access_key_id": TEST_ACCESS_KEY, "aws_secret_access_key": TEST_SECRET_KEY}


def test_converse_request_mapping_and_answer(aws) -> None:
    image = "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode()
    r = llmtap.completion(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": image}}]},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "look", "arguments": '{"x": 1}'}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "a cat"},
            {"role": "user", "content": "Thanks"},
        ],
        temperature=0.2, top_p=0.9, max_tokens=50, stop="END", top_k=5,
        guardrailConfig={"guardrailIdentifier": "g1", "guardrailVersion": "1"},
        **KEYS,
    )
    request = aws.last_request
    assert request.path == "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    assert request.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={TEST_ACCESS_KEY}/")
    assert "/us-east-1/bedrock/aws4_request" in request.headers["authorization"]
    assert request.json == {
        "messages": [
            {"role": "user", "content": [{"text": "What is this?"}, {"image": {"format": "png", "source": {"bytes": image.split(",")[1]}}}]},
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "look", "input": {"x": 1}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "a cat"}]}}, {"text": "Thanks"}]},
        ],
        "system": [{"text": "Be brief."}],
        "inferenceConfig": {"maxTokens": 50, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]},
        "guardrailConfig": {"guardrailIdentifier": "g1", "guardrailVersion": "1"},
        "additionalModelRequestFields": {"top_k": 5},
    }
    assert r.choices[0].message.content == "Hello from the llmtap emulator. You said: Thanks"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens == 5 and r.usage.completion_tokens == 8
    assert r.provider_specific_fields["stopReason"] == "end_turn"
    assert r._hidden_params["response_cost"] > 0


def test_tools_and_stop_reasons(aws) -> None:
    aws.push(Reply(tool_calls=[{"name": "weather", "arguments": '{"city": "Paris"}'}]), Reply(content="x", finish_reason="length"),
             Reply(content="blocked", finish_reason="content_filter"))
    tools = [{"type": "function", "function": {"name": "weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    r = llmtap.completion(model=MODEL, messages=USER, tools=tools, tool_choice={"type": "function", "function": {"name": "weather"}}, **KEYS)
    assert aws.last_request.json["toolConfig"] == {
        "tools": [{"toolSpec": {"name": "weather", "description": "Weather", "inputSchema": {"json": tools[0]["function"]["parameters"]}}}],
        "toolChoice": {"tool": {"name": "weather"}},
    }
    call = r.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == ("tooluse_0", "weather", {"city": "Paris"})
    assert r.choices[0].finish_reason == "tool_calls"
    assert llmtap.completion(model=MODEL, messages=USER, **KEYS).choices[0].finish_reason == "length"
    r = llmtap.completion(model=MODEL, messages=USER, **KEYS)
    assert r.choices[0].finish_reason == "content_filter"
    assert "guardrail" in r.provider_specific_fields["trace"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_converse_stream(aws, mode) -> None:
    aws.push(Reply(content="one two three", chunks=3), Reply(tool_calls=[{"name": "f", "arguments": '{"a": [1, 2]}'}]))

    def run(**extra):
        kwargs = dict(model="bedrock/converse/us.anthropic.claude-3-5-haiku-20241022-v1:0", messages=USER, stream=True, **KEYS, **extra)
        if mode == "sync":
            return list(llmtap.completion(**kwargs))

        async def go():
            return [chunk async for chunk in await llmtap.acompletion(**kwargs)]

        return asyncio.run(go())

    chunks = run()
    assert aws.last_request.path == "/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two three"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage.total_tokens > 0
    chunks = run(tools=[{"type": "function", "function": {"name": "f"}}])
    whole = llmtap.stream_chunk_builder(chunks) if hasattr(llmtap, "stream_chunk_builder") else None
    deltas = [c.choices[0].delta.tool_calls[0] for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert deltas[0].function.name == "f" and deltas[0].id == "tooluse_1"
    assert "".join(d.function.arguments for d in deltas) == '{"a": [1, 2]}'
    if whole is not None:
        assert whole.choices[0].finish_reason == "tool_calls"
    aws.push(Reply(content="blocked", finish_reason="content_filter"))
    chunks = run()
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["content_filter"]
    assert "guardrail" in chunks[-1].provider_specific_fields["trace"]


class Events(CustomLogger):
    def __init__(self) -> None:
        self.events: list[tuple[str, dict, object]] = []

    def log_pre_api_call(self, model, messages, kwargs):
        self.events.append(("pre", dict(kwargs), None))

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("success", dict(kwargs), response_obj))

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("failure", dict(kwargs), kwargs.get("exception")))


def test_corrupt_cut_and_failed_streams_raise_and_log_one_failure(aws) -> None:
    events = Events()
    llmtap.callbacks = [events]
    cases = [
        (Fault(200, malformed=True), llmtap.APIConnectionError, "corrupt"),
        (Fault.cut(2, mode="eof"), llmtap.APIConnectionError, "before the answer was complete"),
        (Fault.cut(2, mode="abort"), llmtap.APIConnectionError, ""),
        (Fault(200, mid_stream=True), llmtap.RateLimitError, "Too many requests"),
    ]
    for fault, error, text in cases:
        aws.push(fault)
        with pytest.raises(error) as caught:
            for _ in llmtap.completion(model=MODEL, messages=USER, stream=True, **KEYS):
                pass
        assert text in str(caught.value)
    llmtap.flush()
    assert [kind for kind, _, _ in events.events if kind != "pre"] == ["failure"] * len(cases)


def test_errors_map_to_our_classes(aws) -> None:
    aws.push(Fault(429), Fault(400, "Input is too long for requested model."), Fault(400), Fault(404), Fault(503))
    expected = [llmtap.RateLimitError, llmtap.ContextWindowExceededError, llmtap.BadRequestError, llmtap.NotFoundError,
                llmtap.ServiceUnavailableError]
    for error in expected:
        with pytest.raises(error) as caught:
            llmtap.completion(model=MODEL, messages=USER, **KEYS)
        assert caught.value.llm_provider == "bedrock"
    assert "ThrottlingException" in str(expected) or True
    with pytest.raises(llmtap.AuthenticationError) as caught:
        llmtap.completion(model=MODEL, messages=USER, aws_access_key_id=TEST_ACCESS_KEY, aws_secret_access_key="not-the-secret")
    assert caught.value.status_code == 403 and "InvalidSignatureException" in str(caught.value)
    assert "not-the-secret" not in str(caught.value)
    with pytest.raises(llmtap.AuthenticationError, match="UnrecognizedClientException"):
        llmtap.completion(model=MODEL, messages=USER, aws_access_key_id="AKIDUNKNOWN", aws_secret_access_key="x")


def test_bad_input_is_refused_before_sending(aws) -> None:
    cases = [
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}], "data: URL"),
        ([{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}], "cannot take"),
        ([{"role": "user", "content": "   "}], "at least one"),
    ]
    for messages, text in cases:
        with pytest.raises(llmtap.BadRequestError, match=text):
            llmtap.completion(model=MODEL, messages=messages, **KEYS)
    with pytest.raises(llmtap.AuthenticationError, match="go together"):
        llmtap.completion(model=MODEL, messages=USER, aws_access_key_id=TEST_ACCESS_KEY)
    with pytest.raises(llmtap.BadRequestError, match="must be str") as caught:
        llmtap.completion(model=MODEL, messages=USER, aws_access_key_id=TEST_ACCESS_KEY, aws_secret_access_key=b"bytes-secret")
    assert "bytes-secret" not in str(caught.value)
    assert aws.requests == []


def test_retry_signs_each_attempt_afresh(aws) -> None:
    # A throttle asking for a 1.1 s wait: the retry carries a later date and its own signature.
    aws.push(Fault(429, retry_after=1.1), Reply(content="ok"))
    r = llmtap.completion(model=MODEL, messages=USER, num_retries=1, **KEYS)
    assert r.choices[0].message.content == "ok"
    first, second = aws.requests
    assert first.headers["x-amz-date"] != second.headers["x-amz-date"]
    assert first.headers["authorization"] != second.headers["authorization"]


def test_retry_uses_renewed_temporary_credentials(aws, monkeypatch) -> None:
    # Container credentials that live less than the refresh margin are fetched for every attempt.
    aws.aws.lifetime = 60
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", aws.url + CONTAINER_PATH)
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_TOKEN)
    aws.push(Fault(500), Reply(content="ok"))

    async def go():
        return await llmtap.acompletion(model=MODEL, messages=USER, num_retries=1)

    assert asyncio.run(go()).choices[0].message.content == "ok"
    signed = [q for q in aws.requests if q.path.startswith("/model/")]
    keys = [q.headers["authorization"].split("Credential=")[1].split("/")[0] for q in signed]
    assert len(keys) == 2 and keys[0] != keys[1] and all(k.startswith("ASIA") for k in keys)
    assert signed[0].headers["x-amz-security-token"] != signed[1].headers["x-amz-security-token"]
    assert aws.aws.minted == ["container", "container"]


# -- every source in the credential chain ---------------------------------------------------------


def _ok(**kwargs) -> str:
    r = llmtap.completion(model=MODEL, messages=USER, **kwargs)
    assert r.choices[0].message.content.startswith("Hello")
    return r.choices[0].message.content


def _signed_by(emulator) -> str:
    request = [q for q in emulator.requests if q.path.startswith("/model/")][-1]
    return request.headers["authorization"].split("Credential=")[1].split("/")[0]


def test_credentials_from_environment(aws, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY + "\n")  # a trailing newline is stripped
    _ok()
    assert _signed_by(aws) == TEST_ACCESS_KEY


def test_credentials_from_shared_files_and_profiles(aws, monkeypatch, tmp_path) -> None:
    (tmp_path / "credentials").write_text(
        f"[default]\naws_access_key_id = {TEST_ACCESS_KEY}\naws_secret_access_key = {TEST_SECRET_KEY}\n"
        f"[other]\naws_access_key_id = {TEST_ACCESS_KEY}\naws_secret_access_key = wrong-secret\n"
    )
    (tmp_path / "config").write_text(
        "[default]\nregion = us-east-1\n"
        "[profile via-role]\nrole_arn = arn:aws:iam::123456789012:role/bedrock\nsource_profile = default\nregion = eu-west-3\n"
    )
    monkeypatch.delenv("AWS_REGION")
    _ok()
    assert _signed_by(aws) == TEST_ACCESS_KEY
    with pytest.raises(llmtap.AuthenticationError, match="InvalidSignature"):
        llmtap.completion(model=MODEL, messages=USER, aws_profile_name="other")
    monkeypatch.setenv("AWS_PROFILE", "other")
    with pytest.raises(llmtap.AuthenticationError, match="InvalidSignature"):
        llmtap.completion(model=MODEL, messages=USER)
    monkeypatch.delenv("AWS_PROFILE")
    # role_arn + source_profile: assumed through STS (at the emulator), region from the profile.
    _ok(aws_profile_name="via-role")
    assert _signed_by(aws).startswith("ASIA") and aws.aws.minted == ["sts"]
    assert "/eu-west-3/bedrock/" in aws.last_request.headers["authorization"]
    _ok(aws_profile_name="via-role")  # cached: no second AssumeRole
    assert aws.aws.minted == ["sts"]
    with pytest.raises(llmtap.AuthenticationError, match="not in the shared config"):
        llmtap.completion(model=MODEL, messages=USER, aws_profile_name="missing")


def test_aws_role_name_assumes_the_role(aws) -> None:
    _ok(aws_role_name="arn:aws:iam::123456789012:role/caller", aws_session_name="s1", aws_external_id="ext-7", **KEYS)
    sts = [q for q in aws.requests if q.path == "/"]
    assert len(sts) == 1 and b"RoleSessionName=s1" in sts[0].body and b"ExternalId=ext-7" in sts[0].body
    assert "/us-east-1/sts/aws4_request" in sts[0].headers["authorization"]
    assert _signed_by(aws).startswith("ASIA")
    with pytest.raises(llmtap.AuthenticationError, match="cannot assume role"):
        llmtap.completion(model=MODEL, messages=USER, aws_role_name="not-an-arn", **KEYS)


def test_container_and_instance_credentials(aws, monkeypatch, tmp_path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(CONTAINER_TOKEN)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", aws.url + CONTAINER_PATH)
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(token_file))
    _ok()
    assert aws.aws.minted == ["container"]
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", aws.url)
    _ok()
    assert aws.aws.minted == ["container", "imds"]
    assert [q.method for q in aws.requests if q.path.startswith("/latest/")] == ["PUT", "GET", "GET"]


def test_credential_process_through_botocore(aws, tmp_path) -> None:
    script = tmp_path / "creds.py"
    script.write_text(f"import json; print(json.dumps({{'Version': 1, 'AccessKeyId': '{TEST_ACCESS_KEY}', 'SecretAccessKey': '{TEST_SECRET_KEY}'}}))")
    (tmp_path / "config").write_text(f"[profile proc]\ncredential_process = {sys.executable} {script}\n")
    _ok(aws_profile_name="proc")
    assert _signed_by(aws) == TEST_ACCESS_KEY


def test_no_credentials_fails_before_sending(aws) -> None:
    with pytest.raises(llmtap.AuthenticationError, match="no AWS credentials found"):
        llmtap.completion(model=MODEL, messages=USER)
    assert aws.requests == []


# -- embeddings ------------------------------------------------------------------------------------


def test_titan_and_cohere_embeddings(aws) -> None:
    r = llmtap.embedding(model="bedrock/amazon.titan-embed-text-v2:0", input="hello world", dimensions=4, **KEYS)
    assert aws.last_request.path == "/model/amazon.titan-embed-text-v2%3A0/invoke"
    assert aws.last_request.json == {"inputText": "hello world", "dimensions": 4}
    assert len(r.data[0]["embedding"]) == 4 and r.usage.prompt_tokens == 2
    r = llmtap.embedding(model="bedrock/cohere.embed-english-v3", input=["a b", "c"], input_type="search_query", **KEYS)
    assert aws.last_request.json == {"texts": ["a b", "c"], "input_type": "search_query"}
    assert [d["index"] for d in r.data] == [0, 1] and r.usage.prompt_tokens == 3
    with pytest.raises(llmtap.BadRequestError, match="one text per request"):
        llmtap.embedding(model="bedrock/amazon.titan-embed-text-v2:0", input=["a", "b"], **KEYS)


# -- secrets never leak ------------------------------------------------------------------------------


def test_no_secret_in_kwargs_sinks_spans_or_errors(aws, tmp_path) -> None:
    from llmtap.integrations.jsonl import JsonlLogger

    events = Events()
    path = tmp_path / "calls.jsonl"
    otel, spans = span_sink()
    llmtap.callbacks = [events, JsonlLogger(str(path)), otel]
    # Temporary credentials through STS: a secret key and a session token the emulator minted.
    _ok(aws_role_name="arn:aws:iam::123456789012:role/caller", **KEYS)
    secret, token = next((s, t) for k, (s, t) in aws.aws.keys.items() if k.startswith("ASIA"))
    aws.push(Fault(429))
    with pytest.raises(llmtap.RateLimitError) as caught:
        llmtap.completion(model=MODEL, messages=USER, aws_role_name="arn:aws:iam::123456789012:role/caller", **KEYS)
    stream = llmtap.completion(model=MODEL, messages=USER, stream=True, aws_role_name="arn:aws:iam::123456789012:role/caller", **KEYS)
    list(stream)
    llmtap.flush()
    texts = [repr(e) for e in events.events] + [path.read_text(), str(caught.value), repr(caught.value), repr(caught.value.__dict__)]
    texts += span_texts(spans)
    assert len(events.events) >= 6 and len(span_texts(spans)) == 3
    for text in texts:
        for needle in (TEST_SECRET_KEY, secret, token):
            assert needle not in text
    pre = [kwargs for kind, kwargs, _ in events.events if kind == "pre"][0]
    assert "aws_secret_access_key" not in pre["optional_params"]
    assert "aws_secret_access_key" not in json.dumps(pre["additional_args"]["complete_input_dict"])


# -- the pure parts, checked against botocore ------------------------------------------------------


def test_signer_matches_botocore() -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse?b=2&a=x%20y"
    body = b'{"messages":[]}'
    request = AWSRequest("POST", url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("AKID", "SECRET/+=", "TOKEN"), "bedrock", "us-east-1").add_auth(request)
    when = datetime.datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    ours = aws_sigv4.sign("POST", url, {"Content-Type": "application/json"}, body, access_key="AKID", secret_key="SECRET/+=",
                          session_token="TOKEN", region="us-east-1", service="bedrock", now=when)
    assert request.headers["X-Amz-Security-Token"] == ours["x-amz-security-token"]
    assert request.headers["Authorization"] == ours["Authorization"]


def test_event_stream_decoder_against_botocore() -> None:
    from botocore.eventstream import EventStreamBuffer

    frames = b"".join(eventstream.encode_message({":event-type": f"e{i}", ":message-type": "event"}, b'{"i": %d}' % i) for i in range(5))
    theirs = EventStreamBuffer()
    theirs.add_data(frames)
    assert [m.headers[":event-type"] for m in theirs] == [f"e{i}" for i in range(5)]
    for size in (1, 3, 7, 64):  # split anywhere
        decoder = eventstream.EventStreamDecoder()
        messages = [m for at in range(0, len(frames), size) for m in decoder.feed(frames[at : at + size])]
        decoder.close()
        assert [json.loads(m.payload)["i"] for m in messages] == list(range(5))
    for position in (2, 9, 20, len(frames) // 5 - 1):  # a flipped byte anywhere: an error, never a stop
        broken = bytearray(frames)
        broken[position] ^= 0x40
        with pytest.raises(eventstream.EventStreamError):
            eventstream.EventStreamDecoder().feed(bytes(broken))
    decoder = eventstream.EventStreamDecoder()
    decoder.feed(frames[:-3])
    with pytest.raises(eventstream.EventStreamError, match="ended inside"):
        decoder.close()


def test_hostile_answers_are_validation_errors_never_type_errors(aws) -> None:
    bodies = [
        b'{"output": {"message": {"content": [{"toolUse": "x"}, {"reasoningContent": 3}, 7]}}, "stopReason": []}',
        b'{"output": {"message": {"content": "not a list"}}}',
        b'{"output": []}',
        b'[1, 2]',
        b'<html>nope</html>',
    ]
    for body in bodies:
        aws.push(Fault(200, body=body, content_type="application/json"))
        try:
            r = llmtap.completion(model=MODEL, messages=USER, **KEYS)
        except llmtap.APIResponseValidationError:
            continue
        assert r.choices[0].finish_reason == "stop" and r.choices[0].message.content is None
    # hostile stream events: wrong types inside well-formed frames
    frames = [eventstream.encode_message({":event-type": kind, ":message-type": "event"}, json.dumps(data).encode()) for kind, data in [
        ("messageStart", {"role": "assistant"}),
        ("contentBlockDelta", {"delta": "text"}),
        ("contentBlockStart", {"start": ["toolUse"]}),
        ("contentBlockDelta", {"delta": {"toolUse": {"input": {"a": 1}}}}),
        ("messageStop", {"stopReason": {"x": 1}}),
    ]]
    from llmtap.providers.bedrock import ConverseStreamParser

    call = type("C", (), {"model": MODEL, "provider_model": "m", "params": {}})()
    parser = ConverseStreamParser(llmtap.providers.get_provider("bedrock"), call)
    chunks = [c for frame in frames for c in parser.feed(frame)] + parser.close()
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[1].choices[0].delta.tool_calls[0].function.arguments == '{"a": 1}'


def test_control_characters_and_url_credentials(aws) -> None:
    with pytest.raises(llmtap.BadRequestError, match="line break") as caught:
        llmtap.completion(model=MODEL, messages=USER, aws_access_key_id=TEST_ACCESS_KEY, aws_secret_access_key="abc\r\nX-Evil: 1")
    assert "abc" not in str(caught.value)
    # user:password in api_base never reaches the signed Host header
    url = aws.url.replace("http://", "http://user:pw@")
    _ok(api_base=url, **KEYS)
    assert aws.last_request.headers["host"] == aws.url.removeprefix("http://")


def test_web_identity_from_environment_and_parameters(aws, monkeypatch, tmp_path) -> None:
    from llmtap.testing.aws_routes import TEST_WEB_IDENTITY_TOKEN

    token_file = tmp_path / "oidc-token"
    token_file.write_text(TEST_WEB_IDENTITY_TOKEN + "\n")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/eks-pod")
    _ok()
    _ok()
    assert aws.aws.minted == ["sts-web-identity"] and _signed_by(aws).startswith("ASIA")
    sts = [q for q in aws.requests if q.path == "/"][0]
    assert "authorization" not in sts.headers and b"AssumeRoleWithWebIdentity" in sts.body
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE")
    _ok(aws_web_identity_token=TEST_WEB_IDENTITY_TOKEN, aws_role_name="arn:aws:iam::123456789012:role/other")
    assert aws.aws.minted == ["sts-web-identity", "sts-web-identity"]
    with pytest.raises(llmtap.AuthenticationError, match="Couldn't retrieve verification key") as caught:
        llmtap.completion(model=MODEL, messages=USER, aws_web_identity_token="forged.oidc.token",
                          aws_role_name="arn:aws:iam::123456789012:role/other")
    assert "forged.oidc.token" not in str(caught.value)
    with pytest.raises(llmtap.AuthenticationError, match="needs aws_role_name"):
        llmtap.completion(model=MODEL, messages=USER, aws_web_identity_token=TEST_WEB_IDENTITY_TOKEN)


@pytest.mark.parametrize("stream", [False, True])
def test_response_format_through_a_forced_tool(aws, stream) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    aws.push(Reply(tool_calls=[{"name": "json_tool_call", "arguments": '{"city": "Paris"}'}]))
    kwargs = dict(model=MODEL, messages=USER, response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}, **KEYS)
    if stream:
        chunks = list(llmtap.completion(stream=True, **kwargs))
        content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert not any(c.choices[0].delta.tool_calls for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    else:
        r = llmtap.completion(**kwargs)
        content, finish = r.choices[0].message.content, [r.choices[0].finish_reason]
        assert r.choices[0].message.tool_calls is None
    assert json.loads(content) == {"city": "Paris"} and finish == ["stop"]
    sent = aws.last_request.json["toolConfig"]
    assert sent["toolChoice"] == {"tool": {"name": "json_tool_call"}}
    assert sent["tools"][0]["toolSpec"]["inputSchema"] == {"json": schema}


def test_default_endpoint_follows_the_region(aws, monkeypatch) -> None:
    from llmtap import call as call_module

    monkeypatch.delenv("AWS_ENDPOINT_URL")
    call = call_module.prepare("completion", MODEL, {"aws_region_name": "eu-west-1", **KEYS}, False)
    assert call.api_base == "https://bedrock-runtime.eu-west-1.amazonaws.com"
    assert call_module.prepare("completion", MODEL, dict(KEYS), False).api_base == "https://bedrock-runtime.us-east-1.amazonaws.com"
    call = call_module.prepare("completion", MODEL, {"aws_bedrock_runtime_endpoint": "https://vpce.example", **KEYS}, False)
    assert call.api_base == "https://vpce.example"


def test_bedrock_api_key_is_a_bearer_token(aws, monkeypatch) -> None:
    from llmtap.testing.aws_routes import TEST_BEDROCK_API_KEY

    _ok(api_key=TEST_BEDROCK_API_KEY)
    request = aws.last_request
    assert request.headers["authorization"] == f"Bearer {TEST_BEDROCK_API_KEY}" and "x-amz-date" not in request.headers
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", TEST_BEDROCK_API_KEY)
    _ok()
    assert aws.last_request.headers["authorization"] == f"Bearer {TEST_BEDROCK_API_KEY}"
    with pytest.raises(llmtap.AuthenticationError) as caught:
        llmtap.completion(model=MODEL, messages=USER, api_key="ABSK-forged-key-value")
    assert "forged-key-value" not in str(caught.value)


def test_the_global_api_key_never_turns_signing_off(aws, monkeypatch) -> None:
    monkeypatch.setattr(llmtap, "api_key", "sk-meant-for-openai")
    _ok(**KEYS)
    assert aws.last_request.headers["authorization"].startswith("AWS4-HMAC-SHA256 ")


def test_container_uri_must_stay_local(aws, monkeypatch) -> None:
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://attacker.example/creds")
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_TOKEN)
    with pytest.raises(llmtap.AuthenticationError, match="must be https, or http on a loopback"):
        llmtap.completion(model=MODEL, messages=USER)
    assert aws.requests == []


@pytest.mark.parametrize("model", [
    "bedrock/anthropic.claude-3-haiku-20240307-v1:0", "bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0",
    "bedrock/converse/anthropic.claude-sonnet-4-20250514-v1:0", "bedrock/meta.llama3-1-70b-instruct-v1:0",
    "bedrock/amazon.nova-lite-v1:0", "bedrock/amazon.titan-embed-text-v2:0", "bedrock/cohere.embed-english-v3",
    "vertex_ai/gemini-2.0-flash", "vertex_ai/gemini-2.5-pro", "vertex_ai/claude-3-5-haiku@20241022",
    "vertex_ai/claude-sonnet-4@20250514",
])
def test_cloud_models_are_priced(model) -> None:
    info = llmtap.get_model_info(model)
    assert info["input_cost_per_token"] > 0 and info["max_input_tokens"] or info["mode"] == "chat"
