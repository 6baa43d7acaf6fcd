"""The alert rules in deploy/prometheus/: valid and unit-tested by promtool, reading only the
metrics contract, each alert with a test that makes it fire and a paragraph in docs/deploy.md."""

import re

import yaml

from tests.integration.deploy.promql import contract_problems
from tests.integration.deploy.tools import DEPLOY, REPO_ROOT, run

RULES_FILE = DEPLOY / "prometheus" / "sluice-rules.yaml"
TESTS_FILE = DEPLOY / "prometheus" / "sluice-rules.test.yaml"
RULES = [rule for group in yaml.safe_load(RULES_FILE.read_text())["groups"] for rule in group["rules"]]
ALERTS = {rule["alert"]: rule for rule in RULES if "alert" in rule}

# What the issue asks the rules to watch, by the alert that does.
WANTED = {
    "error ratio": "SluiceHigh5xxRatio",
    "p99 overhead": "SluiceOverheadP99High",
    "upstream down": "SluiceUpstreamDown",
    "flush lag": "SluiceUsageFlushLagging",
    "leases held too long": "SluiceCreditLeaseHeldTooLong",
    "readiness": "SluiceNotReady",
    "backend errors": "SluiceBackendErrors",
}


def test_promtool_checks_the_rules() -> None:
    done = run("promtool", "check", "rules", str(RULES_FILE))
    assert f"SUCCESS: {len(RULES)} rules found" in done.stdout


def test_promtool_unit_tests_pass() -> None:
    done = run("promtool", "test", "rules", str(TESTS_FILE), cwd=TESTS_FILE.parent)
    assert "SUCCESS" in done.stdout


def test_the_alerts_the_issue_asks_for_exist() -> None:
    assert {name: name in ALERTS for name in WANTED.values()} == dict.fromkeys(WANTED.values(), True)


def test_rules_read_only_the_metrics_contract() -> None:
    problems = [f"{name}: {p}" for name, rule in ALERTS.items() for p in contract_problems(rule["expr"])]
    assert not problems, "\n".join(problems)


def test_every_alert_has_a_severity_a_summary_and_a_description() -> None:
    for name, rule in ALERTS.items():
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
        assert re.fullmatch(r"\d+m", rule["for"]), name  # no alert on a single evaluation's blip


def test_every_alert_has_a_unit_test_that_makes_it_fire() -> None:
    cases = yaml.safe_load(TESTS_FILE.read_text())["tests"]
    fired = {t["alertname"] for case in cases for t in case["alert_rule_test"] if t["exp_alerts"]}
    assert sorted(set(ALERTS) - fired) == []


def test_docs_say_what_every_alert_means() -> None:
    text = (REPO_ROOT / "docs" / "deploy.md").read_text()
    assert [name for name in ALERTS if f"`{name}`" not in text] == []
