"""Signing in through an OpenID Connect provider: /login/oidc/<id> sends the browser there, and
/login/oidc/<id>/callback brings it back signed in (the same session cookie as a password sign-in).

Between the two, the browser holds `sluice_oidc`: a random token (HttpOnly, SameSite=Lax so it
comes back on the provider's top-level redirect, Path=/login/oidc, ten minutes), and the attempt's
state, nonce and PKCE verifier stay in the database under the token's hash, taken once by the
callback (`application/use_cases/provider_sign_in.py`; the decision is in docs/architecture.md).
"""

from dishka import FromDishka
from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie
from litestar.response import Redirect

from application.identity_providers import IdentityProviderBook
from application.use_cases.provider_sign_in import BeginProviderSignIn, FinishProviderSignIn
from domain import errors as e
from domain.identities import Refusal
from interfaces.http.injection import inject
from interfaces.settings import Settings
from interfaces.web.auth_pages import HOME, safe_next
from interfaces.web.auth_pages import _signed_in as signed_in_response  # exactly what a password sign-in answers
from interfaces.web.guards import current_viewer
from interfaces.web.session_cookie import is_https
from interfaces.web.templating import page
from interfaces.web.web_errors import status_of
from interfaces.wording import describe

PENDING_COOKIE = "sluice_oidc"
_PATH = "/login/oidc"
_STATUS = {Refusal.UNKNOWN_PROVIDER: 404, Refusal.PROVIDER_UNAVAILABLE: 503}
REFUSED = (e.SignInRefused, e.AccountBanned, e.SignUpClosed, e.EmailDomainNotAllowed)


def callback_url(request: Request, provider_id: str) -> str:
    """Where the provider sends the browser back: this gateway's own address, as the browser reached it
    (behind a TLS proxy, uvicorn takes the scheme from X-Forwarded-Proto of a trusted proxy)."""
    return f"{request.url.scheme}://{request.url.netloc}{_PATH}/{provider_id}/callback"


def _pending_cookie(request: Request, token: str, max_age: int) -> Cookie:
    return Cookie(
        key=PENDING_COOKIE,
        value=token,
        max_age=max_age,
        path=_PATH,
        httponly=True,
        samesite="lax",
        secure=is_https(request.url.scheme),
    )


def _refused(request: Request, error: e.DomainError, buttons: IdentityProviderBook, next: str) -> Response:
    status = _STATUS.get(error.reason, 400) if isinstance(error, e.SignInRefused) else status_of(error)
    answer = page(
        "login.html", None, status_code=status, error=describe(error), next=next, email="", providers=buttons.buttons()
    )
    answer.cookies.append(_pending_cookie(request, "", 0))  # an attempt is over once it came back
    return answer  # type: ignore[return-value]


class OidcPages(Controller):
    include_in_schema = False
    path = _PATH

    @get("/{provider_id:str}")
    @inject
    async def start(
        self,
        request: Request,
        provider_id: str,
        begin: FromDishka[BeginProviderSignIn],
        buttons: FromDishka[IdentityProviderBook],
        next: str | None = None,
    ) -> Response:
        target = safe_next(next)
        if await current_viewer(request):
            return Redirect(target, status_code=303)
        try:
            started = await begin.execute(provider_id, callback_url(request, provider_id), target)
        except e.SignInRefused as error:
            return _refused(request, error, buttons, target)
        cookie = _pending_cookie(request, started.token, started.max_age_seconds)
        return Redirect(started.authorization_url, status_code=303, cookies=[cookie])

    @get("/{provider_id:str}/callback")
    @inject
    async def callback(
        self,
        request: Request,
        provider_id: str,
        finish: FromDishka[FinishProviderSignIn],
        buttons: FromDishka[IdentityProviderBook],
        settings: FromDishka[Settings],
    ) -> Response:
        params = {name: request.query_params.get(name) or "" for name in request.query_params}
        try:
            done = await finish.execute(
                provider_id,
                request.cookies.get(PENDING_COOKIE),
                params,
                user_agent=request.headers.get("user-agent", ""),
            )
        except REFUSED as error:
            expired = isinstance(error, e.SignInRefused) and error.reason is Refusal.EXPIRED
            if expired and await current_viewer(request):
                return Redirect(HOME, status_code=303)  # the back button onto a used callback, signed in already
            return _refused(request, error, buttons, HOME)
        answer = signed_in_response(request, done.signed_in, done.next_path, settings)
        answer.cookies.append(_pending_cookie(request, "", 0))
        return answer
