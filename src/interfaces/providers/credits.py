"""Credits and metering: the leased ledger, the cached spend counter, and the Meter over them."""

import os
import secrets
import socket

from dishka import Provider, Scope, provide

from application.background import BackgroundTasks
from application.credit_leases import LeasedCreditLedger
from application.metering import Meter
from application.ports.clock import Clock
from application.ports.credits import CreditLedger
from application.ports.moderation import Moderator
from application.ports.rate_limiter import RateLimiter, SpendCounter, SpendStore
from application.ports.upstream import ModelCatalog
from application.ports.usage import UsageQueries, UsageRecorder
from application.spend_cache import CachedSpendCounter
from infrastructure.persistence.credit_leases import SqlCreditLeases
from infrastructure.persistence.credits import SqlCreditLedger
from infrastructure.upstream.catalog import CachedModelCatalog
from interfaces.gateway_config import GatewayConfig
from interfaces.settings import Settings


class CreditsProvider(Provider):
    scope = Scope.APP

    @provide
    def ledger(
        self, settings: Settings, store: SqlCreditLedger, leases: SqlCreditLeases, clock: Clock
    ) -> LeasedCreditLedger:
        return LeasedCreditLedger(
            store,
            leases,
            clock,
            # Names this process in the lease rows, so a sweeper can tell its leases from a dead one's.
            owner=f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}",
            lease_seconds=settings.lease_seconds,
        )

    @provide
    def spend(self, shared: SpendStore, clock: Clock) -> CachedSpendCounter:
        return CachedSpendCounter(shared, clock)

    tasks = provide(BackgroundTasks)

    @provide
    def meter(
        self,
        config: GatewayConfig,
        limiter: RateLimiter,
        spend: SpendCounter,
        ledger: CreditLedger,
        catalog: ModelCatalog,
        recorder: UsageRecorder,
        usage: UsageQueries,
        clock: Clock,
        names: CachedModelCatalog,
        moderator: Moderator,
    ) -> Meter:
        # One per process: shutdown waits on what this very Meter has admitted.
        return Meter(
            limiter=limiter,
            spend=spend,
            ledger=ledger,
            catalog=catalog,
            recorder=recorder,
            usage_queries=usage,
            clock=clock,
            gateway_models=config.allowed_models,
            resolver=names,  # the catalogue resolves names: aliases, ids without their provider
            client_policy=config.client_policy,
            moderator=moderator,
        )
