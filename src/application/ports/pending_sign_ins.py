from datetime import datetime
from typing import Protocol

from domain.identities import PendingSignIn


class PendingSignInStore(Protocol):
    """Sign-ins sent to a provider and not yet back, by a hash of the browser's cookie token."""

    async def put(self, key: str, pending: PendingSignIn, now: datetime) -> None:
        """Also forgets the ones expired by `now`, so abandoned sign-ins do not pile up."""
        ...

    async def take(self, key: str, now: datetime) -> PendingSignIn | None:
        """Removes and returns it, once: a second take of the same key, or one after its expiry, is None."""
        ...
