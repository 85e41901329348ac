"""The PLOVER ontology data and its ACLED/CAMEO mappings are complete and consistent."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from eventwire import ontology
from eventwire.errors import OptionsError

EXPECTED_TYPES = (
    "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
    "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT",
)  # fmt: skip


def _triggers() -> dict:
    return json.loads(resources.files("eventwire").joinpath("data/triggers.json").read_text())


def test_the_sixteen_plover_types() -> None:
    assert ontology.PLOVER_TYPES == EXPECTED_TYPES


@pytest.mark.parametrize("event_type", EXPECTED_TYPES)
def test_every_type_and_mode_maps_to_acled_and_cameo(event_type: str) -> None:
    for mode in (None, *ontology.modes(event_type)):
        acled_type, sub_type = ontology.to_acled(event_type, mode)
        assert sub_type in ontology.ACLED_SUB_EVENT_TYPES[acled_type]
        cameo = ontology.to_cameo(event_type, mode)
        assert len(cameo) == 2 and cameo.isdigit() and 1 <= int(cameo) <= 20


def test_every_acled_sub_event_type_is_reachable() -> None:
    reached = {
        ontology.to_acled(t, m) for t in ontology.PLOVER_TYPES for m in ontology.modes(t)
    } | {ontology.to_acled(t) for t in ontology.PLOVER_TYPES}
    wanted = {(t, s) for t, subs in ontology.ACLED_SUB_EVENT_TYPES.items() for s in subs}
    assert wanted - reached == set()
    assert len(wanted) == 25


def test_acled_event_types_are_the_six_of_the_codebook() -> None:
    assert set(ontology.ACLED_SUB_EVENT_TYPES) == {
        "Battles", "Explosions/Remote violence", "Violence against civilians", "Protests",
        "Riots", "Strategic developments",
    }  # fmt: skip


def test_specific_mappings() -> None:
    assert ontology.to_acled("ASSAULT", "aerial") == ("Explosions/Remote violence",
                                                      "Air/drone strike")  # fmt: skip
    assert ontology.to_acled("ASSAULT", "clash") == ("Battles", "Armed clash")
    assert ontology.to_acled("PROTEST", "riot") == ("Riots", "Violent demonstration")
    assert ontology.to_acled("COERCE", "arrest") == ("Strategic developments", "Arrests")
    assert ontology.to_acled("AGREE") == ("Strategic developments", "Agreement")
    assert ontology.to_cameo("CONSULT") == "04"
    assert ontology.to_cameo("ASSAULT", "chemical") == "20"
    assert ontology.to_acled("ASSAULT", "no-such-mode") == ontology.to_acled("ASSAULT")


def test_legacy_labels() -> None:
    assert ontology.normalise_type("disapprove") == "ACCUSE"
    assert ontology.normalise_type("FIGHT") == "ASSAULT"
    assert ontology.normalise_type("DEMAND") == "REQUEST"
    assert ontology.to_cameo("FIGHT") == "18"


def test_unknown_type_is_an_options_error() -> None:
    with pytest.raises(OptionsError, match="allowed: AGREE"):
        ontology.to_acled("PARADE")


def test_trigger_lexicon_only_uses_known_types_and_modes() -> None:
    data = _triggers()
    pairs = []
    for section in ("verbs", "nouns"):
        for spec in data[section].values():
            pairs.append((spec["type"], spec.get("mode")))
            for table in ("objects", "particles", "modifiers"):
                pairs.extend(tuple(v) for v in (spec.get(table) or {}).values())
    for table in data["retype_by_actor1_kind"].values():
        if isinstance(table, dict):
            pairs.extend(tuple(v) for v in table.values())
    for event_type, mode in pairs:
        assert event_type in ontology.PLOVER_TYPES
        assert mode is None or mode in ontology.modes(event_type), (event_type, mode)
    for table in ("mode_cues", "paragraph_cues"):
        for event_type, rows in data[table].items():
            if event_type.startswith("_"):
                continue
            for mode, _cues in rows:
                assert mode in ontology.modes(event_type)
    for name, spec in data["adjectives"].items():
        if not name.startswith("_"):
            assert spec["mode"] in ontology.modes(spec["type"])


def test_every_plover_type_has_triggers() -> None:
    data = _triggers()
    typed = {s["type"] for sec in ("verbs", "nouns") for s in data[sec].values()}
    assert typed == set(EXPECTED_TYPES)
