"""Admission before a request goes upstream, and settlement after: limits, caps, credits, usage."""

import itertools
import logging
import math
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from application.gateway_request import GatewayRequest
from application.observation import Observation, current
from application.ports.clock import Clock
from application.ports.credits import CreditLedger
from application.ports.model_resolver import ModelResolver
from application.ports.moderation import Moderator
from application.ports.rate_limiter import RateLimiter, SpendCounter
from application.ports.upstream import ModelCatalog
from application.ports.usage import UsageQueries, UsageRecorder
from application.principal import Principal
from domain.catalog import ModelInfo
from domain.client_policy import ClientPolicy
from domain.credits import hold_entry, insufficient, release_entry, settle_entry
from domain.errors import ClientBlocked, LimitBreached, ModelNotAllowed, RateLimited, SpendCapReached, UnknownModel
from domain.moderation import refuse_flagged
from domain.plans import Period, Subject, period_end, period_start
from domain.pricing import Usage, charge_micros, cost_from_catalog, estimate_prompt_tokens, worst_case_micros
from domain.rate_policy import Decision, tightest
from domain.usage import Outcome, UsageRecord

log = logging.getLogger("sluice.metering")

# Model ids the upstream routes itself (auto-routers, presets) need not appear in its catalogue.
_ROUTED_PREFIXES = ("openrouter/", "@preset/")
_CHARS_PER_TOKEN = 4


class RequestIds:
    """Unique request ids without a system call each: a random per-process prefix and a counter."""

    def __init__(self) -> None:
        self._prefix = "req_" + secrets.token_hex(8)
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):012x}"


@dataclass(frozen=True, slots=True)
class Admission:
    request_id: str
    principal: Principal
    request: GatewayRequest
    model: ModelInfo | None
    reserved_micros: int
    decision: Decision | None  # the tightest rate decision, for the response headers
    started: float  # monotonic seconds
    prepaid: bool  # charged to the balance (the plan is prepaid, or the family bills the balance)
    observation: Observation | None = None  # the request's, told of the settlement


@dataclass(frozen=True, slots=True)
class Settlement:
    usage: Usage
    charged_micros: int


