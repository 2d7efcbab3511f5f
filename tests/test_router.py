"""The Router against several emulator instances (one per deployment), with scripted faults."""

from __future__ import annotations

import asyncio
import collections
import threading
import time

import pytest

import llmtap
from llmtap import exceptions as E
from llmtap.integrations.custom_logger import CustomLogger
from llmtap.router import Router, RouterConfigError, RouterRateLimitError
from llmtap.testing import Emulator, Fault, Reply

MESSAGES = [{"role": "user", "content": "hello router"}]


def deployment(group: str, emu: Emulator, model: str = "gpt-4o-mini", **extra) -> dict:
    params = {"model": f"openai/{model}", "api_base": emu.openai_base, "api_key": "sk-router-test-key-1", **extra}
    return {"model_name": group, "litellm_params": params}


def counts(emus) -> list[int]:
    return [len(e.requests) for e in emus]


class Events(CustomLogger):
    def __init__(self) -> None:
        self.items: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def _add(self, kind, kwargs):
        with self.lock:
            self.items.append((kind, kwargs))

    def log_pre_api_call(self, model, messages, kwargs):
        self._add("pre", kwargs)

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._add("success", kwargs)

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self._add("failure", kwargs)

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._add("success", kwargs)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self._add("failure", kwargs)

    def outcomes(self):
        llmtap.flush(10)
        return [(k, kw) for k, kw in self.items if k in ("success", "failure")]

    def finals(self):
        return [(k, kw) for k, kw in self.outcomes() if kw["router"]["final"]]


# -- the model list -------------------------------------------------------------------------------


def test_model_list_ids_names_and_env_references(emus, monkeypatch):
    monkeypatch.setenv("ROUTER_TEST_KEY", "sk-from-the-environment")
    entry = deployment("gpt", emus[0])
    entry["litellm_params"]["api_key"] = "os.environ/ROUTER_TEST_KEY"
    router = Router(model_list=[entry, deployment("gpt", emus[1]), deployment("other", emus[2])])
    assert router.get_model_names() == ["gpt", "other"]
    listed = router.get_model_list("gpt")
    assert len(listed) == 2 and all(d["model_info"]["id"] for d in listed)
    # the same entry gets the same id in every process (shared Redis state depends on it)
    assert Router(model_list=[entry]).get_model_list()[0]["model_info"]["id"] == listed[0]["model_info"]["id"]
    for _ in range(6):
        router.completion("gpt", MESSAGES)
    keys = {r.headers["authorization"] for r in emus[0].requests}
    assert keys == {"Bearer sk-from-the-environment"}
    monkeypatch.delenv("ROUTER_TEST_KEY")
    with pytest.raises(RouterConfigError, match="ROUTER_TEST_KEY") as caught:
        Router(model_list=[entry]).completion("gpt", MESSAGES)
    assert "sk-from" not in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model_list": "nope"}, "model_list must be a list"),
        ({"model_list": [{"litellm_params": {"model": "x"}}]}, "model_name"),
        ({"model_list": [{"model_name": "g"}]}, "litellm_params"),
        ({"model_list": [{"model_name": "g", "litellm_params": {"api_key": "k"}}]}, "'model'"),
        ({"model_list": [{"model_name": "g", "litellm_params": {"model": "x", "rpm": -1}}]}, "rpm"),
        ({"routing_strategy": "fastest-please"}, "routing_strategy"),
        ({"fallbacks": {"a": "b"}}, "fallbacks"),
        ({"fallbacks": [{"a": [1]}]}, "fallbacks"),
        ({"num_retries": -1}, "num_retries"),
        ({"cooldown_time": "soon"}, "cooldown_time"),
        ({"retry_policy": {"NoSuchRetries": 1}}, "NoSuchRetries"),
        ({"routing_strategy_arg": {}}, "unknown parameter"),
    ],
)
def test_bad_configuration_is_refused_by_the_constructor(kwargs, message):
    with pytest.raises((RouterConfigError, ValueError), match=message):
        Router(**{"model_list": [{"model_name": "g", "litellm_params": {"model": "gpt-4o-mini"}}], **kwargs})


