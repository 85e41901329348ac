"""The ``eventwire`` command: thin wrappers that parse input, call the library, render output."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, TextIO

import click

from . import __version__
from .config import Options, resolve_options
from .errors import EventwireError, OptionsError

TEXT_FORMATS = ("table", "json", "jsonl", "csv", "geojson")
EXPORT_FORMATS = (*TEXT_FORMATS, "parquet")


class _Root:
    """What the group callback resolves once for every command."""

    def __init__(self, options: Options, debug: bool) -> None:
        self.options = options
        self.debug = debug


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"eventwire: error: {message}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Turns library errors into one line on stderr and a non-zero exit (``--debug``: traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EventwireError as exc:
            root = ctx.obj if isinstance(ctx.obj, _Root) else None
            if root is not None and root.debug:
                raise
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted", 130)


def _db_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="DuckDB store (default ./eventwire.duckdb).",
    )(fn)


def _options(ctx: click.Context, **overrides: Any) -> Options:
    root: _Root = ctx.obj
    changes = {k: v for k, v in overrides.items() if v is not None}
    return replace(root.options, **changes) if changes else root.options


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="eventwire")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="TOML config file (default ~/.config/eventwire/config.toml if present).",
)
@click.option(
    "--gazetteer",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Gazetteer index file (default ~/.local/share/eventwire/gazetteer.sqlite).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, gazetteer: Path | None, debug: bool) -> None:
    """eventwire: news articles in, geocoded event records out.

    Who did what to whom, where and when, with the sentence it came from.
    """
    try:
        options = resolve_options(config_file=config, gazetteer=gazetteer)
    except EventwireError as exc:
        if debug:
            raise
        _fail(str(exc))
    ctx.obj = _Root(options, debug)


# ---------------------------------------------------------------------------- extract


@cli.command()
@click.argument("source", metavar="FILE|URL|-")
@click.option(
    "--format", "fmt", type=click.Choice(TEXT_FORMATS), default="table", show_default=True
)
@click.option("--published", default=None, help="Publication date (ISO 8601), e.g. 2020-12-10.")
@click.option("--url", default=None, help="URL to record as the article's origin.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Write to this file instead of stdout.",
)
@click.pass_context
def extract(
    ctx: click.Context, source: str, fmt: str, published: str | None, url: str | None,
    output: Path | None,
) -> None:
    """Print the events of one article (a file, a URL or - for stdin); no database."""
    from .api import pipeline_for
    from .dates import parse_published
    from .htmltext import article_from_html, article_from_text, decode_bytes, looks_like_html
    from .model import Article, Rejection
    from .sources import iter_articles

    options = _options(ctx)
    when = parse_published(published) if published else None
    articles: list[Article] = []
    if source == "-":
        data = sys.stdin.buffer.read(options.fetch_max_bytes + 1)
        if len(data) > options.fetch_max_bytes:
            _fail(f"<stdin>: more than {options.fetch_max_bytes:,} bytes (fetch_max_bytes); "
                  "give a file, or raise fetch_max_bytes in the config file")
        text = decode_bytes(data, "<stdin>")
        if looks_like_html(text):
            articles.append(article_from_html(text, url=url, locator="<stdin>"))
        else:
            articles.append(article_from_text(text, url=url, locator="<stdin>"))
    else:
        for item in iter_articles([source], options=options):
            if isinstance(item, Rejection):
                _fail(f"{item.locator}: {item.reason}")
            articles.append(item)
        if not articles:
            _fail(f"{source}: no article found")
    pipeline = pipeline_for(options)
    events = []
    for article in articles:
        if when is not None:
            article.published = when
        if url is not None:
            article.url = url
        events.extend(pipeline.run(article))
    _write(events, fmt, output)


def _write(
    events: Sequence[Any], fmt: str, output: Path | None, keys: Sequence[str] | None = None
) -> None:
    from .formats import write_events
    from .model import EVENT_KEYS

    write_events(events, fmt, output if output is not None else sys.stdout,
                 keys=keys or EVENT_KEYS)


# ---------------------------------------------------------------------------- ingest


@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="PATH|URL...")
@_db_option
@click.option("--quiet", "-q", is_flag=True, help="No progress line, only the summary.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes running the stages (default: this process only).")
@click.pass_context
def ingest(
    ctx: click.Context, inputs: tuple[str, ...], db: Path | None, quiet: bool,
    workers: int | None,
) -> None:
    """Read articles from files, folders, feeds, URL lists or URLs into the store.

    Each article is stored once (by content hash), with its events; inputs that cannot be
    read and articles a stage cannot process are recorded as rejections and the batch goes on.
    """
    from .api import open as open_store
    from .api import pipeline_for
    from .memory import freeze_loaded
    from .sources import iter_articles

    options = _options(ctx, db=db)
    show = (not quiet) and sys.stderr.isatty()
    started = time.monotonic()

    def progress(report: Any) -> None:
        if show:
            done = report.stored + report.duplicates + report.rejected
            rate = done / max(time.monotonic() - started, 1e-9)
            click.echo(
                f"\r{done} articles  {rate:.1f} articles/s  stored {report.stored}  "
                f"duplicate {report.duplicates}  rejected {report.rejected}",
                err=True,
                nl=False,
            )

    with open_store(options.db, options=options) as store:
        # This process keeps what it loads until it exits: loaded, then frozen out of the
        # garbage collector's sight, so each write batch's garbage is collected cheaply
        # (eventwire.memory).
        if workers:
            from .parallel import ingest_parallel

            freeze_loaded()
            report = ingest_parallel(store, list(inputs), options, workers, progress=progress)
        else:
            pipeline = pipeline_for(options)
            pipeline.warm_up()
            freeze_loaded()
            report = store.ingest(iter_articles(list(inputs), options=options), pipeline,
                                  progress=progress)  # fmt: skip
    if show:
        click.echo("", err=True)
    rate = (report.stored + report.duplicates + report.rejected) / max(report.seconds, 1e-9)
    click.echo(
        f"stored {report.stored} articles ({report.events} events), "
        f"{report.duplicates} duplicate, {report.rejected} rejected "
        f"in {report.seconds:.1f}s ({rate:.1f} articles/s) -> {options.db}"
    )
    for rejection in report.rejections[:20]:
        click.echo(
            f"rejected {rejection.locator}: [{rejection.stage}] {rejection.reason}", err=True
        )
    if len(report.rejections) > 20:
        click.echo(f"... and {len(report.rejections) - 20} more: eventwire rejections", err=True)


# ---------------------------------------------------------------------------- events


def _parse_near(value: str | None) -> tuple[float, float, float] | None:
    if value is None:
        return None
    parts = value.split(",")
    try:
        lat, lon, km = (float(p) for p in parts)
    except ValueError:
        raise OptionsError(
            f"--near {value!r}: expected LAT,LON,KM, for example --near 35.9,36.6,50"
        ) from None
    return lat, lon, km


def _parse_day(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise OptionsError(f"{name} {value!r}: expected a date as YYYY-MM-DD") from None


@cli.command()
@_db_option
@click.option("--country", default=None, help="ISO 3166 code (alpha-3 or alpha-2).")
@click.option("--type", "event_type", default=None, help="PLOVER event type, e.g. ASSAULT.")
@click.option("--actor", default=None, help="Actor name or text (either side).")
@click.option("--since", default=None, help="Earliest event date, YYYY-MM-DD.")
@click.option("--until", default=None, help="Latest event date, YYYY-MM-DD.")
@click.option("--near", default=None, metavar="LAT,LON,KM", help="Within KM of a point.")
@click.option("--modality", default=None, help="Only this modality (e.g. threatened).")
@click.option("--all", "include_all", is_flag=True,
              help="Include hypothetical and negated events.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N events.")
@click.option("--parquet", "parquet_dir", default=None,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Query the Parquet folder written by `eventwire batch` instead of a store.")
@click.option("--clusters", is_flag=True,
              help="One record per real event, merged across reports (with report_count and "
              "sources), instead of one per report.")
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="table", show_default=True
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Write to this file (required for parquet).",
)
@click.pass_context
def events(
    ctx: click.Context, db: Path | None, country: str | None, event_type: str | None,
    actor: str | None, since: str | None, until: str | None, near: str | None,
    modality: str | None, include_all: bool, limit: int | None, parquet_dir: Path | None,
    clusters: bool, fmt: str, output: Path | None,
) -> None:
    """Query stored events and print or export them.

    Each stored report comes with the cluster it was merged into (cluster_id) and that
    cluster's report_count; --clusters gives one record per cluster instead."""
    from .api import open as open_store
    from .formats import REPORT_KEYS
    from .model import CLUSTER_KEYS

    filters: dict[str, Any] = dict(
        country=country, type=event_type, actor=actor,
        since=_parse_day("--since", since), until=_parse_day("--until", until),
        near=_parse_near(near), modality=modality, include_hypothetical=include_all,
        limit=limit,
    )
    if parquet_dir is not None:
        from .batch import query_parquet

        if clusters:
            raise OptionsError("--clusters needs a store: load the Parquet with eventwire load")
        _write(query_parquet(parquet_dir, **filters), fmt, output)
        return
    options = _options(ctx, db=db)
    _require_db(options.db)
    with open_store(options.db, options=options) as store:
        found = store.clusters(**filters) if clusters else store.events(**filters)
    _write(found, fmt, output, keys=CLUSTER_KEYS if clusters else REPORT_KEYS)


