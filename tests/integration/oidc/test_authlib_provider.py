"""The authlib adapter against a real OpenID Connect provider (oidc-provider-mock on loopback)."""

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import httpx2
import pytest
from joserfc.jwk import RSAKey

from domain.errors import SignInRefused
from domain.identities import PendingSignIn, ProviderIdentity, Refusal
from infrastructure.oidc.authlib_provider import AuthlibIdentityProvider
from tests.oidc_provider import MockProvider, running_provider

REDIRECT = "http://127.0.0.1:8080/login/oidc/club/callback"
CLIENT_ID = "sluice-tests"


class RewritingTransport(httpx2.AsyncBaseTransport):
    """Passes every call to the provider, and lets a test change what comes back on a path."""

    def __init__(self) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self.rewrites: dict[str, Callable[[bytes], bytes]] = {}
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        self.paths.append(request.url.path)
        rewrite = self.rewrites.get(request.url.path)
        if rewrite is None:
            return response
        body = await response.aread()
        await response.aclose()
        dropped = {"content-length", "content-encoding"}
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in dropped]
        return httpx2.Response(response.status_code, headers=headers, content=rewrite(body))

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture(scope="module")
def mock() -> Iterator[MockProvider]:
    with running_provider() as provider:
        provider.set_user("ada", email="Ada@Example.org", email_verified=True)
        provider.set_user("bob", email="bob@example.org")  # no email_verified claim
        yield provider


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def transport() -> RewritingTransport:
    return RewritingTransport()


@pytest.fixture
async def provider(mock: MockProvider, transport: RewritingTransport) -> AsyncIterator[AuthlibIdentityProvider]:
    adapter = AuthlibIdentityProvider(
        provider_id="club",
        name="Club",
        issuer=mock.issuer,
        client_id=CLIENT_ID,
        client_secret="club-secret",
        transport=transport,
        key_refresh_seconds=0,
    )
    yield adapter
    await adapter.aclose()


async def _start(provider: AuthlibIdentityProvider) -> tuple[str, PendingSignIn]:
    start = await provider.begin(REDIRECT)
    pending = PendingSignIn(
        "club", start.state, start.nonce, start.code_verifier, REDIRECT, "/", datetime.now(UTC) + timedelta(minutes=10)
    )
    return start.url, pending


async def _sign_in(
    mock: MockProvider, browser: httpx.AsyncClient, provider: AuthlibIdentityProvider, sub: str = "ada"
) -> tuple[dict[str, str], PendingSignIn]:
    url, pending = await _start(provider)
    callback = await mock.authorize(browser, url, sub)
    assert callback.startswith(REDIRECT + "?")
    return dict(httpx.URL(callback).params), pending


async def _refused(call) -> SignInRefused:  # type: ignore[no-untyped-def]
    with pytest.raises(SignInRefused) as caught:
        await call
    return caught.value


async def test_the_authorization_url_asks_for_a_code_with_pkce_s256_state_and_nonce(
    mock: MockProvider, provider: AuthlibIdentityProvider
) -> None:
    url, pending = await _start(provider)
    params = httpx.URL(url).params
    assert url.startswith(mock.issuer + "/oauth2/authorize?")
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == REDIRECT
    assert set(params["scope"].split()) == {"openid", "email", "profile"}
    assert params["state"] == pending.state and params["nonce"] == pending.nonce
    assert params["code_challenge_method"] == "S256"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(pending.code_verifier.encode()).digest())
    assert params["code_challenge"] == challenge.rstrip(b"=").decode()
    assert pending.code_verifier not in url


async def test_a_signed_in_person_comes_back_as_a_verified_identity(
    mock: MockProvider, browser: httpx.AsyncClient, provider: AuthlibIdentityProvider, transport: RewritingTransport
) -> None:
    params, pending = await _sign_in(mock, browser, provider)
    identity = await provider.finish(params, pending)
    assert identity == ProviderIdentity(mock.issuer, "ada", "Ada@Example.org", True)
    # Discovery and keys were read once each, and the code redeemed at the token endpoint.
    assert transport.paths == ["/.well-known/openid-configuration", "/oauth2/token", "/jwks"]
    params, pending = await _sign_in(mock, browser, provider)
    await provider.finish(params, pending)
    assert transport.paths[3:] == ["/oauth2/token"]  # both documents cached


