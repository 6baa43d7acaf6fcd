"""The ASGI entry point: settings from the environment, the container, the app.

`sluice serve` points uvicorn here (as a factory), so every worker process builds its own. The
container builds the adapters as they are first needed and closes them when the app stops, after
the Lifecycle's drain (`interfaces/providers`).
"""

from litestar import Litestar

from interfaces.http.app import BodyLimits, create_app
from interfaces.lifecycle import Lifecycle
from interfaces.logging_setup import configure_logging
from interfaces.providers import make_container
from interfaces.settings import load_settings


def create() -> Litestar:
    settings = load_settings()
    configure_logging(settings.log_level, access_log=settings.access_log)
    container = make_container(settings)

    async def start() -> None:
        await (await container.get(Lifecycle)).start()

    limits = BodyLimits(
        settings.max_body_bytes,
        openai=settings.openai_max_body_bytes,
        gemini=settings.gemini_max_body_bytes,
        credits=settings.credits_max_body_bytes,
    )
    return create_app(container, max_body_bytes=limits, on_startup=[start])
