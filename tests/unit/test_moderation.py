"""Moderation: the texts read from a chat body, verdicts, the OpenAI adapter, and its settings."""

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from application.ports.upstream import UpstreamError, UpstreamReply
from domain.errors import InputFlagged, InvalidRequest
from domain.moderation import NOT_FLAGGED, ModerationVerdict, combine, refuse_flagged
from infrastructure.upstream.moderation import OpenAIModerator
from infrastructure.upstream.unconfigured import UnconfiguredUpstream
from interfaces.http.moderation_wire import chat_texts
from interfaces.settings import (
    DEFAULT_MODERATION_URL,
    MODERATION_KEY_MISSING,
    SettingsError,
    load_settings,
    moderation_unconfigured,
)
from interfaces.wording import describe
from tests.fakes.image_store import InMemoryImageStore
from tests.fakes.memory import EPOCH, FakeClock, FakeUpstream
from tests.fakes.moderator import ScriptedModerator


def _chat(*messages: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps({"model": "m", "messages": list(messages), **extra}).encode()


# ---- chat_texts ------------------------------------------------------------------------------------


def test_the_callers_texts_in_order() -> None:
    body = _chat(
        {"role": "system", "content": "Be kind."},
        {"role": "developer", "content": "Answer in French."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "a model's words"},
        {"role": "tool", "tool_call_id": "c1", "content": "a tool's output"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "second"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                {"type": "text", "text": "third"},
            ],
        },
    )
    assert chat_texts(body) == ["Be kind.", "Answer in French.", "first", "second", "third"]


def test_empty_and_missing_contents_are_skipped() -> None:
    body = _chat(
        {"role": "user", "content": ""},
        {"role": "user", "content": None},
        {"role": "user"},
        {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "image_url", "image_url": {"url": "u"}}]},
    )
    assert chat_texts(body) == []
    assert chat_texts(b'{"model": "m"}') == []


def test_it_fails_closed_on_odd_roles_and_part_types() -> None:
    body = _chat(
        {"content": "no role"},
        {"role": "ipython", "content": "odd role"},
        {"role": "user", "content": [{"text": "untyped part"}, {"type": "input_text", "text": "other type"}]},
    )
    assert chat_texts(body) == ["no role", "odd role", "untyped part", "other type"]


@pytest.mark.parametrize(
    "body",
    [
        _chat({"role": "user", "content": 5}),
        _chat({"role": "user", "content": ["a string part"]}),
        _chat({"role": "user", "content": [{"type": "text", "text": 7}]}),
        _chat("not a message"),
        json.dumps({"messages": {"role": "user"}}).encode(),
    ],
)
def test_unreadable_messages_are_refused_not_skipped(body: bytes) -> None:
    with pytest.raises(InvalidRequest) as caught:
        chat_texts(body)
    assert caught.value.param == "messages"


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b"\xff"])
def test_a_body_that_is_not_a_json_object_is_invalid(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        chat_texts(body)


def test_unicode_survives() -> None:
    assert chat_texts(_chat({"role": "user", "content": "héllo ☃ \U0001f600"})) == ["héllo ☃ \U0001f600"]


# ---- verdicts --------------------------------------------------------------------------------------


def test_combine_and_refuse() -> None:
    verdict = combine(
        [
            ModerationVerdict(False),
            ModerationVerdict(True, ("violence",)),
            ModerationVerdict(True, ("hate", "violence")),
        ]
    )
    assert verdict == ModerationVerdict(True, ("violence", "hate"))
    assert combine([]) == NOT_FLAGGED
    refuse_flagged(NOT_FLAGGED)
    with pytest.raises(InputFlagged) as caught:
        refuse_flagged(verdict)
    assert caught.value.code == "input_flagged"
    assert caught.value.categories == ("violence", "hate")
    assert "violence, hate" in describe(caught.value)
    with pytest.raises(InputFlagged):
        refuse_flagged(ModerationVerdict(True))


# ---- OpenAIModerator on a scripted upstream ---------------------------------------------------------


def _answer(*results: tuple[bool, dict[str, bool]]) -> UpstreamReply:
    body = {
        "id": "modr-1",
        "model": "omni-moderation-latest",
        "results": [{"flagged": f, "categories": c, "category_scores": {}} for f, c in results],
    }
    return UpstreamReply(200, json.dumps(body).encode(), None)


async def test_one_call_for_all_texts_and_the_flagged_categories() -> None:
    upstream = FakeUpstream()
    upstream.script_reply(
        _answer(
            (False, {"violence": False, "hate": False}),
            (True, {"violence": True, "hate": False, "self-harm": True}),
        )
    )
    verdict = await OpenAIModerator(upstream).classify(["calm", "I will kill"])

    assert verdict == ModerationVerdict(True, ("violence", "self-harm"))
    [call] = upstream.calls
    assert (call.method, call.path) == ("complete", "/moderations")
    assert json.loads(call.body) == {"model": "omni-moderation-latest", "input": ["calm", "I will kill"]}


async def test_nothing_to_classify_makes_no_call() -> None:
    upstream = FakeUpstream()
    assert await OpenAIModerator(upstream).classify([]) == NOT_FLAGGED
    assert upstream.calls == []


async def test_another_model_can_be_named() -> None:
    upstream = FakeUpstream()
    upstream.script_reply(_answer((False, {})))
    assert await OpenAIModerator(upstream, model="text-moderation-stable").classify(["x"]) == NOT_FLAGGED
    assert json.loads(upstream.calls[0].body)["model"] == "text-moderation-stable"


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{}", b'{"results": [{"categories": {}}]}', b'{"results": "no"}', b'{"results": []}'],
)
async def test_an_unreadable_answer_is_a_502(body: bytes) -> None:
    upstream = FakeUpstream()
    upstream.script_reply(UpstreamReply(200, body, None))
    with pytest.raises(UpstreamError) as caught:
        await OpenAIModerator(upstream).classify(["x"])
    assert (caught.value.status, caught.value.kind) == (502, "protocol")


