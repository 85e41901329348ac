"""Clustering of reports: pair rules, incremental clusters, canonical records, DuckDB layer."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventwire import cluster
from eventwire.cluster import (
    Clusterer,
    ClusterParams,
    assign,
    canonical,
    cluster_events,
    compatible,
    credible_fatalities,
    load_clusters,
    migrate_clusters_v2,
    score,
)
from eventwire.config import Options
from eventwire.errors import OptionsError, StoreError
from eventwire.model import Article, Event
from eventwire.store import CLUSTERING_MIGRATIONS, Store

DAY = date(2020, 5, 9)
# Zholobok and Donetskyi (Luhansk): two villages 2.7 km apart, shelled on the same day.
ZHOLOBOK = (48.7146, 38.6996)
DONETSKYI = (48.6963, 38.6738)


def report(n: int, **changes: object) -> Event:
    """A report of a shelling of Zholobok, as one outlet's article would give it."""
    base = Event(
        event_type="ASSAULT",
        sentence="Ukrainian forces fired 120mm mortars at militia positions near Zholobok.",
        start=0,
        end=70,
        event_id=f"ev{n}",
        article_id=f"art{n}",
        url=f"https://outlet{n}.example/{n}",
        source=f"Outlet {n}",
        mode="shelling/artillery",
        actor1="Military Forces of Ukraine",
        actor1_text="Ukrainian forces",
        actor1_country="UKR",
        actor1_kind="state military",
        actor2="Luhansk People's Militia",
        actor2_text="militia",
        actor2_kind="rebels",
        place="Zholobok",
        place_text="Zholobok",
        latitude=ZHOLOBOK[0],
        longitude=ZHOLOBOK[1],
        admin1="Luhansk",
        admin2="Popasniansky",
        country="UKR",
        geo_precision="exact place",
        event_date=DAY,
        date_precision="day",
        published=datetime(2020, 5, 9, 12, tzinfo=UTC) + timedelta(hours=n),
        confidence=0.8,
    )
    return replace(base, **changes)


def neighbour(n: int, **changes: object) -> Event:
    """A distinct shelling of Donetskyi the same day by the same forces."""
    values: dict[str, object] = {
        "place": "Donetskyi",
        "place_text": "Donetskyi",
        "latitude": DONETSKYI[0],
        "longitude": DONETSKYI[1],
        "sentence": "Ukrainian forces fired 82mm mortars at militia positions near Donetskyi.",
    }
    return report(n, **{**values, **changes})


# ---------------------------------------------------------------------------- pair rules


def test_two_reports_of_one_shelling_match() -> None:
    a = report(1)
    b = report(
        2,
        place_text="Zholobek",
        latitude=ZHOLOBOK[0] + 0.004,  # another gazetteer entry, ~450 m away
        sentence="Militia positions at Zholobek came under 120mm mortar fire from the army.",
        actor1_text="the army",
    )
    s = score(a, b)
    assert s is not None and s >= ClusterParams.load().threshold


def test_neighbouring_villages_are_distinct_events() -> None:
    assert not compatible(report(1), neighbour(2))


def test_never_across_countries() -> None:
    assert not compatible(report(1), report(2, country="RUS"))
    assert not compatible(report(1), report(2, country=None))


@settings(max_examples=60, deadline=None)
@given(
    country=st.sampled_from(["RUS", "BLR", "POL", "SYR"]),
    lat=st.floats(-60, 60),
    lon=st.floats(-170, 170),
    shift=st.integers(-3, 3),
    precision=st.sampled_from(["exact place", "near place", "admin2", "admin1", "country"]),
)
def test_no_pair_across_countries_scores(
    country: str, lat: float, lon: float, shift: int, precision: str
) -> None:
    other = report(2, country=country, latitude=lat, longitude=lon, geo_precision=precision,
                   event_date=DAY + timedelta(days=shift))  # fmt: skip
    assert score(report(1), other) is None


def test_same_article_never_merges() -> None:
    assert not compatible(report(1), report(2, article_id="art1"))


