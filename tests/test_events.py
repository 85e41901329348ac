"""events.lexicon.v1 on sentences written for these tests, through the real pipeline."""

from __future__ import annotations

from datetime import date

import pytest

from eventwire.config import Options
from eventwire.model import Article, Event
from eventwire.pipeline import Pipeline
from eventwire.stages.events import fatalities_in, sentence_units

STAGES = ("parse.spacy.v1", "actors.aliases.v1", "events.lexicon.v1", "dates.relative.v1")
PUBLISHED = "2020-12-10"


@pytest.fixture(scope="module")
def pipeline(session_options: Options) -> Pipeline:
    return Pipeline(session_options, stages=STAGES)


def code(pipeline: Pipeline, text: str) -> list[Event]:
    from eventwire.dates import parse_published

    return pipeline.run(Article(text, published=parse_published(PUBLISHED), url="u"))


def only(events: list[Event]) -> Event:
    assert len(events) == 1, [(e.event_type, e.trigger) for e in events]
    return events[0]


# one sentence per PLOVER type: (text, type, actor1, actor2)
PER_TYPE = [
    ("Egypt and Israel signed a ceasefire agreement in Cairo.", "AGREE", "Egypt", "Israel"),
    ("The Iranian foreign minister met his Iraqi counterpart in Baghdad.", "CONSULT", "Iran",
     "Iraq"),
    ("France praised the decision of the Malian government to hold elections.", "SUPPORT",
     "France", "Mali"),
    ("The government released 200 political prisoners.", "CONCEDE", "Government",
     "Civilians"),
    ("Turkey and Azerbaijan cooperate closely on border security.", "COOPERATE", "Turkey",
     "Azerbaijan"),
    ("Japan sent humanitarian aid to the Philippines after the typhoon.", "AID", "Japan",
     "Philippines"),
    ("Russian troops withdrew from the northern town after heavy losses.", "RETREAT", "Russia",
     None),
    ("The opposition called for the resignation of the prime minister.", "REQUEST",
     "Opposition", None),
    ("Pakistan accused India of violating the ceasefire.", "ACCUSE", "Pakistan", "India"),
    ("Hamas rejected the Egyptian proposal for a truce.", "REJECT", "Hamas", None),
    ("North Korea threatened to strike American bases.", "THREATEN", "North Korea",
     "United States"),
    ("Thousands of protesters marched through the capital.", "PROTEST", "Protesters", None),
    ("The European Union imposed sanctions on Belarusian officials.", "SANCTION",
     "European Union", "Belarus"),
    ("Nigeria deployed troops to the north-east.", "MOBILIZE", "Nigeria", None),
    ("Police arrested 12 suspected members of Boko Haram in Maiduguri.", "COERCE", "Police",
     "Boko Haram"),
    ("Israeli warplanes struck Hamas targets in Gaza, killing 4 people.", "ASSAULT", "Israel",
     "Hamas"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "event_type", "actor1", "actor2"), PER_TYPE)
def test_every_plover_type(
    pipeline: Pipeline, text: str, event_type: str, actor1: str, actor2: str | None
) -> None:
    event = only(code(pipeline, text))
    assert (event.event_type, event.actor1, event.actor2) == (event_type, actor1, actor2)
    assert event.modality == "reported"
    assert event.acled_event_type and event.acled_sub_event_type and event.cameo_root


def test_passive_voice_victim_is_actor2(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "Three soldiers were killed by a roadside bomb near the border."))
    assert (event.event_type, event.actor2) == ("ASSAULT", "Soldiers")
    # no perpetrator named: ACLED's stand-in, with nothing in the text to highlight for it
    assert (event.actor1, event.actor1_kind) == ("Unidentified armed group", "unknown armed group")
    assert event.actor1_text is None and event.actor1_start is None
    assert event.fatalities == 3
    assert event.acled_sub_event_type == "Remote explosive/landmine/IED"


def test_passive_voice_agent_is_actor1(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "Two villagers were shot dead by unidentified gunmen."))
    assert event.actor1 == "Unidentified armed group"
    assert event.actor2 == "Civilians"
    assert event.fatalities == 2
    assert event.acled_event_type == "Violence against civilians"


