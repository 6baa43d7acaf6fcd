"""/admin: counts, and global usage by model, plan and account over a chosen period."""

from datetime import timedelta

from dishka import FromDishka
from litestar import Controller, Request, Response, get

from application.ports.clock import Clock
from application.use_cases.admin.overview import AdminOverview
from interfaces.http.injection import inject
from interfaces.web.admin.views import admin_page
from interfaces.web.guards import require_admin

PERIODS = {"1": "the last 24 hours", "7": "the last 7 days", "30": "the last 30 days", "all": "all time"}


class AdminOverviewPage(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/")
    @inject
    async def show(
        self, request: Request, overview: FromDishka[AdminOverview], clock: FromDishka[Clock], days: str = "30"
    ) -> Response:
        viewer = await require_admin(request)
        days = days if days in PERIODS else "30"
        since = None if days == "all" else clock.now() - timedelta(days=int(days))
        view = await overview.execute(since)
        tables = [
            (
                "by-model",
                "By model (the 20 that charged most)",
                "Model",
                [(g.key, None, g.totals) for g in view.by_model],
            ),
            (
                "by-plan",
                "By plan (the plan each account is on now)",
                "Plan",
                [(g.key, None, g.totals) for g in view.by_plan],
            ),
            (
                "by-account",
                "By account (the 20 that charged most)",
                "Account",
                [
                    (u.account.email if u.account else u.account_id, f"/admin/accounts/{u.account_id}", u.totals)
                    for u in view.by_account
                ],
            ),
        ]
        return admin_page("overview.html", viewer, "overview", view=view, days=days, periods=PERIODS, tables=tables)
