"""Sign-up, sign-in, sessions and CSRF against a real `sluice serve`, driven by httpx (and the CLI)."""

import os
import pty
import re
import secrets
import select
import signal
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import REPO_ROOT, Gateway
from tests.integration.e2e.web_session import client_address, csrf_of, sign_in, sign_up
from tests.integration.e2e.web_waiting import eventually

PASSWORD = "correct horse battery"


def _email(tag: str = "web") -> str:
    return f"{tag}-{secrets.token_hex(4)}@example.org"


def _signed_up(gw: Gateway, email: str | None = None) -> tuple[httpx.Client, str]:
    client = httpx.Client()
    email = email or _email()
    sign_up(client, gw.root, email, PASSWORD)
    return client, email


def _cookie_header(response: httpx.Response) -> str:
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("sluice_session=")]
    assert len(cookies) == 1, response.headers
    return cookies[0]


def _signed_in(client: httpx.Client, gw: Gateway) -> bool:
    return client.get(gw.root + "/account").status_code == 200


# ------------------------------------------------------------------------------------------ sign-up


def test_sign_up_lands_signed_in_on_the_default_plan(gateway: Gateway) -> None:
    client = httpx.Client()
    home = client.get(gateway.root + "/")
    assert (home.status_code, home.headers["location"]) == (303, "/login")
    email = _email()
    response = sign_up(client, gateway.root, email, PASSWORD)
    assert response.headers["location"] == "/dashboard"
    cookie = _cookie_header(response)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Max-Age=1209600" in cookie  # SLUICE_SESSION_DAYS=14
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    assert client.get(gateway.root + "/").headers["location"] == "/dashboard"
    assert email in client.get(gateway.root + "/dashboard").text
    account = client.get(gateway.root + "/account")
    assert account.status_code == 200
    assert re.search(r"<th scope=\"row\">Plan</th><td>default</td>", account.text)
    assert re.search(r"<th scope=\"row\">Role</th><td>user</td>", account.text)
    assert "Cache-Control" in account.headers and account.headers["cache-control"] == "no-store"


def test_sign_up_refuses_a_taken_email_a_short_password_and_differing_passwords(gateway: Gateway) -> None:
    _, email = _signed_up(gateway)
    for form, status, said in (
        ({"email": email, "password": PASSWORD, "confirm": PASSWORD}, 409, "exists already"),
        ({"email": _email(), "password": "short", "confirm": "short"}, 400, "A password needs 8 to 1024 characters"),
        ({"email": _email(), "password": PASSWORD, "confirm": PASSWORD + "!"}, 400, "The two passwords differ"),
    ):
        answer = httpx.post(gateway.root + "/signup", data=form, headers={"X-Forwarded-For": client_address(email)})
        assert answer.status_code == status and said in answer.text, answer.text
        assert "set-cookie" not in answer.headers


def test_the_cookie_is_secure_when_a_trusted_proxy_says_https(gateway: Gateway) -> None:
    _, email = _signed_up(gateway)
    response = httpx.post(
        gateway.root + "/login",
        data={"email": email, "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": client_address(email)},
    )
    assert response.status_code == 303
    assert "Secure" in _cookie_header(response)


# ------------------------------------------------------------------------------------------ sign-in


