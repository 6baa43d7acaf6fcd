"""Writing the audit log, and reading it back filtered, newest first, a page at a time."""

import logging
from collections.abc import Mapping
from dataclasses import replace

from application.ports.accounts import AccountRepository
from application.ports.audit_log import AuditLog
from application.ports.clock import Clock
from domain.accounts import normalize_email
from domain.audit import MAX_PAGE, Actor, AuditAction, AuditEntry, AuditPage, AuditQuery, JsonValue, audit_entry
from domain.errors import InvalidRequest

log = logging.getLogger("sluice.audit")


class RecordAuditEntry:
    """Writes one entry, stamped with the clock's time.

    The change it describes is already made (no unit of work spans two stores), so an entry that
    cannot be written is logged whole, at error level, before the failure goes to the caller:
    the change is then still on record, in the log, and the admin sees that writing it failed.
    """

    def __init__(self, audit: AuditLog, clock: Clock) -> None:
        self._audit = audit
        self._clock = clock

    async def execute(
        self,
        actor: Actor,
        action: AuditAction,
        target: str,
        *,
        before: Mapping[str, JsonValue],
        after: Mapping[str, JsonValue],
        reason: str = "",
        target_label: str = "",
        account_id: str | None = None,
    ) -> AuditEntry:
        entry = audit_entry(
            actor,
            action,
            target,
            self._clock.now(),
            before=before,
            after=after,
            reason=reason,
            target_label=target_label,
            account_id=account_id,
        )
        try:
            return await self._audit.record(entry)
        except Exception:
            log.exception(
                "audit entry not written: %s by %s on %s (%s) before=%s after=%s reason=%r",
                entry.action,
                entry.actor.label,
                entry.target,
                entry.target_label,
                dict(entry.before),
                dict(entry.after),
                entry.reason,
            )
            raise


class ListAuditEntries:
    """A page of the log. A target given as an email means that account (and its keys)."""

    def __init__(self, audit: AuditLog, accounts: AccountRepository) -> None:
        self._audit = audit
        self._accounts = accounts

    async def execute(self, query: AuditQuery) -> AuditPage:
        if query.limit > MAX_PAGE:
            raise InvalidRequest(f"a page holds 1 to {MAX_PAGE} entries", param="limit")
        target = (query.target or "").strip() or None
        if target is not None and "@" in target:
            account = await self._accounts.get_by_email(normalize_email(target))
            if account is None:
                return AuditPage((), None)
            target = account.id
        actor = (query.actor or "").strip() or None
        if actor is not None and "@" in actor:
            actor = normalize_email(actor)
        # One more than asked: whether there is an older page, without counting the log.
        asked = replace(query, target=target, actor=actor, limit=query.limit + 1)
        found = await self._audit.find(asked)
        entries = tuple(found[: query.limit])
        more = len(found) > query.limit
        return AuditPage(entries, entries[-1].seq if more and entries else None)
