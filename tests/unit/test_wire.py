"""The body reader: malformed input is an InvalidRequest naming what is wrong; valid bodies pass untouched."""

import pytest

from domain.errors import InvalidRequest
from interfaces.http.openai.wire import MAX_TOKENS_LIMIT, parse_chat, parse_embeddings, parse_moderations

CHAT = b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hi"}]'


def chat(extra: bytes = b"") -> bytes:
    return CHAT + extra + b"}"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"", None),
        (b"   ", None),
        (b"[]", None),
        (b'{"model": "q", "messages": [{"content": "\xff"}]}', None),
        (b"\xef\xbb\xbf" + chat(), None),
        (chat(b', "x": ' + b"[" * 5000 + b"]" * 5000), None),
        (b'{"model": "a\\u0000b", "messages": [{}]}', "model"),
        (b'{"model": "a\\ud800", "messages": [{}]}', None),
        (b'{"model": "' + b"m" * 300 + b'", "messages": [{}]}', "model"),
        (b'{"model": 1, "messages": [{}]}', "model"),
        (b'{"model": "q", "messages": [1]}', "messages"),
        (b'{"model": "q", "messages": []}', "messages"),
        (chat(b', "max_tokens": -1'), "max_tokens"),
        (chat(b', "max_tokens": ' + str(MAX_TOKENS_LIMIT + 1).encode()), "max_tokens"),
        (chat(b', "max_completion_tokens": 1e999'), "max_completion_tokens"),
        (chat(b', "stream": true, "stream_options": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}"), None),
        (chat(b', "stream": true, "stream_options": {"include_usage": "yes"}'), "stream_options.include_usage"),
    ],
)
def test_malformed_chat_bodies_are_invalid_requests(body: bytes, param: str | None) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_chat(body, "127.0.0.1")
    if param is not None:
        assert caught.value.param == param


def test_a_valid_body_with_non_ascii_is_forwarded_as_sent() -> None:
    body = '{"model": "q/m", "messages": [ {"role": "user", "content": "héllo ☃"}], "max_tokens": 7}'.encode()
    call = parse_chat(body, "").request
    assert call.body is body
    assert call.max_tokens == 7


def test_moderation_model_is_checked_like_the_others() -> None:
    with pytest.raises(InvalidRequest):
        parse_moderations(b'{"input": "x", "model": "a\\nb"}', "")
    assert parse_moderations(b'{"input": "x"}', "").model == "omni-moderation-latest"


def test_embeddings_need_input() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_embeddings(b'{"model": "e"}', "")
    assert caught.value.param == "input"
