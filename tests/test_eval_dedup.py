"""Evaluation of report clustering: metrics, the generated test set, and the pinned floors."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from eventwire.config import Options
from eventwire.errors import InputError
from eventwire.evaluate.dedup import (
    ACLED_DEV,
    bcubed,
    evaluate,
    evaluate_pipeline,
    evaluate_splits,
    generate_reports,
    load_acled,
    pairwise,
)

#: Floors measured on the full ACLED development set (seed 13); raise them on purpose only.
#: Measured (cluster.blocked.v4, generator of 25 Nov 2026 16:30): B-cubed P 0.904 R 0.882
#: F1 0.893; pairwise P 0.788 R 0.814 F1 0.801. Of the +0.005 F1 over v3 (0.888; pairwise
#: P 0.787 R 0.797 F1 0.792), about +0.004 comes from the generator fix that codes a wire copy
#: with the date it states, the rest from relative date words no longer counted as shared
#: details (v2: B-cubed P 0.892 R 0.860 F1 0.876; pairwise F1 0.770). The generation is
#: seeded, so the figures only move when the code does. Until issue 6's second round, the
#: scores used the cluster id each report got when added, so reports of clusters merged later
#: were counted apart: that overstated precision (0.906 then for a true 0.883).
#: The issue's target is B-cubed F1 >= 0.9: not reached on this set yet.
FLOOR_BCUBED_F1 = 0.89
FLOOR_BCUBED_PRECISION = 0.9
FLOOR_PAIRWISE_F1 = 0.798
#: The same run scored on the reports of the ACLED rows in the held-out split only (errors
#: were studied on the dev split): B-cubed P 0.901 R 0.873 F1 0.887 (v3: 0.881, v2: 0.868).
FLOOR_TEST_SPLIT_BCUBED_F1 = 0.884

needs_acled = pytest.mark.skipif(not ACLED_DEV.is_file(), reason="ACLED dev data not present")


# ---------------------------------------------------------------------------- metrics


def test_metrics_on_a_hand_counted_example() -> None:
    gold = ["a", "a", "b", "b"]
    pred = [1, 1, 1, 2]
    # Pairs: predicted {01, 02, 12}, gold {01, 23}; shared {01}.
    assert pairwise(gold, pred) == pytest.approx((1 / 3, 1 / 2, 0.4))
    # B-cubed per item: precision 2/3, 2/3, 1/3, 1; recall 1, 1, 1/2, 1/2.
    p, r, f = bcubed(gold, pred)
    assert (p, r) == pytest.approx((2 / 3, 3 / 4))
    assert f == pytest.approx(2 * p * r / (p + r))


def test_metrics_of_one_split_count_errors_with_the_other() -> None:
    gold = ["a", "a", "b", "b"]
    pred = [1, 1, 1, 2]
    mask = [True, False, True, False]  # items 0 and 2 are scored
    # B-cubed: item 0 precision 2/3 recall 1; item 2 precision 1/3 recall 1/2.
    assert bcubed(gold, pred, mask)[:2] == pytest.approx((1 / 2, 3 / 4))
    # Pairs touching a scored item: predicted {01, 02, 12}, gold {01, 23}; shared {01}.
    assert pairwise(gold, pred, mask) == pytest.approx((1 / 3, 1 / 2, 0.4))
    assert bcubed(gold, pred, [True] * 4) == bcubed(gold, pred)
    assert pairwise(gold, pred, [True] * 4) == pairwise(gold, pred)
    with pytest.raises(ValueError):
        bcubed(gold, pred, [True])


def test_metrics_of_perfect_and_degenerate_clusterings() -> None:
    gold = ["a", "a", "b", "c", "c", "c"]
    assert bcubed(gold, gold) == (1.0, 1.0, 1.0)
    assert pairwise(gold, [g.upper() for g in gold]) == (1.0, 1.0, 1.0)
    singletons = list(range(len(gold)))
    p, r, _ = bcubed(gold, singletons)
    assert p == 1.0 and r == pytest.approx((1 / 2 * 2 + 1 + 1 / 3 * 3) / 6)
    assert pairwise(gold, singletons)[:2] == (1.0, 0.0)
    p, r, _ = bcubed(gold, [0] * len(gold))
    assert r == 1.0 and p == pytest.approx((2 * 2 / 6 + 1 / 6 + 3 * 3 / 6) / 6)
    with pytest.raises(ValueError):
        bcubed(["a"], [1, 2])
    assert bcubed([], []) == (1.0, 1.0, 1.0)


# ---------------------------------------------------------------------------- generator


def test_load_acled_rejects_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_acled(tmp_path / "missing.csv")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="not an ACLED export"):
        load_acled(other)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    if not ACLED_DEV.is_file():
        pytest.skip("ACLED dev data not present")
    return load_acled()


@needs_acled
def test_generator_is_deterministic_and_varied(rows: list[dict[str, str]]) -> None:
    sample = rows[:300]
    first = generate_reports(sample, seed=3)
    again = generate_reports(sample, seed=3)
    assert [r.event.to_dict() for r in first] == [r.event.to_dict() for r in again]
    other = generate_reports(sample, seed=4)
    assert [r.event.sentence for r in first] != [r.event.sentence for r in other]
    # Every real event has 1..6 reports, from distinct articles, in publication order.
    per_event = Counter(r.gold for r in first)
    assert set(per_event.values()) <= set(range(1, 7)) and max(per_event.values()) > 2
    assert len({r.event.article_id for r in first}) == len(first)
    published = [r.event.published for r in first]
    assert published == sorted(published)
    # Hard negatives are there, and reports vary what matters.
    assert any(r.sibling for r in first)
    by_gold = defaultdict(list)
    for r in first:
        by_gold[r.gold].append(r.event)
    varied_place = sum(len({e.place_text for e in evs}) > 1 for evs in by_gold.values())
    varied_precision = sum(len({e.geo_precision for e in evs}) > 1 for evs in by_gold.values())
    varied_sentence = sum(len({e.sentence for e in evs}) == len(evs) for evs in by_gold.values())
    assert varied_place > 10 and varied_precision > 10
    assert varied_sentence > 0.8 * len(by_gold)


@needs_acled
def test_siblings_are_near_their_real_event(rows: list[dict[str, str]]) -> None:
    reports = generate_reports(rows[:400], seed=8, sibling_share=1.0)
    golds = {r.gold for r in reports}
    siblings = {g for g in golds if g.endswith("-sib")}
    assert siblings and all(g.removesuffix("-sib") in golds for g in siblings)
    countries = defaultdict(set)
    for r in reports:
        countries[r.gold.removesuffix("-sib")].add(r.event.country)
    assert all(len(c) == 1 for c in countries.values())


# ---------------------------------------------------------------------------- quality gate


@needs_acled
def test_clustering_quality_on_the_acled_dev_set(rows: list[dict[str, str]]) -> None:
    splits = evaluate_splits(generate_reports(rows))
    scores = splits["all"]
    for split in splits.values():
        print("\n".join(split.lines()))
    assert splits["test"].bcubed_f1 >= FLOOR_TEST_SPLIT_BCUBED_F1
    assert splits["dev"].reports + splits["test"].reports == scores.reports
    assert evaluate(generate_reports(rows[:300]), split="test").split == "test"
    with pytest.raises(ValueError, match="unknown split"):
        evaluate(generate_reports(rows[:50]), split="holdout")
    assert scores.cross_country == 0
    assert scores.bcubed_f1 >= FLOOR_BCUBED_F1
    assert scores.bcubed_precision >= FLOOR_BCUBED_PRECISION
    assert scores.pairwise_f1 >= FLOOR_PAIRWISE_F1
    # Clustering must beat both trivial answers by a wide margin.
    golds = [r.gold for r in generate_reports(rows)]
    assert scores.bcubed_f1 > bcubed(golds, list(range(len(golds))))[2] + 0.1
    assert scores.bcubed_f1 > bcubed(golds, [r[:3] for r in golds])[2] + 0.1


# ---------------------------------------------------------------------------- end to end

#: Floors of the end-to-end check (generated article texts through the real pipeline).
#: Measured (cluster.blocked.v4, generator and stages of 25 Nov 2026 17:20): 179 articles,
#: 175 with events, 216 events; B-cubed P 0.973 R 0.570 F1 0.719 (v3: P 0.975 R 0.546 F1
#: 0.700; earlier: 168 with events, 217 events, P 0.989 R 0.487 F1 0.652).
#: Recall is bounded by the stages (events without a place or country, several events for
#: one report in one article), not by the clustering: see the report of issue 6.
FLOOR_E2E_BCUBED_F1 = 0.71
FLOOR_E2E_BCUBED_PRECISION = 0.95


@needs_acled
def test_end_to_end_through_the_real_pipeline(rows: list[dict[str, str]], options: Options) -> None:
    result = evaluate_pipeline(rows, options=options)
    print("\n".join(result.lines()))
    assert result.articles > 150
    assert result.with_events >= 0.85 * result.articles
    assert result.scores.cross_country == 0
    assert result.scores.bcubed_precision >= FLOOR_E2E_BCUBED_PRECISION
    assert result.scores.bcubed_f1 >= FLOOR_E2E_BCUBED_F1
    assert result.scores.clusters < result.events  # reports were merged
