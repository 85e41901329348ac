"""The gazetteer index: default build, lookups, transliteration keys, loaders and bad files."""

from __future__ import annotations

import sqlite3
import time
import zipfile
from importlib import resources
from multiprocessing import get_context
from pathlib import Path

import pytest

from eventwire.errors import GazetteerError
from eventwire.gazetteer import Gazetteer, haversine_km, normalise_name, phonetic_key

from .conftest import DATA

GAZ = DATA / "gazetteer"
WOF_SY = GAZ / "derived" / "wof_sy_geonames_format.tsv"
OCHA_CSV = GAZ / "ocha_syr" / "derived_csv" / "syr_populatedplaces.csv"
OCHA_XLSX = GAZ / "ocha_syr" / "syr_admin.xlsx"
ADMIN2 = GAZ / "geonames" / "admin2Codes.txt"


@pytest.fixture(scope="session")
def gazetteer(gazetteer_path: Path) -> Gazetteer:
    """The session's default index (built here if no other test built it first)."""
    return Gazetteer.open(gazetteer_path)


@pytest.fixture(scope="module")
def syria(gazetteer_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Gazetteer:
    """A copy of the default index with the shared Syria data loaded, as a user would."""
    Gazetteer.open(gazetteer_path).close()
    target = tmp_path_factory.mktemp("syria") / "gazetteer.sqlite"
    target.write_bytes(gazetteer_path.read_bytes())
    gaz = Gazetteer.open(target)
    gaz.add_geonames(WOF_SY)
    gaz.add_ocha(OCHA_CSV)
    return gaz


def _copy(gazetteer_path: Path, tmp_path: Path) -> Gazetteer:
    Gazetteer.open(gazetteer_path).close()
    target = tmp_path / "copy.sqlite"
    target.write_bytes(gazetteer_path.read_bytes())
    return Gazetteer.open(target)


# ----------------------------------------------------------------------- name keys
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Kafr A’wid", "Kafr ‘Uwayd"),
        ("Kafr A'wid", "Kfar Oweid"),
        ("Ain Issa", "‘Ayn ‘Īsá"),
        ("Ein Issa", "Ayn Isa"),
        ("Al-Bawabiya", "Bawabiyeh"),
        ("Talhia", "Ţalḩīyah"),
        ("Jabal al-Zawiya", "Jebel Zawiye"),
        ("Tell Abiad", "Tal Abyad"),
        ("Deir ez-Zor", "Dayr az Zor"),
        ("Idlib", "Idleb"),
    ],
)
def test_transliteration_variants_share_a_phonetic_key(a: str, b: str) -> None:
    assert phonetic_key(a) == phonetic_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("Idlib", "Aleppo"), ("Kafr Nabl", "Kafr Uwayd"), ("Barah", "Beirut"), ("Homs", "Hama")],
)
def test_different_places_keep_different_keys(a: str, b: str) -> None:
    assert phonetic_key(a) != phonetic_key(b)


def test_normalise_name_folds_case_diacritics_and_apostrophes() -> None:
    assert normalise_name("Kafr ‘Uwayd") == "kafr uwayd"
    assert normalise_name("Ra’s al ʿAyn") == "ras al ayn"
    assert normalise_name("  São-Paulo ") == "sao paulo"
    assert normalise_name("Straße") == "strasse"
    assert normalise_name("إدلب") == ""


def test_haversine_known_distance() -> None:
    # Damascus to Aleppo is about 310 km.
    assert 300 < haversine_km(33.5102, 36.29128, 36.20124, 37.16117) < 320


# ----------------------------------------------------------------------- default index
def test_default_index_resolves_capitals_and_countries(gazetteer: Gazetteer) -> None:
    damascus = gazetteer.candidates("Damascus")[0]
    assert (damascus.country, damascus.country_code, damascus.feature_code) == ("SYR", "SY",
                                                                               "PPLC")
    assert haversine_km(damascus.latitude, damascus.longitude, 33.51, 36.29) < 10
    syria = gazetteer.candidates("Syria")[0]
    assert syria.feature_code == "PCLI" and syria.country == "SYR"
    assert gazetteer.candidates("U.S.")[0].country == "USA"
    assert gazetteer.candidates("US")[0].match == "abbreviation"


def test_default_index_has_admin1_with_names(gazetteer: Gazetteer) -> None:
    idlib = [c for c in gazetteer.candidates("Idlib") if c.feature_code == "ADM1"]
    assert idlib and idlib[0].admin1 == "Idlib" and idlib[0].admin1_code == "12"
    city = [c for c in gazetteer.candidates("Idlib") if c.feature_class == "P"][0]
    assert city.admin1 == "Idlib"
    assert gazetteer.admin1_place("SYR", "12") == idlib[0]
    assert gazetteer.country_place("SY").name == "Syria"


