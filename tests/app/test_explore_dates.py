"""AppTest: Explore's date-range filter on DATE, TIMESTAMP and TIMESTAMP WITH TIME ZONE
columns, and chart menus that keep their columns when the chart type changes."""

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from services.access.users import UserView
from services.data import datasets
from services.data.datasets import DatasetView
from tests.app.helpers import all_text, open_page, sign_in
from tests.factories import make_admin

PAGE = "pages/explore.py"


@pytest.fixture
def admin() -> UserView:
    return make_admin()


@pytest.fixture
def events(admin: UserView, tmp_path: Path) -> DatasetView:
    """60 rows over two months: a DATE, a TIMESTAMP and a TIMESTAMPTZ column."""
    path = tmp_path / "events.parquet"
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            "COPY (SELECT DATE '2024-01-01' + CAST(i AS INTEGER) AS day, "
            "TIMESTAMP '2024-01-01 08:30:00' + INTERVAL (i) DAY AS seen_at, "
            "TIMESTAMPTZ '2024-01-01 08:30:00+00' + INTERVAL (i) DAY AS logged_at, "
            "CASE WHEN i % 2 = 0 THEN 'north' ELSE 'south' END AS region, "
            "CAST(i AS DOUBLE) * 1.5 AS amount FROM range(60) t(i)) "
            f"TO '{path}' (FORMAT parquet)")
    view, _ = datasets.create_from_upload(admin, path, original_name="events.parquet")
    return view


def _explore() -> AppTest:
    at = sign_in("ada")
    open_page(at, PAGE)
    assert not at.exception, at.exception
    return at


def _figure(at: AppTest) -> dict:
    charts = list(at.get("plotly_chart"))
    assert charts, "no chart on the page: " + " | ".join(e.value for e in at.error)
    return json.loads(charts[0].proto.spec)


@pytest.mark.parametrize("column", ["day", "seen_at", "logged_at"])
def test_a_date_range_filter_keeps_the_chart(events: DatasetView, column: str) -> None:
    at = _explore()
    at.selectbox(key="explore_f_column").select(column).run()
    assert not at.exception, at.exception
    at.date_input(key=f"explore_f_dates_{column}").set_value(
        (dt.date(2024, 1, 10), dt.date(2024, 1, 19))).run()
    at.button(key="explore_f_add").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert _figure(at)
    assert "**10** of 60 rows" in all_text(at)  # both end days are kept, whole days


def test_changing_the_chart_type_keeps_the_chosen_columns(admin: UserView) -> None:
    datasets.create_from_sample(admin, "tips")
    at = _explore()
    assert _figure(at)["layout"]["title"]["text"] == "Mean of total_bill by sex"
    at.selectbox(key="explore_x").select("day").run()
    at.selectbox(key="explore_y").select("tip").run()
    at.selectbox(key="explore_agg").select("median").run()
    at.selectbox(key="explore_chart").select("grouped_bar").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="explore_x").value == "day"
    assert at.selectbox(key="explore_y").value == "tip"
    assert at.selectbox(key="explore_agg").value == "median"  # kept between bar charts
    assert at.selectbox(key="explore_color").value not in (None, "", "day")
    at.selectbox(key="explore_chart").select("box").run()
    assert at.selectbox(key="explore_x").value == "day"
    assert at.selectbox(key="explore_y").value == "tip"
    assert _figure(at)["layout"]["title"]["text"] == "tip by day"
    # A scatter cannot put text on its x axis: that column alone is replaced.
    at.selectbox(key="explore_chart").select("scatter").run()
    assert at.selectbox(key="explore_x").value != "day"
    assert at.selectbox(key="explore_y").value != at.selectbox(key="explore_x").value


def test_a_stacked_bar_of_averages_is_drawn_side_by_side_and_says_so(admin: UserView) -> None:
    datasets.create_from_sample(admin, "tips")
    at = _explore()
    at.selectbox(key="explore_chart").select("stacked_bar").run()
    assert at.selectbox(key="explore_agg").value == "sum"  # stacks start from a sum
    assert _figure(at)["layout"]["barmode"] == "stack"
    at.selectbox(key="explore_agg").select("mean").run()
    assert not at.exception, at.exception
    assert _figure(at)["layout"]["barmode"] == "group"
    assert "Averages are shown side by side, not stacked, because they do not add up." in \
        all_text(at)


def test_the_first_chart_never_averages_a_row_number(admin: UserView, tmp_path: Path) -> None:
    path = tmp_path / "penguins.parquet"
    with duckdb.connect() as con:  # "Nummer" is a row number only its values give away
        con.execute(
            "COPY (SELECT CAST(i + 1 AS BIGINT) AS Nummer, CAST(i + 1 AS BIGINT) AS rownames, "
            "['Adelie','Gentoo','Chinstrap'][1 + i % 3] AS species, "
            "3500.0 + (i % 7) * 250 AS body_mass_g, CAST(2007 + i % 3 AS BIGINT) AS year "
            f"FROM range(120) t(i)) TO '{path}' (FORMAT parquet)")
    datasets.create_from_upload(admin, path, original_name="penguins.parquet")
    at = _explore()
    assert _figure(at)["layout"]["title"]["text"] == "Mean of body_mass_g by species"
