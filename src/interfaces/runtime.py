"""The composition root's adapters and their lifecycle, in the one order that loses nothing.

Start: recorder flusher. Stop: wait for settlements in flight, flush usage, then close the
upstream pool, Redis and the database.
"""

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from application.background import BackgroundTasks
from application.credit_leases import LeasedCreditLedger
from application.plan_book import PlanBook
from application.ports.accounts import AccountRepository
from application.ports.api_keys import ApiKeyRepository
from application.ports.rate_limiter import RateLimiter, SpendCounter
from application.ports.upstream import ModelCatalog, Upstream
from application.ports.usage import UsageQueries, UsageRecorder
from application.spend_cache import CachedSpendCounter
from infrastructure.clock import SystemClock
from infrastructure.limits.memory import InProcessRateLimiter, InProcessSpendCounter
from infrastructure.persistence.accounts import SqlAccountRepository
from infrastructure.persistence.api_keys import SqlApiKeyRepository
from infrastructure.persistence.credits import SqlCreditLedger
from infrastructure.persistence.engine import create_engine, session_factory
from infrastructure.persistence.usage import BufferedSqlUsageRecorder, SqlUsageQueries
from infrastructure.telemetry.metered_recorder import MeteredUsageRecorder
from infrastructure.telemetry.model_labels import ModelLabels
from infrastructure.telemetry.prometheus import PrometheusTelemetry
from infrastructure.upstream.catalog import CachedModelCatalog
from infrastructure.upstream.openrouter import OpenRouterUpstream
from interfaces.gateway_config import GatewayConfig, load_config
from interfaces.settings import Settings

log = logging.getLogger("sluice")


@dataclass
class Runtime:
    settings: Settings
    config: GatewayConfig
    plans: PlanBook
    clock: SystemClock
    accounts: AccountRepository
    keys: ApiKeyRepository
    ledger: LeasedCreditLedger
    usage_store: BufferedSqlUsageRecorder
    recorder: UsageRecorder
    usage: UsageQueries
    limiter: RateLimiter
    spend: CachedSpendCounter
    upstream: Upstream
    catalog: ModelCatalog
    telemetry: PrometheusTelemetry
    tasks: BackgroundTasks
    probes: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    _closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    _sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.usage_store.start()
        self._sweeper = asyncio.get_running_loop().create_task(self._housekeeping())
        # Everything built so far lives as long as the process: keep it out of the collector's
        # scans, and collect young objects less often (a request allocates many short-lived ones).
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)

    async def _housekeeping(self) -> None:
        """Every half second: send spend counters; give back credit leases nobody uses."""
        while True:
            await asyncio.sleep(0.5)
            try:
                await self.spend.flush()
                await self.ledger.return_idle()
            except Exception:
                log.exception("housekeeping failed")

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        await self.tasks.drain()
        try:
            await self.ledger.sync()
            await self.spend.flush()
        except Exception:
            log.exception("returning credit leases or spend counters at shutdown failed")
        await self.usage_store.close()
        for closer in reversed(self._closers):
            try:
                await closer()
            except Exception:
                log.exception("error while closing")


def _database_probe(engine: AsyncEngine) -> Callable[[], Awaitable[None]]:
    async def probe() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return probe


def build_runtime(settings: Settings) -> Runtime:
    config = load_config(settings.config_path)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    telemetry = PrometheusTelemetry()
    usage_store = BufferedSqlUsageRecorder(sessions)
    telemetry.watch_usage_buffer(lambda: usage_store.pending, lambda: usage_store.flush_failures)
    closers = [engine.dispose]
    probes: dict[str, Callable[[], Awaitable[None]]] = {"database": _database_probe(engine)}
    if settings.redis_url:
        from infrastructure.limits.redis import (
            PipelinedRedisRateLimiter,
            RedisRateLimiter,
            RedisSpendCounter,
            redis_client,
        )
        from infrastructure.limits.resp import RespPipeline

        client = redis_client(settings.redis_url)
        probes["redis"] = client.ping
        limiter: RateLimiter
        if settings.redis_url.startswith("redis://"):
            # One pipelined socket for the per-request decision: five times redis-py's rate here.
            pipeline = RespPipeline(settings.redis_url)
            limiter = PipelinedRedisRateLimiter(pipeline)
            closers.append(pipeline.aclose)
        else:
            limiter = RedisRateLimiter(client)
        shared_spend: SpendCounter = RedisSpendCounter(client)
        closers.append(client.aclose)
    else:
        limiter = InProcessRateLimiter()
        shared_spend = InProcessSpendCounter()
    clock = SystemClock()
    ledger = LeasedCreditLedger(SqlCreditLedger(sessions), clock)
    spend = CachedSpendCounter(shared_spend, clock)
    upstream = OpenRouterUpstream(
        settings.upstream_url, settings.upstream_api_key, timeout_read=settings.upstream_read_timeout
    )
    closers.append(upstream.aclose)
    catalog = CachedModelCatalog(upstream, gateway_models=config.allowed_models)
    telemetry.label_models(ModelLabels(catalog.lists, config.allowed_models, settings.metrics_max_models))
    return Runtime(
        settings=settings,
        config=config,
        plans=PlanBook(config.plans, config.default_plan),
        clock=clock,
        accounts=SqlAccountRepository(sessions),
        keys=SqlApiKeyRepository(sessions),
        ledger=ledger,
        usage_store=usage_store,
        recorder=MeteredUsageRecorder(usage_store, telemetry),
        usage=SqlUsageQueries(sessions),
        limiter=limiter,
        spend=spend,
        upstream=upstream,
        catalog=catalog,
        telemetry=telemetry,
        tasks=BackgroundTasks(),
        probes=probes,
        _closers=closers,
    )