def test_default_index_has_second_level_divisions(gazetteer: Gazetteer) -> None:
    cuyahoga = gazetteer.candidates("Cuyahoga County")[0]
    assert (cuyahoga.feature_code, cuyahoga.country_code, cuyahoga.admin1_code) == (
        "ADM2", "US", "OH")
    assert haversine_km(cuyahoga.latitude, cuyahoga.longitude, 41.43, -81.67) < 40
    # Without its generic word the division is found too, as an alternate name.
    assert any(c.place_id == cuyahoga.place_id and c.match == "alternate"
               for c in gazetteer.candidates("Cuyahoga"))
    kent = [c for c in gazetteer.candidates("Kent") if c.country_code == "GB"][0]
    assert kent.feature_code == "ADM2" and kent.admin1 == "England"
    ardeche = [c for c in gazetteer.candidates("Ardeche") if c.feature_code == "ADM2"]
    assert ardeche and ardeche[0].country == "FRA"


def test_large_divisions_stand_at_their_centre_not_where_their_towns_are(
    gazetteer: Gazetteer,
) -> None:
    from importlib import resources

    rows = resources.files("eventwire").joinpath("data/geo/admin1_centres.tsv").read_text()
    for line in rows.splitlines():
        if line.startswith("#") or not line:
            continue
        code, _, lat, lon = line.split("\t")
        cc, adm1 = code.split(".", 1)
        place = gazetteer.admin1_place(cc, adm1)
        assert place is not None, code
        assert (place.latitude, place.longitude) == (float(lat), float(lon)), code
    # Queensland's towns line its east coast; the state is far larger than that.
    qld = gazetteer.admin1_place("AU", "04")
    assert qld is not None and qld.longitude < 146


def test_regions_seas_rivers_and_islands_with_their_country(gazetteer: Gazetteer) -> None:
    java = [c for c in gazetteer.candidates("Java") if c.feature_code == "ISL"]
    assert java and java[0].country == "IDN" and java[0].feature_class == "T"
    # "River Nile" is also a state of Sudan: both are there.
    nile = {c.feature_code: c for c in gazetteer.candidates("River Nile")}
    assert nile["STM"].name == "Nile" and nile["STM"].feature_class == "H"
    assert nile["ADM1"].country == "SDN"
    ocean = gazetteer.candidates("Indian Ocean")[0]
    assert ocean.country is None and ocean.feature_code == "OCN"
    assert gazetteer.candidates("Cape Verde")[0].country == "CPV"


def test_busiest_airports_take_no_towns_names(gazetteer: Gazetteer) -> None:
    # regions.tsv lists the 50 busiest airports of 2019 (ACI World), none other.
    text = resources.files("eventwire").joinpath("data/geo/regions.tsv").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    airports = [row for row in rows if row[1] == "AIRP"]
    assert len(airports) == 50
    for name, _code, lat, lon, others, country in airports:
        top = gazetteer.candidates(name, phonetic=False)[0]
        assert (top.name, top.feature_code, top.country_code) == (name, "AIRP", country)
        assert haversine_km(top.latitude, top.longitude, float(lat), float(lon)) < 0.01
        # No other name of an airport is a division's or a town's of 10,000 people or more
        # ("Narita", "Incheon", "SeaTac"): written alone, those name the town.
        for other in [name, *others.split("|")]:
            towns = [
                (c.name, c.feature_code, c.population)
                for c in gazetteer.candidates(other, limit=25, phonetic=False)
                if c.feature_class == "A" or (c.feature_class == "P" and c.population >= 10_000)
            ]
            assert towns == [], other
    jfk = gazetteer.candidates("JFK Airport", phonetic=False)[0]
    assert jfk.name == "John F. Kennedy International Airport"
    assert not [c for c in gazetteer.candidates("Kennedy", limit=50) if c.feature_code == "AIRP"]


def test_a_doubled_letter_is_a_loose_spelling(gazetteer: Gazetteer) -> None:
    # "Bossaso" has a phonetic key too short to look up; without its doubled letter it is
    # Bosaso, found as a loose match.
    top = gazetteer.candidates("Bossaso")
    assert top and (top[0].name, top[0].match) == ("Bosaso", "phonetic")
    assert gazetteer.candidates("Bossaso", phonetic=False) == []


