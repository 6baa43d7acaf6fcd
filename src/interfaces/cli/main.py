"""`sluice ...`: the operator's commands. Names are stable: operators script them.

Results go to stdout (a new key alone on its line, so `KEY=$(sluice keys create ...)` works);
messages go to stderr; failures exit with status 1 and one line saying why.
"""

import asyncio
import sys
from collections.abc import Awaitable, Callable

from domain.errors import DomainError
from interfaces.cli import admin_commands
from interfaces.cli.parser import build_parser
from interfaces.settings import SettingsError, load_settings
from interfaces.wording import describe


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(serving=args.command == "serve")
        if args.command == "serve":
            from interfaces.cli.serve import serve

            return serve(settings)
        command: Callable[..., Awaitable[int]] = admin_commands.COMMANDS[(args.command, getattr(args, "action", None))]
        return asyncio.run(command(settings, args))
    except SettingsError as exc:
        print(f"sluice: configuration error: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"sluice: {describe(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
