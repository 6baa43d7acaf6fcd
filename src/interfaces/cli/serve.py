import asyncio
import logging
import os

import uvicorn

from interfaces.cli.metrics_dir import shared_metrics
from interfaces.cli.startup import startup_line
from interfaces.logging_setup import configure_logging
from interfaces.migrations import run_migrations
from interfaces.settings import Settings


def serve(settings: Settings) -> int:
    configure_logging(settings.log_level, fmt=settings.log_format)
    # First, so that an operator sees what this process was pointed at even when it cannot get there.
    logging.getLogger("sluice").info(startup_line(settings))
    if os.environ.get("SLUICE_AUTO_MIGRATE", "1") != "0":
        asyncio.run(run_migrations(settings.database_url))
    with shared_metrics(settings):
        _run(settings)
    return 0


def _run(settings: Settings) -> None:
    uvicorn.run(
        "interfaces.asgi:create",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,  # the app's request log (sluice.request) says more, with the request id
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("SLUICE_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        timeout_graceful_shutdown=int(os.environ.get("SLUICE_GRACEFUL_SECONDS", "30")),
        timeout_keep_alive=30,
        # How long a worker may take to answer the supervisor's ping (start-up included) before it
        # is killed and replaced: uvicorn's 5 s killed healthy workers starting on a busy machine.
        timeout_worker_healthcheck=int(os.environ.get("SLUICE_WORKER_HEALTHCHECK_SECONDS", "30")),
    )
