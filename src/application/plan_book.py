"""The plans an operator configured, by name, with the built-ins underneath."""

from collections.abc import Iterable

from domain.accounts import Account
from domain.errors import InvalidRequest
from domain.plans import BUILTIN_PLANS, Plan, with_account_limits


class PlanBook:
    def __init__(self, plans: Iterable[Plan] = (), default: str = "default") -> None:
        self._plans = {p.name: p for p in BUILTIN_PLANS}
        self._plans.update({p.name: p for p in plans})
        if default not in self._plans:
            raise InvalidRequest(f"the default plan {default!r} is not defined")
        self.default_name = default

    def get(self, name: str) -> Plan:
        """An account whose plan was removed from the configuration falls back to the default."""
        return self._plans.get(name) or self._plans[self.default_name]

    def in_force(self, account: Account) -> Plan:
        """The plan a request of `account` is admitted under: its plan with its own overrides."""
        return with_account_limits(self.get(account.plan), account.rate_limits, account.spend_caps)

    def require(self, name: str) -> Plan:
        plan = self._plans.get(name)
        if plan is None:
            raise InvalidRequest(f"no plan named {name!r}; known: {', '.join(sorted(self._plans))}")
        return plan

    def all(self) -> list[Plan]:
        return sorted(self._plans.values(), key=lambda p: p.name)
