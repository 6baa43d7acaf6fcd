"""The wire-speed phase of benchmarks/run.py: the compiled mock upstream of ../shared/bench.

The project's fake upstream is Python; its stream rate is what its own core can do, so streams
through the gateway could not be told from streams straight from it. The independent harness's
mock (Rust, std only, about 50k requests/s on one core) is the upstream here, measured directly
and through Sluice in the same run, with the harness's own stream client (stdlib asyncio):

- direct: wrk c=1 and c=64 to the mock, the stream client at c=1 and c=32 (20 chunks each);
- Sluice, one worker on core 0, plan `full_flat` (the `full` path, priced per request, since the
  mock's model has no price): the same four points;
- Sluice, two workers on both cores: wrk c=64, and the CPU each request cost its workers.

Everything but the gateway runs on core 1, as in the rest of the run. The mock's own build (cargo,
offline) happens on first use; without ../shared/bench the phase is skipped and says so.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PORT_MOCK = 9203
MOCK_MODEL = "bench-model"
PLAN = "full_flat"
CHUNKS = 20


def default_dir(root: Path) -> Path:
    return (root.parent / "shared" / "bench").resolve()


def unavailable(bench_dir: Path) -> str | None:
    for name in ("mock.sh", "stream_bench.py", "mock/Cargo.toml"):
        if not (bench_dir / name).exists():
            return f"{bench_dir / name} not found"
    return None


@dataclass(frozen=True)
class Tools:
    """What the phase uses of benchmarks/run.py (which runs as __main__, so it is handed over)."""

    cpu_window: Callable[[dict[str, int]], Any]
    wait_http: Callable[..., None]
    error: type[Exception]
    sluice_entry: str
    gateway_port: int
    server_core: str
    load_core: str


class WireSpeed:
    def __init__(self, bench: Any, tools: Tools, bench_dir: Path, seconds: float) -> None:
        self.bench = bench
        self.tools = tools
        self.dir = bench_dir
        self.seconds = seconds
        self.env = {**os.environ, "MOCK_PORT": str(PORT_MOCK), "MOCK_CPUS": "1", "MOCK_CHUNKS": str(CHUNKS)}

    # -- the mock -----------------------------------------------------------------------------

    def _mock(self, action: str) -> str:
        done = subprocess.run(
            ["bash", str(self.dir / "mock.sh"), action], env=self.env, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            raise self.tools.error(f"mock.sh {action} failed: {done.stderr.strip()[-2000:]}")
        return done.stdout.strip()

    # -- clients ------------------------------------------------------------------------------

    def streams(self, name: str, url: str, prefix: str, key: str, concurrency: int, track: dict[str, int]) -> dict:
        argv = [
            "taskset", "-c", self.tools.load_core, "python3", str(self.dir / "stream_bench.py"), "--url", url,
            "--prefix", prefix, "--key", key, "--model", MOCK_MODEL, "-c", str(concurrency),
            "-d", f"{self.seconds:g}", "--warmup", "1", "--expect-chunks", str(CHUNKS), "--json",
        ]  # fmt: skip
        with self.tools.cpu_window(dict(track)) as cpu:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=self.seconds + 120)
        self.bench.raw(f"wire-{name}").write_text(" ".join(argv) + "\n" + done.stdout + done.stderr)
        data = json.loads(done.stdout.strip().splitlines()[-1])
        result = {
            "concurrency": concurrency,
            "streams_per_s": round(data["rps"], 1),
            "ok": data["ok"],
            "errors": data["errors"],
            "first_error": data.get("first_error"),
            "ttfb_p50_ms": data["ttfb_ms"]["p50"],
            "ttfb_p99_ms": data["ttfb_ms"]["p99"],
            "total_p50_ms": data["total_ms"]["p50"],
            "total_p99_ms": data["total_ms"]["p99"],
            "cpu_pct": cpu.result(),
        }
        print(
            f"  wire {name}: {result['streams_per_s']:.0f} streams/s, TTFB p50 {result['ttfb_p50_ms']:.3f} ms, "
            f"errors {result['errors']}",
            flush=True,
        )
        return result

    def points(self, label: str, port: int, path: str, prefix: str, key: str, track: dict[str, int]) -> dict:
        b = self.bench
        b.run_wrk(f"wire-{label}-warmup", port, 32, 2, key=key, path=path, model=MOCK_MODEL, track=track)
        out = {}
        for connections in (1, 64):
            out[f"c{connections}"] = b.measure(
                f"wire-{label}-c{connections}", port, connections, self.seconds,
                key=key, path=path, model=MOCK_MODEL, track=track,
            )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        for concurrency in (1, 32):
            out[f"streams_c{concurrency}"] = self.streams(
                f"{label}-s{concurrency}", url, prefix, key, concurrency, track
            )
        return out

    # -- the phase ----------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        t, b = self.tools, self.bench
        print("wire speed: the compiled mock of ../shared/bench (building it on first use)", flush=True)
        mock_pid = int(self._mock("start").splitlines()[-1])
        try:
            out: dict[str, Any] = {"mock_dir": str(self.dir), "plan": PLAN, "chunks": CHUNKS}
            direct_track = {"mock": mock_pid}
            out["direct"] = self.points("direct", PORT_MOCK, "/api/v1/chat/completions", "/api/v1", "", direct_track)
            b.cli("accounts", "create", f"{PLAN}@bench.local", "--plan", PLAN)
            key = b.cli("keys", "create", f"{PLAN}@bench.local", "--name", "bench").splitlines()[-1]
            b.cli("credits", "grant", f"{PLAN}@bench.local", "1000000")
            for workers, core in ((1, t.server_core), (2, f"{t.server_core},{t.load_core}")):
                env = {**b.sluice_env(PORT_MOCK), "SLUICE_WORKERS": str(workers)}
                name = f"gateway-wire-{workers}w"
                argv = [b.python, "-c", t.sluice_entry, "serve"]
                server = b.procs.start(name, argv, core=core, env=env, log_path=b.raw(name))
                port = t.gateway_port
                try:
                    t.wait_http(f"http://127.0.0.1:{port}/readyz", server, 90)
                    track = {"server": server.pid, "mock": mock_pid}
                    for i, child in enumerate(_children(server.pid)):
                        track[f"worker{i + 1}"] = child
                    if workers == 1:
                        out["sluice"] = self.points("sluice", port, "/v1/chat/completions", "/v1", key, track)
                    else:
                        b.run_wrk("wire-2w-warmup", port, 32, 2, key=key, model=MOCK_MODEL, track=track)
                        run = b.measure("wire-2w-c64", port, 64, self.seconds, key=key, model=MOCK_MODEL, track=track)
                        out["two_workers"] = {"c64": run, "workers": [k for k in track if k.startswith("worker")]}
                finally:
                    b.procs.stop(server)
            out["mock_stats"] = self._stats()
            return out
        finally:
            self._mock("stop")

    def _stats(self) -> Any:
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT_MOCK}/__mock/stats", timeout=5) as reply:
                return json.loads(reply.read())
        except OSError as exc:
            return {"error": str(exc)}


def _children(pid: int) -> list[int]:
    """The worker processes of a supervisor (and the taskset it runs under, which execs in place)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


