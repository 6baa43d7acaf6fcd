"""/admin/leases: the credit that running gateways hold, lease by lease."""

from dishka import FromDishka
from litestar import Controller, Request, Response, get

from application.ports.clock import Clock
from application.use_cases.leases import ListLeases
from interfaces.http.injection import inject
from interfaces.web.admin.views import admin_page, when
from interfaces.web.guards import require_admin


class AdminLeasesPage(Controller):
    path = "/admin/leases"
    include_in_schema = False

    @get("/")
    @inject
    async def show(self, request: Request, leases: FromDishka[ListLeases], clock: FromDishka[Clock]) -> Response:
        viewer = await require_admin(request)
        now = clock.now()
        rows = [
            {
                "standing": s,
                "age": f"{(now - s.lease.opened_at).total_seconds():.0f} s",
                "expires_in": f"{(s.lease.expires_at - now).total_seconds():.0f} s",
                "expired": s.lease.expired(now),
                "opened": when(s.lease.opened_at),
            }
            for s in await leases.execute()
        ]
        return admin_page("leases.html", viewer, "leases", rows=rows)
