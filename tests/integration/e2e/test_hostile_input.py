"""Nothing a client sends makes the gateway answer 5xx: every malformed request is a 4xx in the OpenAI shape.

Named cases first (each hole that once was a 500), then a seeded fuzz of a few thousand requests
built from valid bodies with one part broken, sent through the real server.
"""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.e2e.harness import Gateway

MESSAGES = [{"role": "user", "content": "hello"}]
DEEP = 20_000  # far past msgspec's recursion limit


@pytest.fixture(scope="module")
def key(gateway: Gateway) -> str:
    return gateway.new_key("unlimited")


@pytest.fixture(scope="module")
def client(gateway: Gateway, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url(), headers={"Authorization": f"Bearer {key}"}, timeout=15) as c:
        yield c


def assert_openai_error(response: httpx.Response, status: int | None = None) -> dict:
    assert response.status_code < 500, (response.status_code, response.text)
    assert response.status_code >= 400, (response.status_code, response.text)
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}, error
    assert isinstance(error["message"], str) and error["message"]
    return error


def chat(client: httpx.Client, body: bytes, path: str = "/chat/completions", **headers: str) -> httpx.Response:
    return client.post(path, content=body, headers={"Content-Type": "application/json", **headers})


def deep(opening: str, closing: str, depth: int = DEEP) -> str:
    return opening * depth + closing * depth


# ---- bodies ------------------------------------------------------------------------------------