def test_bad_requests_fail_before_any_network_call(emus):
    router = Router(model_list=[deployment("gpt", emus[0])])
    with pytest.raises(E.BadRequestError, match="no model group named 'nope'"):
        router.completion("nope", MESSAGES)
    with pytest.raises(E.BadRequestError, match="messages"):
        router.completion("gpt", "hi")
    with pytest.raises(E.BadRequestError, match="num_retries"):
        router.completion("gpt", MESSAGES, num_retries="3")
    assert counts(emus) == [0, 0, 0, 0]


def test_router_only_params_are_never_sent(emus):
    entry = deployment("gpt", emus[0], rpm=100, tpm=100000, weight=2, order=1, stream_timeout=30)
    Router(model_list=[entry]).completion("gpt", MESSAGES, temperature=0.2)
    body = emus[0].requests[0].json
    assert body["temperature"] == 0.2
    for name in ("rpm", "tpm", "weight", "order", "stream_timeout", "model_info", "router_attempt", "metadata"):
        assert name not in body


# -- strategies -----------------------------------------------------------------------------------


def test_simple_shuffle_spreads_by_weight(emus):
    router = Router(model_list=[deployment("gpt", emus[0], weight=3), deployment("gpt", emus[1], weight=1)])
    for _ in range(200):
        router.completion("gpt", MESSAGES)
    first, second = counts(emus)[:2]
    assert first + second == 200
    assert 0.62 < first / 200 < 0.88  # expected 0.75


def test_simple_shuffle_without_weights_uses_every_deployment(emus):
    router = Router(model_list=[deployment("gpt", e) for e in emus[:3]])
    for _ in range(90):
        router.completion("gpt", MESSAGES)
    assert all(n >= 12 for n in counts(emus)[:3]), counts(emus)


def test_least_busy_prefers_the_idle_deployment(emus):
    router = Router(model_list=[deployment("gpt", emus[0]), deployment("gpt", emus[1])], routing_strategy="least-busy")
    emus[0].push(Reply(content="slow", delay=1.0))
    emus[1].push(Reply(content="slow", delay=1.0))

    async def main():
        slow = asyncio.create_task(router.acompletion("gpt", MESSAGES))
        while not any(e.requests for e in emus[:2]):
            await asyncio.sleep(0.01)
        busy = 0 if emus[0].requests else 1
        emus[1 - busy].clear()  # the idle one answers at once from now on
        for _ in range(5):
            await router.acompletion("gpt", MESSAGES)
        await slow
        return busy

    busy = asyncio.run(main())
    # while the slow request was in flight, every other request went to the idle deployment
    assert len(emus[busy].requests) == 1 and len(emus[1 - busy].requests) == 5


def test_latency_based_routing_prefers_the_fastest(emus):
    router = Router(
        model_list=[deployment("gpt", emus[0]), deployment("gpt", emus[1])],
        routing_strategy="latency-based-routing",
    )
    for _ in range(30):
        emus[0].push(Reply(delay=0.25))  # far slower than any noise on a loaded machine
    for _ in range(4):  # both get measured first (no samples → tried first)
        router.completion("gpt", MESSAGES)
    before = counts(emus)
    for _ in range(20):
        router.completion("gpt", MESSAGES)
    after = counts(emus)
    assert after[1] - before[1] >= 18, (before, after)


def test_latency_buffer_spreads_near_ties(emus):
    router = Router(
        model_list=[deployment("gpt", emus[0]), deployment("gpt", emus[1])],
        routing_strategy="latency-based-routing",
        routing_strategy_args={"lowest_latency_buffer": 0.5},
    )
    for _ in range(40):  # 50 ms and 52 ms: within 50% of each other, noise included
        emus[0].push(Reply(delay=0.05))
        emus[1].push(Reply(delay=0.052))
    for _ in range(40):
        router.completion("gpt", MESSAGES)
    assert min(counts(emus)[:2]) >= 8, counts(emus)


def test_usage_based_routing_balances_tokens(emus):
    router = Router(
        model_list=[deployment("gpt", emus[0]), deployment("gpt", emus[1])],
        routing_strategy="usage-based-routing-v2",
    )
    for e in emus[:2]:
        e.push(Reply(prompt_tokens=5000, completion_tokens=10))
    router.completion("gpt", MESSAGES)
    heavy = 0 if len(emus[0].requests) == 1 else 1
    emus[1 - heavy].clear()
    for _ in range(10):
        router.completion("gpt", MESSAGES)
    # the deployment that served 5000 tokens this minute gets nothing more
    assert len(emus[heavy].requests) == 1, counts(emus)


