from typing import Protocol

from domain.identities import IdentityLink


class IdentityRepository(Protocol):
    async def get(self, issuer: str, subject: str) -> IdentityLink | None: ...

    async def add(self, link: IdentityLink) -> None:
        """Raises Conflict when the (issuer, subject) pair is linked already."""
        ...
