"""Where the deploy tests find helm, kubectl and promtool.

SLUICE_TEST_HELM / SLUICE_TEST_KUBECTL / SLUICE_TEST_PROMTOOL name them (.ci/run sets all three);
else `.cache/tools/bin/`, where `bash deploy/ci/fetch-tools` (run by `make test`) puts them. A
missing tool fails the test that needs it and says how to get it: like a missing server, it is
never a silent skip.
"""

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
DEPLOY = REPO_ROOT / "deploy"
CHART = DEPLOY / "helm" / "sluice"
_CACHE = REPO_ROOT / ".cache" / "tools" / "bin"


def tool(name: str) -> str:
    variable = f"SLUICE_TEST_{name.upper()}"
    path = Path(os.environ.get(variable) or _CACHE / name)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"{name} not found at {path}: run `bash deploy/ci/fetch-tools` or set {variable}", pytrace=False)
    return str(path)


def run(name: str, *args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The tool's answer; a non-zero exit fails the test with what the tool said."""
    done = subprocess.run(  # noqa: S603 (our own tools, our own arguments)
        [tool(name), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd or REPO_ROOT,
        env={**os.environ, "HELM_CACHE_HOME": str(REPO_ROOT / ".cache" / "helm")},
    )
    if done.returncode != 0:
        pytest.fail(f"{name} {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}", pytrace=False)
    return done