def test_cost_based_routing_picks_the_cheapest(emus):
    router = Router(
        model_list=[
            deployment("gpt", emus[0], input_cost_per_token=0.00001, output_cost_per_token=0.00003),
            deployment("gpt", emus[1], input_cost_per_token=0.000001, output_cost_per_token=0.000002),
            deployment("gpt", emus[2], input_cost_per_token=0.00005, output_cost_per_token=0.0001),
        ],
        routing_strategy="cost-based-routing",
    )
    for _ in range(10):
        router.completion("gpt", MESSAGES)
    assert counts(emus)[:3] == [0, 10, 0]
    emus[1].push(Fault(500), Fault(500))  # the cheapest fails: the next cheapest answers
    router.completion("gpt", MESSAGES)
    assert counts(emus)[0] == 1


# -- retries and cooldowns ----------------------------------------------------------------------


def test_a_failed_attempt_is_retried_on_a_sibling_at_once(emus):
    router = Router(model_list=[deployment("gpt", emus[0]), deployment("gpt", emus[1])], num_retries=2)
    emus[0].push(Fault(500))
    emus[1].push(Fault(500))
    started = time.monotonic()
    response = router.completion("gpt", MESSAGES)
    assert response.choices[0].message.content
    assert sum(counts(emus)) == 3
    assert time.monotonic() - started < 2


def test_retry_after_is_honoured_on_a_single_deployment(emus):
    router = Router(model_list=[deployment("gpt", emus[0])], num_retries=2)
    emus[0].push(Fault.rate_limit(retry_after=0.3))
    started = time.monotonic()
    router.completion("gpt", MESSAGES)
    assert time.monotonic() - started >= 0.3
    assert len(emus[0].requests) == 2


def test_retry_policy_per_error_class(emus):
    router = Router(
        model_list=[deployment("gpt", emus[0])],
        retry_policy={"BadRequestErrorRetries": 2, "InternalServerErrorRetries": 0},
    )
    emus[0].push(Fault(400, "bad"), Fault(400, "bad"))
    assert router.completion("gpt", MESSAGES).choices  # 400 retried twice by policy
    assert len(emus[0].requests) == 3
    emus[0].clear()
    emus[0].push(Fault(500))
    with pytest.raises(E.InternalServerError):
        router.completion("gpt", MESSAGES)
    assert len(emus[0].requests) == 1


def test_bad_request_is_not_retried_and_cools_nothing(emus):
    router = Router(model_list=[deployment("gpt", emus[0]), deployment("gpt", emus[1])], allowed_fails=0)
    emus[0].push(Fault(400, "invalid value for temperature"))
    emus[1].push(Fault(400, "invalid value for temperature"))
    with pytest.raises(E.BadRequestError):
        router.completion("gpt", MESSAGES)
    assert sum(counts(emus)) == 1
    assert router.cooldown_list() == []


def test_auth_error_cools_only_that_deployment(emus):
    router = Router(model_list=[deployment("gpt", emus[0]), deployment("gpt", emus[1])], cooldown_time=30)
    bad = router.get_model_list()[0]["model_info"]["id"]
    for _ in range(5):
        emus[0].push(Fault(401, "Incorrect API key provided"))
    for _ in range(8):
        assert router.completion("gpt", MESSAGES).choices
    assert len(emus[0].requests) <= 1  # once it answered 401 it was cooled down
    assert router.cooldown_list() == [bad]


def test_cooldown_then_half_open_probe_then_recovery(emus):
    router = Router(
        model_list=[deployment("gpt", emus[0]), deployment("gpt", emus[1])],
        allowed_fails=1,
        cooldown_time=0.6,
    )
    sick = router.get_model_list()[0]["model_info"]["id"]
    for _ in range(2):
        emus[0].push(Fault(503))
    # two failures (> allowed_fails=1) cool emus[0] down; every request still succeeds
    while len(emus[0].requests) < 2:
        assert router.completion("gpt", MESSAGES).choices
    assert router.cooldown_list() == [sick]
    before = len(emus[0].requests)
    for _ in range(10):
        router.completion("gpt", MESSAGES)
    assert len(emus[0].requests) == before  # skipped while cooling
    time.sleep(0.8)
    # half-open: one probe while it is in flight, nobody else goes there
    emus[0].push(Reply(delay=0.5))

    async def burst():
        return await asyncio.gather(*[router.acompletion("gpt", MESSAGES) for _ in range(12)])

    asyncio.run(burst())
    assert len(emus[0].requests) - before <= 1
    # the probe succeeded: traffic comes back
    for _ in range(30):
        router.completion("gpt", MESSAGES)
    assert len(emus[0].requests) - before >= 5


