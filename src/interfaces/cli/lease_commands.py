"""`sluice credits leases` and `sluice credits reconcile`: the credit that running processes hold."""

import argparse
from datetime import UTC, datetime

from application.use_cases.leases import ListLeases, ReconcileLeases
from interfaces.cli.context import container, say
from interfaces.cli.output import money, print_json, print_rows, usd_text, when
from interfaces.settings import Settings


async def credits_leases(settings: Settings, args: argparse.Namespace) -> int:
    async with container(settings) as c:
        standing = await (await c.get(ListLeases)).execute()
    now = datetime.now(UTC)
    if args.json:
        print_json(
            [
                {
                    "lease": s.lease.id,
                    "email": s.email,
                    "account_id": s.lease.account_id,
                    **money(s.lease.amount_micros, "amount"),
                    **money(s.recorded_spent_micros, "recorded_spent"),
                    "opened_at": when(s.lease.opened_at),
                    "expires_at": when(s.lease.expires_at),
                    "age_seconds": round((now - s.lease.opened_at).total_seconds(), 1),
                    "expired": s.lease.expired(now),
                    "process": s.lease.owner,
                }
                for s in standing
            ]
        )
        return 0
    print_rows(
        ("lease", "email", "amount", "recorded_spent", "age", "expires_in", "process"),
        (
            (
                s.lease.id,
                s.email,
                usd_text(s.lease.amount_micros),
                usd_text(s.recorded_spent_micros),
                f"{(now - s.lease.opened_at).total_seconds():.0f}s",
                f"{(s.lease.expires_at - now).total_seconds():.0f}s",
                s.lease.owner,
            )
            for s in standing
        ),
    )
    say(f"{len(standing)} open lease(s); a negative expires_in means its process stopped renewing it")
    return 0


async def credits_reconcile(settings: Settings, args: argparse.Namespace) -> int:
    async with container(settings) as c:
        returned = await (await c.get(ReconcileLeases)).execute()
    total = sum(amount for _, amount in returned)
    if args.json:
        print_json(
            {
                "returned": [
                    {"lease": x.id, "account_id": x.account_id, "process": x.owner, **money(amount, "amount")}
                    for x, amount in returned
                ],
                **money(total, "total"),
            }
        )
    else:
        print_rows(
            ("lease", "account_id", "returned", "process"),
            ((lease.id, lease.account_id, usd_text(amount), lease.owner) for lease, amount in returned),
        )
    say(f"returned {len(returned)} expired lease(s), {usd_text(total)} in all")
    return 0
