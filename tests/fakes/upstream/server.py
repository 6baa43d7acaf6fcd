"""The fake upstream's HTTP server: a raw asyncio Protocol over httptools.

A framework would cost more CPU per request than the gateway under test; the benchmarks need the
fake to be the cheap side. Responses that need no waiting are written from the parser callback
itself, with no task; only latency, streams and failure knobs pay for a coroutine.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from typing import Any, cast

import httptools

from . import payloads as p
from .knobs import KNOB_DEFAULTS, check_knobs

RECORD_LIMIT = 200
SPLIT_PAUSE_S = 0.005  # between the two halves of a split frame, so a relay reads them apart
WHITESPACE = b"\n\n      \n\n"

Action = Callable[["Connection"], Awaitable[None]]
Result = bytes | Action

_encode = json.JSONEncoder(separators=(",", ":")).encode


def dumps(obj: Any) -> bytes:
    return _encode(obj).encode("ascii")


@lru_cache(maxsize=64)
def _status_line(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("ascii")


def head(
    status: int,
    content_type: bytes,
    *,
    length: int | None,
    keep_alive: bool,
    extra: dict[str, str] | None = None,
) -> bytes:
    """Status line and headers; Content-Length when ``length`` is known, chunked otherwise."""
    parts = [_status_line(status), b"Content-Type: ", content_type, b"\r\n"]
    if length is None:
        parts.append(b"Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n")
    else:
        parts += (b"Content-Length: ", str(length).encode("ascii"), b"\r\n")
    if not keep_alive:
        parts.append(b"Connection: close\r\n")
    if extra:
        for name, value in extra.items():
            parts.append(f"{name}: {value}\r\n".encode("latin-1"))
    parts.append(b"\r\n")
    return b"".join(parts)


def json_response(status: int, body: Any, keep_alive: bool, extra: dict[str, str] | None = None) -> bytes:
    data = body if isinstance(body, bytes) else dumps(body)
    return head(status, b"application/json", length=len(data), keep_alive=keep_alive, extra=extra) + data


def sse_frame(body: Any) -> bytes:
    return b"data: " + (body if isinstance(body, bytes) else dumps(body)) + b"\n\n"


def http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


class Reject(Exception):
    """Answer the request with this OpenRouter error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool
    connection_id: int

    @property
    def path(self) -> str:
        return self.url.partition("?")[0]


async def _hang(conn: Connection) -> None:
    await asyncio.get_running_loop().create_future()


async def _drop(conn: Connection) -> None:
    conn.close()


def _delayed(seconds: float, result: Result) -> Action:
    async def action(conn: Connection) -> None:
        await asyncio.sleep(seconds)
        if isinstance(result, bytes):
            conn.write(result)
        else:
            await result(conn)

    return action


_MODELS_BODY = dumps({"data": p.CHAT_MODELS})
_EMBEDDING_MODELS_BODY = dumps({"data": p.EMBEDDING_MODELS})


