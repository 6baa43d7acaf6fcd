"""Generated images in the database, so that whichever replica a client reaches can serve its image.

Rows are written once and never updated; `get` ignores an expired row even before `purge` has
removed it, so an image stops being served at its expiry whatever the purge schedule.
"""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.ports.clock import Clock
from domain.images import StoredImage, new_image_token
from infrastructure.clock import SystemClock
from infrastructure.persistence.tables import images

_TOKEN_COLUMN = 64


class SqlImageStore:
    """`ImageStore` on Postgres or SQLite; `clock` stamps `created_at` (the system clock by default)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    async def put(self, data: bytes, media_type: str, account_id: str, expires_at: datetime) -> str:
        token = new_image_token()  # 256 random bits: a collision is not a case to handle
        statement = images.insert().values(
            token=token,
            media_type=media_type,
            data=data,
            account_id=account_id,
            created_at=self._clock.now(),
            expires_at=expires_at,
        )
        async with self._sessions() as session, session.begin():
            await session.execute(statement)
        return token

    async def get(self, token: str, now: datetime) -> StoredImage | None:
        if not token or len(token) > _TOKEN_COLUMN:
            return None  # no such row can exist; spares the database a lookup of arbitrary client input
        statement = select(images).where(images.c.token == token, images.c.expires_at > now)
        async with self._sessions() as session:
            row = (await session.execute(statement)).first()
        if row is None:
            return None
        return StoredImage(row.token, row.media_type, bytes(row.data), row.account_id, row.created_at, row.expires_at)

    async def purge(self, now: datetime) -> int:
        statement = delete(images).where(images.c.expires_at <= now)
        async with self._sessions() as session, session.begin():
            result = await session.execute(statement)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
