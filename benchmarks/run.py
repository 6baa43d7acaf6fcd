"""Sluice's speed benchmarks, one command: ``.venv/bin/python benchmarks/run.py [--quick]``.

Against the fake upstream (tests/fakes/upstream), with Postgres and Redis, on a machine of two or
more cores: the server under test on core 0, the fake upstream, wrk and the stream client on core 1.

1. wrk -> fake upstream directly: c=1 latency and c=64 throughput (the floor, and proof that the
   fake and wrk are not the bottleneck);
2. for each plan (unlimited, metered, prepaid, full): a fresh gateway process, warm-up, then
   c=1 (latency and overhead over the direct c=1), c=32 and c=64 (throughput, latency, errors);
   afterwards the ledger is checked in Postgres (usage rows and credit entries per request);
3. 1,000 concurrent streams through the gateway (plan `full`) with a slow fake upstream
   (20 chunks, 500 ms apart), the gateway's RSS polled throughout;
4. LiteLLM proxy (pinned version, own venv in benchmarks/.venv-litellm, created when absent)
   against the same fake: the same c=1 / c=32 / c=64 runs and the same 1,000 streams;
5. py-spy profiles at c=64 and c=1 after the measured runs (plan `full` and LiteLLM by default,
   ``--profile all|none``);
6. JSON and a markdown table in benchmarks/results/ (``<stamp>.json``, ``<stamp>.md``,
   ``latest.json``, ``latest.md``), and the results block of docs/benchmarks.md rewritten (full runs
   only; ``--no-docs`` to skip); wrk's own output and server logs beside them as ``*.raw``.

A wrk run during which other processes took more than 25% of a core is repeated (``--retries``,
``--retry-budget``); the least disturbed attempt is kept.

Everything this script starts it stops again (by pid). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wire_speed

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"
LUA = BENCH / "lua" / "chat.lua"
PLANS_TOML = BENCH / "plans.toml"
STREAMS = BENCH / "streams.py"
LITELLM_VENV = BENCH / ".venv-litellm"
LITELLM_VERSION = "1.106.2"

SERVER_CORE = "0"
LOAD_CORE = "1"
PORT_FAKE = 9201
PORT_FAKE_SLOW = 9202
PORT_GATEWAY = 8281
PORT_LITELLM = 8290

MODEL = "qwen/qwen3-32b"
PEPPER = "sluice-benchmark-pepper-0123456789"
LITELLM_MASTER_KEY = "sk-bench-master-0123456789"
PLANS = ("unlimited", "metered", "prepaid", "full")
FULL_PATH_PLAN = "full"
PLAN_WHAT = {
    "unlimited": "auth + ledger (usage record); no limit, no cap, no balance",
    "metered": "auth + Redis GCRA limit + daily spend cap (Redis counter) + ledger",
    "prepaid": "auth + prepaid credits (reserve, settle) + ledger",
    "full": "auth + Redis limit + spend cap + prepaid credits + ledger",
}
# Issue 9's targets (the earlier ones: 2,000 req/s, under 1 / 5 ms added; 1,000 streams under 300 MB).
TARGETS = {
    "rps_c64": 3000,
    "overhead_p50_ms": 0.5,
    "overhead_p99_ms": 2.0,
    "tail_ratio": 3.0,  # c=64 p99 at most this many times p50
    "ttfb_added_ms": 0.6,  # a stream's first byte, c=1
    "stream_share_pct": 80.0,  # streams/s through Sluice, of direct
    "two_workers": 1.8,  # two workers' c=64 throughput, of one
    "streams": 1000,
    "stream_rss_mb": 300,
}

# `sluice serve` and the admin commands, through the same function the `sluice` console script calls.
# Started as `python -c` so that a broad `pkill -f "sluice serve"` by someone else on a shared machine
# does not take the server under test down in the middle of a run.
SLUICE_ENTRY = "import sys; from interfaces.cli.main import main; sys.exit(main(sys.argv[1:]))"

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    pass


# ---- processes --------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Procs:
    """Every long-running process this run starts; stopped by pid, never by name."""

    def __init__(self) -> None:
        self._all: list[Proc] = []

    def start(self, name: str, argv: list[str], *, core: str, env: dict[str, str], log_path: Path) -> Proc:
        handle = log_path.open("wb")
        popen = subprocess.Popen(
            ["taskset", "-c", core, *argv],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        proc = Proc(name, popen, log_path)
        self._all.append(proc)
        return proc

    def stop(self, proc: Proc, timeout: float = 15.0) -> None:
        if proc.alive():
            with contextlib.suppress(ProcessLookupError):
                proc.popen.send_signal(signal.SIGTERM)
            try:
                proc.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(5)
        if proc in self._all:
            self._all.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self._all)):
            self.stop(proc, timeout=10.0)


def wait_http(url: str, proc: Proc, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise BenchError(f"{proc.name} exited during start-up:\n{proc.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise BenchError(f"{proc.name} did not answer {url} within {timeout:.0f} s:\n{proc.tail()}")


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (kB) of a process."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return out


# ---- CPU accounting ---------------------------------------------------------------------------


def _pid_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # after the ")": state is fields[0]; utime, stime are fields 14, 15 of stat (1-based) -> 11, 12 here
    return int(fields[11]) + int(fields[12])


def _sched(pid: int) -> tuple[int, int] | None:
    """(ns spent waiting on a run queue, involuntary context switches) of a process's main thread."""
    try:
        with open(f"/proc/{pid}/schedstat") as handle:
            wait_ns = int(handle.read().split()[1])
        with open(f"/proc/{pid}/status") as handle:
            preempted = next(int(line.split()[1]) for line in handle if line.startswith("nonvoluntary_ctxt_switches"))
    except (OSError, StopIteration, IndexError, ValueError):
        return None
    return wait_ns, preempted


def _pids_by_comm(names: tuple[str, ...]) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as handle:
                if handle.read().strip() in names:
                    pids.append(int(entry))
        except OSError:
            continue
    return pids


def _cpu_ticks() -> dict[str, tuple[int, int]]:
    """Busy and total ticks per CPU."""
    out = {}
    with open("/proc/stat") as handle:
        for line in handle:
            if line.startswith("cpu") and line[3].isdigit():
                name, *values = line.split()
                numbers = [int(v) for v in values[:8]]
                idle = numbers[3] + numbers[4]
                out[name] = (sum(numbers) - idle, sum(numbers))
    return out


