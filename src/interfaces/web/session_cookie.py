"""The session cookie: `sluice_session`, HttpOnly, SameSite=Lax, Path=/, Secure over https.

"Over https" is the request's own scheme. Behind a TLS-terminating proxy, uvicorn (proxy_headers
on) takes the scheme from `X-Forwarded-Proto` when the proxy's address is in
SLUICE_FORWARDED_ALLOW_IPS, and from nowhere else: one rule, and a client cannot forge it.

The server side of a session slides (its expiry moves with use, written at most once a minute);
when it moves, `SessionCookieRefresh` sends the cookie again with the new Max-Age, so the browser
keeps it exactly as long as the server does.
"""

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

COOKIE_NAME = "sluice_session"
_REFRESH = "sluice.session_refresh"  # where a guard leaves the cookie to send again, in scope["state"]


def is_https(scheme: str) -> bool:
    return scheme in ("https", "wss")


def session_cookie(request: Request, token: str, max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE_NAME,
        value=token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request.url.scheme),
    )


def cleared_cookie(request: Request) -> Cookie:
    return Cookie(
        key=COOKIE_NAME,
        value="",
        max_age=0,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request.url.scheme),
    )


def request_state(request: Request) -> dict:
    """The per-request dict in scope["state"] (Litestar's `request.state` wraps a new one each time
    when the server gave none)."""
    state = request.scope.get("state")
    if state is None:
        state = request.scope["state"] = {}  # type: ignore[typeddict-unknown-key]
    return state


def refresh_later(request: Request, cookie: Cookie) -> None:
    request_state(request)[_REFRESH] = cookie


def SessionCookieRefresh(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = (scope.get("state") or {}).get(_REFRESH)
                if cookie is not None:
                    headers = MutableScopeHeaders.from_message(message)
                    already = any(v.startswith(COOKIE_NAME + "=") for v in headers.getall("set-cookie", []))
                    if not already:  # a sign-in or sign-out of this very response has the last word
                        headers.add("set-cookie", cookie.to_header(header=""))
            await send(message)

        await app(scope, receive, sending)

    return middleware
