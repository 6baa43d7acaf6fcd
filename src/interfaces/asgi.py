"""The ASGI entry point: settings from the environment, the container, the app.

`sluice serve` points uvicorn here (as a factory), so every worker process builds its own. The
container builds the adapters as they are first needed and closes them when the app stops, after
the Lifecycle's drain (`interfaces/providers`). Outermost sits the request observer, so that every
answer (a route's, an exception handler's, the router's 404) is counted and logged once.
"""

import os

from infrastructure.telemetry.prometheus import PrometheusTelemetry, forget_process
from infrastructure.telemetry.request_report import RequestReport
from infrastructure.telemetry.tracing import configure_tracing, instrument_asgi
from interfaces.draining import DRAIN
from interfaces.http.app import BodyLimits, create_app
from interfaces.http.observing import ASGIApp, ObservingMiddleware
from interfaces.http.readiness import Readiness
from interfaces.lifecycle import Lifecycle
from interfaces.logging_setup import configure_logging
from interfaces.process_watch import ProcessWatch
from interfaces.providers import make_container
from interfaces.settings import load_settings


def create() -> ASGIApp:
    settings = load_settings()
    traced = configure_tracing() is not None  # before the container: the adapters it builds read it
    configure_logging(settings.log_level, fmt=settings.log_format, with_trace=traced)
    container = make_container(settings)
    DRAIN.seconds = settings.drain_seconds
    watch = ProcessWatch()
    observer: ObservingMiddleware

    async def start() -> None:
        await (await container.get(Lifecycle)).start()
        observer.use(await container.get(RequestReport))
        telemetry = await container.get(PrometheusTelemetry)
        watch.start(telemetry.refresh, telemetry.readiness, await container.get(Readiness))
        DRAIN.install()

    async def stop() -> None:
        await watch.stop()
        forget_process(os.getpid())  # this worker's live gauges leave the sums with it

    limits = BodyLimits(
        settings.max_body_bytes,
        openai=settings.openai_max_body_bytes,
        gemini=settings.gemini_max_body_bytes,
        credits=settings.credits_max_body_bytes,
    )
    app = create_app(container, max_body_bytes=limits, on_startup=[start], on_shutdown=[stop])
    observer = ObservingMiddleware(app, keep_content=settings.log_content)
    return instrument_asgi(observer)
