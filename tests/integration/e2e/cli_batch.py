"""Several `sluice` commands through the CLI's own `main`, one after the other in one process, sharing
its stdin; the first that fails ends it with its status. Its one argument: their argv lists, as JSON."""

import json
import sys

from interfaces.cli.main import main


def run(commands: list[list[str]]) -> int:
    for argv in commands:
        code = main(argv)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(run(json.loads(sys.argv[1])))