def test_unknown_email_and_wrong_password_get_the_same_answer(gateway: Gateway) -> None:
    _, email = _signed_up(gateway)
    unknown = _email("nobody")
    answers = []
    for who in (email, unknown):
        response = httpx.post(
            gateway.root + "/login",
            data={"email": who, "password": "not the password"},
            headers={"X-Forwarded-For": client_address(who)},
        )
        assert "set-cookie" not in response.headers
        answers.append((response.status_code, response.text.replace(who, "EMAIL")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401 and "Wrong email or password." in answers[0][1]


def test_sign_in_goes_to_a_local_next_only(gateway: Gateway) -> None:
    _, email = _signed_up(gateway)
    page = httpx.get(gateway.root + "/keys")
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=/keys")
    form = httpx.get(gateway.root + "/login?next=/keys").text
    assert 'name="next" value="/keys"' in form
    for target, landing in (
        ("/keys", "/keys"),
        ("//evil.example/", "/dashboard"),
        ("https://evil.example", "/dashboard"),
    ):
        client = httpx.Client()
        assert sign_in(client, gateway.root, email, PASSWORD, next=target).headers["location"] == landing
    api = httpx.get(gateway.root + "/api/keys/x")  # a JSON call is told, not redirected
    assert api.status_code in (401, 405)


def test_too_many_attempts_answer_429_with_a_clear_message(gateway: Gateway) -> None:
    _, email = _signed_up(gateway)
    for n in range(9):  # the sign-up was the first of SLUICE_SIGNIN_ATTEMPTS_PER_EMAIL=10 (from other addresses)
        wrong = httpx.post(
            gateway.root + "/login",
            data={"email": email, "password": f"guess {n}"},
            headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},
        )
        assert wrong.status_code == 401
    limited = httpx.post(
        gateway.root + "/login",
        data={"email": email, "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.99"},
    )
    assert limited.status_code == 429
    assert "Too many sign-in attempts for this email address. Try again in" in limited.text
    assert int(limited.headers["retry-after"]) > 0
    assert "set-cookie" not in limited.headers


# ------------------------------------------------------------------------------------------ signing out


def test_sign_out_ends_this_session_and_sign_out_everywhere_ends_them_all(gateway: Gateway) -> None:
    laptop, email = _signed_up(gateway)
    phone, tablet = httpx.Client(), httpx.Client()
    sign_in(phone, gateway.root, email, PASSWORD)
    sign_in(tablet, gateway.root, email, PASSWORD)
    out = phone.post(gateway.root + "/logout", data={"_csrf": csrf_of(phone, gateway.root)})
    assert (out.status_code, out.headers["location"]) == (303, "/login?signed_out=out")
    assert "Max-Age=0" in _cookie_header(out)
    assert not _signed_in(phone, gateway)
    assert _signed_in(laptop, gateway) and _signed_in(tablet, gateway)
    everywhere = laptop.post(
        gateway.root + "/account/sign-out-everywhere", data={"_csrf": csrf_of(laptop, gateway.root)}
    )
    assert everywhere.headers["location"] == "/login?signed_out=everywhere"
    assert not _signed_in(laptop, gateway) and not _signed_in(tablet, gateway)
    assert "You are signed out on every device." in httpx.get(gateway.root + "/login?signed_out=everywhere").text


def test_changing_the_password_signs_out_the_other_sessions(gateway: Gateway) -> None:
    here, email = _signed_up(gateway)
    there = httpx.Client()
    sign_in(there, gateway.root, email, PASSWORD)
    token = csrf_of(here, gateway.root)
    wrong = here.post(
        gateway.root + "/account/password",
        data={
            "_csrf": token,
            "current_password": "nope",
            "new_password": "a new passphrase",
            "confirm": "a new passphrase",
        },
    )
    assert wrong.status_code == 400 and "The current password is not right." in wrong.text
    changed = here.post(
        gateway.root + "/account/password",
        data={
            "_csrf": token,
            "current_password": PASSWORD,
            "new_password": "a new passphrase",
            "confirm": "a new passphrase",
        },
    )
    assert changed.headers["location"] == "/account?changed=1"
    assert _signed_in(here, gateway) and not _signed_in(there, gateway)
    sign_in(httpx.Client(), gateway.root, email, "a new passphrase")


# ------------------------------------------------------------------------------------------ CSRF


def test_forms_without_the_sessions_token_are_refused(gateway: Gateway) -> None:
    client, _ = _signed_up(gateway)
    for path, form in (
        ("/keys", {"name": "no token"}),
        ("/keys", {"name": "wrong token", "_csrf": "x" * 43}),
        ("/logout", {}),
        ("/account/sign-out-everywhere", {"_csrf": ""}),
    ):
        refused = client.post(gateway.root + path, data=form)
        assert refused.status_code == 403, path
        assert "text/html" in refused.headers["content-type"] and "CSRF token" in refused.text
    assert _signed_in(client, gateway)
    assert "no token" not in client.get(gateway.root + "/keys").text


def test_a_cross_site_form_cannot_sign_anyone_in(gateway: Gateway) -> None:
    _, email = _signed_up(gateway)
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = httpx.post(
            gateway.root + "/login",
            data={"email": email, "password": PASSWORD},
            headers={**headers, "X-Forwarded-For": client_address(email)},
        )
        assert refused.status_code == 403 and "set-cookie" not in refused.headers


def test_the_api_takes_the_cookie_only_from_json_calls_of_this_origin(gateway: Gateway) -> None:
    client, _ = _signed_up(gateway)
    url = gateway.root + "/api/keys"
    for headers, body in (
        ({"Origin": "https://evil.example", "Content-Type": "application/json"}, b'{"name": "evil"}'),
        ({"Origin": "null", "Content-Type": "application/json"}, b'{"name": "evil"}'),
        ({"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"}, b'{"name": "evil"}'),
        ({"Content-Type": "text/plain"}, b'{"name": "evil"}'),  # what a cross-site form can send
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"name=evil"),
        ({"Content-Type": "application/json", "X-CSRF-Token": "wrong"}, b'{"name": "evil"}'),
    ):
        refused = client.post(url, content=body, headers=headers)
        assert refused.status_code == 403, headers
        assert refused.headers["content-type"].startswith("application/json") and "error" in refused.json()
    same_origin = client.post(
        url, json={"name": "mine"}, headers={"Origin": gateway.root, "Sec-Fetch-Site": "same-origin"}
    )
    assert same_origin.status_code == 201
    behind_tls = client.post(url, json={"name": "via tls"}, headers={"Origin": gateway.root.replace("http:", "https:")})
    assert behind_tls.status_code == 201  # the host decides: a TLS proxy may leave the scheme at http
    with_token = client.post(
        url, content=b'{"name": "scripted"}', headers={"X-CSRF-Token": csrf_of(client, gateway.root)}
    )
    assert with_token.status_code == 201  # our own pages' scripts send the token
    evil = client.delete(f"{url}/{same_origin.json()['id']}", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403


def test_cors_never_lets_another_origin_use_the_cookie(gateway: Gateway) -> None:
    preflight = httpx.options(
        gateway.root + "/api/keys",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert "access-control-allow-credentials" not in preflight.headers
    assert preflight.headers.get("access-control-allow-origin") in (None, "*")  # '*' is never credentialed


# ------------------------------------------------------------------------------------------ bans


def test_a_banned_account_can_neither_use_its_session_nor_sign_in(gateway: Gateway) -> None:
    client, email = _signed_up(gateway)
    created = client.post(gateway.root + "/api/keys", json={"name": "before the ban"})
    key = created.json()["key"]
    gateway.cli("accounts", "ban", email)
    eventually(lambda: not _signed_in(client, gateway), what="the banned session ending")
    assert client.get(gateway.root + "/keys").headers["location"] == "/login?next=/keys"
    refused = httpx.post(
        gateway.root + "/login",
        data={"email": email, "password": PASSWORD},
        headers={"X-Forwarded-For": client_address(email)},
    )
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    chat = httpx.post(
        gateway.url("/v1") + "/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert chat.status_code == 403
    gateway.cli("accounts", "unban", email)
    assert not _signed_in(client, gateway)  # the ban ended the session for good
    sign_in(httpx.Client(), gateway.root, email, PASSWORD)


# ------------------------------------------------------------------------------------------ closed sign-up


@pytest.fixture(scope="module")
def closed(upstream: FakeUpstreamHandle) -> Iterator[Gateway]:
    gw = Gateway(upstream.base_url, extra_env={"SLUICE_SIGNUP": "closed"}).start()
    try:
        yield gw
    finally:
        gw.stop()


def test_closed_sign_up_and_an_operator_set_password(closed: Gateway) -> None:
    page = httpx.get(closed.root + "/signup")
    assert page.status_code == 200 and "Sign-up is closed" in page.text and 'action="/signup"' not in page.text
    email = _email("op")
    refused = httpx.post(closed.root + "/signup", data={"email": email, "password": PASSWORD, "confirm": PASSWORD})
    assert refused.status_code == 403 and "operator creates accounts" in refused.text
    closed.cli("accounts", "create", email)
    no_password = httpx.post(closed.root + "/login", data={"email": email, "password": PASSWORD})
    assert no_password.status_code == 401
    set_it = closed.cli("accounts", "password", email, input=PASSWORD + "\n")
    assert PASSWORD not in set_it.stdout + set_it.stderr
    sign_in(httpx.Client(), closed.root, email, PASSWORD)
    short = closed.cli("accounts", "password", email, input="short\n", check=False, cold=True)
    assert short.returncode == 1 and "A password needs 8 to 1024 characters." in short.stderr


def test_the_password_command_asks_twice_without_echo_on_a_terminal(closed: Gateway) -> None:
    email = _email("tty")
    closed.cli("accounts", "create", email)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI on a terminal
        os.chdir(REPO_ROOT)
        os.execve(  # noqa: S606
            sys.executable, [sys.executable, "-m", "interfaces.cli.main", "accounts", "password", email], closed.env
        )
    deadline = time.monotonic() + 60
    seen = b""

    def read() -> bytes:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"the command stopped talking; it said {seen!r}")
        try:
            return os.read(fd, 1024)
        except OSError:  # the terminal closed: the command ended
            return b""

    for answer in (b"a terminal passphrase\n", b"a terminal passphrase\n"):
        while not seen.rstrip().endswith(b":"):
            seen += read()
        os.write(fd, answer)
        seen += b"|"
    while chunk := read():
        seen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert b"New password:" in seen and b"Again:" in seen
    assert b"a terminal passphrase" not in seen  # not echoed
    sign_in(httpx.Client(), closed.root, email, "a terminal passphrase")


# ------------------------------------------------------------------------------------------ Redis, domains


@pytest.fixture(scope="module")
def club(upstream: FakeUpstreamHandle, pg_module_url: str, redis_url: str) -> Iterator[Gateway]:
    gw = Gateway(
        upstream.base_url,
        extra_env={
            "SLUICE_DATABASE_URL": pg_module_url,
            "SLUICE_REDIS_URL": redis_url,
            "SLUICE_KEY_PEPPER": "web-e2e-pepper-0123456789",
            "SLUICE_SIGNUP_DOMAINS": "club.example",
            "SLUICE_SESSION_DAYS": "2",
            "SLUICE_SIGNIN_ATTEMPTS_PER_IP": "4",
        },
    )
    gw.cli("migrate")
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture(scope="module")
def pg_module_url(postgres_base_url: str) -> Iterator[str]:
    import asyncio

    from tests.conftest import _create_database, _drop_database

    url, name = asyncio.run(_create_database(postgres_base_url))
    try:
        yield url
    finally:
        asyncio.run(_drop_database(postgres_base_url, name))


def test_sign_up_limited_to_a_domain_with_sessions_in_redis(club: Gateway, redis_url: str) -> None:
    page = httpx.get(club.root + "/signup")
    assert "Sign-up is open to addresses at club.example." in page.text
    outsider = f"ada-{secrets.token_hex(3)}@example.org"
    refused = httpx.post(
        club.root + "/signup",
        data={"email": outsider, "password": PASSWORD, "confirm": PASSWORD},
        headers={"X-Forwarded-For": client_address(outsider)},
    )
    assert refused.status_code == 403
    assert "Sign-up is open only to addresses at club.example; example.org is not one of them." in refused.text
    member = f"ada-{secrets.token_hex(3)}@club.example"
    client = httpx.Client()
    cookie = _cookie_header(sign_up(client, club.root, member, PASSWORD))
    assert "Max-Age=172800" in cookie  # SLUICE_SESSION_DAYS=2
    token = client.cookies["sluice_session"]
    import hashlib

    import redis

    store = redis.Redis.from_url(redis_url)
    try:
        key = f"sluice:web-session:{hashlib.sha256(token.encode()).hexdigest()}"
        assert store.exists(key) and 0 < store.pttl(key) <= 2 * 86400 * 1000
        assert token.encode() not in (store.get(key) or b"")
        other = httpx.Client()
        sign_in(other, club.root, member, PASSWORD)
        assert _signed_in(client, club) and _signed_in(other, club)
        client.post(club.root + "/account/sign-out-everywhere", data={"_csrf": csrf_of(client, club.root)})
        assert not _signed_in(other, club) and not store.exists(key)
    finally:
        store.close()


def test_attempts_from_one_address_are_limited_across_emails(club: Gateway) -> None:
    # Random: the limiter's state lives in Redis beyond this run.
    block, host = secrets.randbelow(256), secrets.randbelow(250) + 1
    address, other = f"198.19.{block}.{host}", f"198.19.{block}.{host + 1}"
    newcomer = f"new-{secrets.token_hex(3)}@club.example"
    for n in range(4):  # SLUICE_SIGNIN_ATTEMPTS_PER_IP=4
        email = f"guess{n}-{secrets.token_hex(3)}@club.example"
        answer = httpx.post(
            club.root + "/login", data={"email": email, "password": "wrong"}, headers={"X-Forwarded-For": address}
        )
        assert answer.status_code == 401
    limited = httpx.post(
        club.root + "/login",
        data={"email": newcomer, "password": "wrong"},
        headers={"X-Forwarded-For": address},
    )
    assert limited.status_code == 429 and "Too many sign-in attempts from your network address" in limited.text
    elsewhere = httpx.post(
        club.root + "/login",
        data={"email": newcomer, "password": "wrong"},
        headers={"X-Forwarded-For": other},
    )
    assert elsewhere.status_code == 401
