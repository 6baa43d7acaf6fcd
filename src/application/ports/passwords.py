from typing import Protocol

from domain.accounts import Account


class PasswordStore(Protocol):
    """Password hashes beside their accounts. Kept out of `Account`, so that the hash never rides along
    with an account into caches, principals or pages."""

    async def find(self, email: str) -> tuple[Account, str | None] | None:
        """The account of a normalized email and its password hash (None: no password set)."""
        ...

    async def get(self, account_id: str) -> str | None: ...

    async def set(self, account_id: str, password_hash: str) -> None: ...