def test_negation(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "The rebels did not attack the army base."))
    assert (event.event_type, event.modality) == ("ASSAULT", "negated")


def test_conditional_is_hypothetical(pipeline: Pipeline) -> None:
    text = "If the talks fail, Turkey could launch an offensive against Kurdish fighters."
    event = only(code(pipeline, text))
    assert (event.event_type, event.actor1, event.modality) == ("ASSAULT", "Turkey",
                                                                "hypothetical")  # fmt: skip


def test_modal_may_is_hypothetical(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "Officials fear that the militia may attack the convoy."))
    assert event.modality == "hypothetical"


def test_threat_is_a_threat_not_an_assault(pipeline: Pipeline) -> None:
    events = code(pipeline, "Turkey threatened to launch an offensive against Kurdish fighters.")
    assert [e.event_type for e in events] == ["THREATEN"]
    assert events[0].actor1 == "Turkey"


def test_intent_is_planned(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "The army plans to attack the rebel stronghold next week."))
    assert (event.event_type, event.modality) == ("ASSAULT", "planned")


def test_continues_is_ongoing(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "Government forces continue to shell the town."))
    assert (event.event_type, event.modality, event.mode) == ("ASSAULT", "ongoing",
                                                              "heavy-weapons")  # fmt: skip


def test_actor_not_in_the_dictionary_is_kept(pipeline: Pipeline) -> None:
    text = (
        "The Free Idlib Brigade attacked government positions near the town, killing five soldiers."
    )
    event = only(code(pipeline, text))
    assert event.actor1 == "Free Idlib Brigade"
    assert event.actor1_kind == "rebels"
    assert event.fatalities == 5


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Dozens of people were killed in the clashes.", 12),
        ("Several civilians died in the attack on the market.", 3),
        ("More than 20 fighters were killed near the dam.", 20),
        ("Gunmen stormed the village, killing five.", 5),
        ("The blast left 10 people dead and 30 wounded.", 10),
        ("A policeman was killed at a checkpoint.", 1),
        ("Clashes killed two soldiers and three civilians.", 5),
        ("A trader was stabbed to death in the market.", 1),
        ("Gunmen attacked a bus on the highway. Three passengers died.", 3),
        ("A woman was found dead near the river with gunshot wounds.", 1),
    ],
)
def test_fatalities(pipeline: Pipeline, text: str, count: int) -> None:
    events = code(pipeline, text)
    assert events and max(e.fatalities or 0 for e in events) == count


def test_no_fatalities_when_only_wounded(pipeline: Pipeline) -> None:
    events = code(pipeline, "Militants attacked a police station, wounding four officers.")
    assert events and all(e.fatalities is None for e in events)


def test_fatalities_in_a_sentence(pipeline: Pipeline) -> None:
    doc = pipeline.context.nlp("Hundreds were killed. Nobody was hurt.")
    first, second = sentence_units(doc)
    assert fatalities_in(first) == 100
    assert fatalities_in(second) is None


def test_several_events_in_one_sentence(pipeline: Pipeline) -> None:
    events = code(pipeline, "Rebels ambushed an army patrol and police arrested three suspects.")
    assert [(e.event_type, e.actor1) for e in events] == [("ASSAULT", "Rebels"),
                                                          ("COERCE", "Police")]  # fmt: skip


def test_met_to_discuss_is_one_consult(pipeline: Pipeline) -> None:
    events = code(pipeline, "Kenyan officials met Somali leaders in Nairobi to discuss security.")
    assert [e.event_type for e in events] == ["CONSULT"]
    assert (events[0].actor1, events[0].actor2) == ("Kenya", "Somalia")


def test_pronoun_subject_resolves_to_the_previous_subject(pipeline: Pipeline) -> None:
    text = (
        "Damascus wants stronger air defences. It has signed a cooperation agreement with Tehran."
    )
    event = only(code(pipeline, text))
    assert (event.event_type, event.actor1, event.actor2) == ("AGREE", "Syria", "Iran")
    assert event.actor1_text == "Damascus"


