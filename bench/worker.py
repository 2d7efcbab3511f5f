"""One measurement in a fresh process: ``python worker.py CLIENT SCENARIO BASE_URL [N]``.

Prints one JSON object. Run by bench/run.py, which starts the emulator in its own process and
gives every (client, scenario) pair a new interpreter so nothing warms up across them.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

MESSAGES = [{"role": "user", "content": "Hi 👋 - i'm a benchmark"}]
MODEL = "gpt-4o-mini"
KEY = "sk-bench"


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# -- one sync call per client -------------------------------------------------------------------


def sync_caller(client: str, base: str, chunks: int | None = None):
    """A function that makes one call (streamed with ``chunks`` chunks when given) and reads it all."""
    body = {"model": MODEL, "messages": MESSAGES}
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    if chunks:
        body["stream"] = True
        headers["x-emulator-chunks"] = str(chunks)
    payload = json.dumps(body).encode()
    url = base + "/chat/completions"
    if client == "urllib3":
        import urllib3

        pool = urllib3.PoolManager()
        if not chunks:
            return lambda: json.loads(pool.request("POST", url, body=payload, headers=headers).data)

        def stream_urllib3():
            r = pool.request("POST", url, body=payload, headers=headers, preload_content=False)
            n = 0
            buffer = b""
            for data in r.read_chunked():
                buffer += data
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.startswith(b"data: {"):
                        json.loads(line[6:])
                        n += 1
            r.release_conn()
            return n

        return stream_urllib3
    if client == "http.client":
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port)

        def call_http_client():
            conn.request("POST", parts.path, payload, headers)
            r = conn.getresponse()
            if not chunks:
                return json.loads(r.read())
            n = 0
            for line in r.read().split(b"\n"):
                if line.startswith(b"data: {"):
                    json.loads(line[6:])
                    n += 1
            return n

        return call_http_client
    if client == "httpx2":
        import httpx2

        hx = httpx2.Client()
        if not chunks:
            return lambda: json.loads(hx.post(url, content=payload, headers=headers).content)

        def stream_httpx2():
            n = 0
            with hx.stream("POST", url, content=payload, headers=headers) as r:
                for line in r.iter_lines():
                    if line.startswith("data: {"):
                        json.loads(line[6:])
                        n += 1
            return n

        return stream_httpx2
    if client == "openai":
        import openai

        sdk = openai.OpenAI(base_url=base, api_key=KEY, max_retries=0)
        extra = {"extra_headers": {"x-emulator-chunks": str(chunks)}} if chunks else {}
        if not chunks:
            return lambda: sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
        return lambda: sum(1 for _ in sdk.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True, **extra))
    if client in ("llmtap", "litellm"):
        lib = __import__(client)
        extra = {"extra_headers": {"x-emulator-chunks": str(chunks)}} if chunks else {}
        model = "openai/" + MODEL
        if not chunks:
            return lambda: lib.completion(model=model, messages=MESSAGES, api_base=base, api_key=KEY)
        return lambda: sum(1 for _ in lib.completion(model=model, messages=MESSAGES, api_base=base, api_key=KEY, stream=True, **extra))
    raise SystemExit(f"unknown client {client}")


def async_caller(client: str, base: str):
    body = {"model": MODEL, "messages": MESSAGES}
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    url = base + "/chat/completions"
    if client == "aiohttp":
        import aiohttp

        state = {}

        async def call_aiohttp():
            session = state.get("s")
            if session is None:
                session = state["s"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            async with session.post(url, data=json.dumps(body).encode(), headers=headers) as r:
                return json.loads(await r.read())

        return call_aiohttp
    if client == "httpx2":
        import httpx2

        state = {}

        async def call_httpx2():
            hx = state.get("c")
            if hx is None:
                hx = state["c"] = httpx2.AsyncClient(limits=httpx2.Limits(max_connections=None))
            r = await hx.post(url, content=json.dumps(body).encode(), headers=headers)
            return json.loads(r.content)

        return call_httpx2
    if client == "openai":
        import openai

        sdk = openai.AsyncOpenAI(base_url=base, api_key=KEY, max_retries=0)
        return lambda: sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
    if client in ("llmtap", "litellm"):
        lib = __import__(client)
        return lambda: lib.acompletion(model="openai/" + MODEL, messages=MESSAGES, api_base=base, api_key=KEY)
    raise SystemExit(f"unknown async client {client}")


def timed(fn, n: int) -> tuple[float, float]:
    """(wall, CPU of this whole process) per call, in microseconds."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return (time.perf_counter() - wall0) / n * 1e6, (time.process_time() - cpu0) / n * 1e6


