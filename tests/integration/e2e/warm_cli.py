"""`sluice` commands for the tests, started warm: a fork server imports the CLI (and every admin command's
module) once, then forks a child per command.

A fresh interpreter spends seconds importing the app on this machine, and the end-to-end tests run hundreds
of commands. The child forked for a command is made to look like `python -m interfaces.cli.main ARGS`
started fresh: its stdin, stdout and stderr are the caller's pipes (passed over the socket, nothing else
open), its environment, cwd, argv and signal handlers are a new process's, the module runs as `__main__`,
and its exit status (a signal's included) is read by the server's waitpid, not reported by the child.

What a fork cannot give a fresh process's look is refused rather than faked: a command whose environment
differs from the server's in a variable read while the interpreter starts or the app is imported
(PYTHON*, the locale, PROMETHEUS_MULTIPROC_DIR) runs in a fresh interpreter. Children share the server's
hash seed (`random` is reseeded at fork by Python itself).

The server is one per test process, started on first use, and ends when that process does (its stdin
is a pipe from it: end of file there is the signal).
"""

from __future__ import annotations

import atexit
import io
import json
import locale
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

MODULE = "interfaces.cli.main"
REPO_ROOT = Path(__file__).resolve().parents[3]
_IMPORT_TIME = ("PYTHON", "LC_", "LANG", "PROMETHEUS_MULTIPROC_DIR")
_HEADER = struct.Struct("!I")


def command_line(args: Sequence[str], module: str = MODULE) -> list[str]:
    return [sys.executable, "-m", module, *args]


def run(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: str | Path = REPO_ROOT,
    input: str | None = None,
    timeout: float | None = 60,
    module: str = MODULE,
) -> subprocess.CompletedProcess[str]:
    """`python -m MODULE ARGS` as `subprocess.run(..., capture_output=True, text=True)` gives it. MODULE is
    the CLI's unless a test of this file names its own (imported in the child, not beforehand)."""
    env = dict(env)
    server = _server()
    if server.starts_differently(env):
        return subprocess.run(  # noqa: S603
            command_line(args, module), cwd=cwd, env=env, input=input, capture_output=True, text=True, timeout=timeout
        )
    return server.run(list(args), env=env, cwd=str(cwd), input=input, timeout=timeout, module=module)


# --- the client (in the test process) ---------------------------------------------------------------------


class _Server:
    def __init__(self) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
        self.dir = Path(tempfile.mkdtemp(prefix="sluice-warm-cli-"))
        self.socket_path = self.dir / "cli.sock"
        self.log_path = self.dir / "server.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", __spec__.name, str(self.socket_path)],
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 120
        while not self.socket_path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"the warm CLI server did not start:\n{self.log_path.read_text(errors='replace')}")
            time.sleep(0.05)

    def starts_differently(self, env: Mapping[str, str]) -> bool:
        names = {k for k in (*env, *self.env) if k.startswith(_IMPORT_TIME)}
        return any(env.get(k) != self.env.get(k) for k in names)

    def run(
        self,
        args: list[str],
        *,
        env: dict[str, str],
        cwd: str,
        input: str | None,
        timeout: float | None,
        module: str,
    ) -> subprocess.CompletedProcess[str]:
        command = command_line(args, module)
        encoding = locale.getencoding()
        # No input: the child's stdin is ours, as subprocess.run leaves it; else a pipe we write it to.
        stdin_r, stdin_w = (_our_stdin(), None) if input is None else os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            try:
                conn.connect(str(self.socket_path))
                request = json.dumps({"module": module, "args": args, "env": env, "cwd": cwd}).encode()
                socket.send_fds(conn, [_HEADER.pack(len(request))], [stdin_r, stdout_w, stderr_w])
                conn.sendall(request)
                replies = conn.makefile("rb")
                started = replies.readline()
                if not started:
                    raise RuntimeError(
                        f"the warm CLI server refused {command}:\n{self.log_path.read_text(errors='replace')}"
                    )
            except BaseException:
                for fd in (stdin_w, stdout_r, stderr_r):
                    if fd is not None:
                        os.close(fd)
                raise
            finally:
                for fd in (stdin_r, stdout_w, stderr_w):
                    os.close(fd)  # the child's now: its ends close when it ends, and we read to end of file
            pid = json.loads(started)["pid"]
            data = b"" if input is None else input.encode(encoding)
            out, err, timed_out = _communicate(pid, data, stdin_w, stdout_r, stderr_r, timeout)
            status = json.loads(replies.readline())["status"]
        stdout, stderr = _text(out, encoding), _text(err, encoding)
        if timed_out:
            raise subprocess.TimeoutExpired(command, timeout or 0, stdout, stderr)
        return subprocess.CompletedProcess(command, os.waitstatus_to_exitcode(status), stdout, stderr)

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # the server's signal to end
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


