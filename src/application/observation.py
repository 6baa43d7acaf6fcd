"""What one request did, gathered as it passes through the layers, for the edge to report once.

The edge opens an `Observation` per request and makes it current; the use cases and adapters fill
in what only they know (who called, which model, the request id, rate-limit refusals, upstream
time, tokens and charge). It is reported once, when both the answer has gone out and every
admission of the request has been settled: settlement runs beside the response, so the tokens
and the charge of a non-streamed answer are often known a few milliseconds after its last byte.

A context variable carries it because settlement runs in tasks spawned from the request, and a
task copies the context it was spawned in: the observation follows the work without every port
taking one more argument.
"""

import time
from collections.abc import Callable
from contextvars import ContextVar

_now = time.perf_counter


class Observation:
    __slots__ = (
        "_id_taken",
        "_pending",
        "_report",
        "_reported",
        "account_id",
        "answered_at",
        "charged_micros",
        "completion_tokens",
        "content",
        "cost_micros",
        "endpoint",
        "family",
        "first_token_seconds",
        "head_at",
        "limited_bucket",
        "method",
        "model",
        "outcome",
        "path",
        "plan",
        "prompt_tokens",
        "request_id",
        "started",
        "status",
        "streamed",
        "upstream_began",
        "upstream_ended",
    )

    def __init__(
        self, family: str, endpoint: str, request_id: str, report: Callable[["Observation"], None] | None = None
    ) -> None:
        self.family = family
        self.endpoint = endpoint
        self.request_id = request_id
        self.method = ""
        self.path = ""
        self.started = _now()
        self.head_at: float | None = None
        self.answered_at: float | None = None
        self.status = 500  # until a response head says otherwise
        self.account_id: str | None = None
        self.plan: str | None = None
        self.model: str | None = None
        self.streamed = False
        self.limited_bucket: str | None = None
        self.upstream_began: float | None = None
        self.upstream_ended: float | None = None
        self.first_token_seconds: float | None = None
        self.outcome: str | None = None
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost_micros = 0
        self.charged_micros = 0
        self.content: bytes | None = None  # the request body, only when an operator logs content
        self._report = report
        self._pending = 0
        self._id_taken = False
        self._reported = False

    # ---- filled in by the layers -----------------------------------------------------------

    def take_request_id(self) -> str | None:
        """The id the client sees in ``X-Request-Id``, for the first admission only: a second
        admission of the same request (none does so today) gets an id of its own rather than a
        duplicate usage-record id."""
        if self._id_taken:
            return None
        self._id_taken = True
        return self.request_id

    def admitted(self) -> None:
        self._pending += 1

    def settled(
        self, *, outcome: str, prompt_tokens: int, completion_tokens: int, cost_micros: int, charged_micros: int
    ) -> None:
        self.outcome = outcome
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.cost_micros += cost_micros
        self.charged_micros += charged_micros
        self._pending -= 1
        if self._pending <= 0 and self.answered_at is not None:
            self._emit()

    def upstream_call_began(self) -> float:
        began = _now()
        if self.upstream_began is None:
            self.upstream_began = began
        return began

    def upstream_call_answered(self) -> None:
        """The upstream's answer (or, for a stream, its head) arrived."""
        self.upstream_ended = _now()

    # ---- the edge ---------------------------------------------------------------------------

    def head_sent(self, status: int) -> None:
        self.status = status
        self.head_at = _now()

    def finished(self) -> None:
        self.answered_at = _now()
        if self._pending <= 0:
            self._emit()

    def _emit(self) -> None:
        if self._reported or self._report is None:
            return
        self._reported = True
        self._report(self)

    # ---- read by the reports ----------------------------------------------------------------

    @property
    def head_seconds(self) -> float:
        """From the request's arrival to its response head (the whole answer when none was sent)."""
        end = self.head_at if self.head_at is not None else self.answered_at
        return max(0.0, (end or _now()) - self.started)

    @property
    def total_seconds(self) -> float:
        return max(0.0, (self.answered_at or _now()) - self.started)

    @property
    def upstream_seconds(self) -> float | None:
        """Wall time spent waiting on the upstream before the response head (parallel calls once)."""
        if self.upstream_began is None:
            return None
        end = self.upstream_ended if self.upstream_ended is not None else self.head_at or _now()
        return max(0.0, end - self.upstream_began)

    @property
    def overhead_seconds(self) -> float:
        """Time to the response head not spent waiting on the upstream: what the gateway adds."""
        return max(0.0, self.head_seconds - (self.upstream_seconds or 0.0))


_CURRENT: ContextVar[Observation | None] = ContextVar("sluice_observation", default=None)


def current() -> Observation | None:
    return _CURRENT.get()


def begin(observation: Observation) -> object:
    """Makes `observation` current; hand the token back to `end`."""
    return _CURRENT.set(observation)


def end(token: object) -> None:
    _CURRENT.reset(token)  # type: ignore[arg-type]