def test_offsets_index_the_article(pipeline: Pipeline) -> None:
    text = "Calm returned on Sunday.\n\nOn Tuesday, Houthi rebels fired a missile at Jizan."
    event = only(code(pipeline, text))
    assert text[event.start : event.end] == event.sentence
    assert text[event.trigger_start : event.trigger_end] == event.trigger == "fired"
    assert text[event.actor1_start : event.actor1_end] == event.actor1_text == "Houthi rebels"
    assert event.event_date == date(2020, 12, 8)
    assert (event.url, event.article_id) == ("u", Article(text).article_id)


def test_no_event_in_a_plain_sentence(pipeline: Pipeline) -> None:
    assert code(pipeline, "The weather was sunny in Paris and the markets were calm.") == []


def test_headline_repeated_in_the_body_is_counted_once(pipeline: Pipeline) -> None:
    text = (
        "Rebels attack army base\n\nRebels attacked an army base on Monday, killing four soldiers."
    )
    event = only(code(pipeline, text))
    assert event.trigger == "attacked" and event.fatalities == 4


def test_headline_naming_the_target_its_body_leaves_out_is_the_record_kept(
    pipeline: Pipeline,
) -> None:
    text = (
        "Militants attack police station in Peshawar\n\n"
        "Militants launched an attack late on Monday, a spokesman said. "
        "The city has been calm since."
    )
    event = only(code(pipeline, text))
    assert event.sentence.startswith("Militants attack police station")
    assert event.actor2 is not None
    assert text[event.actor2_start : event.actor2_end] == event.actor2_text


def test_subject_is_never_taken_from_the_headline_the_parser_ran_on_into(
    pipeline: Pipeline,
) -> None:
    text = (
        "Militants attack police in Peshawar\n\n"
        "Militants launched an attack late on Monday, a spokesman said."
    )
    for event in code(pipeline, text):
        assert event.actor1 != "Police", event.sentence
        if event.actor1_start is not None:
            assert event.start <= event.actor1_start < event.end


def test_body_naming_every_party_of_its_headline_is_the_record_kept(pipeline: Pipeline) -> None:
    text = (
        "Militants attack police in Peshawar\n\n"
        "Militants attacked police officers in Peshawar on Monday, killing two."
    )
    event = only(code(pipeline, text))
    assert event.sentence.startswith("Militants attacked police officers")


def test_rioters_burning_shops_is_a_riot(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "Rioters set fire to shops in the city centre."))
    assert (event.event_type, event.acled_event_type) == ("PROTEST", "Riots")


def test_protesters_named_by_any_noun_are_protesters(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "Hundreds of nurses protested outside the hospital."))
    assert (event.event_type, event.actor1_kind) == ("PROTEST", "protesters")


def test_confidence_is_between_zero_and_one(pipeline: Pipeline) -> None:
    for text, *_ in PER_TYPE:
        for event in code(pipeline, text):
            assert 0.0 < event.confidence <= 1.0


def test_participle_agent_is_actor1_and_one_attack_per_sentence(pipeline: Pipeline) -> None:
    text = "Shells fired by Houthi forces killed two civilians in the port."
    event = only(code(pipeline, text))
    assert (event.actor1, event.actor2, event.fatalities) == ("Houthis", "Civilians", 2)
    assert event.acled_sub_event_type == "Shelling/artillery/missile attack"


def test_protest_turning_violent_is_a_riot(pipeline: Pipeline) -> None:
    text = "Traders demonstrated outside the market and pelted police with stones."
    events = code(pipeline, text)
    assert [(e.event_type, e.acled_event_type) for e in events] == [("PROTEST", "Riots")]


def test_crowd_control_means_make_an_intervention(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "Police fired tear gas at students marching to parliament."))
    assert event.event_type == "PROTEST"
    assert event.acled_sub_event_type == "Protest with intervention"


def test_armed_target_makes_a_clash(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "Gunmen shot at a police patrol near the bridge."))
    assert (event.actor2_kind, event.acled_event_type) == ("police", "Battles")
    civilians = only(code(pipeline, "Gunmen shot at a family near the bridge."))
    assert civilians.acled_event_type == "Violence against civilians"


def test_stated_readiness_is_an_intent_or_a_threat(pipeline: Pipeline) -> None:
    intent = only(code(pipeline, "Syria says it is willing to withdraw its troops from Lebanon."))
    assert (intent.event_type, intent.actor1) == ("AGREE", "Syria")
    threat = only(code(pipeline, "The rebels said they are ready to attack the capital."))
    assert (threat.event_type, threat.actor1) == ("THREATEN", "Rebels")