class FakeUpstream:
    """Routing, knobs, recording and counters; shared by every connection of one server."""

    def __init__(self, *, api_key: str | None = None, knobs: dict[str, Any] | None = None) -> None:
        problem = check_knobs(knobs or {})
        if problem:
            raise ValueError(problem)
        self.startup_config: dict[str, Any] = {**KNOB_DEFAULTS, **(knobs or {})}
        self.startup_api_key = api_key
        self.config = dict(self.startup_config)
        self.api_key = api_key
        self.records: deque[dict[str, Any]] = deque(maxlen=RECORD_LIMIT)
        self.connections: set[Connection] = set()
        self.next_connection_id = 0
        self.next_record_id = 0
        self.aborted_streams = 0
        self.completed_streams = 0
        self.routes: dict[str, tuple[str, Callable[[Request, dict[str, Any], dict[str, Any]], Result]]] = {
            "/chat/completions": ("POST", self._chat),
            "/embeddings": ("POST", self._embeddings),
            "/moderations": ("POST", self._moderations),
            "/models": ("GET", self._models),
            "/embeddings/models": ("GET", self._embedding_models),
        }

    def handle(self, req: Request, conn: Connection) -> Result:
        try:
            if req.url.startswith("/_fake/"):
                return self._control(req, conn)
            return self._serve(req)
        except Reject as reject:
            return json_response(reject.status, p.error_body(reject.status, reject.message), req.keep_alive)

    # ---- the OpenRouter-like API -------------------------------------------------------------

    def _serve(self, req: Request) -> Result:
        self._record(req)
        if self.api_key is not None and req.headers.get("authorization") != f"Bearer {self.api_key}":
            raise Reject(401, "No auth credentials found")
        path = req.path
        if path.startswith("/api/v1/"):
            route = self.routes.get(path[7:])
        elif path.startswith("/v1/"):
            route = self.routes.get(path[3:])
        else:
            route = None
        if route is None:
            raise Reject(404, "Not Found")
        method, endpoint = route
        if req.method != method:
            raise Reject(405, "Method Not Allowed")
        body: Any = {}
        if method == "POST":
            try:
                body = json.loads(req.body)
            except ValueError as exc:
                raise Reject(400, f"Invalid JSON in request body: {exc}") from None
            if not isinstance(body, dict):
                raise Reject(400, "Request body must be a JSON object")
        knobs = self._knobs(body)

        if knobs["hang"]:
            return _hang
        status = knobs["status"]
        if knobs["drop"]:
            result: Result = _drop
        elif status != 200:
            metadata = knobs["error_metadata"]
            if metadata is None:
                metadata = {"provider_name": p.PROVIDER, "raw": knobs["error_message"]}
            error = p.error_body(status, knobs["error_message"], metadata)
            result = json_response(status, error, req.keep_alive, knobs["headers"])
        elif knobs["error_200_whitespace"]:
            result = self._whitespace_error(req, knobs)
        else:
            result = endpoint(req, body, knobs)
        if knobs["latency_ms"]:
            return _delayed(knobs["latency_ms"] / 1000, result)
        return result

    def _knobs(self, body: dict[str, Any]) -> dict[str, Any]:
        knobs = self.config
        model = body.get("model")
        if isinstance(model, str) and model.startswith("fake/"):
            knobs = {**knobs, **_model_trigger(model)}
        overrides = body.get("fake")
        if overrides is not None:
            problem = check_knobs(overrides)
            if problem:
                raise Reject(400, problem)
            knobs = {**knobs, **overrides}
        return knobs

    def _whitespace_error(self, req: Request, knobs: dict[str, Any]) -> Action:
        error = dumps(p.error_body(502, knobs["error_message"]))
        header = head(
            200,
            b"application/json",
            length=len(WHITESPACE) + len(error),
            keep_alive=req.keep_alive,
            extra=knobs["headers"],
        )

        async def action(conn: Connection) -> None:
            # OpenRouter keeps a slow request alive with whitespace and only later knows it failed.
            conn.write(header + WHITESPACE)
            await asyncio.sleep(max(knobs["chunk_delay_ms"] / 1000, SPLIT_PAUSE_S))
            conn.write(error)

        return action

    def _chat(self, req: Request, body: dict[str, Any], knobs: dict[str, Any]) -> Result:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise Reject(400, "messages: expected a non-empty array")
        model = body.get("model") or p.DEFAULT_CHAT_MODEL
        if not isinstance(model, str):
            raise Reject(400, "model: expected a string")
        prompt_tokens = p.count_prompt_tokens(messages)
        chunks = knobs["chunks"]
        reasoning = p.requested_reasoning(body, knobs["reasoning"])
        call = p.planned_tool_call(body, knobs["tool_call"])
        if body.get("stream") is True:
            options = body.get("stream_options")
            usage_flag = body.get("usage")
            include_usage = (isinstance(options, dict) and options.get("include_usage") is True) or (
                isinstance(usage_flag, dict) and usage_flag.get("include") is True
            )
            stream = _Stream(self, req, knobs, model, prompt_tokens, include_usage, images=p.wants_image(body))
            stream.reasoning, stream.tool_call = reasoning, call
            return stream.run
        if p.wants_image(body):
            return json_response(200, _image_completion(model, prompt_tokens, knobs), req.keep_alive, knobs["headers"])
        completion = p.chat_completion(
            gen_id=p.new_id(),
            model=model,
            created=int(time.time()),
            text=_completion_text(chunks),
            usage_=p.usage(prompt_tokens, chunks, knobs["cost"], knobs["usage"]),
            fingerprint=knobs["system_fingerprint"],
        )
        if reasoning is not None or call is not None:
            _reason_and_call(completion, reasoning, call, prompt_tokens, chunks, knobs)
        annotations = p.file_annotations(messages)
        if annotations is not None:
            completion["choices"][0]["message"]["annotations"] = annotations
        return json_response(200, completion, req.keep_alive, knobs["headers"])

    def _embeddings(self, req: Request, body: dict[str, Any], knobs: dict[str, Any]) -> Result:
        inputs = p.embedding_inputs(body.get("input"))
        if inputs is None:
            raise Reject(400, "input: expected a string or an array of strings")
        model = body.get("model") or p.DEFAULT_EMBEDDING_MODEL
        data = p.embeddings(model=model, inputs=inputs, encoding_format=body.get("encoding_format"), cost=knobs["cost"])
        return json_response(200, data, req.keep_alive, knobs["headers"])

    def _moderations(self, req: Request, body: dict[str, Any], knobs: dict[str, Any]) -> Result:
        result = p.moderation(model=body.get("model") or p.DEFAULT_MODERATION_MODEL, value=body.get("input"))
        if result is None:
            raise Reject(400, "input: expected a string, an array of strings or an array of parts")
        return json_response(200, result, req.keep_alive, knobs["headers"])

    def _models(self, req: Request, body: dict[str, Any], knobs: dict[str, Any]) -> Result:
        return json_response(200, _MODELS_BODY, req.keep_alive, knobs["headers"])

    def _embedding_models(self, req: Request, body: dict[str, Any], knobs: dict[str, Any]) -> Result:
        return json_response(200, _EMBEDDING_MODELS_BODY, req.keep_alive, knobs["headers"])

    # ---- inspection and steering: /_fake/... ---------------------------------------------------

    def _record(self, req: Request) -> None:
        self.next_record_id += 1
        self.records.append(
            {
                "id": self.next_record_id,
                "connection_id": req.connection_id,
                "received_at": time.time(),
                "method": req.method,
                "path": req.url,
                "headers": req.headers,
                # surrogateescape keeps any byte: body.encode("utf-8", "surrogateescape") restores it
                "body": req.body.decode("utf-8", "surrogateescape"),
            }
        )

    def _control(self, req: Request, conn: Connection) -> Result:
        route = (req.method, req.path)
        if route == ("GET", "/_fake/requests"):
            return json_response(200, {"requests": list(self.records)}, req.keep_alive)
        if route == ("DELETE", "/_fake/requests"):
            cleared = len(self.records)
            self.records.clear()
            return json_response(200, {"cleared": cleared}, req.keep_alive)
        if route == ("GET", "/_fake/stats"):
            return json_response(200, self.stats(exclude=conn), req.keep_alive)
        if route[1] == "/_fake/config" and req.method in ("GET", "PUT", "DELETE"):
            if req.method == "PUT":
                self._configure(req.body)
            elif req.method == "DELETE":
                self.config = dict(self.startup_config)
                self.api_key = self.startup_api_key
            return json_response(200, {**self.config, "api_key": self.api_key}, req.keep_alive)
        raise Reject(404, "Not Found")

    def _configure(self, raw: bytes) -> None:
        try:
            update = json.loads(raw)
        except ValueError:
            raise Reject(400, "Invalid JSON in request body") from None
        if not isinstance(update, dict):
            raise Reject(400, "Request body must be a JSON object")
        api_key = update.pop("api_key", self.api_key)
        if api_key is not None and not isinstance(api_key, str):
            raise Reject(400, "api_key: expected a string or null")
        problem = check_knobs(update)
        if problem:
            raise Reject(400, problem)
        self.config = {**self.config, **update}
        self.api_key = api_key

    def stats(self, exclude: Connection | None = None) -> dict[str, int]:
        return {
            # the connection asking is not one the test is counting
            "open_connections": len(self.connections - {exclude}) if exclude else len(self.connections),
            "aborted_streams": self.aborted_streams,
            "completed_streams": self.completed_streams,
            "requests_total": self.next_record_id,
        }


