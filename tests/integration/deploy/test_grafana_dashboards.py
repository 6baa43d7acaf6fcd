"""The five Grafana dashboards: written by deploy/grafana/build_dashboards.py (and its copies in the
chart current), importable (the model Grafana's import reads: uid, no id, a Prometheus data-source
variable, panels on the 24-column grid without overlap), and reading only the metrics contract."""

import subprocess
import sys
from itertools import combinations

import pytest
import yaml

from tests.integration.deploy import dashboards
from tests.integration.deploy.metrics_contract import COUNTERS, GAUGES, HISTOGRAMS, series_labels
from tests.integration.deploy.promql import contract_problems, reads
from tests.integration.deploy.tools import DEPLOY, REPO_ROOT, run

BOARDS = dashboards.load()
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
PANEL_TYPES = {"row", "stat", "timeseries", "heatmap", "table"}


def test_the_script_wrote_every_dashboard_and_the_charts_copies() -> None:
    done = subprocess.run(  # noqa: S603 (this interpreter, our script)
        [sys.executable, str(DEPLOY / "grafana" / "build_dashboards.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_five_dashboards_with_distinct_uids_and_titles() -> None:
    assert sorted(BOARDS) == sorted(dashboards.NAMES)
    uids = [b["uid"] for b in BOARDS.values()]
    titles = [b["title"] for b in BOARDS.values()]
    assert len(set(uids)) == len(uids) and len(set(titles)) == len(titles)
    for name, board in BOARDS.items():
        assert board["uid"] == name and len(board["uid"]) <= 40


@pytest.mark.parametrize("name", dashboards.NAMES)
def test_dashboard_imports_cleanly(name: str) -> None:
    board = BOARDS[name]
    # An id would clash with whatever dashboard has it in the Grafana it is imported into.
    assert board["id"] is None
    assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 36
    assert "sluice" in board["tags"] and board["title"].startswith("Sluice / ")
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    for var in variables.values():
        if var["type"] == "query":
            assert var["datasource"] == DATASOURCE
    ids = [p["id"] for p in dashboards.panels(board)]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) and i > 0 for i in ids)
    for panel in dashboards.panels(board):
        assert panel["type"] in PANEL_TYPES, panel["title"]
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and 1 <= grid["w"] and grid["x"] + grid["w"] <= 24 and grid["h"] >= 1 and grid["y"] >= 0
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel["description"], panel
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE and target["expr"].strip()
    boxes = [p["gridPos"] for p in dashboards.panels(board)]
    for a, b in combinations(boxes, 2):
        apart = a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
        apart = apart or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]
        assert apart, f"panels overlap: {a} {b}"


@pytest.mark.parametrize("name", dashboards.NAMES)
def test_dashboard_queries_read_only_the_metrics_contract(name: str) -> None:
    board = BOARDS[name]
    defined = {v["name"] for v in board["templating"]["list"]} | dashboards.GRAFANA_VARIABLES
    problems = []
    for where, expr in dashboards.exprs(board):
        problems += [f"{where}: {p}" for p in contract_problems(expr)]
        problems += [f"{where}: ${v} is not a variable" for v in dashboards.variables_used(expr) - defined]
    for var in board["templating"]["list"]:
        if var["type"] == "query":
            selector, label = dashboards.label_values_query(var["query"])
            problems += [f"variable {var['name']}: {p}" for p in contract_problems(selector)]
            metric = reads(selector).selectors[0].metric
            assert label in {"job", "namespace", "instance"} or label in series_labels()[metric]
    assert not problems, "\n".join(problems)


def test_every_exported_metric_is_on_a_dashboard() -> None:
    read = {s.metric for board in BOARDS.values() for _, e in dashboards.exprs(board) for s in reads(e).selectors}
    shown = {m.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum") for m in read}
    missing = sorted({*COUNTERS, *GAUGES, *HISTOGRAMS} - shown)
    assert not missing, f"exported but on no dashboard: {missing}"


def test_every_dashboard_query_parses_as_promql(tmp_path) -> None:
    """promtool parses each one, as a recording rule, with Grafana's variables given values."""
    rules = [
        {"record": f"dashboard:query_{i}", "expr": dashboards.as_prometheus(expr)}
        for i, (_, expr) in enumerate(e for board in BOARDS.values() for e in dashboards.exprs(board))
    ]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    done = run("promtool", "check", "rules", str(path))
    assert f"SUCCESS: {len(rules)} rules found" in done.stdout