@pytest.mark.parametrize(
    ("first", "second", "gap", "expected"),
    [
        ("day", "day", 0, True),
        ("day", "day", 2, False),
        ("day", "week", 3, True),
        ("day", "week", 5, False),
        ("week", "week", 6, True),
        ("month", "day", 14, True),
        ("month", "day", 20, False),
    ],
)
def test_date_window_depends_on_precision(
    first: str, second: str, gap: int, expected: bool
) -> None:
    a = report(1, date_precision=first)
    b = report(2, date_precision=second, event_date=DAY + timedelta(days=gap))
    assert compatible(a, b) is expected


def test_a_misread_day_needs_the_same_place_and_details() -> None:
    shifted = report(2, event_date=DAY + timedelta(days=1))
    assert compatible(report(1), shifted)  # same village, same wording
    vague = replace(shifted, sentence="The army shelled a village on Sunday.")
    assert not compatible(report(1), vague)


def test_relative_date_words_are_not_shared_details() -> None:
    a = report(1, sentence="Shelling hit Zholobok late last night, earlier this week.")
    b = report(2, sentence="Clashes in Zholobok overnight, in recent days.")
    ra, rb = cluster._Report.of(a, "a"), cluster._Report.of(b, "b")
    assert cluster._text_score(ra, rb) == 0.0


def test_stored_reports_score_as_new_ones() -> None:
    # A stored report keeps its words as a tuple (not tracked by the garbage collector); the
    # scores it gets, as a member or as a new report (cluster merges), are the same.
    clusterer = Clusterer()
    clusterer.add(report(1))
    stored = clusterer.members[clusterer.add(report(2))][0]
    assert isinstance(stored.text, tuple)
    fresh = cluster._Report.of(report(3), "ev3")
    as_set = cluster._pair(fresh, cluster._Report.of(report(1), "ev1"), clusterer.params)
    assert cluster._pair(fresh, stored, clusterer.params) == as_set
    assert cluster._pair(stored, stored.__class__.of(report(3), "x"), clusterer.params) == as_set


def test_contradicting_details_weigh_against_a_pair() -> None:
    base = score(report(1), report(2))
    assert base is not None
    by_air = score(report(1), report(2, mode="air strike"))
    unknown_mode = score(report(1), report(2, mode=None))
    assert by_air is not None and unknown_mode is not None
    assert by_air < unknown_mode <= base  # another means is evidence against, none is not
    nobody = score(report(1, fatalities=0), report(2, fatalities=3))
    untold = score(report(1, fatalities=None), report(2, fatalities=3))
    assert nobody is not None and untold is not None and nobody < untold


def test_one_report_naming_the_attacker_and_one_the_victim_is_no_contradiction() -> None:
    attacker = report(1, actor2=None, actor2_text=None, actor2_kind=None)
    victim = report(2, actor1=None, actor1_text=None, actor1_kind=None, actor1_country=None)
    silent = report(3, actor1=None, actor1_text=None, actor1_kind=None, actor1_country=None,
                    actor2=None, actor2_text=None, actor2_kind=None)  # fmt: skip
    # As if one of them named nobody: no evidence either way.
    assert score(attacker, victim) == score(attacker, silent)
    # The same role filled with two different actors is a contradiction.
    other = report(
        4,
        actor1="Wagner Group",
        actor1_text="mercenaries",
        actor1_kind="militia",
        actor1_country=None,
        actor2=None,
        actor2_text=None,
        actor2_kind=None,
    )
    rival = score(attacker, other)
    assert rival is not None and rival < score(attacker, victim)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("NAF: United Armed Forces of Novorossiya", "NAF: United Armed Forces of Noworossiia"),
        ("Al Shabaab", "Al Chabab"),
        ("Rio de Janeiro West Zone-Kala", "Rio de Janeiro West Zone Kala"),
        ("Kandahar", "Qandahar"),
        ("Chernivtsi", "Tchernivtsi"),
    ],
)
def test_romanisation_variants_of_a_name_meet(a: str, b: str) -> None:
    assert cluster._name_key(a) == cluster._name_key(b)
    assert cluster._actor_words(a, None) == cluster._actor_words(b, None)


def test_names_that_differ_stay_apart() -> None:
    assert cluster._name_key("Zholobok") != cluster._name_key("Donetskyi")
    assert cluster._name_key("Rafah") != cluster._name_key("Rahaf")


