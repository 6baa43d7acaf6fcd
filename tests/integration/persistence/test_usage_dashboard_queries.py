"""The dashboard's usage queries on SQLite and Postgres: per UTC day and model, and the last records."""

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.ports.usage import DayModelUsage
from domain.usage import Outcome, UsageRecord, UsageTotals
from infrastructure.persistence.tables import usage_records
from infrastructure.persistence.usage import BufferedSqlUsageRecorder, SqlUsageQueries
from tests.fakes.memory import EPOCH
from tests.integration.persistence.test_operator_queries import _record


async def test_sums_per_utc_day_and_model_of_one_account_from_a_start(sessions: async_sessionmaker[AsyncSession]):
    rows = [
        _record(1, "acct_a", "b/model", datetime(2025, 3, 12, 23, 59, 59, tzinfo=UTC), 50),  # before the start
        _record(2, "acct_a", "b/model", datetime(2025, 3, 13, 0, 0, tzinfo=UTC), 100),  # at the start: counted
        # 01:30 on the 14th in UTC+02:00 is 23:30 on the 13th in UTC: days are UTC days.
        _record(3, "acct_a", "a/model", datetime(2025, 3, 14, 1, 30, tzinfo=timezone(timedelta(hours=2))), 200),
        _record(4, "acct_a", "b/model", datetime(2025, 3, 13, 18, tzinfo=UTC), 400),
        _record(5, "acct_a", "a/model", datetime(2025, 3, 15, 9, tzinfo=UTC), 800),
        _record(6, "acct_b", "a/model", datetime(2025, 3, 15, 9, tzinfo=UTC), 1_600),  # another account
    ]
    async with sessions() as session, session.begin():
        await session.execute(insert(usage_records), rows)
    sut = SqlUsageQueries(sessions)

    got = await sut.by_day_and_model("acct_a", datetime(2025, 3, 13, tzinfo=UTC))

    assert got == [
        DayModelUsage("2025-03-13", "a/model", UsageTotals(1, 10, 5, 100, 200)),
        DayModelUsage("2025-03-13", "b/model", UsageTotals(2, 20, 10, 250, 500)),
        DayModelUsage("2025-03-15", "a/model", UsageTotals(1, 10, 5, 400, 800)),
    ]
    assert await sut.by_day_and_model("acct_nope", datetime(2025, 1, 1, tzinfo=UTC)) == []
    assert await sut.by_day_and_model("acct_a", datetime(2026, 1, 1, tzinfo=UTC)) == []


def _usage(n: int, account_id: str = "acct_a", *, failed: bool = False) -> UsageRecord:
    return UsageRecord(
        id=f"req-{n}",
        account_id=account_id,
        key_id="key_1",
        endpoint="chat",
        model="a/model",
        outcome=Outcome.UPSTREAM_ERROR if failed else Outcome.OK,
        http_status=502 if failed else 200,
        prompt_tokens=10 + n,
        completion_tokens=5,
        cost_micros=100,
        charged_micros=0 if failed else 200,
        latency_ms=10 + n,
        streamed=n % 2 == 0,
        created_at=EPOCH + timedelta(seconds=n),
    )


async def test_the_last_records_newest_first_as_the_recorder_wrote_them(sessions: async_sessionmaker[AsyncSession]):
    recorder = BufferedSqlUsageRecorder(sessions)
    sut = SqlUsageQueries(sessions)
    written = [_usage(n, failed=n == 3) for n in range(5)]
    for record in [*written, _usage(9, "acct_b")]:
        recorder.record(record)
    assert await sut.recent("acct_a", 3) == []  # still in the batch writer
    await recorder.flush()

    last = await sut.recent("acct_a", 3)

    assert last == written[:-4:-1]  # every field back as it went in, newest first
    assert (last[1].outcome, last[1].http_status, last[1].latency_ms) == (Outcome.UPSTREAM_ERROR, 502, 13)
    assert [r.id for r in await sut.recent("acct_a", 100)] == [f"req-{n}" for n in (4, 3, 2, 1, 0)]
