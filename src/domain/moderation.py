"""Moderation: what a classifier said of some input, and the refusal when a plan forbids flagged input."""

from collections.abc import Iterable
from dataclasses import dataclass

from domain.errors import InputFlagged


@dataclass(frozen=True, slots=True)
class ModerationVerdict:
    flagged: bool
    categories: tuple[str, ...] = ()  # the flagged categories (e.g. "violence"), in first-seen order


NOT_FLAGGED = ModerationVerdict(False)


def combine(verdicts: Iterable[ModerationVerdict]) -> ModerationVerdict:
    """One verdict for several inputs: flagged if any is, with every flagged category once."""
    flagged = False
    categories: dict[str, None] = {}
    for verdict in verdicts:
        flagged = flagged or verdict.flagged
        categories.update(dict.fromkeys(verdict.categories))
    return ModerationVerdict(flagged, tuple(categories))


def refuse_flagged(verdict: ModerationVerdict) -> None:
    """Raises InputFlagged for a flagged verdict; does nothing otherwise."""
    if verdict.flagged:
        raise InputFlagged(verdict.categories or ("unspecified",))