def test_a_place_spelt_another_way_a_little_further_off_is_the_same_place() -> None:
    respelt = report(2, place="Zholobock", place_text="Zholobock",
                     latitude=ZHOLOBOK[0] + 0.012)  # ~1.3 km: beyond same_place_km  # fmt: skip
    assert score(report(1), respelt) == score(report(1), report(2))


def test_place_distance_depends_on_precision() -> None:
    far = (ZHOLOBOK[0] + 0.3, ZHOLOBOK[1])  # ~33 km north, same district name
    province = report(2, geo_precision="admin1", place="Luhansk", latitude=48.57,
                      longitude=39.31, admin2=None)  # fmt: skip
    assert compatible(report(1), province)
    assert not compatible(report(1), replace(province, admin1="Donetsk"))
    district = report(2, geo_precision="admin2", place="Popasniansky", latitude=far[0],
                      longitude=far[1])  # fmt: skip
    assert compatible(report(1), district)
    assert not compatible(report(1), replace(district, admin2="Stanychno-Luhansky"))
    assert compatible(report(1), report(2, geo_precision="country", latitude=None,
                                        longitude=None, place=None))  # fmt: skip


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("ASSAULT", "ASSAULT", True),
        ("ASSAULT", "COERCE", True),
        ("ASSAULT", "PROTEST", False),
        ("CONSULT", "AGREE", True),
        ("THREATEN", "ASSAULT", False),
    ],
)
def test_type_compatibility(a: str, b: str, expected: bool) -> None:
    assert compatible(report(1, event_type=a), report(2, event_type=b)) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("reported", "ongoing", True),
        ("reported", "threatened", False),
        ("planned", "threatened", True),
        ("hypothetical", "hypothetical", False),
        ("negated", "reported", False),
    ],
)
def test_modality_compatibility(a: str, b: str, expected: bool) -> None:
    assert compatible(report(1, modality=a), report(2, modality=b)) is expected


def test_missing_date_never_merges() -> None:
    assert not compatible(report(1, event_date=None), report(2, event_date=None))


def test_bad_parameters_raise_options_error() -> None:
    with pytest.raises(OptionsError, match="params.toml"):
        ClusterParams.load("threshold = 0.5\n")


# ---------------------------------------------------------------------------- clusterer


def test_reports_join_one_cluster_and_distinct_events_stay_apart() -> None:
    clusters = cluster_events([report(1), neighbour(2), report(3), neighbour(4), report(5)])
    partition = sorted(sorted(e.event_id for e in ms) for ms in clusters.values())
    assert partition == [["ev1", "ev3", "ev5"], ["ev2", "ev4"]]
    sizes = {e.event_id: e.report_count for ms in clusters.values() for e in ms}
    assert sizes == {"ev1": 3, "ev3": 3, "ev5": 3, "ev2": 2, "ev4": 2}


def test_a_province_report_does_not_bridge_two_villages() -> None:
    province = report(
        2,
        geo_precision="admin1",
        place="Luhansk",
        place_text="Luhansk region",
        latitude=48.57,
        longitude=39.31,
        admin2=None,
        sentence="Ukrainian forces fired 120mm mortars in Luhansk region.",
    )
    clusterer = Clusterer()
    first = clusterer.add(report(1))
    assert clusterer.add(province) == first
    assert clusterer.add(neighbour(3)) != first


def test_an_ambiguous_vague_report_stays_alone() -> None:
    clusterer = Clusterer()
    a = clusterer.add(report(1, sentence="Shelling was reported."))
    b = clusterer.add(neighbour(2, sentence="Shelling was reported."))
    assert a != b
    province = report(3, geo_precision="admin1", place="Luhansk", latitude=48.57,
                      longitude=39.31, admin2=None, sentence="Shelling was reported.")  # fmt: skip
    assert clusterer.add(province) not in (a, b)