async def test_an_email_without_email_verified_is_not_verified(
    mock: MockProvider, browser: httpx.AsyncClient, provider: AuthlibIdentityProvider
) -> None:
    params, pending = await _sign_in(mock, browser, provider, sub="bob")
    identity = await provider.finish(params, pending)
    assert (identity.subject, identity.email, identity.email_verified) == ("bob", "bob@example.org", False)


async def test_a_callback_with_another_state_is_refused_before_the_code_is_redeemed(
    mock: MockProvider, browser: httpx.AsyncClient, provider: AuthlibIdentityProvider, transport: RewritingTransport
) -> None:
    params, pending = await _sign_in(mock, browser, provider)
    for state in ("", "x" + params["state"], params["state"][:-1]):
        refused = await _refused(provider.finish({**params, "state": state}, pending))
        assert refused.reason is Refusal.STATE_MISMATCH
    refused = await _refused(provider.finish({k: v for k, v in params.items() if k != "state"}, pending))
    assert refused.reason is Refusal.STATE_MISMATCH
    assert "/oauth2/token" not in transport.paths
    # The code was not spent: the right state still signs in.
    assert (await provider.finish(params, pending)).subject == "ada"


async def test_a_replayed_code_is_refused_by_the_provider(
    mock: MockProvider, browser: httpx.AsyncClient, provider: AuthlibIdentityProvider
) -> None:
    params, pending = await _sign_in(mock, browser, provider)
    await provider.finish(params, pending)
    refused = await _refused(provider.finish(params, pending))
    assert (refused.reason, refused.provider_error) == (Refusal.CODE_REJECTED, "invalid_grant")


async def test_a_person_who_declines_comes_back_with_the_providers_error(
    mock: MockProvider, browser: httpx.AsyncClient, provider: AuthlibIdentityProvider
) -> None:
    url, pending = await _start(provider)
    callback = await mock.deny(browser, url)
    refused = await _refused(provider.finish(dict(httpx.URL(callback).params), pending))
    assert (refused.reason, refused.provider_error) == (Refusal.PROVIDER_ERROR, "access_denied")


def _replace_id_token(change: Callable[[str], str]) -> Callable[[bytes], bytes]:
    def rewrite(body: bytes) -> bytes:
        token = json.loads(body)
        token["id_token"] = change(token["id_token"])
        return json.dumps(token).encode()

    return rewrite


def _with_claims(id_token: str, **claims: object) -> str:
    header, payload, signature = id_token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    changed = base64.urlsafe_b64encode(json.dumps({**decoded, **claims}).encode()).rstrip(b"=").decode()
    return f"{header}.{changed}.{signature}"


async def test_a_tampered_id_token_is_refused(
    mock: MockProvider, browser: httpx.AsyncClient, provider: AuthlibIdentityProvider, transport: RewritingTransport
) -> None:
    transport.rewrites["/oauth2/token"] = _replace_id_token(lambda t: _with_claims(t, sub="mallory"))
    params, pending = await _sign_in(mock, browser, provider)
    assert (await _refused(provider.finish(params, pending))).reason is Refusal.TOKEN_INVALID
    for claims in ({"aud": "another-app"}, {"iss": "https://evil.example"}, {"exp": 1}):
        transport.rewrites["/oauth2/token"] = _replace_id_token(lambda t, c=claims: _with_claims(t, **c))
        params, pending = await _sign_in(mock, browser, provider)
        assert (await _refused(provider.finish(params, pending))).reason is Refusal.TOKEN_INVALID


async def test_an_unsigned_id_token_is_refused(
    mock: MockProvider, browser: httpx.AsyncClient, provider: AuthlibIdentityProvider, transport: RewritingTransport
) -> None:
    def unsigned(id_token: str) -> str:
        none = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
        return f"{none}.{id_token.split('.')[1]}."

    transport.rewrites["/oauth2/token"] = _replace_id_token(unsigned)
    params, pending = await _sign_in(mock, browser, provider)
    assert (await _refused(provider.finish(params, pending))).reason is Refusal.TOKEN_INVALID


