"""Diff two runner.py reports (the peer's and llmtap's) into lines a person can read.

Each difference is one line, ``<scenario>: <where>: <what>``. A line is forgiven only when it
matches an entry of ``ALLOWED`` (a shell-style pattern), and each entry says why; the same list
is in docs/differences.md, which test_differential.py checks.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

OUTCOME_HOOKS = frozenset(
    {"log_success_event", "async_log_success_event", "success_callback", "async_success_callback"}
)
LOGGER_HOOKS = frozenset(
    {
        "log_pre_api_call",
        "async_log_pre_api_call",
        "log_post_api_call",
        "log_stream_event",
        "async_log_stream_event",
        "log_success_event",
        "async_log_success_event",
        "log_failure_event",
        "async_log_failure_event",
    }
)


@dataclass(frozen=True)
class Allowed:
    pattern: str  # matched against the whole difference line
    reason: str


# The deliberate differences. Keep it short: every entry is a promise we make on top of the
# peer's, or something the peer exposes that no handler can use. Mirrored in docs/differences.md.
ALLOWED: tuple[Allowed, ...] = (
    # -- where llmtap runs hooks (our stronger promises) --
    Allowed(
        "*: * #*: thread: llmtap other, peer caller",
        "Sync hooks run on llmtap's delivery worker, never on the caller's thread: a slow or hung "
        "hook cannot slow the call (DESIGN §3, isolation).",
    ),
    Allowed(
        "*: * #*: ran while the call was: llmtap returned, peer running",
        "The same: pre-call, post-call and stream hooks are delivered off the caller's path, so "
        "they may run after the call returned (the peer runs them inline, delaying the call).",
    ),
    Allowed(
        "*: * #*: ran while the call was: llmtap streaming, peer running",
        "The same, for a stream whose first chunks were already handed out.",
    ),
    Allowed(
        "*: * #*: loop: llmtap none, peer caller",
        "Sync hooks and plain functions never run inside the caller's event loop, where a "
        "blocking one would stall the application (the peer runs them inline there); async hooks "
        "of async calls do run on the caller's loop, as the peer's.",
    ),
    Allowed(
        "*: call *: hook *_api_call had*run when the call *",
        "The same: pre-/post-call hooks are delivered off the caller's path (llmtap.flush() waits "
        "for them); failure hooks, which the peer's users rely on, are not in this entry.",
    ),
    Allowed(
        "*: call *: hook input_callback had*run when the call *",
        "The same, for input_callback functions.",
    ),
    Allowed(
        "*: call *: hook *log_stream_event had*",
        "The same, for stream hooks.",
    ),
    # -- exactly one outcome per call (the peer loses or repeats some) --
    Allowed(
        "*-miss_hit-mock: *hook sequence: *",
        "A cache hit on a stored mock answer logs its one success in llmtap; the peer logs none "
        "for it (DESIGN §3, exactly once).",
    ),
    Allowed(
        "text-*_stream-*_error-nocache-real: *hook sequence: *",
        "An HTTP or transport error on a text-completion stream logs one failure in llmtap; the "
        "peer logs none (DESIGN §3, exactly once).",
    ),
    Allowed(
        "text-*_stream-*_error-nocache-real: call *: hook *failure* had run when the call raised*",
        "The same: the peer never runs the failure hooks of these calls; llmtap's may have run "
        "by the time the exception reaches the caller.",
    ),
    Allowed(
        "*-async*: functions hook sequence: *",
        "For async calls the peer skips the plain (sync) functions in success_callback; llmtap "
        "calls every function in the list for every call, sync or async.",
    ),
    # -- what the kwargs hold --
    Allowed(
        "*: kwargs key * extra (llmtap only: *)",
        "llmtap's own additions beside the peer's keys (cache_key, saved_cache_cost, tracing "
        "context); a handler written for the peer never misses a key because of them.",
    ),
    Allowed(
        "*: * extra (llmtap only: *)",
        "The same, for keys inside litellm_params / additional_args / optional_params.",
    ),
    Allowed(
        "*: kwargs key has_*missing (peer: bool)",
        "The peer's internal bookkeeping flags (has_logged_sync_success and the like) guard its "
        "own double logging; llmtap's lifecycle table makes a second outcome impossible.",
    ),
    Allowed(
        "*: kwargs key zero_cost_diagnostic missing (peer: NoneType)",
        "An internal diagnostic of the peer's cost calculator, always None.",
    ),
    Allowed(
        "*: litellm_params key * missing (peer: NoneType)",
        "The peer lists ~60 of its own settings in litellm_params, all None unless set; llmtap "
        "lists the ones it has. Handlers read these with .get(), which gives None either way.",
    ),
    Allowed(
        "*: litellm_params key *: llmtap *, peer NoneType",
        "Where the peer leaves a litellm_params entry None on some paths (embeddings, mocks), "
        "llmtap fills in the value it has (the call id, the provider, the mode).",
    ),
    Allowed(
        "*: litellm_params key api_key missing (peer: str)",
        "The API key is not copied into litellm_params: it is in kwargs['api_key'] (which the "
        "seed's contract requires) and nowhere else, so fewer sinks can leak it (DESIGN §3, secrets).",
    ),
    Allowed(
        "*-mock: * #*: *api_key*: llmtap *, peer *",
        "A mock call has no key (nothing is sent); the peer logs a placeholder string there.",
    ),
    Allowed(
        "*: * #*: value metadata_keys: *",
        "metadata is the caller's dict as given: llmtap adds no timing windows and no hidden "
        "params to it (those are in standard_logging_object and response._hidden_params).",
    ),
    Allowed(
        "*: * #*: value metadata: llmtap None, peer {}",
        "The same: with no metadata passed, the peer's success event shows the dict it created "
        "for its own additions; llmtap shows None, as both do on every other event.",
    ),
    Allowed(
        "*: * #*: litellm_params key metadata: llmtap NoneType, peer dict",
        "The same.",
    ),
    Allowed(
        "*: * #*: value log_event_type: llmtap 'successful_api_call', peer 'post_api_call'",
        "The seed's documented contract (DESIGN §2): success events carry 'successful_api_call'. "
        "The peer leaves the post-call value in place.",
    ),
    Allowed(
        "*: * #*: value log_event_type: llmtap 'failed_api_call', peer 'post_api_call'",
        "The same for failures: 'failed_api_call', as documented.",
    ),
    Allowed(
        "*: * #*: value cache_hit: llmtap False, peer None",
        "cache_hit is always a bool in llmtap (False unless the answer came from the cache); "
        "the peer leaves None on some paths. `if kwargs['cache_hit']` reads the same.",
    ),
    Allowed(
        "*: * #*: kwargs key cache_hit: llmtap bool, peer NoneType",
        "The same.",
    ),
    Allowed(
        "*: * #*: additional_args key *",
        "additional_args describes the request as sent: the URL as a string and the headers "
        "(secrets masked). The peer passes a parsed URL, no headers after an error, and SDK flags.",
    ),
    Allowed(
        "*: * #*: *original_response*: llmtap *, peer *",
        "For streams the peer puts its internal stream object (a generator, coroutine or wrapper, "
        "depending on the path) in original_response, and for some answers its SDK object; "
        "llmtap always gives the provider's text ('' for a stream, the error text on failure).",
    ),
    Allowed(
        "*: * #*: *exception*: llmtap 'APIConnectionError', peer 'InternalServerError'",
        "A refused connection is an APIConnectionError, as in the OpenAI SDK (and the peer's "
        "docs); the peer reports it as InternalServerError.",
    ),
    Allowed(
        "*: * #*: kwargs key exception: llmtap APIConnectionError, peer InternalServerError",
        "The same.",
    ),
    Allowed(
        "*transport_error-*: call *: result type: llmtap 'APIConnectionError', peer 'InternalServerError'",
        "The same, for the exception the caller gets.",
    ),
    Allowed(
        "*_stream-*: * #*: value response_cost: llmtap 'positive', peer 'zero'",
        "Streams are priced like whole answers (the seed's contract): from the usage the "
        "provider sent, else estimated. The peer logs 0 when the stream carries no usage.",
    ),
    Allowed(
        "text-*: * #*: *response_obj*: llmtap TextCompletionResponse, peer Model*",
        "A text-completion stream's whole response is a TextCompletionResponse, what "
        "text_completion() returns; the peer logs a chat-shaped ModelResponse.",
    ),
    Allowed(
        "text-*: * #*: kwargs key *complete_streaming_response: llmtap TextCompletionResponse, peer ModelResponse",
        "The same.",
    ),
    Allowed(
        "text-*: * #*: *input*: llmtap *, peer *None*",
        "The peer logs input=None in some text-completion events; llmtap logs the prompt as a "
        "user message in every event, as the peer does in the others.",
    ),
    Allowed(
        "*-miss_hit-*: * #1: value model: llmtap *, peer *",
        "On a cache hit the peer logs the model with its provider prefix; llmtap logs the same "
        "model name as on the miss, so a handler grouping by model sees one name.",
    ),
    Allowed(
        "*-miss_hit-*: * #1: *input*: llmtap *, peer *",
        "On a text-completion or embedding cache hit the peer logs input '' (or []); llmtap logs "
        "the input as on the miss.",
    ),
    Allowed(
        "embedding-async-ok-miss_hit-mock: * #1: *",
        "The peer's async path does not store mock embeddings (its sync path does); llmtap "
        "stores mock answers on every path, so the second call is a hit.",
    ),
    Allowed(
        "embedding-*-mock: * #*: *api_base*",
        "The peer logs api_base None or '' for mock embeddings depending on the path; llmtap None.",
    ),
    # -- the objects returned --
    Allowed(
        "*: call *: *shape*: extra in llmtap (NoneType)",
        "llmtap's responses and chunks may list a field the peer leaves out on that path (it "
        "omits some on mock answers and keeps them on real ones); the value is None either way.",
    ),
    Allowed(
        "*: call *: *shape*provider_specific_fields: llmtap NoneType, peer dict",
        "provider_specific_fields reads None in llmtap where the peer has an empty (or all-None) "
        "dict: llmtap has nothing provider-specific to put there.",
    ),
    Allowed(
        "*-mock: call *: chunk run *shape.usage: extra in llmtap (dict)",
        "A mock stream's last chunk carries the usage in llmtap (as a cached replay does); the "
        "peer's mock streams report usage only in the logged whole response.",
    ),
    Allowed(
        "*-miss_hit-*: call 1: chunk run *shape.usage: extra in llmtap (dict)",
        "The same for a cache hit replayed as a stream: its last chunk carries the stored usage.",
    ),
    Allowed(
        "text-*_stream-*: call *: *chunk*",
        "A text-completion stream yields text-completion chunks (choices[].text) on every path in "
        "llmtap; the peer's carry chat fields too (delta, reasoning_content, usage on every chunk) "
        "and its replayed cache hits are chat-shaped.",
    ),
    Allowed(
        "*: *log_stream_event #*: *",
        "The peer calls stream hooks from inside its success handler, so their kwargs carry "
        "success-only keys (end_time, cost) of a call not finished yet; llmtap's show the call as "
        "it stands at that chunk. Stream hooks are not in the seed's contract.",
    ),
    Allowed(
        "*: * #*: kwargs key original_response missing (peer: coroutine)",
        "An artefact of the peer's timing: its pre-call hook of an async stream can run after the "
        "stream object was stored in original_response.",
    ),
    Allowed(
        "*_stream-*: * #*: kwargs key complete_response missing (peer: ModelResponse)",
        "The peer's sync streams leave their whole answer under complete_response too; it is in "
        "complete_streaming_response, as for every stream.",
    ),
    Allowed(
        "text-*_stream-*: call *: result type: llmtap 'CustomStreamWrapper', peer 'TextCompletionStreamWrapper'",
        "One stream class for every kind of call: CustomStreamWrapper (the peer's name for chat "
        "streams); it iterates text-completion chunks the same way.",
    ),
)

# Differences still being fixed, each naming who fixes it ("TODO ..."). Empty: #12 is done.
PENDING: tuple[Allowed, ...] = ()


def render_markdown() -> str:
    """The allow-list as docs/differences.md lists it."""
    out = []
    for entry in ALLOWED + NORMALIZED:
        out.append(f"- `{entry.pattern}` — {entry.reason}")
    return "\n".join(out) + "\n"


def allowed(line: str) -> Allowed | None:
    for entry in ALLOWED + PENDING:
        if fnmatch.fnmatchcase(line, entry.pattern):
            return entry
    return None


def diff_reports(peer: dict, ours: dict) -> list[str]:
    lines: list[str] = []
    for name in sorted(set(peer) | set(ours)):
        if name not in ours or name not in peer:
            lines.append(f"{name}: missing from {'llmtap' if name not in ours else 'peer'} report")
            continue
        for side, report in (("peer", peer[name]), ("llmtap", ours[name])):
            if "harness_error" in report:
                lines.append(f"{name}: harness error under {side}: {report['harness_error'].strip().splitlines()[-1]}")
        if "harness_error" in peer[name] or "harness_error" in ours[name]:
            continue
        lines += [f"{name}: {line}" for line in diff_scenario(peer[name], ours[name])]
    return lines


STREAM_HOOKS = frozenset({"log_stream_event", "async_log_stream_event"})
NEXT_CALL = "-- next call --"  # runner.py's marker between a scenario's calls


def normalize_peer(events: list) -> list:
    """The peer's quirks that llmtap deliberately does not copy (see NORMALIZED): a hook the
    peer calls again before any other hook of the same family (logger / functions) ran."""
    out: list = []
    last: dict[bool, str] = {}
    for event in events:
        hook = event["hook"]
        if hook == NEXT_CALL:
            last = {}
            out.append(event)
            continue
        if hook in STREAM_HOOKS:
            out.append(event)
            continue
        family = hook in LOGGER_HOOKS
        if last.get(family) == hook:
            # repeated hook: llmtap calls each once; the peer's last call is its final one
            at = max(i for i, e in enumerate(out) if e["hook"] == hook)
            out[at] = event
            continue
        if hook == "log_pre_api_call" and last.get(family) == "log_post_api_call":
            # post before pre (the peer's async streams): llmtap keeps pre before post
            at = max(i for i, e in enumerate(out) if e["hook"] == "log_post_api_call")
            out.insert(at, event)
            continue
        last[family] = hook
        out.append(event)
    return out


# What normalize_peer forgives, and why (also in docs/differences.md).
NORMALIZED: tuple[Allowed, ...] = (
    Allowed(
        "repeated hook",
        "The peer calls some hooks repeatedly for one call (function success_callback once per "
        "streamed chunk; log_post_api_call twice for async text completions). llmtap calls each "
        "hook once per call (DESIGN §3, exactly once), so the peer's repeats count as one.",
    ),
    Allowed(
        "post before pre",
        "The peer sometimes runs log_post_api_call before log_pre_api_call (async streams); llmtap "
        "always runs pre before post (DESIGN §3, order), so the peer's pair is compared in order.",
    ),
    Allowed(
        "stream hooks",
        "The peer calls both log_stream_event and async_log_stream_event for every chunk; llmtap "
        "calls the variant matching the call. Stream hooks are left out of the hook sequence; the "
        "first one's arguments are still compared.",
    ),
)


def diff_scenario(peer: dict, ours: dict) -> list[str]:
    lines: list[str] = []
    for i, (p, o) in enumerate(zip(peer["results"], ours["results"], strict=False)):
        lines += [f"call {i}: {line}" for line in _diff_result(p, o)]
    pe, oe = normalize_peer(peer["events"]), ours["events"]
    for family, members in (("logger", LOGGER_HOOKS), ("functions", None)):
        ps = [e["hook"] for e in pe if _in_family(e["hook"], members is not None)]
        os_ = [e["hook"] for e in oe if _in_family(e["hook"], members is not None)]
        if ps != os_:
            lines.append(f"{family} hook sequence: llmtap {os_}, peer {ps}")
    # Pair events by (hook, n-th occurrence) and compare what each was given.
    p_by = _index(pe)
    o_by = _index(oe)
    for key in sorted(set(p_by) & set(o_by)):
        lines += [f"{key[0]} #{key[1]}: {line}" for line in _diff_event(p_by[key], o_by[key])]
    return lines


def _in_family(hook: str, logger: bool) -> bool:
    return hook == NEXT_CALL or (hook not in STREAM_HOOKS and (hook in LOGGER_HOOKS) == logger)


def _index(events: list) -> dict:
    seen: dict[str, int] = {}
    out = {}
    for event in events:
        if event["hook"] == NEXT_CALL:
            continue
        n = seen.get(event["hook"], 0)
        seen[event["hook"]] = n + 1
        out[(event["hook"], n)] = event
    return out


def _diff_result(p: dict, o: dict) -> list[str]:
    lines = []
    for field in ("outcome", "type", "status_code", "same_id_as_first", "empty_choice_chunks"):
        if p.get(field) != o.get(field):
            lines.append(f"result {field}: llmtap {o.get(field)!r}, peer {p.get(field)!r}")
    if "shape" in p or "shape" in o:
        lines += [f"result shape{line}" for line in _diff_shape(p.get("shape"), o.get("shape"), "")]
    if "chunks" in p or "chunks" in o:
        pc, oc = p.get("chunks") or [], o.get("chunks") or []
        if [n for _, n in pc] != [n for _, n in oc] or len(pc) != len(oc):
            lines.append(f"stream chunk runs: llmtap {len(oc)} {[n for _, n in oc]}, peer {len(pc)} {[n for _, n in pc]}")
        for i, (ps, os_) in enumerate(zip(pc, oc, strict=False)):
            lines += [f"chunk run {i} shape{line}" for line in _diff_shape(ps[0], os_[0], "")]
    pr = [h for h in p.get("hooks_at_return", []) if h not in OUTCOME_HOOKS]
    orr = [h for h in o.get("hooks_at_return", []) if h not in OUTCOME_HOOKS]
    for hook in sorted(set(pr) - set(orr)):
        lines.append(f"hook {hook} had not run when the call {o.get('outcome')} (the peer's had)")
    for hook in sorted(set(orr) - set(pr)):
        lines.append(f"hook {hook} had run when the call {o.get('outcome')} (the peer's had not)")
    return lines


def _diff_shape(p: object, o: object, path: str) -> list[str]:
    if isinstance(p, dict) and isinstance(o, dict):
        lines = []
        for key in sorted(set(p) | set(o)):
            sub = f"{path}.{key}"
            if key not in o:
                lines.append(f"{sub}: missing in llmtap (peer: {_short(p[key])})")
            elif key not in p:
                lines.append(f"{sub}: extra in llmtap ({_short(o[key])})")
            else:
                lines += _diff_shape(p[key], o[key], sub)
        return lines
    if isinstance(p, list) and isinstance(o, list):
        if p and o:
            return _diff_shape(p[0], o[0], path + "[0]")
        if p != o:
            return [f"{path}: llmtap {'empty' if not o else 'items'}, peer {'empty' if not p else 'items'}"]
        return []
    if p != o:
        return [f"{path}: llmtap {_short(o)}, peer {_short(p)}"]
    return []


def _short(value: object) -> str:
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, list):
        return "list"
    return str(value)


_EVENT_FIELDS = ("positional", "keywords", "thread", "loop", "response_obj", "start_time", "end_time", "model", "messages")


def _diff_event(p: dict, o: dict) -> list[str]:
    lines = []
    for field in _EVENT_FIELDS:
        if p.get(field) != o.get(field):
            lines.append(f"{field}: llmtap {o.get(field)}, peer {p.get(field)}")
    if p["hook"] not in OUTCOME_HOOKS and p.get("call") != o.get("call"):
        lines.append(f"ran while the call was: llmtap {o.get('call')}, peer {p.get('call')}")
    pk, ok = p.get("kwargs"), o.get("kwargs")
    if not isinstance(pk, dict) or not isinstance(ok, dict):
        if pk != ok:
            lines.append(f"kwargs: llmtap {ok}, peer {pk}")
        return lines
    lines += _diff_keys("kwargs key", pk["keys"], ok["keys"])
    for nested in ("litellm_params", "additional_args", "optional_params"):
        pn, on = pk.get(nested), ok.get(nested)
        if pn is None or on is None:
            continue
        lines += _diff_keys(f"{nested} key", pn, on)
    pv, ov = pk["values"], ok["values"]
    for key in sorted(set(pv) | set(ov)):
        if pv.get(key) != ov.get(key):
            lines.append(f"value {key}: llmtap {ov.get(key)!r}, peer {pv.get(key)!r}")
    return lines


def _diff_keys(label: str, peer: dict, ours: dict) -> list[str]:
    lines = []
    for key in sorted(set(peer) | set(ours)):
        if key not in ours:
            lines.append(f"{label} {key} missing (peer: {peer[key]})")
        elif key not in peer:
            lines.append(f"{label} {key} extra (llmtap only: {ours[key]})")
        elif peer[key] != ours[key]:
            lines.append(f"{label} {key}: llmtap {ours[key]}, peer {peer[key]}")
    return lines
