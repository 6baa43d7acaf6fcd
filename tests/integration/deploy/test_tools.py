"""The deploy tests' tools are the versions deploy/ci/fetch-tools pins (what the other tests were written against)."""

from tests.integration.deploy.tools import run


def test_helm_is_v3() -> None:
    assert run("helm", "version", "--short").stdout.startswith("v3.")


def test_kubectl_runs_offline() -> None:
    assert "Client Version: v1." in run("kubectl", "version", "--client").stdout


def test_promtool_runs() -> None:
    done = run("promtool", "--version")
    assert "promtool, version 2." in done.stdout + done.stderr
