"""The people of the browser tests: who they are, and what an operator does for them on the command line."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from tests.integration.e2e.harness import Gateway

PASSWORD = "correct horse battery staple"
_numbers = count(1)


@dataclass(frozen=True)
class Person:
    gateway: Gateway
    email: str

    @classmethod
    def new(cls, gateway: Gateway, role: str) -> Person:
        """Someone not signed up yet, with a readable address unique on this gateway (they show in screenshots)."""
        return cls(gateway, f"{role}{next(_numbers)}@example.org")


def set_password(gateway: Gateway, email: str, password: str) -> None:
    """`sluice accounts password EMAIL`, the password typed on standard input."""
    gateway.cli("accounts", "password", email, input=password + "\n")
