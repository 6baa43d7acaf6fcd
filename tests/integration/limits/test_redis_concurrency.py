"""Exactness under contention from several OS processes, each with its own loop and Redis client."""

import asyncio
import multiprocessing
import secrets

import pytest

from domain.rate_policy import LimitCheck
from infrastructure.limits.redis import PipelinedRedisRateLimiter, RedisRateLimiter, redis_client
from infrastructure.limits.resp import RespPipeline

PROCESSES = 4
ACQUIRES_PER_PROCESS = 200
LIMIT = 100
WINDOW = 3600.0
# Fewer connections than concurrent acquires: requests queue for the pool, as in a gateway. Opening
# hundreds of connections at once on a busy machine only tests the connect timeout.
CONNECTIONS_PER_PROCESS = 32


async def _hammer(url: str, prefix: str, barrier, pipelined: bool) -> list[int]:
    client = redis_client(url, max_connections=CONNECTIONS_PER_PROCESS, socket_timeout=10)
    pipeline = RespPipeline(url, timeout=10)
    try:
        limiter = (
            PipelinedRedisRateLimiter(pipeline, prefix=prefix) if pipelined else RedisRateLimiter(client, prefix=prefix)
        )
        check = LimitCheck("shared", LIMIT, WINDOW)
        # Open the connections and load the script before the start signal.
        await asyncio.gather(*(client.ping() for _ in range(CONNECTIONS_PER_PROCESS)))
        await limiter.acquire([LimitCheck("warm-up", LIMIT, WINDOW)])
        await asyncio.to_thread(barrier.wait, 30)
        results = await asyncio.gather(*(limiter.acquire([check]) for _ in range(ACQUIRES_PER_PROCESS)))
        return [decisions[0].remaining for decisions in results if decisions[0].allowed]
    finally:
        await client.aclose()
        await pipeline.aclose()


def _worker(url: str, prefix: str, barrier, results, pipelined: bool) -> None:
    results.put(asyncio.run(_hammer(url, prefix, barrier, pipelined)))


@pytest.mark.parametrize("pipelined", [False, True], ids=["redis-py", "pipelined"])
async def test_several_processes_admit_exactly_the_limit(redis_url: str, pipelined: bool) -> None:
    prefix = f"sluice:test:{secrets.token_hex(6)}:"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(redis_url, prefix, barrier, results, pipelined)) for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    try:
        admitted = [await asyncio.to_thread(results.get, True, 120) for _ in range(PROCESSES)]
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
        client = redis_client(redis_url)
        await client.delete(prefix + "shared", prefix + "warm-up")
        await client.aclose()
    assert all(worker.exitcode == 0 for worker in workers)
    remaining = sorted(r for per_process in admitted for r in per_process)
    assert len(remaining) == LIMIT  # exactly the limit, of 800 attempts
    # Every admission saw a state of its own: remaining counts down 99, 98, ... 0 without repeats.
    assert remaining == list(range(LIMIT))