def test_force_against_a_protest_later_in_the_paragraph(pipeline: Pipeline) -> None:
    text = (
        "Teachers demonstrated in the city centre to demand better pay. "
        "The police intervened and dispersed them with tear gas."
    )
    event = only(code(pipeline, text))
    assert (event.event_type, event.actor1_kind) == ("PROTEST", "protesters")
    assert event.acled_sub_event_type == "Protest with intervention"


def test_background_arrest_does_not_make_an_intervention(pipeline: Pipeline) -> None:
    text = (
        "Journalists protested in the capital against the arrest of an editor. "
        "He was arrested last week on tax charges."
    )
    events = [e for e in code(pipeline, text) if e.event_type == "PROTEST"]
    assert [e.acled_sub_event_type for e in events] == ["Peaceful protest"]


@pytest.mark.parametrize(
    "text",
    ["", "   \n\n  ", "!!!", "Attack", "killed killed 5 5", "a" * 3000, "The.\n\n\n\nRebels."],
)
def test_odd_inputs_do_not_fail(pipeline: Pipeline, text: str) -> None:
    for event in code(pipeline, text):
        assert 0 <= event.start <= event.end <= len(text)


def test_stage_chain_declares_what_it_needs(pipeline: Pipeline) -> None:
    described = {s["name"]: s for s in pipeline.describe()}
    assert described["actors.aliases.v1"]["needs"] == ["doc"]
    assert described["events.lexicon.v1"]["needs"] == ["actors", "doc"]
    assert described["dates.relative.v1"]["adds"] == ["dates"]


@pytest.mark.parametrize(
    ("text", "kind", "actor_text"),
    [
        (
            "On 9 May 2020, in Ciudad Mante, Tamaulipas, hundreds of musicians protested "
            "about the denial of work permits.",
            "protesters",
            "hundreds",
        ),
        (
            "On 8 May 2020, in Morelia, Michoacan, nurses of the general hospital protested "
            "demanding the payment of their salaries.",
            "protesters",
            "nurses",
        ),
    ],
)
def test_subject_after_fronted_place_is_the_actor(
    pipeline: Pipeline, text: str, kind: str, actor_text: str
) -> None:
    """The parser hangs the subject on the fronted place as an apposition; it is still
    the one who acts."""
    event = only(code(pipeline, text))
    assert event.event_type == "PROTEST"
    assert event.actor1_kind == kind and event.actor1_text == actor_text


def test_parsed_subject_still_wins_after_fronted_place(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "On 9 May 2020, in Kano, Nigeria, police arrested 12 traders."))
    assert event.event_type == "COERCE" and event.actor1_kind == "police"


def test_armed_attack_naming_civilians_is_one_sided(pipeline: Pipeline) -> None:
    """No target in the clause, but the sentence names civilians: an attack on them, not a
    clash between armed groups."""
    event = only(
        code(
            pipeline,
            "On 7 May 2020, an unidentified armed group attacked and killed 4 "
            "villagers at Cahi hill.",
        )  # fmt: skip
    )
    assert event.event_type == "ASSAULT" and event.acled_event_type == "Violence against civilians"


def test_violent_crowd_is_a_riot_even_when_police_intervene(pipeline: Pipeline) -> None:
    """ACLED's convention: demonstrators who throw stones make a riot, whatever the police
    then do to them."""
    events = code(
        pipeline,
        "On 9 May 2020, hundreds of traders lit tires and pelted stones at police in Korogocho, "
        "and police fired tear gas to disperse them.",
    )
    protests = [e for e in events if e.event_type == "PROTEST"]
    assert protests and all(e.acled_event_type == "Riots" for e in protests)


def test_clause_on_a_noun_keeps_its_own_modality(pipeline: Pipeline) -> None:
    """The parser hangs "protested" on the subject noun; "demanding" above it is no plan."""
    events = code(
        pipeline,
        "Around 7 May 2020, around 450 pilgrims and workers protested in Haridwar demanding "
        "that they be sent back to Bengal.",
    )
    protest = next(e for e in events if e.event_type == "PROTEST")
    assert protest.modality == "reported"


# -- sub-event rules (ACLED conventions), on sentences written for these tests ---------------


