"""The ASGI entry point: settings from the environment, adapters, container, app.

`sluice serve` points uvicorn here (as a factory), so every worker process builds its own.
"""

from litestar import Litestar

from interfaces.container import build_container
from interfaces.http.app import create_app
from interfaces.logging_setup import configure_logging
from interfaces.runtime import build_runtime
from interfaces.settings import load_settings


def create() -> Litestar:
    settings = load_settings()
    configure_logging(settings.log_level, access_log=settings.access_log)
    runtime = build_runtime(settings)
    container = build_container(runtime)
    return create_app(
        container,
        max_body_bytes=settings.max_body_bytes,
        on_startup=[runtime.start],
        on_shutdown=[runtime.close],
    )
