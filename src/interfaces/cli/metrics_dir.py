"""Metrics across worker processes: a directory where each process writes its values, and the
metrics port's server reading them all.

prometheus_client picks its storage when it is first imported, from ``PROMETHEUS_MULTIPROC_DIR``:
so the directory is made (or emptied: the files of a previous run would be counted again) and
named in the environment before anything imports it, and the workers inherit it.
"""

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from interfaces.settings import Settings

_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def wanted(settings: Settings) -> bool:
    return settings.workers > 1 or settings.metrics_port is not None


@contextlib.contextmanager
def shared_metrics(settings: Settings) -> Iterator[None]:
    """While serving: the directory (the operator's, emptied, or one of ours, removed after), and
    with ``SLUICE_METRICS_PORT`` the page on its own port, served from this supervising process."""
    if not wanted(settings):
        yield
        return
    given = os.environ.get(_VARIABLE)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    else:
        path = Path(tempfile.mkdtemp(prefix="sluice-metrics-"))
        os.environ[_VARIABLE] = str(path)
    if "prometheus_client" in sys.modules:  # imported already: let the metrics made from now on use the files
        from prometheus_client import values

        values.ValueClass = values.get_value_class()
    try:
        if settings.metrics_port is not None:
            _serve_page(settings.host, settings.metrics_port)
        yield
    finally:
        if not given:
            shutil.rmtree(path, ignore_errors=True)


def _serve_page(host: str, port: int) -> None:
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # reads every process's files at each scrape
    start_http_server(port, addr=host, registry=registry)  # a daemon thread, ending with the process
