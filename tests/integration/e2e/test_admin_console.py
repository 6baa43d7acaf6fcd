"""The admin console through a real gateway and httpx sessions: who may see it, and every change an
admin makes there obeyed by the gateway and written to the audit log."""

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.integration.e2e.harness import Gateway
from tests.integration.e2e.test_admin_cli import _audit, _until
from tests.integration.e2e.test_limits_and_credits import chat
from tests.integration.e2e.web_session import sign_in, sign_up

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
_IDEMPOTENCY = re.compile(r'name="idempotency_key" value="([^"]+)"')


@dataclass
class Console:
    gateway: Gateway
    admin: httpx.Client
    admin_email: str

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.admin.get(self.gateway.root + path, params=params)

    def post(self, path: str, form: dict[str, str]) -> httpx.Response:
        return self.admin.post(self.gateway.root + path, data=form)

    def account_page(self, email: str) -> tuple[str, str]:
        """The account's page (found through the search) and its id."""
        found = self.get("/admin/accounts", q=email)
        assert found.status_code == 200
        account_id = re.search(r'href="/admin/accounts/(acct_[0-9a-f]+)">' + re.escape(email), found.text).group(1)
        page = self.get(f"/admin/accounts/{account_id}")
        assert page.status_code == 200
        return page.text, account_id

    def act(self, email: str, action: str, form: dict[str, str]) -> httpx.Response:
        text, account_id = self.account_page(email)
        return self.post(f"/admin/accounts/{account_id}/{action}", {"_csrf": _CSRF.search(text).group(1), **form})


def _actions(page: str) -> list[str]:
    """The actions of the audit table on a page, top to bottom."""
    return re.findall(r"<td data-label=\"Action\"><code>([a-z_]+\.[a-z_]+)</code></td>", page)


def _set_password(gateway: Gateway, email: str) -> None:
    gateway.cli("accounts", "password", email, input=PASSWORD + "\n")


@pytest.fixture(scope="module")
def console(gateway: Gateway) -> Iterator[Console]:
    email = f"root{time.monotonic_ns()}@example.org"
    gateway.cli("accounts", "create", email, "--admin")
    _set_password(gateway, email)
    with httpx.Client(follow_redirects=True, timeout=15) as admin:
        sign_in(admin, gateway.root, email, PASSWORD)
        yield Console(gateway, admin, email)


def _user(gateway: Gateway) -> tuple[httpx.Client, str, str]:
    """A person who signed up on the dashboard, with a key made for them on the command line."""
    email = f"user{time.monotonic_ns()}@example.org"
    client = httpx.Client(timeout=15)
    sign_up(client, gateway.root, email, PASSWORD)
    key = gateway.cli("keys", "create", email, "--name", "laptop").stdout.strip()
    return client, email, key


def test_the_console_is_for_admins_only(gateway: Gateway, console: Console) -> None:
    user, _, _ = _user(gateway)
    try:
        for path in ("/admin", "/admin/accounts", "/admin/audit", "/admin/plans", "/admin/leases"):
            refused = user.get(gateway.root + path)
            assert refused.status_code == 403, path
            assert "This page is for admins." in refused.text
        assert user.post(gateway.root + "/admin/accounts/acct_x/status", data={"status": "banned"}).status_code == 403
    finally:
        user.close()
    with httpx.Client(timeout=15) as stranger:
        away = stranger.get(gateway.root + "/admin/audit")
        assert (away.status_code, away.headers["location"]) == (303, "/login?next=/admin/audit")
    for path in ("/admin", "/admin/accounts", "/admin/audit", "/admin/plans", "/admin/leases"):
        shown = console.get(path)
        assert shown.status_code == 200, path
        assert 'href="/admin/codes"' in shown.text


def test_an_admin_bans_an_account_and_the_audit_page_shows_it(gateway: Gateway, console: Console) -> None:
    user, email, key = _user(gateway)
    user.close()
    assert chat(gateway, key).status_code == 200

    text, account_id = console.account_page(email)
    assert "laptop" in text and "Ban " + email in text
    no_token = console.post(f"/admin/accounts/{account_id}/status", {"status": "banned", "reason": "x"})
    assert no_token.status_code == 403  # no CSRF token: refused, and nothing changed
    banned = console.act(email, "status", {"status": "banned", "reason": "abuse report #7"})
    assert banned.status_code == 200 and str(banned.url).endswith("?done=banned")
    assert "The account is banned" in banned.text and '<strong class="bad">banned</strong>' in banned.text
    _until(lambda: chat(gateway, key).status_code == 403)

    audit = console.get("/admin/audit", action="account.ban", target=email)
    assert audit.status_code == 200
    assert email in audit.text and console.admin_email in audit.text and "abuse report #7" in audit.text
    assert "status:</span> active → banned" in audit.text
    [entry] = _audit(gateway, "--target", email)
    assert (entry["action"], entry["actor"], entry["reason"]) == ("account.ban", console.admin_email, "abuse report #7")
    assert entry["actor_id"] and entry["actor_id"].startswith("acct_")

    again = console.act(email, "status", {"status": "banned"})
    assert "Nothing changed" in again.text
    unbanned = console.act(email, "status", {"status": "active"})
    _until(lambda: chat(gateway, key).status_code == 200)
    assert _actions(unbanned.text) == ["account.unban", "account.ban"]