def test_all_deployments_cooling_raises_router_rate_limit_error(emus):
    router = Router(model_list=[deployment("gpt", emus[0]), deployment("gpt", emus[1])], cooldown_time=30, num_retries=0)
    events = Events()
    llmtap.callbacks = [events]
    emus[0].push(Fault.rate_limit(retry_after=None))
    emus[1].push(Fault.rate_limit(retry_after=None))
    for _ in range(2):
        with pytest.raises(E.RateLimitError):
            router.completion("gpt", MESSAGES)
    with pytest.raises(RouterRateLimitError, match="cooldown") as caught:
        router.completion("gpt", MESSAGES)
    assert isinstance(caught.value, ValueError) and caught.value.all_deployments_in_cooldown
    assert sum(counts(emus)) == 2
    finals = events.finals()
    assert len(finals) == 3  # one outcome per request, the last logged by the Router itself
    assert finals[-1][0] == "failure" and isinstance(finals[-1][1]["exception"], RouterRateLimitError)


# -- fallbacks ------------------------------------------------------------------------------------


def test_fallbacks_to_another_group(emus):
    router = Router(
        model_list=[deployment("primary", emus[0]), deployment("backup", emus[1], model="gpt-4o")],
        fallbacks=[{"primary": ["backup"]}],
        num_retries=1,
    )
    emus[0].push(Fault(500), Fault(500))
    response = router.completion("primary", MESSAGES)
    assert response.model.startswith("gpt-4o")
    assert counts(emus)[:2] == [2, 1]


def test_context_window_fallbacks(emus):
    router = Router(
        model_list=[deployment("small", emus[0]), deployment("large", emus[1]), deployment("other", emus[2])],
        context_window_fallbacks=[{"small": ["large"]}],
        fallbacks=[{"small": ["other"]}],
    )
    emus[0].push(Fault.context_length())
    router.completion("small", MESSAGES)
    assert counts(emus)[:3] == [1, 1, 0]  # not retried; the context-window fallback, not the general one


def test_content_policy_fallbacks(emus):
    router = Router(
        model_list=[deployment("strict", emus[0]), deployment("lenient", emus[1])],
        content_policy_fallbacks=[{"strict": ["lenient"]}],
    )
    emus[0].push(Fault.content_policy())
    router.completion("strict", MESSAGES)
    assert counts(emus)[:2] == [1, 1]


def test_default_fallbacks_and_mock_testing(emus):
    router = Router(
        model_list=[deployment("a", emus[0]), deployment("b", emus[1]), deployment("safety-net", emus[2])],
        default_fallbacks=["safety-net"],
    )
    router.completion("a", MESSAGES, mock_testing_fallbacks=True)
    router.completion("b", MESSAGES, mock_testing_fallbacks=True)
    assert counts(emus)[:3] == [0, 0, 2]
    with pytest.raises(E.InternalServerError):
        router.completion("a", MESSAGES, mock_testing_fallbacks=True, disable_fallbacks=True)


def test_per_request_fallbacks_and_max_fallbacks(emus):
    router = Router(
        model_list=[deployment(g, e) for g, e in zip("abcd", emus, strict=True)],
        num_retries=0,
        max_fallbacks=2,
    )
    for e in emus[:3]:
        e.push(Fault(500))
    with pytest.raises(E.InternalServerError):
        router.completion("a", MESSAGES, fallbacks=["b", "c", "d"])
    assert counts(emus) == [1, 1, 1, 0]  # two fallbacks, then it gave up


def test_pre_call_checks_skip_small_context_windows(emus):
    long_text = [{"role": "user", "content": "word " * 4000}]  # ~5000 tokens
    router = Router(
        model_list=[
            {**deployment("gpt", emus[0]), "model_info": {"max_input_tokens": 1000}},
            {**deployment("gpt", emus[1]), "model_info": {"max_input_tokens": 100000}},
            {**deployment("big", emus[2]), "model_info": {"max_input_tokens": 200000}},
        ],
        enable_pre_call_checks=True,
        context_window_fallbacks=[{"gpt": ["big"]}],
    )
    for _ in range(6):
        router.completion("gpt", long_text)
    assert counts(emus)[:3] == [0, 6, 0]
    too_long = [{"role": "user", "content": "word " * 100000}]
    router.completion("gpt", too_long)  # fits no gpt deployment: the context-window fallback
    assert counts(emus)[:3] == [0, 6, 1]
    with pytest.raises(E.ContextWindowExceededError, match="pre-call check"):
        router.completion("gpt", too_long, disable_fallbacks=True)


