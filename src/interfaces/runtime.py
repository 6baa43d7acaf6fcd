"""The composition root's adapters and their lifecycle, in the one order that loses nothing.

Start: recorder flusher, then a sweep of credit leases that dead processes left. Stop: wait until
every admitted request is settled (streams cut at the grace deadline settle as they unwind), then
return credit leases, send spend counters and flush usage records; only then close the upstream
pool, Redis and the database.
"""

import asyncio
import contextlib
import gc
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from application.background import BackgroundTasks
from application.credit_leases import LeasedCreditLedger
from application.metering import Meter
from application.plan_book import PlanBook
from application.ports.accounts import AccountRepository
from application.ports.api_keys import ApiKeyRepository
from application.ports.credit_admin import CreditAdmin
from application.ports.leases import LeaseStore
from application.ports.rate_limiter import RateLimiter, SpendStore
from application.ports.upstream import ModelCatalog, Upstream
from application.ports.usage import UsageQueries, UsageRecorder
from application.spend_cache import CachedSpendCounter
from application.use_cases.leases import ReconcileLeases
from infrastructure.clock import SystemClock
from infrastructure.limits.memory import InProcessRateLimiter, InProcessSpendCounter
from infrastructure.persistence.accounts import SqlAccountRepository
from infrastructure.persistence.api_keys import SqlApiKeyRepository
from infrastructure.persistence.credit_leases import SqlCreditLeases
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

# How long shutdown waits for admitted requests to settle after the server stopped serving them.
_SETTLE_WAIT_SECONDS = 10.0


@dataclass
class Runtime:
    settings: Settings
    config: GatewayConfig
    plans: PlanBook
    clock: SystemClock
    accounts: AccountRepository
    keys: ApiKeyRepository
    ledger: LeasedCreditLedger
    leases: LeaseStore
    reconcile: ReconcileLeases
    meter: Meter
    credit_admin: CreditAdmin  # the durable ledger itself, for the operator's commands
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
        await self._reconcile()
        self._sweeper = asyncio.get_running_loop().create_task(self._housekeeping())
        # Everything built so far lives as long as the process: keep it out of the collector's
        # scans, and collect young objects less often (a request allocates many short-lived ones).
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)

    async def _housekeeping(self) -> None:
        """Every half second: send spend counters, give back idle credit leases. Every third of the
        lease time: renew this process's leases; every half: return the expired ones of dead processes."""
        loop = asyncio.get_running_loop()
        lease_seconds = self.settings.lease_seconds
        renew_at = reconcile_at = loop.time()
        while True:
            await asyncio.sleep(min(0.5, lease_seconds / 4))
            try:
                await self.spend.flush()
                await self.ledger.return_idle()
            except Exception:
                log.exception("housekeeping failed")
            now = loop.time()
            if now >= renew_at:
                renew_at = now + lease_seconds / 3
                try:
                    await self.ledger.renew()
                except Exception:
                    log.exception("renewing credit leases failed")
            if now >= reconcile_at:
                reconcile_at = now + lease_seconds / 2
                await self._reconcile()

    async def _reconcile(self) -> None:
        try:
            await self.reconcile.execute()
        except Exception:
            log.exception("returning expired credit leases failed")

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper  # let it unwind (a close it was making stays for sync) first
        await self._settle_everything()
        try:
            await self.ledger.sync()
        except Exception:
            log.exception("returning credit leases at shutdown failed; they go back when they expire")
        await self._send_spend_counters()
        await self.usage_store.close()
        for closer in reversed(self._closers):
            try:
                await closer()
            except Exception:
                log.exception("error while closing")

    async def _send_spend_counters(self, attempts: int = 6) -> None:
        # A batch is idempotent, so resending it through a short Redis blip cannot count it twice.
        for attempt in range(attempts):
            await self.spend.flush()  # keeps a failed batch pending, never raises
            if not self.spend.unsent:
                return
            if attempt < attempts - 1:
                await asyncio.sleep(0.5)
        log.error("shutting down with $%.6f of spend-counter additions unsent", self.spend.unsent / 1_000_000)

    async def _settle_everything(self) -> None:
        """Streams cancelled at the grace deadline spawn their settlements as they unwind, after the
        server has already asked us to stop: wait for those, not only for the ones already running."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _SETTLE_WAIT_SECONDS
        while (self.meter.unsettled or self.tasks.pending) and loop.time() < deadline:
            await self.tasks.drain()
            if self.meter.unsettled:
                await asyncio.sleep(0.01)
        if self.meter.unsettled:
            await self.meter.settle_abandoned()
        await self.tasks.drain()


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
            # One pipelined socket for the per-request decision (docs/architecture.md has the figures).
            pipeline = RespPipeline(settings.redis_url)
            limiter = PipelinedRedisRateLimiter(pipeline)
            closers.append(pipeline.aclose)
        else:
            limiter = RedisRateLimiter(client)
        shared_spend: SpendStore = RedisSpendCounter(client)
        closers.append(client.aclose)
    else:
        limiter = InProcessRateLimiter()
        shared_spend = InProcessSpendCounter()
    clock = SystemClock()
    leases = SqlCreditLeases(sessions)
    credit_store = SqlCreditLedger(sessions)
    ledger = LeasedCreditLedger(
        credit_store,
        leases,
        clock,
        owner=f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}",
        lease_seconds=settings.lease_seconds,
    )
    spend = CachedSpendCounter(shared_spend, clock)
    upstream = OpenRouterUpstream(
        settings.upstream_url, settings.upstream_api_key, timeout_read=settings.upstream_read_timeout
    )
    closers.append(upstream.aclose)
    catalog = CachedModelCatalog(upstream, gateway_models=config.allowed_models)
    recorder = MeteredUsageRecorder(usage_store, telemetry)
    usage = SqlUsageQueries(sessions)
    meter = Meter(
        limiter=limiter,
        spend=spend,
        ledger=ledger,
        catalog=catalog,
        recorder=recorder,
        usage_queries=usage,
        clock=clock,
        gateway_models=config.allowed_models,
    )
    telemetry.label_models(ModelLabels(catalog.lists, config.allowed_models, settings.metrics_max_models))
    return Runtime(
        settings=settings,
        config=config,
        plans=PlanBook(config.plans, config.default_plan),
        clock=clock,
        accounts=SqlAccountRepository(sessions),
        keys=SqlApiKeyRepository(sessions),
        ledger=ledger,
        leases=leases,
        reconcile=ReconcileLeases(leases, clock),
        meter=meter,
        credit_admin=credit_store,
        usage_store=usage_store,
        recorder=recorder,
        usage=usage,
        limiter=limiter,
        spend=spend,
        upstream=upstream,
        catalog=catalog,
        telemetry=telemetry,
        tasks=BackgroundTasks(),
        probes=probes,
        _closers=closers,
    )
