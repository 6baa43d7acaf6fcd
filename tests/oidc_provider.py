"""A real OpenID Connect provider for the tests: oidc-provider-mock on a free loopback port, in a thread.

Its authorization page is a form where the person types a subject ("sub") and presses Authorize;
`authorize` fills it in with httpx and returns the URL the provider sends the browser back to.
Claims (email, email_verified) are set per subject beforehand with `set_user`.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import authlib.deprecate  # installs authlib's "always" filter now, so that the "ignore" below outranks it
import httpx
import werkzeug.serving

with warnings.catch_warnings():
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    import oidc_provider_mock  # imports authlib.jose, which is deprecated


@dataclass(frozen=True)
class MockProvider:
    issuer: str

    def set_user(self, sub: str, **claims: Any) -> None:
        response = httpx.put(f"{self.issuer}/users/{sub}", json=claims)
        assert response.status_code == 204, response.text

    async def authorize(self, client: httpx.AsyncClient, authorization_url: str, sub: str) -> str:
        """Signs `sub` in on the provider's page; the callback URL (with code and state) it redirects to."""
        page = await client.get(authorization_url)
        assert page.status_code == 200 and 'name="sub"' in page.text, page.text[:500]
        answer = await client.post(authorization_url, data={"sub": sub})
        assert answer.status_code == 302, answer.text[:500]
        return answer.headers["location"]

    async def deny(self, client: httpx.AsyncClient, authorization_url: str) -> str:
        answer = await client.post(authorization_url, data={"action": "deny"})
        assert answer.status_code == 302, answer.text[:500]
        return answer.headers["location"]


@contextmanager
def running_provider() -> Iterator[MockProvider]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield MockProvider(issuer=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