def test_a_misdated_member_does_not_keep_out_reports_that_agree_with_the_rest() -> None:
    clusterer = Clusterer()
    first, second = report(1), report(2)
    # Same village and wording as the other two, a day off ("yesterday" misread).
    misdated = report(3, event_date=DAY + timedelta(days=1))
    ids = {clusterer.add(e) for e in (first, second, misdated)}
    assert len(ids) == 1
    # Terse, on the right day: the misdated member alone would rule it out.
    terse = report(4, sentence="The army shelled Zholobok.", mode=None)
    assert not compatible(misdated, terse)
    assert clusterer.add(terse) in ids
    # A report that agrees with the misdated member only stays out.
    lone = Clusterer()
    assert lone.add(report(5)) != lone.add(
        replace(terse, event_id="ev6", article_id="art6", event_date=DAY + timedelta(days=1))
    )


def test_a_precise_report_merges_two_clusters_of_one_event() -> None:
    clusterer = Clusterer()
    a = clusterer.add(report(1, actor1=None, actor1_text=None, actor2=None, actor2_text=None,
                             sentence="Shelling was heard in Zholobok."))  # fmt: skip
    district = report(
        2,
        geo_precision="admin2",
        place="Popasniansky",
        latitude=48.63,
        longitude=38.37,
        sentence="Mortar rounds landed in Popasna district.",
        date_precision="week",
        event_date=DAY + timedelta(days=2),
    )
    b = clusterer.add(district)
    assert a != b
    joined = clusterer.add(report(3, sentence="Mortar rounds: shelling heard in Zholobok."))
    assert joined == a  # the id of the first report (ev1)
    assert clusterer.merged == {b: a}
    assert sorted(e.event_id for e in clusterer.cluster_of(a)) == ["ev1", "ev2", "ev3"]
    assert district.cluster_id == a


def test_blocks_hold_only_nearby_reports_of_the_same_country_and_time() -> None:
    rng = random.Random(4)
    clusterer = Clusterer()
    for n in range(3000):
        clusterer.add(
            report(
                100 + n,
                country=rng.choice(["UKR", "RUS", "MEX"]),
                event_date=DAY + timedelta(days=rng.randint(-300, 300)),
                latitude=ZHOLOBOK[0] + rng.uniform(-3, 3),
                longitude=ZHOLOBOK[1] + rng.uniform(-3, 3),
            )  # fmt: skip
        )
    probe = report(1)
    block = clusterer.block(probe)
    assert len(block) < 60  # of 3,000
    assert all(e.country == "UKR" for e in block)
    assert all(abs((e.event_date - DAY).days) <= 2 for e in block)
    assert all(abs(e.latitude - ZHOLOBOK[0]) < 1 for e in block)


def test_a_cluster_is_named_by_its_first_report_whatever_the_order() -> None:
    def ids(order: list[int]) -> dict[str, str | None]:
        make = {1: report, 2: neighbour, 3: report, 4: neighbour, 5: report}
        events = [make[n](n) for n in order]
        cluster_events(events)
        return {e.event_id or "": e.cluster_id for e in events}

    first = ids([1, 2, 3, 4, 5])  # the first published report (ev1, ev2) names each
    assert first["ev1"] == first["ev3"] == first["ev5"] == "cev1"
    assert first["ev2"] == first["ev4"] == "cev2"
    for order in ([5, 4, 3, 2, 1], [3, 5, 4, 1, 2], [4, 5, 2, 3, 1]):
        assert ids(order) == first


def test_later_reports_never_rename_a_cluster_whatever_their_keys() -> None:
    # A live feed: each new report is published after the cluster's first one, so the id a
    # user saw (in the API, an export) stays valid, even when the newcomer's key sorts first.
    clusterer = Clusterer()
    assert clusterer.add(report(5)) == "cev5"
    follow_up = report(2, published=datetime(2020, 5, 10, 9, tzinfo=UTC))
    assert clusterer.add(follow_up) == "cev5" == follow_up.cluster_id
    assert clusterer.merged == {}


def test_an_earlier_report_arriving_late_renames_its_cluster() -> None:
    clusterer = Clusterer()
    assert clusterer.add(report(5)) == "cev5"
    assert clusterer.add(report(7)) == "cev5"
    late = report(2)
    assert clusterer.add(late) == "cev2" == late.cluster_id
    assert clusterer.merged == {"cev5": "cev2"}
    assert [e.cluster_id for e in clusterer.cluster_of("cev2")] == ["cev2"] * 3
    assert "cev5" not in clusterer.members


