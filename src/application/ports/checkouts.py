from datetime import datetime
from typing import Protocol

from domain.payments import Checkout, CheckoutStatus


class CheckoutStore(Protocol):
    """The checkouts started, as recorded when they were created (the table `payments`)."""

    async def add(self, checkout: Checkout) -> None: ...

    async def get(self, session_id: str) -> Checkout | None: ...

    async def close(self, session_id: str, status: CheckoutStatus, now: datetime) -> bool:
        """Moves an open checkout to `status`; False (and nothing changed) when it is not open."""
        ...

    async def for_account(self, account_id: str, limit: int) -> list[Checkout]:
        """The account's checkouts, newest first."""
        ...
