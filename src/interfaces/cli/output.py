"""How results are printed: tab-separated rows with a header line, or JSON with `--json`."""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from domain.credits import usd_text
from domain.money import micros_to_usd


def money(micros: int, name: str) -> dict[str, Any]:
    """An amount in JSON: dollars for people, micro-dollars for exact arithmetic."""
    return {f"{name}_usd": micros_to_usd(micros), f"{name}_micros": micros}


def when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2))


def print_rows(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    print("\t".join(header))
    for row in rows:
        print("\t".join(str(cell) for cell in row))


__all__ = ["money", "print_json", "print_rows", "usd_text", "when"]