# -- scenarios -----------------------------------------------------------------------------------


def scenario_memory(client: str, base: str, n: int) -> dict:
    before = rss_kib()
    if client == "aiohttp":
        import asyncio

        fn = async_caller(client, base)
        after_import = rss_kib()
        asyncio.run(fn())
    else:
        fn = sync_caller(client, base)
        after_import = rss_kib()
        fn()
    return {"rss_start_kib": before, "rss_after_import_kib": after_import, "rss_after_call_kib": rss_kib()}


def scenario_sync(client: str, base: str, n: int) -> dict:
    fn = sync_caller(client, base)
    for _ in range(min(50, n)):
        fn()
    wall, cpu = timed(fn, n)
    return {"wall_us": wall, "cpu_us": cpu}


def _spread(values: list[float]) -> dict:
    """Median of the rounds, and how far the rounds strayed from it (max - min, in % of it)."""
    median = statistics.median(values)
    return {"median": median, "spread_pct": (max(values) - min(values)) / median * 100 if median else 0.0}


STREAM_SHORT, STREAM_LONG, STREAM_ROUNDS = 20, 1000, 7


def scenario_stream(client: str, base: str, n: int) -> dict:
    """Marginal CPU per chunk: 20- and 1,000-chunk streams in alternating rounds (so a burst of
    load on the shared machine lands on both), the median of the rounds' per-chunk figures kept
    with their spread. CPU is the whole process's (every thread)."""
    short, long = sync_caller(client, base, STREAM_SHORT), sync_caller(client, base, STREAM_LONG)
    for _ in range(5):
        short(), long()
    count_short, count_long = max(5, n // STREAM_ROUNDS), max(2, n // (STREAM_ROUNDS * 10))
    rounds: dict[str, list[float]] = {"short": [], "long": [], "per_chunk": []}
    for _ in range(STREAM_ROUNDS):
        _, cpu_short = timed(short, count_short)
        _, cpu_long = timed(long, count_long)
        rounds["short"].append(cpu_short)
        rounds["long"].append(cpu_long)
        rounds["per_chunk"].append((cpu_long - cpu_short) / (STREAM_LONG - STREAM_SHORT))
    per_chunk = _spread(rounds["per_chunk"])
    return {
        f"cpu_us_{STREAM_SHORT}": _spread(rounds["short"])["median"],
        f"cpu_us_{STREAM_LONG}": _spread(rounds["long"])["median"],
        "cpu_us_per_chunk": per_chunk["median"],
        "cpu_us_per_chunk_spread_pct": per_chunk["spread_pct"],
    }


def scenario_stream_logged(client: str, base: str, n: int) -> dict:
    """The same, with one CustomLogger that has ``log_stream_event`` (every chunk is an event)."""
    lib = __import__(client)
    counter: list = []
    CustomLogger = __import__(f"{client}.integrations.custom_logger", fromlist=["CustomLogger"]).CustomLogger

    class StreamLogger(CustomLogger):
        def log_stream_event(self, kwargs, response_obj, start_time, end_time):
            counter.append(1)

    lib.callbacks = [StreamLogger()]
    try:
        out = scenario_stream(client, base, n)
    finally:
        if hasattr(lib, "flush"):
            lib.flush()
        lib.callbacks = []
    out["events"] = len(counter)
    return out


def scenario_async(client: str, base: str, n: int) -> dict:
    import asyncio

    fn = async_caller(client, base)

    async def run() -> tuple[float, float]:
        semaphore = asyncio.Semaphore(64)

        async def one():
            async with semaphore:
                await fn()

        await asyncio.gather(*[one() for _ in range(200)])  # warm up the pool
        wall0, cpu0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*[one() for _ in range(n)])
        return time.perf_counter() - wall0, time.process_time() - cpu0

    wall, cpu = asyncio.run(run())
    return {"calls_per_s": n / wall, "cpu_us": cpu / n * 1e6}