def _require_db(path: Path) -> None:
    if not Path(path).exists():
        _fail(f"no database at {path}: ingest articles first (eventwire ingest PATH --db {path})")


# ---------------------------------------------------------------------------- stats, rejections


@cli.command()
@_db_option
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True)
@click.pass_context
def stats(ctx: click.Context, db: Path | None, fmt: str) -> None:
    """Counts of articles, events and rejections, by type, country, modality and actor."""
    from .api import open as open_store

    options = _options(ctx, db=db)
    _require_db(options.db)
    with open_store(options.db, options=options) as store:
        figures = store.stats()
    if fmt == "json":
        click.echo(json.dumps(figures, indent=2, default=str))
        return
    _print_stats(figures, sys.stdout)


def _print_stats(figures: dict[str, Any], out: TextIO) -> None:
    for key, value in figures.items():
        if isinstance(value, dict):
            out.write(f"{key}:\n")
            for name, count in value.items():
                out.write(f"  {str(name):<40} {count}\n")
        else:
            out.write(f"{key}: {value}\n")


@cli.command()
@_db_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True)
@click.pass_context
def rejections(ctx: click.Context, db: Path | None, limit: int, fmt: str) -> None:
    """Inputs and articles that could not be processed, newest first, with the reason."""
    from dataclasses import asdict

    from .api import open as open_store

    options = _options(ctx, db=db)
    _require_db(options.db)
    with open_store(options.db, options=options) as store:
        rows = store.rejections(limit=limit)
    if fmt == "json":
        click.echo(json.dumps([asdict(r) for r in rows], indent=2, default=str))
        return
    if not rows:
        click.echo("no rejections")
    for r in rows:
        click.echo(f"{r.stage:<24} {r.locator}: {r.reason}")


