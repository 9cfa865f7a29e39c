"""A histogram's summary is always true: "most values" only when one range holds more than
half of them; otherwise the ranges that hold the middle half, from the quartiles."""

import numpy as np
import pandas as pd
import pytest

from services.charts.chart_figure import histogram_sentence


def _bins(values: np.ndarray, bins: int = 20) -> pd.DataFrame:
    counts, edges = np.histogram(values, bins=bins)
    return pd.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "value": counts})


def _numbers(sentence: str) -> list[float]:
    words = sentence.replace(",", "").replace("(", " ").replace(")", " ").split()
    found = []
    for word in words:
        try:
            found.append(float(word.rstrip(".;%")))
        except ValueError:
            continue
    return found


def test_a_spread_out_column_is_not_said_to_have_most_values_in_one_range() -> None:
    values = np.random.default_rng(1).normal(190, 10, 271)  # flipper lengths, roughly
    frame = _bins(values)
    sentence = histogram_sentence(frame)
    assert int(frame["value"].max()) < 0.5 * 271
    assert "most values" not in sentence
    assert sentence.startswith("the middle half of the values lie between ")
    low, high = _numbers(sentence)[:2]
    q1, q3 = np.quantile(values, [0.25, 0.75])
    assert low <= q1 and q3 <= high  # the claim holds for the real quartiles
    inside = ((values >= low) & (values <= high)).mean()
    assert inside >= 0.5


@pytest.mark.parametrize("seed", range(5))
def test_the_middle_half_always_holds_the_quartiles(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.concatenate([rng.exponential(5, 300), rng.normal(60, 3, 40)])
    sentence = histogram_sentence(_bins(values))
    if sentence.startswith("most values"):
        share = _numbers(sentence)[0]
        assert share > 50
        return
    low, high = _numbers(sentence)[:2]
    q1, q3 = np.quantile(values, [0.25, 0.75])
    assert low <= q1 + 1e-9 and q3 <= high + 1e-9


def test_most_values_only_when_more_than_half_are_in_one_range() -> None:
    values = np.concatenate([np.full(200, 5.0), np.linspace(0, 100, 71)])
    frame = _bins(values)
    sentence = histogram_sentence(frame)
    peak = int(frame["value"].max())
    assert peak > 0.5 * len(values)
    assert sentence.startswith(f"most values ({round(100 * peak / len(values))}%) fall between")