_lock = threading.Lock()
_started: list[_Server] = []


def _server() -> _Server:
    with _lock:
        if not _started or _started[0].process.poll() is not None:
            _started[:] = [_Server()]
            atexit.register(_started[0].close)
        return _started[0]


def _our_stdin() -> int:
    try:
        return os.dup(0)
    except OSError:  # none at all: the child reads end of file
        return os.open(os.devnull, os.O_RDONLY)


def _communicate(
    pid: int, data: bytes, stdin_w: int | None, stdout_r: int, stderr_r: int, timeout: float | None
) -> tuple[bytes, bytes, bool]:
    """What `Popen.communicate` does with the three pipes; on a timeout the child is killed, as `run` does."""
    deadline = None if timeout is None else time.monotonic() + timeout
    chunks: dict[int, list[bytes]] = {stdout_r: [], stderr_r: []}
    timed_out = False
    written = 0
    with selectors.DefaultSelector() as selector:
        for fd in (stdout_r, stderr_r):
            selector.register(fd, selectors.EVENT_READ)
        if stdin_w is not None:
            if data:
                os.set_blocking(stdin_w, False)
                selector.register(stdin_w, selectors.EVENT_WRITE)
            else:
                os.close(stdin_w)
        while selector.get_map():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                os.kill(pid, signal.SIGKILL)
                timed_out, deadline = True, None
                continue
            for key, _ in selector.select(left):
                if key.fd == stdin_w:
                    try:
                        written += os.write(stdin_w, data[written : written + 65536])
                    except BrokenPipeError:  # it stopped reading: as communicate, not an error
                        written = len(data)
                    if written >= len(data):
                        selector.unregister(stdin_w)
                        os.close(stdin_w)
                    continue
                chunk = os.read(key.fd, 65536)
                if chunk:
                    chunks[key.fd].append(chunk)
                else:
                    selector.unregister(key.fd)
                    os.close(key.fd)
    return b"".join(chunks[stdout_r]), b"".join(chunks[stderr_r]), timed_out


def _text(data: bytes, encoding: str) -> str:
    """As `subprocess.run(text=True)` decodes: the locale's encoding, universal newlines."""
    return data.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")


# --- the server (its own process) -------------------------------------------------------------------------


def serve(socket_path: str) -> None:
    import importlib

    importlib.import_module(MODULE)
    from interfaces.cli.admin_commands import COMMANDS

    for target in COMMANDS.values():
        importlib.import_module(target.partition(":")[0])
    # Whatever imports installed, a fresh process has too; ours come after.
    fresh_handlers = {s: signal.getsignal(s) for s in signal.valid_signals() if signal.getsignal(s) is not None}
    # PYTHONUNBUFFERED (the same here as in a fresh process, or that one runs fresh) shows in our own stdout.
    buffered = not isinstance(sys.stdout.buffer, io.FileIO)
    streams = {fd: (s.encoding, s.errors, buffered) for fd, s in enumerate((sys.stdin, sys.stdout, sys.stderr))}
    assert threading.active_count() == 1, "a thread at fork would be lost in the child: import nothing that starts one"

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    staging = socket_path + ".new"
    listener.bind(staging)
    listener.listen(64)
    os.rename(staging, socket_path)  # clients wait for this name: it exists only once we listen
    waiting: dict[int, tuple[int, socket.socket]] = {}  # pidfd: (pid, connection)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "parent")
    while True:
        for key, _ in selector.select():
            if key.data == "parent":
                if not os.read(key.fd, 4096):
                    return
            elif key.data == "accept":
                conn, _ = listener.accept()
                try:
                    pid = _start(conn, fresh_handlers, streams)
                except (OSError, ValueError) as exc:  # a client that went away or sent half a request
                    print(f"warm CLI: request refused: {exc!r}", file=sys.stderr, flush=True)
                    conn.close()
                    continue
                pidfd = os.pidfd_open(pid)
                waiting[pidfd] = (pid, conn)
                selector.register(pidfd, selectors.EVENT_READ, "child")
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            else:
                pid, conn = waiting.pop(key.fd)
                selector.unregister(key.fd)
                os.close(key.fd)
                _, status = os.waitpid(pid, 0)
                try:
                    conn.sendall(json.dumps({"status": status}).encode() + b"\n")
                except OSError:
                    pass  # the client went away (its test failed): nobody to tell
                conn.close()


