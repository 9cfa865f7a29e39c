"""Every number in an Ask answer is checked against its result (services.claude.grounded),
over a corpus of answers written on real small results (tests/unit/claude/grounded_corpus.py):
no false alarm on a true or rounded number, every invented, swapped or wrong-unit one flagged."""

import pandas as pd
import pytest

from services.claude.grounded import ONE_FLAGGED, SEVERAL_FLAGGED, check_answer
from tests.unit.claude.grounded_corpus import (
    CORPUS,
    MUST_FLAG,
    MUST_PASS,
    QUESTIONS,
    VERDICT,
    results,
)
from tests.unit.number_styles import STYLES, write_number


def _verdicts(name: str, answer: str) -> dict[str, str]:
    check = check_answer(answer, results()[name], question=QUESTIONS[name])
    for number in check.numbers:
        assert answer[number.start:number.end] == number.text
    return {n.text: n.verdict for n in check.numbers}


def test_the_corpus_is_big_and_covers_every_kind_of_number() -> None:
    assert len(CORPUS) >= 60
    tags = {tag for _, _, numbers in CORPUS for tag in numbers.values()}
    assert tags == set(VERDICT)


@pytest.mark.parametrize(("name", "answer", "expected"), CORPUS,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CORPUS)])
def test_each_number_gets_its_expected_verdict(name: str, answer: str,
                                               expected: dict[str, str]) -> None:
    assert _verdicts(name, answer) == {text: VERDICT[tag] for text, tag in expected.items()}


def _rates() -> dict[str, tuple[int, int]]:
    """tag → (numbers flagged, numbers with that tag)."""
    counts: dict[str, list[int]] = {tag: [0, 0] for tag in VERDICT}
    for name, answer, expected in CORPUS:
        got = _verdicts(name, answer)
        for text, tag in expected.items():
            counts[tag][0] += got.get(text) == "not_found"
            counts[tag][1] += 1
    return {tag: (flagged, total) for tag, (flagged, total) in counts.items()}


def test_no_false_alarm_on_true_rounded_or_derived_numbers_and_every_wrong_one_flagged(
        capsys: pytest.CaptureFixture[str]) -> None:
    rates = _rates()
    with capsys.disabled():
        print("\ngrounded corpus, flagged / numbers:",
              ", ".join(f"{tag} {f}/{t}" for tag, (f, t) in rates.items()))
    assert all(rates[tag][0] == 0 for tag in MUST_PASS)
    assert all(rates[tag][0] == rates[tag][1] for tag in MUST_FLAG)


@pytest.mark.parametrize("style", STYLES)
def test_numbers_written_in_each_locale_we_read_are_found(style: str) -> None:
    result = pd.DataFrame({"city": ["A", "B"], "people": [1234567.89, 8425333.0]})
    for whole, fraction, expected in ((1234567, "89", "found"), (8425333, "", "found"),
                                      (8425, "3", "rounded")):
        written = write_number(whole, fraction, False, style)
        if expected == "rounded":
            written += " thousand"
        check = check_answer(f"The city has {written} people.", result)
        assert [(n.text, n.verdict) for n in check.numbers] == [(written, expected)], style


def test_numbers_that_are_not_claims_are_left_out() -> None:
    result = pd.DataFrame({"day": pd.to_datetime(["2024-03-01", "2024-03-02"]),
                           "top_10_sales": [12.5, 40.0]})
    answer = ("1. On 1 March 2024 sales were 12.5 (the 2nd day: 40).\n2. Of the top 10, "
              "COVID-19 aside, at 14:05 on 2024-03-02, Q3 was fine.")
    check = check_answer(answer, result, question="What were the top 5 days in 2024?")
    assert [(n.text, n.verdict) for n in check.numbers] == [("12.5", "found"), ("40", "found")]
    assert check.flagged == [] and check.sentence == ""


def test_signs_currency_and_the_sentence_for_one_or_several() -> None:
    result = pd.DataFrame({"account": ["a", "b"], "balance": [-1200.0, 560.25]})
    one = check_answer("Account a is at −$1,200 and b at €560.25; c at 999.", result)
    assert [(n.text, n.verdict) for n in one.numbers] == [
        ("−$1,200", "found"), ("€560.25", "found"), ("999", "not_found")]
    assert one.sentence == ONE_FLAGGED and [n.text for n in one.flagged] == ["999"]
    several = check_answer("b has 650.25 and a has -2,100.", result)
    assert several.sentence == SEVERAL_FLAGGED and len(several.flagged) == 2


def test_the_work_is_bounded_for_a_big_result() -> None:
    result = pd.DataFrame({"n": range(100_000), "x": [v * 0.37 for v in range(100_000)]})
    check = check_answer("Values reach 99,999 and 12,345.67 and " + "7 " * 500, result)
    assert len(check.numbers) <= 200
