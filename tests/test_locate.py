"""Event location: the place where each event happened, on real parsed sentences."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eventwire.config import Options
from eventwire.eventplace import event_place
from eventwire.gazetteer import Gazetteer
from eventwire.geoparsing import find_toponyms
from eventwire.model import ActorMention, Article, Document, Event
from eventwire.nlp import load
from eventwire.pipeline import Pipeline


@pytest.fixture(scope="module")
def nlp() -> Any:
    return load(frozenset({"tagger", "parser", "attribute_ruler", "lemmatizer", "ner"}))


@pytest.fixture(scope="module")
def gaz(gazetteer_path: Path) -> Gazetteer:
    return Gazetteer.open(gazetteer_path)


def _event(doc: Any, trigger: str, nth: int = 0) -> Event:
    """An event on the sentence holding the ``nth`` occurrence of ``trigger``."""
    at = -1
    for _ in range(nth + 1):
        at = doc.text.index(trigger, at + 1)
    sent = doc.char_span(at, at + len(trigger), alignment_mode="expand")[0].sent
    return Event(
        event_type="ASSAULT",
        sentence=sent.text,
        start=sent.start_char,
        end=sent.end_char,
        trigger=trigger,
        trigger_start=at,
        trigger_end=at + len(trigger),
    )


def _place(
    nlp: Any, gaz: Gazetteer, text: str, trigger: str, actors: tuple[str, ...] = ()
) -> tuple[Any, str | None]:
    doc = nlp(text)
    spans = [(text.index(a), text.index(a) + len(a)) for a in actors]
    return event_place(doc, _event(doc, trigger), find_toponyms(doc, gaz), gaz, actor_spans=spans)


def test_the_place_attached_to_the_trigger_wins(nlp: Any, gaz: Gazetteer) -> None:
    place, precision = _place(
        nlp, gaz, "Officials in Kyiv said shelling hit a trolleybus in Donetsk on Thursday.", "hit"
    )
    assert place.text == "Donetsk" and precision == "exact place"


def test_actors_and_subjects_are_not_the_place(nlp: Any, gaz: Gazetteer) -> None:
    text = "Ankara accused Damascus of shelling civilians in Afrin."
    place, _ = _place(nlp, gaz, text, "shelling", actors=("Ankara", "Damascus"))
    assert place.text == "Afrin"
    text = "The militiamen, pressed from Damascus, attacked an army post in Homs."
    place, _ = _place(nlp, gaz, text, "attacked", actors=("Damascus",))
    assert place.text == "Homs"


def test_relative_expressions_keep_honest_precision(nlp: Any, gaz: Gazetteer) -> None:
    place, precision = _place(nlp, gaz, "Two soldiers were killed near Homs on Monday.", "killed")
    assert place.text == "Homs" and precision == "near place"
    text = (
        "The army pressed its offensive in southern Idlib. Rebels responded by attacking "
        "soldiers on the eastern edge of the province, towards Saraqib."
    )
    place, precision = _place(nlp, gaz, text, "attacking")
    assert (place.admin1, precision, place.country) == ("Idlib", "admin1", "SYR")


def test_no_place_in_the_sentence_falls_back_to_the_focus(nlp: Any, gaz: Gazetteer) -> None:
    text = (
        "Fighting raged in Maarat al-Numan and Saraqib in Idlib province on Sunday. "
        "Later, rebels fired rockets at an army post."
    )
    place, precision = _place(nlp, gaz, text, "fired")
    assert place is not None and place.country == "SYR"
    assert precision in ("admin1", "country")


def test_nothing_honest_to_say_gives_no_place(nlp: Any, gaz: Gazetteer) -> None:
    place, precision = _place(nlp, gaz, "The minister said the talks had failed.", "failed")
    assert place is None and precision is None


def test_locate_stage_on_constructed_document(options: Options, nlp: Any) -> None:
    pipeline = Pipeline(options, stages=("parse.spacy.v1", "toponyms.gazetteer.v1"))
    text = (
        "Turkish drones struck a convoy near Ain Issa in northern Syria. The SDF said two "
        "fighters died."
    )
    document = Document(Article(text=text))
    for st in pipeline.chain:
        st.fn(document, pipeline.context)
    document.actors = [
        ActorMention(text="SDF", start=text.index("SDF"), end=text.index("SDF") + 3, name="SDF")
    ]
    document.events = [_event(document.doc, "struck"), _event(document.doc, "died")]
    from eventwire.stages.locate import locate

    locate(document, pipeline.context)
    struck, died = document.events
    assert struck.place_text == "Ain Issa" and struck.geo_precision == "near place"
    assert struck.country == "SYR" and struck.latitude is not None
    assert died.country == "SYR" and died.geo_precision in ("admin1", "country")


def test_seed_article_through_the_full_pipeline(options: Options, seed_text: str) -> None:
    events = Pipeline(options).run(Article(text=seed_text))
    assert events
    placed = [e for e in events if e.country]
    assert placed, events
    # Nothing in this article happens outside Syria: no event is put in another country.
    assert {e.country for e in placed} == {"SYR"}
    for e in placed:
        assert e.geo_precision in ("exact place", "near place", "admin1", "country")
        assert e.place_start is not None and seed_text[e.place_start : e.place_end] == e.place_text
    by_trigger = {e.trigger: e for e in events}
    if "bombings" in by_trigger:
        bombing = by_trigger["bombings"]
        assert bombing.place_text == "Kafr A’wid" and bombing.admin1 in ("Idlib", None)
    if "attacking" in by_trigger:
        attack = by_trigger["attacking"]
        assert (attack.admin1, attack.geo_precision) == ("Idlib", "admin1")


def test_rockets_near_erbil_are_near_erbil_not_in_baghdad(options: Options) -> None:
    # The small model tags "Erbil" PRODUCT here; it was lost and the event fell back to the
    # dateline's Baghdad.
    text = (
        "BAGHDAD (Reuters) - Two rockets struck near Erbil international airport, which "
        "hosts US troops, Kurdish officials said. The government in Baghdad condemned the "
        "attack."
    )
    events = Pipeline(options).run(Article(text=text))
    struck = next(e for e in events if e.trigger == "struck")
    assert struck.place_text == "Erbil" and struck.geo_precision == "near place"
    assert struck.latitude is not None and struck.longitude is not None
    assert abs(struck.latitude - 36.19) < 0.2 and abs(struck.longitude - 44.01) < 0.2


@pytest.mark.parametrize(
    ("text", "trigger", "place"),
    [
        # the struck object of a verb of taking, over the area of the main clause
        (
            "The army launched an offensive in the northern Hama countryside on Monday, "
            "targeting the village of Zalaqiyat.",
            "targeting",
            "Zalaqiyat",
        ),
        # "the X area of rural Y": Y only says where X is
        (
            "Troops launched an assault inside the Bala Farms area of rural Damascus.",
            "launched",
            "Bala Farms",
        ),
        # a settlement "of" name is the place, its modifier the container
        ("An Israeli was shot near the West Bank town of Ramallah.", "shot", "Ramallah"),
        # a name the gazetteer lacks, plainly a place by its generic noun
        ("A bomb exploded in the Fdhiliyah neighborhood on Sunday.", "exploded", "Fdhiliyah"),
        # a sentence-initial preposition is no part of the name
        ("In Samarra, a merchant was killed by gunmen.", "killed", "Samarra"),
        # origins, dates and townships:
        # where people come from is not where they act
        (
            "Hundreds of students from Mosul protested in Erbil against the new law.",
            "protested",
            "Erbil",
        ),
        ("A nurse from Leeds was killed in Kabul on Tuesday.", "killed", "Kabul"),
        # a weekday the parser hung the name on
        ("Thousands of workers marched in Lyon Saturday against the reform.", "marched", "Lyon"),
        # the name of a township is the place, the island only says where it is
        (
            "Two soldiers were killed in the Patikul township on Jolo island.",
            "killed",
            "Patikul",
        ),
        # "X, a Harare township": the city only says where X is
        (
            "Police fired tear gas at a rally at Chitungwiza, a Harare township, on Monday.",
            "fired",
            "Chitungwiza",
        ),
        # objectives and distances:
        # the objective of an offensive is where it was fought
        (
            "Rebels launched an offensive on Monday to capture the town of Saraqib near the "
            "Aleppo highway.",
            "launched",
            "Saraqib",
        ),
        # "X, 60 km north of Y": Y only says where X is
        (
            "A car bomb was detonated on Monday when a patrol drove east of the city of "
            "Baqubah, 60 km north of Baghdad, killing a soldier.",
            "detonated",
            "Baqubah",
        ),
        # buildings, streets and the district named before:
        # a street or a building the gazetteer lacks is where the town written after it is
        (
            "A roadside bomb detonated near the al-Rasheed Street in central Baghdad on Monday.",
            "detonated",
            "Baghdad",
        ),
        (
            "Police patrolled outside the Imam Hussein Mosque in north Tehran on Friday.",
            "patrolled",
            "Tehran",
        ),
        # "the district" takes up the district the sentence has just named
        (
            "Five civilians were killed in fighting around the Aleppo neighbourhood of "
            "Salaheddine, as regime forces seized control of the district on Monday.",
            "seized",
            "Salaheddine",
        ),
        # a people's name before a quarter noun names no area
        (
            "Two policemen were killed when their patrol was targeted by a bomb in the "
            "traditional Sunni neighborhood of Mansour in west Baghdad.",
            "killed",
            "Mansour",
        ),
        # a name before a place noun is a place whatever the model calls it
        ("Two soldiers were killed in the Swat area on Monday.", "killed", "Swat"),
        # a later sentence inherits the town, not a namesake elsewhere
        (
            "On 27 April, in Niteroi, Rio de Janeiro, police carried out an operation in Morro "
            "do Estado, in Inga. A suspect was shot and died.",
            "shot",
            "Niteroi",
        ),
    ],
)
def test_clause_attachment(nlp: Any, gaz: Gazetteer, text: str, trigger: str, place: str) -> None:
    found, _ = _place(nlp, gaz, text, trigger)
    assert found is not None and found.text == place


def test_a_division_after_a_comma_or_in_brackets_only_says_where_the_place_is(
    nlp: Any, gaz: Gazetteer
) -> None:
    text = "On 3 March, gunmen attacked an army post in Leon de los Aldama, Guanajuato."
    place, precision = _place(nlp, gaz, text, "attacked")
    assert (place.name, place.country, precision) == ("León de los Aldama", "MEX", "exact place")
    text = "Police clashed with protesters in Sukkur city (Sukkur, Sindh) on Monday."
    place, precision = _place(nlp, gaz, text, "clashed")
    assert (place.name, place.admin1, precision) == ("Sukkur", "Sindh", "exact place")
    text = "Hundreds of people protested in Lahore city (Lahore, Punjab) on Friday."
    place, _ = _place(nlp, gaz, text, "protested")
    assert (place.name, place.country) == ("Lahore", "PAK")


def test_an_unknown_village_is_placed_at_the_division_written_after_it(
    nlp: Any, gaz: Gazetteer
) -> None:
    text = (
        "Suspected militants killed six civilians in the village of Gadabo (Anzourou, Tillaberi)."
    )
    place, precision = _place(nlp, gaz, text, "killed")
    assert place.text == "Gadabo"  # the name stays the text's
    assert (place.country, place.admin1, precision) == ("NER", "Tillabéri Region", "admin1")


def test_a_namesake_elsewhere_gives_way_to_the_written_hierarchy(nlp: Any, gaz: Gazetteer) -> None:
    text = "Five soldiers were killed as a bomb hit their vehicle in Buleda (Kech, Balochistan)."
    place, precision = _place(nlp, gaz, text, "killed")
    assert (place.text, place.country, precision) == ("Buleda", "PAK", "admin1")
    # A city is no namesake: the gazetteer only lacks this division's French name.
    text = "A gendarme shot a taxi driver in Bafoussam town (Mifi, Ouest) after a dispute."
    place, precision = _place(nlp, gaz, text, "shot")
    assert (place.name, place.country, precision) == ("Bafoussam", "CMR", "exact place")


def test_lists_of_places_are_no_hierarchy(nlp: Any, gaz: Gazetteer) -> None:
    doc = nlp("The band played in Arkansas, Oklahoma, Texas, Louisiana and Ontario.")
    resolved = {t.text: (t.name, t.geo_precision) for t in find_toponyms(doc, gaz)}
    assert resolved["Louisiana"] == ("Louisiana", "admin1")
    assert resolved["Texas"] == ("Texas", "admin1")


def test_an_unknown_square_is_near_the_town_the_sentence_names(nlp: Any, gaz: Gazetteer) -> None:
    text = (
        "On Friday, in La Plata (Buenos Aires), delivery workers went on a strike and "
        "protested in Moreno Square to demand masks."
    )
    place, precision = _place(nlp, gaz, text, "protested")
    assert (place.text, place.name, precision) == ("Moreno Square", "La Plata", "near place")


def test_a_sentence_without_places_inherits_the_one_place_before_it(
    nlp: Any, gaz: Gazetteer
) -> None:
    text = (
        "Dozens joined a car parade held in Cacak, Serbia, by an opposition party. "
        "They protested against the government."
    )
    place, precision = _place(nlp, gaz, text, "protested")
    assert (place.name, precision) == ("Čačak", "exact place")


def test_the_nearest_earlier_sentence_that_locates_things_is_inherited(
    nlp: Any, gaz: Gazetteer
) -> None:
    text = (
        "In Picsi, Lambayeque, prisoners staged a riot. They demanded their release. Six "
        "prisoners were killed by other inmates."
    )
    place, precision = _place(nlp, gaz, text, "killed")
    assert (place.name, place.admin1, precision) == ("Picsi", "Lambayeque", "exact place")
    text = (
        "In Surat, Gujarat, migrant workers protested outside the railway station. They "
        "demanded to go home. Police fired tear gas to disperse them."
    )
    place, precision = _place(nlp, gaz, text, "fired")
    assert (place.name, precision) == ("Surat", "exact place")


def test_forces_of_a_state_are_an_actor_not_the_place(nlp: Any, gaz: Gazetteer) -> None:
    text = (
        "Artillery of Armenia fired on the positions of the military forces of Azerbaijan "
        "assumed to be located near Tartar."
    )
    place, precision = _place(nlp, gaz, text, "fired")
    assert place.text == "Tartar" and precision == "near place"


def test_a_city_and_its_named_neighbourhood_give_the_neighbourhood(
    nlp: Any, gaz: Gazetteer
) -> None:
    text = "A car bomb exploded in Baghdad's mainly Shiite neighborhood of Kadhimiya."
    place, precision = _place(nlp, gaz, text, "exploded")
    assert place.text == "Kadhimiya" and place.name == "Baghdad" and precision == "near place"


def test_a_quarter_found_far_from_its_town_is_near_the_town(nlp: Any, gaz: Gazetteer) -> None:
    # The gazetteer's only Renascenca is ~2,500 km away: a namesake, not this quarter.
    text = "On Tuesday, in Teresina, Piaui, a man was shot dead in Renascenca neighborhood."
    place, precision = _place(nlp, gaz, text, "shot")
    assert (place.text, place.name, precision) == ("Renascenca", "Teresina", "near place")


def test_towns_including_named_ones_are_where_the_towns_are(nlp: Any, gaz: Gazetteer) -> None:
    text = "Rebels captured key towns in North Kivu, including Kanyabayonga and Lubero."
    place, precision = _place(nlp, gaz, text, "captured")
    assert place.text == "Kanyabayonga" and precision == "exact place"


def test_a_possessor_is_the_place_when_nothing_else_is(nlp: Any, gaz: Gazetteer) -> None:
    text = "Mexico's federal police chief was shot dead early Thursday outside his home."
    place, precision = _place(nlp, gaz, text, "shot")
    assert (place.text, precision) == ("Mexico", "country")


def test_a_capital_moved_through_is_a_place_not_its_state(nlp: Any, gaz: Gazetteer) -> None:
    # The actors stage takes a capital for its government; the route it is on is a place.
    text = "Thousands of students marched through Belgrade on Saturday."
    place, precision = _place(nlp, gaz, text, "marched", actors=("Belgrade",))
    assert (place.name, precision) == ("Belgrade", "near place")
    # "from" may still name a government.
    text = "The militiamen, pressed from Damascus, attacked an army post in Homs."
    place, _ = _place(nlp, gaz, text, "attacked", actors=("Damascus",))
    assert place.text == "Homs"


def test_a_name_written_after_a_village_is_the_division(nlp: Any, gaz: Gazetteer) -> None:
    text = "Shelling was reported near Orikhove, Luhansk, on Monday."
    place, _ = _place(nlp, gaz, text, "Shelling")
    assert (place.country, place.admin1) == ("UKR", "Luhansk")
    assert place.feature_code == "ADM1"


@pytest.mark.parametrize(
    ("text", "trigger", "place"),
    [
        # the model tags the capital as a person or an organisation; the preposition and
        # the gazetteer agree that it is the place
        (
            "A soldier was shot dead outside the regional capital, Grozny, on Monday.",
            "shot",
            "Grozny",
        ),
        (
            "Several hundred people demonstrated in the capital, Harare, on Friday.",
            "demonstrated",
            "Harare",
        ),
    ],
)
def test_a_name_attached_by_a_place_preposition_is_recovered(
    nlp: Any, gaz: Gazetteer, text: str, trigger: str, place: str
) -> None:
    doc = nlp(text)
    # whether the recogniser finds the name or not, the event is placed there
    found, precision = event_place(doc, _event(doc, trigger), find_toponyms(doc, gaz), gaz)
    assert found is not None and found.text == place and found.name is not None
    assert precision in ("exact place", "near place")


def test_an_unplaceable_village_falls_back_to_the_region_of_the_article(
    nlp: Any, gaz: Gazetteer
) -> None:
    text = (
        "Gunmen killed two farmers at Qxzlomvar on Monday. "
        "The attack was the third in Uttarakhand this month."
    )
    found, precision = _place(nlp, gaz, text, "killed")
    assert found is not None and found.text == "Qxzlomvar"  # its own text is kept
    assert found.admin1 == "Uttarakhand" and precision == "admin1"
    assert found.latitude is not None


def test_names_joined_by_commas_run_from_the_place_to_its_containers(
    nlp: Any, gaz: Gazetteer
) -> None:
    text = "Police fired at protesters in Bilsanda, Pilibhit (Uttar Pradesh) on Monday."
    found, _ = _place(nlp, gaz, text, "fired")
    assert found is not None and found.text == "Bilsanda"
    # a list closed by "and" is no hierarchy
    text = "Protesters marched in Lucknow, Kanpur and Agra on Monday."
    found, _ = _place(nlp, gaz, text, "marched")
    assert found is not None and found.text == "Lucknow"


def test_a_named_region_the_gazetteer_lacks_keeps_its_name(nlp: Any, gaz: Gazetteer) -> None:
    text = (
        "The army launched a new assault in the East Ghouta region of rural Damascus on "
        "Thursday, targeting the town of Harasta."
    )
    found, _ = _place(nlp, gaz, text, "launched")
    assert found is not None and found.text.startswith("East Ghouta")


def test_a_name_the_gazetteer_lacks_attached_by_at_is_the_place(nlp: Any, gaz: Gazetteer) -> None:
    text = "Government forces renewed their offensive at Sheikh Najjar on Monday."
    doc = nlp(text)
    assert not find_toponyms(doc, gaz)  # a title word starts the name: the recogniser skips it
    found, precision = event_place(doc, _event(doc, "renewed"), [], gaz)
    assert found is not None and found.text == "Sheikh Najjar" and precision is None
    # names of institutions are not places
    doc = nlp("Dozens of settlers protested outside the Prime Minister Office on Sunday.")
    found, _ = event_place(doc, _event(doc, "protested"), find_toponyms(doc, gaz), gaz)
    assert found is None or found.text != "Prime Minister Office"


def test_the_of_name_of_a_stronghold_is_a_place(nlp: Any, gaz: Gazetteer) -> None:
    text = (
        "A soldier was killed in a mortar attack near the rebel stronghold of Kafranbel, "
        "north of Hama."
    )
    found, _ = _place(nlp, gaz, text, "killed")
    assert found is not None and found.text == "Kafranbel"
    # but not the "of" name of a home or of what stands in front of something
    doc = nlp("Masked gunmen shot at the home of Ahmed Qurei on Monday.")
    found, _ = event_place(doc, _event(doc, "shot"), find_toponyms(doc, gaz), gaz)
    assert found is None


def test_divisions_and_posts_named_around_a_village(nlp: Any, gaz: Gazetteer) -> None:
    # "X village under Y police station in Z district (State)": at the finer division
    text = (
        "On 3 May, police fired at a crowd at Kharjuri village under Harnaut police station "
        "in Nalanda district (Bihar)."
    )
    found, precision = _place(nlp, gaz, text, "fired")
    assert found is not None and found.text.startswith("Kharjuri") and precision == "admin2"
    # "X community, Y municipality, Z department": near the known town Y
    text = "On 3 May, gunmen killed a farmer in La Loma community, Mercaderes municipality, Cauca."
    found, precision = _place(nlp, gaz, text, "killed")
    assert found is not None and found.text == "La Loma" and precision == "near place"
    assert found.name == "Mercaderes"
    # a check post named after its town is at the town
    text = "On 2 May, villagers threw stones at police at Halol check post (Panchmahal, Gujarat)."
    found, _ = _place(nlp, gaz, text, "threw")
    assert found is not None and found.text == "Halol"