# -- limits ---------------------------------------------------------------------------------------


def test_rpm_limit_is_enforced_before_sending(emus):
    router = Router(model_list=[deployment("gpt", emus[0], rpm=5), deployment("gpt", emus[1], rpm=3)])
    for _ in range(8):
        router.completion("gpt", MESSAGES)
    assert counts(emus)[:2] == [5, 3]
    with pytest.raises(RouterRateLimitError, match="rpm limit"):
        router.completion("gpt", MESSAGES)
    assert counts(emus)[:2] == [5, 3]


def test_tpm_limit_counts_real_usage(emus):
    router = Router(model_list=[deployment("gpt", emus[0], tpm=1000)])
    emus[0].push(Reply(prompt_tokens=900, completion_tokens=50))
    router.completion("gpt", MESSAGES)
    router.completion("gpt", MESSAGES)  # 950 used + this prompt's few tokens still fit
    with pytest.raises(RouterRateLimitError, match="tpm limit"):
        router.completion("gpt", [{"role": "user", "content": "x" * 400}])


# -- callbacks -----------------------------------------------------------------------------------


def test_one_final_outcome_per_request_and_per_attempt_events(emus):
    events = Events()
    llmtap.callbacks = [events]
    router = Router(
        model_list=[deployment("primary", emus[0]), deployment("backup", emus[1])],
        fallbacks=[{"primary": ["backup"]}],
        num_retries=1,
    )
    emus[0].push(Fault(500), Fault(503))
    router.completion("primary", MESSAGES, metadata={"trace": "t-1"})
    outcomes = events.outcomes()
    assert [k for k, _ in outcomes] == ["failure", "failure", "success"]
    routes = [kw["router"] for _, kw in outcomes]
    assert [r["attempt"] for r in routes] == [1, 2, 3]
    assert [r["final"] for r in routes] == [False, False, True]
    assert [r["next"] for r in routes] == ["retry", "fallback", None]
    assert len({r["request_id"] for r in routes}) == 1
    ids = [d["model_info"]["id"] for d in router.get_model_list()]
    for (_, kw), group, dep in zip(outcomes, ["primary", "primary", "backup"], [ids[0], ids[0], ids[1]], strict=True):
        meta = kw["litellm_params"]["metadata"]
        assert meta["model_group"] == group and meta["trace"] == "t-1"
        assert kw["litellm_params"]["model_info"]["id"] == dep
        slo = kw["standard_logging_object"]
        assert slo["model_id"] == dep and slo["model_group"] == group and slo["router"]["model_id"] == dep
    assert routes[-1]["previous"] == [
        {"model_group": "primary", "model_id": ids[0], "error": "InternalServerError"},
        {"model_group": "primary", "model_id": ids[0], "error": "ServiceUnavailableError"},
    ]
    assert len([k for k, _ in events.items if k == "pre"]) == 3


def test_final_failure_event_when_everything_fails(emus):
    events = Events()
    llmtap.callbacks = [events]
    router = Router(model_list=[deployment("gpt", emus[0]), deployment("gpt", emus[1])], num_retries=2)
    for e in emus[:2]:
        e.push(Fault(500), Fault(500), Fault(500))
    with pytest.raises(E.InternalServerError):
        router.completion("gpt", MESSAGES)
    outcomes = events.outcomes()
    assert [kw["router"]["final"] for _, kw in outcomes] == [False, False, True]
    assert all(k == "failure" for k, _ in outcomes)


def test_async_callbacks_and_many_concurrent_requests(emus):
    events = Events()
    llmtap.callbacks = [events]
    router = Router(model_list=[deployment("gpt", e) for e in emus[:3]], num_retries=3)
    for e in emus[:3]:
        e.push(Fault(500), Fault(502))

    async def main():
        return await asyncio.gather(*[router.acompletion("gpt", MESSAGES) for _ in range(20)])

    assert len(asyncio.run(main())) == 20
    finals = events.finals()
    assert len(finals) == 20 and all(k == "success" for k, _ in finals)
    assert len({kw["router"]["request_id"] for _, kw in finals}) == 20


