from application.ports.password_hasher import PasswordHasher
from application.ports.passwords import PasswordStore
from application.use_cases.accounts import CreateAccount
from application.use_cases.sign_in import AttemptThrottle, SignedIn
from application.use_cases.web_sessions import OpenWebSession
from domain.passwords import check_new_password
from domain.sign_up import SignUpPolicy


class SignUp:
    """A new account on the default plan with a password, signed in at once, where the policy allows."""

    def __init__(
        self,
        create: CreateAccount,
        passwords: PasswordStore,
        hasher: PasswordHasher,
        policy: SignUpPolicy,
        throttle: AttemptThrottle,
        open_session: OpenWebSession,
    ) -> None:
        self._create = create
        self._passwords = passwords
        self._hasher = hasher
        self._policy = policy
        self._throttle = throttle
        self._open = open_session

    async def execute(self, email: str, password: str, *, client_ip: str, user_agent: str = "") -> SignedIn:
        await self._throttle.check(email, client_ip)
        email = self._policy.check(email)
        check_new_password(password)
        password_hash = await self._hasher.hash(password)
        account = await self._create.execute(email)  # Conflict when the email has an account
        await self._passwords.set(account.id, password_hash)
        return SignedIn(account, await self._open.execute(account, user_agent))