def _main(events: list[Event], event_type: str = "ASSAULT") -> Event:
    chosen = [e for e in events if e.event_type == event_type]
    assert chosen, [(e.event_type, e.trigger) for e in events]
    return chosen[0]


def test_hyphenated_noun_is_one_trigger_with_its_whole_span(pipeline: Pipeline) -> None:
    text = "Late on Friday, a shoot-out took place near the market."
    event = only(code(pipeline, text))
    assert (event.event_type, event.acled_sub_event_type) == ("ASSAULT", "Armed clash")
    assert event.trigger == "shoot-out" == text[event.trigger_start : event.trigger_end]


def test_opened_fire_is_an_event_although_fire_is_a_noun_trigger(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "Soldiers opened fire on a bus carrying farm workers."))
    assert (event.actor1, event.acled_sub_event_type) == ("Soldiers", "Attack")


def test_the_target_decides_attack_or_clash(pipeline: Pipeline) -> None:
    village = only(code(pipeline, "Gunmen attacked a village near the river."))
    base = only(code(pipeline, "Gunmen attacked an army base near the river."))
    assert village.acled_sub_event_type == "Attack"
    assert base.acled_sub_event_type == "Armed clash"


def test_the_target_of_an_ambush_decides_attack_or_clash(pipeline: Pipeline) -> None:
    villagers = code(pipeline, "Gunmen ambushed villagers returning from the market.")
    patrol = code(pipeline, "Militants ambushed a patrol near the town.")
    bus = code(pipeline, "Gunmen ambushed a bus carrying traders on the highway.")
    assert _main(villagers).acled_sub_event_type == "Attack"
    assert _main(patrol).acled_sub_event_type == "Armed clash"
    assert _main(bus).acled_sub_event_type == "Attack"  # the people in it, not property


def test_off_duty_forces_are_civilian_targets(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "Gunmen shot an off-duty policeman outside his home."))
    assert event.acled_sub_event_type == "Attack"


def test_a_target_firing_back_makes_a_clash(pipeline: Pipeline) -> None:
    text = "Militants threw a grenade at a police post. The officers returned fire."
    assert _main(code(pipeline, text)).acled_sub_event_type == "Armed clash"


def test_small_arms_make_a_clash_and_mortars_alone_shelling(pipeline: Pipeline) -> None:
    mortars = code(pipeline, "The rebels fired mortars at army positions near the airport.")
    mixed = code(pipeline, "The rebels fired mortars and small arms at army positions.")
    assert _main(mortars).acled_sub_event_type == "Shelling/artillery/missile attack"
    assert _main(mixed).acled_sub_event_type == "Armed clash"


def test_fire_in_both_directions_is_a_clash_whatever_the_weapons(pipeline: Pipeline) -> None:
    one_way = code(pipeline, "Monitors recorded 40 explosions of mortar rounds near the village.")
    both = code(
        pipeline,
        "Monitors recorded 40 explosions of mortar rounds in both directions near the village.",
    )
    traded = code(pipeline, "The two armies traded fire with artillery across the border.")
    assert _main(one_way).acled_sub_event_type == "Shelling/artillery/missile attack"
    assert _main(both).acled_sub_event_type == "Armed clash"
    assert _main(traded).acled_sub_event_type == "Armed clash"


def test_an_attack_its_target_repels_is_a_clash(pipeline: Pipeline) -> None:
    text = "Gunmen attacked the village of Kato and stole cattle."
    assert _main(code(pipeline, text)).acled_sub_event_type == "Attack"
    routed = code(pipeline, text + " Local militiamen routed the attackers.")
    assert _main(routed).acled_sub_event_type == "Armed clash"


def test_an_attack_the_text_calls_a_clash_is_a_clash(pipeline: Pipeline) -> None:
    text = "Gunmen attacked the village of Kato and clashed with local militiamen."
    assert _main(code(pipeline, text)).acled_sub_event_type == "Armed clash"


def test_baton_charge_is_force_not_an_accusation(pipeline: Pipeline) -> None:
    charged = code(pipeline, "Police baton charged traders at the market for not wearing masks.")
    accused = code(pipeline, "The prosecutor charged the trader with fraud.")
    assert _main(charged).acled_sub_event_type == "Attack"
    assert not [e for e in accused if e.event_type == "ASSAULT"]


