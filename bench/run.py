"""The benchmark suite: llmtap beside LiteLLM, the openai SDK and the raw HTTP clients.

    bash bench/run.sh            # sets up bench/.peers, runs everything, rewrites BENCHMARKS.md

Every measurement runs in a fresh interpreter (bench/worker.py) against the emulator, which
runs in a process of its own; each is repeated and the median kept. While the clients run,
the emulator's own CPU use is sampled from /proc so the table can show it was not the limit.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = str(HERE / ".peers" / "bin" / "python")
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
TICKS = os.sysconf("SC_CLK_TCK")
# LiteLLM fetches its price map from GitHub at import unless told not to; this machine has no
# internet, so without this its import would measure DNS failures and retry sleeps.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ.setdefault("LITELLM_LOG", "ERROR")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class EmulatorProcess:
    def __init__(self, port: int = 18777) -> None:
        self.port = port
        self.process = subprocess.Popen(
            [PYTHON, "-m", "llmtap.cli", "emulator", "--port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.process.stdout.readline()  # "listening on ..."
        self.base = f"http://127.0.0.1:{port}/v1"
        self.busiest = 0.0

    def measure(self, args: list[str]) -> dict:
        cpu0, wall0 = cpu_seconds(self.process.pid), time.perf_counter()
        done = subprocess.run([PYTHON, str(HERE / "worker.py"), *args], capture_output=True, text=True, timeout=600)
        share = (cpu_seconds(self.process.pid) - cpu0) / (time.perf_counter() - wall0)
        self.busiest = max(self.busiest, share)
        if done.returncode != 0:
            raise RuntimeError(f"{args}: {done.stderr[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["emulator_cpu_share"] = share
        return result

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def median_of(runs: list[dict]) -> dict:
    """Each figure's median over the fresh-process runs, and beside it (``<key>_runs``) every
    run's value, so the table can say how far apart the runs were."""
    out: dict = {}
    for key, value in runs[0].items():
        if isinstance(value, (int, float)):
            values = [run[key] for run in runs]
            out[key] = statistics.median(values)
            out[key + "_runs"] = values
    return out


def runs_range(row: dict, key: str, fmt: str = "{:.2f}") -> str:
    values = row.get(key + "_runs") or [row[key]]
    return fmt.format(min(values)) + "–" + fmt.format(max(values))


def repeat(emulator: EmulatorProcess, args: list[str], times: int = REPEATS) -> dict:
    return median_of([emulator.measure(args) for _ in range(times)])


def import_time(module: str) -> dict:
    code = (
        f"import time, sys; t = time.perf_counter(); import {module}; dt = time.perf_counter() - t\n"
        "rss = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS:'))\n"
        "print(dt * 1000, rss)"
    )
    runs = []
    for _ in range(7):
        out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True).stdout.split()
        runs.append((float(out[0]), int(out[1])))
    return {"import_ms": statistics.median(r[0] for r in runs), "rss_kib": statistics.median(r[1] for r in runs)}


EXIT_SCRIPT = """
import sys, time
lib = __import__(sys.argv[1])
def cb(kwargs, response, start, end):
    pass
lib.success_callback = [cb]
lib.completion(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}], api_base=sys.argv[2], api_key="k")
print("done", flush=True)
"""


def exit_delay(client: str, base: str) -> float:
    """Milliseconds from the script's last output to the process having exited."""
    delays = []
    for _ in range(5):
        process = subprocess.Popen([PYTHON, "-c", EXIT_SCRIPT, client, base], stdout=subprocess.PIPE, text=True)
        process.stdout.readline()
        seen = time.perf_counter()
        process.wait(60)
        delays.append((time.perf_counter() - seen) * 1000)
    return statistics.median(delays)


