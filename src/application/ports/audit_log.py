from typing import Protocol

from domain.audit import AuditEntry, AuditQuery


class AuditLog(Protocol):
    """Append-only: entries are written and read, never changed or removed."""

    async def record(self, entry: AuditEntry) -> AuditEntry:
        """Writes the entry; returns it with its `seq` (greater than every entry's before it)."""
        ...

    async def find(self, query: AuditQuery) -> list[AuditEntry]:
        """Entries matching the query (`AuditQuery.matches`), newest (highest seq) first, at most `query.limit`."""
        ...
