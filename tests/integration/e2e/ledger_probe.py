"""Reads a gateway's Postgres database directly: what the ledger, the leases and the records say."""

from __future__ import annotations

import asyncio
import threading
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


async def _record_ids(url: str, email: str) -> list[str]:
    conn = await asyncpg.connect(_dsn(url))
    try:
        rows = await conn.fetch(
            "SELECT u.id FROM usage_records u JOIN accounts a ON a.id = u.account_id WHERE a.email = $1", email
        )
    finally:
        await conn.close()
    return [row["id"] for row in rows]


def record_ids(url: str, email: str) -> list[str]:
    """The ids of the account's usage records (each the X-Request-Id of the answer it bills)."""
    return asyncio.run(_record_ids(url, email))


class BalanceWatch:
    """Reads an account's balance every few milliseconds in a thread of its own, until stopped.

    with BalanceWatch(url, email) as watch: ...   # then watch.samples, oldest first
    """

    def __init__(self, url: str, email: str, every_seconds: float = 0.005) -> None:
        self._url, self._email, self._every = url, email, every_seconds
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._watch()), daemon=True)

    async def _watch(self) -> None:
        conn = await asyncpg.connect(_dsn(self._url))
        try:
            while not self._stop.is_set():
                self.samples.append(
                    int(await conn.fetchval("SELECT balance_micros FROM accounts WHERE email = $1", self._email))
                )
                await asyncio.sleep(self._every)
        finally:
            await conn.close()

    def __enter__(self) -> BalanceWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
