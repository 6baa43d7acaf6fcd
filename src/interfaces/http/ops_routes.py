"""Liveness, readiness and metrics: no auth, cheap."""

from dishka import FromDishka
from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException

from application.ports.telemetry import Telemetry
from interfaces.http.injection import inject
from interfaces.http.openapi import READINESS_PROBLEMS, STATUS, documented
from interfaces.http.readiness import Readiness


class OpsController(Controller):
    @get("/healthz", operation_class=documented(ok=STATUS))
    async def healthz(self) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @get("/readyz", operation_class=documented(ok=STATUS, errors=(503,), unavailable=READINESS_PROBLEMS))
    @inject
    async def readyz(self, readiness: FromDishka[Readiness]) -> Response:
        problems = await readiness.problems()
        if problems:
            body = {"status": "unavailable", "problems": problems}
            return Response(body, status_code=503, media_type="application/json")
        return Response(b'{"status":"ready"}', media_type="application/json")

    @get("/metrics", operation_class=documented(ok={"type": "string"}, ok_media_type="text/plain"))
    @inject
    async def metrics(self, telemetry: FromDishka[Telemetry]) -> Response:
        page = telemetry.exposition()
        if page is None:  # SLUICE_METRICS_PORT serves them, out of the public port's reach
            raise NotFoundException()
        body, content_type = page
        return Response(body, media_type=content_type)
