"""Which clients an operator turns away: the proxy spec's "no coding agents", made configurable.

Each entry of `blocked` (e.g. "Cursor", "Cline", "claude-cli") is matched case-insensitively as a
substring of the headers a client names itself in: `User-Agent`, `Referer`, OpenRouter's
`HTTP-Referer` and `X-Title`. An empty policy blocks nothing and costs nothing.

A header is the client's word about itself, so this keeps honest tools out and tells their users
why; it is no defence against a client that lies.
"""

from dataclasses import dataclass, field

from domain.errors import InvalidRequest

# The request headers a client identifies itself in, lower-case; the caller passes their values.
IDENTIFYING_HEADERS = ("user-agent", "referer", "http-referer", "x-title")


@dataclass(frozen=True, slots=True)
class ClientPolicy:
    blocked: tuple[str, ...] = ()
    # (lower-cased entry, entry as configured), computed once, in the configured order.
    _needles: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        needles: dict[str, str] = {}
        for entry in self.blocked:
            cleaned = entry.strip()
            if not cleaned or not cleaned.isprintable():
                raise InvalidRequest(
                    f"a blocked client entry must be printable text, not {entry!r} (an empty one matches everything)"
                )
            needles.setdefault(cleaned.lower(), cleaned)
        object.__setattr__(self, "_needles", tuple(needles.items()))

    @property
    def enabled(self) -> bool:
        return bool(self._needles)

    def match(self, *header_values: str | None) -> str | None:
        """The first entry (in the configured order) any of the header values contains; None if none."""
        needles = self._needles
        if not needles:
            return None
        # One lower-casing of everything, joined by a character no header value can hold.
        text = "\n".join([value for value in header_values if value]).lower()
        if not text:
            return None
        for needle, entry in needles:
            if needle in text:
                return entry
        return None