def test_victims_named_in_a_list_of_casualties(pipeline: Pipeline) -> None:
    # the parser hangs "were killed" under "were wounded"; "2" are soldiers too
    text = "Five soldiers were killed, 2 were wounded near the border."
    event = _main(code(pipeline, text))
    assert (event.actor2_kind, event.acled_sub_event_type) == ("state military", "Armed clash")


def test_people_named_by_an_unknown_plural_beating_someone_are_a_mob(pipeline: Pipeline) -> None:
    mob = code(pipeline, "Volunteers beat up a truck driver near the market.")
    died = code(pipeline, "Militiamen torched the offices. Three people died following the attack.")
    assert _main(mob, "PROTEST").acled_sub_event_type == "Mob violence"
    assert not [e for e in died if e.acled_sub_event_type == "Mob violence"]  # the victims


def test_a_violent_crowd_dispersed_is_a_riot_not_an_intervention(pipeline: Pipeline) -> None:
    violent = code(
        pipeline,
        "Traders who were angry about the market closure turned violent and had to be "
        "dispersed by police at the town hall.",
    )
    text = "Hundreds of traders marched to the town hall. "
    peaceful = code(pipeline, text + "Police attacked and dispersed them with tear gas.")
    assert _main(violent, "PROTEST").acled_event_type == "Riots"
    assert _main(peaceful, "PROTEST").acled_sub_event_type == "Protest with intervention"


def test_one_person_throwing_stones_is_no_mob(pipeline: Pipeline) -> None:
    one = code(pipeline, "A man threw stones at a nurse outside the clinic.")
    many = code(pipeline, "Residents threw stones at a nurse outside the clinic.")
    assert _main(one).acled_sub_event_type == "Attack"
    assert _main(many, "PROTEST").acled_sub_event_type == "Mob violence"


def test_party_members_clashing_are_a_mob(pipeline: Pipeline) -> None:
    text = "Members of the ruling UDPS party clashed with members of the opposition in the town."
    assert _main(code(pipeline, text), "PROTEST").acled_sub_event_type == "Mob violence"


def test_a_group_of_people_clashing_is_a_mob(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "A group of youths clashed with residents of the next village."))
    assert event.acled_sub_event_type == "Mob violence"


def test_a_particle_follows_its_verb(pipeline: Pipeline) -> None:
    # "On 3 June" hangs on "called", which names the factions here: no "call on"
    text = (
        "On 3 June 2021, two rival factions of the Raia Mutomboki militia, called Alpha and "
        "Bravo, fought in Kalehe (Kabare, Sud-Kivu)."
    )
    events = code(pipeline, text)
    assert not [e for e in events if e.event_type == "REQUEST"]
    assert _main(events).acled_sub_event_type == "Armed clash"


def test_storming_out_is_no_assault(pipeline: Pipeline) -> None:
    left = code(pipeline, "Thirty patients stormed out of the hospital and protested outside.")
    stormed = code(pipeline, "Protesters stormed the parliament building.")
    assert _main(left, "PROTEST").acled_sub_event_type == "Peaceful protest"
    assert _main(stormed, "PROTEST").acled_sub_event_type == "Violent demonstration"


def test_violence_in_a_protest_grievance_makes_no_riot(pipeline: Pipeline) -> None:
    text = (
        "Teachers staged a protest demonstration in the town, demanding the arrest of people "
        "who set fire to wheat crops in the area."
    )
    assert _main(code(pipeline, text), "PROTEST").acled_sub_event_type == "Peaceful protest"


def test_blocking_an_office_is_a_protest(pipeline: Pipeline) -> None:
    text = "A group of party members blocked the office of the deputy mayor in the capital."
    assert _main(code(pipeline, text), "PROTEST").acled_sub_event_type == "Peaceful protest"


def test_stray_subject_before_coordinated_verbs(pipeline: Pipeline) -> None:
    text = (
        "On 1 May, in Chilpancingo, Guerrero, a group of workers from different sectors "
        "commemorated labor day and demanded guarantees for their rights."
    )
    event = _main(code(pipeline, text), "PROTEST")
    assert (event.actor1_text, event.acled_sub_event_type) == ("workers", "Peaceful protest")