def _handlers(lib, kind: str, counter: list):
    CustomLogger = __import__(f"{lib.__name__}.integrations.custom_logger", fromlist=["CustomLogger"]).CustomLogger

    class NoOp(CustomLogger):
        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            counter.append(1)

    def make_function():
        def fn(kwargs, response, start, end):
            counter.append(1)

        return fn

    if kind == "none":
        return [], []
    if kind == "one":
        return [NoOp()], []
    return [NoOp() for _ in range(5)], [make_function() for _ in range(5)]


CALLBACK_ROUNDS = 7


def scenario_callbacks(client: str, base: str, n: int) -> dict:
    """CPU per sync call with no handlers, one CustomLogger and ten no-op handlers, measured in
    alternating rounds (each round flushes, so the delivery thread's CPU is inside the round);
    the median round of each is kept with the spread of the rounds and of the ten-vs-none ratio."""
    lib = __import__(client)
    fn = sync_caller(client, base)
    counter: list = []
    setups = {kind: _handlers(lib, kind, counter) for kind in ("none", "one", "ten")}

    def use(kind: str) -> None:
        loggers, functions = setups[kind]
        lib.callbacks = list(loggers)
        lib.success_callback = list(functions)

    def settle(expected: int) -> None:
        if hasattr(lib, "flush"):
            lib.flush()
        else:  # the peer has no flush: give its background logging time, then count
            deadline = time.time() + 10
            while len(counter) < expected and time.time() < deadline:
                time.sleep(0.05)

    for kind in setups:
        use(kind)
        for _ in range(20):
            fn()
        settle(0)
    per_round = max(1, n // CALLBACK_ROUNDS)
    cpu: dict[str, list[float]] = {kind: [] for kind in setups}
    wall: dict[str, list[float]] = {kind: [] for kind in setups}
    events = dict.fromkeys(setups, 0)
    expected = dict.fromkeys(setups, 0)
    for _ in range(CALLBACK_ROUNDS):
        for kind, (loggers, functions) in setups.items():
            use(kind)
            counter.clear()
            want = per_round * (len(loggers) + len(functions))
            wall0, cpu0 = time.perf_counter(), time.process_time()
            for _ in range(per_round):
                fn()
            settle(want)
            cpu[kind].append((time.process_time() - cpu0) / per_round * 1e6)
            wall[kind].append((time.perf_counter() - wall0) / per_round * 1e6)
            events[kind] += len(counter)
            expected[kind] += want
    lib.callbacks = []
    lib.success_callback = []
    out: dict = {}
    for kind in setups:
        figure = _spread(cpu[kind])
        out[f"cpu_us_{kind}"] = figure["median"]
        out[f"cpu_us_{kind}_spread_pct"] = figure["spread_pct"]
        out[f"wall_us_{kind}"] = _spread(wall[kind])["median"]
        out[f"events_{kind}"] = events[kind]
        out[f"expected_{kind}"] = expected[kind]
    for kind in ("one", "ten"):  # per round, so the ratio's spread is not the sum of two spreads
        added = [(k / none - 1) * 100 for k, none in zip(cpu[kind], cpu["none"], strict=True)]
        out[f"added_pct_{kind}"] = statistics.median(added)
        out[f"added_pct_{kind}_range"] = [min(added), max(added)]
    return out


def scenario_mock(client: str, base: str, n: int) -> dict:
    lib = __import__(client)

    def fn():
        return lib.completion(model=MODEL, messages=MESSAGES, mock_response="hello there")

    for _ in range(50):
        fn()
    wall, cpu = timed(fn, n)
    return {"wall_us": wall, "cpu_us": cpu}


def scenario_sleepy(client: str, base: str, n: int) -> dict:
    lib = __import__(client)
    fn = sync_caller(client, base)
    for _ in range(20):
        fn()
    plain_wall, _ = timed(fn, n)

    def sleepy(kwargs, response, start, end):
        time.sleep(0.05)

    lib.success_callback = [sleepy]
    sleepy_wall, _ = timed(fn, n)
    lib.success_callback = []
    return {"wall_us_plain": plain_wall, "wall_us_sleepy": sleepy_wall, "added_us": sleepy_wall - plain_wall}


def scenario_soak(client: str, base: str, n: int) -> dict:
    lib = __import__(client)
    counter: list = []
    loggers, functions = _handlers(lib, "one", counter)
    lib.callbacks = loggers
    fn = sync_caller(client, base)
    for _ in range(500):
        fn()
    start = rss_kib()
    for i in range(n):
        fn()
        if i == n // 2:
            middle = rss_kib()
    if hasattr(lib, "flush"):
        lib.flush()
    return {"rss_start_kib": start, "rss_middle_kib": middle, "rss_end_kib": rss_kib(), "events": len(counter), "calls": n + 500}


def _redis_server():
    """A throwaway redis-server on a free port (the machine's binary), or None without one."""
    import shutil
    import socket
    import subprocess

    binary = shutil.which("redis-server")
    if binary is None:
        return None, None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    return None, None


def scenario_router(client: str, base: str, n: int) -> dict:
    """Added CPU per routed call: a Router over two deployments vs a direct call, with the
    router's state in memory and in Redis. The three run in alternating rounds and each keeps
    its best round, so a burst of load on the machine does not land on one of them only."""
    lib = __import__(client)
    model = "openai/" + MODEL
    model_list = [
        {"model_name": "bench", "litellm_params": {"model": model, "api_base": base, "api_key": KEY + str(i)}}
        for i in range(2)
    ]
    memory = lib.Router(model_list=model_list)
    variants = {
        "direct": lambda: lib.completion(model=model, messages=MESSAGES, api_base=base, api_key=KEY),
        "memory": lambda: memory.completion(model="bench", messages=MESSAGES),
    }
    process, port = _redis_server()
    if process is not None:
        shared = lib.Router(model_list=model_list, redis_host="127.0.0.1", redis_port=port)
        variants["redis"] = lambda: shared.completion(model="bench", messages=MESSAGES)
    try:
        for fn in variants.values():
            for _ in range(min(50, n)):
                fn()
        best: dict[str, float] = {}
        rounds = 5
        for _ in range(rounds):
            for name, fn in variants.items():
                _, cpu = timed(fn, max(1, n // rounds))
                best[name] = min(best.get(name, cpu), cpu)
    finally:
        if process is not None:
            process.kill()
    out = {f"cpu_us_{name}": cpu for name, cpu in best.items()}
    out["added_pct_memory"] = (best["memory"] / best["direct"] - 1) * 100
    if "redis" in best:
        out["added_pct_redis"] = (best["redis"] / best["direct"] - 1) * 100
    return out


def scenario_cloud(client: str, base: str, n: int) -> dict:
    """llmtap only: the CPU a SigV4-signed Bedrock call adds over an OpenAI call (same emulator)."""
    import llmtap
    from llmtap.testing.aws_routes import TEST_ACCESS_KEY, TEST_SECRET_KEY

    root = base.rsplit("/v1", 1)[0]
    openai_call = lambda: llmtap.completion(model="openai/" + MODEL, messages=MESSAGES, api_base=base, api_key=KEY)  # noqa: E731
    bedrock_call = lambda: llmtap.completion(  # noqa: E731
        model="bedrock/anthropic.claude-3-5-haiku-20241022-v1:0", messages=MESSAGES, api_base=root,
        aws_access_key_id=TEST_ACCESS_KEY, aws_secret_access_key=TEST_SECRET_KEY, aws_region_name="us-east-1",
    )
    out = {}
    for name, fn in (("openai", openai_call), ("bedrock", bedrock_call)):
        for _ in range(min(50, n)):
            fn()
        out[f"wall_us_{name}"], out[f"cpu_us_{name}"] = timed(fn, n)
    out["added_cpu_us"] = out["cpu_us_bedrock"] - out["cpu_us_openai"]
    return out


SCENARIOS = {name[len("scenario_"):]: fn for name, fn in globals().items() if name.startswith("scenario_")}

if __name__ == "__main__":
    client, scenario, base = sys.argv[1], sys.argv[2], sys.argv[3]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 500
    os.environ.setdefault("LITELLM_LOG", "ERROR")
    result = SCENARIOS[scenario](client, base, count)
    print(json.dumps(result), flush=True)
