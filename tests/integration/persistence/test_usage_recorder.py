import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.usage import Outcome, UsageRecord, UsageTotals
from infrastructure.persistence.tables import usage_records
from infrastructure.persistence.usage import BufferedSqlUsageRecorder, SqlUsageQueries

from .conftest import NOW

Sessions = async_sessionmaker[AsyncSession]


def _record(n: int, key: str = "key_a", account: str = "acct_a", **changes) -> UsageRecord:
    values = dict(
        id=f"req_{key}_{n}",
        account_id=account,
        key_id=key,
        endpoint="chat",
        model="openai/gpt-4o-mini",
        outcome=Outcome.OK,
        http_status=200,
        prompt_tokens=10,
        completion_tokens=5,
        cost_micros=3,
        charged_micros=4,
        latency_ms=120,
        streamed=False,
        created_at=NOW + timedelta(seconds=n),
    )
    values.update(changes)
    return UsageRecord(**values)


@pytest.fixture
async def recorder(sessions: Sessions) -> AsyncIterator[BufferedSqlUsageRecorder]:
    # A long interval: tests decide when batches are written, unless they say otherwise.
    recorder = BufferedSqlUsageRecorder(sessions, interval=60, max_batch=10)
    yield recorder
    await recorder.close(give_up_after=1)


@pytest.fixture
def queries(sessions: Sessions) -> SqlUsageQueries:
    return SqlUsageQueries(sessions)


async def _stored(sessions: Sessions) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(usage_records))).scalar_one()


async def _eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


async def test_record_only_buffers(recorder: BufferedSqlUsageRecorder, sessions: Sessions) -> None:
    recorder.record(_record(1))
    assert recorder.pending == 1
    assert await _stored(sessions) == 0
    await recorder.flush()
    assert recorder.pending == 0
    assert await _stored(sessions) == 1


async def test_flush_writes_many_batches(
    recorder: BufferedSqlUsageRecorder, sessions: Sessions, queries: SqlUsageQueries
) -> None:
    for n in range(37):
        recorder.record(_record(n))
    await recorder.flush()
    assert await _stored(sessions) == 37
    assert await queries.totals_for_key("key_a") == UsageTotals(37, 370, 185, 111, 148)


async def test_a_full_batch_is_written_before_the_interval(
    recorder: BufferedSqlUsageRecorder, sessions: Sessions
) -> None:
    await recorder.start()
    for n in range(10):
        recorder.record(_record(n))
    await _eventually(lambda: recorder.pending == 0)
    assert await _stored(sessions) == 10


async def test_the_interval_writes_a_partial_batch(sessions: Sessions) -> None:
    recorder = BufferedSqlUsageRecorder(sessions, interval=0.02)
    await recorder.start()
    try:
        recorder.record(_record(1))
        await _eventually(lambda: recorder.pending == 0)
        assert await _stored(sessions) == 1
    finally:
        await recorder.close()


async def test_close_writes_what_is_left(recorder: BufferedSqlUsageRecorder, sessions: Sessions) -> None:
    await recorder.start()
    for n in range(5):
        recorder.record(_record(n))
    await recorder.close()
    assert recorder.pending == 0
    assert await _stored(sessions) == 5


async def test_a_record_id_is_written_and_counted_once(
    recorder: BufferedSqlUsageRecorder, sessions: Sessions, queries: SqlUsageQueries
) -> None:
    recorder.record(_record(1))
    recorder.record(_record(1))  # twice in one batch
    recorder.record(_record(2))
    await recorder.flush()
    recorder.record(_record(1, charged_micros=999))  # again in a later batch, as a retry would
    await recorder.flush()
    assert await _stored(sessions) == 2
    assert await queries.totals_for_key("key_a") == UsageTotals(2, 20, 10, 6, 8)


