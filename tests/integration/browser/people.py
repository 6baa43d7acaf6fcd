"""The people of the browser tests: who they are, and what an operator does for them on the command line."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from itertools import count

from tests.integration.e2e.harness import REPO_ROOT, Gateway

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
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "interfaces.cli.main", "accounts", "password", email],
        cwd=REPO_ROOT,
        env=gateway.env,
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
