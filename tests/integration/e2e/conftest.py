from collections.abc import Iterator

import pytest

from tests.fakes.upstream import FakeUpstreamHandle, start_fake_upstream
from tests.integration.e2e.harness import Gateway


@pytest.fixture(scope="session")
def upstream() -> Iterator[FakeUpstreamHandle]:
    with start_fake_upstream(api_key="sk-upstream-test-key", chunks=5) as handle:
        yield handle


@pytest.fixture(autouse=True)
def _fresh_upstream(upstream: FakeUpstreamHandle) -> None:
    upstream.reset_config()
    upstream.configure(api_key="sk-upstream-test-key", chunks=5)


@pytest.fixture(scope="session")
def gateway(upstream: FakeUpstreamHandle) -> Iterator[Gateway]:
    """The embedded defaults: SQLite file, in-process limiter."""
    gw = Gateway(upstream.base_url).start()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def pg_url(postgres_base_url: str) -> Iterator[str]:
    """A fresh Postgres database for one test's gateway, dropped afterwards."""
    import asyncio

    from tests.conftest import _create_database, _drop_database

    url, name = asyncio.run(_create_database(postgres_base_url))
    try:
        yield url
    finally:
        asyncio.run(_drop_database(postgres_base_url, name))


@pytest.fixture(scope="session")
def shared_gateway(upstream: FakeUpstreamHandle, postgres_base_url: str, redis_url: str) -> Iterator[Gateway]:
    """Postgres and Redis, two worker processes: the deployment shape."""
    import asyncio

    from tests.conftest import _create_database, _drop_database

    url, name = asyncio.run(_create_database(postgres_base_url))
    gw = Gateway(
        upstream.base_url,
        extra_env={
            "SLUICE_DATABASE_URL": url,
            "SLUICE_REDIS_URL": redis_url,
            "SLUICE_KEY_PEPPER": "e2e-pepper-0123456789abcdef",
            "SLUICE_WORKERS": "2",
        },
    )
    gw.cli("migrate")
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()
        asyncio.run(_drop_database(postgres_base_url, name))
