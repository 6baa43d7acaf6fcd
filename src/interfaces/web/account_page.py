"""/account: who you are (email, plan, role), your password, and signing out everywhere."""

from dishka import FromDishka
from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect

from application.use_cases.passwords import ChangePassword
from application.use_cases.web_sessions import SignOutEverywhere
from domain import errors as e
from domain.passwords import MIN_PASSWORD_LENGTH
from interfaces.http.injection import inject
from interfaces.web.guards import CSRF_FIELD, check_csrf, forget_viewer, require_viewer
from interfaces.web.session_cookie import cleared_cookie
from interfaces.web.templating import page
from interfaces.web.web_errors import status_of
from interfaces.wording import describe

_WRONG_CURRENT = "The current password is not right."


class AccountPage(Controller):
    path = "/account"
    include_in_schema = False

    @get("/")
    async def show(self, request: Request, changed: str | None = None) -> Response:
        viewer = await require_viewer(request)
        notice = "Your password is changed; your other sessions are signed out." if changed else None
        return page("account.html", viewer, notice=notice, min_length=MIN_PASSWORD_LENGTH)

    @post("/password", status_code=303)
    @inject
    async def change_password(self, request: Request, change: FromDishka[ChangePassword]) -> Response:
        viewer = await require_viewer(request)
        form = await request.form()
        check_csrf(request, viewer, form.get(CSRF_FIELD))
        new = str(form.get("new_password") or "")
        if new != str(form.get("confirm") or ""):
            return self._error(viewer, "The two new passwords differ.", 400)
        try:
            await change.execute(viewer.account.id, viewer.session_id, str(form.get("current_password") or ""), new)
        except e.SignInFailed:
            return self._error(viewer, _WRONG_CURRENT, 400)
        except e.PasswordRejected as error:
            return self._error(viewer, describe(error), status_of(error))
        return Redirect("/account?changed=1", status_code=303)

    @post("/sign-out-everywhere", status_code=303)
    @inject
    async def sign_out_everywhere(self, request: Request, sign_out: FromDishka[SignOutEverywhere]) -> Response:
        viewer = await require_viewer(request)
        form = await request.form()
        check_csrf(request, viewer, form.get(CSRF_FIELD))
        await sign_out.execute(viewer.account.id)
        forget_viewer(request)
        return Redirect("/login?signed_out=everywhere", status_code=303, cookies=[cleared_cookie(request)])

    @staticmethod
    def _error(viewer, message: str, status: int) -> Response:  # type: ignore[no-untyped-def]
        return page("account.html", viewer, status_code=status, error=message, min_length=MIN_PASSWORD_LENGTH)
