from collections.abc import Sequence
from typing import Protocol

from domain.credits import LedgerEntry, WriteOutcome


class CreditAdmin(Protocol):
    """What the operator's commands need of the durable ledger, beyond the request path's `CreditLedger`."""

    async def entry_by_key(self, idempotency_key: str) -> LedgerEntry | None:
        """The entry written under this key, whichever account it belongs to."""
        ...

    async def deduct(self, entry: LedgerEntry) -> tuple[WriteOutcome, int]:
        """Appends a negative entry only if the balance stays at or above zero, in one conditional write.

        Returns what happened and the balance after it (unchanged unless WRITTEN).
        """
        ...

    async def balances(self, account_ids: Sequence[str]) -> dict[str, int]:
        """Balances of many accounts in one read; unknown ids are left out."""
        ...
