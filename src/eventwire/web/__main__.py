"""``python -m eventwire.web serve ...``: the serve command on its own (as in tests)."""

from __future__ import annotations

import sys

import click

from ..errors import EventwireError
from .cli import serve


@click.group()
def main() -> None:
    """eventwire's web server on its own; the same as ``eventwire serve``."""


main.add_command(serve)

if __name__ == "__main__":
    try:
        main(standalone_mode=False)
    except EventwireError as exc:
        click.echo(f"eventwire: error: {exc}", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
