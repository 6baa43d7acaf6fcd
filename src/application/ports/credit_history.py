from typing import Protocol

from domain.credits import LedgerEntry


class CreditHistory(Protocol):
    async def recent(self, account_id: str, offset: int, limit: int) -> list[LedgerEntry]:
        """The account's ledger entries, newest first, skipping the `offset` newest."""
        ...
