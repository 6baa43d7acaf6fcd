"""What an account's credits page shows: the balance, the ledger newest first, and recent purchases."""

from dataclasses import dataclass

from application.ports.checkouts import CheckoutStore
from application.ports.credit_history import CreditHistory
from application.ports.credits import CreditLedger
from domain.credits import LedgerEntry
from domain.errors import InvalidRequest
from domain.payments import Checkout

PAGE_SIZE = 50
_RECENT_CHECKOUTS = 10


@dataclass(frozen=True, slots=True)
class CreditStatement:
    balance_micros: int
    entries: tuple[LedgerEntry, ...]  # newest first, one page
    page: int  # from 1
    has_more: bool  # an older page exists
    checkouts: tuple[Checkout, ...]  # the latest purchases started, newest first


class ShowCredits:
    def __init__(self, ledger: CreditLedger, history: CreditHistory, checkouts: CheckoutStore) -> None:
        self._ledger = ledger
        self._history = history
        self._checkouts = checkouts

    async def execute(self, account_id: str, page: int = 1, page_size: int = PAGE_SIZE) -> CreditStatement:
        if page < 1 or page_size < 1:
            raise InvalidRequest("pages are numbered from 1", param="page")
        rows = await self._history.recent(account_id, (page - 1) * page_size, page_size + 1)
        return CreditStatement(
            balance_micros=await self._ledger.balance(account_id),
            entries=tuple(rows[:page_size]),
            page=page,
            has_more=len(rows) > page_size,
            checkouts=tuple(await self._checkouts.for_account(account_id, _RECENT_CHECKOUTS)),
        )
