from dataclasses import dataclass

from application.plan_book import PlanBook
from application.ports.upstream import ModelCatalog
from domain.catalog import ModelInfo
from domain.plans import Plan


@dataclass(frozen=True, slots=True)
class PlanModel:
    id: str
    info: ModelInfo | None  # None: the upstream's catalogue does not list it (or is unreachable)
    served: bool  # False: the gateway's own allow-list leaves it out, so no plan gets it


@dataclass(frozen=True, slots=True)
class PlanView:
    plan: Plan
    default: bool
    # None: every model the upstream serves (the plan names none, and neither does the gateway)
    models: tuple[PlanModel, ...] | None


class DescribePlans:
    """Each configured plan with its limits and the models it allows, looked up in the catalogue.

    A plan that names no models gets the gateway's `[models] allow` list where there is one.
    """

    def __init__(self, plans: PlanBook, catalog: ModelCatalog, gateway_models: frozenset[str] | None) -> None:
        self._plans = plans
        self._catalog = catalog
        self._gateway = gateway_models

    async def execute(self) -> list[PlanView]:
        views = []
        for plan in self._plans.all():
            names = plan.allowed_models if plan.allowed_models is not None else self._gateway
            models = None
            if names is not None:
                models = tuple(
                    [
                        PlanModel(name, await self._catalog.get(name), self._gateway is None or name in self._gateway)
                        for name in sorted(names)
                    ]
                )
            views.append(PlanView(plan, plan.name == self._plans.default_name, models))
        return views
