"""Which adapter serves which port. The adapters are built (and closed) by the provider of their
concern; a new port is one line here. The limits ports (`RateLimiter`, `SpendStore`) come straight
from the limits provider, which picks Redis or in-process; `SessionStore` from the sessions provider,
which picks Redis or the database by the same setting."""

from dishka import Provider, Scope, alias, provide

from application.credit_leases import LeasedCreditLedger
from application.ports.accounts import AccountRepository
from application.ports.api_keys import ApiKeyRepository
from application.ports.checkouts import CheckoutStore
from application.ports.clock import Clock
from application.ports.credit_admin import CreditAdmin
from application.ports.credit_history import CreditHistory
from application.ports.credits import CreditLedger
from application.ports.image_store import ImageStore
from application.ports.leases import LeaseStore
from application.ports.password_hasher import PasswordHasher
from application.ports.passwords import PasswordStore
from application.ports.rate_limiter import SpendCounter
from application.ports.redemption_codes import RedemptionCodeStore
from application.ports.telemetry import Telemetry
from application.ports.upstream import ModelCatalog
from application.ports.usage import UsageQueries, UsageRecorder
from application.spend_cache import CachedSpendCounter
from infrastructure.argon2_hasher import Argon2PasswordHasher
from infrastructure.clock import SystemClock
from infrastructure.persistence.accounts import SqlAccountRepository
from infrastructure.persistence.api_keys import SqlApiKeyRepository
from infrastructure.persistence.checkouts import SqlCheckoutStore
from infrastructure.persistence.credit_history import SqlCreditHistory
from infrastructure.persistence.credit_leases import SqlCreditLeases
from infrastructure.persistence.credits import SqlCreditLedger
from infrastructure.persistence.image_store import SqlImageStore
from infrastructure.persistence.passwords import SqlPasswordStore
from infrastructure.persistence.redemption_codes import SqlRedemptionCodes
from infrastructure.persistence.usage import BufferedSqlUsageRecorder, SqlUsageQueries
from infrastructure.telemetry.prometheus import PrometheusTelemetry
from infrastructure.upstream.catalog import CachedModelCatalog


class PortsProvider(Provider):
    scope = Scope.APP

    clock = provide(SystemClock, provides=Clock)  # owns nothing, so it needs no provider of its own
    accounts = alias(SqlAccountRepository, provides=AccountRepository)
    keys = alias(SqlApiKeyRepository, provides=ApiKeyRepository)
    passwords = alias(SqlPasswordStore, provides=PasswordStore)
    leases = alias(SqlCreditLeases, provides=LeaseStore)
    credit_admin = alias(SqlCreditLedger, provides=CreditAdmin)  # the durable ledger itself, for operators
    ledger = alias(LeasedCreditLedger, provides=CreditLedger)  # requests spend through the leases
    spend = alias(CachedSpendCounter, provides=SpendCounter)
    usage = alias(SqlUsageQueries, provides=UsageQueries)
    images = alias(SqlImageStore, provides=ImageStore)
    checkouts = alias(SqlCheckoutStore, provides=CheckoutStore)
    credit_history = alias(SqlCreditHistory, provides=CreditHistory)
    redemption_codes = alias(SqlRedemptionCodes, provides=RedemptionCodeStore)
    recorder = alias(BufferedSqlUsageRecorder, provides=UsageRecorder)
    catalog = alias(CachedModelCatalog, provides=ModelCatalog)
    telemetry = alias(PrometheusTelemetry, provides=Telemetry)

    @provide
    def hasher(self) -> PasswordHasher:
        return Argon2PasswordHasher()  # owns nothing, like the clock