async def test_upstream_failures_pass_through() -> None:
    upstream = FakeUpstream()
    upstream.script_reply(UpstreamError(504, "slow", "timeout"))
    with pytest.raises(UpstreamError) as caught:
        await OpenAIModerator(upstream).classify(["x"])
    assert caught.value.status == 504


async def test_an_unconfigured_moderator_answers_503_naming_the_setting() -> None:
    upstream = UnconfiguredUpstream(MODERATION_KEY_MISSING)
    with pytest.raises(UpstreamError) as caught:
        await OpenAIModerator(upstream).classify(["x"])
    assert (caught.value.status, caught.value.kind) == (503, "unconfigured")
    assert "SLUICE_MODERATION_API_KEY" in caught.value.message
    for call in (upstream.complete("/moderations", b"{}"), upstream.stream("/x", b"{}"), upstream.list_models("/m")):
        with pytest.raises(UpstreamError) as caught:
            await call
        assert caught.value.status == 503
    await upstream.aclose()


# ---- settings --------------------------------------------------------------------------------------


def _settings(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    base = {"SLUICE_DATA_DIR": str(tmp_path), "SLUICE_UPSTREAM_URL": "http://127.0.0.1:9/api/v1"}
    return load_settings({**base, **env})


def test_moderation_defaults_to_openai_and_may_start_without_a_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.moderation_url == DEFAULT_MODERATION_URL == "https://api.openai.com/v1"
    assert settings.moderation_api_key is None
    assert moderation_unconfigured(settings) == MODERATION_KEY_MISSING
    assert "SLUICE_MODERATION_API_KEY" in MODERATION_KEY_MISSING and "OPENAI_API_KEY" in MODERATION_KEY_MISSING


def test_the_moderation_key_falls_back_to_openai_api_key(tmp_path: Path) -> None:
    assert _settings(tmp_path, OPENAI_API_KEY="sk-openai").moderation_api_key == "sk-openai"
    both = _settings(tmp_path, OPENAI_API_KEY="sk-openai", SLUICE_MODERATION_API_KEY="sk-mod")
    assert both.moderation_api_key == "sk-mod"
    assert moderation_unconfigured(both) is None
    trailing = _settings(tmp_path, SLUICE_MODERATION_URL="https://api.openai.com/v1/", OPENAI_API_KEY="sk-openai")
    assert trailing.moderation_url == DEFAULT_MODERATION_URL and trailing.moderation_api_key == "sk-openai"


def test_openai_api_key_never_goes_to_another_moderation_server(tmp_path: Path) -> None:
    settings = _settings(tmp_path, SLUICE_MODERATION_URL="http://10.0.0.5:8000/v1", OPENAI_API_KEY="sk-openai")
    assert settings.moderation_url == "http://10.0.0.5:8000/v1"
    assert settings.moderation_api_key is None
    assert moderation_unconfigured(settings) is None  # a self-hosted server may need no key
    keyed = _settings(tmp_path, SLUICE_MODERATION_URL="http://10.0.0.5:8000/v1", SLUICE_MODERATION_API_KEY="k")
    assert keyed.moderation_api_key == "k"


def test_a_moderation_url_must_be_http(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SLUICE_MODERATION_URL"):
        _settings(tmp_path, SLUICE_MODERATION_URL="ftp://x")


def test_the_image_ttl(tmp_path: Path) -> None:
    assert _settings(tmp_path).image_ttl_seconds == 3600.0
    assert _settings(tmp_path, SLUICE_IMAGE_TTL_SECONDS="600").image_ttl_seconds == 600.0
    for bad in ("0", "-5", "soon", "604801"):
        with pytest.raises(SettingsError, match="SLUICE_IMAGE_TTL_SECONDS"):
            _settings(tmp_path, SLUICE_IMAGE_TTL_SECONDS=bad)


# ---- the test fakes keep the ports' contracts -------------------------------------------------------


async def test_the_in_memory_image_store() -> None:
    store = InMemoryImageStore(FakeClock(EPOCH))
    token = await store.put(b"\x89PNG", "image/png", "acct_1", EPOCH + timedelta(minutes=1))
    image = await store.get(token, EPOCH)
    assert image is not None and image.data == b"\x89PNG" and image.created_at == EPOCH
    assert len(token) == 43
    assert await store.get(token, EPOCH + timedelta(minutes=1)) is None
    assert await store.get("nope", EPOCH) is None
    assert await store.purge(EPOCH) == 0
    assert await store.purge(EPOCH + timedelta(minutes=1)) == 1
    assert store.images == {}


async def test_the_scripted_moderator() -> None:
    moderator = ScriptedModerator()
    assert await moderator.classify(["calm"]) == NOT_FLAGGED
    assert await moderator.classify(["calm", "KILL it"]) == ModerationVerdict(True, ("violence",))
    assert moderator.calls == [["calm"], ["calm", "KILL it"]]
    failing = ScriptedModerator(error=UpstreamError(503, "off", "unconfigured"))
    with pytest.raises(UpstreamError):
        await failing.classify(["x"])
