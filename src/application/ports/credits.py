from typing import Protocol

from domain.credits import LedgerEntry


class CreditLedger(Protocol):
    async def balance(self, account_id: str) -> int: ...

    async def append(self, entry: LedgerEntry) -> bool:
        """Writes the entry and moves the balance, once per idempotency key.

        Returns False (and changes nothing) when the key was already written.
        """
        ...

    async def reserve(self, entry: LedgerEntry) -> int | None:
        """Atomically appends a (negative) reservation if the balance covers it.

        Returns the new balance, or None when the balance is short (nothing written). A repeated
        idempotency key returns the current balance without a second hold.
        """
        ...

    async def entries(self, account_id: str) -> list[LedgerEntry]: ...

    def payer(self, request_id: str) -> str | None:
        """The credit lease holding the request's reservation, if this ledger spends from leases."""
        ...

    async def sync(self, account_id: str | None = None) -> None:
        """Makes the durable ledger current (returns credit held in memory); a no-op for direct stores."""
        ...
