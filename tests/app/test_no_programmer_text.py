"""AppTest: no page shows programmer text (issue 19.11). Every page is opened with real data
(missing values, dates, timestamps, a workbook whose table starts at row 3) and all it shows
is scanned — sentences, labels, choices, code and every table as its cells are drawn — for
"None", "NaN", "T00:00", a midnight time, a server path, more than 4 decimals and "1 rows"."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook
from streamlit.testing.v1 import AppTest

from services import settings
from services.access.users import UserView
from services.claude import client as claude
from services.data import datasets
from services.data.dataset_models import DropDuplicates
from services.data.datasets import DatasetView
from services.prompts import jobs, templates
from services.prompts.calls import CallResult
from services.prompts.sources import UnitInput
from services.prompts.templates import OutputField, TemplateDraft
from tests.app.helpers import all_text, as_read, button, open_page, sign_in
from tests.factories import make_admin, make_item
from tests.fakes.claude_server import FakeClaude, point_claude_at

DATA = Path(__file__).resolve().parents[1] / "data"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGES = ["home", "datasets", "dataset", "explore", "ask", "research", "research_item",
         "boards", "prompt_lab", "usage", "account", "admin"]
PROGRAMMER_TEXT = {
    "None": re.compile(r"\bNone\b"),
    "NaN": re.compile(r"\b(NaN|nan|NaT|<NA>)\b"),
    "an ISO time": re.compile(r"\dT\d\d:\d\d"),
    "a midnight time": re.compile(r"\d 00:00:00\b"),
    "more than 4 significant decimals": re.compile(r"\d\.0*[1-9]\d{4,}"),
    "a plural after 1": re.compile(r"(?<![\d.,])1 (rows|groups|columns|values|items|results|"
                                   r"calls|datasets|versions|steps|filters|answers)\b"),
    "a server path": re.compile(r"/tmp/|/data/datasets|\.parquet\b"),
}


# --- what a person sees -------------------------------------------------------------------

def _column_formats(proto: Any) -> dict[str, dict]:
    config = json.loads(proto.columns) if proto.columns else {}
    return {name.removeprefix("col:"): value for name, value in config.items()}


def _number_seen(value: float, format_: str | None, step: float | None) -> str:
    """A number as the table draws it: "localized" with the step's decimals (without a step
    the browser's default, at most 3), "%d" whole, and with no format its full digits."""
    if format_ == "localized" and step:
        places = len(f"{step:.12f}".rstrip("0").split(".")[1])
        return f"{value:,.{places}f}"
    if format_ == "localized":
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if format_ == "%d":
        return f"{value:.0f}"
    return str(value)


def _moment_seen(value: pd.Timestamp, format_: str | None) -> str:
    if not format_:
        return str(value)  # the widget's own ISO text: "2012-01-01 00:00:00"
    shown = value.strftime(f"{value.day} %b %Y")
    if "HH:mm" in format_:
        shown += value.strftime(" %H:%M:%S" if "ss" in format_ else " %H:%M")
    return shown


def table_seen(element: Any) -> str:
    """A dataframe's cells as drawn: missing cells as its placeholder ("None" unless set),
    numbers and dates through their column's format."""
    frame: pd.DataFrame = element.value
    proto = element.proto
    missing = proto.placeholder if proto.HasField("placeholder") else "None"
    formats = _column_formats(proto)
    lines = [" | ".join(str(c) for c in frame.columns)]
    for name in frame.columns:
        column = frame[name]
        config = formats.get(str(name), {})
        type_config = config.get("type_config", {})
        format_ = type_config.get("format")
        lines += [str(o) for o in type_config.get("options") or []]  # a selectbox's choices
        for value in column.tolist():
            if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
                lines.append(missing)
            elif pd.api.types.is_numeric_dtype(column.dtype) and not isinstance(value, bool):
                lines.append(_number_seen(float(value), format_, type_config.get("step")))
            elif isinstance(value, pd.Timestamp):
                lines.append(_moment_seen(value, format_))
            else:
                lines.append(str(value))
    return "\n".join(lines)


def _is_link(text: str) -> bool:
    """A link to copy (Share) is an address, not words: its query carries values as stored
    (AppTest has no page address, so there the link is only its query)."""
    return text.startswith(("http://", "https://", "?")) and " " not in text.strip()


