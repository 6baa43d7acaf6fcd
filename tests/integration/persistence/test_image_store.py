"""SqlImageStore on SQLite and Postgres: tokens, bytes kept exactly, expiry and purge."""

import base64
import os
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.images import TOKEN_BYTES
from infrastructure.persistence.image_store import SqlImageStore
from infrastructure.persistence.tables import images
from tests.fakes.memory import FakeClock

from .conftest import NOW

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4 + b"\x00\xff" * 100  # every byte value, NULs included


def _store(sessions: async_sessionmaker[AsyncSession]) -> SqlImageStore:
    return SqlImageStore(sessions, FakeClock(NOW))


async def test_put_then_get_returns_the_exact_bytes(sessions: async_sessionmaker[AsyncSession]) -> None:
    store = _store(sessions)
    expires = NOW + timedelta(hours=1)
    token = await store.put(PNG, "image/png", "acct_1", expires)

    image = await store.get(token, NOW)
    assert image is not None
    assert image.token == token
    assert image.data == PNG and isinstance(image.data, bytes)
    assert image.media_type == "image/png"
    assert image.account_id == "acct_1"
    assert image.created_at == NOW
    assert image.expires_at == expires
    assert not image.expired(NOW)


async def test_tokens_are_32_random_urlsafe_bytes(sessions: async_sessionmaker[AsyncSession]) -> None:
    store = _store(sessions)
    tokens = [await store.put(b"x", "image/png", "acct_1", NOW + timedelta(minutes=5)) for _ in range(20)]
    assert len(set(tokens)) == 20
    for token in tokens:
        assert len(token) == 43
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        assert len(base64.urlsafe_b64decode(token + "=")) == TOKEN_BYTES


async def test_unknown_or_odd_tokens_are_none(sessions: async_sessionmaker[AsyncSession]) -> None:
    store = _store(sessions)
    await store.put(PNG, "image/png", "acct_1", NOW + timedelta(hours=1))
    assert await store.get("nope", NOW) is None
    assert await store.get("", NOW) is None
    assert await store.get("x" * 5000, NOW) is None
    assert await store.get("' OR 1=1 --", NOW) is None


async def test_an_image_is_not_served_from_its_expiry_on(sessions: async_sessionmaker[AsyncSession]) -> None:
    store = _store(sessions)
    expires = NOW + timedelta(minutes=10)
    token = await store.put(PNG, "image/jpeg", "acct_1", expires)

    assert await store.get(token, expires - timedelta(microseconds=1)) is not None
    assert await store.get(token, expires) is None  # expired even before any purge
    assert await store.get(token, expires + timedelta(days=1)) is None


async def test_purge_deletes_only_expired_images(sessions: async_sessionmaker[AsyncSession]) -> None:
    store = _store(sessions)
    old = [await store.put(PNG, "image/png", "acct_1", NOW + timedelta(minutes=m)) for m in (1, 2, 3)]
    fresh = await store.put(PNG, "image/png", "acct_2", NOW + timedelta(hours=2))

    assert await store.purge(NOW) == 0
    assert await store.purge(NOW + timedelta(minutes=2)) == 2  # expires_at <= now goes
    assert await store.purge(NOW + timedelta(minutes=2)) == 0
    async with sessions() as session:
        left = set((await session.execute(select(images.c.token))).scalars())
    assert left == {old[2], fresh}
    assert await store.purge(NOW + timedelta(hours=1)) == 1
    assert await store.get(fresh, NOW + timedelta(hours=1)) is not None


async def test_a_large_image_round_trips(sessions: async_sessionmaker[AsyncSession]) -> None:
    store = _store(sessions)
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(4 * 1024 * 1024)  # a 4 MB image, as a 2K render can be
    token = await store.put(data, "image/png", "acct_1", NOW + timedelta(hours=1))
    image = await store.get(token, NOW)
    assert image is not None and image.data == data


async def test_the_default_clock_stamps_created_at(sessions: async_sessionmaker[AsyncSession]) -> None:
    from datetime import UTC, datetime

    store = SqlImageStore(sessions)
    before = datetime.now(UTC)
    token = await store.put(PNG, "image/png", "acct_1", before + timedelta(hours=1))
    image = await store.get(token, before)
    assert image is not None
    assert before <= image.created_at <= datetime.now(UTC)
    assert image.created_at.tzinfo is not None