async def _id_token_for_another_client(mock: MockProvider, browser: httpx.AsyncClient, nonce: str) -> str:
    """A genuine ID token of the same provider and person, issued to another application."""
    elsewhere = "http://127.0.0.1:9/another-app/callback"
    query = {
        "client_id": "another-app",
        "response_type": "code",
        "scope": "openid email",
        "redirect_uri": elsewhere,
        "state": "theirs",
        "nonce": nonce,
    }
    url = str(httpx.URL(mock.issuer + "/oauth2/authorize", params=query))
    code = httpx.URL(await mock.authorize(browser, url, "ada")).params["code"]
    answer = await browser.post(
        mock.issuer + "/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": elsewhere},
        auth=("another-app", "their-secret"),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["id_token"]


async def test_an_id_token_issued_to_another_client_is_refused(
    mock: MockProvider, browser: httpx.AsyncClient, provider: AuthlibIdentityProvider, transport: RewritingTransport
) -> None:
    url, pending = await _start(provider)
    theirs = await _id_token_for_another_client(mock, browser, pending.nonce)
    transport.rewrites["/oauth2/token"] = _replace_id_token(lambda _: theirs)
    params = dict(httpx.URL(await mock.authorize(browser, url, "ada")).params)
    assert (await _refused(provider.finish(params, pending))).reason is Refusal.TOKEN_INVALID


async def test_an_id_token_for_another_sign_in_is_refused_by_its_nonce(
    mock: MockProvider, browser: httpx.AsyncClient, provider: AuthlibIdentityProvider
) -> None:
    params, pending = await _sign_in(mock, browser, provider)
    _, other = await _start(provider)
    replayed = replace(pending, nonce=other.nonce)
    assert (await _refused(provider.finish(params, replayed))).reason is Refusal.TOKEN_INVALID


def _stale_keys(_: bytes) -> bytes:
    return json.dumps({"keys": [RSAKey.generate_key(2048, {"kid": "retired"}).as_dict(private=False)]}).encode()


async def test_keys_are_fetched_again_when_none_of_those_held_verifies_the_token(
    mock: MockProvider, browser: httpx.AsyncClient, provider: AuthlibIdentityProvider, transport: RewritingTransport
) -> None:
    served = []

    def first_stale(body: bytes) -> bytes:
        served.append(body)
        return _stale_keys(body) if len(served) == 1 else body

    transport.rewrites["/jwks"] = first_stale
    params, pending = await _sign_in(mock, browser, provider)
    assert (await provider.finish(params, pending)).subject == "ada"
    assert transport.paths.count("/jwks") == 2


async def test_a_key_missing_after_the_refetch_is_refused(
    mock: MockProvider, browser: httpx.AsyncClient, provider: AuthlibIdentityProvider, transport: RewritingTransport
) -> None:
    transport.rewrites["/jwks"] = _stale_keys
    params, pending = await _sign_in(mock, browser, provider)
    assert (await _refused(provider.finish(params, pending))).reason is Refusal.TOKEN_INVALID
    assert transport.paths.count("/jwks") == 2


async def test_a_discovery_document_naming_another_issuer_is_refused(
    mock: MockProvider, provider: AuthlibIdentityProvider, transport: RewritingTransport
) -> None:
    def elsewhere(body: bytes) -> bytes:
        return json.dumps({**json.loads(body), "issuer": "https://evil.example"}).encode()

    transport.rewrites["/.well-known/openid-configuration"] = elsewhere
    assert (await _refused(provider.begin(REDIRECT))).reason is Refusal.PROVIDER_UNAVAILABLE


async def test_an_unreachable_provider_is_unavailable() -> None:
    from tests.integration.e2e.harness import free_port

    adapter = AuthlibIdentityProvider(
        provider_id="gone", name="Gone", issuer=f"http://127.0.0.1:{free_port()}", client_id="x", client_secret="y"
    )
    try:
        assert (await _refused(adapter.begin(REDIRECT))).reason is Refusal.PROVIDER_UNAVAILABLE
    finally:
        await adapter.aclose()
