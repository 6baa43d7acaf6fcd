from datetime import datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import bindparam, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.accounts import Account, AccountStatus, Role
from domain.keys import ApiKey
from infrastructure.persistence.accounts import rate_limits_from_json, spend_caps_from_json
from infrastructure.persistence.tables import accounts, api_keys

_KEY_COLUMNS = tuple(api_keys.c)

# The authentication lookup, built once: the key and its owner in one indexed read by hash.
_FIND_WITH_ACCOUNT = (
    select(
        *_KEY_COLUMNS,
        accounts.c.email,
        accounts.c.role,
        accounts.c.status,
        accounts.c.plan,
        accounts.c.created_at.label("account_created_at"),
        accounts.c.rate_limits.label("account_rate_limits"),
        accounts.c.spend_caps.label("account_spend_caps"),
    )
    .join_from(api_keys, accounts, api_keys.c.account_id == accounts.c.id)
    .where(api_keys.c.secret_hash == bindparam("secret_hash"))
)


def _key_from_row(row: Any) -> ApiKey:
    models = row.allowed_models
    return ApiKey(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        prefix=row.prefix,
        secret_hash=row.secret_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        allowed_models=None if models is None else frozenset(models),
    )


class SqlApiKeyRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, key: ApiKey) -> None:
        models = None if key.allowed_models is None else sorted(key.allowed_models)
        values = {
            "id": key.id,
            "account_id": key.account_id,
            "name": key.name,
            "prefix": key.prefix,
            "secret_hash": key.secret_hash,
            "created_at": key.created_at,
            "expires_at": key.expires_at,
            "revoked_at": key.revoked_at,
            "allowed_models": models,
        }
        async with self._sessions() as session, session.begin():
            await session.execute(insert(api_keys), values)

    async def get(self, key_id: str) -> ApiKey | None:
        async with self._sessions() as session:
            row = (await session.execute(select(*_KEY_COLUMNS).where(api_keys.c.id == key_id))).first()
        return None if row is None else _key_from_row(row)

    async def find_with_account(self, secret_hash: str) -> tuple[ApiKey, Account] | None:
        async with self._sessions() as session:
            row = (await session.execute(_FIND_WITH_ACCOUNT, {"secret_hash": secret_hash})).first()
        if row is None:
            return None
        account = Account(
            id=row.account_id,
            email=row.email,
            role=Role(row.role),
            status=AccountStatus(row.status),
            plan=row.plan,
            created_at=row.account_created_at,
            rate_limits=rate_limits_from_json(row.account_rate_limits, row.account_id),
            spend_caps=spend_caps_from_json(row.account_spend_caps, row.account_id),
        )
        return _key_from_row(row), account

    async def list_for_account(self, account_id: str) -> list[ApiKey]:
        statement = (
            select(*_KEY_COLUMNS)
            .where(api_keys.c.account_id == account_id)
            .order_by(api_keys.c.created_at, api_keys.c.id)
        )
        async with self._sessions() as session:
            rows = (await session.execute(statement)).all()
        return [_key_from_row(row) for row in rows]

    async def count_active(self, account_id: str, now: datetime) -> int:
        statement = select(func.count()).where(
            api_keys.c.account_id == account_id,
            api_keys.c.revoked_at.is_(None),
            or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > now),
        )
        async with self._sessions() as session:
            return int((await session.execute(statement)).scalar_one())

    async def revoke(self, key_id: str, now: datetime) -> bool:
        # A second revocation keeps the first time, as ApiKey.revoked does.
        statement = (
            update(api_keys)
            .where(api_keys.c.id == key_id)
            .values(revoked_at=func.coalesce(api_keys.c.revoked_at, literal(now, DateTimeUTC())))
        )
        async with self._sessions() as session, session.begin():
            result = await session.execute(statement)
        return result.rowcount > 0
