"""/credits: the balance, the ledger, the packages on sale (each Buy goes to the provider's checkout),
the return from checkout (which never grants: only the verified webhook does) and code redemption."""

import re

from dishka import FromDishka
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect

from application.use_cases.credit_statement import ShowCredits
from application.use_cases.purchases import ListCreditPackages, StartCheckout
from application.use_cases.redemption_codes import RedeemCode
from domain import errors as e
from domain.credits import credits_text
from interfaces.http.injection import inject
from interfaces.web.credit_views import checkout_row, entry_row, package_card
from interfaces.web.guards import CSRF_FIELD, check_csrf, require_viewer
from interfaces.web.templating import page
from interfaces.web.viewer import Viewer
from interfaces.web.web_errors import status_of
from interfaces.wording import describe

_CREDITS = re.compile(r"\d{1,7}(\.\d{1,6})?")
_RETURNS = {
    "success": "Payment received: your credits appear here as soon as the payment is confirmed "
    "(usually within a minute; reload to see them).",
    "cancelled": "Checkout cancelled: nothing was charged.",
}


class CreditsPage(Controller):
    path = "/credits"
    include_in_schema = False

    @get("/")
    @inject
    async def show(
        self,
        request: Request,
        statement: FromDishka[ShowCredits],
        offer: FromDishka[ListCreditPackages],
        page_number: int = Parameter(query="page", default=1, ge=1),
        checkout: str | None = None,
        redeemed: str | None = None,
    ) -> Response:
        viewer = await require_viewer(request)
        notice = _RETURNS.get(checkout or "")
        if redeemed and _CREDITS.fullmatch(redeemed):  # only a number is echoed back into the notice
            notice = f"Code redeemed: {redeemed} credits added to your balance."
        return await _render(viewer, statement, offer, page_number=page_number, notice=notice)

    @post("/buy", status_code=303)
    @inject
    async def buy(
        self,
        request: Request,
        start: FromDishka[StartCheckout],
        statement: FromDishka[ShowCredits],
        offer: FromDishka[ListCreditPackages],
    ) -> Response:
        viewer = await require_viewer(request)
        form = await request.form()
        check_csrf(request, viewer, form.get(CSRF_FIELD))
        base = str(request.base_url).rstrip("/")
        try:
            session = await start.execute(
                viewer.account.id,
                str(form.get("package") or ""),
                success_url=f"{base}/credits?checkout=success",
                cancel_url=f"{base}/credits?checkout=cancelled",
            )
        except (e.PaymentsUnavailable, e.PaymentProviderFailed, e.NotFound) as error:
            return await _render(viewer, statement, offer, error=describe(error), status=status_of(error))
        return Redirect(session.redirect_url, status_code=303)

    @post("/redeem", status_code=303)
    @inject
    async def redeem(
        self,
        request: Request,
        redeem: FromDishka[RedeemCode],
        statement: FromDishka[ShowCredits],
        offer: FromDishka[ListCreditPackages],
    ) -> Response:
        viewer = await require_viewer(request)
        form = await request.form()
        check_csrf(request, viewer, form.get(CSRF_FIELD))
        try:
            done = await redeem.execute(viewer.account.id, str(form.get("code") or ""))
        except e.CodeNotRedeemable as error:
            return await _render(viewer, statement, offer, error=describe(error), status=status_of(error))
        return Redirect(f"/credits?redeemed={credits_text(done.credits_micros)}", status_code=303)


async def _render(
    viewer: Viewer,
    statement: ShowCredits,
    offer: ListCreditPackages,
    *,
    page_number: int = 1,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    shown = await statement.execute(viewer.account.id, page_number)
    on_sale = offer.execute()
    return page(
        "credits.html",
        viewer,
        status_code=status,
        balance=credits_text(shown.balance_micros),
        entries=[entry_row(entry) for entry in shown.entries],
        page_number=shown.page,
        has_more=shown.has_more,
        checkouts=[checkout_row(c) for c in shown.checkouts],
        packages=[package_card(p) for p in on_sale.packages],
        purchases_available=on_sale.available,
        purchases_unavailable=None if on_sale.available else describe(e.PaymentsUnavailable(on_sale.missing)),
        notice=notice,
        error=error,
    )
