"""The gateway spec's checks of a chat completion's sampling fields, before anything is spent on it.

| field | accepted |
|---|---|
| `temperature` | a number from 0 to 2 |
| `top_p` | a number from 0 to 1 |
| `stop` | a string, or an array of at most 4 strings |
| `n` | an integer from 1 to 128 (OpenAI's bound) |
| `max_tokens`, `max_completion_tokens` | an integer from 1 to 2**31 - 1 (the bound `wire` keeps) |

`null` means the field is absent, as in OpenAI's API; integers are JSON integers (`512`, not
`512.0`, which OpenAI refuses too). Only the fields present are decoded, each on its own, from the
`dict[str, msgspec.Raw]` that `wire.read_fields` made of the body; a request that sets none of
them costs one set operation.
"""

from typing import TypeGuard

import msgspec

from domain.errors import InvalidRequest

# Token counts reach the credit reservation (and int64 columns): a bound keeps them meaningful.
MAX_TOKENS_LIMIT = 2**31 - 1

MAX_STOP_SEQUENCES = 4
MAX_CHOICES = 128

_number = msgspec.json.Decoder(float)
_integer = msgspec.json.Decoder(int)
_string = msgspec.json.Decoder(str)
_array = msgspec.json.Decoder(list[msgspec.Raw])
_SHOWN = 40  # characters of the offending value quoted back
_FIELDS = frozenset({"temperature", "top_p", "stop", "n", "max_tokens", "max_completion_tokens"})


def _present(raw: msgspec.Raw | None) -> TypeGuard[msgspec.Raw]:
    return raw is not None and not (len(raw) == 4 and bytes(raw) == b"null")


def _shown(raw: msgspec.Raw) -> str:
    text = bytes(raw).decode(errors="replace")
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _refuse(name: str, what: str, raw: msgspec.Raw) -> InvalidRequest:
    return InvalidRequest(f"'{name}' must be {what}, got {_shown(raw)}", param=name)


def _check_number(name: str, raw: msgspec.Raw, low: float, high: float) -> None:
    try:
        value = _number.decode(raw)  # ints are numbers too; booleans and strings are not
    except msgspec.DecodeError:
        value = None
    if value is None or not low <= value <= high:
        raise _refuse(name, f"a number from {low:g} to {high:g}", raw)


def _check_integer(name: str, raw: msgspec.Raw, low: int, high: int) -> None:
    try:
        value = _integer.decode(raw)
    except msgspec.DecodeError:
        value = None
    if value is None or not low <= value <= high:
        raise _refuse(name, f"an integer from {low} to {high}", raw)


def _check_stop(raw: msgspec.Raw) -> None:
    what = f"a string or an array of at most {MAX_STOP_SEQUENCES} strings"
    first = bytes(raw)[:1]
    try:
        if first == b'"':
            _string.decode(raw)
            return
        if first != b"[":
            raise _refuse("stop", what, raw)
        items = _array.decode(raw)
        if len(items) > MAX_STOP_SEQUENCES:
            raise _refuse("stop", what, raw)
        for item in items:
            _string.decode(item)
    except msgspec.DecodeError:
        raise _refuse("stop", what, raw) from None


def validate_chat_fields(fields: dict[str, msgspec.Raw]) -> None:
    """Raises InvalidRequest (param: the field) for the first field out of the spec's bounds."""
    if _FIELDS.isdisjoint(fields):
        return  # one C-level pass: most requests set none of them
    get = fields.get
    if _present(raw := get("temperature")):
        _check_number("temperature", raw, 0, 2)
    if _present(raw := get("top_p")):
        _check_number("top_p", raw, 0, 1)
    if _present(raw := get("stop")):
        _check_stop(raw)
    if _present(raw := get("n")):
        _check_integer("n", raw, 1, MAX_CHOICES)
    if _present(raw := get("max_tokens")):
        _check_integer("max_tokens", raw, 1, MAX_TOKENS_LIMIT)
    if _present(raw := get("max_completion_tokens")):
        _check_integer("max_completion_tokens", raw, 1, MAX_TOKENS_LIMIT)
