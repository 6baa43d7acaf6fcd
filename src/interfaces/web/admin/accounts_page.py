"""/admin/accounts: search; /admin/accounts/{id}: one account, and every change an admin makes to it.

Every form posts with the session's CSRF token and goes through an audited use case; a change is
answered with a redirect back to the account (so a reload repeats nothing) and a refusal with the
page again, saying why.
"""

import secrets

from dishka import FromDishka
from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect

from application.plan_book import PlanBook
from application.ports.account_directory import AccountCriteria
from application.ports.clock import Clock
from application.use_cases.admin.account_page import GetAccount, InspectAccount
from application.use_cases.admin.audited_accounts import AuditedChangePlan, AuditedSetBanned, AuditedSetSpendCaps
from application.use_cases.admin.audited_credits import AuditedDeductCredits, AuditedGrantCredits
from application.use_cases.admin.audited_keys import AuditedRevokeKey
from application.use_cases.admin.search import SearchAccounts
from domain import errors as e
from domain.accounts import AccountStatus, Role
from domain.plans import Period
from interfaces.admin_input import parse_dollars, parse_spend_cap, spend_cap_text
from interfaces.http.injection import inject
from interfaces.web.admin.views import actor_of, admin_page, changes, limit_text
from interfaces.web.guards import CSRF_FIELD, check_csrf, require_admin
from interfaces.web.viewer import Viewer
from interfaces.web.web_errors import status_of
from interfaces.wording import describe

NOTICES = {
    "banned": "The account is banned: gateways refuse its keys within seconds, and it cannot sign in.",
    "unbanned": "The ban is lifted: its keys work again within seconds.",
    "plan": "The plan is changed; gateways apply it within seconds.",
    "caps": "The spend caps are set; gateways apply them within seconds.",
    "granted": "Credits granted.",
    "deducted": "Credits deducted.",
    "revoked": "The key is revoked: gateways refuse it within seconds.",
    "same": "Nothing changed: it was so already (a repeated form changes nothing).",
}


def _enum(kind, raw: str | None):  # type: ignore[no-untyped-def]
    try:
        return kind(raw) if raw else None
    except ValueError:
        return None


