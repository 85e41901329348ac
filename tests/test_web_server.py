"""A real ``eventwire serve`` process on loopback: routes over HTTP, startup refusals, raw paths."""

from __future__ import annotations

import csv
import io
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("uvicorn", reason="web extra not installed: pip install 'eventwire[web]'")

from eventwire.config import Options
from eventwire.model import EVENT_KEYS

from .web_fixtures import (
    ARTICLES,
    Served,
    all_specs,
    build_store,
    free_port,
    running,
    serve_process,
    visible,
)

TOKEN = "another-test-token-abcdefghijkl"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory, session_options: Options) -> Path:
    return build_store(tmp_path_factory.mktemp("webserver") / "events.duckdb", session_options)


@pytest.fixture(scope="module")
def server(store_path: Path) -> Iterator[Served]:
    with serve_process(store_path) as served:
        yield served


def run_serve(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventwire.web", "serve", *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def raw_get(url: str, target: str) -> bytes:
    """Send a request line exactly as written (clients normalise ``..`` away)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_every_route_over_http(server: Served) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        health = http.get("/api/health").json()
        assert (health["events"], health["articles"]) == (len(all_specs()), len(ARTICLES))
        events = http.get("/api/events").json()["events"]
        assert len(events) == len(visible(all_specs()))
        one = http.get(f"/api/events/{events[0]['event_id']}").json()
        assert one["event_id"] == events[0]["event_id"]
        article = http.get(f"/api/articles/{one['article_id']}").json()
        assert one["sentence"] in article["text"]
        assert http.get("/api/stats").json()["total"] == len(events)
        page = http.get("/")
        assert page.status_code == 200 and "leaflet.js" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        js = http.get("/static/vendor/leaflet/leaflet.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        outline = http.get("/static/vendor/world-atlas/countries-110m.json").json()
        assert outline["type"] == "Topology" and "countries" in outline["objects"]
        assert http.get("/docs").status_code == 200
        assert http.get("/openapi.json").json()["info"]["title"] == "eventwire"


def test_pagination_to_the_end_over_http(server: Served) -> None:
    seen: list[str] = []
    rows: list[dict[str, str]] = []
    params: dict[str, str] = {"limit": "2", "format": "csv", "include_hypothetical": "true"}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for _ in range(20):
            response = http.get("/api/events", params=params)
            assert response.status_code == 200
            reader = csv.DictReader(io.StringIO(response.text))
            assert reader.fieldnames == list(EVENT_KEYS)
            page = list(reader)
            rows += page
            seen += [r["event_id"] for r in page]
            cursor = response.headers.get("x-next-cursor")
            if not cursor:
                break
            params["cursor"] = cursor
    assert len(seen) == len(set(seen)) == len(all_specs())


def test_errors_over_http_have_the_one_shape(server: Served) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for path, status in (("/api/events?bbox=1,2", 422), ("/api/events/none", 404),
                             ("/api/stats?since=x", 422), ("/nowhere", 404)):  # fmt: skip
            response = http.get(path)
            assert response.status_code == status
            assert response.headers["content-type"] == "application/json"
            assert set(response.json()["error"]) >= {"status", "code", "message"}
        assert http.get("/api/health", headers={"host": "attacker.example"}).status_code == 400


@pytest.mark.parametrize(
    "target",
    ["/static/../app.py", "/static/../../eventwire/store.py", "/static/%2e%2e/app.py",
     "/static/..%2f..%2fstore.py", "/../../../../etc/passwd", "/static/../../../../etc/passwd"],
)  # fmt: skip
def test_raw_traversal_paths_reach_nothing(server: Served, target: str) -> None:
    response = raw_get(server.url, target)
    status = response.split(b" ", 2)[1]
    assert status in (b"400", b"404")
    assert b"import " not in response and b"root:" not in response


def test_off_loopback_without_token_refuses_to_start(store_path: Path) -> None:
    done = run_serve("--db", str(store_path), "--host", "0.0.0.0", "--port", "8765")
    assert done.returncode != 0
    assert "--token" in done.stderr and "Traceback" not in done.stderr


def test_missing_database_is_one_line(tmp_path: Path) -> None:
    done = run_serve("--db", str(tmp_path / "missing.duckdb"), "--port", "8766")
    assert done.returncode == 1
    assert "does not exist" in done.stderr and "Traceback" not in done.stderr


def test_token_server_on_all_interfaces(store_path: Path) -> None:
    with serve_process(store_path, "--token", TOKEN, host="0.0.0.0") as served:
        url = served.url.replace("0.0.0.0", "127.0.0.1")
        with httpx.Client(base_url=url, timeout=10) as http:
            refused = http.get("/api/events", headers={"host": "events.example"})
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
            ok = http.get(
                "/api/events",
                headers={"host": "events.example", "authorization": f"Bearer {TOKEN}"},
            )
            assert ok.status_code == 200 and ok.json()["events"]
            assert http.get("/", headers={"host": "events.example"}).status_code == 200
        # Spellings of an API path that a router might treat differently from the guard.
        for target in ("/%61pi/health", "/api/%65vents", "//api/health", "/api//events",
                       "/static/../api/health", "/api/health?x=1#y"):  # fmt: skip
            response = raw_get(url, target)
            status = response.split(b" ", 2)[1]
            assert status in (b"401", b"404", b"400"), (target, response[:200])
            assert b'"events":' not in response and b'"status":"ok"' not in response


def test_without_the_web_extra_serve_names_it(store_path: Path) -> None:
    # The extra is hidden from this one child process only; nothing is faked in-process.
    code = (
        "import sys; sys.modules['fastapi'] = None; sys.modules['uvicorn'] = None; "
        "sys.argv = ['eventwire.web', 'serve', '--db', sys.argv[1], '--port', '8767']; "
        "import runpy; runpy.run_module('eventwire.web', run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(store_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "pip install 'eventwire[web]'" in done.stderr and "Traceback" not in done.stderr


def test_serve_under_the_main_cli_reads_the_db_from_the_config(
    store_path: Path, tmp_path: Path
) -> None:
    from eventwire.cli import cli

    if "serve" not in cli.commands:
        pytest.skip("serve is not registered in the main CLI yet (cli.add_command(serve))")
    config = tmp_path / "config.toml"
    config.write_text(f"[eventwire]\ndb = {str(store_path)!r}\n", encoding="utf-8")
    port = free_port()
    cmd = [sys.executable, "-c", "from eventwire.cli import main; main()", "--config",
           str(config), "serve", "--port", str(port)]  # fmt: skip
    with running(cmd, port) as served:
        health = httpx.get(f"{served.url}/api/health", timeout=10).json()
    assert health["events"] == len(all_specs())


def test_serve_help_names_every_option() -> None:
    done = run_serve("--help")
    assert done.returncode == 0
    for option in ("--db", "--host", "--port", "--token", "--tiles-url"):
        assert option in done.stdout


def test_several_processes_serve_one_snapshot_and_follow_a_writer(
    store_path: Path, tmp_path: Path, session_options: Options
) -> None:
    """--workers 2: both processes answer from the shared snapshot directory, a writer can
    write while they run, and after it every answer (whichever process gives it) has the new
    article; no snapshot is left behind when the server stops."""
    import shutil
    import tempfile
    from datetime import UTC, datetime

    import eventwire
    from eventwire.model import Article

    from .web_fixtures import Spec, make_events

    path = tmp_path / "shared.duckdb"
    shutil.copyfile(store_path, path)
    before = set(Path(tempfile.gettempdir()).glob("eventwire-serve-*"))
    with serve_process(path, "--workers", "2") as served, httpx.Client(
        base_url=served.url, timeout=30
    ) as http:
        assert http.get("/api/health").json()["articles"] == len(ARTICLES)
        with eventwire.open(path, options=session_options) as store:
            spec = Spec("ASSAULT", "reported", "2020-12-13", None, "rebels", None,
                        "Rebels attacked a checkpoint.", 0.7)  # fmt: skip
            day = datetime(2020, 12, 13, tzinfo=UTC)
            store.add(Article(spec.sentence, title="checkpoint", published=day),
                      make_events(spec.sentence, [spec], day), pipeline_version="test")  # fmt: skip
        for _ in range(12):  # connections land on either process
            with httpx.Client(base_url=served.url, timeout=30) as fresh:
                body = fresh.get("/api/events", params={"q": "checkpoint"}).json()
                assert body["count"] == 1
        assert http.get("/api/health").json()["articles"] == len(ARTICLES) + 1
    assert set(Path(tempfile.gettempdir()).glob("eventwire-serve-*")) <= before


def test_serve_help_names_the_workers_option() -> None:
    done = run_serve("--help")
    assert "--workers" in done.stdout


@pytest.mark.parametrize("workers", ["1", "2"])
def test_copies_of_a_killed_server_are_swept_by_the_next(
    store_path: Path, tmp_path: Path, workers: str
) -> None:
    """A server killed with SIGKILL cannot remove its snapshot copies (several times the
    store's size); the next server started on the machine removes them, and leaves alone the
    directory of a server that still runs."""
    import signal

    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"TMPDIR": str(temp)}
    with serve_process(store_path, "--workers", workers, env=env) as killed:
        assert httpx.get(f"{killed.url}/api/health", timeout=10).status_code == 200
        left = sorted(temp.glob("eventwire-serve-*"))
        assert len(left) == 1 and any(left[0].glob("*.duckdb"))
        assert killed.process is not None
        children = _children(killed.process.pid)
        assert len(children) == int(workers) - (workers == "1")
        killed.process.send_signal(signal.SIGKILL)
        killed.process.wait()
    assert left[0].exists()  # nothing could clean up after SIGKILL
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in children):  # orphaned workers stop by themselves
        assert time.monotonic() < deadline, "workers outlived their killed supervisor"
        time.sleep(0.2)
    with serve_process(store_path, env=env) as alive:
        assert httpx.get(f"{alive.url}/api/health", timeout=10).status_code == 200
        mine = sorted(temp.glob("eventwire-serve-*"))
        assert left[0] not in mine and len(mine) == 1
        with serve_process(store_path, env=env) as second:
            assert httpx.get(f"{second.url}/api/health", timeout=10).status_code == 200
            assert mine[0].exists()  # the first server still runs: its copies stay
    assert not list(temp.glob("eventwire-serve-*"))


def _children(pid: int) -> list[int]:
    """Server processes whose parent is ``pid`` (from /proc; the resource tracker excluded)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and b"resource_tracker" not in cmdline:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
