"""A real gateway in a subprocess (`sluice serve`), configured only through its environment and CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.integration.e2e import warm_cli

REPO_ROOT = warm_cli.REPO_ROOT
CLI_BATCH = "tests.integration.e2e.cli_batch"  # several commands in one process: cli_in_one_process

TEST_CONFIG = """
[plans.tiny]
description = "3 chat requests per minute per key"
limits = [{ name = "chat", endpoints = ["chat", "embeddings"], requests = 3, per = "1m", subject = "key" }]

[plans.paid]
description = "prepaid, upstream cost x 2"
prepaid = true
pricing = { mode = "per_token", multiplier = "2" }

[plans.flat]
description = "prepaid, one cent a request"
prepaid = true
pricing = { mode = "per_request", usd = "0.01" }

[plans.capped]
description = "a daily cap of ten micro-dollars"
spend_caps = [{ period = "day", usd = "0.00001" }]

[plans.careful]
description = "chat input is moderated first"
moderate_input = true

[policy]
block_clients = ["BlockedAgent"]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gateway:
    def __init__(self, upstream_url: str, *, extra_env: dict[str, str] | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sluice-e2e-"))
        config = self.dir / "sluice.toml"
        config.write_text(TEST_CONFIG)
        self.port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")},
            "SLUICE_DATA_DIR": str(self.dir / "data"),
            "SLUICE_UPSTREAM_URL": upstream_url,
            "SLUICE_UPSTREAM_API_KEY": "sk-upstream-test-key",
            # The fake answers /moderations too; a test that needs them apart points this elsewhere.
            "SLUICE_MODERATION_URL": upstream_url,
            "SLUICE_MODERATION_API_KEY": "sk-upstream-test-key",
            "SLUICE_CONFIG": str(config),
            "SLUICE_HOST": "127.0.0.1",
            "SLUICE_PORT": str(self.port),
            "SLUICE_KEY_CACHE_SECONDS": "0.2",
            "SLUICE_MAX_BODY_BYTES": str(256 * 1024),
            "SLUICE_UPSTREAM_TIMEOUT": "3",
            "SLUICE_LOG_LEVEL": "info",
            "SLUICE_ACCESS_LOG": "1",
            "NO_PROXY": "*",
            **(extra_env or {}),
        }
        self.log_path = self.dir / "gateway.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, prefix: str = "/proxy/v1") -> str:
        return self.root + prefix

    def cli(
        self, *args: str, check: bool = True, input: str | None = None, cold: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """`sluice ARGS` in this gateway's environment, `input` on its stdin: forked from the warm CLI
        server (as a fresh process would see and end it, seconds of imports sooner: see warm_cli), or with
        `cold=True` in a fresh interpreter, as an operator's shell starts it."""
        if cold:
            result = subprocess.run(  # noqa: S603
                warm_cli.command_line(args),
                cwd=REPO_ROOT,
                env=self.env,
                input=input,
                capture_output=True,
                text=True,
                timeout=60,
            )
        else:
            result = warm_cli.run(args, env=self.env, cwd=REPO_ROOT, input=input, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"sluice {' '.join(args)} failed: {result.stderr}")
        return result

    def cli_in_one_process(self, *commands: list[str], input: str | None = None) -> str:
        """Several `sluice` commands through the CLI's own `main`, in one process (forked warm, as `cli`
        is); their stdout, joined. Fails on the first command that does. `input`: their standard input,
        shared (e.g. the password `sluice accounts password` reads)."""
        result = warm_cli.run(
            [json.dumps(commands)], env=self.env, cwd=REPO_ROOT, input=input, timeout=60, module=CLI_BATCH
        )
        if result.returncode != 0:
            raise AssertionError(f"sluice {commands} failed: {result.stderr}")
        return result.stdout

    def new_key(self, plan: str | None = None, *, models: str | None = None) -> str:
        email = f"user{time.monotonic_ns()}@example.org"
        create = ["accounts", "create", email, *(["--plan", plan] if plan else [])]
        issue = ["keys", "create", email, "--name", "e2e", *(["--models", models] if models else [])]
        key = self.cli_in_one_process(create, issue).strip().splitlines()[-1]
        assert key.startswith("sk-sluice-"), key
        self.last_email = email
        return key

    def start(self) -> Gateway:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "interfaces.cli.main", "serve"],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited at start:\n{self.log()}")
            try:
                if httpx.get(self.root + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop(signal.SIGKILL)  # not left running (and holding its port) after a failed start
        raise TimeoutError(f"gateway did not start:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
