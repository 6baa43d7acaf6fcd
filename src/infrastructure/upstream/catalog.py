"""The `ModelCatalog` port: the upstream's model lists, cached, refreshed in the background.

The lists (``/models`` and ``/embeddings/models``) load on first use. After ``ttl_seconds`` the next
caller triggers one background refresh and is served the stale copy meanwhile; a failed refresh
keeps the stale copy and is retried after ``retry_seconds``. Only the very first load is waited for,
and then at most ``load_timeout`` seconds: a slow upstream never holds a request for long. With
nothing loaded yet, ``listing`` answers None (the caller says "unavailable", not "no models").

It is also the `ModelResolver` port: each load builds the index of the catalogue's names
(`domain.model_names.ModelNames`, with the configured aliases), so resolving a client's model
name on the hot path is a few dictionary lookups.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

import msgspec

from application.ports.upstream import UpstreamError
from domain.catalog import ModelInfo, ModelPrice
from domain.model_names import ModelNames
from domain.money import usd_to_picos

__all__ = ["CachedModelCatalog", "ModelLister"]

log = logging.getLogger("sluice.catalog")

KINDS = ("models", "embeddings")
_MODEL = msgspec.Raw(b'"model"')


class ModelLister(Protocol):
    async def list_models(self, path: str) -> bytes: ...


# ---- parsing ---------------------------------------------------------------------------------


_Number = str | int | float | None


class _Pricing(msgspec.Struct):
    prompt: _Number = None
    completion: _Number = None
    request: _Number = None


class _TopProvider(msgspec.Struct):
    context_length: int | float | None = None
    max_completion_tokens: int | float | None = None


class _Entry(msgspec.Struct):
    id: str
    name: str | None = None
    context_length: int | float | None = None
    pricing: _Pricing | None = None
    top_provider: _TopProvider | None = None


class _ListBody(msgspec.Struct):
    data: list[msgspec.Raw]


_decode_list = msgspec.json.Decoder(_ListBody).decode
_decode_bare_list = msgspec.json.Decoder(list[msgspec.Raw]).decode
_decode_entry = msgspec.json.Decoder(_Entry).decode
_decode_fields = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode
_encode = msgspec.json.Encoder().encode


def _picos(value: _Number) -> int | None:
    """Pico-dollars for a USD-per-unit price; None for a negative or unreadable one ("-1": varies)."""
    if value is None or value == "":
        return 0
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return usd_to_picos(amount)


def _price(pricing: _Pricing | None) -> ModelPrice | None:
    if pricing is None:
        return None
    prompt, completion, request = _picos(pricing.prompt), _picos(pricing.completion), _picos(pricing.request)
    if prompt is None or completion is None:
        return None
    return ModelPrice(prompt_picos=prompt, completion_picos=completion, request_picos=request or 0)


def _positive_int(value: int | float | None) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    number = int(value)
    return number if number > 0 else None


def _model_info(entry: _Entry) -> ModelInfo:
    top = entry.top_provider
    context = _positive_int(entry.context_length)
    if context is None and top is not None:
        context = _positive_int(top.context_length)
    return ModelInfo(
        id=entry.id,
        price=_price(entry.pricing),
        context_length=context,
        max_completion_tokens=_positive_int(top.max_completion_tokens) if top is not None else None,
        name=entry.name or None,
    )


def _entries(body: bytes) -> list[msgspec.Raw]:
    """The items of an OpenAI-style ``{"data": [...]}`` list (or of a bare JSON array)."""
    try:
        return _decode_list(body).data
    except msgspec.ValidationError:
        return _decode_bare_list(body)


def _owner(model_id: str) -> str:
    owner, slash, _ = model_id.partition("/")
    return owner if slash and owner else "system"


@dataclass(frozen=True, slots=True)
class _Parsed:
    infos: list[ModelInfo]
    listing_items: list[tuple[str, dict[str, msgspec.Raw]]]


def _parse(body: bytes) -> _Parsed:
    """Raises msgspec.DecodeError/ValidationError when the body is not a model list at all."""
    infos: list[ModelInfo] = []
    items: list[tuple[str, dict[str, msgspec.Raw]]] = []
    for raw in _entries(body):
        try:
            entry = _decode_entry(raw)
            fields = _decode_fields(raw)
        except msgspec.DecodeError:  # ValidationError included: an entry we cannot read is left out
            continue
        infos.append(_model_info(entry))
        # Every field of the upstream's entry, plus what OpenAI's list shape requires.
        fields["object"] = _MODEL
        owned_by = fields.get("owned_by")
        if owned_by is None or bytes(owned_by)[:1] != b'"':
            fields["owned_by"] = msgspec.Raw(_encode(_owner(entry.id)))
        created = fields.get("created")
        if created is None or not bytes(created)[:1].isdigit():
            fields["created"] = msgspec.Raw(b"0")
        items.append((entry.id, fields))
    return _Parsed(infos, items)


def _listing(items: list[tuple[str, dict[str, msgspec.Raw]]], allowed: frozenset[str] | None) -> bytes:
    data = [fields for model_id, fields in items if allowed is None or model_id in allowed]
    return _encode({"object": "list", "data": data})


def _served(
    items: list[tuple[str, dict[str, msgspec.Raw]]], by_id: dict[str, ModelInfo], allowed: frozenset[str] | None
) -> list[ModelInfo]:
    ids = dict.fromkeys(model_id for model_id, _ in items)  # once each, in the listing's order
    return [by_id[model_id] for model_id in ids if (allowed is None or model_id in allowed) and model_id in by_id]


# ---- the cache -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Snapshot:
    by_id: dict[str, ModelInfo]
    listings: dict[str, bytes]
    served: dict[str, list[ModelInfo]]  # per kind, what the listing holds, in its order
    embeddings_items: list[tuple[str, dict[str, msgspec.Raw]]]
    complete: bool  # False when the embeddings list failed for a passing reason
    names: ModelNames  # every listed id (chat and embeddings), for `resolve`


class CachedModelCatalog:
    """`ModelCatalog` and `ModelResolver` over an upstream's ``list_models(path)`` (e.g. `OpenRouterUpstream`).

    `aliases` (the configuration's `[models.aliases]`, built-ins included) map names to ids; a
    short name several providers serve resolves to the one in `gateway_models`, if exactly one is.
    """

    def __init__(
        self,
        upstream: ModelLister,
        ttl_seconds: float = 300.0,
        gateway_models: frozenset[str] | None = None,
        *,
        aliases: Mapping[str, str] | None = None,
        load_timeout: float = 10.0,
        retry_seconds: float = 30.0,
        models_path: str = "/models",
        embeddings_path: str = "/embeddings/models",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._upstream = upstream
        self._ttl = ttl_seconds
        self._gateway_models = gateway_models
        self._aliases = dict(aliases or {})
        self._load_timeout = load_timeout
        self._retry = retry_seconds
        self._paths = (models_path, embeddings_path)
        self._clock = clock
        self._snapshot: _Snapshot | None = None
        self._fresh_until = float("-inf")
        self._next_attempt = float("-inf")
        self._task: asyncio.Task[None] | None = None
        self._unloaded_names = ModelNames((), self._aliases)  # aliases only, while nothing is loaded

    # ---- the port

    async def get(self, model_id: str) -> ModelInfo | None:
        snapshot = await self._current()
        if snapshot is None:
            return None
        by_id = snapshot.by_id
        info = by_id.get(model_id)
        base = model_id
        while info is None and ":" in base:  # "vendor/model:free", ":online", ":nitro", ...
            base = base.rpartition(":")[0]
            info = by_id.get(base)
        return info

    async def listing(self, kind: str) -> bytes | None:
        if kind not in KINDS:
            raise ValueError(f"unknown model list {kind!r} (known: {', '.join(KINDS)})")
        snapshot = await self._current()
        if snapshot is None:
            return None
        return snapshot.listings[kind]

    async def models(self, kind: str) -> list[ModelInfo] | None:
        if kind not in KINDS:
            raise ValueError(f"unknown model list {kind!r} (known: {', '.join(KINDS)})")
        snapshot = await self._current()
        return None if snapshot is None else list(snapshot.served[kind])

    async def known(self) -> bool:
        return await self._current() is not None

    async def resolve(self, name: str) -> str | None:
        snapshot = await self._current()
        if snapshot is None:
            return self._unloaded_names.resolve(name) or name
        return snapshot.names.resolve(name)

    def lists(self, model_id: str) -> bool:
        """Whether the catalogue loaded so far lists this exact id; never waits, never starts a load (metrics)."""
        snapshot = self._snapshot
        return snapshot is not None and model_id in snapshot.by_id

    # ---- management

    async def refresh(self) -> bool:
        """Loads the lists now (joining a refresh already under way); whether the catalogue is loaded."""
        if self._task is None:
            self._task = asyncio.create_task(self._refresh())
        await asyncio.shield(self._task)
        return self._snapshot is not None

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    # ---- internals

    async def _current(self) -> _Snapshot | None:
        snapshot = self._snapshot
        if snapshot is not None and self._clock() < self._fresh_until:
            return snapshot
        if self._task is None and self._clock() >= self._next_attempt:
            self._task = asyncio.create_task(self._refresh())
        if snapshot is not None or self._task is None:
            return snapshot  # stale while a refresh runs, or none while the last failure cools down
        try:
            async with asyncio.timeout(self._load_timeout):
                await asyncio.shield(self._task)
        except TimeoutError:
            log.warning("the model catalogue is slow to load; serving without it for now")
        return self._snapshot

    async def _refresh(self) -> None:
        try:
            snapshot = await self._load()
        except Exception as exc:
            self._next_attempt = self._clock() + self._retry
            if isinstance(exc, UpstreamError):
                log.warning("model catalogue refresh failed: %s (%s)", exc.message, exc.kind)
            else:
                log.warning("model catalogue refresh failed", exc_info=exc)
        else:
            self._snapshot = snapshot
            now = self._clock()
            self._fresh_until = now + (self._ttl if snapshot.complete else min(self._ttl, self._retry))
            self._next_attempt = float("-inf")
        finally:
            self._task = None

    async def _load(self) -> _Snapshot:
        models_path, embeddings_path = self._paths
        models_body, embeddings_body = await asyncio.gather(
            self._upstream.list_models(models_path),
            self._upstream.list_models(embeddings_path),
            return_exceptions=True,
        )
        if isinstance(models_body, BaseException):
            raise models_body
        try:
            models = _parse(models_body)
        except msgspec.DecodeError as exc:
            raise UpstreamError(502, f"the upstream's model list is unreadable: {exc}", "protocol") from exc

        complete = True
        embedding_items: list[tuple[str, dict[str, msgspec.Raw]]] = []
        embedding_infos: list[ModelInfo] = []
        if isinstance(embeddings_body, UpstreamError) and embeddings_body.kind == "status_4xx":
            pass  # a plain OpenAI-compatible server has no such list
        elif isinstance(embeddings_body, BaseException):
            complete = False  # keep what we had, and try again soon
            if isinstance(embeddings_body, asyncio.CancelledError):
                raise embeddings_body
            log.warning("embedding model list unavailable: %s", embeddings_body)
            if self._snapshot is not None:
                embedding_items = self._snapshot.embeddings_items
                previous = self._snapshot.by_id
                embedding_infos = [previous[model_id] for model_id, _ in embedding_items if model_id in previous]
        else:
            try:
                parsed = _parse(embeddings_body)
            except msgspec.DecodeError:
                log.warning("the upstream's embedding model list is unreadable; treating it as empty")
            else:
                embedding_items, embedding_infos = parsed.listing_items, parsed.infos

        by_id: dict[str, ModelInfo] = {}
        for info in models.infos:
            by_id.setdefault(info.id, info)
        for info in embedding_infos:
            by_id.setdefault(info.id, info)
        allowed = self._gateway_models
        return _Snapshot(
            by_id=by_id,
            listings={
                "models": _listing(models.listing_items, allowed),
                "embeddings": _listing(embedding_items, allowed),
            },
            served={
                "models": _served(models.listing_items, by_id, allowed),
                "embeddings": _served(embedding_items, by_id, allowed),
            },
            embeddings_items=embedding_items,
            complete=complete,
            names=ModelNames(by_id, self._aliases, allowed),
        )
