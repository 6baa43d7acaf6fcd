"""A provider's discovery document and signing keys, fetched when first needed and kept.

Nothing is fetched at start: a provider that is down must not stop the gateway, only its button.
The keys are fetched again when none of those held verifies a token (the provider rotated its
keys), at most once per `refresh_seconds`, and the discovery document once it is `ttl_seconds` old.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, import_key

from domain.errors import SignInRefused
from domain.identities import Refusal

log = logging.getLogger("sluice.oidc")

# Signatures only by the provider's private key: "none" and the HMAC family (keyed by our own client
# secret) are never accepted for an ID token.
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    algorithms: tuple[str, ...]
    token_auth_method: str  # client_secret_basic unless the provider takes only client_secret_post


def is_secure_url(url: str) -> bool:
    """https, or plain http to this very machine (a provider run locally for development and tests)."""
    return url.startswith("https://") or (url.startswith("http://") and (urlsplit(url).hostname or "") in _LOOPBACK)


class ProviderDocuments:
    def __init__(
        self,
        issuer: str,
        http: AsyncOAuth2Client,
        *,
        ttl_seconds: float = 3600.0,
        refresh_seconds: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuer = issuer.rstrip("/")
        self._http = http
        self._ttl = ttl_seconds
        self._refresh = refresh_seconds
        self._monotonic = monotonic
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, KeySet] | None = None
        self._lock = asyncio.Lock()  # concurrent first sign-ins fetch once

    async def metadata(self) -> ProviderMetadata:
        cached = self._metadata
        if cached and self._monotonic() - cached[0] < self._ttl:
            return cached[1]
        async with self._lock:
            cached = self._metadata
            if cached and self._monotonic() - cached[0] < self._ttl:
                return cached[1]
            document = await self._get_json(self._issuer + "/.well-known/openid-configuration")
            metadata = self._read_metadata(document)
            self._metadata = (self._monotonic(), metadata)
            return metadata

    async def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's keys; `refresh` asks again unless they were fetched a moment ago."""
        cached = self._keys
        if cached and not (refresh and self._monotonic() - cached[0] >= self._refresh):
            return cached[1]
        metadata = await self.metadata()
        async with self._lock:
            if self._keys is not cached and self._keys is not None:
                return self._keys[1]  # another caller fetched them while we waited
            keys = _key_set(await self._get_json(metadata.jwks_uri))
            self._keys = (self._monotonic(), keys)
            return keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            # `request`, not `get`: only it takes authlib's withhold_token (no access token for these).
            response = await self._http.request("GET", url, withhold_token=True)
            response.raise_for_status()
            body = response.json()
        except (httpx2.HTTPError, ValueError) as exc:
            log.warning("OpenID provider %s: cannot read %s: %s", self._issuer, url, exc)
            raise SignInRefused(Refusal.PROVIDER_UNAVAILABLE) from None
        if not isinstance(body, dict):
            log.warning("OpenID provider %s: %s is not a JSON object", self._issuer, url)
            raise SignInRefused(Refusal.PROVIDER_UNAVAILABLE)
        return body

    def _read_metadata(self, document: dict[str, Any]) -> ProviderMetadata:
        issuer = document.get("issuer")
        # OpenID Connect Discovery 4.3: the document must name the issuer it was fetched for.
        if not isinstance(issuer, str) or issuer.rstrip("/") != self._issuer:
            return self._bad(f"names issuer {issuer!r}")
        endpoints = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            endpoints[name] = self._endpoint(document.get(name), name)
        userinfo = document.get("userinfo_endpoint")
        offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = tuple(a for a in ASYMMETRIC if a in offered)
        if not algorithms:
            return self._bad(f"signs ID tokens only with {offered!r}")
        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        only_post = "client_secret_basic" not in methods and "client_secret_post" in methods
        method = "client_secret_post" if only_post else "client_secret_basic"
        return ProviderMetadata(
            issuer=issuer,
            userinfo_endpoint=self._endpoint(userinfo, "userinfo_endpoint") if userinfo else None,
            algorithms=algorithms,
            token_auth_method=method,
            **endpoints,
        )

    def _endpoint(self, url: Any, name: str) -> str:
        if not (isinstance(url, str) and is_secure_url(url)):
            self._bad(f"gives {name} {url!r} (an https URL is required)")
        return url

    def _bad(self, why: str) -> Any:
        log.warning("OpenID provider %s: the discovery document %s", self._issuer, why)
        raise SignInRefused(Refusal.PROVIDER_UNAVAILABLE)


def _key_set(document: dict[str, Any]) -> KeySet:
    keys = []
    for item in document.get("keys") or []:
        if not isinstance(item, dict) or item.get("use", "sig") != "sig" or item.get("kty") == "oct":
            continue
        try:
            keys.append(import_key(item))
        except (JoseError, ValueError, TypeError) as exc:  # a key type we do not use must not hide the others
            log.info("OpenID provider key %r skipped: %s", item.get("kid"), exc)
    return KeySet(keys)