# -- other call types and streams --------------------------------------------------------------


def test_embedding_and_text_completion_sync_and_async(emus):
    router = Router(
        model_list=[
            deployment("embed", emus[0], model="text-embedding-3-small"),
            deployment("embed", emus[1], model="text-embedding-3-small"),
            deployment("instruct", emus[2], model="gpt-3.5-turbo-instruct"),
        ],
        num_retries=2,
    )
    emus[0].push(Fault(500))
    emus[1].push(Fault(500))
    assert len(router.embedding("embed", ["a", "b"]).data) == 2
    assert router.text_completion("instruct", "Say hi").choices[0].text

    async def main():
        e = await router.aembedding("embed", "x")
        t = await router.atext_completion("instruct", "Say hi")
        return e, t

    e, t = asyncio.run(main())
    assert e.data and t.choices[0].text
    assert emus[2].requests[0].path == "/v1/completions"


def test_stream_that_fails_before_output_falls_over(emus):
    events = Events()
    llmtap.callbacks = [events]
    router = Router(model_list=[deployment("a", emus[0]), deployment("b", emus[1])], fallbacks=[{"a": ["b"]}], num_retries=0)
    emus[0].push(Fault.cut(after=0))
    emus[1].push(Reply(content="one two three", chunks=3))
    text = "".join(c.choices[0].delta.content or "" for c in router.completion("a", MESSAGES, stream=True))
    assert text == "one two three"
    outcomes = events.outcomes()
    assert [(k, kw["router"]["final"]) for k, kw in outcomes] == [("failure", False), ("success", True)]


def test_async_stream_fails_before_output_then_retries_on_a_sibling(emus):
    router = Router(model_list=[deployment("gpt", emus[0]), deployment("gpt", emus[1])], num_retries=2)
    emus[0].push(Fault(503))
    emus[1].push(Fault(503))

    async def main():
        stream = await router.acompletion("gpt", MESSAGES, stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in stream])

    assert "hello router" in asyncio.run(main())


def test_stream_failure_after_output_reaches_the_caller(emus):
    router = Router(model_list=[deployment("a", emus[0]), deployment("b", emus[1])], fallbacks=[{"a": ["b"]}])
    emus[0].push(Fault.cut(after=2))
    emus[0].push(Reply(content="never"))
    stream = router.completion("a", MESSAGES, stream=True)
    with pytest.raises(getattr(E, "BaseAPIError", E.APIError)):
        for _ in stream:
            pass
    assert counts(emus)[:2] == [1, 0]


def test_usage_counter_sees_stream_tokens(emus):
    router = Router(model_list=[deployment("gpt", emus[0], tpm=100)])
    emus[0].push(Reply(content="word " * 300, chunks=10))
    for _ in router.completion("gpt", MESSAGES, stream=True):
        pass
    with pytest.raises(RouterRateLimitError, match="tpm"):
        router.completion("gpt", MESSAGES)


def test_deployment_params_and_request_kwargs_merge(emus):
    router = Router(
        model_list=[deployment("gpt", emus[0], temperature=0.1, max_tokens=5)],
        default_litellm_params={"user": "router-default"},
        timeout=30,
    )
    router.completion("gpt", MESSAGES, temperature=0.7)
    body = emus[0].requests[0].json
    assert body["temperature"] == 0.7 and body["max_tokens"] == 5 and body["user"] == "router-default"


def test_requests_from_many_threads(emus):
    router = Router(model_list=[deployment("gpt", e, rpm=40) for e in emus[:3]])
    results = collections.Counter()

    def worker():
        for _ in range(15):
            try:
                router.completion("gpt", MESSAGES)
                results["ok"] += 1
            except RouterRateLimitError:
                results["limited"] += 1

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["ok"] == 120 and results["limited"] == 30
    assert counts(emus)[:3] == [40, 40, 40]


# -- hedging ----------------------------------------------------------------------------------


def _hedging_router(emus, **kwargs):
    # cost-based: emus[0] (cheaper) is always the primary, emus[1] the hedge
    return Router(
        model_list=[
            deployment("gpt", emus[0], input_cost_per_token=1e-6),
            deployment("gpt", emus[1], input_cost_per_token=2e-6),
        ],
        routing_strategy="cost-based-routing",
        hedge_requests=True,
        hedge_args={"min_samples": 5, "quantile": 0.95},
        **kwargs,
    )