def test_a_riot_may_be_coded_as_an_assault() -> None:
    riot = report(1, event_type="PROTEST", mode="riot", actor1="rioters", actor1_text="a mob",
                  actor1_kind="rioters", actor1_country=None)  # fmt: skip
    assault = report(2, mode=None, actor1="rioters", actor1_text="rioters",
                     actor1_kind="rioters", actor1_country=None)  # fmt: skip
    assert compatible(riot, assault)
    rally = replace(riot, mode="demonstration", actor1="protesters", actor1_text="protesters",
                    actor1_kind="protesters")  # fmt: skip
    assert not compatible(rally, assault)


def test_clustering_is_deterministic() -> None:
    def run() -> list[str | None]:
        events = [report(1), neighbour(2), report(3), neighbour(4)]
        cluster_events(events)
        return [e.cluster_id for e in events]

    assert run() == run()


# ---------------------------------------------------------------------------- canonical


def test_credible_fatalities() -> None:
    assert credible_fatalities([]) is None
    assert credible_fatalities([None, None]) is None
    assert credible_fatalities([2, 40]) == 40  # two figures: no way to tell an outlier
    assert credible_fatalities([2, 3, 40]) == 3  # a cumulative toll read as this event's
    assert credible_fatalities([5, 6, 7, 8]) == 8


def test_canonical_takes_the_most_precise_place_and_date() -> None:
    members = [
        report(1, geo_precision="admin1", place="Luhansk", latitude=48.57, longitude=39.31,
               fatalities=2, date_precision="week", event_date=DAY - timedelta(days=2)),
        report(2, fatalities=3, source="Outlet B"),
        report(3, fatalities=30, url="https://c.example/x", source=None),
        report(4, fatalities=None, article_id="art2", source="Outlet B"),
    ]  # fmt: skip
    for m in members:
        m.cluster_id = "c1"
    record = canonical(members)
    assert record.place == "Zholobok" and record.geo_precision == "exact place"
    assert record.event_date == DAY and record.date_precision == "day"
    assert record.fatalities == 3
    assert record.report_count == 3  # art1, art2 (twice), art3
    assert record.source == "Outlet 1, Outlet B, c.example"
    assert record.cluster_id == "c1"
    with pytest.raises(ValueError):
        canonical([])


def test_canonical_record_does_not_depend_on_the_order_of_members() -> None:
    # Every field ties (one report each): the earliest report wins, whatever the order.
    members = [
        report(1, actor1="Military Forces of Ukraine", fatalities=1),
        report(2, actor1="Ukrainian Armed Forces", actor1_text="the army", fatalities=1),
        report(3, actor1="Armed Forces", actor1_text="soldiers", place_text="Zholobek"),
    ]
    for m in members:
        m.cluster_id = "cev1"
    want = canonical(members).to_dict()
    assert want["actor1"] == "Military Forces of Ukraine"
    for order in ([2, 1, 0], [1, 2, 0], [2, 0, 1]):
        assert canonical([members[i] for i in order]).to_dict() == want


def test_a_shared_toll_is_evidence_and_a_lone_vague_report_needs_no_detail() -> None:
    a, b = report(1, fatalities=4), report(2, fatalities=4)
    same = score(a, b)
    unknown = score(a, replace(b, fatalities=None))
    assert same is not None and unknown is not None and same > unknown
    # A province-level report without a shared detail joins the one cluster of its block...
    province = report(3, geo_precision="admin1", place="Luhansk", place_text="Luhansk region",
                      latitude=48.57, longitude=39.31, admin2=None,
                      sentence="Clashes were reported.")  # fmt: skip
    clusterer = Clusterer()
    first = clusterer.add(report(1, sentence="Mortars hit Zholobok school."))
    assert clusterer.add(province) == first
    # ...but not when another cluster of the block is compatible too.
    clusterer = Clusterer()
    clusterer.add(report(1, sentence="Mortars hit Zholobok school."))
    clusterer.add(neighbour(2, sentence="Shells damaged a Donetskyi bridge."))
    assert clusterer.add(replace(province, event_id="ev4", article_id="art4")) == "cev4"


