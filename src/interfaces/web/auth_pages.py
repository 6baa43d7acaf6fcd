"""Signing up, in and out: /signup, /login (with a local `next`), POST /logout, and / itself."""

from urllib.parse import urlsplit

from dishka import FromDishka
from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from application.use_cases.sign_in import SignedIn, SignIn
from application.use_cases.sign_up import SignUp
from application.use_cases.web_sessions import SignOut
from domain import errors as e
from domain.passwords import MIN_PASSWORD_LENGTH
from domain.sign_up import SignUpPolicy
from interfaces.http.credentials import client_ip
from interfaces.http.injection import inject
from interfaces.settings import Settings
from interfaces.web.guards import (
    CSRF_FIELD,
    check_csrf,
    check_same_origin,
    current_viewer,
    forget_viewer,
)
from interfaces.web.session_cookie import cleared_cookie, session_cookie
from interfaces.web.templating import page
from interfaces.web.web_errors import retry_headers, status_of
from interfaces.wording import describe

HOME = "/dashboard"
_NOTICES = {"out": "You are signed out.", "everywhere": "You are signed out on every device."}


def safe_next(raw: str | None) -> str:
    """Only a path of this site: never another host (`//evil`, `https://...`, `/\\evil`)."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return HOME
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        return HOME
    parts = urlsplit(raw)
    return HOME if parts.scheme or parts.netloc else raw


def _signed_in(request: Request, done: SignedIn, target: str, settings: Settings) -> Response:
    forget_viewer(request)
    cookie = session_cookie(request, done.opened.token, settings.session_days * 86400)
    return Redirect(target, status_code=303, cookies=[cookie])


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {name: str(form.get(name) or "") for name in form}


def _refusal(template: str, error: e.DomainError, **context: object) -> Template:
    answer = page(template, None, status_code=status_of(error), error=describe(error), **context)
    for name, value in (retry_headers(error) or {}).items():
        answer.headers[name] = value
    return answer


class AuthPages(Controller):
    include_in_schema = False

    @get("/")
    async def index(self, request: Request) -> Redirect:
        return Redirect(HOME if await current_viewer(request) else "/login", status_code=303)

    @get("/login")
    async def login_page(self, request: Request, next: str | None = None, signed_out: str | None = None) -> Response:
        if await current_viewer(request):
            return Redirect(safe_next(next), status_code=303)
        notice = _NOTICES.get(signed_out or "")
        return page("login.html", None, next=safe_next(next), email="", notice=notice)

    @post("/login", status_code=303)
    @inject
    async def login(self, request: Request, sign_in: FromDishka[SignIn], settings: FromDishka[Settings]) -> Response:
        check_same_origin(request)  # no session yet, so no token: a cross-site form must not sign anyone in
        form = await _form(request)
        target = safe_next(form.get("next"))
        email = form.get("email", "")
        try:
            done = await sign_in.execute(
                email, form.get("password", ""), client_ip=client_ip(request), user_agent=_agent(request)
            )
        except (e.SignInFailed, e.AccountBanned, e.TooManyAttempts) as error:
            return _refusal("login.html", error, next=target, email=email)
        return _signed_in(request, done, target, settings)

    @get("/signup")
    @inject
    async def signup_page(self, request: Request, policy: FromDishka[SignUpPolicy]) -> Response:
        if await current_viewer(request):
            return Redirect(HOME, status_code=303)
        return page("signup.html", None, policy=policy, email="", min_length=MIN_PASSWORD_LENGTH)

    @post("/signup", status_code=303)
    @inject
    async def signup(
        self,
        request: Request,
        sign_up: FromDishka[SignUp],
        policy: FromDishka[SignUpPolicy],
        settings: FromDishka[Settings],
    ) -> Response:
        check_same_origin(request)
        form = await _form(request)
        email = form.get("email", "")
        context = {"policy": policy, "email": email, "min_length": MIN_PASSWORD_LENGTH}
        if form.get("password", "") != form.get("confirm", form.get("password", "")):
            return page("signup.html", None, status_code=400, error="The two passwords differ.", **context)
        try:
            done = await sign_up.execute(
                email, form.get("password", ""), client_ip=client_ip(request), user_agent=_agent(request)
            )
        except e.DomainError as error:  # a closed sign-up, a domain, a password, a taken email, attempts
            return _refusal("signup.html", error, **context)
        return _signed_in(request, done, HOME, settings)

    @post("/logout", status_code=303)
    @inject
    async def logout(self, request: Request, sign_out: FromDishka[SignOut]) -> Response:
        viewer = await current_viewer(request)
        if viewer is not None:
            form = await _form(request)
            check_csrf(request, viewer, form.get(CSRF_FIELD))
            await sign_out.execute(viewer.session_id)
        forget_viewer(request)
        return Redirect("/login?signed_out=out", status_code=303, cookies=[cleared_cookie(request)])


def _agent(request: Request) -> str:
    return request.headers.get("user-agent", "")
