import secrets
from dataclasses import dataclass

from application.ports.accounts import AccountRepository
from application.ports.clock import Clock
from application.ports.credit_admin import CreditAdmin
from application.ports.credits import CreditLedger
from application.use_cases.accounts import FindAccount
from domain.credits import (
    LedgerEntry,
    WriteOutcome,
    deduct_entry,
    entry_differences,
    grant_entry,
    operator_amount,
    usd_text,
)
from domain.errors import Conflict, InsufficientCredits


@dataclass(frozen=True, slots=True)
class CreditChange:
    applied: bool  # False: the idempotency key was used before for this very change; nothing changed
    amount_micros: int  # what was asked, positive
    balance_micros: int  # the balance after the call


async def _check_reuse(credits: CreditAdmin, accounts: AccountRepository, asked: LedgerEntry) -> bool:
    """True when the key was written before for the same change; Conflict when for another one."""
    written = await credits.entry_by_key(asked.idempotency_key)
    if written is None:
        return False
    differences = entry_differences(written, asked)
    if differences:
        other = await accounts.get(written.account_id) if written.account_id != asked.account_id else None
        if other is not None:
            differences = [d if not d.startswith("account ") else f"account {other.email}" for d in differences]
        raise Conflict(
            f"idempotency key {asked.idempotency_key!r} was used before for another change "
            f"({'; '.join(differences)}); nothing changed"
        )
    return True


class GrantCredits:
    """Adds credits; the same idempotency key grants once, and is refused for a different grant."""

    def __init__(self, accounts: AccountRepository, ledger: CreditLedger, clock: Clock, credits: CreditAdmin) -> None:
        self._accounts = accounts
        self._find = FindAccount(accounts)
        self._ledger = ledger
        self._clock = clock
        self._credits = credits

    async def execute(
        self, email: str, amount_micros: int, idempotency_key: str | None = None, note: str = ""
    ) -> CreditChange:
        operator_amount(amount_micros)
        account = await self._find.execute(email)
        key = idempotency_key or "grant:" + secrets.token_hex(12)
        entry = grant_entry(account.id, amount_micros, key, self._clock.now(), note)
        if await _check_reuse(self._credits, self._accounts, entry):
            return CreditChange(False, amount_micros, await self._ledger.balance(account.id))
        applied = await self._ledger.append(entry)
        if not applied:
            await _check_reuse(self._credits, self._accounts, entry)  # a concurrent twin may differ
        return CreditChange(applied, amount_micros, await self._ledger.balance(account.id))


class DeductCredits:
    """Takes credits back, never below zero; the same idempotency key deducts once."""

    def __init__(self, accounts: AccountRepository, clock: Clock, credits: CreditAdmin) -> None:
        self._accounts = accounts
        self._find = FindAccount(accounts)
        self._clock = clock
        self._credits = credits

    async def execute(
        self, email: str, amount_micros: int, reason: str, idempotency_key: str | None = None
    ) -> CreditChange:
        account = await self._find.execute(email)
        key = idempotency_key or "deduct:" + secrets.token_hex(12)
        entry = deduct_entry(account.id, amount_micros, key, self._clock.now(), reason)
        if await _check_reuse(self._credits, self._accounts, entry):
            return CreditChange(False, amount_micros, (await self._credits.balances([account.id]))[account.id])
        outcome, balance = await self._credits.deduct(entry)
        if outcome is WriteOutcome.SHORT:
            raise InsufficientCredits(
                required=amount_micros,
                available=balance,
                detail=f"cannot deduct {usd_text(amount_micros)} from {account.email}: the balance is "
                f"{usd_text(balance)} and a deduction never takes it below $0.00; nothing changed",
            )
        if outcome is WriteOutcome.DUPLICATE:
            await _check_reuse(self._credits, self._accounts, entry)  # a concurrent twin may differ
        return CreditChange(outcome is WriteOutcome.WRITTEN, amount_micros, balance)