# ---------------------------------------------------------------------------- DuckDB


def open_store(options: Options) -> Store:
    """A real store file with the clustering schema: every add clusters the article."""
    assert migrate_clusters_v2 in CLUSTERING_MIGRATIONS
    return Store(options.db, options=options, migrations=CLUSTERING_MIGRATIONS)


def add(store: Store, events: list[Event], n: int) -> None:
    """Store one article's events: the store clusters them in the article's transaction."""
    article = Article(text=f"article {n} " + " ".join(e.sentence for e in events),
                      url=f"https://outlet.example/{n}", source=f"Outlet {n}",
                      published=events[0].published)  # fmt: skip
    for e in events:
        e.article_id = article.article_id
    assert store.add(article, events)


def test_migration_clusters_existing_events(options: Options) -> None:
    path = options.db
    with Store(path, options=options) as store:  # schema v1
        for n, event in enumerate([report(1), neighbour(2), report(3)]):
            article = Article(text=f"text {n}", published=event.published)
            event.article_id = article.article_id
            store.add(article, [event])
    with open_store(options) as store:
        rows = store.conn.execute(
            "SELECT event_id, cluster_id, report_count FROM events ORDER BY event_id"
        ).fetchall()
        count = store.conn.execute("SELECT count(*) FROM clusters").fetchone()
    ids = {r[0]: r[1] for r in rows}
    assert ids["ev1"] == ids["ev3"] != ids["ev2"]
    assert {r[0]: r[2] for r in rows} == {"ev1": 2, "ev2": 1, "ev3": 2}
    assert count == (2,)
    # Idempotent: running it again changes nothing.
    conn = duckdb.connect(str(path))
    migrate_clusters_v2(conn)
    assert conn.execute("SELECT count(*) FROM clusters").fetchone() == (2,)
    conn.close()


def test_assign_joins_stored_clusters_and_updates_counts(options: Options) -> None:
    with open_store(options) as store:
        add(store, [report(1)], 1)
        add(store, [neighbour(2), report(90, country="RUS", event_id="ev90")], 2)
        add(store, [report(3, source="Outlet 3")], 3)
        rows = dict(store.conn.execute("SELECT event_id, report_count FROM events").fetchall())
        assert rows == {"ev1": 2, "ev2": 1, "ev3": 2, "ev90": 1}
        clusters = load_clusters(store.conn)
        assert [c.report_count for c in clusters] == [2, 1, 1]
        top = clusters[0]
        first = store.conn.execute("SELECT cluster_id FROM events WHERE event_id = 'ev1'")
        assert top.cluster_id == first.fetchone()[0] and top.place == "Zholobok"
        assert top.source == "Outlet 1, Outlet 3"
        sources = store.conn.execute(
            "SELECT sources, event_ids FROM clusters WHERE cluster_id = ?", [top.cluster_id]
        ).fetchone()
        assert sources == (["Outlet 1", "Outlet 3"], ["ev1", "ev3"])
        only_rus = load_clusters(store.conn, "country = ?", ["RUS"])
        assert [c.event_id for c in only_rus] == ["ev90"]


@pytest.mark.parametrize("batch", [0, 40])
def test_assign_equals_in_memory_clustering(options: Options, batch: int) -> None:
    """The store only reads each article's block, yet finds the clusters a full in-memory
    pass finds: blocking loses nothing. ``batch``: articles per transaction (0: one ``add``
    each, whose few events read their blocks with range queries; 40: ``add_many``, whose many
    events share one join)."""
    from eventwire.evaluate.dedup import generate_reports, load_acled

    rows = [r for r in load_acled() if r["iso3"] in ("UKR", "IND")][:90]
    reports = generate_reports(rows, seed=5)
    expected = cluster_events([replace(r.event) for r in reports])
    want = sorted(sorted(e.event_id for e in ms) for ms in expected.values())
    items = [
        (Article(text=f"report {n}", published=r.event.published),
         [replace(r.event, cluster_id=None, article_id=None)])
        for n, r in enumerate(reports)
    ]  # fmt: skip
    with open_store(options) as store:
        if batch:
            assert store.add_many(items, batch_articles=batch) == len(items)
        else:
            assert all(store.add(article, events) for article, events in items)
        got = store.conn.execute(
            "SELECT list(event_id ORDER BY event_id) FROM events GROUP BY cluster_id"
        ).fetchall()
        counts = store.conn.execute(
            "SELECT count(*) FROM events e JOIN clusters c USING (cluster_id) "
            "WHERE e.report_count <> c.report_count OR len(c.event_ids) <> c.report_count"
        ).fetchone()
    assert sorted(g[0] for g in got) == want
    assert len(want) < len(reports)  # some reports were merged
    assert counts == (0,)  # every member carries its cluster's count


