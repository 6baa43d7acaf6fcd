"""/dashboard, /usage and /models: each signed-in person's own figures, limits and catalogue."""

from dishka import FromDishka
from litestar import Controller, Request, Response, get

from application.use_cases.allowed_models import ListAllowedModels
from application.use_cases.usage_dashboard import DEFAULT_DAYS, ShowOverview, ShowUsage
from domain.credits import usd_text
from interfaces.http.credentials import client_ip
from interfaces.http.injection import inject
from interfaces.web.guards import require_viewer
from interfaces.web.model_views import model_row
from interfaces.web.templating import page
from interfaces.web.usage_views import limits_view, record_row, totals_row, usage_charts

RANGES = (7, 30, 90)  # the day ranges /usage offers


class DashboardPages(Controller):
    include_in_schema = False

    @get("/dashboard")
    @inject
    async def overview(self, request: Request, overview: FromDishka[ShowOverview]) -> Response:
        viewer = await require_viewer(request)
        shown = await overview.execute(viewer.account, client_ip(request))
        return page(
            "dashboard.html",
            viewer,
            balance=usd_text(shown.balance_micros),
            today=totals_row(shown.today),
            day_start=shown.day_start.strftime("%Y-%m-%d %H:%M UTC"),
            active_keys=shown.active_keys,
            limits=limits_view(shown.limits),
        )

    @get("/usage")
    @inject
    async def usage(self, request: Request, usage: FromDishka[ShowUsage], days: int = DEFAULT_DAYS) -> Response:
        viewer = await require_viewer(request)
        days = days if days in RANGES else DEFAULT_DAYS
        report = await usage.execute(viewer.account, client_ip(request), days=days)
        return page(
            "usage.html",
            viewer,
            days=days,
            ranges=RANGES,
            since=report.since.strftime("%Y-%m-%d"),
            total=totals_row(report.total),
            charts=usage_charts(report),
            recent=[record_row(r, report.key_names) for r in report.recent],
            limits=limits_view(report.limits),
        )

    @get("/models")
    @inject
    async def models(self, request: Request, allowed: FromDishka[ListAllowedModels]) -> Response:
        viewer = await require_viewer(request)
        listed = await allowed.execute(viewer.account)
        return page(
            "models.html",
            viewer,
            plan=listed.plan,
            available=listed.available,
            chat=[model_row(m) for m in listed.chat],
            embeddings=[model_row(m) for m in listed.embeddings],
        )
