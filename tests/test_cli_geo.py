"""The geoparse, gazetteer and eval geoparse commands, as a user runs them."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from eventwire.cli import cli

from .conftest import DATA, SEED
from .http_server import LocalServer, Response

WOF_SY = DATA / "gazetteer" / "derived" / "wof_sy_geonames_format.tsv"
OCHA_CSV = DATA / "gazetteer" / "ocha_syr" / "derived_csv" / "syr_populatedplaces.csv"


@pytest.fixture(scope="module")
def syria_gazetteer(tmp_path_factory: pytest.TempPathFactory, gazetteer_path: Path) -> Path:
    """A copy of the session index with the Syria data added through the CLI, once."""
    if not gazetteer_path.exists():
        CliRunner().invoke(cli, ["--gazetteer", str(gazetteer_path), "gazetteer", "info"])
    path = tmp_path_factory.mktemp("syr") / "gazetteer.sqlite"
    shutil.copy(gazetteer_path, path)
    result = CliRunner().invoke(cli, ["--gazetteer", str(path), "gazetteer", "add",
                                      str(WOF_SY), str(OCHA_CSV)])
    assert result.exit_code == 0, result.output
    assert "10,553 rows loaded" in result.output and "8,007 rows loaded" in result.output
    return path


def _run(gazetteer: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--gazetteer", str(gazetteer), *args], input=input)


def test_info_lists_every_source(syria_gazetteer: Path) -> None:
    info = json.loads(_run(syria_gazetteer, "gazetteer", "info", "--format", "json").output)
    names = {s["name"] for s in info["sources"]}
    assert {"wof_sy_geonames_format.tsv", "syr_populatedplaces.csv"} <= names
    assert info["places"] > 240_000
    table = _run(syria_gazetteer, "gazetteer", "info").output
    assert "syr_populatedplaces.csv" in table and "built:" in table


def test_seed_villages_resolve_with_the_syria_data(syria_gazetteer: Path) -> None:
    result = _run(syria_gazetteer, "geoparse", str(SEED), "--format", "json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    text = SEED.read_text(encoding="utf-8")
    for t in found:
        assert text[t["start"]:t["end"]] == t["text"]
        assert t["country"] in (None, "SYR", "TUR", "RUS", "IRN", "ISR", "IRQ")
    by_text = {t["text"]: t for t in found if t["latitude"] is not None}
    kafr = next(v for k, v in by_text.items() if k.startswith("Kafr A"))
    assert abs(kafr["latitude"] - 35.63) < 0.1 and abs(kafr["longitude"] - 36.46) < 0.1
    assert kafr["pcode"] == "C4062"
    assert abs(by_text["Barah"]["latitude"] - 35.686) < 0.1


def test_geoparse_table_from_stdin(gazetteer_path: Path) -> None:
    result = _run(gazetteer_path, "geoparse", "-", input="Clashes erupted in Mosul and Kirkuk.")
    assert result.exit_code == 0
    assert "Mosul" in result.output and "IRQ" in result.output
    empty = _run(gazetteer_path, "geoparse", "-", input="nothing here at all")
    assert "no places" in empty.output


def test_bad_gazetteer_file_is_refused_and_the_index_still_works(
    syria_gazetteer: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "XX.txt"
    bad.write_text("1\tOnly\ttwo columns here\n" * 3)
    before = json.loads(_run(syria_gazetteer, "gazetteer", "info", "--format", "json").output)
    result = _run(syria_gazetteer, "gazetteer", "add", str(bad))
    assert result.exit_code == 1
    assert result.output.startswith("eventwire: error: ") and "XX.txt" in result.output
    assert "line 1" in result.output
    after = json.loads(_run(syria_gazetteer, "gazetteer", "info", "--format", "json").output)
    assert after["places"] == before["places"]


@pytest.fixture
def dump_server() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


def test_download_fetches_country_dumps_from_a_server(
    dump_server: LocalServer, gazetteer_path: Path, tmp_path: Path
) -> None:
    rows = WOF_SY.read_text(encoding="utf-8").splitlines()[:200]
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w") as zf:
        zf.writestr("SY.txt", "\n".join(rows) + "\n")
    dump_server.route("/dump/SY.zip", Response(body=payload.getvalue(),
                                                content_type="application/zip"))
    index = tmp_path / "g.sqlite"
    shutil.copy(gazetteer_path, index)
    result = _run(index, "gazetteer", "download", "sy", "--base-url",
                  dump_server.url("/dump"), "--dir", str(tmp_path / "dl"))
    assert result.exit_code == 0, result.output
    assert "SY.zip: 200 places loaded" in result.output
    assert (tmp_path / "dl" / "SY.zip").exists()
    assert dump_server.requests_to("/dump/SY.zip")[0].headers["User-Agent"].startswith(
        "eventwire/")
    missing = _run(index, "gazetteer", "download", "XK", "--base-url", dump_server.url("/dump"),
                   "--dir", str(tmp_path / "dl"))
    assert missing.exit_code == 1 and "404" in missing.output
    assert not (tmp_path / "dl" / "XK.zip").exists()
    bad = _run(index, "gazetteer", "download", "SYR")
    assert bad.exit_code == 1 and "alpha-2" in bad.output


def test_an_index_from_other_code_is_rebuilt_with_the_users_files(
    gazetteer_path: Path, tmp_path: Path
) -> None:
    index = tmp_path / "g.sqlite"
    shutil.copy(gazetteer_path, index)
    extra = tmp_path / "few.tsv"
    extra.write_text("\n".join(WOF_SY.read_text(encoding="utf-8").splitlines()[:50]) + "\n")
    assert _run(index, "gazetteer", "add", str(extra)).exit_code == 0
    with sqlite3.connect(index) as conn:
        conn.execute("UPDATE meta SET value = 'from-older-code' WHERE key = 'builder'")
    info = json.loads(_run(index, "gazetteer", "info", "--format", "json").output)
    assert "few.tsv" in {s["name"] for s in info["sources"]}
    with sqlite3.connect(index) as conn:
        builder = conn.execute("SELECT value FROM meta WHERE key = 'builder'").fetchone()[0]
    assert builder != "from-older-code"
    extra.unlink()
    with sqlite3.connect(index) as conn:
        conn.execute("UPDATE meta SET value = 'from-older-code' WHERE key = 'builder'")
    gone = _run(index, "gazetteer", "info")
    assert gone.exit_code == 1 and "few.tsv" in gone.output and "gazetteer add" in gone.output


def test_eval_geoparse_prints_resolution_and_recognition(gazetteer_path: Path) -> None:
    result = _run(gazetteer_path, "eval", "geoparse", "geovirus", "--limit", "5",
                  "--data", str(DATA), "--format", "json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["geovirus"]
    assert figures["n"] > 0 and 0.0 <= figures["accuracy_161km"] <= 1.0
    text = _run(gazetteer_path, "eval", "geoparse", "localnews", "--limit", "3",
                "--data", str(DATA))
    assert text.exit_code == 0, text.output
    assert "GPE.accuracy_161km" in text.output
