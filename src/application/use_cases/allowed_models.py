"""The models an account's plan lets it call, with their limits and prices: the dashboard's
catalogue and the first models its documentation uses in examples."""

from dataclasses import dataclass

from application.plan_book import PlanBook
from application.ports.api_keys import ApiKeyRepository
from application.ports.clock import Clock
from application.ports.upstream import ModelCatalog
from domain.accounts import Account
from domain.catalog import ModelInfo
from domain.keys import ApiKey
from domain.plans import Plan
from domain.pricing import ListedPrice, listed_price


@dataclass(frozen=True, slots=True)
class AllowedModel:
    info: ModelInfo
    price: ListedPrice | None  # what the plan charges for it; None when the upstream lists no price

    @property
    def id(self) -> str:
        return self.info.id


@dataclass(frozen=True, slots=True)
class AllowedModels:
    plan: Plan
    chat: list[AllowedModel]  # chat (and image) models, in the upstream's order
    embeddings: list[AllowedModel]
    available: bool  # False: the catalogue could not be loaded (not the same as no models)


class ListAllowedModels:
    """Without an account (a visitor), the default plan's: what a new account would get."""

    def __init__(self, catalog: ModelCatalog, plans: PlanBook) -> None:
        self._catalog = catalog
        self._plans = plans

    async def execute(self, account: Account | None) -> AllowedModels:
        plan = self._plans.get(account.plan if account is not None else self._plans.default_name)
        chat = await self._catalog.models("models")
        embeddings = await self._catalog.models("embeddings")
        return AllowedModels(
            plan=plan,
            chat=[AllowedModel(m, listed_price(plan, m)) for m in chat or () if plan.allows_model(m.id)],
            embeddings=[AllowedModel(m, listed_price(plan, m)) for m in embeddings or () if plan.allows_model(m.id)],
            available=chat is not None,
        )


FALLBACK_CHAT_MODEL = "openai/gpt-4o-mini"  # for examples when no catalogue could be loaded


@dataclass(frozen=True, slots=True)
class DocsFacts:
    """What the documentation page fills into its examples for its viewer."""

    plan: Plan
    chat_model: str  # the first chat model the plan allows
    embedding_model: str | None
    first_models: list[str]  # a few allowed models, to name beside the examples
    newest_key: ApiKey | None  # the viewer's newest active key (its prefix, never a secret)


class PrepareDocs:
    def __init__(self, models: ListAllowedModels, keys: ApiKeyRepository, clock: Clock) -> None:
        self._models = models
        self._keys = keys
        self._clock = clock

    async def execute(self, account: Account | None, *, shown: int = 5) -> DocsFacts:
        allowed = await self._models.execute(account)
        chat = [m.id for m in allowed.chat]
        if not chat and allowed.plan.allowed_models:
            chat = sorted(allowed.plan.allowed_models)
        newest = None
        if account is not None:
            now = self._clock.now()
            active = [k for k in await self._keys.list_for_account(account.id) if k.is_active(now)]
            newest = max(active, key=lambda k: k.created_at, default=None)
        return DocsFacts(
            plan=allowed.plan,
            chat_model=chat[0] if chat else FALLBACK_CHAT_MODEL,
            embedding_model=allowed.embeddings[0].id if allowed.embeddings else None,
            first_models=chat[:shown],
            newest_key=newest,
        )
