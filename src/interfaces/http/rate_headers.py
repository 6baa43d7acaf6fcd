import math
import time

from domain.rate_policy import Decision


def rate_headers(decision: Decision | None) -> dict[str, str]:
    """The gateway spec's headers; Reset is the UTC epoch second when the whole window is back."""
    if decision is None:
        return {}
    return {
        "X-RateLimit-Limit-Requests": str(decision.limit),
        "X-RateLimit-Remaining-Requests": str(decision.remaining),
        "X-RateLimit-Reset-Requests": str(math.ceil(time.time() + decision.reset_after)),
    }
