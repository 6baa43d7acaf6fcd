"""/admin/codes: issue redemption codes (each shown once, on the answer to the form), list and revoke them."""

from datetime import UTC, datetime, timedelta

from dishka import FromDishka
from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect

from application.ports.clock import Clock
from application.use_cases.admin.audited_codes import AuditedIssueCodes, AuditedRevokeCode
from application.use_cases.redemption_codes import ListRedemptionCodes
from domain.credits import credits_text
from domain.errors import DomainError, InvalidRequest
from domain.redemption import IssuedCode
from interfaces.admin_input import parse_dollars
from interfaces.http.injection import inject
from interfaces.web.admin.views import actor_of, admin_page
from interfaces.web.guards import CSRF_FIELD, check_csrf, require_admin
from interfaces.web.viewer import Viewer
from interfaces.web.web_errors import status_of
from interfaces.wording import describe

NOTICES = {
    "revoked": "The code is revoked: it admits no further redemption.",
    "same": "Nothing changed: the code was revoked already.",
}


def _whole(text: str, name: str, default: int) -> int:
    text = text.strip()
    if not text:
        return default
    if not text.isdigit():
        raise InvalidRequest(f"{name} must be a whole number, got {text!r}", param=name)
    return int(text)


def _expiry(days_text: str, now: datetime) -> datetime | None:
    days = _whole(days_text, "expires_days", 0)
    return now + timedelta(days=days) if days else None


class AdminCodesPage(Controller):
    path = "/admin/codes"
    include_in_schema = False

    async def _render(
        self,
        viewer: Viewer,
        codes: ListRedemptionCodes,
        clock: Clock,
        *,
        issued: list[IssuedCode] | None = None,
        notice: str | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response:
        return admin_page(
            "codes.html",
            viewer,
            "codes",
            status_code=status_code,
            codes=await codes.execute(),
            now=clock.now(),
            issued=issued or [],
            credits=credits_text,
            notice=notice,
            error=error,
        )

    @get("/")
    @inject
    async def show(
        self, request: Request, codes: FromDishka[ListRedemptionCodes], clock: FromDishka[Clock], done: str = ""
    ) -> Response:
        viewer = await require_admin(request)
        return await self._render(viewer, codes, clock, notice=NOTICES.get(done))

    @post("/", status_code=200)
    @inject
    async def issue(
        self,
        request: Request,
        issue: FromDishka[AuditedIssueCodes],
        codes: FromDishka[ListRedemptionCodes],
        clock: FromDishka[Clock],
    ) -> Response:
        viewer = await require_admin(request)
        form = await request.form()
        check_csrf(request, viewer, str(form.get(CSRF_FIELD) or ""))
        try:
            issued = await issue.execute(
                actor_of(viewer),
                parse_dollars(str(form.get("credits") or ""), "credits", "Credits"),
                max_uses=_whole(str(form.get("uses") or ""), "uses", 1),
                count=_whole(str(form.get("count") or ""), "count", 1),
                expires_at=_expiry(str(form.get("expires_days") or ""), datetime.now(UTC)),
                reason=str(form.get("reason") or ""),
            )
        except DomainError as exc:
            return await self._render(viewer, codes, clock, error=describe(exc), status_code=status_of(exc))
        # The codes exist only in this answer (no redirect): only their hashes are stored.
        return await self._render(viewer, codes, clock, issued=issued)

    @post("/{code_id:str}/revoke", status_code=303)
    @inject
    async def revoke(self, request: Request, code_id: str, revoke: FromDishka[AuditedRevokeCode]) -> Redirect:
        viewer = await require_admin(request)
        form = await request.form()
        check_csrf(request, viewer, str(form.get(CSRF_FIELD) or ""))
        _, changed = await revoke.execute(actor_of(viewer), code_id, str(form.get("reason") or ""))
        return Redirect(f"/admin/codes?done={'revoked' if changed else 'same'}", status_code=303)
