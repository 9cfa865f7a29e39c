"""An Ask answer's chart: a result that does not fit a chart says so quietly; a bug while
drawing is not swallowed into that caption but logged with a reference (the table stays)."""

import logging

import pytest
from streamlit.testing.v1 import AppTest


def _script() -> None:
    import pandas as pd

    from components import chat
    from services.claude.ask import chart_for_result

    frame = pd.DataFrame({"country": ["A", "B", "C"], "people": [3, 5, 8]})
    # the Ask service chooses the chart; the component draws the spec it is given
    chat.show_chart(frame, chart_for_result(frame), key="t")
    import streamlit as st

    st.write("the table is still here")


def _run_with(monkeypatch: pytest.MonkeyPatch, error: Exception | None) -> AppTest:
    from services.charts import ask_chart

    if error is not None:
        def broken(*args: object, **kwargs: object) -> None:
            raise error

        monkeypatch.setattr(ask_chart, "build_chart", broken)
    at = AppTest.from_function(_script, default_timeout=30)
    at.run()
    assert not at.exception
    return at


def _captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_a_result_that_draws_is_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _run_with(monkeypatch, None)
    assert "could not be drawn" not in _captions(at)
    assert at.get("plotly_chart")


def test_a_result_that_does_not_fit_a_chart_says_so_quietly(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from services.errors import InvalidInput

    with caplog.at_level(logging.ERROR):
        at = _run_with(monkeypatch, InvalidInput("These columns cannot be charted together."))
    assert "could not be drawn as a chart" in _captions(at)
    assert not [r for r in caplog.records if r.name == "services.unexpected"]


@pytest.mark.parametrize("bug", [KeyError("x"), TypeError("unsupported operand")])
def test_a_programming_error_is_reported_not_swallowed(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        bug: Exception) -> None:
    with caplog.at_level(logging.ERROR):
        at = _run_with(monkeypatch, bug)
    (record,) = [r for r in caplog.records if r.name == "services.unexpected"]
    assert record.where == "ask_chart"  # type: ignore[attr-defined]
    assert record.exc_info is not None and record.exc_info[1] is bug
    assert f"reference {record.reference}" in _captions(at)  # type: ignore[attr-defined]
    assert "the table is still here" in [m.value for m in at.markdown]