def test_state_and_province_abbreviations(gazetteer: Gazetteer) -> None:
    for abbrev, name in (("Calif.", "California"), ("NSW", "New South Wales"),
                         ("B.C.", "British Columbia"), ("Wash.", "Washington")):
        top = gazetteer.candidates(abbrev)[0]
        assert (top.name, top.feature_code, top.match) == (name, "ADM1", "abbreviation")


def test_a_country_has_one_capital(gazetteer: Gazetteer) -> None:
    capitals = [c for c in gazetteer.candidates("Washington", country="US", limit=100)
                if c.feature_code == "PPLC"]
    assert len(capitals) == 1 and capitals[0].admin1_code == "DC"


def test_index_is_rebuilt_for_a_new_builder_or_data_not_for_any_edit(
        gazetteer_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from eventwire import gazetteer as module

    Gazetteer.open(gazetteer_path).close()
    fingerprint = module.builder_fingerprint()
    assert not module._stale(gazetteer_path)
    # Editing the module (a comment, a docstring) keeps users' indexes.
    edited = tmp_path / "gazetteer.py"
    edited.write_text(Path(module.__file__).read_text("utf-8") + "\n# an edit\n", "utf-8")
    monkeypatch.setattr(module, "__file__", str(edited))
    module.builder_fingerprint.cache_clear()
    assert module.builder_fingerprint() == fingerprint
    # A new builder version makes the index stale, so open() rebuilds it.
    monkeypatch.setattr(module, "BUILDER_VERSION", module.BUILDER_VERSION + ".test")
    module.builder_fingerprint.cache_clear()
    try:
        assert module.builder_fingerprint() != fingerprint
        assert module._stale(gazetteer_path)
    finally:
        monkeypatch.undo()
        module.builder_fingerprint.cache_clear()
    assert module.builder_fingerprint() == fingerprint


def test_phonetic_lookup_is_the_second_chance(gazetteer: Gazetteer) -> None:
    exact = gazetteer.candidates("Ain Issa", country="SY", phonetic=False)
    assert exact == []
    found = gazetteer.candidates("Ain Issa", country="SY")
    assert found and found[0].match == "phonetic" and found[0].admin1 == "Ar-Raqqah"


def test_country_filter_accepts_alpha2_and_alpha3(gazetteer: Gazetteer) -> None:
    a = gazetteer.candidates("Damascus", country="US")
    b = gazetteer.candidates("Damascus", country="USA")
    assert a == b and a and all(c.country == "USA" for c in a)
    assert gazetteer.candidates("Damascus", country="ZZZ") == []


def test_codes_and_people_are_not_names(gazetteer: Gazetteer) -> None:
    # GeoNames lists airport codes (DAM, THR) among alternate names; they are not indexed.
    assert not any(c.name == "Damascus" for c in gazetteer.candidates("DAM"))
    assert gazetteer.candidates("SDF") == [] or all(
        c.match not in ("abbreviation",) for c in gazetteer.candidates("SDF")
    )


def test_info_lists_sources_and_counts(gazetteer: Gazetteer, gazetteer_path: Path) -> None:
    info = gazetteer.info()
    assert info["path"] == str(gazetteer_path)
    assert info["places"] > 230_000 and info["names"] > info["places"]
    assert sum(s["names"] for s in info["sources"]) == info["names"]
    kinds = {s["kind"] for s in info["sources"]}
    assert {"geonames", "geonames-admin1", "geonames-countries"} <= kinds
    assert info["built"] and info["schema"] == "1"


def test_open_is_fast_and_lookups_use_the_index(gazetteer_path: Path) -> None:
    Gazetteer.open(gazetteer_path).close()
    start = time.perf_counter()
    gaz = Gazetteer.open(gazetteer_path)
    assert time.perf_counter() - start < 0.5
    plan = " ".join(
        str(r) for r in gaz._db.execute(
            "EXPLAIN QUERY PLAN SELECT place FROM names WHERE norm = ?", ("idlib",)
        )
    )
    assert "names_norm" in plan
    start = time.perf_counter()
    for name in ("Aleppo", "Homs", "Hama", "Raqqa", "Latakia") * 20:
        gaz.lookup("norm", normalise_name(name) + "x")
    assert (time.perf_counter() - start) / 100 < 0.005
    gaz.close()


def _build(path: str) -> None:
    Gazetteer.open(path).close()


def test_two_processes_building_at_once_leave_one_good_index(tmp_path: Path) -> None:
    # One builder is a pool worker (daemonic, like Dask's); the other a plain process. Both
    # build at the same time; the last rename wins and the index is whole.
    target = tmp_path / "race" / "gazetteer.sqlite"
    ctx = get_context("spawn")
    proc = ctx.Process(target=_build, args=(str(target),))
    with ctx.Pool(1) as pool:
        pending = pool.apply_async(_build, (str(target),))
        proc.start()
        pending.get(300)
    proc.join(300)
    assert proc.exitcode == 0
    gaz = Gazetteer.open(target)
    assert gaz.candidates("Aleppo")[0].country == "SYR"
    assert not list(target.parent.glob("*.tmp"))


def test_not_an_index_is_refused_with_advice(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_text("this is not sqlite\n" * 100)
    with pytest.raises(GazetteerError, match="not a gazetteer index.*delete it"):
        Gazetteer.open(bogus)


def test_unwritable_folder_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(GazetteerError, match="cannot create the gazetteer index"):
        Gazetteer.open(blocker / "sub" / "gazetteer.sqlite")


# ----------------------------------------------------------------------- loaders
def test_add_geonames_brings_the_villages(syria: Gazetteer) -> None:
    barah = [c for c in syria.candidates("Barah", country="SY")]
    assert barah and haversine_km(barah[0].latitude, barah[0].longitude, 35.6853, 36.5419) < 3
    uwayd = syria.candidates("Kafr A’wid", country="SY")
    assert uwayd and uwayd[0].geonames_id == 168624 and uwayd[0].admin1 == "Idlib"
    sources = {s["name"]: s for s in syria.info()["sources"]}
    assert sources[WOF_SY.name]["places"] == 10_553
    assert sources[WOF_SY.name]["names"] > 10_000


def test_add_ocha_attaches_pcodes_to_the_same_places(syria: Gazetteer) -> None:
    uwayd = syria.candidates("Kafr ‘Uwayd", country="SY")[0]
    assert uwayd.pcode == "C4062" and uwayd.geonames_id == 168624
    ayn = [c for c in syria.candidates("‘Ayn ‘Īsá", country="SY") if c.geonames_id == 172134]
    assert ayn and ayn[0].pcode == "C5905"
    # A community OCHA knows that GeoNames (via WOF) does not is added, with its p-code.
    added = syria._db.execute(
        "SELECT count(*) FROM places WHERE source = 'ocha' AND pcode IS NOT NULL"
    ).fetchone()[0]
    assert added > 100


def test_add_geonames_reads_zip_and_updates_instead_of_duplicating(
    gazetteer_path: Path, tmp_path: Path
) -> None:
    gaz = _copy(gazetteer_path, tmp_path)
    before = gaz.info()["places"]
    lines = WOF_SY.read_text("utf-8").splitlines()[:50]
    archive = tmp_path / "SY.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "about")
        zf.writestr("SY.txt", "\n".join(lines) + "\n")
    assert gaz.add_geonames(archive) == 50
    gaz.add_geonames(archive)
    assert gaz.info()["places"] - before <= 50
    gid = int(lines[0].split("\t")[0])
    assert gaz._db.execute("SELECT count(*) FROM places WHERE geonames_id=?",
                           (gid,)).fetchone()[0] == 1


def test_add_admin2_codes_fills_names(gazetteer_path: Path, tmp_path: Path) -> None:
    gaz = _copy(gazetteer_path, tmp_path)
    assert gaz.add_geonames(ADMIN2) > 40_000
    assert gaz.info()["sources"][-1]["kind"] == "geonames-admin2"


def test_bad_geonames_row_names_file_and_line_and_leaves_index_usable(
    gazetteer_path: Path, tmp_path: Path
) -> None:
    gaz = _copy(gazetteer_path, tmp_path)
    before = gaz.info()["places"]
    good = WOF_SY.read_text("utf-8").splitlines()[:3]
    bad = good[2].split("\t")
    bad[4] = "north"
    bad_file = tmp_path / "bad.txt"
    bad_file.write_text("\n".join([*good[:2], "\t".join(bad)]) + "\n", "utf-8")
    with pytest.raises(GazetteerError, match=r"bad\.txt, line 3: bad number"):
        gaz.add_geonames(bad_file)
    assert gaz.info()["places"] == before
    assert gaz.candidates("Aleppo")[0].country == "SYR"
    short = tmp_path / "short.txt"
    short.write_text("\n".join([good[0], "1\t2\t3\t4\t5"]) + "\n", "utf-8")
    with pytest.raises(GazetteerError, match=r"short\.txt, line 2: 5 tab-separated columns"):
        gaz.add_geonames(short)
    assert gaz.info()["places"] == before


def test_unknown_format_and_missing_file_are_refused(gazetteer: Gazetteer, tmp_path: Path
                                                      ) -> None:
    weird = tmp_path / "weird.txt"
    weird.write_text("hello world\n")
    with pytest.raises(GazetteerError, match="line 1: unknown format"):
        gazetteer.add_geonames(weird)
    with pytest.raises(GazetteerError, match="cannot read"):
        gazetteer.add_geonames(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n")
    with pytest.raises(GazetteerError, match="no data rows"):
        gazetteer.add_geonames(empty)


def test_bad_ocha_table_is_refused_with_line(gazetteer_path: Path, tmp_path: Path) -> None:
    gaz = _copy(gazetteer_path, tmp_path)
    rows = OCHA_CSV.read_text("utf-8").splitlines()
    no_cols = tmp_path / "nocols.csv"
    no_cols.write_text("name,lat,lon\nA,1,2\n", "utf-8")
    with pytest.raises(GazetteerError, match="line 1: missing column"):
        gaz.add_ocha(no_cols)
    header = rows[0].split(",")
    broken = rows[3].split(",")
    broken[header.index("point_x")] = "east"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([rows[0], rows[1], rows[2], ",".join(broken)]) + "\n", "utf-8")
    with pytest.raises(GazetteerError, match=r"bad\.csv, line 4: point_x/point_y"):
        gaz.add_ocha(bad)
    assert not any(c.pcode for c in gaz.candidates("Al Kfeer", country="SY"))


def test_ocha_xlsx_sheet_loads_like_the_csv(gazetteer_path: Path, tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    gaz = _copy(gazetteer_path, tmp_path)
    assert gaz.add_ocha(OCHA_XLSX) == 8007
    bara = [c for c in gaz.candidates("Bara", country="SY") if c.pcode == "C4304"]
    assert bara and haversine_km(bara[0].latitude, bara[0].longitude, 35.6853, 36.5419) < 1


def test_index_file_is_a_plain_sqlite_database(gazetteer_path: Path) -> None:
    Gazetteer.open(gazetteer_path).close()
    conn = sqlite3.connect(gazetteer_path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"places", "names", "sources", "meta", "admin1", "countries"} <= tables
    conn.close()


def test_alternate_names_file_adds_names_to_known_places(gazetteer_path: Path, tmp_path: Path
                                                         ) -> None:
    gaz = _copy(gazetteer_path, tmp_path)
    assert not gaz.candidates("Idlibopolis", phonetic=False)
    alt = tmp_path / "alternateNames.txt"
    # alternateNameId, geonameid, isolanguage, alternate name, isPreferred, isShort, ...
    alt.write_text("1\t169389\ten\tIdlibopolis\t\t\t\t\n2\t169389\tlink\thttps://x\t\t\t\t\n",
                   "utf-8")
    assert gaz.add_geonames(alt) == 1
    found = gaz.candidates("Idlibopolis", phonetic=False)
    assert [c.geonames_id for c in found] == [169389]
    assert found[0].match == "alternate"


def test_other_names_of_first_level_divisions(gazetteer: Gazetteer) -> None:
    def division(name: str) -> tuple[str | None, str | None]:
        found = [c for c in gazetteer.candidates(name, phonetic=False) if c.feature_code == "ADM1"]
        assert found, name
        return found[0].country_code, found[0].name

    # Press spellings, names in the country's language, former divisions now inside one.
    assert division("Wardak") == ("AF", "Maidan Wardak Province")
    assert division("Metropolitana") == ("CL", "Santiago Metropolitan")
    assert division("Aust-Agder") == ("NO", "Agder")
    assert division("Rhone-Alpes") == ("FR", "Auvergne-Rhône-Alpes")
    # Generated for every division: the French points of the compass where French is
    # official, the compass adjective for the noun, the name without "Region of".
    assert division("Extreme-Nord") == ("CM", "Far North")
    assert division("Extrême-Nord") == ("CM", "Far North")
    assert division("Nord-Kivu") == ("CD", "North Kivu")
    assert division("South Darfur") == ("SD", "Southern Darfur")
    assert division("Magallanes") == ("CL", "Region of Magallanes")
    # Not in English-speaking countries: Nord is no name of Ghana's Northern Region.
    assert not [c for c in gazetteer.candidates("Nord", phonetic=False) if c.country_code == "GH"]


def test_second_level_names_lose_every_generic_word(gazetteer: Gazetteer) -> None:
    ilembe = [c for c in gazetteer.candidates("iLembe", phonetic=False) if c.country_code == "ZA"]
    assert ilembe and ilembe[0].feature_code == "ADM2"
    assert ilembe[0].name == "iLembe District Municipality"
