"""Who is looking at a page: the signed-in account, its session and the session's CSRF token."""

from dataclasses import dataclass

from domain.accounts import Account, Role


@dataclass(frozen=True, slots=True)
class Viewer:
    account: Account
    session_id: str
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        return self.account.role is Role.ADMIN
