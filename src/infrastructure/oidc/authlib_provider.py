"""An OpenID Connect provider through authlib's OAuth 2 client (authorization code flow with PKCE S256)."""

import hmac
import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from application.ports.identity_provider import AuthorizationStart
from domain.errors import SignInRefused
from domain.identities import PendingSignIn, ProviderIdentity, Refusal
from infrastructure.oidc.documents import ProviderDocuments, ProviderMetadata
from infrastructure.oidc.id_token import KeyMismatch, verify_id_token

log = logging.getLogger("sluice.oidc")

SCOPE = "openid email profile"


class AuthlibIdentityProvider:
    """One client of one provider. The client (an httpx2 connection pool) is shared by every
    sign-in: it holds no per-sign-in state we rely on, each call gets its own token back."""

    def __init__(
        self,
        *,
        provider_id: str,
        name: str,
        issuer: str,
        client_id: str,
        client_secret: str,
        timeout: float = 10.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        key_refresh_seconds: float = 10.0,
    ) -> None:
        self._id = provider_id
        self._name = name
        self._client_id = client_id
        extra: dict[str, Any] = {"transport": transport} if transport is not None else {}
        self._client = AsyncOAuth2Client(
            client_id=client_id,
            client_secret=client_secret,
            scope=SCOPE,
            code_challenge_method="S256",
            timeout=timeout,
            **extra,
        )
        self._documents = ProviderDocuments(issuer, self._client, refresh_seconds=key_refresh_seconds)

    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str:
        return self._name

    async def begin(self, redirect_uri: str) -> AuthorizationStart:
        metadata = await self._documents.metadata()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 characters: RFC 7636 allows 43 to 128
        url, _ = self._client.create_authorization_url(
            metadata.authorization_endpoint,
            state=state,
            code_verifier=verifier,
            nonce=nonce,
            redirect_uri=redirect_uri,
        )
        return AuthorizationStart(url=url, state=state, nonce=nonce, code_verifier=verifier)

    async def finish(self, params: Mapping[str, str], pending: PendingSignIn) -> ProviderIdentity:
        if params.get("error"):
            # Before the state check: some providers leave the state off their error answers, and
            # an error ends this sign-in whoever sent it; the code tells the person why.
            raise SignInRefused(Refusal.PROVIDER_ERROR, _oauth_code(params["error"]))
        if not hmac.compare_digest(params.get("state", "").encode(), pending.state.encode()):
            raise SignInRefused(Refusal.STATE_MISMATCH)
        metadata = await self._documents.metadata()
        # RFC 9207: a provider that names itself must be the one this browser was sent to.
        if "iss" in params and params["iss"] != metadata.issuer:
            raise SignInRefused(Refusal.STATE_MISMATCH)
        code = params.get("code")
        if not code:
            raise SignInRefused(Refusal.CODE_REJECTED)
        token = await self._redeem(metadata, code, pending)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            log.warning("OpenID provider %s: the token response has no id_token", self._id)
            raise SignInRefused(Refusal.TOKEN_INVALID)
        claims = await self._verified_claims(metadata, id_token, pending.nonce)
        if "email" not in claims:
            claims = {**await self._userinfo(metadata, token, claims["sub"]), **claims}
        email = claims.get("email")
        return ProviderIdentity(
            issuer=metadata.issuer,
            subject=claims["sub"],
            email=email if isinstance(email, str) else None,
            # Some providers send the string "true".
            email_verified=claims.get("email_verified") in (True, "true"),
        )

    async def _redeem(self, metadata: ProviderMetadata, code: str, pending: PendingSignIn) -> dict[str, Any]:
        try:
            return await self._client.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                redirect_uri=pending.redirect_uri,
                code_verifier=pending.code_verifier,
                auth=self._client.client_auth(metadata.token_auth_method),
            )
        except OAuthError as exc:  # invalid_grant: replayed, expired or not ours
            log.info("OpenID provider %s refused the code: %s", self._id, exc.error)
            raise SignInRefused(Refusal.CODE_REJECTED, _oauth_code(exc.error)) from None
        except httpx2.HTTPStatusError as exc:
            log.warning("OpenID provider %s: token endpoint answered %s", self._id, exc.response.status_code)
            refusal = Refusal.PROVIDER_UNAVAILABLE if exc.response.status_code >= 500 else Refusal.CODE_REJECTED
            raise SignInRefused(refusal) from None
        except (httpx2.HTTPError, ValueError) as exc:
            log.warning("OpenID provider %s: token endpoint unreachable or unreadable: %s", self._id, exc)
            raise SignInRefused(Refusal.PROVIDER_UNAVAILABLE) from None

    async def _verified_claims(self, metadata: ProviderMetadata, id_token: str, nonce: str) -> dict[str, Any]:
        check = {
            "issuer": metadata.issuer,
            "client_id": self._client_id,
            "nonce": nonce,
            "algorithms": metadata.algorithms,
        }
        held = await self._documents.keys()
        try:
            return verify_id_token(id_token, held, now=int(time.time()), **check)
        except KeyMismatch:
            pass
        # The provider may have rotated its keys since we fetched them: fetch them again (at most
        # once per key_refresh_seconds, so forged tokens cannot make us hammer the provider).
        fresh = await self._documents.keys(refresh=True)
        try:
            if fresh is held:
                raise KeyMismatch()
            return verify_id_token(id_token, fresh, now=int(time.time()), **check)
        except KeyMismatch:
            log.warning("OpenID provider %s: no key of its JWKS verifies the ID token", self._id)
            raise SignInRefused(Refusal.TOKEN_INVALID) from None

    async def _userinfo(self, metadata: ProviderMetadata, token: dict[str, Any], subject: str) -> dict[str, Any]:
        """The email from the userinfo endpoint, for providers that leave it out of the ID token."""
        access_token = token.get("access_token")
        if not metadata.userinfo_endpoint or not isinstance(access_token, str):
            return {}
        try:
            response = await self._client.request(
                "GET",
                metadata.userinfo_endpoint,
                withhold_token=True,
                headers={"Authorization": f"Bearer {access_token}"},
            )
            response.raise_for_status()
            info = response.json()
        except (httpx2.HTTPError, ValueError) as exc:
            log.warning("OpenID provider %s: userinfo unreadable: %s", self._id, exc)
            return {}
        # OpenID Connect Core 5.3.2: userinfo about anyone else is ignored.
        if not isinstance(info, dict) or info.get("sub") != subject:
            return {}
        return {k: info[k] for k in ("email", "email_verified") if k in info}

    async def aclose(self) -> None:
        await self._client.aclose()


def _oauth_code(value: object) -> str:
    """An OAuth error code as it may be shown: short, and only the characters RFC 6749 allows in one."""
    text = str(value or "")[:64]
    return "".join(ch for ch in text if ch.isalnum() or ch in "_-.") or "error"
