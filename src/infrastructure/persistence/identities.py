"""Identities at OpenID Connect providers, linked to accounts; and sign-ins waiting for their provider."""

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.errors import Conflict
from domain.identities import IdentityLink, PendingSignIn
from infrastructure.persistence.tables import identities, pending_sign_ins


class SqlIdentityRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, issuer: str, subject: str) -> IdentityLink | None:
        statement = select(identities).where(identities.c.issuer == issuer, identities.c.subject == subject)
        async with self._sessions() as session:
            row = (await session.execute(statement)).first()
        return None if row is None else IdentityLink(row.issuer, row.subject, row.account_id, row.created_at)

    async def add(self, link: IdentityLink) -> None:
        values = {
            "issuer": link.issuer,
            "subject": link.subject,
            "account_id": link.account_id,
            "created_at": link.created_at,
        }
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(insert(identities), values)
        except IntegrityError as exc:
            raise Conflict(f"the identity {link.subject} at {link.issuer} is linked already") from exc


class SqlPendingSignInStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def put(self, key: str, pending: PendingSignIn, now: datetime) -> None:
        values = {
            "key": key,
            "provider_id": pending.provider_id,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_verifier": pending.code_verifier,
            "redirect_uri": pending.redirect_uri,
            "next_path": pending.next_path,
            "expires_at": pending.expires_at,
        }
        async with self._sessions() as session, session.begin():
            # Abandoned sign-ins go here, not on a timer: starts are rare and the delete is indexed.
            await session.execute(delete(pending_sign_ins).where(pending_sign_ins.c.expires_at <= now))
            await session.execute(insert(pending_sign_ins), values)

    async def take(self, key: str, now: datetime) -> PendingSignIn | None:
        if len(key) != 64:
            return None
        # One statement reads and removes it, so two callbacks racing with one cookie get it once.
        statement = delete(pending_sign_ins).where(pending_sign_ins.c.key == key).returning(*pending_sign_ins.c)
        async with self._sessions() as session, session.begin():
            row = (await session.execute(statement)).first()
        if row is None or row.expires_at <= now:
            return None
        return PendingSignIn(
            provider_id=row.provider_id,
            state=row.state,
            nonce=row.nonce,
            code_verifier=row.code_verifier,
            redirect_uri=row.redirect_uri,
            next_path=row.next_path,
            expires_at=row.expires_at,
        )

