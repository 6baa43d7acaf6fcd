"""Moderation: what a classifier said of some input, and the refusal when a plan forbids flagged input."""

from collections.abc import Iterable
from dataclasses import dataclass

from domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class ModerationVerdict:
    flagged: bool
    categories: tuple[str, ...] = ()  # the flagged categories (e.g. "violence"), in first-seen order


NOT_FLAGGED = ModerationVerdict(False)


class ContentFlagged(DomainError):
    """The input was flagged by moderation and the caller's plan does not let flagged input through."""

    code = "content_policy_violation"

    def __init__(self, message: str, categories: tuple[str, ...] = (), param: str | None = None) -> None:
        super().__init__(message)
        self.categories = categories
        self.param = param


def combine(verdicts: Iterable[ModerationVerdict]) -> ModerationVerdict:
    """One verdict for several inputs: flagged if any is, with every flagged category once."""
    flagged = False
    categories: dict[str, None] = {}
    for verdict in verdicts:
        flagged = flagged or verdict.flagged
        categories.update(dict.fromkeys(verdict.categories))
    return ModerationVerdict(flagged, tuple(categories))


def refuse_flagged(verdict: ModerationVerdict, param: str | None = "messages") -> None:
    """Raises ContentFlagged for a flagged verdict; does nothing otherwise."""
    if not verdict.flagged:
        return
    named = f" for {', '.join(verdict.categories)}" if verdict.categories else ""
    raise ContentFlagged(
        f"Your input was flagged by moderation{named}; this gateway does not forward flagged input.",
        verdict.categories,
        param,
    )