def main() -> dict:
    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}}
    started = time.time()
    results["import"] = {m: import_time(m) for m in ("urllib3", "aiohttp", "httpx2", "openai", "litellm", "llmtap")}
    emulator = EmulatorProcess()
    try:
        b = emulator.base
        results["memory"] = {c: repeat(emulator, [c, "memory", b], 1) for c in ("urllib3", "openai", "litellm", "llmtap")}
        results["sync"] = {
            c: repeat(emulator, [c, "sync", b, str(n)])
            for c, n in (("http.client", 2000), ("urllib3", 2000), ("httpx2", 1000), ("openai", 1000), ("litellm", 300), ("llmtap", 2000))
        }
        results["stream"] = {
            c: repeat(emulator, [c, "stream", b, str(n)])
            for c, n in (("urllib3", 300), ("httpx2", 200), ("openai", 100), ("litellm", 20), ("llmtap", 300))
        }
        results["stream_logged"] = {"llmtap": repeat(emulator, ["llmtap", "stream_logged", b, "300"])}
        results["async"] = {
            c: repeat(emulator, [c, "async", b, str(n)])
            for c, n in (("aiohttp", 5000), ("httpx2", 1000), ("openai", 2000), ("litellm", 600), ("llmtap", 5000))
        }
        results["callbacks"] = {c: repeat(emulator, [c, "callbacks", b, str(n)]) for c, n in (("llmtap", 1000), ("litellm", 200))}
        results["router"] = {c: repeat(emulator, [c, "router", b, str(n)]) for c, n in (("llmtap", 1000), ("litellm", 200))}
        results["mock"] = {c: repeat(emulator, [c, "mock", b, str(n)]) for c, n in (("llmtap", 5000), ("litellm", 300))}
        results["cloud"] = {"llmtap": repeat(emulator, ["llmtap", "cloud", b, "1000"])}
        results["sleepy"] = {c: repeat(emulator, [c, "sleepy", b, str(n)], 1) for c, n in (("llmtap", 200), ("litellm", 40))}
        results["soak"] = {"llmtap": emulator.measure(["llmtap", "soak", b, "20000"])}
        results["exit_ms"] = {c: exit_delay(c, b) for c in ("llmtap", "litellm")}
        results["emulator_busiest_cpu_share"] = emulator.busiest
    finally:
        emulator.stop()
    results["seconds"] = time.time() - started
    return results


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "n/a"


