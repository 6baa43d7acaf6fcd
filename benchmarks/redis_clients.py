"""Rate decisions per second through each Redis client we could serve them with (run by hand).

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/redis_clients.py [--url redis://127.0.0.1:6379/14] [--seconds 3] [--repeats 3]

Every client runs the decision the gateway makes per request: one EVALSHA of
`infrastructure/limits/gcra.lua` with two checks (a key's and its account's limit), spread over
1,000 subjects so most calls write. Each measurement is a fresh process pinned to one core
(`taskset -c 0`) on uvloop, as `sluice serve` runs, with 1 or 64 callers looping on `acquire`.
Redis is whatever the URL names (the machine's own here), so the figures include its own time.
"""

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from domain.rate_policy import LimitCheck  # noqa: E402
from infrastructure.limits.redis import _GCRA_LUA, _decisions, _script_args  # noqa: E402

CLIENTS = ["resp-pipeline", "redis-py+hiredis", "redis-py", "valkey-glide", "coredis"]
SUBJECTS = 1000

Acquire = Callable[[list[LimitCheck]], Awaitable[object]]


def _checks(prefix: str, subject: int) -> list[LimitCheck]:
    return [
        LimitCheck(f"rate:key:{subject}:chat", 1_000_000, 60.0),
        LimitCheck(f"rate:account:{subject}:chat", 5_000_000, 3600.0),
    ]


async def _client(name: str, url: str, prefix: str) -> tuple[Acquire, Callable[[], Awaitable[None]]]:
    """An acquire(checks) over the named client, and its close()."""
    sha = hashlib.sha1(_GCRA_LUA.encode()).hexdigest()
    parsed = urlparse(url)
    host, port, db = parsed.hostname or "127.0.0.1", parsed.port or 6379, int(parsed.path.lstrip("/") or 0)
    if name == "resp-pipeline":
        from infrastructure.limits.redis import PipelinedRedisRateLimiter
        from infrastructure.limits.resp import RespPipeline

        pipeline = RespPipeline(url)
        limiter = PipelinedRedisRateLimiter(pipeline, prefix=prefix)
        return limiter.acquire, pipeline.aclose
    if name.startswith("redis-py"):
        from redis.asyncio import BlockingConnectionPool, Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        from infrastructure.limits.redis import RedisRateLimiter

        if name == "redis-py+hiredis":
            from redis._parsers import _AsyncHiredisParser as parser
        else:
            from redis._parsers import _AsyncRESP2Parser as parser
        # The options of infrastructure.limits.redis.redis_client, with the parser chosen here.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=64,
            timeout=1.0,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
            health_check_interval=30,
            retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
            parser_class=parser,
        )
        client = Redis.from_pool(pool)
        limiter = RedisRateLimiter(client, prefix=prefix)
        return limiter.acquire, client.aclose
    if name == "valkey-glide":
        from glide import GlideClient, GlideClientConfiguration, NodeAddress, Script

        config = GlideClientConfiguration([NodeAddress(host, port)], database_id=db, request_timeout=1000)
        glide = await GlideClient.create(config)
        script = Script(_GCRA_LUA)

        async def glide_acquire(checks: list[LimitCheck]) -> object:
            keys, args = _script_args(prefix, checks)
            return _decisions(checks, await glide.invoke_script(script, keys=keys, args=[str(a) for a in args]))

        return glide_acquire, glide.close
    if name == "coredis":
        import coredis

        core = coredis.Redis(host, port, db=db, stream_timeout=1.0, connect_timeout=1.0)
        await core.__aenter__()

        async def coredis_acquire(checks: list[LimitCheck]) -> object:
            keys, args = _script_args(prefix, checks)
            return _decisions(checks, await core.evalsha(sha, keys=keys, args=args))

        async def coredis_close() -> None:
            await core.__aexit__(None, None, None)

        return coredis_acquire, coredis_close
    raise ValueError(name)


async def _measure(name: str, url: str, concurrency: int, seconds: float) -> float:
    prefix = f"bench:{secrets.token_hex(4)}:"
    acquire, close = await _client(name, url, prefix)
    done = 0
    measuring = False
    stop = False

    async def caller(index: int) -> None:
        nonlocal done
        subject = index
        while not stop:
            await acquire(_checks(prefix, subject % SUBJECTS))
            subject += concurrency
            if measuring:
                done += 1

    try:
        # Load the script (EVAL on NOSCRIPT) for the clients that do not SCRIPT LOAD themselves.
        from redis.asyncio import Redis

        admin = Redis.from_url(url)
        await admin.script_load(_GCRA_LUA)
        tasks = [asyncio.create_task(caller(i)) for i in range(concurrency)]
        await asyncio.sleep(0.5)
        measuring, started = True, time.perf_counter()
        await asyncio.sleep(seconds)
        measuring, elapsed = False, time.perf_counter() - started
        stop = True
        await asyncio.gather(*tasks)
        keys = [key async for key in admin.scan_iter(match=prefix + "*", count=1000)]
        for i in range(0, len(keys), 500):
            await admin.delete(*keys[i : i + 500])
        await admin.aclose()
    finally:
        await close()
    return done / elapsed


def _one(args: argparse.Namespace) -> None:
    import uvloop

    rate = uvloop.run(_measure(args.one, args.url, args.concurrency, args.seconds))
    print(json.dumps({"rate": rate}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _one(args)
        return
    rows = []
    for name in args.clients.split(","):
        row = [name]
        for concurrency in (1, 64):
            rates = []
            for _ in range(args.repeats):
                command = ["taskset", "-c", "0", sys.executable, __file__, "--url", args.url]
                command += ["--seconds", str(args.seconds), "--one", name, "--concurrency", str(concurrency)]
                out = subprocess.run(command, check=True, capture_output=True, text=True, env=os.environ).stdout
                rates.append(json.loads(out.strip().splitlines()[-1])["rate"])
            row.append(f"{statistics.median(rates):,.0f} ({', '.join(f'{r:,.0f}' for r in rates)})")
            print(name, concurrency, [round(r) for r in rates], flush=True)
        rows.append(row)
    print("\n| client | decisions/s, 1 caller: median (runs) | decisions/s, 64 callers: median (runs) |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