def _model_trigger(model: str) -> dict[str, Any]:
    """``fake/error-503`` answers 503, ``fake/hang`` never answers; other fake/ names are plain models."""
    name = model[5:]
    if name == "hang":
        return {"hang": True}
    if name.startswith("error-") and name[6:].isdigit():
        return {"status": int(name[6:])}
    return {}


def _reason_and_call(
    completion: dict[str, Any],
    reasoning: str | None,
    call: dict[str, str] | None,
    prompt_tokens: int,
    chunks: int,
    knobs: dict[str, Any],
) -> None:
    """The knobs "reasoning" and "tool_call" on a non-streamed completion; reasoning words count as tokens."""
    if reasoning is not None:
        p.add_reasoning(completion, reasoning)
        thought_tokens = len(p.reasoning_words(reasoning))
        usage = p.usage(prompt_tokens, chunks + thought_tokens, knobs["cost"], knobs["usage"])
        completion["usage"] = p.count_reasoning(usage, thought_tokens, knobs["usage"])
    if call is not None:
        p.add_tool_call(completion, call, reasoning)


@lru_cache(maxsize=64)
def _completion_text(chunks: int) -> str:
    return p.completion_text(chunks)


def _image_completion(model: str, prompt_tokens: int, knobs: dict[str, Any]) -> dict[str, Any]:
    """OpenRouter's answer to an image request: a line of text, and the image in ``message.images``."""
    completion = p.chat_completion(
        gen_id=p.new_id(),
        model=model,
        created=int(time.time()),
        text=p.IMAGE_TEXT,
        usage_=p.image_usage(prompt_tokens, knobs["cost"], knobs["usage"]),
        fingerprint=knobs["system_fingerprint"],
    )
    completion["choices"][0]["message"]["images"] = p.image_parts()
    return completion