def _start(conn: socket.socket, fresh_handlers: dict, streams: dict) -> int:  # type: ignore[type-arg]
    conn.settimeout(30)
    header, fds, _, _ = socket.recv_fds(conn, _HEADER.size, 3)
    (size,) = _HEADER.unpack(header)
    body = b""
    while len(body) < size:
        body += conn.recv(size - len(body))
    request = json.loads(body)
    pid = os.fork()
    if pid == 0:
        try:
            _child(request, fds, fresh_handlers, streams)
        except BaseException:  # a bug here, told on whichever stderr the child has by now
            os.write(2, f"warm CLI: the child failed before the command ran: {traceback.format_exc()}".encode())
        finally:
            os._exit(70)  # never back into the server's loop, whatever happened
    for fd in fds:
        os.close(fd)
    return pid


def _child(request: dict, fds: list[int], fresh_handlers: dict, streams: dict) -> None:  # type: ignore[type-arg]
    for sig, handler in fresh_handlers.items():
        try:
            signal.signal(sig, handler)
        except (OSError, ValueError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.closerange(
        3, os.sysconf("SC_OPEN_MAX")
    )  # the listener, other clients' sockets, pidfds: a fresh process has none
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    sys.path[0] = os.getcwd()  # what `-m` puts first
    sys.stdin, sys.stdout, sys.stderr = (_stdio(fd, *streams[fd]) for fd in range(3))
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    sys.argv = ["-m", *request["args"]]
    sys.orig_argv = [sys.executable, "-m", request["module"], *request["args"]]
    os._exit(_run_main(request["module"]))


def _stdio(fd: int, encoding: str, errors: str, buffered: bool) -> io.TextIOWrapper:
    """The stream Python makes for fd 0, 1 or 2 at start-up (create_stdio in Python/pylifecycle.c)."""
    writing = fd != 0
    stream = io.open(fd, "wb" if writing else "rb", buffering=0 if writing and not buffered else -1, closefd=False)  # noqa: UP020
    raw = stream if isinstance(stream, io.FileIO) else stream.raw
    raw.name = ("<stdin>", "<stdout>", "<stderr>")[fd]
    return io.TextIOWrapper(
        stream,
        encoding=encoding,
        errors=errors,
        newline="\n",
        line_buffering=buffered and (raw.isatty() or fd == 2),
        write_through=not buffered,
    )


def _run_main(module: str) -> int:
    """`python -m MODULE`, from running the module to the interpreter's exit status."""
    import atexit as child_atexit
    import runpy

    sys.modules.pop(module, None)  # as in a fresh process: the module runs as __main__ only
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = _exit_status(exc.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        _flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)  # a fresh interpreter ends by the signal
        code = 1
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    try:
        threading._shutdown()  # type: ignore[attr-defined]
    except Exception:  # noqa: S110
        pass
    child_atexit._run_exitfuncs()
    return 120 if not _flush() and code == 0 else code


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _flush() -> bool:
    ok = True
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            ok = False
    return ok


if __name__ == "__main__":
    serve(sys.argv[1])
