"""`sluice ...`: the operator's commands. Names are stable: operators script them.

Results go to stdout (a new key alone on its line, so `KEY=$(sluice keys create ...)` works);
messages go to stderr; failures exit with status 1 and one line saying why.

Only the parser and the settings are imported up front: the command that runs imports its own module
(and the app behind it), so that `--help`, a usage error or a configuration error answers at once.
"""

import sys

from interfaces.cli.admin_commands import load_command
from interfaces.cli.parser import build_parser
from interfaces.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import asyncio

    from domain.errors import DomainError
    from interfaces.wording import describe

    try:
        settings = load_settings(serving=args.command == "serve")
        if args.command == "serve":
            from interfaces.cli.serve import serve

            return serve(settings)
        command = load_command(args.command, getattr(args, "action", None))
        return asyncio.run(command(settings, args))
    except SettingsError as exc:
        print(f"sluice: configuration error: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"sluice: {describe(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
