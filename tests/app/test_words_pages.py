"""AppTest: a dataset with time-zone timestamps, years, missing cells and big numbers shows
without an apology, in words and numbers as people write them; Home names datasets."""

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from services.charts.spec import ChartSpec, spec_to_query_params
from services.data import datasets
from tests.app.helpers import all_text, open_page, sign_in
from tests.factories import make_admin

CSV = (
    "station,year,measured_at,rain_mm,change\n"
    "Oslo,2007,2024-03-01T12:05:00Z,0,-10980.4\n"
    "Rome,2008,2024-03-01T23:30:00Z,,3.25\n"
    "Lima,2009,2024-03-02T00:15:00Z,12.5,\n"
)


def test_dataset_page_with_zoned_times_shows_everything_as_people_write_it(
        tmp_path: Path) -> None:
    admin = make_admin()
    upload = tmp_path / "weather.csv"
    upload.write_text(CSV)
    view, result = datasets.create_from_upload(admin, upload, original_name="weather.csv")
    zoned = next(c for c in result.columns if c.name == "measured_at")
    assert "TIME ZONE" in zoned.duckdb_type
    at = sign_in("ada")
    at.query_params["id"] = str(view.id)
    open_page(at, "pages/dataset.py")
    assert not at.exception
    assert not at.error, [e.value for e in at.error]  # no apology boxes
    text = all_text(at)
    assert "Times are shown in UTC." in text
    preview = at.dataframe[0].value

    tabs = {}  # each tab computes only when opened
    for tab in ("Columns", "Quality"):
        at.session_state[f"dataset_tab_{view.id}"] = tab
        at.run()
        assert not at.exception
        assert not at.error, [e.value for e in at.error]
        tabs[tab] = all_text(at)
        if tab == "Columns":
            columns = at.dataframe[0].value
            assert "Times are shown in UTC." in tabs[tab]
    text = tabs["Quality"]
    assert preview["year"].tolist() == ["2007", "2008", "2009"]
    assert preview["measured_at"].tolist() == ["1 Mar 2024 12:05", "1 Mar 2024 23:30",
                                               "2 Mar 2024 00:15"]
    assert preview["rain_mm"].tolist() == ["0", "", "12.5"]
    assert preview["change"].tolist() == ["-10,980.4", "3.25", ""]
    shown = " ".join(str(v) for v in preview.to_numpy().ravel())
    assert "None" not in shown and "nan" not in shown and "e+" not in shown

    assert "Spread (std)" not in columns.columns
    assert "Typical spread (standard deviation)" in columns.columns
    by_name = columns.set_index("Column")
    assert by_name.loc["year", "Smallest"] == "2007" and by_name.loc["year", "Largest"] == "2009"
    assert by_name.loc["measured_at", "Smallest"] == "1 Mar 2024 12:05"
    assert by_name.loc["rain_mm", "Missing"] == "33%"
    assert "T12:05" not in " ".join(str(v) for v in columns.to_numpy().ravel())
    assert "1 row (33%) has no value in “rain_mm”." in text


def test_home_activity_names_datasets_without_internal_ids() -> None:
    admin = make_admin()
    view = datasets.create_from_sample(admin, "tips")
    at = open_page(sign_in("ada"), "pages/home.py")
    assert not at.exception
    activity = [m.value for m in at.markdown if "Dataset created" in m.value]
    assert activity, "creating a dataset shows in my recent activity"
    assert f"{view.id}: {view.name}" not in activity[0]  # not "1:" alone: 21:05 holds it
    assert view.name.split()[0] in activity[0]


def test_explore_by_day_on_zoned_times_draws_a_chart(tmp_path: Path) -> None:
    admin = make_admin()
    upload = tmp_path / "weather.csv"
    upload.write_text(CSV)
    view, _ = datasets.create_from_upload(admin, upload, original_name="weather.csv")
    spec = ChartSpec(chart_type="bar", x="measured_at", bucket="day", y="rain_mm", agg="sum")
    at = sign_in("ada")
    at.query_params.update({"dataset": str(view.id), **spec_to_query_params(spec)})
    open_page(at, "pages/explore.py")
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    charts = list(at.get("plotly_chart"))
    assert charts, "no chart on the page"
    figure = json.loads(charts[0].proto.spec)
    assert [str(x)[:10] for x in figure["data"][0]["x"]] == ["2024-03-01", "2024-03-02"]
    y = figure["data"][0]["y"]
    if isinstance(y, dict):  # plotly sends numbers as typed binary arrays
        y = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist()
    assert y == [0.0, 12.5]  # rain on the UTC days: Oslo 0 and Rome missing, then Lima


def _answer_with_zoned_times() -> None:
    import pandas as pd

    from components.chat import show_table

    frame = pd.DataFrame({"at": pd.to_datetime(["2024-03-01T14:05:00+02:00"], utc=True),
                          "rain": [1.5]})
    show_table(frame, 1, key="words_answer")


def test_an_ask_answer_with_zoned_times_says_they_are_in_utc() -> None:
    at = AppTest.from_function(_answer_with_zoned_times, default_timeout=60).run()
    assert not at.exception
    assert "Times are shown in UTC." in [c.value for c in at.caption]
    assert str(at.dataframe[0].value["at"].iloc[0]).startswith("2024-03-01 12:05:00")