# ---- figures ---------------------------------------------------------------------------------------


def verdicts(wire: dict[str, Any], targets: dict[str, float]) -> dict[str, Any]:
    d, s = wire["direct"], wire["sluice"]
    out: dict[str, Any] = {}
    out["wire_rps_c64"] = _v(s["c64"]["rps"], s["c64"]["rps"] >= targets["rps_c64"])
    o50 = round(s["c1"]["p50_ms"] - d["c1"]["p50_ms"], 3)
    o99 = round(s["c1"]["p99_ms"] - d["c1"]["p99_ms"], 3)
    out["wire_overhead_p50_ms"] = _v(o50, o50 <= targets["overhead_p50_ms"])
    out["wire_overhead_p99_ms"] = _v(o99, o99 <= targets["overhead_p99_ms"])
    tail = round(s["c64"]["p99_ms"] / max(1e-9, s["c64"]["p50_ms"]), 2)
    out["wire_tail_ratio"] = _v(tail, tail <= targets["tail_ratio"])
    ttfb = round(s["streams_c1"]["ttfb_p50_ms"] - d["streams_c1"]["ttfb_p50_ms"], 3)
    out["wire_ttfb_added_ms"] = _v(ttfb, ttfb <= targets["ttfb_added_ms"])
    for c in (1, 32):
        share = round(100 * s[f"streams_c{c}"]["streams_per_s"] / max(1e-9, d[f"streams_c{c}"]["streams_per_s"]), 1)
        out[f"wire_streams_c{c}_pct"] = _v(share, share >= targets["stream_share_pct"])
    two = wire.get("two_workers")
    if two:
        ratio = round(two["c64"]["rps"] / max(1e-9, s["c64"]["rps"]), 2)
        out["wire_two_workers"] = _v(ratio, ratio >= targets["two_workers"])
    return out


