"""A Gemini ``GenerateContentRequest`` -> the OpenAI chat-completions body the upstream speaks.

Field names are read in both spellings Google's JSON parser accepts, lowerCamel and snake_case
(google-genai itself sends ``inlineData.mime_type``, ``thinkingConfig.include_thoughts``,
``parameters_json_schema``...). Integers may come as JSON numbers with a zero fraction (the SDK
sends ``topK: 40.0``) or, for int64 schema bounds, as strings. As in proto3 JSON, a 0 for
``maxOutputTokens`` or ``candidateCount`` means "not set".

What is accepted and not forwarded: ``safetySettings``, ``cachedContent``, ``labels``, tools other
than function declarations (googleSearch, codeExecution, urlContext...), ``speechConfig``,
``mediaResolution`` and unknown top-level fields. Images and files in *model* turns are dropped: an
OpenAI assistant message carries text only.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from typing import Any

import msgspec

from .signatures import decode_signature


class GeminiRequestError(ValueError):
    """A request the Gemini API would refuse with 400 INVALID_ARGUMENT; ``field`` is the JSON path."""

    http_status = 400
    google_status = "INVALID_ARGUMENT"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class UpstreamChat:
    """What to send upstream, and what the answer's translation and the metering need to know."""

    openai_body: bytes  # the chat-completions JSON, "model" set; streams ask for the usage chunk
    max_tokens: int | None  # generationConfig.maxOutputTokens
    include_thoughts: bool  # thinkingConfig.includeThoughts: reasoning comes back as thought parts
    candidate_count: int = 1  # generationConfig.candidateCount (sent as n when above 1)


_decode = msgspec.json.decode
_encode = msgspec.json.encode
_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")
_SNAKE: dict[str, str] = {}
_CAMEL: dict[str, str] = {}


def _snake(name: str) -> str:
    snake = _SNAKE.get(name)
    if snake is None:
        snake = _CAMEL_HUMP.sub("_", name).lower()
        if len(_SNAKE) < 4096:  # keys can come from clients (imageConfig): bound the cache
            _SNAKE[name] = snake
    return snake


def _camel(name: str) -> str:
    camel = _CAMEL.get(name)
    if camel is None:
        if "_" in name.strip("_"):
            head, *rest = name.split("_")
            camel = head + "".join(word[:1].upper() + word[1:] for word in rest)
        else:
            camel = name
        if len(_CAMEL) < 4096:
            _CAMEL[name] = camel
    return camel


def _get(obj: dict[str, Any], name: str) -> Any:
    """``obj[name]`` (lowerCamel) or ``obj[name_in_snake_case]``; None when neither is there."""
    value = obj.get(name)
    if value is None:
        value = obj.get(_snake(name))
    return value


def _norm(obj: dict[str, Any]) -> dict[str, Any]:
    """A protocol object with its snake_case keys in lowerCamel (itself when it has none: the usual case).
    Never for client data (``args``, ``response``, a schema's ``properties`` map)."""
    for key in obj:
        if "_" in key:
            return {_camel(k): v for k, v in obj.items()}
    return obj


# ---- typed reads ---------------------------------------------------------------------------


def _type_error(field: str, expected: str, value: Any) -> GeminiRequestError:
    shown = msgspec.json.encode(value).decode()
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return GeminiRequestError(f"Invalid value at '{field}' ({expected}): {shown}", field)


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _type_error(field, "an object", value)
    return value


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise _type_error(field, "an array", value)
    return value


