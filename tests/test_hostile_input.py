"""Hostile and broken input through ``ingest``, ``extract`` and ``watch``, end to end.

Real processes, the real pipeline, real DuckDB files and a real local HTTP server. The
fixtures (binary, 50 MB, truncated gzip...) are generated in ``tmp_path`` at test time.
Each hostile input must give one clear rejection (or one error line for ``extract``), the
batch must go on, and nothing stored before may be lost.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from click.testing import CliRunner, Result

from eventwire.cli import cli
from eventwire.config import Options
from eventwire.watch import watch

from .http_server import LocalServer, Response

ROOT = Path(__file__).resolve().parents[1]

#: A news paragraph with an event, rewritten per fixture so every good file is a new article.
STORY = (
    "Government forces shelled the town of Saraqib on Tuesday, killing {n} civilians, "
    "residents said. Rebels attacked an army post near Idlib later that day."
)
#: Text with characters that differ between cp1252, latin-1 and UTF-8.
ACCENTED = "Café owners in Zürich said rebels attacked the town of Idlib on Monday, {n}."
FETCH_TIMEOUT = 1.0
FETCH_MAX_BYTES = 2_000_000
BIG_BYTES = 50_000_000


def story(n: int) -> str:
    """A distinct good article text."""
    return STORY.format(n=n)


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    """Pages that time out, loop, fail, are huge, or are fine."""
    with LocalServer() as srv:
        plain = "text/plain; charset=utf-8"
        srv.route("/ok", Response(body=story(900).encode(), content_type=plain))
        srv.route("/slow", Response(body=b"late", delay=FETCH_TIMEOUT * 4))
        srv.redirect("/loop-a", "/loop-b")
        srv.redirect("/loop-b", "/loop-a")
        srv.route("/error", Response(status=500, body=b"Internal Server Error"))
        srv.route("/huge", Response.huge(FETCH_MAX_BYTES * 3, content_length=False))
        srv.route("/huge-declared", Response.huge(FETCH_MAX_BYTES * 3))
        srv.route("/image", Response(body=b"\x89PNG\r\n\x1a\n" + bytes(200),
                                     content_type="image/png"))  # fmt: skip
        srv.route("/binary-page", Response(body=os.urandom(4000), content_type="text/html"))
        yield srv


#: URL path -> (stage, fragment of the reason) of the one rejection it must give.
BAD_URLS: dict[str, tuple[str, str]] = {
    "/slow": ("fetch", "timed out"),
    "/loop-a": ("fetch", "redirect"),
    "/error": ("fetch", "HTTP 500"),
    "/huge": ("fetch", "too large"),
    "/huge-declared": ("fetch", "too large"),
    "/image": ("read", "unsupported content type"),
    "/binary-page": ("read", "binary"),
    "/missing": ("fetch", "HTTP 404"),
}


def write_hostile_files(folder: Path) -> dict[str, tuple[str, str]]:
    """Write the bad files; return file name -> (stage, reason fragment) of its rejection."""
    folder.mkdir(parents=True, exist_ok=True)
    bad: dict[str, tuple[str, str]] = {}

    def put(name: str, data: bytes, stage: str, fragment: str) -> None:
        (folder / name).write_bytes(data)
        bad[name] = (stage, fragment)

    put("empty.txt", b"", "read", "empty file")
    put("whitespace.txt", b"  \n\t\r\n \x0b \n", "read", "no article text")
    put("noise.txt", os.urandom(30_000), "read", "binary file")
    put("noise.html", os.urandom(30_000), "read", "binary file")
    put("picture.txt", b"\x89PNG\r\n\x1a\n" + os.urandom(500), "read", "PNG image")
    put("lying-bom.txt", codecs.BOM_UTF8 + b"Rebels \xff\xfe attacked", "read", "byte-order mark")
    put(
        "scripts-only.html",
        b"<html><head><style>p{color:red}</style><script>var a = 1;</script></head>"
        b"<body><script>document.write('x')</script><style>b{}</style></body></html>",
        "read", "no article text",
    )  # fmt: skip
    # A control character after a dropped <script> used to crash the whole batch (lxml).
    put("control-after-script.html", b"<body><p><script></script>\x1f ", "read",
        "no article text")  # fmt: skip
    put("tags-only.html", b"<html><body><div><span></span><p></p></div></body></html>",
        "read", "no article text")  # fmt: skip
    put("garbage.rss", b"<rss><channel><item><title>cut here", "read", "")
    put("not-a-feed.xml", b"just some words, no markup at all", "read", "no entries")
    put("broken.atom", b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><<>&bogus;",
        "read", "")  # fmt: skip
    put("bad.json", b'{"text": "unterminated', "read", "invalid JSON")
    put("number.json", b"42", "read", "must hold one record")
    put("truncated.txt.gz", gzip.compress(story(2).encode() * 50)[:40], "read", "truncated gzip")
    put("noise.jsonl.gz", os.urandom(3000), "read", "gzip")
    # 50 MB of text, a 50 MB page (and 50 MB inside gzip): refused with the size and the
    # limit, without reading them whole.
    sentence = b"Rebels attacked the town of Idlib on Monday, killing three people. "
    for name, wrap in (("big.txt", b"%s"), ("big.html", b"<html><body><p>%s</p></body></html>")):
        with (folder / name).open("wb") as fh:
            fh.write(wrap.split(b"%s")[0])
            for _ in range(BIG_BYTES // len(sentence)):
                fh.write(sentence)
            fh.write(wrap.split(b"%s")[1])
        bad[name] = ("read", f"more than {FETCH_MAX_BYTES:,} bytes")
    put("big.txt.gz", gzip.compress(sentence * (BIG_BYTES // len(sentence))), "read",
        f"more than {FETCH_MAX_BYTES:,} bytes")  # fmt: skip
    # An endless file (a link to /dev/zero) in a folder is a device: skipped, not read.
    if Path("/dev/zero").exists():
        (folder / "endless.txt").symlink_to("/dev/zero")
        bad["endless.txt"] = ("read", "not a regular file")
    # A record of 3 million characters: read, then refused by the parse stage.
    long_text = (sentence.decode() * (3_000_000 // len(sentence) + 1)).strip()
    put("long-record.jsonl", json.dumps({"text": long_text}).encode(), "parse.spacy.v1",
        "more than max_text_chars=2,000,000")  # fmt: skip
    return bad


def write_good_files(folder: Path) -> dict[str, str]:
    """Odd but readable files; return file name -> a substring its stored text must hold."""
    folder.mkdir(parents=True, exist_ok=True)
    good: dict[str, str] = {}

    def put(name: str, data: bytes, expect: str) -> None:
        (folder / name).write_bytes(data)
        good[name] = expect

    accented = [ACCENTED.format(n=n) for n in range(10)]
    put("cp1252.txt", (accented[0] + " \u201cquoted\u201d \u2013 dash.").encode("cp1252"), "Zürich")
    put("latin1.txt", accented[1].encode("latin-1"), "Café owners")
    put("utf16-bom.txt", accented[2].encode("utf-16"), "Zürich")
    put("utf16le-no-bom.txt", accented[3].encode("utf-16-le"), "Zürich")
    put("utf16be-no-bom.txt", accented[4].encode("utf-16-be"), "Zürich")
    put("utf8-bom.txt", codecs.BOM_UTF8 + accented[5].encode(), "Café")
    put("utf32.txt", accented[6].encode("utf-32"), "Zürich")
    mixed = (
        f"{story(3)} 反政府武装周一袭击了伊德利卜。 هاجم المتمردون إدلب يوم الاثنين. "
        "Повстанцы атаковали Идлиб. Οι αντάρτες επιτέθηκαν."
    )
    put("mixed-language.txt", mixed.encode(), "Повстанцы")
    put("crlf-and-nul.txt", story(4).replace(", ", ",\r\n\x00").encode(), "Saraqib")
    nested = "<div><section>" * 100 + f"<p>{story(5)}</p>" + "</section></div>" * 100
    put("nested.html", f"<html><body>{nested}</body></html>".encode(), "Saraqib")
    # Deeper than libxml2's 256 levels: the text below them used to be lost.
    deep = "<div>" * 3000 + f"<p>{story(10)}</p>" + "</div>" * 3000
    put("too-deep.html", f"<html><body>{deep}</body></html>".encode(), "Saraqib")
    put("unclosed.html", f"<html><body><p>{story(6)}<p><b><i>{'<div><span>' * 300}".encode(),
        "Saraqib")  # fmt: skip
    put("cp1252.html", f"<html><head><meta charset='windows-1252'></head><body><p>{accented[7]}"
        "</p></body></html>".encode("cp1252"), "Zürich")  # fmt: skip
    lines = [
        json.dumps({"text": story(7), "url": "https://news.example/7"}),
        "not json at all",
        json.dumps({"text": 42}),
        json.dumps([1, 2]),
        json.dumps({"title": "no body"}),
        json.dumps({"text": story(8), "published": "the day after tomorrow"}),
        "",
        json.dumps({"html": f"<p>{story(9)}</p>", "published": "2021-05-04"}),
        '{"text": "cut',
    ]
    put("records.jsonl", "\n".join(lines).encode(), "")
    # Random padding keeps the gzip stream long enough to cut it after some whole lines.
    records = "\n".join(
        json.dumps({"text": story(100 + i), "padding": os.urandom(300).hex()}) for i in range(40)
    ).encode()
    packed = gzip.compress(records)
    put("cut.jsonl.gz", packed[: len(packed) * 7 // 10], "")
    return good


#: Lines of records.jsonl that must each be rejected (the others are stored).
BAD_JSONL_LINES = (2, 3, 4, 5, 6, 9)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, server: LocalServer) -> SimpleNamespace:
    """The hostile folder, the good-but-odd folder and a URL list of bad URLs."""
    root = tmp_path_factory.mktemp("hostile")
    bad = write_hostile_files(root / "bad")
    good = write_good_files(root / "good")
    urls = root / "links.urls"
    urls.write_text(
        "# bad links, then one good one\n"
        + "".join(f"{server.url(path)}\n" for path in BAD_URLS)
        + "ftp://example.org/file\n"
        + f"{server.url('/ok')}\n"
    )
    # Named explicitly (a folder skips unknown types silently).
    (root / "unknown.pdf").write_bytes(b"%PDF-1.4 whatever")
    curated = root / "curated"
    curated.mkdir()
    for n in range(3):
        (curated / f"kept-{n}.txt").write_text(story(500 + n))
    config = root / "config.toml"
    config.write_text(
        f"[eventwire]\nfetch_timeout = {FETCH_TIMEOUT}\nfetch_max_bytes = {FETCH_MAX_BYTES}\n"
    )
    return SimpleNamespace(root=root, bad=bad, good=good, urls=urls, curated=curated,
                           config=config)  # fmt: skip


def run_cli(
    gazetteer: Path, config: Path, *args: str, timeout: float = 180
) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``eventwire ARGS`` in a real process; return it and its peak memory in MB."""
    # VmHWM belongs to this process's own address space; getrusage's ru_maxrss would carry
    # the peak of the forking pytest process over into the child.
    probe = (
        "import sys\n"
        "from eventwire.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "finally:\n"
        "    status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "    peak = int(status.split()[0]) // 1024\n"
        "    print(f'peak-rss-mb {peak}', file=sys.stderr)\n"
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(config.parent / "xdg")}
    done = subprocess.run(
        [sys.executable, "-c", probe, "--gazetteer", str(gazetteer), "--config", str(config),
         *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    lines = done.stderr.splitlines()
    peak = int(lines[-1].split()[1]) if lines and lines[-1].startswith("peak-rss-mb") else -1
    done.stderr = "\n".join(lines[:-1])
    return done, peak


def snapshot(db: Path) -> dict[str, tuple[int, str]]:
    """article_id -> (number of stored events, hash of its events) of a store."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT a.article_id, count(e.event_id), "
            "coalesce(string_agg(e.event_id || e.event_type, ',' ORDER BY e.event_id), '') "
            "FROM articles a LEFT JOIN events e USING (article_id) GROUP BY a.article_id"
        ).fetchall()
    return {article_id: (n, digest) for article_id, n, digest in rows}


# ---------------------------------------------------------------------------- ingest


def test_ingest_of_hostile_files_and_urls_rejects_each_and_loses_nothing(
    corpus: SimpleNamespace, server: LocalServer, gazetteer_path: Path, tmp_path: Path
) -> None:
    db = tmp_path / "store.duckdb"
    first, _ = run_cli(gazetteer_path, corpus.config, "ingest", str(corpus.curated),
                       "--db", str(db), "--quiet")  # fmt: skip
    assert first.returncode == 0, first.stderr
    before = snapshot(db)
    assert len(before) == 3 and all(n > 0 for n, _ in before.values())

    done, peak = run_cli(
        gazetteer_path, corpus.config, "ingest", str(corpus.root / "bad"),
        str(corpus.root / "good"), str(corpus.urls), str(corpus.root / "unknown.pdf"),
        str(corpus.root / "missing.txt"), "--db", str(db), "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    # Huge inputs are refused without holding copies of them (a 50 MB text took 950 MB).
    assert 0 < peak < 600, f"peak memory {peak} MB"

    after = snapshot(db)
    assert {k: after[k] for k in before} == before, "an article stored before changed or vanished"
    with duckdb.connect(str(db), read_only=True) as con:
        rejections = con.execute("SELECT locator, stage, reason FROM rejections").fetchall()
        texts = [row[0] for row in con.execute("SELECT text FROM articles").fetchall()]
    for locator, _stage, reason in rejections:
        assert reason and "\n" not in reason and "Traceback" not in reason, (locator, reason)

    def rejected(prefix: str) -> list[tuple[str, str, str]]:
        return [r for r in rejections
                if r[0] == prefix or r[0].startswith((prefix + "#", prefix + ":"))]  # fmt: skip

    for name, (stage, fragment) in corpus.bad.items():
        found = rejected(str(corpus.root / "bad" / name))
        # A broken feed gives one rejection per entry it still holds; other files one each.
        assert len(found) == 1 or (found and name.endswith((".rss", ".atom"))), (name, found)
        assert all(f[1] == stage and fragment in f[2] for f in found), (name, found)
    for path, (stage, fragment) in BAD_URLS.items():
        found = rejected(server.url(path))
        assert len(found) == 1, (path, found)
        assert found[0][1] == stage and fragment in found[0][2], (path, found[0])
    ftp = [r for r in rejections if r[0].startswith(str(corpus.urls) + ":")]
    assert len(ftp) == 1 and "not an http(s) URL: 'ftp://example.org/file'" in ftp[0][2], ftp

    for name, fragment in (("unknown.pdf", "unsupported file type .pdf"),
                           ("missing.txt", "no such file")):  # fmt: skip
        found = rejected(str(corpus.root / name))
        assert len(found) == 1 and fragment in found[0][2], (name, found)

    jsonl = str(corpus.root / "good" / "records.jsonl")
    assert sorted(int(r[0].rsplit(":", 1)[1]) for r in rejections
                  if r[0].startswith(jsonl + ":")) == list(BAD_JSONL_LINES)  # fmt: skip
    cut = [r for r in rejections if r[0] == str(corpus.root / "good" / "cut.jsonl.gz")]
    assert len(cut) == 1 and "truncated gzip" in cut[0][2] and "lines before it" in cut[0][2]

    # Every odd-but-readable file is stored, decoded right.
    for name, expect in corpus.good.items():
        if expect:  # the two record files are checked line by line above
            assert not rejected(str(corpus.root / "good" / name)), name
            assert any(expect in text for text in texts), (name, expect)
    assert not any("\ufffd" in text or "\x00" in text or "\r" in text for text in texts)
    assert any(story(900) in text for text in texts)  # the good URL after the bad ones
    stored_records = [t for t in texts if any(story(n) in t for n in (7, 9))]
    assert len(stored_records) == 2
    truncated_kept = [t for t in texts if any(story(100 + i) in t for i in range(40))]
    assert 0 < len(truncated_kept) < 40

    # A second run stores nothing new, changes nothing, and rejects the same inputs again.
    again, _ = run_cli(
        gazetteer_path, corpus.config, "ingest", str(corpus.root / "good"), "--db", str(db),
        "--quiet",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("stored 0 articles")
    assert snapshot(db) == after


# ---------------------------------------------------------------------------- extract


@pytest.fixture
def run(gazetteer_path: Path, corpus: SimpleNamespace, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch):  # fmt: skip
    """The real CLI in-process, with the short fetch limits of the corpus config."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))

    def invoke(*args: str, input: bytes | None = None) -> Result:
        return CliRunner().invoke(
            cli, ["--gazetteer", str(gazetteer_path), "--config", str(corpus.config), *args],
            input=input, catch_exceptions=False,
        )  # fmt: skip

    return invoke


def one_error_line(result: Result) -> str:
    """The single ``eventwire: error:`` line of a failed command."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("eventwire: error: "), result.stderr
    assert result.stdout == ""
    return lines[0]


def test_extract_gives_one_error_line_per_hostile_file(run, corpus: SimpleNamespace) -> None:
    for name, (_, fragment) in corpus.bad.items():
        if name in ("garbage.rss", "broken.atom"):
            continue  # feeds whose one entry is unusable: checked below
        line = one_error_line(run("extract", str(corpus.root / "bad" / name)))
        if name == "endless.txt":  # named on its own, a device is read up to the cap
            fragment = "more than"
        assert str(corpus.root / "bad" / name) in line or "stage " in line, line
        assert fragment in line, (name, line)
    for name in ("garbage.rss", "broken.atom"):
        one_error_line(run("extract", str(corpus.root / "bad" / name)))


def test_extract_gives_one_error_line_per_bad_url(run, server: LocalServer) -> None:
    for path, (_, fragment) in BAD_URLS.items():
        line = one_error_line(run("extract", server.url(path)))
        assert server.url(path) in line and fragment in line, (path, line)
    assert "unsupported URL scheme" in one_error_line(run("extract", "ftp://example.org/x"))


def test_extract_from_stdin_refuses_binary_and_empty_input(run) -> None:
    assert "binary file" in one_error_line(run("extract", "-", input=os.urandom(5000)))
    assert "no article text" in one_error_line(run("extract", "-", input=b" \n\t \n"))
    assert "no article text" in one_error_line(run("extract", "-", input=b""))
    scripts = b"<html><body><script>alert(1)</script></body></html>"
    assert "no article text" in one_error_line(run("extract", "-", input=scripts))


def test_extract_reads_odd_encodings(run, corpus: SimpleNamespace) -> None:
    for name in ("cp1252.txt", "utf16le-no-bom.txt", "utf16-bom.txt", "mixed-language.txt",
                 "unclosed.html"):  # fmt: skip
        result = run("extract", str(corpus.root / "good" / name), "--format", "json",
                     "--published", "2021-05-04")  # fmt: skip
        assert result.exit_code == 0, (name, result.stderr)
        events = json.loads(result.stdout)
        assert events and all(e["sentence"] for e in events), name
        if name == "cp1252.txt":
            assert any("Zürich" in e["sentence"] for e in events)


# ---------------------------------------------------------------------------- watch


def test_watch_survives_broken_feeds_and_links(
    server: LocalServer, options: Options, tmp_path: Path
) -> None:
    """Malformed feeds and entries whose pages time out, loop, fail or are huge."""
    bad_links = ["/slow", "/loop-a", "/error", "/huge", "/image", "/missing"]
    items = "".join(
        f"<item><title>t{i}</title><link>{server.url(p)}</link>"
        f"<description>teaser</description></item>"
        for i, p in enumerate([*bad_links, "/ok"])
    )
    server.route("/w/feed", Response(
        body=f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}'
             "</channel></rss>".encode(),
        content_type="application/rss+xml",
    ))  # fmt: skip
    # XML cut in the middle of the second entry: the first one is still recovered.
    atom = (
        "<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>A</title>"
        f"<entry><title>whole</title><content type='html'>&lt;p&gt;{story(950)} "
        f"{story(951)} {story(952)}&lt;/p&gt;</content></entry>"
        "<entry><title>cut</title><content>Rebels att"
    )
    server.route("/w/cut.atom", Response(body=atom.encode(),
                                         content_type="application/atom+xml"))  # fmt: skip
    server.route("/w/garbage", Response(body=b"<rss><channel><item><<<&&&",
                                        content_type="application/rss+xml"))  # fmt: skip
    server.route("/w/binary", Response(body=os.urandom(3000), content_type="text/xml"))
    server.route("/w/empty", Response(body=b"", content_type="application/rss+xml"))
    server.route("/w/utf16", Response(
        body=("<?xml version='1.0' encoding='utf-16'?><rss version='2.0'><channel><title>U"
              f"</title><item><title>u</title><description>{story(960)} {story(961)} "
              f"{story(962)}</description></item></channel></rss>").encode("utf-16"),
        content_type="application/rss+xml",
    ))  # fmt: skip
    sources = [server.url(p) for p in
               ("/w/feed", "/w/cut.atom", "/w/garbage", "/w/binary", "/w/empty", "/w/utf16",
                "/slow", "/error")]  # fmt: skip
    fast = replace(options, fetch_timeout=FETCH_TIMEOUT, fetch_max_bytes=FETCH_MAX_BYTES)

    result = CliRunner().invoke(
        watch, [*sources, "--every", "0s", "--cycles", "2", "--db", str(fast.db)],
        obj=SimpleNamespace(options=fast), catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("cycle ") for line in lines), lines
    with duckdb.connect(str(fast.db), read_only=True) as con:
        texts = [r[0] for r in con.execute("SELECT text FROM articles").fetchall()]
        rejections = con.execute("SELECT locator, stage, reason FROM rejections").fetchall()
    assert any(story(900) in t for t in texts)
    assert any(story(950) in t for t in texts)
    assert any(story(960) in t for t in texts)
    assert all(reason and "\n" not in reason for _, _, reason in rejections)
    failed_sources = {loc for loc, stage, _ in rejections if stage == "watch"}
    for path in ("/w/binary", "/w/empty", "/slow", "/error"):
        assert server.url(path) in failed_sources, (path, rejections)
    # feedparser recovers an empty entry from the garbage: that entry is the rejection.
    assert [stage for loc, stage, _ in rejections if loc == server.url("/w/garbage") + "#1"] == [
        "read"
    ]
    for path in bad_links:
        assert any(server.url(path) in (loc or "") or server.url(path) in reason
                   for loc, _, reason in rejections), (path, rejections)  # fmt: skip
    before = snapshot(fast.db)

    # A later poll of the same broken sources changes nothing stored.
    again = CliRunner().invoke(
        watch, [*sources, "--every", "0s", "--cycles", "1", "--db", str(fast.db)],
        obj=SimpleNamespace(options=fast), catch_exceptions=False,
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert snapshot(fast.db) == before
