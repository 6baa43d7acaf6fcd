"""A stand-in for the CLI in test_warm_cli: it says what a process started as it sees itself, or ends
the way it is told to, so that a forked child and a fresh interpreter can be compared."""

import io
import json
import os
import signal
import sys
import threading

_DUNDER = (sys.__stdin__, sys.__stdout__, sys.__stderr__)


def _stream(stream: io.TextIOWrapper) -> list[object]:
    return [
        stream.encoding,
        stream.errors,
        stream.line_buffering,
        stream.write_through,
        stream.name,
        stream.isatty(),
        type(stream.buffer).__name__,
        stream.buffer.raw.name if hasattr(stream.buffer, "raw") else stream.buffer.name,
    ]


def _report() -> dict[str, object]:
    main = sys.modules["__main__"]
    handlers = {}
    for sig in sorted(signal.valid_signals()):
        handler = signal.getsignal(sig)
        handlers[int(sig)] = handler if isinstance(handler, int) else getattr(handler, "__qualname__", repr(handler))
    return {
        "argv": sys.argv,
        "orig_argv": sys.orig_argv,
        "cwd": os.getcwd(),
        "path0": sys.path[0],
        "path": sys.path[1:],
        "env": dict(os.environ),
        "fds": sorted(os.listdir("/proc/self/fd")),
        "signals": handlers,
        "blocked": sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])),
        "main": [main.__name__, main.__spec__.name, main.__file__],
        "streams": [_stream(s) for s in (sys.stdin, sys.stdout, sys.stderr)],
        "dunder_streams": [s is d for s, d in zip((sys.stdin, sys.stdout, sys.stderr), _DUNDER, strict=True)],
        "flags": list(sys.flags),
        "threads": threading.active_count(),
        "ppid": os.getppid(),
    }


def main(argv: list[str]) -> int:
    what, *rest = argv
    if what == "report":
        print(json.dumps(_report(), sort_keys=True))
        return 0
    if what == "echo":  # stdin to stdout, its length to stderr
        data = sys.stdin.read()
        sys.stdout.write(data)
        print(f"read {len(data)}", file=sys.stderr)
        return 0
    if what == "exit":
        print("before exit", file=sys.stderr)
        sys.exit(int(rest[0]) if rest[0].lstrip("-").isdigit() else rest[0])
    if what == "raise":
        raise RuntimeError("probe failure")
    if what == "interrupt":
        raise KeyboardInterrupt
    if what == "kill":
        sys.stdout.write("unflushed")
        os.kill(os.getpid(), int(rest[0]))
    if what == "leak-env":  # a change to the environment must stay in this process
        os.environ["WARM_PROBE_LEAK"] = "1"
        return 0
    if what == "hang":
        signal.pause()
    if what == "flood":  # more than a pipe holds, on both streams at once
        sys.stdout.write("o" * 1_000_000)
        sys.stderr.write("e" * 1_000_000)
        return 0
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
