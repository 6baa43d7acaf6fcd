"""The admin console and the audit log: their two SQL adapters, ports and use cases.

Every admin action the console and the CLI take goes through an `Audited...` use case, which makes
the change with the operator's own use case and then writes the audit entry.
"""

from dishka import Provider, Scope, alias, provide
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.plan_book import PlanBook
from application.ports.account_directory import AccountDirectory
from application.ports.audit_log import AuditLog
from application.ports.upstream import ModelCatalog
from application.use_cases.account_plan import ChangeAccountPlan
from application.use_cases.account_spend_caps import SetAccountSpendCaps
from application.use_cases.admin.account_page import GetAccount, InspectAccount
from application.use_cases.admin.audited_accounts import (
    AuditedChangePlan,
    AuditedSetBanned,
    AuditedSetLimits,
    AuditedSetSpendCaps,
)
from application.use_cases.admin.audited_codes import AuditedIssueCodes, AuditedRevokeCode
from application.use_cases.admin.audited_credits import AuditedDeductCredits, AuditedGrantCredits
from application.use_cases.admin.audited_keys import AuditedRevokeKey
from application.use_cases.admin.overview import AdminOverview
from application.use_cases.admin.plans import DescribePlans
from application.use_cases.admin.search import SearchAccounts
from application.use_cases.audit import ListAuditEntries, RecordAuditEntry
from infrastructure.persistence.account_directory import SqlAccountDirectory
from infrastructure.persistence.audit_log import SqlAuditLog
from interfaces.gateway_config import GatewayConfig


class AdminProvider(Provider):
    scope = Scope.APP

    @provide
    def audit_store(self, sessions: async_sessionmaker[AsyncSession]) -> SqlAuditLog:
        return SqlAuditLog(sessions)

    @provide
    def directory_store(self, sessions: async_sessionmaker[AsyncSession]) -> SqlAccountDirectory:
        return SqlAccountDirectory(sessions)

    audit_log = alias(SqlAuditLog, provides=AuditLog)
    directory = alias(SqlAccountDirectory, provides=AccountDirectory)

    @provide
    def describe_plans(self, plans: PlanBook, catalog: ModelCatalog, config: GatewayConfig) -> DescribePlans:
        return DescribePlans(plans, catalog, config.allowed_models)

    record_audit = provide(RecordAuditEntry)
    list_audit = provide(ListAuditEntries)
    change_plan = provide(ChangeAccountPlan)
    set_spend_caps = provide(SetAccountSpendCaps)
    audited_ban = provide(AuditedSetBanned)
    audited_plan = provide(AuditedChangePlan)
    audited_limits = provide(AuditedSetLimits)
    audited_spend_caps = provide(AuditedSetSpendCaps)
    audited_grant = provide(AuditedGrantCredits)
    audited_deduct = provide(AuditedDeductCredits)
    audited_revoke = provide(AuditedRevokeKey)
    audited_issue_codes = provide(AuditedIssueCodes)
    audited_revoke_code = provide(AuditedRevokeCode)
    search_accounts = provide(SearchAccounts)
    overview = provide(AdminOverview)
    inspect_account = provide(InspectAccount)
    get_account = provide(GetAccount)