def test_kidnapped_and_killed_is_an_attack(pipeline: Pipeline) -> None:
    kidnap = only(code(pipeline, "Armed men kidnapped a trader on the highway."))
    killed = code(pipeline, "Armed men kidnapped a trader on the highway. He was killed.")
    assert kidnap.acled_sub_event_type == "Abduction/forced disappearance"
    assert _main(killed).acled_sub_event_type == "Attack"


def test_an_attack_on_buildings_without_casualties_is_property_destruction(
    pipeline: Pipeline,
) -> None:
    quiet = code(pipeline, "Militants attacked a school in the district. Nobody was hurt.")
    deadly = code(pipeline, "Militants attacked a school in the district, killing a teacher.")
    assert _main(quiet, "COERCE").acled_sub_event_type == "Looting/property destruction"
    assert _main(deadly).acled_sub_event_type == "Attack"


def test_weapons_recovered_or_shot_down_are_disrupted_weapons_use(pipeline: Pipeline) -> None:
    found = only(code(pipeline, "Police recovered two rifles and a grenade from a farmhouse."))
    drone = only(code(pipeline, "Air defences shot down a drone over the capital."))
    assert found.acled_sub_event_type == drone.acled_sub_event_type == "Disrupted weapons use"


def test_crowd_violence_without_a_demonstration_is_mob_violence(pipeline: Pipeline) -> None:
    mob = only(code(pipeline, "Villagers beat a suspected thief with sticks."))
    riot = _main(code(pipeline, "Protesters demanding water pelted the police with stones."),
                 "PROTEST")  # fmt: skip
    assert (mob.event_type, mob.acled_sub_event_type) == ("PROTEST", "Mob violence")
    assert riot.acled_sub_event_type == "Violent demonstration"


def test_two_groups_clashing_is_mob_violence_unless_armed(pipeline: Pipeline) -> None:
    groups = only(code(pipeline, "Two groups clashed over a land dispute in the village."))
    gangs = only(code(pipeline, "Two criminal groups clashed over a land dispute."))
    assert groups.acled_sub_event_type == "Mob violence"
    assert gangs.acled_sub_event_type == "Armed clash"


def test_arrests_of_the_crowd_make_an_intervention_not_the_grievance(pipeline: Pipeline) -> None:
    grievance = code(pipeline, "Teachers protested against the arrest of a union leader.")
    arrested = code(pipeline, "Teachers protested outside the ministry. Police arrested 12.")
    assert _main(grievance, "PROTEST").acled_sub_event_type == "Peaceful protest"
    assert _main(arrested, "PROTEST").acled_sub_event_type == "Protest with intervention"


def test_aid_by_an_armed_group_is_a_change_to_group_activity(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "Members of the Sinaloa Cartel delivered food to families."))
    assert event.acled_sub_event_type == "Change to group/activity"


@pytest.mark.parametrize(
    ("text", "event_type", "actor1", "kind"),
    [
        ("A protest was held outside the ministry.", "PROTEST", "Protesters", "protesters"),
        ("Two soldiers were killed by a roadside bomb.", "ASSAULT", "Unidentified armed group",
         "unknown armed group"),
        ("Five men were arrested in the market.", "COERCE", "Police", "police"),
    ],
)  # fmt: skip
def test_unnamed_perpetrators_get_acled_stand_ins_without_evidence(
    pipeline: Pipeline, text: str, event_type: str, actor1: str, kind: str
) -> None:
    event = _main(code(pipeline, text), event_type)
    assert (event.actor1, event.actor1_kind) == (actor1, kind)
    assert event.actor1_text is None and event.actor1_start is None and event.actor1_end is None


def test_people_who_attack_are_an_unidentified_armed_group(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "A trader was shot dead by armed people in the market."))
    assert (event.actor1, event.actor1_kind) == ("Unidentified armed group", "unknown armed group")
    assert event.actor1_text == "people"


def test_an_actorless_clash_involves_the_force_just_named(pipeline: Pipeline) -> None:
    text = "Police raided a house in the north of the city. A shoot-out broke out."
    event = _main(code(pipeline, text))
    assert (event.actor1, event.actor1_kind) == ("Police", "police")