def _warm(router, emus):
    async def warm():
        for _ in range(12):
            await router.acompletion("gpt", MESSAGES)

    asyncio.run(warm())
    for e in emus:
        e.clear()


def test_a_slow_primary_is_hedged_and_the_first_answer_wins(emus):
    router = _hedging_router(emus)
    _warm(router, emus)  # both deployments answer in a few ms: p95 is small
    events = Events()
    llmtap.callbacks = [events]
    emus[0].push(Reply(content="slow", delay=2.0))

    async def main():
        started = time.monotonic()
        response = await router.acompletion("gpt", MESSAGES)
        return response, time.monotonic() - started

    response, elapsed = asyncio.run(main())
    assert response.choices[0].message.content != "slow"
    assert elapsed < 1.5  # did not wait for the slow one
    assert sum(counts(emus)[:2]) == 2  # one hedge, not a storm
    outcomes = events.outcomes()
    routes = sorted((kw["router"]["hedge"], kw["router"]["won"], kw["router"]["final"], k) for k, kw in outcomes)
    assert routes == [("hedge", True, True, "success"), ("primary", False, False, "failure")]
    loser = next(kw for k, kw in outcomes if k == "failure")
    assert "estimated_cost" in loser["router"]
    assert len(events.finals()) == 1
    # the cancelled attempt left nothing in flight
    assert all(s.busy == 0 for s in router._state.snapshot(router.get_model_ids()))


def test_fast_requests_are_not_hedged(emus):
    router = _hedging_router(emus)
    _warm(router, emus)

    async def main():
        for _ in range(10):
            await router.acompletion("gpt", MESSAGES)

    asyncio.run(main())
    assert sum(counts(emus)[:2]) <= 15  # a few hedges around the p95 at most, never one per request


def test_hedging_needs_history_and_is_opt_in(emus):
    router = Router(model_list=[deployment("gpt", emus[0]), deployment("gpt", emus[1])])
    for e in emus[:2]:
        e.push(Reply(delay=0.3))

    async def main():
        return await router.acompletion("gpt", MESSAGES, hedge=True)  # no latency samples yet

    asyncio.run(main())
    assert sum(counts(emus)[:2]) == 1


def test_hedge_when_the_primary_fails_meanwhile(emus):
    router = _hedging_router(emus, num_retries=0)
    _warm(router, emus)
    emus[0].push(Fault(500, delay=0.5))
    emus[1].push(Reply(content="fast", delay=0.8))  # the hedge: still running when the primary fails

    async def main():
        return await router.acompletion("gpt", MESSAGES)

    events = Events()
    llmtap.callbacks = [events]
    assert asyncio.run(main()).choices[0].message.content == "fast"
    finals = events.finals()
    assert len(finals) == 1 and finals[0][0] == "success"


def test_no_secret_in_errors_events_or_logs(emus, caplog):
    secret = "sk-very-secret-deployment-key-0042"
    events = Events()
    llmtap.callbacks = [events]
    router = Router(
        model_list=[deployment("gpt", emus[0], api_key=secret, rpm=1)],
        fallbacks=[{"gpt": ["missing-group"]}],
    )
    router.completion("gpt", MESSAGES)
    with caplog.at_level("DEBUG", logger="llmtap"):
        with pytest.raises(RouterRateLimitError) as caught:
            router.completion("gpt", MESSAGES)
    texts = [str(caught.value), repr(caught.value.__cause__), *(r.getMessage() for r in caplog.records)]
    for _, kwargs in events.outcomes():
        texts.append(repr(kwargs["router"]))
        texts.append(repr(kwargs["standard_logging_object"]))
    assert all(secret not in text for text in texts)
    with pytest.raises(E.BadRequestError, match="metadata"):
        router.completion("gpt", MESSAGES, metadata="not a dict")


def test_none_in_the_request_does_not_erase_deployment_params(emus):
    # framework wrappers (langchain's ChatLiteLLMRouter) pass api_base=None, api_key=None, ...
    router = Router(model_list=[deployment("gpt", emus[0])])
    router.completion("gpt", MESSAGES, api_key=None, api_base=None, temperature=None, custom_llm_provider=None)
    assert emus[0].requests[0].headers["authorization"] == "Bearer sk-router-test-key-1"


