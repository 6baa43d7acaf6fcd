"""/admin/audit: the audit log, newest first, filtered by action, target, actor and time."""

from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

from dishka import FromDishka
from litestar import Controller, Request, Response, get

from application.use_cases.audit import ListAuditEntries
from domain import errors as e
from domain.audit import AuditAction, AuditPage, AuditQuery, parse_action
from interfaces.http.injection import inject
from interfaces.web.admin.views import admin_page, changes
from interfaces.web.guards import require_admin
from interfaces.web.web_errors import status_of
from interfaces.wording import describe


def _day(text: str, param: str, *, end: bool = False) -> datetime | None:
    """A date field (YYYY-MM-DD, UTC): `since` from its midnight, `until` through its end."""
    if not text.strip():
        return None
    try:
        day = datetime.fromisoformat(text.strip()).date()
    except ValueError:
        raise e.InvalidRequest(f"{param} must be a date such as 2025-03-14, got {text!r}", param) from None
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start + timedelta(days=1) if end else start


class AdminAuditPage(Controller):
    path = "/admin/audit"
    include_in_schema = False

    @get("/")
    @inject
    async def show(
        self,
        request: Request,
        audit: FromDishka[ListAuditEntries],
        action: str = "",
        target: str = "",
        actor: str = "",
        since: str = "",
        until: str = "",
        before: int | None = None,
    ) -> Response:
        viewer = await require_admin(request)
        filters = {"action": action, "target": target, "actor": actor, "since": since, "until": until}
        error, status, found = None, 200, AuditPage((), None)
        try:
            query = AuditQuery(
                actor=actor.strip() or None,
                action=parse_action(action) if action.strip() else None,
                target=target.strip() or None,
                since=_day(since, "since"),
                until=_day(until, "until", end=True),
                before_seq=before,
            )
            found = await audit.execute(query)
        except e.DomainError as refused:
            error, status = describe(refused), status_of(refused)
        kept = {k: v for k, v in filters.items() if v}
        older = None
        if found.next_before is not None:
            older = "/admin/audit?" + urlencode({**kept, "before": found.next_before})
        return admin_page(
            "audit.html",
            viewer,
            "audit",
            status_code=status,
            error=error,
            entries=[{"entry": x, "changes": changes(x)} for x in found.entries],
            filters=filters,
            actions=[a.value for a in AuditAction],
            older=older,
            newest="/admin/audit?" + urlencode(kept) if before else None,
        )