def _widget_words(at: AppTest) -> list[str]:
    words: list[str] = []
    for kind in ("selectbox", "multiselect", "radio", "button", "checkbox", "text_input",
                 "text_area", "number_input", "date_input", "expander", "tab", "metric",
                 "toggle", "code", "button_group", "download_button", "chat_input"):
        for element in at.get(kind):
            proto = element.proto
            for field in ("label", "body", "value", "help", "placeholder", "code_text"):
                text = getattr(proto, field, "")
                if isinstance(text, str) and text and not _is_link(text):
                    words.append(text)
            words += [str(getattr(o, "content", o)) for o in getattr(proto, "options", [])]
    return words


def seen(at: AppTest) -> str:
    assert not at.exception, at.exception
    parts = [all_text(at), *[as_read(w) for w in _widget_words(at)]]
    parts += [table_seen(t) for t in at.dataframe]
    return "\n".join(parts)


def assert_plain(at: AppTest, where: str, data_dir: Path) -> None:
    text = seen(at)
    found = {what: match.group(0) for what, pattern in PROGRAMMER_TEXT.items()
             if (match := pattern.search(text))}
    if str(data_dir) in text:
        found["the data folder"] = str(data_dir)
    context = {what: text[max(0, text.find(hit) - 80):text.find(hit) + 80]
               for what, hit in found.items()}
    assert not found, f"{where}: {context}"


# --- data ---------------------------------------------------------------------------------