def test_credits_plan_spend_caps_and_a_key_from_the_account_page(gateway: Gateway, console: Console) -> None:
    user, email, key = _user(gateway)
    user.close()
    text, account_id = console.account_page(email)
    form = {"idempotency_key": _IDEMPOTENCY.search(text).group(1), "amount": "2.50", "reason": "welcome"}

    granted = console.act(email, "credits", {**form, "kind": "grant"})
    twice = console.act(email, "credits", {**form, "kind": "grant"})  # the same form sent again
    assert "Credits granted." in granted.text and "Nothing changed" in twice.text
    short = console.act(email, "credits", {**form, "amount": "9", "kind": "deduct"})
    assert short.status_code == 400 and "never takes it below $0.00" in short.text
    assert "needs a reason" in console.act(email, "credits", {"amount": "1", "reason": " ", "kind": "grant"}).text
    console.act(email, "credits", {**form, "amount": "0.50", "reason": "correction", "kind": "deduct"})
    assert "<dd>$2.00</dd>" in console.get(f"/admin/accounts/{account_id}").text

    assert "The plan is changed" in console.act(email, "plan", {"plan": "capped", "reason": "trial"}).text
    assert "no plan named" in console.act(email, "plan", {"plan": "nope"}).text
    lifted = console.act(email, "spend-caps", {"day": "none", "week": "", "month": "3", "reason": "trusted"})
    assert "The spend caps are set" in lifted.text and 'value="none"' in lifted.text
    assert "wants dollars" in console.act(email, "spend-caps", {"day": "lots"}).text
    # The capped plan's ten micro-dollars a day are lifted for this account: three calls pass.
    assert [chat(gateway, key).status_code for _ in range(3)] == [200, 200, 200]

    key_id = re.search(r'action="/admin/keys/(key_[0-9a-f]+)/revoke"', console.account_page(email)[0]).group(1)
    revoke = console.post(f"/admin/keys/{key_id}/revoke", {"_csrf": _CSRF.search(text).group(1), "reason": "leak"})
    assert "The key is revoked" in revoke.text
    _until(lambda: chat(gateway, key).status_code == 401)

    page = console.get(f"/admin/accounts/{account_id}").text
    actions = ["key.revoke", "account.spend_caps", "account.plan", "credits.deduct", "credits.grant"]
    assert _actions(page) == actions and "spend caps (day):</span> plan&#39;s → no cap" in page
    overview = console.get("/admin", days="1").text
    assert email in overview and "qwen/qwen3-32b" in overview and "capped" in overview
    plans = console.get("/admin/plans").text
    assert "tiny" in plans and "3 per 1m per key" in plans and "every model the upstream serves" in plans


def test_the_audit_page_filters(gateway: Gateway, console: Console) -> None:
    email = f"filtered{time.monotonic_ns()}@example.org"
    gateway.cli("accounts", "create", email)
    gateway.cli("accounts", "ban", email, "--reason", "from the shell")
    by_cli = console.get("/admin/audit", action="account.ban", actor="cli").text
    assert email in by_cli and "from the shell" in by_cli
    assert email not in console.get("/admin/audit", action="account.ban", actor=console.admin_email).text
    assert "No entries match." in console.get("/admin/audit", action="account.plan", target=email).text
    assert email not in console.get("/admin/audit", until="2000-01-01").text
    bad = console.get("/admin/audit", since="yesterday")
    assert bad.status_code == 400 and "must be a date" in bad.text
    unknown = console.get("/admin/audit", action="account.delete")
    assert unknown.status_code == 400 and "no audit action" in unknown.text
    assert "No entries match." in console.get("/admin/audit", target="nobody@example.org").text


def test_an_admin_issues_a_code_a_user_redeems_it_and_the_admin_revokes_it(
    gateway: Gateway, console: Console
) -> None:
    page = console.get("/admin/codes")
    assert page.status_code == 200 and "Issue codes" in page.text
    token = _CSRF.search(page.text).group(1)
    assert console.post("/admin/codes", {"credits": "3", "uses": "2"}).status_code == 403  # no CSRF token
    issued = console.post("/admin/codes", {"_csrf": token, "credits": "3", "uses": "2", "reason": "club night"})
    assert issued.status_code == 200 and "shown this once" in issued.text
    [secret] = re.findall(r'<code class="secret">([^<]+)</code>', issued.text)
    assert secret not in console.get("/admin/codes").text  # only on the answer to the form

    user, _, _ = _user(gateway)
    try:
        credits_page = user.get(gateway.root + "/credits")
        redeemed = user.post(
            gateway.root + "/credits/redeem",
            data={"_csrf": _CSRF.search(credits_page.text).group(1), "code": secret},
            follow_redirects=True,
        )
        assert redeemed.status_code == 200 and "3" in str(redeemed.url)
    finally:
        user.close()

    listing = console.get("/admin/codes")
    [code_id] = re.findall(r'action="/admin/codes/([^/"]+)/revoke"', listing.text)
    assert "1 of 2" in listing.text
    revoked = console.post(f"/admin/codes/{code_id}/revoke", {"_csrf": token})
    assert revoked.status_code == 200 and "The code is revoked" in revoked.text
    assert f'action="/admin/codes/{code_id}/revoke"' not in revoked.text
    actions = [entry["action"] for entry in _audit(gateway, "--action", "codes.issue")]
    assert actions == ["codes.issue"]
    [revocation] = _audit(gateway, "--action", "code.revoke")
    assert (revocation["target"], revocation["actor"]) == (code_id, console.admin_email)