class AdminAccountsPage(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/accounts")
    @inject
    async def search(
        self,
        request: Request,
        search: FromDishka[SearchAccounts],
        plans: FromDishka[PlanBook],
        q: str = "",
        plan: str = "",
        status: str = "",
        role: str = "",
        page: int = 1,
    ) -> Response:
        viewer = await require_admin(request)
        criteria = AccountCriteria(q, plan or None, _enum(AccountStatus, status), _enum(Role, role))
        found = await search.execute(criteria, page=max(page, 1))
        return admin_page(
            "accounts.html",
            viewer,
            "accounts",
            found=found,
            q=q,
            plan=plan,
            status=status,
            role=role,
            plan_names=[p.name for p in plans.all()],
        )

    @get("/accounts/{account_id:str}")
    @inject
    async def show(
        self,
        request: Request,
        account_id: str,
        inspect: FromDishka[InspectAccount],
        plans: FromDishka[PlanBook],
        clock: FromDishka[Clock],
        done: str = "",
    ) -> Response:
        viewer = await require_admin(request)
        return await _account(viewer, account_id, inspect, plans, clock, notice=NOTICES.get(done))

    @post("/accounts/{account_id:str}/status", status_code=303)
    @inject
    async def set_status(
        self,
        request: Request,
        account_id: str,
        ban: FromDishka[AuditedSetBanned],
        get: FromDishka[GetAccount],
        inspect: FromDishka[InspectAccount],
        plans: FromDishka[PlanBook],
        clock: FromDishka[Clock],
    ) -> Response:
        viewer, form = await _checked(request)
        banned = form.get("status") == AccountStatus.BANNED.value
        try:
            email = await _email(get, account_id)
            _, changed = await ban.execute(actor_of(viewer), email, banned, str(form.get("reason") or ""))
        except e.DomainError as error:
            return await _refused(viewer, account_id, inspect, plans, clock, error)
        return _back(account_id, ("banned" if banned else "unbanned") if changed else "same")

    @post("/accounts/{account_id:str}/plan", status_code=303)
    @inject
    async def set_plan(
        self,
        request: Request,
        account_id: str,
        change: FromDishka[AuditedChangePlan],
        get: FromDishka[GetAccount],
        inspect: FromDishka[InspectAccount],
        plans: FromDishka[PlanBook],
        clock: FromDishka[Clock],
    ) -> Response:
        viewer, form = await _checked(request)
        try:
            email = await _email(get, account_id)
            result = await change.execute(
                actor_of(viewer), email, str(form.get("plan") or ""), str(form.get("reason") or "")
            )
        except e.DomainError as error:
            return await _refused(viewer, account_id, inspect, plans, clock, error)
        return _back(account_id, "plan" if result.changed else "same")

    @post("/accounts/{account_id:str}/spend-caps", status_code=303)
    @inject
    async def set_spend_caps(
        self,
        request: Request,
        account_id: str,
        set_caps: FromDishka[AuditedSetSpendCaps],
        get: FromDishka[GetAccount],
        inspect: FromDishka[InspectAccount],
        plans: FromDishka[PlanBook],
        clock: FromDishka[Clock],
    ) -> Response:
        viewer, form = await _checked(request)
        try:
            caps = {p: parse_spend_cap(p, str(form.get(p.value) or ""), blank_is_plan=True) for p in Period}
            email = await _email(get, account_id)
            # The form shows every period, so what it posts replaces every override.
            result = await set_caps.execute(
                actor_of(viewer),
                email,
                [cap for cap in caps.values() if cap is not None],
                clear=True,
                reason=str(form.get("reason") or ""),
            )
        except e.DomainError as error:
            return await _refused(viewer, account_id, inspect, plans, clock, error)
        return _back(account_id, "caps" if result.changed else "same")

    @post("/accounts/{account_id:str}/credits", status_code=303)
    @inject
    async def change_credits(
        self,
        request: Request,
        account_id: str,
        grant: FromDishka[AuditedGrantCredits],
        deduct: FromDishka[AuditedDeductCredits],
        get: FromDishka[GetAccount],
        inspect: FromDishka[InspectAccount],
        plans: FromDishka[PlanBook],
        clock: FromDishka[Clock],
    ) -> Response:
        viewer, form = await _checked(request)
        reason = str(form.get("reason") or "").strip()
        # Rendered into the form, so a form sent twice (a double click, a resend) changes the balance once.
        key = str(form.get("idempotency_key") or "") or None
        try:
            if not reason:
                raise e.InvalidRequest("say why: a grant or a deduction needs a reason", param="reason")
            micros = parse_dollars(str(form.get("amount") or ""))
            email = await _email(get, account_id)
            if form.get("kind") == "deduct":
                result = await deduct.execute(actor_of(viewer), email, micros, reason, key and f"{key}:deduct")
                done = "deducted"
            else:
                result = await grant.execute(actor_of(viewer), email, micros, reason, key and f"{key}:grant")
                done = "granted"
        except e.DomainError as error:
            return await _refused(viewer, account_id, inspect, plans, clock, error)
        return _back(account_id, done if result.applied else "same")

    @post("/keys/{key_id:str}/revoke", status_code=303)
    @inject
    async def revoke_key(
        self,
        request: Request,
        key_id: str,
        revoke: FromDishka[AuditedRevokeKey],
        inspect: FromDishka[InspectAccount],
        plans: FromDishka[PlanBook],
        clock: FromDishka[Clock],
    ) -> Response:
        viewer, form = await _checked(request)
        try:
            key, changed = await revoke.execute(actor_of(viewer), key_id, str(form.get("reason") or ""))
        except e.DomainError as error:
            account_id = str(form.get("account_id") or "")
            if not account_id:
                raise
            return await _refused(viewer, account_id, inspect, plans, clock, error)
        return _back(key.account_id, "revoked" if changed else "same")


async def _checked(request: Request):  # type: ignore[no-untyped-def]
    viewer = await require_admin(request)
    form = await request.form()
    check_csrf(request, viewer, form.get(CSRF_FIELD))
    return viewer, form


async def _email(get: GetAccount, account_id: str) -> str:
    return (await get.execute(account_id)).email


def _back(account_id: str, done: str) -> Response:
    return Redirect(f"/admin/accounts/{account_id}?done={done}", status_code=303)


async def _refused(viewer, account_id, inspect, plans, clock, error: e.DomainError) -> Response:  # type: ignore[no-untyped-def]
    return await _account(viewer, account_id, inspect, plans, clock, error=describe(error), status=status_of(error))


async def _account(
    viewer: Viewer,
    account_id: str,
    inspect: InspectAccount,
    plans: PlanBook,
    clock: Clock,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    seen = await inspect.execute(account_id)
    account, now = seen.report.account, clock.now()
    overrides = {o.period: o for o in account.spend_caps}
    caps = {cap.period: cap.limit_micros for cap in seen.report.spend_caps}
    return admin_page(
        "account.html",
        viewer,
        "accounts",
        status_code=status,
        seen=seen,
        account=account,
        plan_names=[p.name for p in plans.all()],
        periods=[
            {
                "period": p,
                "value": spend_cap_text(overrides.get(p)),
                "in_force": caps.get(p),
                "source": seen.cap_source(p),
                "spent": seen.report.spent_micros.get(p, 0),
            }
            for p in Period
        ],
        limits=[{"policy": p, "text": limit_text(p), "source": seen.limit_source(p)} for p in seen.limits],
        keys=[
            {"key": k, "status": "revoked" if k.revoked_at else ("active" if k.is_active(now) else "expired")}
            for k in seen.report.keys
        ],
        entries=[{"entry": x, "changes": changes(x)} for x in seen.recent],
        idempotency_key="web:" + secrets.token_hex(12),
        notice=notice,
        error=error,
    )
