"""The model-name rule: ids, aliases, provider-less names, dated and hyphenated spellings."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog import ModelInfo
from domain.model_names import DEFAULT_MODEL_ALIASES, ModelNames, resolve
from tests.fakes.memory import FakeModelCatalog

CATALOGUE = (
    "openai/gpt-4o",
    "openai/gpt-4o-mini",
    "azure/gpt-4o-mini",
    "openai/gpt-4o-2024-08-06",
    "anthropic/claude-sonnet-4",
    "anthropic/claude-3.5-sonnet",
    "anthropic/claude-sonnet-4.5",
    "google/gemini-2.5-pro",
    "google/gemini-2.5-flash",
    "google/gemini-2.5-flash-image",
    "groq/gemma-groq-416",
    "mistral/mistral-large-135",
    "qwen/qwen3-32b",
    "openai/text-embedding-3-small",
    "meta-llama/llama-3.1-8b-instruct:free",
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # 1. listed ids as they are, variants of listed ids too
        ("openai/gpt-4o", "openai/gpt-4o"),
        ("groq/gemma-groq-416", "groq/gemma-groq-416"),
        ("openai/gpt-4o-mini:free", "openai/gpt-4o-mini:free"),
        ("openai/gpt-4o:online:nitro", "openai/gpt-4o:online:nitro"),
        ("meta-llama/llama-3.1-8b-instruct:free", "meta-llama/llama-3.1-8b-instruct:free"),
        # 2. what the upstream routes itself
        ("openrouter/auto", "openrouter/auto"),
        ("@preset/my-team", "@preset/my-team"),
        # 4. without the provider, where exactly one provider serves the name
        ("gpt-4o", "openai/gpt-4o"),
        ("gemini-2.5-pro", "google/gemini-2.5-pro"),
        ("gemini-2.5-flash", "google/gemini-2.5-flash"),  # not -image: the whole short name must match
        ("gemini-2.5-flash-image", "google/gemini-2.5-flash-image"),
        ("mistral-large-135", "mistral/mistral-large-135"),
        ("text-embedding-3-small", "openai/text-embedding-3-small"),
        ("gpt-4o:free", "openai/gpt-4o:free"),
        ("llama-3.1-8b-instruct:free", "meta-llama/llama-3.1-8b-instruct:free"),
        # 5. the providers' own spellings
        ("claude-sonnet-4-20250514", "anthropic/claude-sonnet-4"),
        ("anthropic/claude-sonnet-4-20250514", "anthropic/claude-sonnet-4"),
        ("gpt-4o-2024-08-06", "openai/gpt-4o-2024-08-06"),  # the dated id is listed: it wins
        ("gpt-4o-2024-11-20", "openai/gpt-4o"),
        ("claude-3-5-sonnet-20241022", "anthropic/claude-3.5-sonnet"),
        ("claude-3-5-sonnet", "anthropic/claude-3.5-sonnet"),
        ("claude-sonnet-4-5", "anthropic/claude-sonnet-4.5"),
        ("claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4.5"),
        ("qwen3-32b-20250101", "qwen/qwen3-32b"),
        # nothing
        ("gpt-4o-mini", None),  # two providers serve it: not guessed
        ("gpt-5", None),
        ("google/gpt-4o", None),  # a provider that does not serve it
        ("", None),
        ("qwen3-32b-2025", None),  # not a date
        ("/gpt-4o", None),
    ],
)
def test_resolve(name: str, expected: str | None) -> None:
    assert resolve(name, CATALOGUE) == expected


def test_aliases_come_after_listed_ids_and_resolve_their_target() -> None:
    aliases = {"dall-e-3": "google/gemini-2.5-flash-image", "fast": "gemini-2.5-flash", "gpt-4o": "qwen/qwen3-32b"}
    assert resolve("dall-e-3", CATALOGUE, aliases) == "google/gemini-2.5-flash-image"
    assert resolve("fast", CATALOGUE, aliases) == "google/gemini-2.5-flash"  # the target resolved too
    assert resolve("gpt-4o", CATALOGUE, aliases) == "qwen/qwen3-32b"  # an alias beats a short name
    assert resolve("openai/gpt-4o", CATALOGUE, {"openai/gpt-4o": "qwen/qwen3-32b"}) == "openai/gpt-4o"  # not an id
    assert resolve("mine", CATALOGUE, {"mine": "acme/unlisted"}) == "acme/unlisted"  # taken as written
    assert resolve("dall-e-3", CATALOGUE) is None  # no aliases, no match


def test_builtin_aliases_make_the_specs_image_examples_work() -> None:
    for name in ("dall-e-3", "dall-e-2", "google/gemini-2.5-flash-image-preview"):
        assert resolve(name, CATALOGUE, DEFAULT_MODEL_ALIASES) == "google/gemini-2.5-flash-image"
    # a catalogue that lists the preview id itself serves it
    listed = (*CATALOGUE, "google/gemini-2.5-flash-image-preview")
    assert (
        resolve("google/gemini-2.5-flash-image-preview", listed, DEFAULT_MODEL_ALIASES)
        == "google/gemini-2.5-flash-image-preview"
    )


def test_an_ambiguous_name_resolves_to_the_one_preferred_and_names_its_candidates() -> None:
    sut = ModelNames(CATALOGUE, preferred={"openai/gpt-4o-mini", "qwen/qwen3-32b"})
    assert sut.resolve("gpt-4o-mini") == "openai/gpt-4o-mini"
    assert ModelNames(CATALOGUE, preferred=set()).resolve("gpt-4o-mini") is None
    assert ModelNames(CATALOGUE).candidates("gpt-4o-mini") == ("azure/gpt-4o-mini", "openai/gpt-4o-mini")
    assert ModelNames(CATALOGUE).candidates("gpt-4o-mini:free") == ("azure/gpt-4o-mini", "openai/gpt-4o-mini")
    assert ModelNames(CATALOGUE).candidates("claude-3-5-sonnet-20241022") == ("anthropic/claude-3.5-sonnet",)
    assert ModelNames(CATALOGUE).candidates("nothing") == ()


def test_a_catalogue_without_providers_finds_prefixed_names() -> None:
    plain = ("gpt-4o", "gpt-4o-mini", "text-embedding-3-small")
    assert resolve("gpt-4o", plain) == "gpt-4o"
    assert resolve("openai/gpt-4o", plain) == "gpt-4o"
    assert resolve("openai/gpt-4o-2024-08-06", plain) == "gpt-4o"
    assert resolve("claude-sonnet-4", plain) is None


def test_an_empty_catalogue_resolves_only_routed_ids_and_aliases() -> None:
    assert resolve("gpt-4o", ()) is None
    assert resolve("openrouter/auto", ()) == "openrouter/auto"
    assert resolve("dall-e-3", (), DEFAULT_MODEL_ALIASES) == "google/gemini-2.5-flash-image"


_ids = st.lists(st.from_regex(r"[a-z]{1,6}/[a-z0-9.\-]{1,12}", fullmatch=True), min_size=1, max_size=30, unique=True)


@given(_ids, st.data())
def test_a_listed_id_is_itself_and_every_answer_is_listed_or_routed(ids: list[str], data: st.DataObject) -> None:
    sut = ModelNames(ids)
    listed = data.draw(st.sampled_from(ids))
    assert sut.resolve(listed) == listed
    name = data.draw(st.one_of(st.sampled_from([i.split("/")[1] for i in ids]), st.text(max_size=20)))
    found = sut.resolve(name)
    assert found is None or found.partition(":")[0] in ids or found.startswith(("openrouter/", "@preset/"))


async def test_the_fake_catalogue_resolves_by_the_same_rule() -> None:
    sut = FakeModelCatalog([ModelInfo(i) for i in CATALOGUE], aliases=DEFAULT_MODEL_ALIASES)
    assert await sut.resolve("gpt-4o") == "openai/gpt-4o"
    assert await sut.resolve("dall-e-3") == "google/gemini-2.5-flash-image"
    sut.is_known = False
    assert await sut.resolve("gpt-4o") == "gpt-4o"
