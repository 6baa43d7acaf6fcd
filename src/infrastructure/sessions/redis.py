"""Dashboard sessions in Redis: one key per session expiring with it, and a sorted set per account.

`sluice:web-session:<id>` holds the session as JSON and expires at the session's expiry (Redis drops
it; nothing to purge). `sluice:web-sessions:<account id>` indexes the account's session ids by
expiry, so that signing out everywhere finds them all; `save_session.lua` keeps the two in step.
"""

import json
from dataclasses import replace
from datetime import UTC, datetime
from importlib.resources import files

from redis.asyncio import Redis

from domain.web_sessions import WebSession

_SAVE_LUA = files(__package__).joinpath("save_session.lua").read_text(encoding="utf-8")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _encode(session: WebSession) -> str:
    return json.dumps(
        {
            "account_id": session.account_id,
            "csrf_token": session.csrf_token,
            "created_at": session.created_at.isoformat(),
            "last_seen_at": session.last_seen_at.isoformat(),
            "expires_at": session.expires_at.isoformat(),
            "user_agent": session.user_agent,
        }
    )


def _decode(session_id: str, raw: bytes) -> WebSession:
    data = json.loads(raw)
    return WebSession(
        id=session_id,
        account_id=data["account_id"],
        csrf_token=data["csrf_token"],
        created_at=datetime.fromisoformat(data["created_at"]),
        last_seen_at=datetime.fromisoformat(data["last_seen_at"]),
        expires_at=datetime.fromisoformat(data["expires_at"]),
        user_agent=data.get("user_agent", ""),
    )


class RedisSessionStore:
    def __init__(self, client: Redis, prefix: str = "sluice:") -> None:
        self._client = client
        self._prefix = prefix
        self._save = client.register_script(_SAVE_LUA)

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}web-session:{session_id}"

    def _index(self, account_id: str) -> str:
        return f"{self._prefix}web-sessions:{account_id}"

    async def _write(self, session: WebSession, mode: str) -> None:
        now = _ms(datetime.now(UTC))
        keys = [self._key(session.id), self._index(session.account_id)]
        await self._save(keys=keys, args=[_encode(session), _ms(session.expires_at), session.id, now, mode])

    async def add(self, session: WebSession) -> None:
        await self._write(session, "add")

    async def get(self, session_id: str) -> WebSession | None:
        raw = await self._client.get(self._key(session_id))
        return None if raw is None else _decode(session_id, raw)

    async def touch(self, session_id: str, last_seen_at: datetime, expires_at: datetime) -> None:
        session = await self.get(session_id)
        if session is None:
            return
        await self._write(replace(session, last_seen_at=last_seen_at, expires_at=expires_at), "touch")

    async def delete(self, session_id: str) -> None:
        session = await self.get(session_id)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(session_id))
            if session is not None:
                pipe.zrem(self._index(session.account_id), session_id)
            await pipe.execute()

    async def delete_for_account(self, account_id: str, keep: str | None = None) -> int:
        index = self._index(account_id)
        ids = [raw.decode() for raw in await self._client.zrange(index, 0, -1)]
        ending = [session_id for session_id in ids if session_id != keep]
        if not ending:
            return 0
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(*(self._key(session_id) for session_id in ending))
            pipe.zrem(index, *ending)
            deleted, _ = await pipe.execute()
        return int(deleted)

    async def purge_expired(self, now: datetime) -> int:
        return 0  # each session's key expires on its own; the index is trimmed on every write