class _Stream:
    """One streamed chat completion: an SSE body in HTTP chunks, one SSE frame per chunk."""

    reasoning: str | None = None  # knob "reasoning": delta.reasoning frames before the content
    tool_call: dict[str, str] | None = None  # knob "tool_call": a streamed call instead of the content

    def __init__(
        self,
        app: FakeUpstream,
        req: Request,
        knobs: dict[str, Any],
        model: str,
        prompt_tokens: int,
        include_usage: bool,
        images: bool = False,
    ) -> None:
        self.app = app
        self.req = req
        self.knobs = knobs
        self.model = model
        self.prompt_tokens = prompt_tokens
        self.include_usage = include_usage
        self.images = images  # the text, then the image alone in its own delta (as OpenRouter streams it)
        self.gen_id = p.new_id()
        self.created = int(time.time())
        self.delay = knobs["chunk_delay_ms"] / 1000

    def _chunk(self, delta: dict[str, Any] | None, finish_reason: str | None = None) -> dict[str, Any]:
        return p.chat_chunk(
            gen_id=self.gen_id,
            model=self.model,
            created=self.created,
            delta=delta,
            finish_reason=finish_reason,
            fingerprint=self.knobs["system_fingerprint"],
        )

    async def _send(self, conn: Connection, frame: bytes) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        else:
            await asyncio.sleep(0)  # let other connections run between frames
        if self.knobs["split_frames"]:
            cut = len(frame) // 2
            conn.write(http_chunk(frame[:cut]))
            await asyncio.sleep(SPLIT_PAUSE_S)
            conn.write(http_chunk(frame[cut:]))
        else:
            conn.write(http_chunk(frame))

    async def run(self, conn: Connection) -> None:
        knobs = self.knobs
        words = [p.IMAGE_TEXT, ""] if self.images else p.completion_words(knobs["chunks"])
        fail_after = knobs["fail_after_chunks"]
        mid_error = knobs["mid_stream_error"]
        error_after = None if mid_error is False else len(words) // 2 if mid_error is True else mid_error

        conn.streaming = True
        extra = knobs["headers"]
        conn.write(head(200, b"text/event-stream", length=None, keep_alive=self.req.keep_alive, extra=extra))
        await self._send(conn, b": OPENROUTER PROCESSING\n\n")
        thought_tokens = 0
        if self.reasoning is not None:
            for word in p.reasoning_words(self.reasoning):
                thought_tokens += 1
                await self._send(conn, sse_frame(self._chunk({"role": "assistant", "reasoning": word})))
        if self.tool_call is not None:
            await self._stream_tool_call(conn, self.tool_call, len(words) + thought_tokens, thought_tokens)
            return
        for index, word in enumerate([*words, None]):
            if fail_after is not None and index >= fail_after:
                conn.streaming = False  # the fake hung up; the client did not abort
                conn.close()
                return
            if error_after is not None and index >= error_after:
                error = p.mid_stream_error_chunk(
                    gen_id=self.gen_id, model=self.model, created=self.created, message=knobs["error_message"]
                )
                await self._send(conn, sse_frame(error))
                break
            if word is None:
                await self._send(conn, sse_frame(self._chunk({"role": "assistant", "content": ""}, "stop")))
                if self.include_usage:
                    if self.images:
                        usage = p.image_usage(self.prompt_tokens, knobs["cost"], knobs["usage"])
                    else:
                        usage = p.usage(self.prompt_tokens, len(words) + thought_tokens, knobs["cost"], knobs["usage"])
                        usage = p.count_reasoning(usage, thought_tokens, knobs["usage"])
                    await self._send(conn, sse_frame({**self._chunk(None), "usage": usage}))
                break
            delta = {"role": "assistant", "content": word} if index == 0 else {"content": word}
            if self.images and index == len(words) - 1:
                delta["images"] = p.image_parts()
            await self._send(conn, sse_frame(self._chunk(delta)))
        await self._send(conn, b"data: [DONE]\n\n")
        conn.write(b"0\r\n\r\n")
        conn.streaming = False
        self.app.completed_streams += 1

    async def _stream_tool_call(
        self, conn: Connection, call: dict[str, str], completion_tokens: int, thought_tokens: int
    ) -> None:
        """The call's head (with its reasoning_details), the arguments in two or more pieces, the finish,
        usage, [DONE]. The failure knobs (fail_after_chunks, mid_stream_error) play no part here."""
        head = {"index": 0, "id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": ""}}
        delta = {"role": "assistant", "content": "", "tool_calls": [head]}
        delta["reasoning_details"] = p.tool_call_details(call, None)
        await self._send(conn, sse_frame(self._chunk(delta)))
        arguments = call["arguments"]
        cut = max(1, len(arguments) // 2)
        for piece in (arguments[:cut], arguments[cut:]):
            await self._send(
                conn, sse_frame(self._chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
            )
        await self._send(conn, sse_frame(self._chunk({}, "tool_calls")))
        if self.include_usage:
            knobs = self.knobs
            usage = p.usage(self.prompt_tokens, completion_tokens, knobs["cost"], knobs["usage"])
            usage = p.count_reasoning(usage, thought_tokens, knobs["usage"])
            await self._send(conn, sse_frame({**self._chunk(None), "usage": usage}))
        await self._send(conn, b"data: [DONE]\n\n")
        conn.write(b"0\r\n\r\n")
        conn.streaming = False
        self.app.completed_streams += 1


class Connection(asyncio.Protocol):
    """One client connection: HTTP/1.1 keep-alive, requests answered strictly in order."""

    def __init__(self, app: FakeUpstream) -> None:
        self.app = app
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.id = 0
        self.closed = False
        self.streaming = False  # a stream has begun and not ended: a close now is the client's abort
        self.busy = False
        self.pending: deque[Request] = deque()
        self.task: asyncio.Task[None] | None = None
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []

    # ---- transport callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self.app.next_connection_id += 1
        self.id = self.app.next_connection_id
        self.app.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.app.connections.discard(self)
        if self.streaming:
            self.streaming = False
            self.app.aborted_streams += 1
        if self.task is not None:
            self.task.cancel()

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail("Upgrade is not supported")
        except httptools.HttpParserError as exc:
            self._fail(f"Malformed HTTP request: {exc}")

    def _fail(self, message: str) -> None:
        if not self.closed and not self.busy:
            self.write(json_response(400, p.error_body(400, message), keep_alive=False))
        self.close()

    # ---- parser callbacks

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._body = []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        for name, value in self._headers:
            # curl waits a second for this before sending a large body
            if name.lower() == b"expect" and value.lower() == b"100-continue" and not self.busy:
                self.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        headers: dict[str, str] = {}
        for raw_name, raw_value in self._headers:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        request = Request(
            method=self.parser.get_method().decode("ascii"),
            url=self._url.decode("latin-1"),
            headers=headers,
            body=b"".join(self._body),
            keep_alive=self.parser.should_keep_alive(),
            connection_id=self.id,
        )
        if self.busy:
            self.pending.append(request)
        else:
            self._dispatch(request)

    # ---- answering

    def _dispatch(self, request: Request) -> None:
        while not self.closed:
            try:
                result = self.app.handle(request, self)
            except Exception:
                traceback.print_exc()
                self.write(json_response(500, p.error_body(500, "fake upstream bug"), keep_alive=False))
                self.close()
                return
            if not isinstance(result, bytes):
                self.busy = True
                self.task = asyncio.get_running_loop().create_task(self._run(result, request))
                return
            self.write(result)
            if not request.keep_alive:
                self.close()
                return
            if not self.pending:
                return
            request = self.pending.popleft()

    async def _run(self, action: Action, request: Request) -> None:
        try:
            await action(self)
        except asyncio.CancelledError:
            return  # the client went away (or the server is stopping)
        except Exception:
            traceback.print_exc()
            self.close()
            return
        self.busy = False
        self.task = None
        if not request.keep_alive:
            self.close()
        elif self.pending:
            self._dispatch(self.pending.popleft())

    def write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def close(self) -> None:
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.close()


async def serve(
    host: str,
    port: int,
    *,
    api_key: str | None = None,
    knobs: dict[str, Any] | None = None,
    stop: asyncio.Event | None = None,
    ready: Callable[[str, int], None] | None = None,
) -> None:
    """Serve until ``stop`` is set; ``ready(host, port)`` is called once connections are accepted."""
    app = FakeUpstream(api_key=api_key, knobs=knobs)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(app), host, port, backlog=2048)
    bound_host, bound_port = server.sockets[0].getsockname()[:2]
    if ready is not None:
        ready(bound_host, bound_port)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        server.close()
        for conn in list(app.connections):
            if conn.transport is not None:
                conn.transport.abort()
        await server.wait_closed()
    print(f"fake upstream stopped after {app.next_record_id} requests", file=sys.stderr)
