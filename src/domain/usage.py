"""One usage record per request: the ledger of what was asked, answered and charged."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    UPSTREAM_ERROR = "upstream_error"  # not billed
    CLIENT_DISCONNECTED = "client_disconnected"  # billed for what was generated
    STREAM_BROKEN = "stream_broken"  # upstream broke off mid-stream: billed for what arrived


@dataclass(frozen=True, slots=True)
class UsageRecord:
    id: str  # the request id; unique, so a record can never be written twice
    account_id: str
    key_id: str
    endpoint: str
    model: str
    outcome: Outcome
    http_status: int
    prompt_tokens: int
    completion_tokens: int
    cost_micros: int  # the upstream's cost
    charged_micros: int  # what the caller paid
    latency_ms: int
    streamed: bool
    created_at: datetime
    lease_id: str | None = None  # the credit lease that paid for it (prepaid plans)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class UsageTotals:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_micros: int = 0
    charged_micros: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
