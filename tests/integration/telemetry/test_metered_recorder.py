"""A usage record is stored whatever telemetry makes of it (a negative figure once raised and lost the record)."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.usage import Outcome, UsageRecord
from infrastructure.persistence.engine import create_engine, session_factory
from infrastructure.persistence.migrate import migrate
from infrastructure.persistence.tables import usage_records
from infrastructure.persistence.usage import BufferedSqlUsageRecorder
from infrastructure.telemetry.metered_recorder import MeteredUsageRecorder
from infrastructure.telemetry.prometheus import PrometheusTelemetry

RECORD = UsageRecord(
    id="req_odd_1",
    account_id="acct_a",
    key_id="key_a",
    endpoint="chat",
    model="openai/gpt-4o-mini",
    outcome=Outcome.STREAM_BROKEN,
    http_status=200,
    prompt_tokens=-7,
    completion_tokens=-1,
    cost_micros=-5_000_000,
    charged_micros=0,
    latency_ms=-3,
    streamed=True,
    created_at=datetime(2025, 3, 14, 12, 0, tzinfo=UTC),
)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await migrate(database_url)
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def store(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[BufferedSqlUsageRecorder]:
    recorder = BufferedSqlUsageRecorder(sessions, interval=60, max_batch=10)
    yield recorder
    await recorder.close(give_up_after=1)


async def stored_ids(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list((await session.execute(select(usage_records.c.id))).scalars())


async def test_a_record_with_negative_figures_is_stored_and_not_counted(
    store: BufferedSqlUsageRecorder, sessions: async_sessionmaker[AsyncSession]
) -> None:
    telemetry = PrometheusTelemetry()
    recorder = MeteredUsageRecorder(store, telemetry)

    recorder.record(RECORD)
    await recorder.flush()

    assert await stored_ids(sessions) == [RECORD.id]
    page = telemetry.exposition()[0].decode()
    assert 'sluice_upstream_errors_total{kind="stream_broken"} 1.0' in page
    assert "sluice_cost_microusd_total{" not in page  # nothing negative was added
    assert 'sluice_tokens_total{kind="prompt"' not in page


async def test_a_record_is_stored_when_counting_it_raises(
    store: BufferedSqlUsageRecorder, sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    def broken_labels(model: str) -> str:  # a stand-in for any bug inside a metric
        raise RuntimeError(f"no label for {model}")

    telemetry = PrometheusTelemetry()
    telemetry.label_models(broken_labels)  # type: ignore[arg-type]
    odd = replace(RECORD, id="req_odd_2", prompt_tokens=3)
    recorder = MeteredUsageRecorder(store, telemetry)

    recorder.record(odd)
    await recorder.flush()

    assert await stored_ids(sessions) == [odd.id]
    assert "metrics: counting usage record req_odd_2 failed" in caplog.text


def test_no_telemetry_method_raises_on_odd_input() -> None:
    telemetry = PrometheusTelemetry()
    telemetry.label_models(lambda model: model)  # type: ignore[arg-type]
    telemetry.request_done("chat", None, 200, -1.0)  # type: ignore[arg-type]
    telemetry.request_done("chat", "m", 200, float("nan"))
    telemetry.upstream_done("chat", -5.0)
    telemetry.rate_limited(None)  # type: ignore[arg-type]
    telemetry.upstream_error(None)  # type: ignore[arg-type]
    telemetry.stream_closed()
    telemetry.stream_opened()
    telemetry.usage_recorded(RECORD)
    telemetry.usage_recorded(None)  # type: ignore[arg-type]
    assert telemetry.exposition()[0]
