from application.ports.password_hasher import PasswordHasher
from application.ports.passwords import PasswordStore
from application.ports.web_sessions import SessionStore
from application.use_cases.accounts import FindAccount
from domain.accounts import Account
from domain.errors import SignInFailed
from domain.passwords import check_new_password


class SetPassword:
    """The operator's `sluice accounts password`: sets it and ends every session of the account
    (a password set by an operator is a reset: whoever held a session before must sign in again)."""

    def __init__(
        self, find: FindAccount, passwords: PasswordStore, hasher: PasswordHasher, sessions: SessionStore
    ) -> None:
        self._find = find
        self._passwords = passwords
        self._hasher = hasher
        self._sessions = sessions

    async def execute(self, email: str, password: str) -> tuple[Account, int]:
        """The account and how many of its sessions ended."""
        account = await self._find.execute(email)
        await self._passwords.set(account.id, await self._hasher.hash(check_new_password(password)))
        return account, await self._sessions.delete_for_account(account.id)


class ChangePassword:
    """The signed-in person's own change: the current password first (where one is set: an account
    the operator made may have none); the other sessions of the account end, this one stays."""

    def __init__(self, passwords: PasswordStore, hasher: PasswordHasher, sessions: SessionStore) -> None:
        self._passwords = passwords
        self._hasher = hasher
        self._sessions = sessions

    async def execute(self, account_id: str, session_id: str, current: str, new: str) -> int:
        """How many other sessions ended. SignInFailed when `current` is wrong."""
        check_new_password(new)
        stored = await self._passwords.get(account_id)
        if stored is not None and not await self._hasher.verify(stored, current):
            raise SignInFailed()
        await self._passwords.set(account_id, await self._hasher.hash(new))
        return await self._sessions.delete_for_account(account_id, keep=session_id)
