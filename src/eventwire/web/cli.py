"""``eventwire serve``: the dashboard and REST API over a store, read-only.

Registered on the main command group with ``cli.add_command(serve)``; runs on its own too.
"""

from __future__ import annotations

import functools
import secrets
import shutil
from pathlib import Path
from typing import Any

import click

from ..errors import OptionsError

#: Server processes by default. One process answered bench/load.py's mix as fast as two on a
#: shared 2-core machine (route threads and DuckDB work without the GIL), with half the memory.
DEFAULT_WORKERS = 1


def check_serve_options(host: str, port: int, token: str | None) -> None:
    """Refuse unsafe or impossible combinations before anything is opened.

    Raises:
        OptionsError: A non-loopback host without a token, a short token or a bad port.
    """
    from .safety import is_loopback

    if not 0 < port < 65536:
        raise OptionsError(f"--port {port}: must be between 1 and 65535")
    if token is not None and len(token) < 16:
        raise OptionsError(
            f"--token: use at least 16 characters, for example --token {secrets.token_urlsafe(24)}"
        )
    if not is_loopback(host) and token is None:
        raise OptionsError(
            f"--host {host}: serving beyond this machine needs a token that every API request "
            f"must send; add for example --token {secrets.token_urlsafe(24)}"
        )


def _worker_app(*args: Any, **kwargs: Any) -> Any:
    """The app of one server process under the supervisor; the process ends with it.

    A supervisor killed with SIGKILL cannot stop its workers: orphaned, they would keep the
    port and the snapshot copies. Each worker therefore watches its parent and stops itself
    (SIGTERM, so uvicorn shuts down cleanly) once the parent is gone.
    """
    import os
    import signal
    import threading
    import time

    from .app import create_app

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="eventwire-parent-watch", daemon=True).start()
    return create_app(*args, **kwargs)


@click.command("serve")
@click.option(
    "--db", "db", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="DuckDB store to serve, read-only (default ./eventwire.duckdb).",
)  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; anything but loopback needs --token.")  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
@click.option("--token", default=None, envvar=None,
              help="Secret every /api request must send as 'Authorization: Bearer TOKEN' "
              "(open the dashboard as http://HOST:PORT/#token=TOKEN).")  # fmt: skip
@click.option(
    "--workers", default=None, type=click.IntRange(1, 64), metavar="N",
    help="Server processes answering requests (they share the store's snapshot; each keeps "
    "its own remembered answers) [default: 1].",
)  # fmt: skip
@click.option(
    "--tiles-url", default=None, metavar="URL",
    help="Online tile template for the base map, e.g. "
    "https://tile.openstreetmap.org/{z}/{x}/{y}.png (default: bundled outline only).",
)  # fmt: skip
@click.pass_context
def serve(
    ctx: click.Context,
    db: Path | None,
    host: str,
    port: int,
    token: str | None,
    workers: int | None,
    tiles_url: str | None,
) -> None:
    """Serve the map, timeline and REST API (docs at /docs) over a store, read-only.

    The store is never held open: answers come from a copy taken again whenever it changes,
    so ingest and watch can write to it while it is served.
    """
    from . import require_web
    from .safety import check_tiles_url

    options = getattr(ctx.obj, "options", None)
    if db is None:
        db = options.db if options is not None else Path("eventwire.duckdb")
    check_serve_options(host, port, token)
    check_tiles_url(tiles_url)
    require_web()
    import uvicorn

    from .app import create_app

    workers = workers or DEFAULT_WORKERS
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    config: dict[str, Any] = {"host": host, "port": port, "log_level": "warning"}
    if workers == 1:
        app = create_app(db, token=token, tiles_url=tiles_url)
        click.echo(f"eventwire: serving {db} read-only at {url} (API docs: {url}docs)", err=True)
        uvicorn.run(app, **config)
        return
    from uvicorn.supervisors import Multiprocess

    from .queries import EventsDB
    from .snapshot import private_directory

    # The processes share one directory of snapshots: the first copy is taken here, so a store
    # that cannot be served is reported before any process starts.
    snapshots = private_directory()
    try:
        EventsDB(db, snapshot_dir=snapshots).close()
        factory = functools.partial(
            _worker_app, db, token=token, tiles_url=tiles_url, snapshot_dir=snapshots
        )
        server = uvicorn.Config(factory, factory=True, workers=workers, **config)
        click.echo(
            f"eventwire: serving {db} read-only at {url} (API docs: {url}docs) "
            f"with {workers} processes",
            err=True,
        )
        Multiprocess(server, sockets=[server.bind_socket()]).run()
    finally:
        shutil.rmtree(snapshots, ignore_errors=True)
