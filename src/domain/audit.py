"""The audit log: who changed what, when, from what to what, and why.

Every admin action (from the console or the CLI) that changes something writes one entry. An
action that changes nothing (banning a banned account, a credit grant repeated under its
idempotency key) writes none: the log says what happened, not what was attempted.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from domain.errors import InvalidRequest

# What before/after hold: small JSON-able values (a status, a plan, amounts in micro-dollars).
JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]

CLI_ACTOR = "cli"
MAX_REASON_CHARS = 500
MAX_PAGE = 200


class AuditAction(StrEnum):
    ACCOUNT_BAN = "account.ban"
    ACCOUNT_UNBAN = "account.unban"
    ACCOUNT_PLAN = "account.plan"
    ACCOUNT_LIMITS = "account.limits"
    ACCOUNT_SPEND_CAPS = "account.spend_caps"
    CREDITS_GRANT = "credits.grant"
    CREDITS_DEDUCT = "credits.deduct"
    KEY_REVOKE = "key.revoke"
    CODES_ISSUE = "codes.issue"
    CODE_REVOKE = "code.revoke"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: an admin account (its email, and its id), or the CLI (`cli` or `cli:<user>`)."""

    label: str
    account_id: str | None = None

    @staticmethod
    def cli(user: str | None = None) -> "Actor":
        user = (user or "").strip()
        return Actor(f"{CLI_ACTOR}:{user}" if user else CLI_ACTOR)

    @property
    def is_cli(self) -> bool:
        return self.account_id is None and (self.label == CLI_ACTOR or self.label.startswith(CLI_ACTOR + ":"))


def _frozen(value: Mapping[str, JsonValue]) -> Mapping[str, JsonValue]:
    return MappingProxyType(dict(value))


@dataclass(frozen=True, slots=True)
class AuditEntry:
    actor: Actor
    action: AuditAction
    target: str  # the id of what changed: an account id, a key id
    at: datetime
    before: Mapping[str, JsonValue] = field(default_factory=dict)
    after: Mapping[str, JsonValue] = field(default_factory=dict)
    reason: str = ""
    target_label: str = ""  # for people: the account's email, the key's name and prefix
    account_id: str | None = None  # the account the change concerns (a key's owner), for its page
    seq: int | None = None  # the log's order, given by the store when written

    def __post_init__(self) -> None:
        object.__setattr__(self, "before", _frozen(self.before))
        object.__setattr__(self, "after", _frozen(self.after))


def audit_entry(
    actor: Actor,
    action: AuditAction,
    target: str,
    at: datetime,
    *,
    before: Mapping[str, JsonValue],
    after: Mapping[str, JsonValue],
    reason: str = "",
    target_label: str = "",
    account_id: str | None = None,
) -> AuditEntry:
    """An entry with its reason checked (one line of at most 500 characters, trimmed)."""
    return AuditEntry(
        actor=actor,
        action=action,
        target=target,
        at=at,
        before=before,
        after=after,
        reason=clean_reason(reason),
        target_label=target_label,
        account_id=account_id,
    )


def clean_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if len(text) > MAX_REASON_CHARS:
        raise InvalidRequest(f"a reason is at most {MAX_REASON_CHARS} characters", param="reason")
    return text


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters of the log's reader; every one optional. Newest first, `limit` at a time.

    `actor` matches a label exactly, and `cli` also matches every `cli:<user>`; `target` matches
    the changed thing's id or the account it concerns; `before_seq` continues a page.
    """

    actor: str | None = None
    action: AuditAction | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    before_seq: int | None = None
    limit: int = 50

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise InvalidRequest("a page holds at least one entry", param="limit")

    def matches(self, entry: AuditEntry) -> bool:
        """The rule every store applies (the in-memory fake by this very method)."""
        if self.actor is not None and entry.actor.label != self.actor:
            if not (self.actor == CLI_ACTOR and entry.actor.label.startswith(CLI_ACTOR + ":")):
                return False
        if self.action is not None and entry.action is not self.action:
            return False
        if self.target is not None and self.target not in (entry.target, entry.account_id):
            return False
        if self.since is not None and entry.at < self.since:
            return False
        if self.until is not None and entry.at >= self.until:
            return False
        return self.before_seq is None or (entry.seq is not None and entry.seq < self.before_seq)


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: tuple[AuditEntry, ...]
    next_before: int | None  # pass as `before_seq` for the next (older) page; None: this is the last


def parse_action(text: str) -> AuditAction:
    try:
        return AuditAction(text.strip())
    except ValueError:
        known = ", ".join(a.value for a in AuditAction)
        raise InvalidRequest(f"no audit action {text!r}; known: {known}", param="action") from None