def _titled_workbook(folder: Path) -> Path:
    """A workbook as people make them: a title, an empty row, the table from row 3."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sales"
    sheet.append(["Sales by region, 2024"])
    sheet.append([])
    sheet.append(["region", "day", "amount"])
    for n in range(12):
        sheet.append([["north", "south"][n % 2], pd.Timestamp(2024, 1, n + 1).to_pydatetime(),
                      1234.56789 * (n + 1)])
    path = folder / "sales.xlsx"
    book.save(path)
    return path


@pytest.fixture
def admin() -> UserView:
    return make_admin()


@pytest.fixture
def shelf(admin: UserView) -> dict[str, DatasetView]:
    made = {}
    for name in ("penguins.csv", "nyc_weather_utc.csv", "flights_3000.csv",
                 "seattle_weather.xlsx"):
        made[name], _ = datasets.create_from_upload(admin, DATA / name, original_name=name)
    datasets.apply_steps(admin, made["penguins.csv"].id, [DropDuplicates()])  # SQL shown
    return made


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        point_claude_at(server, monkeypatch, max_retries=1)
        yield server
    settings.reset_settings_cache()
    claude.reset_clients()


# --- the tests ----------------------------------------------------------------------------

def test_upload_messages_say_how_a_file_was_read_in_words(admin: UserView, tmp_path: Path,
                                                         data_dir: Path) -> None:
    at = open_page(sign_in("ada"), "pages/datasets.py")
    at.file_uploader(key="datasets_upload").set_value(
        ("penguins.csv", (DATA / "penguins.csv").read_bytes(), "text/csv")).run()
    button(at, "Create dataset").click().run()
    assert "thousands separator: none" in all_text(at)
    assert_plain(at, "a CSV upload", data_dir)

    at = open_page(sign_in("ada"), "pages/datasets.py")
    at.file_uploader(key="datasets_upload").set_value(
        ("sales.xlsx", _titled_workbook(tmp_path).read_bytes(), XLSX)).run()
    button(at, "Create dataset").click().run()
    text = all_text(at)
    assert "Read with sheet “Sales”, row 3 as column names." in text
    assert "separator" not in text.split("Read with")[1].split(".")[0]
    assert_plain(at, "a workbook upload", data_dir)


def test_every_page_and_dataset_tab_is_plain_words(shelf: dict[str, DatasetView],
                                                   admin: UserView, data_dir: Path) -> None:
    item = make_item(admin, "Weather", "Why was 2013 wet?")
    at = sign_in("ada")
    for page in PAGES:
        if page == "dataset":
            for dataset in shelf.values():
                at.query_params["id"] = str(dataset.id)
                open_page(at, "pages/dataset.py")
                for tab in ("Preview", "Columns", "Quality", "Clean", "Versions", "Details"):
                    at.session_state[f"dataset_tab_{dataset.id}"] = tab
                    at.run()
                    assert_plain(at, f"{dataset.name}, {tab}", data_dir)
            continue
        if page == "research_item":
            at.query_params["id"] = str(item.id)
        open_page(at, f"pages/{page}.py")
        assert_plain(at, page, data_dir)


def test_explore_with_a_date_chart_and_a_date_filter(shelf: dict[str, DatasetView],
                                                     data_dir: Path) -> None:
    weather = shelf["seattle_weather.xlsx"]
    at = sign_in("ada")
    open_page(at, "pages/explore.py")
    at.selectbox(key="explore_dataset").select(weather.id).run()
    at.selectbox(key="explore_chart").select("line").run()
    at.selectbox(key="explore_x").select("date").run()
    at.selectbox(key="explore_f_column").select("date").run()
    at.date_input(key="explore_f_dates_date").set_value(
        (pd.Timestamp(2012, 1, 1).date(), pd.Timestamp(2013, 12, 31).date())).run()
    at.button(key="explore_f_add").click().run()
    text = seen(at)
    assert "date: 1 Jan 2012 to 31 Dec 2013" in text
    assert_plain(at, "Explore, a date chart with a filter", data_dir)
    at.session_state["explore_tab"] = "Table"
    at.run()
    assert_plain(at, "Explore, the table view", data_dir)


def test_an_ask_answer_with_a_missing_value_and_a_date(shelf: dict[str, DatasetView],
                                                       fake: FakeClaude,
                                                       data_dir: Path) -> None:
    sql = ("SELECT DATE '2013-01-01' + CAST(i AS INTEGER) AS day, "
           "CASE WHEN i = 1 THEN NULL ELSE 5076.0163 * i / 3 END AS amount, "
           "CASE WHEN i = 2 THEN NULL ELSE 'wet' END AS kind, "
           "TIMESTAMP '2013-01-01 06:00:00.5' AS measured FROM range(3) t(i)")
    fake.enqueue({"tool_use": {"name": "run_sql", "input": {
        "sql": sql, "explanation": "Three days of weather."}}},
                 {"text": "Two of the three days were wet."})
    at = open_page(sign_in("ada"), "pages/ask.py")
    at.chat_input(key="ask_input").set_value("How wet was January 2013?").run()
    table = at.dataframe[-1].value
    assert list(table.columns) == ["day", "amount", "kind", "measured"]
    assert_plain(at, "Ask, an answer", data_dir)


def test_prompt_lab_with_a_finished_batch_that_has_a_failed_unit(admin: UserView,
                                                                 data_dir: Path) -> None:
    template = templates.create_template(admin, TemplateDraft(
        name="Why", body="Explain {title}", model="claude-haiku-4-5", max_tokens=100,
        output_fields=[OutputField(name="wet", type="yes_no"),
                       OutputField(name="score", type="number")]))
    units = [UnitInput(key=f"item:{n}", label=f"Question {n}", values={"title": f"Q{n}"})
             for n in range(2)]
    job = jobs.create_job("ada", kind="batch", title="Why, 2 items", template_id=template.id,
                          template_version=1, model="claude-haiku-4-5", concurrency=1,
                          source={"kind": "items"}, units=units, estimated_cost=0.01)
    done, failed = jobs.pending_units(job.id)
    jobs.save_result(done.id, CallResult(
        status="succeeded", model="claude-haiku-4-5", output="{}",
        fields={"wet": True, "score": 0.123456789}, input_tokens=10, output_tokens=5,
        cost_estimate=0.0000123, latency_ms=1234.5678, attempts=1))
    jobs.save_result(failed.id, CallResult(
        status="failed", model="claude-haiku-4-5", error="Claude did not answer.",
        attempts=3))
    jobs.finish(job.id, "finished")
    at = sign_in("ada")
    at.session_state["lab_edit_template"] = template.id  # its output shape in the editor
    for tab in ("Templates", "Batch runs"):
        at.session_state["lab_tab"] = tab
        open_page(at, "pages/prompt_lab.py")
        assert_plain(at, f"Prompt lab, {tab}", data_dir)
    assert "Claude did not answer." in seen(at)
