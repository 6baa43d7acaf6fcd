"""The Lifecycle service, whose finalizer is the drain (`interfaces/lifecycle.py`).

dishka runs finalizers in the reverse order of creation, and a dependency is created before what
depends on it. Lifecycle depends (directly or through the Meter) on every adapter with a finalizer,
so its drain runs before any of them closes. tests/integration/test_composition_root.py checks it.
"""

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide

from application.background import BackgroundTasks
from application.credit_leases import LeasedCreditLedger
from application.metering import Meter
from application.spend_cache import CachedSpendCounter
from application.use_cases.generate_images import PurgeExpiredImages
from application.use_cases.leases import ReconcileLeases
from infrastructure.persistence.usage import BufferedSqlUsageRecorder
from interfaces.lifecycle import Lifecycle
from interfaces.providers._closing import close_quietly
from interfaces.settings import Settings


class LifecycleProvider(Provider):
    scope = Scope.APP

    @provide
    async def lifecycle(
        self,
        settings: Settings,
        meter: Meter,
        tasks: BackgroundTasks,
        ledger: LeasedCreditLedger,
        spend: CachedSpendCounter,
        usage_store: BufferedSqlUsageRecorder,
        reconcile: ReconcileLeases,
        purge_images: PurgeExpiredImages,
    ) -> AsyncIterator[Lifecycle]:
        lifecycle = Lifecycle(
            meter=meter,
            tasks=tasks,
            ledger=ledger,
            spend=spend,
            usage_store=usage_store,
            reconcile=reconcile,
            lease_seconds=settings.lease_seconds,
            purge_images=purge_images,
        )
        yield lifecycle
        await close_quietly(lifecycle.stop)
