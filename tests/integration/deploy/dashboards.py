"""The dashboards in deploy/grafana/, read the way Grafana reads them."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.integration.deploy.tools import DEPLOY

NAMES = ("sluice-traffic", "sluice-latency", "sluice-tokens", "sluice-rate-limits", "sluice-ledger")
_GRAFANA_RANGES = re.compile(r"\$__(rate_interval|interval|range)\b")
_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")
GRAFANA_VARIABLES = {"__rate_interval", "__interval", "__range"}


def load() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted((DEPLOY / "grafana").glob("*.json"))}


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row's


def exprs(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) of every panel target and query variable."""
    for panel in panels(board):
        for target in panel.get("targets", []):
            yield f"{board['uid']} panel {panel['id']} {panel['title']!r} {target['refId']}", target["expr"]


def variables_used(expr: str) -> set[str]:
    return {a or b for a, b in _VARIABLE.findall(expr)}


def as_prometheus(expr: str) -> str:
    """Grafana's variables given values Prometheus accepts: ranges a duration, the rest match-all."""
    return _VARIABLE.sub(".*", _GRAFANA_RANGES.sub("5m", expr))


def label_values_query(query: str) -> tuple[str, str]:
    """label_values(SELECTOR, LABEL) -> (SELECTOR, LABEL)."""
    found = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", query)
    if not found:
        raise ValueError(f"not a label_values() query: {query!r}")
    return found.group(1), found.group(2)


def source(name: str) -> Path:
    return DEPLOY / "grafana" / f"{name}.json"
