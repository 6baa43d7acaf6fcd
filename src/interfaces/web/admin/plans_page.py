"""/admin/plans: each plan's limits, pricing, caps and the models it allows."""

from dishka import FromDishka
from litestar import Controller, Request, Response, get

from application.use_cases.admin.plans import DescribePlans
from domain.plans import PricingMode
from interfaces.http.injection import inject
from interfaces.web.admin.views import admin_page, limit_text
from interfaces.web.guards import require_admin


class AdminPlansPage(Controller):
    path = "/admin/plans"
    include_in_schema = False

    @get("/")
    @inject
    async def show(self, request: Request, describe: FromDishka[DescribePlans]) -> Response:
        viewer = await require_admin(request)
        views = await describe.execute()
        return admin_page(
            "plans.html",
            viewer,
            "plans",
            views=views,
            limit_text=limit_text,
            per_request=PricingMode.PER_REQUEST,
        )
