"""Who the audit log says ran an admin command: `cli:<the operating-system user>`."""

import getpass
import os

from domain.audit import Actor


def cli_actor() -> Actor:
    # SLUICE_ACTOR names the person where the OS user is shared (a container's root, a CI job).
    named = os.environ.get("SLUICE_ACTOR", "").strip()
    if named:
        return Actor.cli(named)
    try:
        return Actor.cli(os.environ.get("USER") or getpass.getuser())
    except (KeyError, OSError):  # no user name to be had (a container without a passwd entry)
        return Actor.cli()