class CpuWindow:
    """CPU used during a window, in % of one core: per tracked process, Postgres, Redis, and per core."""

    def __init__(self, tracked: dict[str, int]) -> None:
        self.tracked = tracked

    def _snapshot(self) -> dict[str, Any]:
        groups = {
            "postgres": _pids_by_comm(("postgres",)),
            "redis": _pids_by_comm(("redis-server",)),
        }
        per_pid = {}
        for pid in {p for pids in groups.values() for p in pids} | set(self.tracked.values()):
            ticks = _pid_ticks(pid)
            if ticks is not None:
                per_pid[pid] = ticks
        server = self.tracked.get("server")
        return {
            "t": time.monotonic(),
            "cpus": _cpu_ticks(),
            "pids": per_pid,
            "groups": groups,
            "server_sched": _sched(server) if server else None,
        }

    def __enter__(self) -> CpuWindow:
        self.start = self._snapshot()
        return self

    def __exit__(self, *exc: object) -> None:
        self.end = self._snapshot()

    def extra_pid(self, name: str, pid: int) -> None:
        self.tracked[name] = pid

    def result(self) -> dict[str, float]:
        seconds = self.end["t"] - self.start["t"]
        pct = {}

        def used(pids: list[int]) -> float:
            ticks = 0
            for pid in pids:
                if pid in self.start["pids"] and pid in self.end["pids"]:
                    ticks += self.end["pids"][pid] - self.start["pids"][pid]
                elif pid in self.end["pids"]:  # started inside the window
                    ticks += self.end["pids"][pid]
            return round(100.0 * ticks / CLK_TCK / seconds, 1)

        for name, pid in self.tracked.items():
            pct[name] = used([pid])
        for group in ("postgres", "redis"):
            pct[group] = used(sorted(set(self.start["groups"][group]) | set(self.end["groups"][group])))
        busy_all = 0.0
        for cpu, (busy, total) in self.end["cpus"].items():
            b0, t0 = self.start["cpus"].get(cpu, (busy, total))
            share = 100.0 * (busy - b0) / max(1, total - t0)
            pct[f"{cpu}_busy"] = round(share, 1)
            busy_all += share
        pct["other"] = round(max(0.0, busy_all - sum(v for k, v in pct.items() if not k.endswith("_busy"))), 1)
        a, b = self.start.get("server_sched"), self.end.get("server_sched")
        if a and b:
            # Time the server was runnable but another task had its core, and how often it was preempted.
            pct["server_runqueue_wait_ms"] = round((b[0] - a[0]) / 1e6, 1)
            pct["server_preempted"] = b[1] - a[1]
        return pct


# ---- wrk --------------------------------------------------------------------------------------

_BENCH_JSON = re.compile(r"^BENCH_JSON (\{.*\})\s*$", re.M)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s*(\d+)")


class Runner:
    def __init__(self, args: argparse.Namespace, stamp: str) -> None:
        self.args = args
        self.stamp = stamp
        self.procs = Procs()
        self.wrk = shutil.which("wrk") or "wrk"

    def raw(self, name: str) -> Path:
        return RESULTS / f"{self.stamp}-{name}.raw"

    def run_wrk(
        self,
        name: str,
        port: int,
        connections: int,
        seconds: float,
        *,
        key: str = "",
        path: str = "/v1/chat/completions",
        model: str = MODEL,
        track: dict[str, int] | None = None,
        core: str = LOAD_CORE,
    ) -> dict[str, Any]:
        env = {**os.environ, "BENCH_KEY": key, "BENCH_PATH": path, "BENCH_MODEL": model}
        argv = [
            "taskset", "-c", core, self.wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s",
            "--latency", "--timeout", "10s", "-s", str(LUA), f"http://127.0.0.1:{port}",
        ]  # fmt: skip
        with CpuWindow(dict(track or {})) as cpu:
            popen = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
            cpu.extra_pid("wrk", popen.pid)
            assert popen.stdout is not None
            out = popen.stdout.read()  # until wrk exits; it is reaped only after the window closes
        popen.wait(timeout=60)
        text = out.decode(errors="replace")
        self.raw(name).write_text(" ".join(argv) + "\n" + text)
        match = _BENCH_JSON.search(text)
        if popen.returncode != 0 or match is None:
            raise BenchError(f"wrk {name} failed (exit {popen.returncode}):\n{text[-2000:]}")
        data = json.loads(match.group(1))
        non2xx = _NON_2XX.search(text)
        seconds_run = data["duration_us"] / 1e6
        socket_errors = sum(data[k] for k in ("err_connect", "err_read", "err_write", "err_timeout"))
        result = {
            "connections": connections,
            "seconds": round(seconds_run, 2),
            "requests": data["requests"],
            "rps": round(data["requests"] / seconds_run, 1),
            "p50_ms": data["p50_us"] / 1000,
            "p90_ms": data["p90_us"] / 1000,
            "p99_ms": data["p99_us"] / 1000,
            "p99_9_ms": data["p99_9_us"] / 1000,
            "mean_ms": round(data["lat_mean_us"] / 1000, 3),
            "max_ms": data["lat_max_us"] / 1000,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": socket_errors,
            "cpu_pct": cpu.result(),
        }
        log(
            f"  {name}: {result['rps']:.0f} req/s, p50 {result['p50_ms']:.3f} ms, p99 {result['p99_ms']:.3f} ms, "
            f"non-2xx {result['non_2xx']}, socket errors {socket_errors}, cpu {result['cpu_pct']}"
        )
        return result


# ---- Postgres, Redis, the sluice CLI -----------------------------------------------------------


