"""Enough of PromQL to say what an expression reads: its series selectors (name and matchers), the
labels it groups or matches on, and the functions it calls. The syntax itself is promtool's to
judge (the tests hand it every expression); this is for checking names against the contract.
"""

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
    | (?P<range>\[[^\]]*\])
    | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)
    | (?P<id>[a-zA-Z_][a-zA-Z0-9_:]*)
    | (?P<op>=~|!~|!=|==|>=|<=|[{}(),=<>+\-*/^%])
    )""",
    re.VERBOSE,
)
_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_WORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
FUNCTIONS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group",
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "deriv", "exp",
    "floor", "histogram_quantile", "idelta", "increase", "irate", "label_replace", "ln", "log2", "log10",
    "max_over_time", "min_over_time", "avg_over_time", "sum_over_time", "count_over_time", "last_over_time",
    "predict_linear", "rate", "delta", "resets", "round", "scalar", "sort", "sort_desc", "sqrt", "time",
    "timestamp", "vector",
}  # fmt: skip


@dataclass
class Selector:
    metric: str
    matchers: list[tuple[str, str, str]] = field(default_factory=list)  # (label, operator, value)


@dataclass
class Reads:
    selectors: list[Selector] = field(default_factory=list)
    grouping: set[str] = field(default_factory=set)  # labels in by/without/on/ignoring/group_*
    functions: set[str] = field(default_factory=set)


def tokens(expr: str) -> list[tuple[str, str]]:
    out, at = [], 0
    while at < len(expr):
        if expr[at:].strip() == "":
            break
        found = _TOKEN.match(expr, at)
        if not found or found.end() == at:
            raise ValueError(f"cannot read {expr[at : at + 30]!r} in {expr!r}")
        kind = found.lastgroup
        assert kind is not None
        out.append((kind, found.group(kind)))
        at = found.end()
    return out


def reads(expr: str) -> Reads:
    found = Reads()
    toks = tokens(expr)
    i = 0

    def at(j: int) -> str:
        return toks[j][1] if j < len(toks) else ""

    while i < len(toks):
        kind, text = toks[i]
        if kind == "id" and text in _GROUPING and at(i + 1) == "(":
            i += 2
            while at(i) != ")":
                if toks[i][0] == "id":
                    found.grouping.add(toks[i][1])
                elif at(i) != ",":
                    raise ValueError(f"{text} (...) holds {at(i)!r} in {expr!r}")
                i += 1
        elif kind == "id" and text in _GROUPING:
            pass  # group_left without labels
        elif kind == "id" and (at(i + 1) == "(" or at(i + 1) in {"by", "without"}):
            found.functions.add(text)  # a function, or an aggregation with its grouping first
        elif kind == "id" and text.lower() in _WORDS:
            pass
        elif kind == "id" or text == "{":
            selector = Selector(text if kind == "id" else "")
            if kind == "id":
                i += 1
            if at(i) == "{":
                i += 1
                while at(i) != "}":
                    label, op, value = toks[i][1], at(i + 1), at(i + 2)
                    if toks[i][0] != "id" or op not in {"=", "!=", "=~", "!~"} or value[:1] not in {'"', "'"}:
                        raise ValueError(f"bad matcher near {label!r} in {expr!r}")
                    selector.matchers.append((label, op, value[1:-1]))
                    i += 3
                    if at(i) == ",":
                        i += 1
            else:
                i -= 1
            found.selectors.append(selector)
        i += 1
    return found


_SIMPLE_ALTERNATION = re.compile(r"^[A-Za-z0-9_.+]+(\|[A-Za-z0-9_.+]+)*$")


def contract_problems(expr: str) -> list[str]:
    """What in `expr` the metrics contract does not have: a metric, a label of it, a bounded label's value."""
    from tests.integration.deploy.metrics_contract import LABEL_VALUES, TARGET_LABELS, series_labels

    known = series_labels()
    found = reads(expr)
    problems = [f"unknown function {f}" for f in sorted(found.functions - FUNCTIONS)]
    labels_in_expr: set[str] = set(TARGET_LABELS)
    for selector in found.selectors:
        if selector.metric not in known:
            problems.append(f"{selector.metric or '{...}'} is not in the metrics contract")
            continue
        allowed = set(known[selector.metric]) | set(TARGET_LABELS)
        labels_in_expr |= allowed
        for label, op, value in selector.matchers:
            if label not in allowed:
                problems.append(f"{selector.metric} has no label {label}")
            elif label in LABEL_VALUES and not value.startswith("$"):
                values = value.split("|") if op in {"=~", "!~"} and _SIMPLE_ALTERNATION.match(value) else [value]
                if op in {"=~", "!~"} and not _SIMPLE_ALTERNATION.match(value):
                    continue  # a real regular expression: not checked value by value
                problems += [f"{label}={v!r} is never exported" for v in values if v not in LABEL_VALUES[label]]
    problems += [f"groups or matches on {label}, which no metric here has" for label in found.grouping - labels_in_expr]
    return problems