class Meter:
    def __init__(
        self,
        *,
        limiter: RateLimiter,
        spend: SpendCounter,
        ledger: CreditLedger,
        catalog: ModelCatalog,
        recorder: UsageRecorder,
        usage_queries: UsageQueries,
        clock: Clock,
        gateway_models: frozenset[str] | None = None,
        resolver: ModelResolver | None = None,
        client_policy: ClientPolicy | None = None,
        moderator: Moderator | None = None,
    ) -> None:
        self._limiter = limiter
        self._spend = spend
        self._ledger = ledger
        self._catalog = catalog
        self._recorder = recorder
        self._usage = usage_queries
        self._clock = clock
        self._gateway_models = gateway_models
        self._resolver = resolver
        self._client_policy = client_policy if client_policy is not None and client_policy.enabled else None
        self._moderator = moderator
        self._ids = RequestIds()
        self._stamps: dict[tuple[Period, datetime], str] = {}
        # Admitted and not settled yet: what shutdown waits for, and what makes a second settle a no-op.
        self._unsettled: dict[str, Admission] = {}

    @property
    def unsettled(self) -> int:
        return len(self._unsettled)

    async def admit(self, principal: Principal, request: GatewayRequest) -> Admission:
        observation = current()
        if observation is not None:
            observation.account_id = principal.account.id
            observation.plan = principal.plan.name
            observation.model = request.model
            observation.streamed = request.stream
        if self._client_policy is not None:
            blocked = self._client_policy.match(*request.client_marks)
            if blocked is not None:
                raise ClientBlocked(blocked)
        request = await self._resolve_model(request)
        if observation is not None:
            observation.model = request.model  # the id served, as the usage record keeps it
        model = await self._authorize_model(principal, request)
        decision = await self._take_rate_decision(principal, request, observation)
        await self._check_spend_caps(principal)
        if principal.plan.moderate_input and request.input_texts is not None and self._moderator is not None:
            # After the limits (a refused request costs no classification), before anything is held.
            refuse_flagged(await self._moderator.classify(request.input_texts()))
        request_id = (observation.take_request_id() if observation is not None else None) or self._ids.next()
        prepaid = principal.plan.prepaid or request.tariff.bills_balance
        reserved = await self._reserve(principal, request, model, request_id) if prepaid else 0
        admission = Admission(
            request_id, principal, request, model, reserved, decision, self._clock.monotonic(), prepaid, observation
        )
        self._unsettled[request_id] = admission
        if observation is not None:
            observation.admitted()
        return admission

    async def settle_abandoned(self) -> int:
        """Settles what is still open when shutdown can wait no longer, as cut off with nothing seen."""
        abandoned = list(self._unsettled.values())
        for admission in abandoned:
            log.warning("settling %s at shutdown: its request never finished", admission.request_id)
            await self.settle(admission, outcome=Outcome.CLIENT_DISCONNECTED, http_status=499)
        return len(abandoned)

    async def _resolve_model(self, request: GatewayRequest) -> GatewayRequest:
        """The id the upstream serves for the name the client sent (an alias, or no provider prefix)."""
        if self._resolver is None or not request.catalogued or request.with_model is None:
            return request
        served = await self._resolver.resolve(request.model)
        if served is None:
            if request.model.startswith(_ROUTED_PREFIXES):
                return request
            raise UnknownModel(request.model)
        if served == request.model:
            return request
        return replace(request, model=served, body=request.with_model(served))

    async def _authorize_model(self, principal: Principal, request: GatewayRequest) -> ModelInfo | None:
        model_id = request.model
        allowed = (
            principal.plan.allows_model(model_id)
            and principal.key.allows_model(model_id)
            and (self._gateway_models is None or model_id in self._gateway_models)
        )
        if not allowed:
            raise ModelNotAllowed(model_id)
        if not request.catalogued:
            return None
        model = await self._catalog.get(model_id)
        if model is None and not model_id.startswith(_ROUTED_PREFIXES) and await self._catalog.known():
            raise UnknownModel(model_id)
        return model

    async def _take_rate_decision(
        self, principal: Principal, request: GatewayRequest, observation: Observation | None
    ) -> Decision | None:
        policies = principal.plan.policies_for(request.endpoint)
        if not policies:
            return None
        subjects = {
            Subject.ACCOUNT: principal.account.id,
            Subject.KEY: principal.key.id,
            Subject.IP: request.client_ip or "unknown",
        }
        checks = [p.check(subjects[p.subject]) for p in policies]
        decisions = await self._limiter.acquire(checks)
        for policy, decision in zip(policies, decisions, strict=True):
            if not decision.allowed:
                if observation is not None:
                    observation.limited_bucket = policy.name
                breached = LimitBreached(policy.name, policy.limit, policy.window_seconds, policy.subject)
                raise RateLimited(breached, tightest(decisions) or decision)
        return tightest(decisions)

    def _cap_key(self, account_id: str, period: Period) -> tuple[str, int]:
        now = self._clock.now()
        start = period_start(period, now)
        stamp = self._stamps.get((period, start))
        if stamp is None:
            # Formatting dates per request shows in profiles; a period's stamp is fixed for its length.
            stamp = self._stamps[(period, start)] = f"{period}:{start:%Y%m%d}"
        ttl = int((period_end(period, now) - now + timedelta(days=1)).total_seconds())
        return f"spend:{account_id}:{stamp}", ttl

    async def _check_spend_caps(self, principal: Principal) -> None:
        for cap in principal.plan.spend_caps:
            if await self.spent_in_period(principal.account.id, cap.period) >= cap.limit_micros:
                raise SpendCapReached(cap.period, cap.limit_micros)

    async def spent_in_period(self, account_id: str, period: Period) -> int:
        """What the account spent in the current `period`, as its spend caps count it (the shared
        counter, seeded from the usage records when unknown)."""
        key, ttl = self._cap_key(account_id, period)
        spent = await self._spend.spent(key)
        if spent is None:
            spent = await self._usage.charged_since(account_id, period_start(period, self._clock.now()))
            await self._spend.seed(key, spent, ttl)
        return spent

    async def _reserve(
        self, principal: Principal, request: GatewayRequest, model: ModelInfo | None, request_id: str
    ) -> int:
        amount = worst_case_micros(principal.plan, model, len(request.body), request.max_tokens, request.tariff)
        if amount <= 0:
            return 0
        account_id = principal.account.id
        # No balance read first: the store decides atomically, and a read per request would cost
        # as much as the hold itself.
        entry = hold_entry(account_id, amount, request_id, self._clock.now())
        if await self._ledger.reserve(entry) is None:
            raise insufficient(amount, await self._ledger.balance(account_id))
        return amount

    async def settle(
        self,
        admission: Admission,
        *,
        outcome: Outcome,
        http_status: int,
        usage: Usage | None = None,
        generated_chars: int = 0,
        units: int | None = None,
    ) -> Settlement:
        """Closes the request exactly once: charges what it cost, or releases it when it failed.

        `units`: how many of what the tariff counts (images) were served, when fewer than asked for.
        """
        if self._unsettled.pop(admission.request_id, None) is None:
            return Settlement(Usage(), 0)  # settled already (a retry, or shutdown got there first)
        principal, request = admission.principal, admission.request
        account_id = principal.account.id
        now = self._clock.now()
        if outcome is Outcome.UPSTREAM_ERROR:
            usage, charged = Usage(), 0
        else:
            usage = usage or self._estimate(admission, generated_chars)
            cost = usage.cost_micros
            if cost is None:
                cost = cost_from_catalog(admission.model, usage) or 0
                usage = Usage(usage.prompt_tokens, usage.completion_tokens, cost)
            # Whatever the upstream claimed, a request never gives credit back.
            tariff = request.tariff if units is None else replace(request.tariff, images=units)
            charged = max(0, charge_micros(principal.plan, cost, tariff))
        # The record first: it says which lease paid, which is what returns a lease whose process died.
        record = UsageRecord(
            id=admission.request_id,
            account_id=account_id,
            key_id=principal.key.id,
            endpoint=request.endpoint.value,
            model=request.model,
            outcome=outcome,
            http_status=http_status,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_micros=usage.cost_micros or 0,
            charged_micros=charged,
            latency_ms=int((self._clock.monotonic() - admission.started) * 1000),
            streamed=request.stream,
            created_at=now,
            lease_id=self._ledger.payer(admission.request_id) if admission.reserved_micros else None,
        )
        try:
            self._recorder.record(record)
        except Exception:
            log.exception("recording usage of %s failed", admission.request_id)
        if admission.observation is not None:
            admission.observation.settled(
                outcome=outcome.value,
                prompt_tokens=record.prompt_tokens,
                completion_tokens=record.completion_tokens,
                cost_micros=record.cost_micros,
                charged_micros=charged,
            )
        try:
            if admission.reserved_micros or (admission.prepaid and charged):
                entry = (
                    release_entry(account_id, admission.reserved_micros, admission.request_id, now)
                    if outcome is Outcome.UPSTREAM_ERROR
                    else settle_entry(account_id, admission.reserved_micros, charged, admission.request_id, now)
                )
                await self._ledger.append(entry)
            for cap in principal.plan.spend_caps:
                if charged:
                    key, ttl = self._cap_key(account_id, cap.period)
                    await self._spend.add(key, charged, ttl)
        except Exception:
            # The usage record above still carries the charge, so nothing is lost; an operator
            # can reconcile the ledger from it.
            log.exception("settling %s failed", admission.request_id)
        return Settlement(usage, charged)

    def _estimate(self, admission: Admission, generated_chars: int) -> Usage:
        """A stream cut off before its usage frame is billed from what was seen of it."""
        return Usage(
            prompt_tokens=estimate_prompt_tokens(len(admission.request.body), admission.model),
            completion_tokens=math.ceil(generated_chars / _CHARS_PER_TOKEN),
        )
