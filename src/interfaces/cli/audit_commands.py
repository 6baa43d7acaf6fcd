"""`sluice audit list`: the audit log, newest first, filtered."""

import argparse
import json
from datetime import UTC, datetime

from application.use_cases.audit import ListAuditEntries
from domain.audit import AuditEntry, AuditQuery, parse_action
from domain.errors import InvalidRequest
from interfaces.cli.context import container, say
from interfaces.cli.output import print_json, print_rows, when
from interfaces.settings import Settings


def _time(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidRequest(
            f"{option} must be a date (2025-03-14) or an ISO time (2025-03-14T09:30:00Z), got {text!r}", option
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def entry_json(entry: AuditEntry) -> dict[str, object]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="seconds"),
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


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


async def audit_list(settings: Settings, args: argparse.Namespace) -> int:
    query = AuditQuery(
        actor=args.actor,
        action=parse_action(args.audit_action) if args.audit_action else None,
        target=args.target,
        since=_time(args.since, "--since") if args.since else None,
        until=_time(args.until, "--until") if args.until else None,
        before_seq=args.before,
        limit=args.limit,
    )
    async with container(settings) as c:
        page = await (await c.get(ListAuditEntries)).execute(query)
    if args.json:
        print_json([entry_json(e) for e in page.entries])
    else:
        print_rows(
            ("seq", "at", "actor", "action", "target", "before", "after", "reason"),
            (
                (
                    e.seq,
                    when(e.at),
                    e.actor.label,
                    e.action,
                    e.target_label or e.target,
                    _compact(dict(e.before)),
                    _compact(dict(e.after)),
                    e.reason or "-",
                )
                for e in page.entries
            ),
        )
    if page.next_before is not None:
        say(f"older entries follow: add --before {page.next_before}")
    return 0
