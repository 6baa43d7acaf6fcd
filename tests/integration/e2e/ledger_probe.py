"""Reads a gateway's Postgres database directly: what the ledger, the leases and the records say."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class AccountState:
    balance_micros: int
    entries_sum: int
    open_leases: int  # lease RESERVE entries without their `:close` entry
    lease_rows: list[str]  # every credit_leases row: id, closed_by, returned
    records: int
    charged_micros: int
    completion_tokens: list[int]


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _read(url: str, email: str) -> AccountState:
    conn = await asyncpg.connect(_dsn(url))
    try:
        account_id, balance = await conn.fetchrow("SELECT id, balance_micros FROM accounts WHERE email = $1", email)
        entries_sum = await conn.fetchval(
            "SELECT coalesce(sum(amount_micros), 0) FROM credit_entries WHERE account_id = $1", account_id
        )
        open_leases = await conn.fetchval(
            """SELECT count(*) FROM credit_entries r WHERE r.account_id = $1 AND r.kind = 'reserve'
               AND r.note = 'lease' AND NOT EXISTS (
                   SELECT 1 FROM credit_entries c WHERE c.idempotency_key = r.idempotency_key || ':close')""",
            account_id,
        )
        lease_rows = [
            f"{r['id']} {r['closed_by']} {r['returned_micros']} of {r['amount_micros']}"
            for r in await conn.fetch("SELECT * FROM credit_leases WHERE account_id = $1 ORDER BY id", account_id)
        ]
        rows = await conn.fetch(
            "SELECT charged_micros, completion_tokens FROM usage_records WHERE account_id = $1", account_id
        )
    finally:
        await conn.close()
    return AccountState(
        balance_micros=int(balance),
        entries_sum=int(entries_sum),
        open_leases=int(open_leases),
        lease_rows=lease_rows,
        records=len(rows),
        charged_micros=sum(int(r["charged_micros"]) for r in rows),
        completion_tokens=sorted(int(r["completion_tokens"]) for r in rows),
    )


def account_state(url: str, email: str) -> AccountState:
    return asyncio.run(_read(url, email))
