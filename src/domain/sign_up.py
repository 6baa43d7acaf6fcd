"""Who may create an account from the sign-up page: everyone, no one, or addresses of some domains."""

from dataclasses import dataclass

from domain.accounts import normalize_email
from domain.errors import EmailDomainNotAllowed, SignUpClosed


@dataclass(frozen=True, slots=True)
class SignUpPolicy:
    open: bool = True
    # Lower-case domains matched exactly (a subdomain is another domain); empty: any domain.
    domains: tuple[str, ...] = ()

    def check(self, email: str) -> str:
        """The normalized email, when the policy lets it sign up."""
        if not self.open:
            raise SignUpClosed()
        cleaned = normalize_email(email)
        domain = cleaned.rpartition("@")[2]
        if self.domains and domain not in self.domains:
            raise EmailDomainNotAllowed(domain, self.domains)
        return cleaned