BAD_BODIES: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b"  \n\t ",
    "top-level array": b"[1, 2]",
    "top-level string": b'"hello"',
    "top-level number": b"42",
    "top-level null": b"null",
    "truncated": b'{"model": "qwen/qwen3-32b", "messages": [',
    "invalid utf-8 in an unread string": b'{"model": "qwen/qwen3-32b", "messages": [{"content": "\xff"}]}',
    "invalid utf-8 in model": b'{"model": "qwen/\xc3\x28", "messages": [{"role": "user", "content": "hi"}]}',
    "invalid utf-8 in a key": b'{"\xff": 1, "model": "qwen/qwen3-32b", "messages": [{"role": "user"}]}',
    "overlong utf-8": b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "\xc0\xaf"}]}',
    "utf-16 body": json.dumps({"model": "qwen/qwen3-32b", "messages": MESSAGES}).encode("utf-16"),
    "lone surrogate in model": b'{"model": "qwen/\\ud800", "messages": [{"role": "user", "content": "hi"}]}',
    "NUL in model": b'{"model": "openrouter/a\\u0000b", "messages": [{"role": "user", "content": "hi"}]}',
    "newline in model": b'{"model": "openrouter/a\\nb", "messages": [{"role": "user", "content": "hi"}]}',
    "very long model": json.dumps({"model": "openrouter/" + "x" * 5000, "messages": MESSAGES}).encode(),
    "deep nesting in messages": ('{"model": "qwen/qwen3-32b", "messages": [' + deep("[", "]") + "]}").encode(),
    "deep nesting in an unread field": (
        '{"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hi"}], "x": ' + deep("[", "]") + "}"
    ).encode(),
    "deep objects in an unread field": (
        '{"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hi"}], "x": '
        + '{"a":' * DEEP
        + "1"
        + "}" * DEEP
        + "}"
    ).encode(),
    "deep nesting in model": ('{"model": ' + deep("[", "]") + ', "messages": [{"role": "user"}]}').encode(),
    "deep nesting in stream_options": (
        '{"model": "qwen/qwen3-32b", "stream": true, "messages": [{"role": "user", "content": "hi"}], '
        '"stream_options": {"x": ' + deep("[", "]") + "}}"
    ).encode(),
    "deep nesting in stream": (
        '{"model": "qwen/qwen3-32b", "messages": [{"role": "user"}], "stream": ' + deep("[", "]") + "}"
    ).encode(),
    "deep nesting in max_tokens": (
        '{"model": "qwen/qwen3-32b", "messages": [{"role": "user"}], "max_tokens": ' + deep("[", "]") + "}"
    ).encode(),
    "model a number": b'{"model": 42, "messages": [{"role": "user", "content": "hi"}]}',
    "model an object": b'{"model": {"id": "x"}, "messages": [{"role": "user", "content": "hi"}]}',
    "messages an object": b'{"model": "qwen/qwen3-32b", "messages": {"role": "user"}}',
    "messages a string": b'{"model": "qwen/qwen3-32b", "messages": "hello"}',
    "messages an array of numbers": b'{"model": "qwen/qwen3-32b", "messages": [1, 2]}',
    "stream a string": b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}',
    "stream_options a list": (
        b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hi"}], "stream": true,'
        b' "stream_options": [1]}'
    ),
    "include_usage a string": (
        b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hi"}], "stream": true,'
        b' "stream_options": {"include_usage": "no"}}'
    ),
    "max_tokens a string": b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user"}], "max_tokens": "10"}',
    "max_tokens a float": b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user"}], "max_tokens": 1.5}',
    "max_tokens huge": (
        b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hi"}],'
        b' "max_tokens": 123456789012345678901234567890123}'
    ),
    "max_tokens 2**31": (
        b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2147483648}'
    ),
    "max_tokens negative": b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user"}], "max_tokens": -5}',
    "max_tokens huge exponent": b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user"}], "max_tokens": 1e999}',
    "max_completion_tokens huge": (
        b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user"}], "max_completion_tokens": 99999999999999999999999}'
    ),
    "NaN": b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user"}], "temperature": NaN}',
    "Infinity": b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user"}], "temperature": Infinity}',
    "BOM": b'\xef\xbb\xbf{"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hi"}]}',
    "trailing garbage": b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user"}]} xyz',
    "two objects": b'{"model": "qwen/qwen3-32b", "messages": [{"role": "user"}]}{"a": 1}',
    "single quotes": b"{'model': 'qwen/qwen3-32b'}",
    "control character in a string": b'{"model": "qwen/qwen3-32b", "messages": [{"content": "a\x01b"}]}',
    "duplicate model, second invalid": b'{"model": "qwen/qwen3-32b", "model": 5, "messages": [{"role": "user"}]}',
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
@pytest.mark.parametrize("path", ["/chat/completions", "/embeddings", "/moderations"])
def test_a_malformed_body_is_a_4xx_in_the_openai_shape(client: httpx.Client, name: str, path: str) -> None:
    assert_openai_error(chat(client, BAD_BODIES[name], path))


@pytest.mark.parametrize(
    "name",
    [
        "empty",
        "top-level array",
        "truncated",
        "invalid utf-8 in an unread string",
        "invalid utf-8 in model",
        "lone surrogate in model",
        "NUL in model",
        "deep nesting in an unread field",
        "deep nesting in stream_options",
        "max_tokens huge",
        "max_tokens negative",
        "BOM",
        "NaN",
    ],
)
def test_chat_bodies_that_must_be_400(client: httpx.Client, name: str) -> None:
    error = assert_openai_error(chat(client, BAD_BODIES[name]), 400)
    assert error["type"] == "invalid_request_error"


def test_duplicate_keys_are_read_as_the_last_one_like_the_upstream_does(client: httpx.Client) -> None:
    body = b'{"model": 5, "model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "hi"}]}'
    assert chat(client, body).status_code == 200


def test_valid_non_ascii_is_forwarded_untouched(client: httpx.Client, upstream) -> None:  # type: ignore[no-untyped-def]
    body = '{"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "héllo ☃ 🎉"}], "x": [[[[1]]]]}'
    assert chat(client, body.encode()).status_code == 200
    assert upstream.last_request().body_bytes == body.encode()


