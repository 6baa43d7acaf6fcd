"""The text of a chat request that moderation reads: what the caller wrote, not what a model did.

``chat_texts`` takes the string contents and text parts of the system, developer and user
messages, in order; assistant and tool turns are left out (they are a model's words or a tool's
output). Images and other non-text parts are not read. It fails closed: a message of any other role
(or none) counts as the caller's, and a part with a string ``text`` is read whatever its ``type``.
"""

import msgspec

from domain.errors import InvalidRequest

UNMODERATED_ROLES = frozenset({"assistant", "tool", "function"})


class _Part(msgspec.Struct):
    text: str | None = None


class _Message(msgspec.Struct):
    role: str | None = None
    content: str | list[_Part] | None = None


class _Chat(msgspec.Struct):
    messages: list[_Message] = []


_decode = msgspec.json.Decoder(_Chat).decode


def chat_texts(body: bytes) -> list[str]:
    """The non-empty texts to moderate, in message order.

    A body whose messages cannot be read this way (a part that is not an object, a text that is not
    a string) is an InvalidRequest naming ``messages``: what cannot be read cannot be let through.
    """
    try:
        chat = _decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(f"'messages' could not be read for moderation ({exc})", param="messages") from None
    except (msgspec.DecodeError, RecursionError):
        raise InvalidRequest("We could not parse the JSON body of your request.") from None
    texts: list[str] = []
    for message in chat.messages:
        if message.role in UNMODERATED_ROLES:
            continue
        content = message.content
        if isinstance(content, str):
            if content:
                texts.append(content)
        elif content is not None:
            texts.extend(part.text for part in content if part.text)
    return texts
