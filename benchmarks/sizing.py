"""Sizing: requests per second per core on the `full` plan, with one and with two worker processes.

``.venv/bin/python benchmarks/sizing.py [--quick]`` (about 2 minutes; ``--quick``: 3 s runs, a smoke test).

The pieces are benchmarks/run.py's (processes stopped by pid, wrk with exact percentiles, the CPU
accounting of every process and core, the repeat of disturbed runs, the sluice CLI); only the shape
differs. For each worker count a fresh `sluice serve` (``SLUICE_WORKERS``) with its own account on
plan `full` (Redis limit, daily spend cap, prepaid credits, usage records) is warmed up and then
loaded at c=64 and c=128. What a deployment is sized by is the gateway's CPU per request, so next to
the throughput the table gives the gateway's CPU (supervisor and workers together, in cores) and
requests per second per core of it, and what Postgres and Redis spent per request.

- 1 worker: the gateway on core 0, the fake upstream and wrk on core 1 (as in run.py).
- 2 workers: the gateway on cores 0 and 1, and the fake upstream and wrk on the same two cores:
  a two-core machine has no third core for the load, so this run shows what two workers get out of
  two shared cores, and its per-core figure is the one to size by.

Postgres at 127.0.0.1:5432 (database ``sluice_bench_sizing``, dropped and re-created) and Redis
(``--redis-url``, default database 12; nothing is flushed: every run has accounts and keys of its
own, so no counter is shared). Results: ``benchmarks/results/sizing-<stamp>.json`` and ``.md``; wrk's
output and the server logs beside them as ``sizing-<stamp>-*.raw`` (not committed). A full run (not
``--quick``, not ``--no-docs``) also rewrites the sizing block of docs/operations.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import run as bench  # benchmarks/run.py, on sys.path as this script's directory

OPERATIONS = bench.ROOT / "docs" / "operations.md"
DOCS_BEGIN = "<!-- sizing:begin (written by benchmarks/sizing.py; edit the script, not this block) -->"
DOCS_END = "<!-- sizing:end -->"
PORT_FAKE = 9211  # not run.py's, so that a sizing run next to it fails on nothing but the CPU
PORT_GATEWAY = 8291
CONNECTIONS = (64, 128)
SHAPES = (
    {"workers": 1, "server_cores": "0", "load_cores": "1"},
    {"workers": 2, "server_cores": "0,1", "load_cores": "0,1"},
)


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (read from /proc/*/stat: this kernel has no /proc/*/children)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


class ConnectionPeaks:
    """The most Postgres connections (application_name "sluice", this database) and Redis clients
    (on the URL's database) open at once while a run lasts, sampled every 100 ms in a thread."""

    def __init__(self, pg_url: str, database: str, redis_url: str) -> None:
        self._pg_url, self._database, self._redis_url = pg_url, database, redis_url
        self.postgres = 0
        self.redis = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._sample()), daemon=True)

    async def _sample(self) -> None:
        import asyncpg
        import redis

        connection = await asyncpg.connect(self._pg_url)
        client = redis.Redis.from_url(self._redis_url)
        db = client.connection_pool.connection_kwargs.get("db", 0)
        try:
            while not self._stop.is_set():
                count = await connection.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sluice' AND datname = $1",
                    self._database,
                )
                self.postgres = max(self.postgres, int(count))
                # less this sampler's own connection
                self.redis = max(self.redis, sum(str(c.get("db")) == str(db) for c in client.client_list()) - 1)
                await asyncio.sleep(0.1)
        finally:
            await connection.close()
            client.close()

    def __enter__(self) -> ConnectionPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class Sizing(bench.Bench):
    def raw(self, name: str) -> Path:
        return bench.RESULTS / f"sizing-{self.stamp}-{name}.raw"

    def sluice_env(self, upstream_port: int, workers: int = 1) -> dict[str, str]:
        env = super().sluice_env(upstream_port)
        env.update(SLUICE_PORT=str(PORT_GATEWAY), SLUICE_WORKERS=str(workers), SLUICE_LOG_LEVEL="warning")
        return env

    def preflight_sizing(self) -> dict[str, Any]:
        problems = [
            f"port {port} in use (an earlier run still up? stop it by its pid)"
            for port in (PORT_FAKE, PORT_GATEWAY)
            if not bench.port_free(port)
        ]
        if (os.cpu_count() or 1) < 2:
            problems.append("needs at least 2 cores")
        if problems:
            raise bench.BenchError("cannot run:\n  - " + "\n  - ".join(problems))
        pg_version = asyncio.run(bench._recreate_database(self.args.pg_admin_url, self.args.database))
        return {
            "python_loop_ref_ms": bench._python_speed_ref(),
            "cpu_model": bench._cpu_model(),
            "cores": os.cpu_count(),
            "kernel": bench.platform.release(),
            "python": bench.platform.python_version(),
            "postgres": pg_version.split(" on ")[0],
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        }

    def start_fake(self) -> bench.Proc:
        argv = [self.python, "-m", "tests.fakes.upstream", "--host", "127.0.0.1", "--port", str(PORT_FAKE)]
        fake = self.procs.start("fake", argv, core=bench.LOAD_CORE, env=dict(os.environ), log_path=self.raw("fake"))
        bench.wait_http(f"http://127.0.0.1:{PORT_FAKE}/api/v1/models", fake, 30)
        return fake

    def start_server(self, workers: int, cores: str) -> tuple[bench.Proc, list[int]]:
        """The gateway and the pids of its worker processes (itself, with one worker)."""
        proc = self.procs.start(
            f"gateway-w{workers}",
            [self.python, "-c", bench.SLUICE_ENTRY, "serve"],
            core=cores,
            env=self.sluice_env(PORT_FAKE, workers),
            log_path=self.raw(f"gateway-w{workers}"),
        )
        bench.wait_http(f"http://127.0.0.1:{PORT_GATEWAY}/healthz", proc, 90)
        if workers == 1:
            return proc, [proc.pid]
        deadline = time.monotonic() + 60
        while True:  # every worker up (a healthz answer says only that one is)
            found = [pid for pid in _children(proc.pid) if "spawn_main" in _cmdline(pid)]
            if len(found) >= workers and all(self._answers() for _ in range(2 * workers)):
                return proc, found
            if time.monotonic() > deadline:
                raise bench.BenchError(f"{workers} workers did not all start:\n{proc.tail()}")
            time.sleep(0.5)

    @staticmethod
    def _answers() -> bool:
        try:
            with bench.urllib.request.urlopen(f"http://127.0.0.1:{PORT_GATEWAY}/healthz", timeout=2) as response:
                return response.status == 200
        except (bench.urllib.error.URLError, OSError):
            return False

    def shape(self, fake: bench.Proc, workers: int, server_cores: str, load_cores: str) -> dict[str, Any]:
        email = f"full-w{workers}@sizing.local"
        self.cli("accounts", "create", email, "--plan", bench.FULL_PATH_PLAN)
        key = self.cli("keys", "create", email, "--name", "sizing").splitlines()[-1]
        self.cli("credits", "grant", email, "1000000")
        os.sched_setaffinity(fake.pid, {int(c) for c in load_cores.split(",")})
        bench.log(f"{workers} worker(s) on core(s) {server_cores}; fake upstream and wrk on {load_cores}")
        server, worker_pids = self.start_server(workers, server_cores)
        track = {"server": server.pid, "fake": fake.pid}
        track |= {f"worker{i}": pid for i, pid in enumerate(worker_pids) if pid != server.pid}
        out: dict[str, Any] = {
            "workers": workers,
            "server_cores": server_cores,
            "load_cores": load_cores,
            "code": bench._code_fingerprint(),
        }
        try:
            warm = self.run_wrk(f"w{workers}-warmup", PORT_GATEWAY, 32, self.warmup, key=key, core=load_cores)
            sent = warm["requests"]
            cut = 32  # requests in flight when a wrk run stops counting: answered, recorded, not counted
            for connections in CONNECTIONS:
                peaks = ConnectionPeaks(bench._plain_pg_url(self.db_url), self.args.database, self.args.redis_url)
                with peaks:
                    result = self.measure(
                        f"w{workers}-c{connections}",
                        PORT_GATEWAY,
                        connections,
                        self.d_load,
                        key=key,
                        track=track,
                        core=load_cores,
                    )
                result["sizing"] = _per_core(result, track)
                result["sizing"] |= {"postgres_connections_peak": peaks.postgres, "redis_clients_peak": peaks.redis}
                out[f"c{connections}"] = result
                sent += result["all_attempts_requests"]
                cut += connections * result["attempts"]
                if not server.alive():
                    raise bench.BenchError(f"the gateway died at c={connections}:\n{server.tail()}")
        finally:
            self.procs.stop(server)  # graceful: settlements drain, leases go back, the usage buffer flushes
        counts = asyncio.run(bench._ledger_counts(bench._plain_pg_url(self.db_url))).get(email, {})
        out["ledger"] = {"requests_answered": sent, "uncounted_at_most": cut, **counts}
        return out

    def run(self) -> dict[str, Any]:
        began = time.monotonic()
        bench.RESULTS.mkdir(parents=True, exist_ok=True)
        machine = self.preflight_sizing()
        self.results = {"stamp": self.stamp, "quick": self.args.quick, "machine": machine, "git": bench._git_state()}
        try:
            with bench.contextlib.suppress(OSError):
                os.sched_setaffinity(0, {int(bench.LOAD_CORE)})
            self.cli("migrate")
            fake = self.start_fake()
            self.results["shapes"] = [self.shape(fake, **shape) for shape in SHAPES]
        finally:
            self.procs.stop_all()
        self.results["elapsed_s"] = round(time.monotonic() - began, 1)
        return self.results


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _per_core(result: dict[str, Any], track: dict[str, int]) -> dict[str, Any]:
    cpu = result["cpu_pct"]
    gateway = sum(cpu.get(name, 0.0) for name in track if name == "server" or name.startswith("worker"))
    backends = cpu.get("postgres", 0.0) + cpu.get("redis", 0.0)
    return {
        "gateway_cores": round(gateway / 100, 2),
        "rps_per_gateway_core": round(result["rps"] / (gateway / 100)) if gateway else None,
        "gateway_cpu_us_per_request": round(gateway / 100 / result["rps"] * 1e6) if result["rps"] else None,
        "backends_cpu_us_per_request": round(backends / 100 / result["rps"] * 1e6) if result["rps"] else None,
        "postgres_redis_pct": round(backends, 1),
        "load_pct": round(cpu.get("fake", 0.0) + cpu.get("wrk", 0.0), 1),
        "other_pct": cpu.get("other", 0.0),
    }


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"Sizing run `{results['stamp']}`{' (--quick)' if results['quick'] else ''}: {machine['cpu_model']}, "
        f"{machine['cores']} cores, kernel {machine['kernel']}, Python {machine['python']}, {machine['postgres']}; "
        f"load average at start {' / '.join(machine['loadavg_at_start'])}. Plan `full` (Redis limit, daily spend cap, "
        "prepaid credits, usage records), one small non-streaming chat completion per request, keep-alive.",
        "",
        "| workers | gateway on | fake + wrk on | wrk connections | req/s | p50 / p99 (ms) | errors "
        "| gateway CPU (cores) | **req/s per gateway core** | gateway CPU per request (µs) "
        "| Postgres + Redis CPU per request (µs) | Postgres connections / Redis clients (peak) "
        "| other processes (% of a core) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for shape in results["shapes"]:
        for connections in CONNECTIONS:
            run = shape[f"c{connections}"]
            size = run["sizing"]
            lines.append(
                f"| {shape['workers']} | core {shape['server_cores']} | core {shape['load_cores']} | {connections} "
                f"| {run['rps']:,.0f} | {run['p50_ms']:.1f} / {run['p99_ms']:.1f} "
                f"| {run['non_2xx'] + run['socket_errors']} | {size['gateway_cores']:.2f} "
                f"| **{bench.fmt(size['rps_per_gateway_core'], 0)}** "
                f"| {bench.fmt(size['gateway_cpu_us_per_request'], 0)} "
                f"| {bench.fmt(size['backends_cpu_us_per_request'], 0)} "
                f"| {size['postgres_connections_peak']} / {size['redis_clients_peak']} | {size['other_pct']:.0f} |"
            )
    lines += ["", "Ledger read back after each gateway stopped:", ""]
    for shape in results["shapes"]:
        ledger = shape["ledger"]
        rows, answered = ledger.get("usage_rows", 0), ledger["requests_answered"]
        lines.append(
            f"- {shape['workers']} worker(s): wrk counted {answered:,} answers (warm-up and repeats included), "
            f"the database holds {rows:,} usage records ({rows - answered:+,}; up to {ledger['uncounted_at_most']:,} "
            f"were in flight when a wrk run stopped counting) and {ledger.get('credit_entries', 0):,} credit "
            "entries (the leases)"
        )
    codes = sorted({shape["code"] for shape in results["shapes"]})
    lines += ["", f"Sluice code measured: `{'`, `'.join(codes)}`."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 s runs: a smoke test, not figures")
    parser.add_argument("--no-docs", action="store_true", help="leave the sizing block of docs/operations.md alone")
    parser.add_argument("--no-request-log", action="store_true", help="SLUICE_ACCESS_LOG=0 (default: request log on)")
    parser.add_argument("--max-other-cpu", type=float, default=25.0, help="repeat a run disturbed more (%% of a core)")
    parser.add_argument("--retries", type=int, default=2)
    parser.add_argument("--retry-budget", type=float, default=60.0)
    parser.add_argument("--database", default="sluice_bench_sizing", help="dropped and re-created at every run")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="not flushed")
    args = parser.parse_args()
    args.pg_admin_url = f"postgresql://postgres@{args.pg_host}:{args.pg_port}/postgres"
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    sizing = Sizing(args, stamp)

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        results = sizing.run()
    except bench.BenchError as exc:
        bench.log(f"FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        sizing.procs.stop_all()
        bench.log("interrupted")
        return 130
    table = markdown(results)
    (bench.RESULTS / f"sizing-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    (bench.RESULTS / f"sizing-{stamp}.md").write_text(table + "\n")
    print(table)
    if not args.quick and not args.no_docs:
        text = OPERATIONS.read_text()
        begin, end = text.find(DOCS_BEGIN), text.find(DOCS_END)
        if 0 <= begin < end:
            block = f"Results file: `benchmarks/results/sizing-{stamp}.json`.\n\n{table}\n"
            OPERATIONS.write_text(text[: begin + len(DOCS_BEGIN)] + "\n" + block + text[end:])
            bench.log("updated the sizing block of docs/operations.md")
    bench.log(f"done in {results['elapsed_s']} s; results/sizing-{stamp}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