# ---------------------------------------------------------------------------- stages


@cli.command()
@click.pass_context
def stages(ctx: click.Context) -> None:
    """List the pipeline's stages, what each needs and adds, and the pipeline version."""
    from .pipeline import Pipeline

    pipeline = Pipeline(_options(ctx))
    click.echo(f"pipeline {pipeline.version}")
    for row in pipeline.describe():
        click.echo(f"  {row['name']:<24} needs {', '.join(row['needs']):<28} "
                   f"adds {', '.join(row['adds'])}")


# ---------------------------------------------------------------------------- geoparse


@cli.command()
@click.argument("source", metavar="FILE|-")
@click.option("--country", default=None, help="ISO code of the country the text is about.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True)
@click.pass_context
def geoparse(ctx: click.Context, source: str, country: str | None, fmt: str) -> None:
    """Print the place names in a text file (or stdin) and where each one is."""
    from dataclasses import asdict

    from .api import geoparse as run_geoparse
    from .htmltext import article_from_html, clean_text, decode_bytes, looks_like_html

    if source == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            _fail(f"{source}: cannot read: {exc.strerror or exc}")
    text = decode_bytes(data, source)
    if looks_like_html(text):
        text = article_from_html(text, locator=source).text
    else:
        text = clean_text(text)
    found = run_geoparse(text, country_hint=country, options=_options(ctx))
    if fmt == "json":
        click.echo(json.dumps([asdict(t) for t in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("no places")
    for t in found:
        where = (f"{t.latitude:.4f},{t.longitude:.4f}" if t.latitude is not None else "-")
        click.echo(f"{t.text:<28} {t.name or '?':<28} {t.country or '-':<4} "
                   f"{t.admin1 or '-':<20} {where:<20} {t.geo_precision or '-':<12} "
                   f"{t.confidence:.2f}")


# ---------------------------------------------------------------------------- gazetteer


@cli.group()
def gazetteer() -> None:
    """Inspect and extend the gazetteer index (GeoNames dumps, OCHA gazetteers)."""


def _open_gazetteer(ctx: click.Context) -> Any:
    from .gazetteer import Gazetteer

    return Gazetteer.open(_options(ctx).gazetteer)


@gazetteer.command("info")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True)
@click.pass_context
def gazetteer_info(ctx: click.Context, fmt: str) -> None:
    """Show the index: path, build date, counts and every source loaded."""
    with _open_gazetteer(ctx) as gaz:
        info = gaz.info()
    if fmt == "json":
        click.echo(json.dumps(info, indent=2, default=str))
        return
    click.echo(f"index:  {info['path']}")
    click.echo(f"built:  {info['built']}")
    click.echo(f"places: {info['places']:,}   names: {info['names']:,}")
    for src in info["sources"]:
        click.echo(f"  {src['name']:<36} {src['kind']:<12} {src['places']:>9,} places  "
                   f"added {src['added']}")


@gazetteer.command("add")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def gazetteer_add(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Load GeoNames files (country dumps such as SY.txt or SY.zip, allCountries, cities500,
    admin1/admin2 code files, alternateNames) or OCHA populated places (CSV or XLSX).

    Each file is loaded in one transaction: a bad file is refused with its line number and
    the index stays as it was.
    """
    with _open_gazetteer(ctx) as gaz:
        for path in files:
            count = gaz.add_file(path)
            click.echo(f"{path}: {count:,} rows loaded")


@gazetteer.command("download")
@click.argument("codes", nargs=-1, required=True, metavar="CC...")
@click.option("--dir", "target", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Keep the downloaded .zip files here (default: next to the "
              "index).")
@click.option("--base-url", default=None, help="Mirror of the GeoNames dump folder.")
@click.pass_context
def gazetteer_download(
    ctx: click.Context, codes: tuple[str, ...], target: Path | None, base_url: str | None
) -> None:
    """Download GeoNames country dumps (needs the internet) and load them into the index."""
    from .geonames_download import GEONAMES_DUMP_URL, download_countries

    options = _options(ctx)
    folder = target or options.gazetteer.parent / "downloads"
    paths = download_countries(codes, folder, options=options,
                               base_url=base_url or GEONAMES_DUMP_URL)
    with _open_gazetteer(ctx) as gaz:
        for path in paths:
            count = gaz.add_file(path)
            click.echo(f"{path.name}: {count:,} places loaded")


# ---------------------------------------------------------------------------- eval


@cli.group("eval")
def eval_group() -> None:
    """Score eventwire on the public labelled data sets (see ../shared/data/README.md)."""


def _data_dir_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="Folder of the labelled data sets (default ../shared/data or $EVENTWIRE_DATA).",
    )(fn)


def _dataset(options: Options, relative: str) -> Path:
    path = options.data_dir / relative
    if not path.exists():
        raise OptionsError(
            f"data set not found: {path}; point --data at the folder holding {relative}"
        )
    return path


def _print_result(name: str, result: dict[str, Any], fmt: str) -> None:
    from .evaluate.events import format_report

    if fmt == "json":
        click.echo(json.dumps({name: result}, indent=2, default=str))
    else:
        click.echo(f"== {name}")
        click.echo(format_report(_flatten(result)))


def _flatten(result: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested figures (per label, per split) as ``label.figure`` keys; the confusion matrix
    stays as it is for the report to draw."""
    flat: dict[str, Any] = {}
    for key, value in result.items():
        if isinstance(value, dict) and key != "confusion":
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@eval_group.command("events")
@click.argument("datasets", nargs=-1, type=click.Choice(("plover", "acled")))
@_data_dir_option
@click.option("--split", type=click.Choice(("test", "dev", "all")), default="test",
              show_default=True, help="ACLED part to score (test is never used for tuning).")
@click.option("--plover-split", type=click.Choice(("all", "train", "test")), default="all",
              show_default=True,
              help="PLOVER part to score (the classifier trains on 'train' only).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Score the first N.")
@click.option("--stages", default=None, metavar="A,B,...",
              help="Score this chain of stages instead of the default one (see "
                   "'eventwire stages').")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True)
@click.pass_context
def eval_events(
    ctx: click.Context, datasets: tuple[str, ...], data_dir: Path | None, split: str,
    plover_split: str, limit: int | None, stages: str | None, fmt: str,
) -> None:
    """Event coding: PLOVER sentences (type, actors) and ACLED notes (type, sub-type,
    actor1, location, date, fatalities), each with a confusion matrix."""
    from .api import pipeline_for
    from .evaluate.events import evaluate_acled, evaluate_plover
    from .pipeline import Pipeline

    options = _options(ctx, data_dir=data_dir)
    if stages is None:
        pipeline = pipeline_for(options)
    else:
        chain = tuple(name.strip() for name in stages.split(",") if name.strip())
        if not chain:
            raise OptionsError("--stages: give stage names separated by commas")
        pipeline = Pipeline(options, stages=chain)
    for name in datasets or ("plover", "acled"):
        if name == "plover":
            path = _dataset(options, "plover-gsr/PLOVER_GSR_CAMEO.json")
            result = evaluate_plover(pipeline, path, split=plover_split, limit=limit)
        else:
            path = _dataset(options, "acled-dev/acled_outside_middle_east.csv")
            result = evaluate_acled(pipeline, path, split=split, limit=limit)
        _print_result(name, result, fmt)


@eval_group.command("geoparse")
@click.argument("datasets", nargs=-1,
                type=click.Choice(("geowebnews", "geovirus", "localnews", "event-location")))
@_data_dir_option
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Score the first N.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True)
@click.pass_context
def eval_geoparse(
    ctx: click.Context, datasets: tuple[str, ...], data_dir: Path | None, limit: int | None,
    fmt: str,
) -> None:
    """Geoparsing: toponym resolution (accuracy@161 km, median error, AUC) and recognition
    (span P/R/F1) on GeoWebNews, GeoVirus and US local news; event location accuracy."""
    from .api import pipeline_for
    from .evaluate import geo

    options = _options(ctx, data_dir=data_dir)
    context = pipeline_for(options).context
    runs: dict[str, tuple[Callable[..., dict[str, Any]], str]] = {
        "geowebnews": (geo.evaluate_geowebnews, "geowebnews/GWN.xml"),
        "geovirus": (geo.evaluate_geovirus, "geovirus/GeoVirus.xml"),
        "localnews": (geo.evaluate_us_localnews, "toponym-us-localnews"),
        "event-location": (geo.evaluate_event_location, "event-location/sentences.jsonl"),
    }
    for name in datasets or tuple(runs):
        fn, relative = runs[name]
        path = _dataset(options, relative)
        where = {"folder": path} if name == "localnews" else {"path": path}
        result = fn(context.gazetteer, context.nlp, limit=limit, **where)
        _print_result(name, result, fmt)


@eval_group.command("dedup")
@_data_dir_option
@click.option("--split", "splits", type=click.Choice(("test", "dev", "all")), multiple=True,
              help="Reports to score, by the split of their ACLED row (repeatable; default: "
                   "test, which is never used for tuning). Every report is clustered.")
@click.option("--seed", type=int, default=13, show_default=True,
              help="Seed of the report generator.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Generate reports of the first N ACLED rows only.")
@click.option("--params", "params_file", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Clustering parameters (TOML like data/cluster/params.toml) instead of "
                   "the packaged ones.")
@click.option("--pipeline", "through_pipeline", is_flag=True,
              help="Also run generated articles through the real stages and score the "
                   "clustering of what they extract.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True)
@click.pass_context
def eval_dedup(
    ctx: click.Context, data_dir: Path | None, splits: tuple[str, ...], seed: int,
    limit: int | None, params_file: Path | None, through_pipeline: bool, fmt: str,
) -> None:
    """Merging of reports of one event: reports generated from ACLED events (paraphrased,
    respelled, vaguer places and dates, hard negatives next to them) are clustered in
    publication order; pairwise and B-cubed precision/recall/F1 against the true events,
    and clusters that span countries (must be 0)."""
    from dataclasses import asdict

    from .cluster import ClusterParams
    from .evaluate.dedup import evaluate_pipeline, evaluate_splits, generate_reports, load_acled

    options = _options(ctx, data_dir=data_dir)
    rows = load_acled(_dataset(options, "acled-dev/acled_outside_middle_east.csv"))
    if limit is not None:
        rows = rows[:limit]
    params = None
    if params_file is not None:
        try:
            params = ClusterParams.load(params_file.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise OptionsError(f"cannot read {params_file}: {exc}") from exc
    wanted = tuple(dict.fromkeys(splits or ("test",)))
    scores = evaluate_splits(generate_reports(rows, seed=seed), params=params, splits=wanted)
    end_to_end = evaluate_pipeline(rows, options=options) if through_pipeline else None
    if fmt == "json":
        result: dict[str, Any] = {split: asdict(s) for split, s in scores.items()}
        if end_to_end is not None:
            result["pipeline"] = asdict(end_to_end)
        click.echo(json.dumps({"dedup": result}, indent=2))
        return
    click.echo("== dedup")
    for split_scores in scores.values():
        for line in split_scores.lines():
            click.echo(line)
    if end_to_end is not None:
        click.echo("end to end, through the real pipeline:")
        for line in end_to_end.lines():
            click.echo("  " + line)


def _register_commands() -> None:
    # Commands defined next to the library code they wrap, registered like any plugin's.
    from .batch_cli import batch, load
    from .watch import watch
    from .web.cli import serve

    for command in (batch, load, serve, watch):
        cli.add_command(command)


_register_commands()


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="eventwire")


if __name__ == "__main__":
    main()
