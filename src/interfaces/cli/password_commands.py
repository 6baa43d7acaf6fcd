"""`sluice accounts password EMAIL`: the password comes from standard input, never from argv
(where `ps` and shell history would keep it)."""

import argparse
import getpass
import sys

from application.use_cases.passwords import SetPassword
from interfaces.cli.context import container, say
from interfaces.settings import Settings


class PasswordInputError(Exception):
    pass


def read_password() -> str:
    """On a terminal: asked twice, not echoed. From a pipe: the first line, without its line ending."""
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != first:
            raise PasswordInputError("the two passwords differ; nothing changed")
        return first
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


async def accounts_password(settings: Settings, args: argparse.Namespace) -> int:
    try:
        password = read_password()
    except (PasswordInputError, EOFError, KeyboardInterrupt) as exc:
        say(f"sluice: {exc or 'no password given'}")
        return 1
    async with container(settings) as c:
        account, ended = await (await c.get(SetPassword)).execute(args.email, password)
    print(f"{account.email}\tpassword set")
    say(f"password of {account.email} set; {ended} session{'' if ended == 1 else 's'} signed out")
    return 0
