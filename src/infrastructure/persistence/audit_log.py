"""The audit log in SQL: one row per entry, read newest first by its sequence number."""

from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.audit import CLI_ACTOR, Actor, AuditAction, AuditEntry, AuditQuery
from infrastructure.persistence.tables import audit_log


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        actor=Actor(row.actor, row.actor_id),
        action=AuditAction(row.action),
        target=row.target,
        at=row.at,
        before=row.before or {},
        after=row.after or {},
        reason=row.reason,
        target_label=row.target_label,
        account_id=row.account_id,
        seq=row.seq,
    )


class SqlAuditLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, entry: AuditEntry) -> AuditEntry:
        values = {
            "at": entry.at,
            "actor": entry.actor.label,
            "actor_id": entry.actor.account_id,
            "action": entry.action.value,
            "target": entry.target,
            "target_label": entry.target_label,
            "account_id": entry.account_id,
            "before": dict(entry.before),
            "after": dict(entry.after),
            "reason": entry.reason,
        }
        async with self._sessions() as session, session.begin():
            seq = (await session.execute(insert(audit_log).returning(audit_log.c.seq), values)).scalar_one()
        return AuditEntry(**{**_fields(entry), "seq": int(seq)})

    async def find(self, query: AuditQuery) -> list[AuditEntry]:
        statement = select(audit_log).order_by(audit_log.c.seq.desc()).limit(query.limit)
        if query.actor is not None:
            actor = audit_log.c.actor == query.actor
            if query.actor == CLI_ACTOR:
                actor = or_(actor, audit_log.c.actor.startswith(CLI_ACTOR + ":", autoescape=True))
            statement = statement.where(actor)
        if query.action is not None:
            statement = statement.where(audit_log.c.action == query.action.value)
        if query.target is not None:
            statement = statement.where(or_(audit_log.c.target == query.target, audit_log.c.account_id == query.target))
        if query.since is not None:
            statement = statement.where(audit_log.c.at >= query.since)
        if query.until is not None:
            statement = statement.where(audit_log.c.at < query.until)
        if query.before_seq is not None:
            statement = statement.where(audit_log.c.seq < query.before_seq)
        async with self._sessions() as session:
            rows = (await session.execute(statement)).all()
        return [_entry(row) for row in rows]


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in AuditEntry.__slots__}  # type: ignore[attr-defined]
