"""/keys: create a key (its secret shown this once), list them with their last use, revoke one."""

from datetime import timedelta

from dishka import FromDishka
from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect

from application.ports.clock import Clock
from application.use_cases.api_keys import IssueApiKey, RevokeApiKey
from application.use_cases.key_listing import ListKeysWithUse
from domain import errors as e
from domain.keys import IssuedKey
from interfaces.http.injection import inject
from interfaces.settings import Settings
from interfaces.web.guards import CSRF_FIELD, check_csrf, require_viewer
from interfaces.web.key_views import key_row
from interfaces.web.templating import page
from interfaces.web.viewer import Viewer
from interfaces.web.web_errors import status_of
from interfaces.wording import describe

_MAX_EXPIRY_DAYS = 3650


class KeysPage(Controller):
    path = "/keys"
    include_in_schema = False

    @get("/")
    @inject
    async def show(
        self,
        request: Request,
        listing: FromDishka[ListKeysWithUse],
        settings: FromDishka[Settings],
        revoked: str | None = None,
    ) -> Response:
        viewer = await require_viewer(request)
        notice = "The key is revoked: gateways refuse it within seconds." if revoked else None
        return await _render(viewer, listing, settings, notice=notice)

    @post("/", status_code=200)
    @inject
    async def create(
        self,
        request: Request,
        issue: FromDishka[IssueApiKey],
        listing: FromDishka[ListKeysWithUse],
        settings: FromDishka[Settings],
        clock: FromDishka[Clock],
    ) -> Response:
        viewer = await require_viewer(request)
        form = await request.form()
        check_csrf(request, viewer, form.get(CSRF_FIELD))
        name = str(form.get("name") or "")
        try:
            expires_at = _expiry(str(form.get("expires_days") or ""), clock)
            models = frozenset(m.strip() for m in str(form.get("models") or "").split(",") if m.strip()) or None
            issued = await issue.execute(viewer.account.email, name, expires_at=expires_at, allowed_models=models)
        except (e.InvalidRequest, e.TooManyKeys) as error:
            return await _render(viewer, listing, settings, error=describe(error), status=status_of(error), name=name)
        # Rendered here, not redirected to: the secret lives in this one response and nowhere else.
        return await _render(viewer, listing, settings, issued=issued)

    @post("/{key_id:str}/revoke", status_code=303)
    @inject
    async def revoke(self, request: Request, key_id: str, revoke: FromDishka[RevokeApiKey]) -> Response:
        viewer = await require_viewer(request)
        form = await request.form()
        check_csrf(request, viewer, form.get(CSRF_FIELD))
        await revoke.execute(key_id, owner_id=viewer.account.id)  # another account's key: 404
        return Redirect("/keys?revoked=1", status_code=303)


def _expiry(raw: str, clock: Clock):  # type: ignore[no-untyped-def]
    if not raw.strip():
        return None
    if not raw.strip().isdigit() or not 1 <= int(raw) <= _MAX_EXPIRY_DAYS:
        raise e.InvalidRequest(f"expiry is a whole number of days from 1 to {_MAX_EXPIRY_DAYS}", param="expires_days")
    return clock.now() + timedelta(days=int(raw))


async def _render(
    viewer: Viewer,
    listing: ListKeysWithUse,
    settings: Settings,
    *,
    issued: IssuedKey | None = None,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
    name: str = "",
) -> Response:
    rows = [key_row(item) for item in await listing.execute(viewer.account.id)]
    active = sum(1 for row in rows if row["active"])
    return page(
        "keys.html",
        viewer,
        status_code=status,
        keys=rows,
        active=active,
        max_active=settings.max_active_keys,
        at_limit=active >= settings.max_active_keys,
        issued=issued,
        error=error,
        notice=notice,
        name=name,
    )
