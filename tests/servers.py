"""Where the integration tests find Postgres and Redis.

Order: the URL in SLUICE_TEST_POSTGRES_URL / SLUICE_TEST_REDIS_URL (CI sets them to the machine's
own servers), else a testcontainers container when a Docker engine answers. With neither, the
test fails and says why: a missing server is never a silent skip.
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


def _docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0  # noqa: S607
    except (OSError, subprocess.TimeoutExpired):
        return False


class ServerUnavailable(RuntimeError):
    pass


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yields an asyncpg SQLAlchemy URL of a server we may create databases on."""
    url = os.environ.get("SLUICE_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    if not _docker_available():
        raise ServerUnavailable(
            "no Postgres for the integration tests: set SLUICE_TEST_POSTGRES_URL "
            "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test) or run a Docker engine"
        )
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:16-alpine", driver="asyncpg") as pg:
        yield pg.get_connection_url()


@contextmanager
def redis_server() -> Iterator[str]:
    url = os.environ.get("SLUICE_TEST_REDIS_URL")
    if url:
        yield url
        return
    if not _docker_available():
        raise ServerUnavailable(
            "no Redis for the integration tests: set SLUICE_TEST_REDIS_URL "
            "(e.g. redis://127.0.0.1:6379/15) or run a Docker engine"
        )
    from testcontainers.redis import RedisContainer

    with RedisContainer("redis:7-alpine") as container:
        host = container.get_container_host_ip()
        port = container.get_exposed_port(6379)
        yield f"redis://{host}:{port}/0"
