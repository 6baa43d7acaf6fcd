"""The dishka container: ports from the runtime, use cases built once per process."""

from dishka import AsyncContainer, Provider, Scope, from_context, make_async_container, provide

from application.background import BackgroundTasks
from application.metering import Meter
from application.plan_book import PlanBook
from application.ports.accounts import AccountRepository
from application.ports.api_keys import ApiKeyRepository
from application.ports.clock import Clock
from application.ports.credit_admin import CreditAdmin
from application.ports.credits import CreditLedger
from application.ports.leases import LeaseStore
from application.ports.telemetry import Telemetry
from application.ports.upstream import ModelCatalog, Upstream
from application.ports.usage import UsageQueries, UsageRecorder
from application.use_cases.account_limits import SetAccountLimits
from application.use_cases.account_report import DescribeAccount
from application.use_cases.accounts import CreateAccount, FindAccount, ListAccounts, SetAccountBanned
from application.use_cases.api_keys import IssueApiKey, ListApiKeys, RevokeApiKey
from application.use_cases.authenticate import Authenticate
from application.use_cases.credits import DeductCredits, GrantCredits
from application.use_cases.leases import ListLeases, ReconcileLeases
from application.use_cases.proxy_model_request import ProxyModelRequest
from application.use_cases.stream_model_request import StreamModelRequest
from application.use_cases.usage_stats import DescribeKey, GetAccountStats
from application.use_cases.usage_summary import SummarizeUsage
from interfaces.http.forwarding import ForwardModelCall
from interfaces.http.readiness import Readiness
from interfaces.runtime import Runtime


class PortsProvider(Provider):
    scope = Scope.APP
    runtime = from_context(Runtime, scope=Scope.APP)

    @provide
    def plans(self, r: Runtime) -> PlanBook:
        return r.plans

    @provide
    def clock(self, r: Runtime) -> Clock:
        return r.clock

    @provide
    def accounts(self, r: Runtime) -> AccountRepository:
        return r.accounts

    @provide
    def keys(self, r: Runtime) -> ApiKeyRepository:
        return r.keys

    @provide
    def ledger(self, r: Runtime) -> CreditLedger:
        return r.ledger

    @provide
    def leases(self, r: Runtime) -> LeaseStore:
        return r.leases

    @provide
    def credit_admin(self, r: Runtime) -> CreditAdmin:
        return r.credit_admin

    @provide
    def recorder(self, r: Runtime) -> UsageRecorder:
        return r.recorder

    @provide
    def usage(self, r: Runtime) -> UsageQueries:
        return r.usage

    @provide
    def upstream(self, r: Runtime) -> Upstream:
        return r.upstream

    @provide
    def catalog(self, r: Runtime) -> ModelCatalog:
        return r.catalog

    @provide
    def telemetry(self, r: Runtime) -> Telemetry:
        return r.telemetry

    @provide
    def tasks(self, r: Runtime) -> BackgroundTasks:
        return r.tasks

    @provide
    def readiness(self, r: Runtime) -> Readiness:
        return Readiness(r.probes)


class UseCasesProvider(Provider):
    scope = Scope.APP

    @provide
    def meter(self, r: Runtime) -> Meter:
        return r.meter  # the runtime's own: shutdown waits on what it has admitted

    @provide
    def reconcile_leases(self, r: Runtime) -> ReconcileLeases:
        return r.reconcile

    list_leases = provide(ListLeases)

    @provide
    def authenticate(self, r: Runtime) -> Authenticate:
        return Authenticate(r.keys, r.plans, r.clock, r.settings.key_pepper, r.settings.key_cache_seconds)

    @provide
    def issue_key(self, r: Runtime) -> IssueApiKey:
        return IssueApiKey(r.accounts, r.keys, r.clock, r.settings.key_pepper, r.settings.max_active_keys)

    proxy = provide(ProxyModelRequest)
    stream = provide(StreamModelRequest)
    stats = provide(GetAccountStats)
    describe_key = provide(DescribeKey)
    create_account = provide(CreateAccount)
    find_account = provide(FindAccount)
    ban = provide(SetAccountBanned)
    set_limits = provide(SetAccountLimits)
    list_keys = provide(ListApiKeys)
    revoke_key = provide(RevokeApiKey)
    grant = provide(GrantCredits)
    deduct = provide(DeductCredits)
    list_accounts = provide(ListAccounts)
    describe_account = provide(DescribeAccount)
    summarize_usage = provide(SummarizeUsage)
    forward = provide(ForwardModelCall)


def build_container(runtime: Runtime) -> AsyncContainer:
    return make_async_container(PortsProvider(), UseCasesProvider(), context={Runtime: runtime})
