from typing import Protocol


class PasswordHasher(Protocol):
    """A slow, salted, memory-hard hash (argon2id). Hashing takes tens of milliseconds of CPU on
    purpose, so an adapter runs it off the event loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, stored: str, password: str) -> bool:
        """False for a wrong password and for a stored value that is no hash of this hasher's."""
        ...

    def needs_rehash(self, stored: str) -> bool:
        """True when the stored hash was made with weaker parameters than the current ones."""
        ...
