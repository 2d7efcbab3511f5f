"""The Router's shared state in a real redis-server: several routers (and processes) act as one."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import textwrap
import uuid

import pytest

import llmtap
from llmtap.router import Router, RouterRateLimitError
from llmtap.testing import Fault

from .redis_fixture import free_port, start_redis
from .test_router import MESSAGES, deployment


@pytest.fixture(scope="module")
def redis_server():
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def namespace():
    return f"test-{uuid.uuid4().hex[:8]}"


def make(redis_server, namespace, model_list, **kwargs) -> Router:
    return Router(
        model_list=model_list,
        redis_host=redis_server.host,
        redis_port=redis_server.port,
        redis_password=redis_server.password,
        state_namespace=namespace,
        **kwargs,
    )


def test_rpm_limit_is_shared_by_routers(redis_server, namespace, emus):
    models = [deployment("gpt", emus[0], rpm=7)]
    routers = [make(redis_server, namespace, models) for _ in range(3)]
    served = limited = 0
    for i in range(12):
        try:
            routers[i % 3].completion("gpt", MESSAGES)
            served += 1
        except RouterRateLimitError:
            limited += 1
    assert (served, limited) == (7, 5)
    assert len(emus[0].requests) == 7


def test_cooldown_is_shared_and_async_paths_use_redis(redis_server, namespace, emus):
    models = [deployment("gpt", emus[0]), deployment("gpt", emus[1])]
    first = make(redis_server, namespace, models, cooldown_time=30)
    second = make(redis_server, namespace, models, cooldown_time=30)
    emus[0].push(Fault(401, "Incorrect API key provided"))
    while not emus[0].requests:  # the 401 cools emus[0] down; the retry goes to emus[1]
        first.completion("gpt", MESSAGES)
    cooled = first.cooldown_list()
    assert cooled == [first.get_model_ids()[0]] and second.cooldown_list() == cooled
    healthy = 1
    emus[1].clear()

    async def main():
        return await asyncio.gather(*[second.acompletion("gpt", MESSAGES) for _ in range(6)])

    asyncio.run(main())
    assert len(emus[healthy].requests) == 6 and len(emus[1 - healthy].requests) == 1


def test_usage_and_latency_are_shared(redis_server, namespace, emus):
    models = [deployment("gpt", emus[0]), deployment("gpt", emus[1])]
    writer = make(redis_server, namespace, models, routing_strategy="usage-based-routing")
    reader = make(redis_server, namespace, models, routing_strategy="usage-based-routing")
    for _ in range(4):
        writer.completion("gpt", MESSAGES)
    ids = writer.get_model_ids()
    stats = reader._state.snapshot(ids)
    assert sum(s.rpm for s in stats) == 4 and sum(s.tpm for s in stats) > 0
    assert all(s.busy == 0 for s in stats)
    assert sum(len(s.latencies) for s in stats) == 4


def test_half_open_probe_is_one_request_across_routers(redis_server, namespace, emus):
    models = [deployment("gpt", emus[0]), deployment("gpt", emus[1])]
    routers = [make(redis_server, namespace, models, allowed_fails=0, cooldown_time=0.3) for _ in range(2)]
    emus[0].push(Fault(500))
    while not emus[0].requests:  # emus[0] fails and cools down; the retry goes to emus[1]
        routers[0].completion("gpt", MESSAGES)
    sick = routers[1].cooldown_list()
    assert sick == [routers[0].get_model_ids()[0]]
    import time

    time.sleep(0.5)
    state = routers[1]._state
    assert state.reserve(sick[0], None, None, 0) == ""  # the probe
    assert state.reserve(sick[0], None, None, 0) == "probe in flight"
    assert routers[0]._state.reserve(sick[0], None, None, 0) == "probe in flight"
    state.succeeded(sick[0], 10, 0.01)
    assert routers[0]._state.reserve(sick[0], None, None, 0) == ""


def test_redis_down_routes_on_local_state_with_one_warning(emus, caplog):
    router = Router(model_list=[deployment("gpt", emus[0], rpm=3)], redis_host="127.0.0.1", redis_port=free_port(),
                    redis_password="hunter2-secret")
    with caplog.at_level(logging.WARNING, logger="llmtap"):
        for _ in range(3):
            router.completion("gpt", MESSAGES)
        with pytest.raises(RouterRateLimitError):  # the limit still holds, locally
            router.completion("gpt", MESSAGES)
        asyncio.run(_one_async(router))
    warnings = [r for r in caplog.records if "Redis" in r.getMessage()]
    assert len(warnings) == 1
    assert "hunter2" not in warnings[0].getMessage()


async def _one_async(router):
    with pytest.raises(RouterRateLimitError):
        await router.acompletion("gpt", MESSAGES)


_WORKER = textwrap.dedent(
    """
    import json, sys
    from llmtap.router import Router, RouterRateLimitError
    config = json.loads(sys.argv[1])
    router = Router(model_list=config["models"], redis_url=config["redis_url"],
                    state_namespace=config["namespace"], num_retries=0)
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    served = limited = 0
    for _ in range(config["requests"]):
        try:
            router.completion("gpt", [{"role": "user", "content": "hi"}])
            served += 1
        except RouterRateLimitError:
            limited += 1
    print(json.dumps({"served": served, "limited": limited}), flush=True)
    """
)


def test_four_processes_share_one_rpm_limit(redis_server, namespace, emus):
    """4 processes, 200 requests, a 60 rpm deployment: at most 60 reach it (counted at the
    emulator); the rest go to the other deployment (100 rpm) or get RouterRateLimitError."""
    config = {
        "models": [deployment("gpt", emus[0], rpm=60), deployment("gpt", emus[1], rpm=100)],
        "redis_url": redis_server.url,
        "namespace": namespace,
        "requests": 50,
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = [json.loads(worker.stdout.readline()) for worker in workers]
    finally:
        for worker in workers:
            worker.kill() if worker.poll() is None else None
            worker.wait(10)
    served = sum(r["served"] for r in results)
    limited = sum(r["limited"] for r in results)
    assert served + limited == 200
    assert len(emus[0].requests) <= 60
    assert len(emus[1].requests) <= 100
    assert served == len(emus[0].requests) + len(emus[1].requests)
    assert served == 160 and limited == 40  # every slot used, none twice
    assert llmtap  # the parent never routed anything itself


def test_redis_back_up_is_used_again(emus, caplog):
    import shutil
    import socket
    import time

    port = free_port()
    router = Router(
        model_list=[deployment("gpt", emus[0])],
        redis_host="127.0.0.1",
        redis_port=port,
        cache_kwargs={"retry_interval": 0.2},
        state_namespace="comeback",
    )
    with caplog.at_level(logging.WARNING, logger="llmtap"):
        router.completion("gpt", MESSAGES)  # Redis down: local state, one warning
    assert len([r for r in caplog.records if "Redis" in r.getMessage()]) == 1
    process = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        time.sleep(0.3)  # past retry_interval
        router.completion("gpt", MESSAGES)
        import redis

        keys = redis.Redis(host="127.0.0.1", port=port).keys("comeback:*")
        assert keys  # the state is in Redis again
    finally:
        process.kill()
        process.wait(5)


def test_hostile_state_in_redis_never_breaks_a_request(redis_server, namespace, emus, caplog):
    import redis

    models = [deployment("gpt", emus[0]), deployment("gpt", emus[1])]
    router = make(redis_server, namespace, models, routing_strategy="latency-based-routing")
    client = redis.Redis(host=redis_server.host, port=redis_server.port, password=redis_server.password)
    for deployment_id in router.get_model_ids():
        base = f"{namespace}:{{{deployment_id}}}:"
        client.rpush(base + "lat", "not-a-number")
        client.set(base + "busy", "NaN?")
        client.hset(base + "tok", "garbage", "x")
    with caplog.at_level(logging.WARNING, logger="llmtap"):
        for _ in range(3):
            assert router.completion("gpt", MESSAGES).choices
    assert any("Redis" in r.getMessage() for r in caplog.records)  # said once, routed locally
