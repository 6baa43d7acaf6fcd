import secrets

from application.ports.accounts import AccountRepository
from application.ports.clock import Clock
from application.ports.credits import CreditLedger
from application.use_cases.accounts import FindAccount
from domain.credits import grant_entry


class GrantCredits:
    """Adds (or, with a negative amount, removes) credits; the same idempotency key grants once."""

    def __init__(self, accounts: AccountRepository, ledger: CreditLedger, clock: Clock) -> None:
        self._find = FindAccount(accounts)
        self._ledger = ledger
        self._clock = clock

    async def execute(
        self, email: str, amount_micros: int, idempotency_key: str | None = None, note: str = ""
    ) -> tuple[bool, int]:
        """Returns whether this call changed the balance, and the balance after it."""
        account = await self._find.execute(email)
        key = idempotency_key or "grant:" + secrets.token_hex(12)
        entry = grant_entry(account.id, amount_micros, key, self._clock.now(), note)
        applied = await self._ledger.append(entry)
        return applied, await self._ledger.balance(account.id)