def _string(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise _type_error(field, "a string", value)
    return value


def _number(value: Any, field: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _type_error(field, "a number", value)
    return value


def _integer(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise _type_error(field, "an integer", value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():  # int64 values travel as strings
        return int(value)
    raise _type_error(field, "an integer", value)


def _boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise _type_error(field, "a boolean", value)
    return value


def _strings(value: Any, field: str) -> list[str]:
    items = _list(value, field)
    for index, item in enumerate(items):
        _string(item, f"{field}[{index}]")
    return items


def _json_text(value: Any) -> str:
    return _encode(value).decode()


# ---- parts ---------------------------------------------------------------------------------

_DATA_KINDS = {
    "text": "text",
    "inlineData": "inlineData",
    "inline_data": "inlineData",
    "fileData": "fileData",
    "file_data": "fileData",
    "functionCall": "functionCall",
    "function_call": "functionCall",
    "functionResponse": "functionResponse",
    "function_response": "functionResponse",
}
_UNSUPPORTED_KINDS = frozenset(
    {
        "executableCode",
        "executable_code",
        "codeExecutionResult",
        "code_execution_result",
        "toolCall",
        "tool_call",
        "toolResponse",
        "tool_response",
    }
)
_EXTENSIONS = {
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/csv": "csv",
    "text/html": "html",
    "text/xml": "xml",
    "application/xml": "xml",
    "application/json": "json",
    "text/x-python": "py",
    "application/x-python-code": "py",
    "text/javascript": "js",
    "application/rtf": "rtf",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
}
# input_audio formats OpenRouter takes, by MIME subtype
_AUDIO_FORMATS = {
    "wav": "wav",
    "x-wav": "wav",
    "wave": "wav",
    "vnd.wave": "wav",
    "mpeg": "mp3",
    "mp3": "mp3",
    "aiff": "aiff",
    "x-aiff": "aiff",
    "aac": "aac",
    "ogg": "ogg",
    "flac": "flac",
    "x-flac": "flac",
    "mp4": "m4a",
    "m4a": "m4a",
    "x-m4a": "m4a",
}


def _part_kind(part: dict[str, Any], field: str) -> str | None:
    """The part's one data field (canonical name), or None for a signature-only part."""
    kind = None
    for key in part:
        canonical = _DATA_KINDS.get(key)
        if canonical is None:
            if key in _UNSUPPORTED_KINDS:
                raise GeminiRequestError(f"Parts of kind '{_camel(key)}' are not supported here.", f"{field}.{key}")
            continue
        if part[key] is None:
            continue
        if kind is not None:
            raise GeminiRequestError(f"A part has one data field; '{field}' has both {kind} and {canonical}.", field)
        kind = canonical
    if kind is None and part.get("thoughtSignature") is None:
        raise GeminiRequestError(
            "Unknown part kind: expected text, inlineData, fileData, functionCall or functionResponse.", field
        )
    return kind


def _extension(mime: str) -> str:
    ext = _EXTENSIONS.get(mime)
    if ext is None:
        guessed = mimetypes.guess_extension(mime, strict=False)
        ext = guessed[1:] if guessed else "bin"
    return ext


def _inline_part(value: Any, field: str) -> dict[str, Any]:
    blob = _norm(_object(value, field))
    mime = _string(blob.get("mimeType"), f"{field}.mimeType").strip().lower()
    data = _string(blob.get("data"), f"{field}.data")
    kind, _, subtype = mime.partition("/")
    if kind == "image":
        return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}
    if kind == "audio" and subtype in _AUDIO_FORMATS:
        return {"type": "input_audio", "input_audio": {"data": data, "format": _AUDIO_FORMATS[subtype]}}
    if kind == "video":
        return {"type": "video_url", "video_url": {"url": f"data:{mime};base64,{data}"}}
    name = blob.get("displayName")
    filename = name if isinstance(name, str) and name else f"file.{_extension(mime)}"
    return {"type": "file", "file": {"filename": filename, "file_data": f"data:{mime};base64,{data}"}}


def _file_part(value: Any, field: str) -> dict[str, Any]:
    ref = _norm(_object(value, field))
    uri = _string(ref.get("fileUri"), f"{field}.fileUri")
    raw_mime = ref.get("mimeType")
    mime = _string(raw_mime, f"{field}.mimeType").strip().lower() if raw_mime is not None else ""
    kind = mime.partition("/")[0]
    if kind == "image":
        return {"type": "image_url", "image_url": {"url": uri}}
    if kind == "video":
        return {"type": "video_url", "video_url": {"url": uri}}
    name = ref.get("displayName")
    if not (isinstance(name, str) and name):
        tail = uri.partition("?")[0].rstrip("/").rpartition("/")[2]
        name = tail if "." in tail else f"file.{_extension(mime) if mime else 'bin'}"
    return {"type": "file", "file": {"filename": name, "file_data": uri}}


class _Call:
    __slots__ = ("answered", "id", "name")

    def __init__(self, call_id: str, name: str) -> None:
        self.id = call_id
        self.name = name
        self.answered = False


class _Assistant:
    """One assistant message from one or more consecutive model turns (google-genai keeps each
    streamed chunk of an answer as a model turn of its own)."""

    __slots__ = ("details", "texts", "tool_calls")

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.tool_calls: list[dict[str, Any]] = []
        self.details: list[dict[str, Any]] = []

    def message(self) -> dict[str, Any] | None:
        if not self.texts and not self.tool_calls and not self.details:
            return None
        text = "".join(self.texts)
        message: dict[str, Any] = {"role": "assistant", "content": text if text or not self.tool_calls else None}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        if self.details:
            message["reasoning_details"] = [{**detail, "index": i} for i, detail in enumerate(self.details)]
        return message


def _model_turn(parts: list[Any], turn: int, field: str, into: _Assistant) -> list[_Call]:
    calls: list[_Call] = []
    for index, raw in enumerate(parts):
        pf = f"{field}.parts[{index}]"
        part = _norm(_object(raw, pf))
        kind = _part_kind(part, pf)
        call_id = None
        if kind == "text":
            text = _string(part["text"], f"{pf}.text")
            thought = part.get("thought")
            if thought is None or not _boolean(thought, f"{pf}.thought"):
                into.texts.append(text)  # the model's own thoughts are not re-sent as content
        elif kind == "functionCall":
            cf = f"{pf}.functionCall"
            call = _object(part["functionCall"], cf)
            name = _string(call.get("name"), f"{cf}.name")
            args = call.get("args")
            args = {} if args is None else _object(args, f"{cf}.args")
            given = call.get("id")
            call_id = _string(given, f"{cf}.id") if given else f"call_{turn}_{len(calls)}"
            into.tool_calls.append(
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": _json_text(args)}}
            )
            calls.append(_Call(call_id, name))
        elif kind == "functionResponse":
            raise GeminiRequestError("functionResponse parts belong in a user turn, after the model's call.", pf)
        signature = part.get("thoughtSignature")
        if signature is not None:
            into.details.extend(decode_signature(_string(signature, f"{pf}.thoughtSignature"), call_id))
    return calls


def _user_turn(parts: list[Any], pending: list[_Call], field: str) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    content: list[dict[str, Any]] = []
    for index, raw in enumerate(parts):
        pf = f"{field}.parts[{index}]"
        part = _norm(_object(raw, pf))
        kind = _part_kind(part, pf)
        if kind == "text":
            content.append({"type": "text", "text": _string(part["text"], f"{pf}.text")})
        elif kind == "inlineData":
            content.append(_inline_part(part["inlineData"], f"{pf}.inlineData"))
        elif kind == "fileData":
            content.append(_file_part(part["fileData"], f"{pf}.fileData"))
        elif kind == "functionResponse":
            answers.append(_function_response(part["functionResponse"], pending, f"{pf}.functionResponse"))
        elif kind == "functionCall":
            raise GeminiRequestError("functionCall parts belong in a model turn.", pf)
    messages = answers
    if content:
        if len(content) == 1 and content[0]["type"] == "text":
            messages.append({"role": "user", "content": content[0]["text"]})
        else:
            messages.append({"role": "user", "content": content})
    return messages


def _function_response(value: Any, pending: list[_Call], field: str) -> dict[str, Any]:
    answer = _object(value, field)
    name = _string(answer.get("name"), f"{field}.name")
    response = answer.get("response")
    given = answer.get("id")
    match = None
    if given:
        given = _string(given, f"{field}.id")
        match = next((c for c in pending if not c.answered and c.id == given), None)
    if match is None:
        match = next((c for c in pending if not c.answered and c.name == name), None)
    if match is None:
        raise GeminiRequestError(
            f"functionResponse '{name}' answers no functionCall of the model turn just before it.", field
        )
    match.answered = True
    return {"role": "tool", "tool_call_id": match.id, "content": _json_text({} if response is None else response)}


def _system_message(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        return {"role": "system", "content": value} if value else None
    system = _object(value, "systemInstruction")
    texts = []
    for index, raw in enumerate(_list(system.get("parts") or [], "systemInstruction.parts")):
        pf = f"systemInstruction.parts[{index}]"
        part = _object(raw, pf)
        if _part_kind(part, pf) != "text":
            raise GeminiRequestError("systemInstruction takes text parts only.", pf)
        texts.append(_string(part["text"], f"{pf}.text"))
    return {"role": "system", "content": "\n".join(texts)} if texts else None


# ---- schemas -------------------------------------------------------------------------------

_SCHEMA_INTS = frozenset({"minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"})
_SCHEMA_KEPT = frozenset(
    {"format", "title", "description", "enum", "required", "pattern", "default", "minimum", "maximum"}
)
_MAX_SCHEMA_DEPTH = 64


def gemini_schema(value: Any, field: str, depth: int = 0) -> dict[str, Any]:
    """Gemini's OpenAPI-subset ``Schema`` as JSON Schema: lower-case types, ``nullable`` as a type
    list, ``propertyOrdering`` applied to ``properties``; ``example`` and unknown keys dropped."""
    if depth > _MAX_SCHEMA_DEPTH:
        raise GeminiRequestError("The schema is nested too deeply.", field)
    schema = _object(value, field)
    out: dict[str, Any] = {}
    nullable = False
    ordering: list[str] | None = None
    for raw_key, item in schema.items():
        key = _camel(raw_key)
        if item is None:
            continue
        if key == "type":
            if isinstance(item, list):
                out["type"] = [_string(t, f"{field}.type").lower() for t in item]
            else:
                kind = _string(item, f"{field}.type").lower()
                if kind != "type_unspecified":
                    out["type"] = kind
        elif key == "properties":
            props = _object(item, f"{field}.properties")
            out["properties"] = {
                name: gemini_schema(sub, f"{field}.properties.{name}", depth + 1) for name, sub in props.items()
            }
        elif key == "items":
            out["items"] = gemini_schema(item, f"{field}.items", depth + 1)
        elif key == "anyOf":
            out["anyOf"] = [
                gemini_schema(sub, f"{field}.anyOf[{i}]", depth + 1)
                for i, sub in enumerate(_list(item, f"{field}.anyOf"))
            ]
        elif key == "nullable":
            nullable = _boolean(item, f"{field}.nullable")
        elif key == "propertyOrdering":
            ordering = _strings(item, f"{field}.propertyOrdering")
        elif key in _SCHEMA_INTS:
            out[key] = _integer(item, f"{field}.{raw_key}")
        elif key == "format" and item == "enum":
            continue  # Gemini's marker for string enums; JSON Schema says it with "enum" alone
        elif key in _SCHEMA_KEPT:
            out[key] = item
    if ordering and "properties" in out:
        props = out["properties"]
        ordered = {name: props[name] for name in ordering if name in props}
        ordered.update((name, sub) for name, sub in props.items() if name not in ordered)
        out["properties"] = ordered
    if nullable:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        elif "anyOf" in out:
            out["anyOf"].append({"type": "null"})
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def _json_schema(value: Any, field: str) -> dict[str, Any] | bool:
    if isinstance(value, bool):
        return value
    return _object(value, field)


# ---- the request ---------------------------------------------------------------------------

_EFFORTS = frozenset({"minimal", "low", "medium", "high"})
_TOOL_CHOICE = {"AUTO": "auto", "VALIDATED": "auto", "ANY": "required", "NONE": "none"}


def load_object(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a GeminiRequestError saying why it is not one."""
    if not body or body.isspace():
        raise GeminiRequestError("The request body is empty; send a JSON object.")
    try:
        root = _decode(body)
    except msgspec.DecodeError as exc:
        raise GeminiRequestError(f"Invalid JSON payload received: {exc}.") from None
    except RecursionError:
        raise GeminiRequestError("Invalid JSON payload received: nested too deeply.") from None
    if not isinstance(root, dict):
        raise GeminiRequestError("Invalid JSON payload received: expected an object.")
    return root


def _messages(root: dict[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    system = root.get("systemInstruction")
    if system is not None:
        message = _system_message(system)
        if message is not None:
            messages.append(message)
    contents = root.get("contents")
    if contents is None or contents == []:
        raise GeminiRequestError("contents is not specified", "contents")
    pending: list[_Call] = []
    assistant: _Assistant | None = None
    for turn, raw in enumerate(_list(contents, "contents")):
        field = f"contents[{turn}]"
        content = _object(raw, field)
        role = content.get("role") or "user"
        parts = content.get("parts")
        if not parts:
            raise GeminiRequestError(f"{field}.parts must not be empty", f"{field}.parts")
        parts = _list(parts, f"{field}.parts")
        if role == "model":
            if assistant is None:
                assistant, pending = _Assistant(), []
            pending.extend(_model_turn(parts, turn, field, assistant))
        elif role in ("user", "function", "tool"):
            if assistant is not None:
                message = assistant.message()
                if message is not None:
                    messages.append(message)
                assistant = None
            messages.extend(_user_turn(parts, pending, field))
            pending = []
        else:
            raise GeminiRequestError(f"Please use a valid role: user, model (not {role!r}).", f"{field}.role")
    if assistant is not None:
        message = assistant.message()
        if message is not None:
            messages.append(message)
    return messages


def _tools(root: dict[str, Any], body: dict[str, Any]) -> None:
    raw_tools = root.get("tools")
    tools: list[dict[str, Any]] = []
    if raw_tools is not None:
        for ti, raw in enumerate(_list(raw_tools, "tools")):
            tf = f"tools[{ti}]"
            declarations = _norm(_object(raw, tf)).get("functionDeclarations")
            if declarations is None:
                continue  # googleSearch, codeExecution...: not forwarded
            for di, raw_decl in enumerate(_list(declarations, f"{tf}.functionDeclarations")):
                df = f"{tf}.functionDeclarations[{di}]"
                decl = _norm(_object(raw_decl, df))
                function: dict[str, Any] = {"name": _string(decl.get("name"), f"{df}.name")}
                description = decl.get("description")
                if description is not None:
                    function["description"] = _string(description, f"{df}.description")
                json_schema = decl.get("parametersJsonSchema")
                if json_schema is not None:
                    function["parameters"] = _json_schema(json_schema, f"{df}.parametersJsonSchema")
                elif decl.get("parameters") is not None:
                    function["parameters"] = gemini_schema(decl["parameters"], f"{df}.parameters")
                else:
                    function["parameters"] = {"type": "object", "properties": {}}
                tools.append({"type": "function", "function": function})
    config = root.get("toolConfig")
    calling = _norm(_object(config, "toolConfig")).get("functionCallingConfig") if config is not None else None
    if calling is not None:
        cf = "toolConfig.functionCallingConfig"
        calling = _norm(_object(calling, cf))
        mode = calling.get("mode")
        choice = _TOOL_CHOICE.get(_string(mode, f"{cf}.mode").upper()) if mode is not None else None
        allowed = calling.get("allowedFunctionNames")
        names = _strings(allowed, f"{cf}.allowedFunctionNames") if allowed is not None else []
        if choice == "required" and names:
            tools = [tool for tool in tools if tool["function"]["name"] in names]
            if len(names) == 1:
                choice = {"type": "function", "function": {"name": names[0]}}  # type: ignore[assignment]
        if choice is not None and tools:
            body["tool_choice"] = choice
    if tools:
        body["tools"] = tools


def _reasoning(config: Any, body: dict[str, Any]) -> bool:
    field = "generationConfig.thinkingConfig"
    thinking = _norm(_object(config, field))
    include = thinking.get("includeThoughts")
    include = _boolean(include, f"{field}.includeThoughts") if include is not None else False
    budget = thinking.get("thinkingBudget")
    level = thinking.get("thinkingLevel")
    if level is not None:
        level = _string(level, f"{field}.thinkingLevel").lower()
        if level == "thinking_level_unspecified":
            level = None
        elif level not in _EFFORTS:
            raise _type_error(f"{field}.thinkingLevel", "MINIMAL, LOW, MEDIUM or HIGH", level.upper())
    if budget is not None:
        if level is not None:
            raise GeminiRequestError("Set thinkingBudget or thinkingLevel, not both.", field)
        tokens = _integer(budget, f"{field}.thinkingBudget")
        if tokens < -1:
            raise _type_error(f"{field}.thinkingBudget", "-1, 0 or a positive integer", tokens)
        # OpenRouter: effort "none" turns reasoning off; "enabled" alone lets the model choose (Gemini's -1).
        body["reasoning"] = (
            {"effort": "none"} if tokens == 0 else {"enabled": True} if tokens < 0 else {"max_tokens": tokens}
        )
    elif level is not None:
        body["reasoning"] = {"effort": level}
    return include


def _response_format(config: dict[str, Any], body: dict[str, Any]) -> None:
    mime = config.get("responseMimeType")
    mime = _string(mime, "generationConfig.responseMimeType").strip().lower() if mime is not None else None
    json_schema = config.get("responseJsonSchema")
    if json_schema is None:
        json_schema = config.get("_responseJsonSchema")
    schema = config.get("responseSchema")
    if mime == "application/json":
        if json_schema is not None:
            resolved: Any = _json_schema(json_schema, "generationConfig.responseJsonSchema")
        elif schema is not None:
            resolved = gemini_schema(schema, "generationConfig.responseSchema")
        else:
            body["response_format"] = {"type": "json_object"}
            return
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "response", "schema": resolved}}
    elif (json_schema is not None or schema is not None) and mime != "text/x.enum":
        raise GeminiRequestError(
            "responseMimeType must be application/json when a response schema is set.",
            "generationConfig.responseMimeType",
        )


def _generation(root: dict[str, Any], body: dict[str, Any]) -> tuple[int | None, bool, int]:
    raw = root.get("generationConfig")
    if raw is None:
        return None, False, 1
    config = _norm(_object(raw, "generationConfig"))
    field = "generationConfig."
    for name, target in (
        ("temperature", "temperature"),
        ("topP", "top_p"),
        ("presencePenalty", "presence_penalty"),
        ("frequencyPenalty", "frequency_penalty"),
    ):
        value = config.get(name)
        if value is not None:
            body[target] = _number(value, field + name)
    top_k = config.get("topK")
    if top_k is not None:
        body["top_k"] = _integer(top_k, field + "topK")
    seed = config.get("seed")
    if seed is not None:
        body["seed"] = _integer(seed, field + "seed")
    max_tokens = config.get("maxOutputTokens")
    if max_tokens is not None:
        max_tokens = _integer(max_tokens, field + "maxOutputTokens")
        if max_tokens < 0:
            raise _type_error(field + "maxOutputTokens", "a positive integer", max_tokens)
        max_tokens = max_tokens or None
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
    stop = config.get("stopSequences")
    if stop is not None:
        stops = _strings(stop, field + "stopSequences")
        if stops:
            body["stop"] = stops
    count = config.get("candidateCount")
    candidates = 1
    if count is not None:
        candidates = _integer(count, field + "candidateCount") or 1
        if candidates < 1:
            raise _type_error(field + "candidateCount", "a positive integer", candidates)
        if candidates > 1:
            body["n"] = candidates
    logprobs = config.get("responseLogprobs")
    if logprobs is not None and _boolean(logprobs, field + "responseLogprobs"):
        body["logprobs"] = True
        top = config.get("logprobs")
        if top is not None:
            body["top_logprobs"] = _integer(top, field + "logprobs")
    modalities = config.get("responseModalities")
    if modalities is not None:
        names = [m.lower() for m in _strings(modalities, field + "responseModalities")]
        if names and names != ["text"]:
            body["modalities"] = names
    image = config.get("imageConfig")
    if image is not None:
        image = _object(image, field + "imageConfig")
        image_config = {_snake(_camel(k)): v for k, v in image.items() if v is not None}
        if image_config:
            body["image_config"] = image_config
    _response_format(config, body)
    thinking = config.get("thinkingConfig")
    include = _reasoning(thinking, body) if thinking is not None else False
    return max_tokens, include, candidates


def translate_request(model: str, body: bytes, *, stream: bool) -> UpstreamChat:
    """The OpenAI chat-completions request for a Gemini ``generateContent`` body.

    Raises GeminiRequestError (400 INVALID_ARGUMENT) for a body Gemini would refuse."""
    root = _norm(load_object(body))
    out: dict[str, Any] = {"model": model, "messages": _messages(root)}
    _tools(root, out)
    max_tokens, include_thoughts, candidates = _generation(root, out)
    if stream:
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return UpstreamChat(
        openai_body=_encode(out),
        max_tokens=max_tokens,
        include_thoughts=include_thoughts,
        candidate_count=candidates,
    )
