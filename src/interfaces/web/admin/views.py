"""How the console shows what the use cases return: money, times, limits and audit entries as text."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar.response import Template

from domain.audit import Actor, AuditEntry, JsonValue
from domain.credits import usd_text
from domain.plans import RatePolicy, interval_label
from interfaces.web.templating import page
from interfaces.web.viewer import Viewer


def admin_page(template: str, viewer: Viewer, section: str, *, status_code: int = 200, **context: Any) -> Template:
    """A console page: the layout's context, and what every admin template formats with."""
    return page(
        f"admin/{template}", viewer, status_code=status_code, section=section, usd=usd_text, when=when, **context
    )


def actor_of(viewer: Viewer) -> Actor:
    return Actor(viewer.account.email, viewer.account.id)


def when(moment: datetime | None, never: str = "-") -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else never


def limit_text(policy: RatePolicy) -> str:
    return f"{policy.limit} per {policy.interval_label()} per {policy.subject}"


def _limits(value: list[JsonValue]) -> str:
    parts = []
    for item in value:
        if isinstance(item, dict):
            window = item.get("window_seconds")
            per = interval_label(float(window)) if isinstance(window, int | float) else "?"
            parts.append(f"{item.get('name')}={item.get('requests')}/{per} per {item.get('subject')}")
    return ", ".join(parts) or "the plan's"


_PERIODS = ("day", "week", "month")  # the keys of a spend-caps snapshot, each in micro-dollars


def _value(name: str, value: JsonValue) -> str:
    if value is None:
        return "no cap" if name in _PERIODS else "-"
    if (name.endswith("_micros") or name in _PERIODS) and isinstance(value, int) and not isinstance(value, bool):
        return usd_text(value)
    if name == "rate_limits" and isinstance(value, list):
        return _limits(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _shown(name: str, mapping: Mapping[str, JsonValue], absent: str) -> str:
    return _value(name, mapping[name]) if name in mapping else absent


def _label(name: str) -> str:
    return name.removesuffix("_micros").replace("_", " ")


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: str
    after: str


def changes(entry: AuditEntry) -> list[Change]:
    """Field by field; a mapping (spend caps by period, absent meaning the plan's) one line per key."""
    found: list[Change] = []
    for name in dict.fromkeys([*entry.before, *entry.after]):
        before, after = entry.before.get(name), entry.after.get(name)
        if isinstance(before, dict) or isinstance(after, dict):
            old = before if isinstance(before, dict) else {}
            new = after if isinstance(after, dict) else {}
            for key in dict.fromkeys([*old, *new]):
                found.append(Change(f"{_label(name)} ({key})", _shown(key, old, "plan's"), _shown(key, new, "plan's")))
            continue
        found.append(Change(_label(name), _shown(name, entry.before, ""), _shown(name, entry.after, "")))
    return found
