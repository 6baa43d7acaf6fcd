"""Signing up and in with httpx, for any test that drives the dashboard of a harness gateway.

    client = httpx.Client()                       # keeps the sluice_session cookie
    sign_up(client, gw.root, "ada@example.org", "correct horse battery")
    token = csrf_of(client, gw.root)              # the `_csrf` field / X-CSRF-Token header

Each call says it comes from a client address of its own (derived from the email, in 198.18.0.0/15,
the benchmarking range), through `X-Forwarded-For`: the harness's gateway trusts 127.0.0.1 as its
proxy, so a module that signs in many accounts does not meet the per-IP attempt limit (30 per
15 minutes). A test of that limit itself sends its own header.
"""

from __future__ import annotations

import hashlib
import re

import httpx

_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def client_address(email: str) -> str:
    digest = hashlib.sha256(email.encode()).digest()
    return f"198.{18 + digest[0] % 2}.{digest[1]}.{digest[2] % 254 + 1}"


def _post(client: httpx.Client, url: str, email: str, form: dict[str, str]) -> httpx.Response:
    return client.post(url, data=form, headers={"X-Forwarded-For": client_address(email)}, follow_redirects=False)


def sign_up(client: httpx.Client, base_url: str, email: str, password: str) -> httpx.Response:
    """Creates the account (open sign-up) and leaves the client signed in; fails the test otherwise."""
    response = _post(client, base_url + "/signup", email, {"email": email, "password": password, "confirm": password})
    assert response.status_code == 303, f"sign-up of {email} answered {response.status_code}: {response.text[:500]}"
    return response


def sign_in(client: httpx.Client, base_url: str, email: str, password: str, next: str | None = None) -> httpx.Response:
    form = {"email": email, "password": password, **({"next": next} if next else {})}
    response = _post(client, base_url + "/login", email, form)
    assert response.status_code == 303, f"sign-in of {email} answered {response.status_code}: {response.text[:500]}"
    return response


def csrf_of(client: httpx.Client, base_url: str) -> str:
    """The CSRF token of the client's session, read from a page's form."""
    response = client.get(base_url + "/account")
    assert response.status_code == 200, f"/account answered {response.status_code}: not signed in?"
    match = _CSRF.search(response.text)
    assert match, "no _csrf field on /account"
    return match.group(1)