async def test_totals_and_queries(recorder: BufferedSqlUsageRecorder, queries: SqlUsageQueries) -> None:
    for n in range(3):
        recorder.record(_record(n, "key_a", charged_micros=100))
    for n in range(2):
        recorder.record(_record(n, "key_b", charged_micros=1_000, outcome=Outcome.STREAM_BROKEN, streamed=True))
    recorder.record(_record(0, "key_c", account="acct_other", charged_micros=5))
    await recorder.flush()
    recorder.record(_record(3, "key_a", charged_micros=100))  # the totals grow with later batches
    await recorder.flush()

    assert await queries.totals_for_key("key_a") == UsageTotals(4, 40, 20, 12, 400)
    assert await queries.totals_for_account("acct_a") == UsageTotals(6, 60, 30, 18, 2_400)
    assert await queries.totals_for_account("acct_nobody") == UsageTotals()
    assert await queries.totals_for_key("key_nobody") == UsageTotals()

    since = NOW + timedelta(seconds=1)  # records 1.. of each key
    assert await queries.charged_since("acct_a", since) == 3 * 100 + 1_000
    assert await queries.charged_since("acct_a", since, key_id="key_b") == 1_000
    assert await queries.charged_since("acct_a", NOW + timedelta(days=1)) == 0

    recent = await queries.recent("acct_a", 3)
    assert [r.id for r in recent] == ["req_key_a_3", "req_key_a_2", "req_key_b_1"]
    assert recent[2] == _record(1, "key_b", charged_micros=1_000, outcome=Outcome.STREAM_BROKEN, streamed=True)


async def _set_table_away(engine: AsyncEngine, away: bool) -> None:
    old, new = ("usage_records", "usage_records_away") if away else ("usage_records_away", "usage_records")
    async with engine.begin() as conn:
        await conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_a_failed_flush_keeps_the_records(
    recorder: BufferedSqlUsageRecorder, engine: AsyncEngine, sessions: Sessions, queries: SqlUsageQueries
) -> None:
    recorder.record(_record(1))
    recorder.record(_record(2))
    await _set_table_away(engine, True)
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises for a missing table
        await recorder.flush()
    assert recorder.pending == 2
    assert recorder.flush_failures == 1
    assert await queries.totals_for_key("key_a") == UsageTotals()  # the batch rolled back as a whole

    await _set_table_away(engine, False)
    await recorder.flush()
    assert recorder.pending == 0
    assert await _stored(sessions) == 2
    assert await queries.totals_for_key("key_a") == UsageTotals(2, 20, 10, 6, 8)


async def test_the_flusher_retries_until_the_database_is_back(
    engine: AsyncEngine, sessions: Sessions, queries: SqlUsageQueries
) -> None:
    recorder = BufferedSqlUsageRecorder(sessions, interval=0.01, max_batch=3, max_backoff=0.05)
    await recorder.start()
    try:
        await _set_table_away(engine, True)
        for n in range(7):
            recorder.record(_record(n))
        await _eventually(lambda: recorder.flush_failures >= 3)
        assert recorder.pending == 7

        await _set_table_away(engine, False)
        await _eventually(lambda: recorder.pending == 0)
    finally:
        await recorder.close()
    assert await _stored(sessions) == 7
    assert await queries.totals_for_key("key_a") == UsageTotals(7, 70, 35, 21, 28)


async def test_last_used_is_each_keys_newest_record(
    recorder: BufferedSqlUsageRecorder, queries: SqlUsageQueries
) -> None:
    for n, key in ((1, "key_a"), (5, "key_a"), (3, "key_a"), (2, "key_b")):
        recorder.record(_record(n, key=key))
    await recorder.flush()
    used = await queries.last_used(["key_a", "key_b", "key_never"])
    assert used == {"key_a": NOW + timedelta(seconds=5), "key_b": NOW + timedelta(seconds=2)}
    assert all(moment.tzinfo is not None for moment in used.values())
    assert await queries.last_used([]) == {}
