"""Account changes (ban, plan, rate limits, spend caps), each written to the audit log.

Each wraps the operator's use case, which makes the change, and then records one entry with what
the use case saw before and made after; a call that changed nothing records nothing.
"""

from collections.abc import Sequence

from application.use_cases.account_limits import AccountLimits, LimitSetting, SetAccountLimits
from application.use_cases.account_plan import ChangeAccountPlan, PlanChange
from application.use_cases.account_spend_caps import AccountSpendCaps, SetAccountSpendCaps
from application.use_cases.accounts import SetAccountBanned
from application.use_cases.admin.snapshots import limits_snapshot, spend_caps_snapshot
from application.use_cases.audit import RecordAuditEntry
from domain.accounts import Account, AccountStatus
from domain.audit import Actor, AuditAction, clean_reason
from domain.plans import Period, SpendCapOverride, Subject


class AuditedSetBanned:
    def __init__(self, inner: SetAccountBanned, audit: RecordAuditEntry) -> None:
        self._inner = inner
        self._audit = audit

    async def execute(self, actor: Actor, email: str, banned: bool, reason: str = "") -> tuple[Account, bool]:
        reason = clean_reason(reason)  # refused before anything changes
        account, changed = await self._inner.execute(email, banned)
        if changed:
            before = AccountStatus.ACTIVE if banned else AccountStatus.BANNED
            await self._audit.execute(
                actor,
                AuditAction.ACCOUNT_BAN if banned else AuditAction.ACCOUNT_UNBAN,
                account.id,
                before={"status": before.value},
                after={"status": account.status.value},
                reason=reason,
                target_label=account.email,
                account_id=account.id,
            )
        return account, changed


class AuditedChangePlan:
    def __init__(self, inner: ChangeAccountPlan, audit: RecordAuditEntry) -> None:
        self._inner = inner
        self._audit = audit

    async def execute(self, actor: Actor, email: str, plan: str, reason: str = "") -> PlanChange:
        reason = clean_reason(reason)
        result = await self._inner.execute(email, plan)
        if result.changed:
            account = result.account
            await self._audit.execute(
                actor,
                AuditAction.ACCOUNT_PLAN,
                account.id,
                before={"plan": result.previous},
                after={"plan": account.plan},
                reason=reason,
                target_label=account.email,
                account_id=account.id,
            )
        return result


class AuditedSetLimits:
    def __init__(self, inner: SetAccountLimits, audit: RecordAuditEntry) -> None:
        self._inner = inner
        self._audit = audit

    async def execute(
        self,
        actor: Actor,
        email: str,
        settings: Sequence[LimitSetting] = (),
        *,
        subject: Subject | None = None,
        clear: bool = False,
        reason: str = "",
    ) -> AccountLimits:
        reason = clean_reason(reason)
        result = await self._inner.execute(email, settings, subject=subject, clear=clear)
        if result.changed:
            account = result.account
            await self._audit.execute(
                actor,
                AuditAction.ACCOUNT_LIMITS,
                account.id,
                before={"rate_limits": limits_snapshot(result.previous)},
                after={"rate_limits": limits_snapshot(account.rate_limits)},
                reason=reason,
                target_label=account.email,
                account_id=account.id,
            )
        return result


class AuditedSetSpendCaps:
    def __init__(self, inner: SetAccountSpendCaps, audit: RecordAuditEntry) -> None:
        self._inner = inner
        self._audit = audit

    async def execute(
        self,
        actor: Actor,
        email: str,
        changes: Sequence[SpendCapOverride] = (),
        *,
        reset: Sequence[Period] = (),
        clear: bool = False,
        reason: str = "",
    ) -> AccountSpendCaps:
        reason = clean_reason(reason)
        result = await self._inner.execute(email, changes, reset=reset, clear=clear)
        if result.changed:
            account = result.account
            await self._audit.execute(
                actor,
                AuditAction.ACCOUNT_SPEND_CAPS,
                account.id,
                before={"spend_caps": spend_caps_snapshot(result.previous)},
                after={"spend_caps": spend_caps_snapshot(account.spend_caps)},
                reason=reason,
                target_label=account.email,
                account_id=account.id,
            )
        return result