def test_assign_clusters_the_given_events_in_memory_too(options: Options) -> None:
    with Store(options.db, options=options) as store:  # schema v1: no clustering on add
        conn = store.conn
        migrate_clusters_v2(conn)
        events = [report(1), report(2)]
        for e in events:
            a = Article(text=e.event_id or "", published=e.published)
            store.add(a, [replace(e, article_id=a.article_id)])
            e.article_id = store.conn.execute(
                "SELECT article_id FROM events WHERE event_id = ?", [e.event_id]
            ).fetchone()[0]
        conn.execute("BEGIN TRANSACTION")
        assign(conn, events)
        conn.execute("COMMIT")
    assert events[0].cluster_id == events[1].cluster_id
    assert [e.report_count for e in events] == [2, 2]


def test_assign_reports_database_errors_as_store_errors() -> None:
    conn = duckdb.connect()
    with pytest.raises(StoreError, match="cannot cluster"):
        assign(conn, [report(1)])
    with pytest.raises(StoreError, match="cannot read clusters"):
        load_clusters(conn)


def test_assign_with_nothing_to_do() -> None:
    conn = duckdb.connect()
    assign(conn, [])  # no query at all
    assert cluster.CLUSTER_COLUMNS[0] == ("cluster_id", "VARCHAR")


def test_stored_clusters_do_not_depend_on_the_order_articles_arrive_in(
    options: Options, tmp_path: Path
) -> None:
    """Workers store articles in the order they finish: the same articles must give the same
    rows, cluster ids included; a stored cluster is renamed when an earlier report joins it."""
    events = [report(3), neighbour(2), report(1), neighbour(4), report(5)]

    def ingest(order: list[int], name: str) -> list[tuple[object, ...]]:
        with Store(tmp_path / name, options=options, migrations=CLUSTERING_MIGRATIONS) as store:
            for i in order:
                e = replace(events[i], cluster_id=None, report_count=None)
                article = Article(text=f"article {e.event_id}", published=e.published)
                e.article_id = article.article_id
                assert store.add(article, [e])
            rows = store.conn.execute(
                "SELECT event_id, cluster_id, report_count FROM events ORDER BY event_id"
            ).fetchall()
            clusters = store.conn.execute(
                "SELECT cluster_id, event_ids FROM clusters ORDER BY cluster_id"
            ).fetchall()
        assert [(c, sorted(ids)) for c, ids in clusters] == [
            ("cev1", ["ev1", "ev3", "ev5"]),
            ("cev2", ["ev2", "ev4"]),
        ]
        return rows

    first = ingest([0, 1, 2, 3, 4], "a.duckdb")  # ev3's cluster becomes cev1 when ev1 joins
    assert first == ingest([4, 3, 2, 1, 0], "b.duckdb") == ingest([2, 0, 3, 4, 1], "c.duckdb")
    assert first == [("ev1", "cev1", 3), ("ev2", "cev2", 2), ("ev3", "cev1", 3),
                     ("ev4", "cev2", 2), ("ev5", "cev1", 3)]  # fmt: skip


def test_store_add_clusters_reports(options: Options) -> None:
    with open_store(options) as store:
        for n, event in enumerate([report(1), neighbour(2), report(3)]):
            article = Article(text=f"wired {n}", published=event.published)
            event.article_id = article.article_id
            store.add(article, [event])
        rows = dict(store.conn.execute("SELECT event_id, report_count FROM events").fetchall())
    assert rows == {"ev1": 2, "ev2": 1, "ev3": 2}
