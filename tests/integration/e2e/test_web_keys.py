"""/keys and /api/keys against a real `sluice serve`: a key shown once, used with the openai SDK,
revoked; the credits spec's curl as written; the 50-key limit."""

import json
import re
import secrets
import subprocess

import httpx
import openai

from tests.integration.e2e.harness import Gateway
from tests.integration.e2e.web_session import csrf_of, sign_up
from tests.integration.e2e.web_waiting import eventually

PASSWORD = "correct horse battery"
_SECRET = re.compile(r"sk-sluice-[A-Za-z0-9_-]{20,}")


def _signed_up(gw: Gateway) -> httpx.Client:
    client = httpx.Client()
    sign_up(client, gw.root, f"keys-{secrets.token_hex(4)}@example.org", PASSWORD)
    return client


def _chat(gw: Gateway, key: str) -> str:
    client = openai.OpenAI(api_key=key, base_url=gw.url("/v1"), max_retries=0)
    reply = client.chat.completions.create(model="qwen/qwen3-32b", messages=[{"role": "user", "content": "Hello"}])
    return reply.choices[0].message.content or ""


def _row(page: str, name: str) -> str:
    match = re.search(r"<tr>\s*<td>" + re.escape(name) + r"</td>(.*?)</tr>", page, re.S)
    assert match, f"no row for {name}"
    return match.group(1)


def test_a_key_is_shown_once_works_with_the_sdk_and_stops_when_revoked(gateway: Gateway) -> None:
    client = _signed_up(gateway)
    empty = client.get(gateway.root + "/keys")
    assert "No keys yet." in empty.text and "0 of 50 active keys." in empty.text
    created = client.post(gateway.root + "/keys", data={"_csrf": csrf_of(client, gateway.root), "name": "laptop"})
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    secrets_shown = set(_SECRET.findall(created.text))
    assert len(secrets_shown) == 1
    key = secrets_shown.pop()
    assert "it won't be shown again" in created.text and 'data-copy-target="new-key"' in created.text
    assert '<script src="/static/copy.js" defer></script>' in created.text
    assert client.get(gateway.root + "/static/copy.js").status_code == 200

    again = client.get(gateway.root + "/keys")
    assert key not in again.text and not _SECRET.search(again.text.replace(key[:16], ""))  # the prefix only
    row = _row(again.text, "laptop")
    assert f"<code>{key[:16]}…</code>" in row and ">never<" in row and "the plan&#39;s" in row and "active" in row

    assert _chat(gateway, key)  # the openai SDK through the gateway to the fake upstream
    eventually(lambda: ">never<" not in _row(client.get(gateway.root + "/keys").text, "laptop").split("</td>")[2],
               what="the key's last use on /keys")

    key_id = re.search(r'action="/keys/(key_[0-9a-f]+)/revoke"', again.text).group(1)  # type: ignore[union-attr]
    revoked = client.post(f"{gateway.root}/keys/{key_id}/revoke", data={"_csrf": csrf_of(client, gateway.root)})
    assert (revoked.status_code, revoked.headers["location"]) == (303, "/keys?revoked=1")
    after = client.get(gateway.root + "/keys?revoked=1")
    assert "The key is revoked" in after.text and "revoked" in _row(after.text, "laptop")
    assert f'action="/keys/{key_id}/revoke"' not in after.text

    def refused() -> bool:
        try:
            _chat(gateway, key)
        except openai.AuthenticationError:
            return True
        return False

    eventually(refused, what="the revoked key answering 401")


def test_keys_take_an_expiry_and_a_model_list(gateway: Gateway) -> None:
    client = _signed_up(gateway)
    token = csrf_of(client, gateway.root)
    created = client.post(
        gateway.root + "/keys",
        data={"_csrf": token, "name": "ci", "expires_days": "30", "models": "qwen/qwen3-32b, openai/gpt-4o-mini"},
    )
    assert created.status_code == 200
    row = _row(client.get(gateway.root + "/keys").text, "ci")
    assert "openai/gpt-4o-mini, qwen/qwen3-32b" in row and "UTC" in row.split("</td>")[3]
    bad = client.post(gateway.root + "/keys", data={"_csrf": token, "name": "bad", "expires_days": "0"})
    assert bad.status_code == 400 and "expiry is a whole number of days" in bad.text
    nameless = client.post(gateway.root + "/keys", data={"_csrf": token, "name": "  "})
    assert nameless.status_code == 400 and "a key needs a name of 1 to 100 characters" in nameless.text


def test_the_credits_specs_curl_creates_a_key_with_the_session_cookie(gateway: Gateway) -> None:
    client = _signed_up(gateway)
    cookie = f"sluice_session={client.cookies['sluice_session']}"
    result = subprocess.run(  # noqa: S603 - the spec's command, as written, with this instance's address
        [  # noqa: S607
            "curl", "-sS", "-w", "\n%{http_code}",
            "-X", "POST", f"{gateway.root}/api/keys",
            "-H", f"Cookie: {cookie}",
            "-H", "Content-Type: application/json",
            "-d", '{"name": "My API Key"}',
        ],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    body, status = result.stdout.rsplit("\n", 1)
    assert status == "201", body
    made = json.loads(body)
    assert made["name"] == "My API Key" and made["key"].startswith(made["prefix"]) and made["id"].startswith("key_")
    assert made["created"] and made["expires"] is None
    assert _chat(gateway, made["key"])

    listed = client.get(gateway.root + "/keys").text
    assert "My API Key" in listed and made["key"] not in listed

    other = _signed_up(gateway)
    not_theirs = other.delete(f"{gateway.root}/api/keys/{made['id']}")
    assert not_theirs.status_code == 404 and "error" in not_theirs.json()
    deleted = subprocess.run(  # noqa: S603
        ["curl", "-sS", "-X", "DELETE", f"{gateway.root}/api/keys/{made['id']}", "-H", f"Cookie: {cookie}"],  # noqa: S607
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert json.loads(deleted.stdout)["revoked"]
    anonymous = httpx.post(gateway.root + "/api/keys", json={"name": "x"})
    assert anonymous.status_code == 401 and anonymous.json() == {
        "error": "Sign in first: this needs a session (the sluice_session cookie)."
    }
    broken = client.post(gateway.root + "/api/keys", content=b"{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and "error" in broken.json()
    assert client.delete(gateway.root + "/api/keys/key_missing").status_code == 404


def test_at_most_50_active_keys_with_a_clear_message(gateway: Gateway) -> None:
    client = _signed_up(gateway)
    for n in range(50):
        assert client.post(gateway.root + "/api/keys", json={"name": f"key {n}"}).status_code == 201
    over = client.post(gateway.root + "/api/keys", json={"name": "one too many"})
    assert over.status_code == 409
    assert over.json() == {"error": "an account may hold at most 50 active keys; revoke one first"}
    page = client.get(gateway.root + "/keys")
    assert "50 of 50 active keys." in page.text and "the most an account may hold" in page.text
    assert 'action="/keys" ' not in page.text  # no create form at the limit
    form = client.post(gateway.root + "/keys", data={"_csrf": csrf_of(client, gateway.root), "name": "by form"})
    assert form.status_code == 409 and "at most 50 active keys; revoke one first" in form.text
    first = re.search(r'action="/keys/(key_[0-9a-f]+)/revoke"', page.text).group(1)  # type: ignore[union-attr]
    assert client.delete(f"{gateway.root}/api/keys/{first}").status_code == 200
    assert client.post(gateway.root + "/api/keys", json={"name": "room again"}).status_code == 201
