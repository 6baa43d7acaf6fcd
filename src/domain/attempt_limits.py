"""How many sign-in and sign-up attempts an email address and a client IP may make.

Both subjects count every attempt, good or bad: a limiter that only counted failures would need a
second round trip to give back, and a person signs in a handful of times a day. Counted per email,
a password cannot be guessed from many addresses; per IP, many emails cannot be tried from one.
The email is hashed into its limiter key so that a shared Redis holds no addresses.
"""

import hashlib
from dataclasses import dataclass

from domain.rate_policy import LimitCheck

EMAIL = "email"
IP = "ip"


@dataclass(frozen=True, slots=True)
class AttemptLimits:
    per_email: int = 10
    per_ip: int = 30
    window_seconds: float = 15 * 60

    def checks(self, email: str, client_ip: str) -> list[LimitCheck]:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return [
            LimitCheck(f"signin:{EMAIL}:{digest}", self.per_email, self.window_seconds),
            LimitCheck(f"signin:{IP}:{client_ip or 'unknown'}", self.per_ip, self.window_seconds),
        ]