def table(results: dict) -> str:
    imp, sync, stream, asy, cb, mock = (results[k] for k in ("import", "sync", "stream", "async", "callbacks", "mock"))
    lines = [f"Machine: Python {results['machine']['python']}, {results['machine']['cpus']} CPUs, {results['machine']['platform']}. "
             f"Suite time: {results['seconds']:.0f} s. Medians of {REPEATS} fresh-process runs each.", ""]

    lines += ["### Import (fresh process) and memory", "", "| module | import ms | × urllib3 | RSS after import MiB | × urllib3 | RSS after first call MiB |", "|---|---|---|---|---|---|"]
    for m, row in imp.items():
        mem = results["memory"].get(m, {})
        after = f"{mem['rss_after_call_kib'] / 1024:.1f}" if mem else ""
        lines.append(f"| {m} | {row['import_ms']:.1f} | {ratio(row['import_ms'], imp['urllib3']['import_ms'])} | {row['rss_kib'] / 1024:.1f} | {ratio(row['rss_kib'], imp['urllib3']['rss_kib'])} | {after} |")

    floor = sync["urllib3"]["cpu_us"]
    lines += ["", "### Sync calls (non-streaming)", "", "| client | wall µs/call | CPU µs/call | × urllib3 | × http.client |", "|---|---|---|---|---|"]
    for c, row in sync.items():
        lines.append(f"| {c} | {row['wall_us']:.0f} | {row['cpu_us']:.0f} | {ratio(row['cpu_us'], floor)} | {ratio(row['cpu_us'], sync['http.client']['cpu_us'])} |")

    lines += ["", "### Sync streams (20 and 1,000 chunks, 7 alternating rounds per run)", "",
              "| client | CPU µs / 20-chunk call | CPU µs / 1,000-chunk call | marginal CPU µs/chunk | runs' range | spread of rounds in a run | × urllib3 |",
              "|---|---|---|---|---|---|---|"]
    for c, row in stream.items():
        lines.append(f"| {c} | {row['cpu_us_20']:.0f} | {row['cpu_us_1000']:.0f} | {row['cpu_us_per_chunk']:.2f} | {runs_range(row, 'cpu_us_per_chunk')} | "
                     f"±{row['cpu_us_per_chunk_spread_pct'] / 2:.0f}% | {ratio(row['cpu_us_per_chunk'], stream['urllib3']['cpu_us_per_chunk'])} |")
    if "stream_logged" in results:
        for c, row in results["stream_logged"].items():
            lines.append(f"| {c} + CustomLogger with log_stream_event | {row['cpu_us_20']:.0f} | {row['cpu_us_1000']:.0f} | {row['cpu_us_per_chunk']:.2f} | "
                         f"{runs_range(row, 'cpu_us_per_chunk')} | ±{row['cpu_us_per_chunk_spread_pct'] / 2:.0f}% | {ratio(row['cpu_us_per_chunk'], stream['urllib3']['cpu_us_per_chunk'])} |")

    lines += ["", "### Async, concurrency 64", "", "| client | calls/s | × aiohttp | CPU µs/call |", "|---|---|---|---|"]
    for c, row in asy.items():
        lines.append(f"| {c} | {row['calls_per_s']:.0f} | {row['calls_per_s'] / asy['aiohttp']['calls_per_s']:.2f} | {row['cpu_us']:.0f} |")

    lines += ["", "### Callback dispatch (sync calls against the emulator)", "",
              "| library | CPU µs/call, no handlers | one CustomLogger | ten no-op handlers (5 loggers + 5 functions) | one vs none (runs' range) | ten vs none (runs' range) | events delivered / expected |", "|---|---|---|---|---|---|---|"]
    for c, row in cb.items():
        lines.append(f"| {c} | {row['cpu_us_none']:.0f} | {row['cpu_us_one']:.0f} | {row['cpu_us_ten']:.0f} | "
                     f"{row['added_pct_one']:+.0f}% ({runs_range(row, 'added_pct_one', '{:+.0f}%')}) | {row['added_pct_ten']:+.0f}% ({runs_range(row, 'added_pct_ten', '{:+.0f}%')}) | "
                     f"{row['events_ten']:.0f} / {row['expected_ten']:.0f} |")

    if "router" in results:
        lines += ["", "### Router: added CPU per routed call (two deployments, simple-shuffle)", "",
                  "| library | CPU µs direct call | routed, state in memory | added | routed, state in Redis | added |", "|---|---|---|---|---|---|"]
        for c, row in results["router"].items():
            redis_cells = f"{row['cpu_us_redis']:.0f} | +{row['added_pct_redis']:.0f}%" if "cpu_us_redis" in row else "n/a | n/a"
            lines.append(f"| {c} | {row['cpu_us_direct']:.0f} | {row['cpu_us_memory']:.0f} | +{row['added_pct_memory']:.0f}% | {redis_cells} |")

    lines += ["", "### `mock_response` calls (no network: pure library overhead)", "", "| library | CPU µs/call | × llmtap |", "|---|---|---|"]
    for c, row in mock.items():
        lines.append(f"| {c} | {row['cpu_us']:.0f} | {ratio(row['cpu_us'], mock['llmtap']['cpu_us'])} |")

    cloud = results["cloud"]["llmtap"]
    lines += ["", "### Cloud providers: a SigV4-signed Bedrock call beside an OpenAI call (llmtap, sync)", "",
              "| call | wall µs/call | CPU µs/call |", "|---|---|---|",
              f"| openai | {cloud['wall_us_openai']:.0f} | {cloud['cpu_us_openai']:.0f} |",
              f"| bedrock (Converse, signed) | {cloud['wall_us_bedrock']:.0f} | {cloud['cpu_us_bedrock']:.0f} |",
              "", f"A Bedrock call adds {cloud['added_cpu_us']:.0f} µs of CPU (signing, Converse transforms)."]

    lines += ["", "### A success callback that sleeps 50 ms", "", "| library | wall µs/call without | with | added µs |", "|---|---|---|---|"]
    for c, row in results["sleepy"].items():
        lines.append(f"| {c} | {row['wall_us_plain']:.0f} | {row['wall_us_sleepy']:.0f} | {row['added_us']:.0f} |")

    soak = results["soak"]["llmtap"]
    lines += ["", "### Soak and exit", "",
              f"- llmtap, {soak['calls']:.0f} calls with a CustomLogger: RSS {soak['rss_start_kib'] / 1024:.1f} MiB at the start, "
              f"{soak['rss_middle_kib'] / 1024:.1f} MiB half-way, {soak['rss_end_kib'] / 1024:.1f} MiB at the end; {soak['events']:.0f} success events delivered.",
              "- Time from a script's last output to its exit, with a callback registered: "
              + ", ".join(f"{c} {ms:.0f} ms" for c, ms in results["exit_ms"].items()) + ".",
              f"- The emulator (its own process) used at most {results['emulator_busiest_cpu_share'] * 100:.0f}% of one CPU during any measurement, "
              "so it was not the bottleneck (the machine has a core for it and one for the client)."]
    return "\n".join(lines)


if __name__ == "__main__":
    results = main()
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=1))
    text = table(results)
    print(text)
    if "--write" in sys.argv:
        target = ROOT / "BENCHMARKS.md"
        head, marker, _ = target.read_text().partition("<!-- results -->")
        target.write_text(head + marker + "\n\n" + text + "\n")