def test_input_llmtap_refuses_is_not_retried_or_fallen_back(emus):
    router = Router(model_list=[deployment("a", emus[0]), deployment("b", emus[1])], fallbacks=[{"a": ["b"]}])
    with pytest.raises(E.BadRequestError, match="temperature"):
        router.completion("a", MESSAGES, temperature="hot")
    assert counts(emus)[:2] == [0, 0]


def test_cancelling_a_hedged_request_cancels_both_attempts(emus):
    router = _hedging_router(emus)
    _warm(router, emus)
    emus[0].push(Reply(delay=1.0))
    emus[1].push(Reply(delay=1.0))

    async def main():
        task = asyncio.create_task(router.acompletion("gpt", MESSAGES))
        while sum(len(e.requests) for e in emus[:2]) < 2:  # primary and hedge both sent
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.05)
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert asyncio.run(main()) == []
    assert all(s.busy == 0 for s in router._state.snapshot(router.get_model_ids()))


def test_memory_state_survives_fork_and_starts_clean(emus):
    import os

    router = Router(model_list=[deployment("gpt", emus[0])])
    router.completion("gpt", MESSAGES)
    router._state._lock.acquire()  # as if another thread held it when the process forked
    pid = os.fork()
    if pid == 0:  # the child: routing must not deadlock
        try:
            router._state.snapshot(router.get_model_ids())
            os._exit(0)
        except BaseException:
            os._exit(1)
    router._state._lock.release()
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_aliases_deployment_ids_and_cache_responses(emus):
    router = Router(
        model_list=[deployment("gpt", emus[0]), deployment("gpt", emus[1])],
        model_group_alias={"gpt-4": "gpt", "hidden": {"model": "gpt", "hidden": True}},
        cache_responses=True,
    )
    assert llmtap.cache is not None
    router.completion("gpt-4", MESSAGES)
    router.completion("hidden", MESSAGES)  # the same request: answered from the cache
    assert sum(counts(emus)[:2]) == 1
    second = router.get_model_ids()[1]
    router.completion(second, [{"role": "user", "content": "only the second"}])
    assert len(emus[1].requests) >= 1 and emus[1].requests[-1].json["messages"][0]["content"] == "only the second"


def test_outcome_is_logged_when_attempts_fail_before_sending(emus):
    events = Events()
    llmtap.callbacks = [events]
    entry = deployment("gpt", emus[0], temperature="hot")  # a bad param in the model list: refused before sending
    router = Router(model_list=[entry], num_retries=1)
    with pytest.raises(E.BadRequestError):
        router.completion("gpt", MESSAGES)
    finals = events.finals()
    assert len(finals) == 1 and finals[0][0] == "failure"
    assert counts(emus)[0] == 0


def test_framework_call_shapes(emus):
    """The calls smolagents' LiteLLMRouterModel and langchain's ChatLiteLLMRouter make."""
    router = Router(model_list=[deployment("group-1", emus[0]), deployment("group-1", emus[1])])
    assert router.model_list[0]["model_name"] == "group-1"
    usage = None
    text = ""
    for event in router.completion(
        model="group-1", messages=MESSAGES, api_base=None, api_key=None, stop=None,
        stream=True, stream_options={"include_usage": True},
    ):
        if event.choices and event.choices[0].delta.content:
            text += event.choices[0].delta.content
        if getattr(event, "usage", None):
            usage = event.usage
    assert "hello router" in text and usage.prompt_tokens > 0
    response = router.completion(model="group-1", messages=MESSAGES, metadata={}, n=1, temperature=0.0)
    assert response.choices[0].message.content


def test_identical_entries_are_two_deployments_with_stable_ids(emus):
    entry = deployment("g", emus[0])
    router = Router(model_list=[dict(entry), dict(entry)])
    ids = [d["model_info"]["id"] for d in router.get_model_list()]
    assert len(set(ids)) == 2 and ids[1] == ids[0] + "-2"
    again = Router(model_list=[dict(entry), dict(entry)])  # another process computes the same ids
    assert [d["model_info"]["id"] for d in again.get_model_list()] == ids
    router.completion("g", MESSAGES)
    with pytest.raises(RouterConfigError, match="ids must be unique"):
        Router(model_list=[{**entry, "model_info": {"id": "x"}}, {**entry, "model_info": {"id": "x"}}])
