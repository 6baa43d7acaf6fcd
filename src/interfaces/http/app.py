"""The Litestar application: each API family's router (with its own error shape), operations, lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from dishka import AsyncContainer
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig

from interfaces.http.credits import routes as credits
from interfaces.http.credits.errors import CREDITS_ERRORS
from interfaces.http.gemini import routes as gemini
from interfaces.http.gemini.presenter import GEMINI_ERRORS
from interfaces.http.image_files import ImageFilesController
from interfaces.http.injection import attach_container
from interfaces.http.openai.errors import OPENAI_ERRORS
from interfaces.http.openai.routes import OpenAIController
from interfaces.http.openapi import OPENAPI_CONFIG
from interfaces.http.ops_routes import OpsController
from interfaces.http.presenter import always, by_path, exception_handlers
from interfaces.web.router import web_router
from interfaces.web.routes import WEB_HANDLERS
from interfaces.web.templating import TEMPLATE_CONFIG

# The three OpenAI-compatible mounts of the specs: the proxy's, the gateway's and the bare one.
OPENAI_PREFIXES = ("/proxy/v1", "/api/v1", "/v1")
_EXPOSED = [
    "X-RateLimit-Limit-Requests",
    "X-RateLimit-Remaining-Requests",
    "X-RateLimit-Reset-Requests",
    "Retry-After",
    "X-Request-Id",
]


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """The largest request body each family takes (413 in its own shape above it)."""

    default: int
    openai: int | None = None
    gemini: int | None = None
    credits: int | None = None


def create_app(  # type: ignore[no-untyped-def]
    container: AsyncContainer, *, max_body_bytes: int | BodyLimits, on_startup=(), on_shutdown=()
) -> Litestar:
    limits = max_body_bytes if isinstance(max_body_bytes, BodyLimits) else BodyLimits(max_body_bytes)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        for hook in on_startup:
            await hook()
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook()
            await container.close()

    openai_errors = exception_handlers(always(OPENAI_ERRORS))
    routers = [
        Router(
            path=prefix,
            route_handlers=[OpenAIController],
            exception_handlers=openai_errors,  # type: ignore[arg-type]
            request_max_body_size=limits.openai or limits.default,
        )
        for prefix in OPENAI_PREFIXES
    ]
    gemini_errors = exception_handlers(always(GEMINI_ERRORS))
    routers += [
        Router(
            path=prefix,
            route_handlers=[gemini.GeminiController],
            exception_handlers=gemini_errors,  # type: ignore[arg-type]
            request_max_body_size=limits.gemini or limits.default,
        )
        for prefix in gemini.PREFIXES
    ]
    routers.append(
        Router(
            path="/",
            route_handlers=[credits.CreditsController],
            exception_handlers=exception_handlers(always(CREDITS_ERRORS)),  # type: ignore[arg-type]
            request_max_body_size=limits.credits or limits.default,
        )
    )
    app = Litestar(
        # The web side (pages, /api/keys) answers in HTML or flat JSON and refreshes the session cookie.
        route_handlers=[*routers, OpsController, ImageFilesController, web_router(WEB_HANDLERS)],
        template_config=TEMPLATE_CONFIG,
        # What no router claimed (an unknown path, a wrong method) is answered in the shape of the
        # family whose paths it resembles.
        exception_handlers=exception_handlers(
            by_path([(gemini.owns, GEMINI_ERRORS), (credits.owns, CREDITS_ERRORS)], OPENAI_ERRORS)
        ),  # type: ignore[arg-type]
        lifespan=[lifespan],
        request_max_body_size=limits.default,
        openapi_config=OPENAPI_CONFIG,  # built at the first GET /openapi.json, off the hot path
        # Keys travel in a header, so any origin may call (browser apps, notebooks). No credentials:
        # a browser never lets another origin send or read a call with the session cookie.
        cors_config=CORSConfig(
            allow_origins=["*"], allow_headers=["*"], expose_headers=_EXPOSED, allow_credentials=False
        ),
        logging_config=None,  # ours (interfaces/logging_setup.py) masks keys; Litestar's would not
        debug=False,
    )
    attach_container(container, app)
    return app
