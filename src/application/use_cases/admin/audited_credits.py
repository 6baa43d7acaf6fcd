"""Credit grants and deductions, each written to the audit log with its ledger idempotency key.

The key is chosen here when the caller gives none, so the entry names the very ledger entry it
describes. Balances are as read right after the change: credit leases held by running gateways
are out of them (see docs/architecture.md, credit leases).
"""

import secrets

from application.use_cases.accounts import FindAccount
from application.use_cases.audit import RecordAuditEntry
from application.use_cases.credits import CreditChange, DeductCredits, GrantCredits
from domain.audit import Actor, AuditAction, clean_reason
from domain.errors import InvalidRequest


class AuditedGrantCredits:
    def __init__(self, inner: GrantCredits, find: FindAccount, audit: RecordAuditEntry) -> None:
        self._inner = inner
        self._find = find
        self._audit = audit

    async def execute(
        self, actor: Actor, email: str, amount_micros: int, reason: str = "", idempotency_key: str | None = None
    ) -> CreditChange:
        reason = clean_reason(reason)
        key = idempotency_key or "grant:" + secrets.token_hex(12)
        change = await self._inner.execute(email, amount_micros, key, reason)
        if change.applied:
            account = await self._find.execute(email)
            await self._audit.execute(
                actor,
                AuditAction.CREDITS_GRANT,
                account.id,
                before={"balance_micros": change.balance_micros - amount_micros},
                after={"balance_micros": change.balance_micros, "amount_micros": amount_micros, "idempotency_key": key},
                reason=reason,
                target_label=account.email,
                account_id=account.id,
            )
        return change


class AuditedDeductCredits:
    def __init__(self, inner: DeductCredits, find: FindAccount, audit: RecordAuditEntry) -> None:
        self._inner = inner
        self._find = find
        self._audit = audit

    async def execute(
        self, actor: Actor, email: str, amount_micros: int, reason: str, idempotency_key: str | None = None
    ) -> CreditChange:
        reason = clean_reason(reason)
        if not reason:
            raise InvalidRequest("a deduction needs a reason", param="reason")
        key = idempotency_key or "deduct:" + secrets.token_hex(12)
        change = await self._inner.execute(email, amount_micros, reason, key)
        if change.applied:
            account = await self._find.execute(email)
            await self._audit.execute(
                actor,
                AuditAction.CREDITS_DEDUCT,
                account.id,
                before={"balance_micros": change.balance_micros + amount_micros},
                after={
                    "balance_micros": change.balance_micros,
                    "amount_micros": -amount_micros,
                    "idempotency_key": key,
                },
                reason=reason,
                target_label=account.email,
                account_id=account.id,
            )
        return change
