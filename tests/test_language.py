"""Language detection: non-English text is named and rejected, English (even quoting
foreign words) passes."""

from __future__ import annotations

import pytest

import eventwire.stages.language  # noqa: F401  (registers language.detect.v1)
from eventwire.config import Options
from eventwire.errors import StageError
from eventwire.language import detect_language, language_name
from eventwire.model import Article
from eventwire.pipeline import Pipeline

FOREIGN = {
    "fr": "L'armée syrienne a lancé une offensive contre les rebelles dans le sud de la "
    "province d'Idleb, selon des sources locales qui font état de bombardements intenses.",
    "es": "El ejército sirio lanzó una ofensiva contra los rebeldes en el sur de la "
    "provincia de Idlib, según fuentes locales que informan de bombardeos intensos.",
    "it": "L'esercito siriano ha lanciato un'offensiva contro i ribelli nel sud della "
    "provincia di Idlib, secondo fonti locali che parlano di bombardamenti intensi.",
    "de": "Die syrische Armee hat eine Offensive gegen die Rebellen im Süden der Provinz "
    "Idlib begonnen, wie örtliche Quellen berichten, die von schweren Angriffen sprechen.",
    "pt": "O exército sírio lançou uma ofensiva contra os rebeldes no sul da província de "
    "Idlib, segundo fontes locais que relatam bombardeios intensos.",
    "tr": "Suriye ordusu, yerel kaynaklara göre İdlib ilinin güneyinde muhaliflere karşı "
    "yeni bir saldırı başlattı ve bu bölgede yoğun bombardıman var.",
    "ar": "شن الجيش السوري هجوما على فصائل المعارضة في جنوب محافظة إدلب بحسب مصادر محلية.",
    "ru": "Сирийская армия начала наступление на повстанцев на юге провинции Идлиб, "
    "сообщают местные источники.",
    "uk": "Сирійська армія розпочала наступ на повстанців на півдні провінції Ідліб, "
    "повідомляють місцеві джерела.",
    "fa": "ارتش سوریه حمله‌ای را علیه شورشیان در جنوب استان ادلب آغاز کرد "
    "و گزارش‌ها از بمباران شدید حکایت دارد.",
    "zh": "据当地消息来源称，叙利亚军队在伊德利卜省南部对反对派武装发动了进攻。",
    "ja": "現地の情報筋によると、シリア軍はイドリブ県南部で反政府勢力に対する攻勢を開始した。",
}

ENGLISH = [
    "The Syrian army launched an offensive against rebel militias in southern Idlib on "
    "Tuesday, local sources said, reporting heavy shelling of several villages.",
    # mostly English, quoting a French slogan and Arabic place names
    'Protesters in Paris chanted "non à la guerre, oui à la paix" as they marched to the '
    "embassy on Saturday, and police said the rally in the capital was peaceful overall.",
    "Fighters of Hay'at Tahrir al-Sham attacked positions near Kafr Nabl and Ma'arrat "
    "al-Nu'man, the monitoring group said in a statement on its website.",
]


@pytest.mark.parametrize(("code", "text"), sorted(FOREIGN.items()))
def test_foreign_text_is_named(code: str, text: str) -> None:
    guess = detect_language(text)
    assert guess.code == code, guess
    assert guess.name == language_name(code) != code


@pytest.mark.parametrize("text", ENGLISH)
def test_english_text_passes(text: str) -> None:
    assert detect_language(text).code == "en"


def test_too_short_to_tell() -> None:
    assert detect_language("Idlib, 12.03.").code == "und"
    assert detect_language("").code == "und"


def test_stage_rejects_with_language_named(options: Options) -> None:
    pipeline = Pipeline(options, stages=("language.detect.v1",))
    with pytest.raises(StageError, match=r"text is in French \(fr\); eventwire codes English"):
        pipeline.run(Article(FOREIGN["fr"]))
    assert pipeline.run(Article(ENGLISH[0])) == []


def test_batch_records_the_rejection_and_goes_on(options: Options) -> None:
    pipeline = Pipeline(options, stages=("language.detect.v1",))
    results = list(pipeline.run_many([Article(ENGLISH[0]), Article(FOREIGN["de"])]))
    assert results[0][1] == []
    assert isinstance(results[1][1], StageError) and "German (de)" in str(results[1][1])
