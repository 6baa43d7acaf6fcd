"""Model names as clients write them, resolved to the catalogue's ids.

Clients of OpenAI's and Anthropic's APIs name models without a provider (`gpt-4o`,
`claude-sonnet-4-20250514`, `gemini-2.5-pro`); an OpenRouter catalogue lists them as
`openai/gpt-4o`, `anthropic/claude-sonnet-4`, `google/gemini-2.5-pro`. The rule, first match wins:

1. an id the catalogue lists, as it is (variants too: `openai/gpt-4o-mini:free` when the catalogue
   lists `openai/gpt-4o-mini`);
2. ids the upstream routes itself (`openrouter/auto`, `@preset/...`), as they are;
3. a configured alias (`dall-e-3` -> `google/gemini-2.5-flash-image`), its target resolved by the
   rules below when it can be and taken as written otherwise;
4. the one catalogue id whose part after the last `/` is the name (`gpt-4o` -> `openai/gpt-4o`);
   when several providers serve it, the one among the `preferred` ids (the gateway's allow-list)
   if exactly one is, else nothing: an ambiguous name is not guessed. The other way round, a
   catalogue without providers (a plain OpenAI-compatible server) finds `openai/gpt-4o` as `gpt-4o`;
5. the same with the spellings of the providers' own APIs: a trailing date taken off
   (`claude-sonnet-4-20250514` -> `claude-sonnet-4`, `gpt-4o-2024-08-06` -> `gpt-4o`) and
   hyphenated versions dotted (`claude-3-5-sonnet` -> `claude-3.5-sonnet`), where the name as
   written is not listed.

A variant suffix (`:free`, `:online`) is kept through rules 3 to 5.

`ModelNames` is the index of one catalogue, built once per catalogue load, so that resolving is a
few dictionary lookups; `resolve` builds one for a single call.
"""

import re
from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType

ROUTED_PREFIXES = ("openrouter/", "@preset/")

# Shipped so that the gateway spec's image examples (`"model": "dall-e-3"`) and the proxy spec's
# (`google/gemini-2.5-flash-image-preview`, an id OpenRouter has since renamed) work out of the
# box. An alias never hides a listed id: rule 1 comes first. `[models] builtin_aliases = false`
# in the configuration drops them.
DEFAULT_MODEL_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "dall-e-3": "google/gemini-2.5-flash-image",
        "dall-e-2": "google/gemini-2.5-flash-image",
        "google/gemini-2.5-flash-image-preview": "google/gemini-2.5-flash-image",
    }
)

_DATED = re.compile(r"^(.+?)-(?:\d{8}|\d{4}-\d{2}-\d{2})$")
_HYPHENATED_VERSION = re.compile(r"(?<=-\d)-(?=\d(?:-|$))")  # claude-3-5-sonnet, claude-sonnet-4-5


def _short(model_id: str) -> str:
    return model_id.rpartition("/")[2]


def _undated(name: str) -> str | None:
    match = _DATED.match(name)
    return match.group(1) if match else None


def _spellings(base: str) -> list[str]:
    """`base`, then what the providers' own spellings of it would be in an OpenRouter catalogue."""
    forms = [base]
    undated = _undated(base)
    if undated is not None:
        forms.append(undated)
    for form in forms[:]:
        dotted = _HYPHENATED_VERSION.sub(".", form)
        if dotted != form:
            forms.append(dotted)
    return forms


class ModelNames:
    """The names of one catalogue: ids, unambiguous short names, and aliases."""

    __slots__ = ("_aliases", "_candidates", "_ids", "_short")

    def __init__(
        self,
        catalogue_ids: Iterable[str],
        aliases: Mapping[str, str] | None = None,
        preferred: Collection[str] | None = None,
    ) -> None:
        self._ids = frozenset(catalogue_ids)
        candidates: dict[str, list[str]] = {}
        for model_id in sorted(self._ids):
            if "/" in model_id:
                candidates.setdefault(_short(model_id), []).append(model_id)
        self._candidates = {short: tuple(ids) for short, ids in candidates.items()}
        self._short: dict[str, str] = {}
        for short, ids in self._candidates.items():
            if len(ids) > 1 and preferred is not None:
                ids = tuple(i for i in ids if i in preferred)
            if len(ids) == 1:
                self._short[short] = ids[0]
        self._aliases: dict[str, str] = {}
        for alias, target in (aliases or {}).items():
            self._aliases[alias] = self._lookup(target) or target

    def resolve(self, name: str) -> str | None:
        """The catalogue id `name` stands for; None when it names none (or several, alike)."""
        if name in self._ids or name.startswith(ROUTED_PREFIXES):
            return name
        alias = self._aliases.get(name)
        if alias is not None:
            return alias
        return self._lookup(name)

    def candidates(self, name: str) -> tuple[str, ...]:
        """Every listed id `name` could be short for (for a message when it is ambiguous)."""
        for form in _spellings(_short(name.partition(":")[0])):
            found = self._candidates.get(form)
            if found:
                return found
        return ()

    def _lookup(self, name: str) -> str | None:
        found = self._find(name)
        if found is not None or ":" not in name:
            return found
        base, colon, variant = name.partition(":")  # "gpt-4o-mini:free", "vendor/model:online"
        found = self._find(base)
        return None if found is None else found + colon + variant

    def _find(self, base: str) -> str | None:
        for form in _spellings(base):
            if form in self._ids:
                return form
            if "/" in form:
                short = _short(form)
                if short in self._ids:  # a catalogue without providers
                    return short
            else:
                found = self._short.get(form)
                if found is not None:
                    return found
        return None


def resolve(name: str, catalogue_ids: Collection[str], aliases: Mapping[str, str] | None = None) -> str | None:
    """One name by the rule above (an index of the catalogue is built for the call)."""
    return ModelNames(catalogue_ids, aliases).resolve(name)