@pytest.mark.parametrize(
    ("text", "event_type", "actor1"),
    [
        ("The rebels said they will release the hostages next week.", "AGREE", "Rebels"),
        ("Syria said it will not withdraw its troops from the border.", "REJECT", "Syria"),
        ("The farmers said they would blockade the capital unless prices rise.", "THREATEN",
         "Civilians"),
        ("France said Iran must cooperate with the inspectors.", "REQUEST", "France"),
    ],
)  # fmt: skip
def test_what_a_party_says_it_will_or_must_do_is_the_statement(
    pipeline: Pipeline, text: str, event_type: str, actor1: str
) -> None:
    event = _main(code(pipeline, text), event_type)
    assert (event.actor1, event.modality) == (actor1, "reported")


def test_a_future_event_without_a_speaker_stays_planned(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "The army will withdraw its troops from the town."))
    assert (event.event_type, event.modality) == ("RETREAT", "planned")


def test_armed_group_names_the_ner_missed_are_kept(pipeline: Pipeline) -> None:
    event = only(code(pipeline, "Members of the Golfo Verde Cartel shot dead a shopkeeper."))
    assert (event.actor1, event.actor1_kind) == ("Golfo Verde Cartel", "militia")


def _sub(pipeline: Pipeline, text: str) -> str | None:
    from eventwire.evaluate.events import primary_event

    main = primary_event(code(pipeline, text), ("PROTEST", "ASSAULT", "COERCE"))
    assert main is not None
    return main.acled_sub_event_type


@pytest.mark.parametrize(
    ("text", "sub_event"),
    [
        ("Hundreds of traders marched in the town centre against the new tax. Soldiers "
         "opened fire on the marchers and shot at the protesters' homes.",
         "Excessive force against protesters"),
        ("Nurses held a sit-in outside the hospital. Police officers beat the protesters "
         "with batons.", "Protest with intervention"),
        ("Rebels took control of the village and raised their flag.",
         "Non-violent transfer of territory"),
        ("Rebels took control of the village after heavy fighting with the army.",
         "Non-state actor overtakes territory"),
        ("The army re-captured the town from the insurgents.", "Government regains territory"),
        ("The two armed factions exchanged prisoners at the bridge.", "Agreement"),
        ("Forty fighters of the militia surrendered to the authorities.", "Agreement"),
        ("Twelve policemen defected to the rebels.", "Change to group/activity"),
        ("Thirty soldiers joined the insurgents in the mountains.", "Change to group/activity"),
        ("Hundreds of families fled their homes to the nearby town.", "Other"),
        ("The rebels withdrew from the town overnight.", "Non-violent transfer of territory"),
        ("Border guards fired several shots into the air near the crossing.", "Other"),
        ("Six villagers beat a suspected thief with sticks near the well.", "Mob violence"),
        ("Two men beat a shopkeeper outside his store.", "Attack"),
        ("Four armed men beat a shopkeeper outside his store.", "Attack"),
        ("Market women barricaded the main road to demand the reopening of the market.",
         "Violent demonstration"),
        ("Hundreds of residents marched to the town hall. The demonstrators then tried to "
         "force their way into the building.", "Violent demonstration"),
        ("Militants attacked a market and wounded two gendarmes.", "Armed clash"),
        ("Gunmen attacked a village and killed two farmers.", "Attack"),
        ("Police raided the house and shot him and killed him.", "Attack"),
        ("Police broke up a rally in the capital. Several protesters were briefly detained.",
         "Protest with intervention"),
        ("Police arrested twelve protesters outside the parliament.",
         "Protest with intervention"),
        ("Police arrested 700 migrant workers in the capital.", "Arrests"),
        ("Dozens of protesters honked their horns outside the ministry.", "Peaceful protest"),
        ("Residents banged pots and pans from their balconies against the president.",
         "Peaceful protest"),
    ],
)  # fmt: skip
def test_acled_conventions_for_rare_sub_event_types(
    pipeline: Pipeline, text: str, sub_event: str
) -> None:
    assert _sub(pipeline, text) == sub_event


def test_what_protesters_say_is_no_protest(pipeline: Pipeline) -> None:
    events = code(pipeline, "The protesters said they would return next week.")
    assert not [e for e in events if e.event_type == "PROTEST" and e.modality == "reported"]
