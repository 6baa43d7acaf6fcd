"""The chart rendered by helm, as the manifests Kubernetes would get."""

import copy
import functools
import os
import subprocess
from typing import Any

import pytest
import yaml

from tests.integration.deploy.tools import CHART, REPO_ROOT, tool

VALUES_FILES = ("default-values.yaml", "production-values.yaml")
RELEASE, NAMESPACE = "sluice", "sluice"


def _template(values_file: str | None, sets: dict[str, str]) -> subprocess.CompletedProcess[str]:
    args = [tool("helm"), "template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    if values_file:
        args += ["-f", str(CHART / "ci" / values_file)]
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    env = {**os.environ, "HELM_CACHE_HOME": str(REPO_ROOT / ".cache" / "helm")}
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env=env, check=False)  # noqa: S603


def render(values_file: str | None = "default-values.yaml", **sets: str) -> list[dict[str, Any]]:
    """`sets` keys spell a value's dots as double underscores: secrets__redisUrl="" is --set secrets.redisUrl=."""
    return copy.deepcopy(_render(values_file, tuple(sorted(sets.items()))))


@functools.cache
def _render(values_file: str | None, sets: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    done = _template(values_file, {k.replace("__", "."): v for k, v in sets})
    if done.returncode != 0:
        pytest.fail(f"helm template failed:\n{done.stderr}", pytrace=False)
    # libyaml's loader: the dashboards' ConfigMap alone is 150 kB of YAML.
    return [doc for doc in yaml.load_all(done.stdout, Loader=yaml.CSafeLoader) if doc]


def refusal(values_file: str | None = "default-values.yaml", **sets: str) -> str:
    """helm's error for values the chart must refuse."""
    done = _template(values_file, {k.replace("__", "."): v for k, v in sets.items()})
    assert done.returncode != 0, f"rendered values it should refuse: {sets}"
    return done.stderr


def one(docs: list[dict[str, Any]], kind: str, hook: bool = False) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and ("helm.sh/hook" in d["metadata"].get("annotations", {})) == hook]
    assert len(found) == 1, f"{len(found)} {kind}s"
    return found[0]


def kinds(docs: list[dict[str, Any]]) -> list[str]:
    return sorted(d["kind"] for d in docs)


def container(docs: list[dict[str, Any]], kind: str = "Deployment") -> dict[str, Any]:
    return one(docs, kind, hook=kind == "Job")["spec"]["template"]["spec"]["containers"][0]


def env(container_spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container_spec["env"]}