async def _recreate_database(admin_url: str, name: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
        return str(await connection.fetchval("SELECT version()"))
    finally:
        await connection.close()


async def _ledger_counts(db_url: str) -> dict[str, dict[str, int]]:
    import asyncpg

    connection = await asyncpg.connect(db_url)
    try:
        out: dict[str, dict[str, int]] = {}
        rows = await connection.fetch(
            "SELECT a.email, a.balance_micros, "
            "(SELECT count(*) FROM usage_records u WHERE u.account_id = a.id) AS usage_rows, "
            "(SELECT count(*) FROM usage_records u WHERE u.account_id = a.id AND u.http_status = 200) AS usage_ok, "
            "(SELECT count(*) FROM credit_entries c WHERE c.account_id = a.id) AS credit_entries "
            "FROM accounts a"
        )
        for row in rows:
            out[row["email"]] = {k: int(row[k]) for k in ("balance_micros", "usage_rows", "usage_ok", "credit_entries")}
        return out
    finally:
        await connection.close()


def _plain_pg_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


# ---- the run ------------------------------------------------------------------------------------


class Bench(Runner):
    def __init__(self, args: argparse.Namespace, stamp: str) -> None:
        super().__init__(args, stamp)
        quick = args.quick
        self.warmup = 1.0 if quick else 3.0
        self.d_c1 = 3.0 if quick else 10.0
        self.d_load = 3.0 if quick else 10.0
        self.d_direct = 3.0 if quick else 5.0
        self.stream_chunks = 10 if quick else 20
        self.stream_delay_ms = 200 if quick else 500
        self.db_url = f"postgresql+asyncpg://postgres@{args.pg_host}:{args.pg_port}/{args.database}"
        self.python = sys.executable
        self.results: dict[str, Any] = {}
        self.keys: dict[str, str] = {}
        self.retry_budget = float(args.retry_budget)

    # -- environment --------------------------------------------------------------------------

    def preflight(self) -> dict[str, Any]:
        problems = []
        if shutil.which("wrk") is None:
            problems.append("wrk is not installed: `apt-get install -y wrk` (or build github.com/wg/wrk)")
        if shutil.which("taskset") is None:
            problems.append("taskset is missing: `apt-get install -y util-linux`")
        cores = os.cpu_count() or 1
        if cores < 2:
            problems.append(f"needs at least 2 cores (server on core 0, load on core 1); this machine has {cores}")
        ports = [PORT_FAKE, PORT_FAKE_SLOW, PORT_GATEWAY] + ([] if self.args.skip_litellm else [PORT_LITELLM])
        ports += [] if self.args.skip_wire else [wire_speed.PORT_MOCK]
        busy = [p for p in ports if not port_free(p)]
        if busy:
            problems.append(f"ports in use: {busy} (an earlier run still up? stop it by its pid)")
        try:
            import redis

            client = redis.Redis.from_url(self.args.redis_url)
            redis_version = client.info("server")["redis_version"]
        except Exception as exc:
            problems.append(f"Redis at {self.args.redis_url} unreachable: {exc}")
            redis_version = None
        if problems:
            raise BenchError("cannot run:\n  - " + "\n  - ".join(problems))
        try:
            pg_version = asyncio.run(_recreate_database(self.args.pg_admin_url, self.args.database))
        except Exception as exc:
            raise BenchError(f"Postgres at {self.args.pg_admin_url} unusable: {exc}") from exc
        client.flushdb()
        wrk_version = subprocess.run([self.wrk, "-v"], capture_output=True, text=True).stdout.splitlines()
        # keep the server core free of this script's own wake-ups
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {int(LOAD_CORE)})
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 8192 <= hard or (hard == resource.RLIM_INFINITY and soft < 8192):
            resource.setrlimit(resource.RLIMIT_NOFILE, (8192, hard))
        return {
            "python_loop_ref_ms": _python_speed_ref(),
            "cpu_model": _cpu_model(),
            "cores": cores,
            "kernel": platform.release(),
            "memory_mb": _mem_total_mb(),
            "python": platform.python_version(),
            "wrk": wrk_version[0] if wrk_version else "?",
            "postgres": pg_version.split(" on ")[0],
            "redis": redis_version,
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
            "nofile_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        }

    def sluice_env(self, upstream_port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
        env.update(
            SLUICE_DATABASE_URL=self.db_url,
            SLUICE_REDIS_URL=self.args.redis_url,
            SLUICE_KEY_PEPPER=PEPPER,
            SLUICE_UPSTREAM_URL=f"http://127.0.0.1:{upstream_port}/api/v1",
            SLUICE_HOST="127.0.0.1",
            SLUICE_PORT=str(PORT_GATEWAY),
            SLUICE_CONFIG=str(PLANS_TOML),
            SLUICE_WORKERS="1",
            SLUICE_AUTO_MIGRATE="0",
            SLUICE_DATA_DIR=str(RESULTS / ".sluice-data"),
            # The request log is on by default (one JSON line a request); measured both ways.
            SLUICE_ACCESS_LOG="0" if self.args.no_request_log else "1",
        )
        return env

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [self.python, "-c", SLUICE_ENTRY, *args],
            cwd=ROOT,
            env=self.sluice_env(PORT_FAKE),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise BenchError(f"sluice {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def setup_accounts(self) -> None:
        log("database: migrate, accounts, keys, credits")
        self.cli("migrate")
        for plan in PLANS:
            self.cli("accounts", "create", f"{plan}@bench.local", "--plan", plan)
        for plan in PLANS:
            self.keys[plan] = self.cli("keys", "create", f"{plan}@bench.local", "--name", "bench").splitlines()[-1]
        for plan in ("prepaid", "full"):
            self.cli("credits", "grant", f"{plan}@bench.local", "1000000")

    def start_fakes(self) -> tuple[Proc, Proc]:
        argv = [self.python, "-m", "tests.fakes.upstream", "--host", "127.0.0.1"]
        fast = self.procs.start(
            "fake", [*argv, "--port", str(PORT_FAKE)], core=LOAD_CORE, env=dict(os.environ), log_path=self.raw("fake")
        )
        slow = self.procs.start(
            "fake-slow",
            [
                *argv, "--port", str(PORT_FAKE_SLOW),
                "--chunks", str(self.stream_chunks), "--chunk-delay-ms", str(self.stream_delay_ms),
            ],
            core=LOAD_CORE,
            env=dict(os.environ),
            log_path=self.raw("fake-slow"),
        )  # fmt: skip
        for proc, port in ((fast, PORT_FAKE), (slow, PORT_FAKE_SLOW)):
            wait_http(f"http://127.0.0.1:{port}/api/v1/models", proc, 30)
        return fast, slow

    def start_gateway(self, name: str, upstream_port: int) -> Proc:
        proc = self.procs.start(
            name,
            [self.python, "-c", SLUICE_ENTRY, "serve"],
            core=SERVER_CORE,
            env=self.sluice_env(upstream_port),
            log_path=self.raw(name),
        )
        wait_http(f"http://127.0.0.1:{PORT_GATEWAY}/healthz", proc, 60)
        return proc

    # -- phases -------------------------------------------------------------------------------

    def measure(self, name: str, port: int, connections: int, seconds: float, **kw: Any) -> dict[str, Any]:
        """A wrk run, repeated (up to --retries times) while other processes take a visible share of the CPU.

        The run with the least outside CPU is kept; the disturbed ones are listed beside it.
        """
        attempts = []
        for attempt in range(1 + self.args.retries):
            result = self.run_wrk(name if attempt == 0 else f"{name}-retry{attempt}", port, connections, seconds, **kw)
            attempts.append(result)
            other = result["cpu_pct"]["other"]
            if other <= self.args.max_other_cpu:
                break
            log(f"  disturbed: other processes took {other:.0f}% of a core (limit {self.args.max_other_cpu:g}%)")
            if self.retry_budget < seconds:
                log("  no retry budget left (--retry-budget): keeping it, marked as disturbed")
                break
            self.retry_budget -= seconds
        best = min(attempts, key=lambda r: r["cpu_pct"]["other"])
        best["attempts"] = len(attempts)
        best["all_attempts_requests"] = sum(r["requests"] for r in attempts)
        best["disturbed_attempts"] = [
            {k: r[k] for k in ("rps", "p50_ms", "p99_ms")} | {"other_cpu_pct": r["cpu_pct"]["other"]}
            for r in attempts
            if r is not best
        ]
        return best

    def direct(self, fake: Proc) -> dict[str, Any]:
        log("direct: wrk -> fake upstream")
        track = {"fake": fake.pid}
        self.run_wrk("direct-warmup", PORT_FAKE, 16, 1, track=track)
        return {
            "c1": self.measure("direct-c1", PORT_FAKE, 1, self.d_direct, track=track),
            "c64": self.measure("direct-c64", PORT_FAKE, 64, self.d_direct, track=track),
            # For reference only: the same call from the other core. On a VM an idle vCPU has to be
            # woken for every message that crosses cores, and the gateway's path crosses twice each
            # way (wrk -> gateway -> fake and back), which the same-core baseline does not pay.
            "c1_cross_core": self.measure(
                "direct-c1-cross-core", PORT_FAKE, 1, self.d_direct, track=track, core=SERVER_CORE
            ),
        }

    def load_series(self, name: str, server: Proc, port: int, key: str, fake: Proc) -> dict[str, Any]:
        track = {"server": server.pid, "fake": fake.pid}
        out: dict[str, Any] = {"code": _code_fingerprint()} if name.startswith("sluice") else {}
        warm = self.run_wrk(f"{name}-warmup", port, 32, self.warmup, key=key, track=track)
        out["warmup_non_2xx"] = warm["non_2xx"]
        out["rss_kb_after_warmup"] = proc_status(server.pid).get("VmRSS")
        sent = warm["requests"]
        for connections, seconds in ((1, self.d_c1), (32, self.d_load), (64, self.d_load)):
            result = self.measure(f"{name}-c{connections}", port, connections, seconds, key=key, track=track)
            out[f"c{connections}"] = result
            sent += result["all_attempts_requests"]
            if not server.alive():
                raise BenchError(f"{server.name} died during c={connections}:\n{server.tail()}")
        out["rss_kb_after_load"] = proc_status(server.pid).get("VmRSS")
        if self.args.profile == "all" or (
            self.args.profile == "full" and name in (f"sluice-{FULL_PATH_PLAN}", "litellm")
        ):
            out["profile"] = self.profile(name, server, port, key, 64)
            out["profile_c1"] = self.profile(name, server, port, key, 1)
            sent += out["profile"].get("requests", 0) + out["profile_c1"].get("requests", 0)
        out["requests_answered_incl_warmup"] = sent
        return out

    def profile(self, name: str, server: Proc, port: int, key: str, connections: int) -> dict[str, Any]:
        py_spy = self.args.py_spy
        if not py_spy or not Path(py_spy).exists():
            log(f"  profile skipped: py-spy not found at {py_spy!r}")
            return {"skipped": "py-spy not found"}
        out_path = self.raw(f"{name}-c{connections}-profile")
        env = {**os.environ, "BENCH_KEY": key}
        target = f"http://127.0.0.1:{port}"
        load = subprocess.Popen(
            ["taskset", "-c", LOAD_CORE, self.wrk, "-t1", f"-c{connections}", "-d9s", "-s", str(LUA), target],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.5)
        subprocess.run(
            [
                "taskset", "-c", LOAD_CORE, py_spy, "record", "-p", str(server.pid), "-d", "6", "-r", "250",
                "-f", "raw", "-o", str(out_path), "--gil", "--nonblocking",
            ],
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        wrk_out, _ = load.communicate(timeout=30)
        summary = summarize_profile(out_path)
        match = _BENCH_JSON.search(wrk_out.decode(errors="replace"))
        summary["requests"] = json.loads(match.group(1))["requests"] if match else 0
        log(f"  profile {name} c={connections}: {summary.get('samples')} samples -> {out_path.name}")
        return summary

    def streams(self, fake_slow: Proc) -> dict[str, Any]:
        log(f"streams: 1,000 at once through the gateway (plan {FULL_PATH_PLAN}) from the slow fake")
        server = self.start_gateway("gateway-streams", PORT_FAKE_SLOW)
        try:
            return self._streams(
                server, PORT_GATEWAY, self.keys[FULL_PATH_PLAN], MODEL, fake_slow, warm_model=MODEL, warm_knobs=True
            )
        finally:
            self.procs.stop(server)

    def _streams(
        self, server: Proc, port: int, key: str, model: str, fake: Proc, *, warm_model: str, warm_knobs: bool
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"rss_kb_started": proc_status(server.pid).get("VmRSS")}
        # Warm-up: a few short streams (the slow fake's knobs overridden per request where the
        # server forwards unknown fields), then idle.
        warm = self.stream_client(
            port, key, warm_model, 20, knobs='{"chunks": 2, "chunk_delay_ms": 0}' if warm_knobs else ""
        )
        out["warmup_ok"] = warm.get("ok")
        time.sleep(2.0)
        out["rss_kb_idle"] = proc_status(server.pid).get("VmRSS")
        samples: list[int] = []
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        argv = [
            "taskset", "-c", LOAD_CORE, self.python, str(STREAMS), "--url", url, "--key", key, "-n",
            str(self.args.streams), "--model", model, "--min-frames", str(self.stream_chunks), "--timeout", "120",
        ]  # fmt: skip
        with CpuWindow({"server": server.pid, "fake": fake.pid}) as cpu:
            client = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            cpu.extra_pid("client", client.pid)
            # Poll until the client exits, without reaping it (so its CPU time can still be read).
            while os.waitid(os.P_PID, client.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                rss = proc_status(server.pid).get("VmRSS")
                if rss:
                    samples.append(rss)
                time.sleep(0.05)
        stdout, stderr = client.communicate()
        try:
            result = json.loads(stdout.decode().strip().splitlines()[-1])
        except (ValueError, IndexError) as exc:
            raise BenchError(f"stream client failed: {stderr.decode()[-2000:]}") from exc
        time.sleep(2.0)
        status = proc_status(server.pid)
        out.update(
            client=result,
            rss_kb_peak_sampled=max(samples) if samples else None,
            rss_kb_hwm=status.get("VmHWM"),
            rss_kb_after=status.get("VmRSS"),
            rss_samples=len(samples),
            cpu_pct=cpu.result(),
            server_alive=server.alive(),
        )
        log(
            f"  streams: ok {result['ok']}/{result['requested']}, failed {result['failed']}, peak open "
            f"{result['peak_open']}, idle RSS {out['rss_kb_idle']} kB, peak RSS {out['rss_kb_peak_sampled']} kB "
            f"(HWM {out['rss_kb_hwm']} kB), wall {result['wall_s']} s"
        )
        return out

    def stream_client(self, port: int, key: str, model: str, n: int, knobs: str = "") -> dict[str, Any]:
        argv = [
            "taskset", "-c", LOAD_CORE, self.python, str(STREAMS), "--url",
            f"http://127.0.0.1:{port}/v1/chat/completions", "--key", key, "-n", str(n), "--model", model,
            "--timeout", "60",
        ] + (["--fake-knobs", knobs] if knobs else [])  # fmt: skip
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, timeout=120)
        try:
            return json.loads(done.stdout.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"error": done.stderr.decode()[-500:]}

    def plan_runs(self, fake: Proc) -> dict[str, Any]:
        out = {}
        for plan in self.args.plans:
            log(f"plan {plan}: {PLAN_WHAT[plan]}")
            server = self.start_gateway(f"gateway-{plan}", PORT_FAKE)
            try:
                result = self.load_series(f"sluice-{plan}", server, PORT_GATEWAY, self.keys[plan], fake)
            finally:
                self.procs.stop(server)  # graceful: settlements drain and the usage buffer flushes
            result["what"] = PLAN_WHAT[plan]
            result["ledger"] = {"requests_answered": result.pop("requests_answered_incl_warmup")}
            out[plan] = result
        counts = asyncio.run(_ledger_counts(_plain_pg_url(self.db_url)))
        for plan, result in out.items():
            result["ledger"].update(counts.get(f"{plan}@bench.local", {}))
        return out

    # -- LiteLLM ------------------------------------------------------------------------------

    def litellm_python(self) -> Path:
        python = LITELLM_VENV / "bin" / "python"
        version = None
        if python.exists():
            probe = subprocess.run(
                [str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
                capture_output=True,
                text=True,
            )
            version = probe.stdout.strip() if probe.returncode == 0 else None
        if version != LITELLM_VERSION:
            log(f"LiteLLM: installing litellm[proxy]=={LITELLM_VERSION} into {LITELLM_VENV} (takes a few minutes)")
            if not python.exists():
                subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", f"litellm[proxy]=={LITELLM_VERSION}"], check=True
            )
        return python

    def litellm(self, fake: Proc, fake_slow: Proc) -> dict[str, Any]:
        python = self.litellm_python()
        config = RESULTS / f"{self.stamp}-litellm-config.yaml.raw"
        config.write_text(
            "model_list:\n"
            f"  - model_name: {MODEL}\n"
            "    litellm_params:\n"
            f"      model: openai/{MODEL}\n"
            f"      api_base: http://127.0.0.1:{PORT_FAKE}/v1\n"
            "      api_key: sk-fake-upstream\n"
            f"  - model_name: {MODEL}-slow\n"
            "    litellm_params:\n"
            f"      model: openai/{MODEL}\n"
            f"      api_base: http://127.0.0.1:{PORT_FAKE_SLOW}/v1\n"
            "      api_key: sk-fake-upstream\n"
            "general_settings:\n"
            f"  master_key: {LITELLM_MASTER_KEY}\n"
        )
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLUICE_", "LITELLM_", "DATABASE_URL", "REDIS_", "OPENAI_"))
        }
        # Documented settings: the bundled model cost map instead of fetching it from GitHub at
        # start (this machine has no internet), and errors-only logging (no per-request log line).
        env.update(LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_LOG="ERROR")
        log(f"LiteLLM {LITELLM_VERSION}: one worker, master key, no database")
        litellm_bin = LITELLM_VENV / "bin" / "litellm"
        argv = [str(python), str(litellm_bin), "--config", str(config), "--host", "127.0.0.1"]
        argv += ["--port", str(PORT_LITELLM), "--num_workers", "1"]
        out: dict[str, Any] = {
            "version": LITELLM_VERSION,
            "env": {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"},
        }
        server = self.procs.start("litellm", argv, core=SERVER_CORE, env=env, log_path=self.raw("litellm"))
        started = time.monotonic()
        try:
            wait_http(f"http://127.0.0.1:{PORT_LITELLM}/health/liveliness", server, 180)
            out["startup_s"] = round(time.monotonic() - started, 1)
            out.update(self.load_series("litellm", server, PORT_LITELLM, LITELLM_MASTER_KEY, fake))
            if not self.args.skip_litellm_streams:
                log("LiteLLM streams: 1,000 at once from the slow fake")
                out["streams"] = self._streams(
                    server, PORT_LITELLM, LITELLM_MASTER_KEY, f"{MODEL}-slow", fake_slow,
                    warm_model=MODEL, warm_knobs=False,
                )  # fmt: skip
        finally:
            self.procs.stop(server)
        return out

    # -- wire speed: the compiled mock ---------------------------------------------------------

    def wire(self) -> dict[str, Any]:
        if self.args.skip_wire:
            return {"skipped": "--skip-wire"}
        bench_dir = Path(self.args.shared_bench)
        reason = wire_speed.unavailable(bench_dir)
        if reason is not None:
            log(f"wire speed skipped: {reason} (--shared-bench DIR)")
            return {"skipped": reason}
        tools = wire_speed.Tools(
            cpu_window=CpuWindow, wait_http=wait_http, error=BenchError, sluice_entry=SLUICE_ENTRY,
            gateway_port=PORT_GATEWAY, server_core=SERVER_CORE, load_core=LOAD_CORE,
        )  # fmt: skip
        return wire_speed.WireSpeed(self, tools, bench_dir, self.d_load).run()

    # -- all ----------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        began = time.monotonic()
        RESULTS.mkdir(parents=True, exist_ok=True)
        machine = self.preflight()
        log(f"machine: {machine['cpu_model']}, {machine['cores']} cores, kernel {machine['kernel']}")
        self.results = {
            "stamp": self.stamp,
            "quick": self.args.quick,
            "machine": machine,
            "git": _git_state(),
            "method": {
                "server_core": SERVER_CORE,
                "load_core": LOAD_CORE,
                "warmup_s": self.warmup,
                "c1_s": self.d_c1,
                "load_s": self.d_load,
                "direct_s": self.d_direct,
                "streams": self.args.streams,
                "max_other_cpu": self.args.max_other_cpu,
                "stream_chunks": self.stream_chunks,
                "stream_chunk_delay_ms": self.stream_delay_ms,
                "model": MODEL,
                "wrk": "wrk -t1 -cN --latency --timeout 10s -s benchmarks/lua/chat.lua",
            },
            "targets": TARGETS,
        }
        try:
            fake, fake_slow = self.start_fakes()
            self.results["direct"] = self.direct(fake)
            self.setup_accounts()
            self.results["plans"] = self.plan_runs(fake)
            self.results["streams"] = self.streams(fake_slow)
            self.results["wire"] = self.wire()
            if not self.args.skip_litellm:
                self.results["litellm"] = self.litellm(fake, fake_slow)
        finally:
            self.procs.stop_all()
        self.results["elapsed_s"] = round(time.monotonic() - began, 1)
        self.results["git_at_end"] = _git_state()
        return self.results


# ---- helpers ------------------------------------------------------------------------------------


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def _python_speed_ref() -> float:
    """Milliseconds for a fixed pure-Python loop on the load core: a yardstick to compare machines."""
    import timeit

    timer = timeit.Timer("for i in range(1_000_000): x = i * 2")
    return round(min(timer.repeat(repeat=5, number=1)) * 1000, 1)


def _mem_total_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 0


def _code_fingerprint() -> str:
    """HEAD plus a hash of the uncommitted changes under src/: tells whether every server ran the same code."""
    import hashlib

    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    diff = subprocess.run(["git", "diff", "HEAD", "--", "src"], cwd=ROOT, capture_output=True)
    untracked = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", "--", "src"], cwd=ROOT, capture_output=True
    )
    dirty = diff.stdout + untracked.stdout
    return head.stdout.strip() + ("+" + hashlib.sha256(dirty).hexdigest()[:8] if dirty.strip() else "")


def _git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    status = git("status", "--porcelain", "--", "src")
    return {"commit": git("rev-parse", "HEAD"), "src_modified": bool(status), "src_status": status.splitlines()}


# Each sample is charged to the component of its innermost frame that belongs to one (standard
# library frames are charged to their caller): a Redis reply parsed for a Litestar handler counts as
# Redis, Sluice's own code between framework calls counts as Sluice.
PROFILE_COMPONENTS = (
    ("Redis client (redis-py or Sluice's RESP pipeline)", ("redis/", "limits/redis", "limits/resp")),
    ("Postgres (SQLAlchemy, asyncpg)", ("sqlalchemy/", "asyncpg/", "advanced_alchemy/", "persistence/")),
    ("upstream client (our pool, httpx, aiohttp, openai)", ("httpx/", "aiohttp/", "openai/", "upstream/")),
    (
        "HTTP server and framework (uvicorn, Litestar/FastAPI, dishka)",
        ("uvicorn/", "litestar/", "dishka/", "<dishka", "fastapi/", "starlette/", "h11/", "httptools/"),
    ),
    ("Sluice application, domain, interfaces", ("application/", "domain/", "interfaces/", "infrastructure/")),
    ("LiteLLM's own code (litellm/, pydantic)", ("litellm/", "pydantic/", "pydantic_core/")),
)


def _component(frames: list[str]) -> str:
    for frame in reversed(frames):
        where = frame.rsplit("(", 1)[-1]
        for name, patterns in PROFILE_COMPONENTS:
            if any(where.startswith(p) or f"/{p}" in where for p in patterns):
                return name
    return "event loop, stdlib, other"


def summarize_profile(path: Path, top: int = 60) -> dict[str, Any]:
    """py-spy raw (collapsed) stacks -> shares by component, by library (self time), and by function."""
    if not path.exists():
        return {"samples": 0}
    total = 0
    inclusive: dict[str, int] = {}
    components: dict[str, int] = {}
    libraries: dict[str, int] = {}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
        name = _component(frames)
        components[name] = components.get(name, 0) + n
        leaf = frames[-1].rsplit("(", 1)[-1]
        library = leaf.split("/")[0] if "/" in leaf else "(stdlib or C)"
        libraries[library] = libraries.get(library, 0) + n

    def shares(counts: dict[str, int], limit: int) -> list[dict[str, Any]]:
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]
        return [{"pct": round(100 * n / max(1, total), 1), "name": k} for k, n in ranked]

    return {
        "samples": total,
        "file": path.name,
        "by_component": shares(components, 10),
        "self_by_library": shares(libraries, 15),
        "top_inclusive": shares(inclusive, top),
    }


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def markdown(results: dict[str, Any]) -> str:
    """The results table (and the direct baseline) as markdown."""
    direct = results["direct"]
    plans = results.get("plans", {})
    lite = results.get("litellm")
    d1, d64, dx = direct["c1"], direct["c64"], direct.get("c1_cross_core")
    machine = results["machine"]
    names = list(plans)
    lines = [
        f"Run `{results['stamp']}`{' (--quick)' if results['quick'] else ''}: {machine['cpu_model']}, "
        f"{machine['cores']} cores, kernel {machine['kernel']}.",
        "",
        "**Baseline, wrk → fake upstream directly** (wrk and the fake both on core 1): "
        f"c=1 p50 {d1['p50_ms']:.3f} ms, p99 {d1['p99_ms']:.3f} ms ({d1['rps']:,.0f} req/s); "
        f"c=64 {d64['rps']:,.0f} req/s (p50 {d64['p50_ms']:.2f} ms, p99 {d64['p99_ms']:.2f} ms), fake at "
        f"{d64['cpu_pct'].get('fake', 0):.0f}% of a core, wrk {d64['cpu_pct'].get('wrk', 0):.0f}%."
        + (
            f" The same c=1 call from the other core (wrk on core 0): p50 {dx['p50_ms']:.3f} ms, "
            f"p99 {dx['p99_ms']:.3f} ms."
            if dx
            else ""
        ),
        "",
    ]
    codes = sorted({p["code"] for p in plans.values() if p.get("code")})
    lines += [f"Sluice code measured: `{'`, `'.join(codes)}` (commit, + hash of uncommitted changes under src/)."]
    if len(codes) > 1:
        lines += ["**Warning: src/ changed during the run; the plans were not all measured on the same code.**"]
    disturbed = [
        f"{label} c={c[1:]}"
        for label, series in [*((f"Sluice {n}", plans[n]) for n in names), *((("LiteLLM", lite),) if lite else ())]
        for c in ("c1", "c32", "c64")
        if series[c]["cpu_pct"].get("other", 0) > results["method"].get("max_other_cpu", 25)
    ]
    if disturbed:
        lines += [f"**Disturbed by other processes even after retries: {', '.join(disturbed)}.**"]
    lines.append("")
    header = ["measurement", "target", *[f"Sluice `{n}`" for n in names]]
    if lite:
        header += [f"LiteLLM {lite['version']}", f"Sluice `{FULL_PATH_PLAN}` vs LiteLLM"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))

    def row(label: str, target: str, getter: Any, digits: int = 2, ratio: str | None = None) -> None:
        cells = [label, target]
        for name in names:
            cells.append(fmt(getter(plans[name]), digits))
        if lite:
            lv = getter(lite)
            cells.append(fmt(lv, digits))
            sv = getter(plans[FULL_PATH_PLAN]) if FULL_PATH_PLAN in plans else None
            if ratio and lv and sv:
                cells.append(f"{sv / lv:,.1f}x more" if ratio == "higher" else f"{lv / sv:,.1f}x less")
            else:
                cells.append("")
        lines.append("| " + " | ".join(cells) + " |")

    def overhead(series: dict[str, Any], q: str) -> float:
        return series["c1"][f"{q}_ms"] - d1[f"{q}_ms"]

    row("c=1 p50 latency (ms)", "", lambda s: s["c1"]["p50_ms"], 3, "lower")
    row("c=1 p99 latency (ms)", "", lambda s: s["c1"]["p99_ms"], 3, "lower")
    row("**added at c=1, p50 (ms)**", f"≤ {TARGETS['overhead_p50_ms']:g}", lambda s: overhead(s, "p50"), 3, "lower")
    row("**added at c=1, p99 (ms)**", f"≤ {TARGETS['overhead_p99_ms']:g}", lambda s: overhead(s, "p99"), 3, "lower")
    if dx:
        row("added at c=1 over the cross-core call, p50 / p99 (ms)", "", lambda s: None, 0)
        lines[-1] = _overhead_pair_row(lines[-1], names, plans, lite, dx)
    row("c=32 throughput (req/s)", "", lambda s: s["c32"]["rps"], 0, "higher")
    row("c=32 p50 / p99 (ms)", "", lambda s: None, 0)
    lines[-1] = _latency_pair_row(lines[-1], names, plans, lite, "c32")
    row("**c=64 throughput (req/s)**", f"≥ {TARGETS['rps_c64']:,}", lambda s: s["c64"]["rps"], 0, "higher")
    row("c=64 p50 / p99 (ms)", "", lambda s: None, 0)
    lines[-1] = _latency_pair_row(lines[-1], names, plans, lite, "c64")
    row(
        "non-2xx + socket errors (c=1/32/64)",
        "0",
        lambda s: sum(s[c]["non_2xx"] + s[c]["socket_errors"] for c in ("c1", "c32", "c64")),
        0,
    )
    row("server CPU at c=64 (% of its core)", "", lambda s: s["c64"]["cpu_pct"].get("server"), 0)
    row("server CPU per request at c=1 (µs)", "", lambda s: _cpu_per_request(s["c1"]), 0, "lower")
    row("server CPU per request at c=64 (µs)", "", lambda s: _cpu_per_request(s["c64"]), 0, "lower")
    row("fake upstream CPU at c=64 (% of a core)", "", lambda s: s["c64"]["cpu_pct"].get("fake"), 0)
    row("Postgres + Redis CPU at c=64 (% of a core)", "", lambda s: _db_cpu(s["c64"]), 0)
    row("other processes' CPU at c=64 (% of a core)", "", lambda s: s["c64"]["cpu_pct"].get("other"), 0)
    row(
        "c=1: server waiting for its core (ms in the run)",
        "",
        lambda s: s["c1"]["cpu_pct"].get("server_runqueue_wait_ms"),
        0,
    )
    row("server RSS after load (MB)", "", lambda s: (s.get("rss_kb_after_load") or 0) / 1024, 0, "lower")
    lines.append("")

    st = results.get("streams")
    if st:
        ls = lite.get("streams") if lite else None
        lines += [
            f"**{results['method']['streams']:,} concurrent streams** ({results['method']['stream_chunks']} chunks, "
            f"{results['method']['stream_chunk_delay_ms']} ms apart, from the fake), Sluice plan `{FULL_PATH_PLAN}`"
            + (f" and LiteLLM {lite['version']}:" if ls else ":"),
            "",
            "| measurement | target | Sluice | " + ("LiteLLM | Sluice vs LiteLLM |" if ls else ""),
            "|---|---|---|" + ("---|---|" if ls else ""),
        ]

        def srow(label: str, target: str, getter: Any, digits: int = 0, ratio: str | None = None) -> None:
            sv = getter(st)
            cells = [label, target, fmt(sv, digits)]
            if ls:
                lv = getter(ls)
                cells.append(fmt(lv, digits))
                if ratio and sv and lv:
                    cells.append(f"{sv / lv:,.1f}x more" if ratio == "higher" else f"{lv / sv:,.1f}x less")
                else:
                    cells.append("")
            lines.append("| " + " | ".join(cells) + " |")

        srow("completed with [DONE] and every chunk", f"{TARGETS['streams']:,}", lambda s: s["client"]["ok"])
        srow("failed (by reason)", "0", lambda s: sum(s["client"]["failed"].values()))
        srow("open at the same time (peak)", f"{TARGETS['streams']:,}", lambda s: s["client"]["peak_open"])
        srow("idle RSS (MB)", "", lambda s: (s["rss_kb_idle"] or 0) / 1024, 0, "lower")
        srow(
            "**peak RSS (MB)**",
            f"< {TARGETS['stream_rss_mb']}",
            lambda s: max(s["rss_kb_peak_sampled"] or 0, s["rss_kb_hwm"] or 0) / 1024,
            0,
            "lower",
        )
        srow("time to headers p50 / max (s)", "", lambda s: None)
        lines[-1] = _stream_pair_row(lines[-1], st, ls)
        srow("last stream done after (s)", "", lambda s: s["client"]["wall_s"], 1)
        lines.append("")

    wire = results.get("wire") or {}
    if "sluice" in wire:
        lines += [*wire_speed.markdown(wire), ""]
    elif wire.get("skipped"):
        lines += [f"Wire-speed phase (the compiled mock) skipped: {wire['skipped']}.", ""]

    for key, label in (("profile", "c=64"), ("profile_c1", "c=1")):
        lines += _profile_table(plans, lite, key, label)
    return "\n".join(lines)


def _profile_table(plans: dict[str, Any], lite: Any, key: str, label: str) -> list[str]:
    lines: list[str] = []
    profiled = {n: p[key] for n, p in plans.items() if p.get(key, {}).get("by_component")}
    if lite and lite.get(key, {}).get("by_component"):
        profiled["LiteLLM"] = lite[key]
    if profiled:
        lines += [
            f"**Where the server's CPU goes at {label}** (py-spy --gil, share of samples; stacks in the .raw files):",
            "",
            "| component | " + " | ".join(profiled) + " |",
            "|---|" + "---|" * len(profiled),
        ]
        names_seen: list[str] = []
        for prof in profiled.values():
            for item in prof["by_component"]:
                if item["name"] not in names_seen:
                    names_seen.append(item["name"])
        for component in names_seen:
            cells = [component]
            for prof in profiled.values():
                found = next((i["pct"] for i in prof["by_component"] if i["name"] == component), 0.0)
                cells.append(f"{found:.0f}%")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _cpu_per_request(run: dict[str, Any]) -> float | None:
    server = run["cpu_pct"].get("server")
    return None if not server or not run["rps"] else server / 100 / run["rps"] * 1e6


def _db_cpu(series: dict[str, Any]) -> float:
    cpu = series["cpu_pct"]
    return cpu.get("postgres", 0) + cpu.get("redis", 0)


def _latency_pair_row(line: str, names: list[str], plans: dict[str, Any], lite: Any, key: str) -> str:
    cells = line.strip("| ").split(" | ")
    out = cells[:2]
    for name in names:
        s = plans[name][key]
        out.append(f"{s['p50_ms']:.1f} / {s['p99_ms']:.1f}")
    if lite:
        s = lite[key]
        out += [f"{s['p50_ms']:.1f} / {s['p99_ms']:.1f}", ""]
    return "| " + " | ".join(out) + " |"


def _overhead_pair_row(line: str, names: list[str], plans: dict[str, Any], lite: Any, base: dict[str, Any]) -> str:
    cells = line.strip("| ").split(" | ")
    out = cells[:2]

    def pair(s: dict[str, Any]) -> str:
        return f"{s['c1']['p50_ms'] - base['p50_ms']:.2f} / {s['c1']['p99_ms'] - base['p99_ms']:.2f}"

    out += [pair(plans[n]) for n in names]
    if lite:
        out += [pair(lite), ""]
    return "| " + " | ".join(out) + " |"


def _stream_pair_row(line: str, st: dict[str, Any], ls: Any) -> str:
    cells = line.strip("| ").split(" | ")

    def pair(s: dict[str, Any]) -> str:
        t = s["client"]["ttfb_ms"]
        return f"{fmt((t['p50'] or 0) / 1000, 2)} / {fmt((t['max'] or 0) / 1000, 2)}"

    out = [*cells[:2], pair(st)]
    if ls:
        out += [pair(ls), ""]
    return "| " + " | ".join(out) + " |"


def verdict_table(results: dict[str, Any]) -> str:
    v = results.get("verdicts", {})
    labels = {
        "rps_c64": (f"≥ {TARGETS['rps_c64']:,} req/s at c=64, full path (fake upstream)", "{:,.0f} req/s"),
        "overhead_p50_ms": (f"≤ {TARGETS['overhead_p50_ms']:g} ms added at c=1, p50 (fake)", "{:.2f} ms"),
        "overhead_p99_ms": (f"≤ {TARGETS['overhead_p99_ms']:g} ms added at c=1, p99 (fake)", "{:.2f} ms"),
        "tail_ratio": (f"c=64 p99 ≤ {TARGETS['tail_ratio']:g}x p50 (fake)", "{:.2f}x"),
        "wire_rps_c64": (f"≥ {TARGETS['rps_c64']:,} req/s at c=64 (compiled mock)", "{:,.0f} req/s"),
        "wire_overhead_p50_ms": (f"≤ {TARGETS['overhead_p50_ms']:g} ms added at c=1, p50 (mock)", "{:.2f} ms"),
        "wire_overhead_p99_ms": (f"≤ {TARGETS['overhead_p99_ms']:g} ms added at c=1, p99 (mock)", "{:.2f} ms"),
        "wire_tail_ratio": (f"c=64 p99 ≤ {TARGETS['tail_ratio']:g}x p50 (mock)", "{:.2f}x"),
        "wire_ttfb_added_ms": (f"≤ {TARGETS['ttfb_added_ms']:g} ms added to a stream's first byte, c=1", "{:.2f} ms"),
        "wire_streams_c1_pct": (f"streams/s c=1 ≥ {TARGETS['stream_share_pct']:g}% of direct", "{:.0f}%"),
        "wire_streams_c32_pct": (f"streams/s c=32 ≥ {TARGETS['stream_share_pct']:g}% of direct", "{:.0f}%"),
        "wire_two_workers": (f"two workers ≥ {TARGETS['two_workers']:g}x one (c=64, mock)", "{:.2f}x"),
        "no_errors": ("no non-2xx or socket errors (c=1/32/64)", "{:,}"),
        "streams": (f"{TARGETS['streams']:,} concurrent streams complete", "{:,}"),
        "stream_rss_mb": (f"< {TARGETS['stream_rss_mb']} MB resident with them", "{:.0f} MB peak"),
    }
    lines = [
        f"| target (plan `{FULL_PATH_PLAN}`: auth, limit, spend cap, credits, ledger) | measured | met |",
        "|---|---|---|",
    ]
    for key, (label, pattern) in labels.items():
        if key in v:
            measured = pattern.format(v[key]["measured"])
            if key == "streams":
                measured += f" done, {v[key]['peak_open']:,} open at once"
            lines.append(f"| {label} | {measured} | {'yes' if v[key]['met'] else '**no**'} |")
    return "\n".join(lines)


DOCS = ROOT / "docs" / "benchmarks.md"
DOCS_BEGIN = "<!-- results:begin (written by benchmarks/run.py; edit the runner, not this block) -->"
DOCS_END = "<!-- results:end -->"


def write_docs(block: str) -> bool:
    """Replaces the generated block of docs/benchmarks.md; False when the markers are missing."""
    try:
        text = DOCS.read_text()
    except OSError:
        return False
    begin, end = text.find(DOCS_BEGIN), text.find(DOCS_END)
    if begin < 0 or end < begin:
        return False
    DOCS.write_text(text[: begin + len(DOCS_BEGIN)] + "\n" + block + "\n" + text[end:])
    return True


def verdicts(results: dict[str, Any]) -> dict[str, Any]:
    plans = results.get("plans", {})
    full = plans.get(FULL_PATH_PLAN)
    d1 = results["direct"]["c1"]
    out: dict[str, Any] = {}
    if full:
        out["rps_c64"] = {"measured": full["c64"]["rps"], "met": full["c64"]["rps"] >= TARGETS["rps_c64"]}
        o50 = round(full["c1"]["p50_ms"] - d1["p50_ms"], 3)
        o99 = round(full["c1"]["p99_ms"] - d1["p99_ms"], 3)
        out["overhead_p50_ms"] = {"measured": o50, "met": o50 <= TARGETS["overhead_p50_ms"]}
        out["overhead_p99_ms"] = {"measured": o99, "met": o99 <= TARGETS["overhead_p99_ms"]}
        tail = round(full["c64"]["p99_ms"] / max(1e-9, full["c64"]["p50_ms"]), 2)
        out["tail_ratio"] = {"measured": tail, "met": tail <= TARGETS["tail_ratio"]}
        errors = sum(full[c]["non_2xx"] + full[c]["socket_errors"] for c in ("c1", "c32", "c64"))
        out["no_errors"] = {"measured": errors, "met": errors == 0}
    st = results.get("streams")
    if st:
        peak = max(st["rss_kb_peak_sampled"] or 0, st["rss_kb_hwm"] or 0) / 1024
        ok = st["client"]["ok"]
        out["streams"] = {
            "measured": ok,
            "peak_open": st["client"]["peak_open"],
            "met": ok >= TARGETS["streams"] and st["client"]["peak_open"] >= TARGETS["streams"],
        }
        out["stream_rss_mb"] = {"measured": round(peak, 1), "met": peak < TARGETS["stream_rss_mb"]}
    wire = results.get("wire")
    if wire and "sluice" in wire:
        out.update(wire_speed.verdicts(wire, TARGETS))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 s runs and short streams: a smoke test, not figures")
    parser.add_argument("--plans", nargs="+", choices=PLANS, default=list(PLANS))
    parser.add_argument("--streams", type=int, default=1000, help="concurrent streams (default 1000)")
    parser.add_argument("--skip-litellm", action="store_true")
    parser.add_argument("--no-request-log", action="store_true", help="SLUICE_ACCESS_LOG=0 (default: request log on)")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite the results block of docs/benchmarks.md")
    parser.add_argument(
        "--max-other-cpu",
        type=float,
        default=25.0,
        help="a run during which other processes used more of a core than this (%%) is repeated (default 25)",
    )
    parser.add_argument("--retries", type=int, default=2, help="repeats of a disturbed run (default 2)")
    parser.add_argument(
        "--retry-budget", type=float, default=60.0, help="seconds of repeats allowed in the whole run (default 60)"
    )
    parser.add_argument("--skip-litellm-streams", action="store_true")
    parser.add_argument(
        "--shared-bench",
        default=str(wire_speed.default_dir(ROOT)),
        help="the independent harness whose compiled mock the wire-speed phase uses (default ../shared/bench)",
    )
    parser.add_argument("--skip-wire", action="store_true", help="leave out the wire-speed phase (the compiled mock)")
    parser.add_argument(
        "--profile",
        choices=("none", "full", "all"),
        default="full",
        help="py-spy at c=64 and c=1 after the measured runs (18 s a server): plan full and LiteLLM "
        "(default), every server, or none",
    )
    parser.add_argument(
        "--py-spy", default=os.environ.get("PY_SPY") or shutil.which("py-spy") or "/tmp/probe/bin/py-spy"
    )
    parser.add_argument("--database", default="sluice_bench_run", help="dropped and re-created at every run")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--pg-admin-url", default=None, help="default postgresql://postgres@HOST:PORT/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="this database is flushed")
    args = parser.parse_args()
    if args.pg_admin_url is None:
        args.pg_admin_url = f"postgresql://postgres@{args.pg_host}:{args.pg_port}/postgres"
    if FULL_PATH_PLAN not in args.plans:
        args.plans.append(FULL_PATH_PLAN)  # the streams and the verdicts use it
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    bench = Bench(args, stamp)

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        results = bench.run()
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        bench.procs.stop_all()
        log("interrupted")
        return 130
    results["verdicts"] = verdicts(results)
    table = verdict_table(results) + "\n\n" + markdown(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in (f"{stamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(results, indent=2) + "\n")
    for name in (f"{stamp}.md", "latest.md"):
        (RESULTS / name).write_text(table + "\n")
    print(table)
    if not args.quick and not args.no_docs and not args.skip_litellm and args.plans == list(PLANS):
        if write_docs(f"Results file: `benchmarks/results/{stamp}.json`.\n\n{table}"):
            log(f"updated the results block of {DOCS.relative_to(ROOT)}")
        else:
            log(f"{DOCS.relative_to(ROOT)} has no results markers: not updated")
    log(f"done in {results['elapsed_s']} s; results/{stamp}.json and results/{stamp}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
