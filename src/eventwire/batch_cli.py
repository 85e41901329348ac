"""The ``eventwire batch`` and ``eventwire load`` commands (thin wrappers over :mod:`.batch`).

They are added to the main group in :mod:`eventwire.cli`, which resolves the options once and
passes them as ``ctx.obj.options``; library errors are turned into one line by that group.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

__all__ = ["batch", "load"]


def _echo_progress(line: str, show: bool) -> None:
    if show:
        click.echo("\r" + line, err=True, nl=False)


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="Output folder for the Parquet partitions (rerun into it to resume).",
)
@click.option(
    "--scheduler", default=None, metavar="ADDRESS",
    help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster).",
)
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Worker processes of the local cluster (ignored with --scheduler).")
@click.option("--partition-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Articles per partition.")
@click.option("--stages", default=None, metavar="NAME,NAME...",
              help="Stage names in order (default: the default chain).")
@click.option("--quiet", "-q", is_flag=True, help="No progress line, only the summary.")
@click.pass_context
def batch(
    ctx: click.Context, inputs: tuple[str, ...], out: Path, scheduler: str | None,
    workers: int, partition_size: int, stages: str | None, quiet: bool,
) -> None:
    """Run the pipeline over INPUT... on Dask and write events as partitioned Parquet.

    INPUT is what `eventwire ingest` reads (files, folders, feeds, URL lists, URLs). Rerunning
    with the same --out skips finished partitions. Bring the result into a store with
    `eventwire load DIR`. Needs the [dask] extra: pip install 'eventwire[dask]'.
    """
    from .batch import BatchReport, run_batch
    from .pipeline import DEFAULT_STAGES

    chain = tuple(n.strip() for n in stages.split(",") if n.strip()) if stages else DEFAULT_STAGES

    show = (not quiet) and sys.stderr.isatty()

    def progress(report: BatchReport) -> None:
        done = len(report.failed) + report.skipped
        _echo_progress(
            f"partition {report.partitions} read, {report.articles} articles, "
            f"{report.events} events, {report.rejected} rejected, {done} skipped/failed",
            show,
        )

    report = run_batch(
        list(inputs), out, ctx.obj.options, scheduler=scheduler, workers=workers,
        partition_size=partition_size, stages=chain, progress=progress,
    )  # fmt: skip
    if show:
        click.echo("", err=True)
    click.echo(
        f"{report.partitions} partitions ({report.skipped} already done): "
        f"{report.articles} articles, {report.events} events, {report.rejected} rejected, "
        f"{report.duplicates} duplicate in {report.seconds:.1f}s -> {report.out}"
    )
    for index, reason in sorted(report.failed.items()):
        click.echo(f"partition {index} failed: {reason}", err=True)
    if report.failed:
        click.echo("rerun the same command to retry the failed partitions", err=True)
        sys.exit(1)


@click.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--db", "db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="DuckDB store (default ./eventwire.duckdb).")
@click.pass_context
def load(ctx: click.Context, directory: Path, db: Path | None) -> None:
    """Load the Parquet written by `eventwire batch` into the store.

    Articles already in the store are skipped with their events, so loading twice is safe.
    """
    from .api import open as open_store
    from .batch import complete_partitions, load_parquet

    complete_partitions(directory)  # refuse a wrong folder before creating a store
    options: Any = ctx.obj.options
    if db is not None:
        options = replace(options, db=db)
    with open_store(options.db, options=options) as store:
        report = load_parquet(store, directory)
    click.echo(
        f"loaded {report.partitions} partitions: {report.articles} articles, "
        f"{report.events} events, {report.rejections} rejections -> {options.db}"
    )
