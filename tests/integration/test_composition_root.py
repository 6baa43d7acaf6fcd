"""The one composition root (`interfaces/providers`): every port resolves, and closing the container
drains first (credit leases returned, usage records written) and only then closes the adapters."""

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from dishka import AsyncContainer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from application.credit_leases import LeasedCreditLedger
from application.ports.rate_limiter import RateLimiter
from application.ports.telemetry import Telemetry
from application.use_cases.accounts import CreateAccount
from infrastructure.limits.memory import InProcessRateLimiter
from infrastructure.limits.redis import PipelinedRedisRateLimiter
from infrastructure.limits.resp import RespPipeline
from infrastructure.persistence.usage import BufferedSqlUsageRecorder
from infrastructure.upstream.catalog import CachedModelCatalog
from infrastructure.upstream.openrouter import OpenRouterUpstream
from interfaces.http.openai.calls import ForwardModelCall
from interfaces.http.readiness import Readiness
from interfaces.lifecycle import Lifecycle
from interfaces.migrations import run_migrations
from interfaces.providers import make_container
from interfaces.settings import Settings, load_settings

DRAIN = ["LeasedCreditLedger.sync", "BufferedSqlUsageRecorder.close"]
CLOSERS = {"CachedModelCatalog.aclose", "OpenRouterUpstream.aclose", "AsyncEngine.dispose"}
REDIS_CLOSERS = {"RespPipeline.aclose", "Redis.aclose"}


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Drain steps are noted when they finish, closers when they begin."""
    seen: list[str] = []

    def spy(cls: type, name: str, *, after: bool) -> None:
        original = getattr(cls, name)

        async def wrapper(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            if not after:
                seen.append(f"{cls.__name__}.{name}")
            result = await original(self, *args, **kwargs)
            if after:
                seen.append(f"{cls.__name__}.{name}")
            return result

        monkeypatch.setattr(cls, name, wrapper)

    spy(LeasedCreditLedger, "sync", after=True)
    spy(BufferedSqlUsageRecorder, "close", after=True)
    for cls, name in [
        (CachedModelCatalog, "aclose"),
        (OpenRouterUpstream, "aclose"),
        (AsyncEngine, "dispose"),
        (RespPipeline, "aclose"),
        (Redis, "aclose"),
    ]:
        spy(cls, name, after=False)
    return seen


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()  # Lifecycle.start froze this test process's heap
    gc.set_threshold(*threshold)


async def settings(tmp_path: Path, redis_url: str | None, events: list[str]) -> Settings:
    env = {"SLUICE_DATA_DIR": str(tmp_path), "SLUICE_UPSTREAM_URL": "http://127.0.0.1:9"}
    if redis_url:
        env["SLUICE_REDIS_URL"] = redis_url
    loaded = load_settings(env)
    await run_migrations(loaded.database_url)
    events.clear()  # the migration's own engine
    return loaded


async def use_everything(container: AsyncContainer) -> None:
    """What requests would resolve, lazily, after startup."""
    await (await container.get(CreateAccount)).execute("someone@example.org")
    await container.get(ForwardModelCall)
    await container.get(Telemetry)
    # The database and Redis answer; the upstream here is a closed port, so its model list is missing.
    problems = await (await container.get(Readiness)).problems()
    assert problems == ["upstream catalogue: the model list could not be loaded from the upstream"]


async def test_a_served_process_drains_before_it_closes_redis_the_upstream_and_the_database(
    tmp_path: Path, redis_url: str, events: list[str], restore_gc: None
):
    container = make_container(await settings(tmp_path, redis_url, events))
    lifecycle = await container.get(Lifecycle)
    await lifecycle.start()
    await use_everything(container)
    assert isinstance(await container.get(RateLimiter), PipelinedRedisRateLimiter)

    await container.close()

    assert events[:2] == DRAIN
    assert set(events[2:]) == CLOSERS | REDIS_CLOSERS and len(events) == 7
    assert events.index("CachedModelCatalog.aclose") < events.index("OpenRouterUpstream.aclose")


async def test_a_cli_process_never_started_still_drains_before_it_closes(tmp_path: Path, events: list[str]):
    container = make_container(await settings(tmp_path, None, events))
    await container.get(Lifecycle)
    await use_everything(container)
    assert isinstance(await container.get(RateLimiter), InProcessRateLimiter)

    await container.close()

    assert events[:2] == DRAIN
    assert set(events[2:]) == CLOSERS and len(events) == 5


async def test_a_closer_that_fails_is_logged_and_the_others_still_run(
    tmp_path: Path, events: list[str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    async def broken(self: OpenRouterUpstream) -> None:
        raise OSError("socket already gone")

    monkeypatch.setattr(OpenRouterUpstream, "aclose", broken)
    container = make_container(await settings(tmp_path, None, events))
    await container.get(Lifecycle)

    await container.close()  # raises nothing

    assert events[-1] == "AsyncEngine.dispose"
    assert "error while closing" in caplog.text