def _v(measured: float, met: bool) -> dict[str, Any]:
    return {"measured": measured, "met": met}


def cpu_per_request(run: dict[str, Any], names: list[str]) -> float:
    cpu = sum(run["cpu_pct"].get(n, 0.0) for n in names)
    return round(cpu / 100 * 1e6 / max(1.0, run["rps"]), 0)


def markdown(wire: dict[str, Any]) -> list[str]:
    d, s = wire["direct"], wire["sluice"]

    def row(label: str, key: str, field: str, digits: int = 3, added: bool = True) -> str:
        a, b = d[key][field], s[key][field]
        extra = f"+{b - a:.{digits}f}" if added else f"{100 * b / max(1e-9, a):.0f}% of direct"
        return f"| {label} | {a:,.{digits}f} | {b:,.{digits}f} | {extra} |"

    lines = [
        f"**Wire speed: the compiled mock of `../shared/bench` as the upstream** (plan `{wire['plan']}`: the full "
        f"path, priced per request; {wire['chunks']} chunks a stream; the harness's stream client):",
        "",
        "| point | direct to the mock | Sluice, one worker | added / share |",
        "|---|---|---|---|",
        row("non-stream c=1 p50 (ms)", "c1", "p50_ms"),
        row("non-stream c=1 p99 (ms)", "c1", "p99_ms"),
        row("non-stream c=64 req/s", "c64", "rps", 0, added=False),
        row("non-stream c=64 p50 (ms)", "c64", "p50_ms"),
        row("non-stream c=64 p99 (ms)", "c64", "p99_ms"),
        row("stream c=1 TTFB p50 (ms)", "streams_c1", "ttfb_p50_ms"),
        row("stream c=1 TTFB p99 (ms)", "streams_c1", "ttfb_p99_ms"),
        row("streams/s c=1", "streams_c1", "streams_per_s", 0, added=False),
        row("streams/s c=32", "streams_c32", "streams_per_s", 0, added=False),
        row("stream c=32 TTFB p50 (ms)", "streams_c32", "ttfb_p50_ms"),
        f"| server CPU per request at c=64 (µs) |  | {cpu_per_request(s['c64'], ['server']):,.0f} |  |",
        f"| stream errors (c=1 / c=32) | {d['streams_c1']['errors']} / {d['streams_c32']['errors']} "
        f"| {s['streams_c1']['errors']} / {s['streams_c32']['errors']} |  |",
    ]
    two = wire.get("two_workers")
    if two:
        run = two["c64"]
        lines.append(
            f"| two workers on two cores, c=64 req/s | | {run['rps']:,.0f} | "
            f"{run['rps'] / max(1e-9, s['c64']['rps']):.2f}x one worker, "
            f"{cpu_per_request(run, two['workers']):,.0f} µs of worker CPU a request |"
        )
    return lines
