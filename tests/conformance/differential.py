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
    Allowed(
        "*: * #*: thread: llmtap other, peer caller",
        "Sync hooks run on llmtap's delivery worker, never on the caller's thread: a slow or hung "
        "hook cannot slow the call (DESIGN §3, isolation).",
    ),
    Allowed(
        "*: kwargs key * extra (llmtap only: *)",
        "llmtap's own additions beside the peer's keys (e.g. tracing context); a handler written "
        "for the peer never misses a key because of them.",
    ),
    Allowed(
        "*: * extra (llmtap only: *)",
        "The same, for keys inside litellm_params / additional_args / optional_params.",
    ),
    Allowed(
        "*: litellm_params key * missing (peer: NoneType)",
        "The peer lists ~60 of its own settings in litellm_params, all None unless set; llmtap "
        "lists the ones it has. Handlers read these with .get(), which gives None either way.",
    ),
)

# Differences still being fixed, each naming the issue that fixes it. Must be empty when #12 is done.
PENDING: tuple[Allowed, ...] = (
    Allowed("*", "TODO fixed by #12: the first run of the suite; being worked through now."),
)


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


def normalize_peer(events: list) -> list:
    """The peer's quirks that llmtap deliberately does not copy (see NORMALIZED): a hook the
    peer calls again before any other hook of the same family (logger / functions) ran."""
    out: list = []
    last: dict[bool, str] = {}
    for event in events:
        hook = event["hook"]
        if hook in STREAM_HOOKS:
            out.append(event)
            continue
        family = hook in LOGGER_HOOKS
        if last.get(family) == hook:
            continue  # repeated hook: llmtap calls each once
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
        ps = [e["hook"] for e in pe if (e["hook"] in LOGGER_HOOKS) == (members is not None) and e["hook"] not in STREAM_HOOKS]
        os_ = [e["hook"] for e in oe if (e["hook"] in LOGGER_HOOKS) == (members is not None) and e["hook"] not in STREAM_HOOKS]
        if ps != os_:
            lines.append(f"{family} hook sequence: llmtap {os_}, peer {ps}")
    # Pair events by (hook, n-th occurrence) and compare what each was given.
    p_by = _index(pe)
    o_by = _index(oe)
    for key in sorted(set(p_by) & set(o_by)):
        lines += [f"{key[0]} #{key[1]}: {line}" for line in _diff_event(p_by[key], o_by[key])]
    return lines


def _index(events: list) -> dict:
    seen: dict[str, int] = {}
    out = {}
    for event in events:
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