def test_input_wrong_types_on_embeddings_and_moderations(client: httpx.Client) -> None:
    for path in ("/embeddings", "/moderations"):
        for raw in (
            b'{"model": "openai/text-embedding-3-small"}',
            b'{"model": "openai/text-embedding-3-small", "input": null}',
        ):
            error = assert_openai_error(chat(client, raw, path), 400)
            assert error["param"] == "input"


# ---- headers, paths, methods -------------------------------------------------------------------

VALID = json.dumps({"model": "qwen/qwen3-32b", "messages": MESSAGES}).encode()


def raw_request(gateway: Gateway, data: bytes) -> tuple[int, bytes]:
    """One hand-written HTTP/1.1 request; the status and body of the answer."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=15) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize(
    "authorization",
    [
        b"Bearer sk-sluice-\xe9\xe8\xff-latin-1-bytes-here",
        b"Bearer sk-sluice-\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83-utf-8-bytes",
        b"Bearer ",
        b"Bearer",
        b"bearer  sk-sluice-aaaaaaaaaaaaaaaaaaaaaaaaa",
        b"Basic dXNlcjpwYXNz",
        b"sk-sluice-no-scheme-at-all-xxxxxxxxxx",
        b"Bearer " + b"x" * 6000,
        b"Bearer sk-sluice-aaaaaaaaaaaaaaaaaaaaaaaaa extra words",
        b"",
    ],
)
@pytest.mark.parametrize("target", [b"/proxy/v1/chat/completions", b"/proxy/v1/stats", b"/v1/key"])
def test_odd_authorization_headers_are_401(gateway: Gateway, authorization: bytes, target: bytes) -> None:
    method = b"POST" if target.endswith(b"completions") else b"GET"
    status, body = raw_request(
        gateway,
        method
        + b" "
        + target
        + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: "
        + authorization
        + b"\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(VALID)).encode()
        + b"\r\n\r\n"
        + VALID,
    )
    assert status == 401, body
    assert set(json.loads(body)["error"]) == {"message", "type", "code", "param"}


def test_control_bytes_in_a_header_are_refused_by_the_http_server(gateway: Gateway) -> None:
    # httptools turns these away before the app sees them: a plain-text 400, never a 5xx.
    status, _ = raw_request(
        gateway, b"GET /v1/key HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer a\x7f\x00b\r\n\r\n"
    )
    assert status == 400


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
        "application/json; charset=latin-1",
        "\xff/\xfe",
    ],
)
def test_odd_content_types_do_not_break_anything(client: httpx.Client, content_type: str) -> None:
    response = client.post("/chat/completions", content=VALID, headers={"Content-Type": content_type.encode("latin-1")})
    assert response.status_code < 500, response.text


def test_form_bodies_are_400(client: httpx.Client) -> None:
    response = client.post("/chat/completions", data={"model": "qwen/qwen3-32b"})
    assert_openai_error(response, 400)


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 5\r\n\r\n" + VALID,  # shorter than the body: the rest is not JSON
        b"Content-Length: -1\r\n\r\n" + VALID,
        b"Content-Length: abc\r\n\r\n" + VALID,
        b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    ],
)
def test_broken_framing_is_a_4xx(gateway: Gateway, key: str, framing: bytes) -> None:
    request = (
        b"POST /proxy/v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: Bearer " + key.encode() + b"\r\nContent-Type: application/json\r\n" + framing
    )
    status, _ = raw_request(gateway, request)
    assert 400 <= status < 500


@pytest.mark.parametrize(
    "target",
    [
        b"/proxy/v1/models/%ff%fe",
        b"/proxy/v1/models/%",
        b"/proxy/v1/models/%zz",
        b"/proxy/v1/models/a%00b",
        b"/proxy/v1/%2e%2e/%2e%2e/etc/passwd",
        b"/proxy/v1/models?%ff=%fe&&&=&a",
        b"/proxy/v1/stats?x=\xff",
        b"/proxy/v1/chat/completions/../../healthz",
        b"/proxy/v1/models/" + b"a" * 6000,
        b"//proxy//v1//models",
    ],
)
def test_odd_paths_and_query_strings_are_not_5xx(gateway: Gateway, target: bytes) -> None:
    status, body = raw_request(gateway, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status < 500, body


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_wrong_methods_are_405_in_the_openai_shape(client: httpx.Client, method: str) -> None:
    assert_openai_error(client.request(method, "/chat/completions", content=VALID), 405)


# ---- the fuzz ----------------------------------------------------------------------------------

VALID_BODIES = {
    "/chat/completions": {"model": "qwen/qwen3-32b", "messages": MESSAGES, "max_tokens": 10},
    "/embeddings": {"model": "openai/text-embedding-3-small", "input": "hi"},
    "/moderations": {"input": "hi"},
}
FIELDS = ["model", "messages", "stream", "max_tokens", "max_completion_tokens", "stream_options", "input", "x"]


def _values(rng: random.Random) -> list[str]:
    depth = rng.choice([1, 3, 100, 600, 5000])
    return [
        "null",
        "true",
        "false",
        "0",
        "-1",
        "1.5",
        "1e400",
        "-1e400",
        "NaN",
        "-Infinity",
        "18446744073709551616",
        str(rng.randrange(-(10**40), 10**40)),
        '""',
        '"x"',
        '"\\u0000"',
        '"\\ud800"',
        '"\\udfff\\ud800"',
        '"openrouter/\\u0001"',
        '"\xff"',
        '"\xc3"',
        "[]",
        "{}",
        "[1]",
        '[{"role": "user"}]',
        '{"include_usage": 1}',
        '{"include_usage": true}',
        "[" * depth + "]" * depth,
        '{"a":' * depth + "0" + "}" * depth,
        '"' + "y" * rng.choice([10, 300, 70_000]) + '"',
        '[{"role":"user","content":"\xed\xa0\x80"}]',
    ]


def _mutate(rng: random.Random, body: dict) -> bytes:
    fields = {k: json.dumps(v) for k, v in body.items()}
    for _ in range(rng.randint(1, 3)):
        fields[rng.choice(FIELDS)] = rng.choice(_values(rng))
    if rng.random() < 0.2:
        fields.pop(rng.choice(list(fields)), None)
    text = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"
    if rng.random() < 0.1:
        text = text.replace('"', rng.choice(["'", "", '\\"']), 1)
    raw = text.encode("utf-8", "surrogateescape")
    roll = rng.random()
    if roll < 0.1:
        raw = raw[: rng.randrange(len(raw) + 1)]
    elif roll < 0.2:
        at = rng.randrange(len(raw) + 1)
        raw = raw[:at] + bytes([rng.randrange(256)]) + raw[at:]
    elif roll < 0.25:
        raw = b"\xef\xbb\xbf" + raw
    elif roll < 0.3:
        raw = raw + raw
    return raw


def test_seeded_fuzz_of_malformed_bodies_never_5xx(client: httpx.Client) -> None:
    rng = random.Random(20261201)
    failures: list[tuple[str, bytes, int, str]] = []
    statuses: dict[int, int] = {}
    for _ in range(3000):
        path = rng.choice(list(VALID_BODIES))
        raw = _mutate(rng, VALID_BODIES[path])
        response = chat(client, raw, path)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        ok = response.status_code < 500
        if ok and response.status_code >= 400:
            try:
                error = response.json()["error"]
                ok = set(error) == {"message", "type", "code", "param"}
            except (ValueError, KeyError, TypeError):
                ok = False
        if not ok:
            failures.append((path, raw[:300], response.status_code, response.text[:200]))
    assert not failures, (len(failures), statuses, failures[:10])
    assert statuses.get(400, 0) > 1000, statuses  # most bodies were broken
    assert statuses.get(200, 0) > 50, statuses  # and some still valid: the fuzz exercised the upstream path too
