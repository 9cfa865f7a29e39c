"""What each tile shows: chart numbers against pandas, the filter bar, cross-filters, fresh
vs pinned, number tiles, answers' tables, problems instead of exceptions, notes."""

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from services.access.users import UserView
from services.boards import boards, tiles
from services.boards.filters import BarFilter
from services.boards.models import BoardInput, BoardView, TileInput
from services.boards.tiles import Selection, TileContent
from services.charts.spec import Filter
from services.data import datasets
from services.data.dataset_models import DropColumns, FilterRows
from services.errors import InvalidInput
from tests.factories import make_admin, make_user

DATA = Path(__file__).resolve().parents[2] / "data"
PENGUINS = pd.read_csv(DATA / "penguins.csv")
WEATHER = pd.read_csv(DATA / "nyc_weather_utc.csv", parse_dates=["time_hour"])


def _upload(actor: UserView, name: str) -> int:
    view, _ = datasets.create_from_upload(actor, DATA / name, original_name=name)
    return view.id


def _board(actor: UserView, *tile_inputs: TileInput) -> BoardView:
    board = boards.create_board(actor, BoardInput(title="Team board", visibility="shared"))
    for tile in tile_inputs:
        boards.add_tile(actor, board.id, tile)
    return boards.get_board(actor, board.id)


def _chart(dataset_id: int, version: int | None = None, **spec: object) -> TileInput:
    return TileInput(kind="chart", dataset_id=dataset_id, dataset_version=version, spec=spec)


def _table(content: TileContent) -> dict:
    """The tile's table as group → the chart's value (the column after the group's)."""
    value = next(i for i, name in enumerate(content.table_columns)
                 if name.startswith(("Count of", "Mean of")))
    return {row[0]: row[value] for row in content.table_rows}


@pytest.fixture
def ana() -> UserView:
    return make_user(make_admin(), "ana")


def test_chart_tile_numbers_equal_pandas_with_a_bar_filter_applied_and_one_ignored(
        ana: UserView) -> None:
    penguins = _upload(ana, "penguins.csv")
    board = _board(ana, _chart(penguins, chart_type="bar", x="species", y="body_mass_g",
                               agg="mean"))
    plain = tiles.board_contents(ana, board, [], [])[0]
    expected = PENGUINS.groupby("species")["body_mass_g"].mean()
    assert plain.problem == "" and plain.kind == "chart"
    assert _table(plain) == pytest.approx(expected.to_dict())
    assert plain.figure is not None and plain.figure["data"]
    assert plain.summary and plain.summary == plain.figure["layout"]["meta"]["summary"]
    assert plain.title == "Mean of body_mass_g by species"
    assert (plain.x_column, plain.x_kind, plain.dataset_id) == ("species", "text", penguins)
    assert plain.version_sentence.startswith("Updated to version 1 on ")

    bar = [BarFilter(filter=Filter(column="island", op="in", value=["Biscoe"]), kind="text"),
           BarFilter(filter=Filter(column="region", op="eq", value="EU"), kind="text"),
           BarFilter(filter=Filter(column="year", op="eq", value=2008), kind="text")]
    filtered = tiles.tile_content(ana, board, board.tiles[0], bar, [])
    biscoe = PENGUINS[PENGUINS["island"] == "Biscoe"].groupby("species")["body_mass_g"].mean()
    assert _table(filtered) == pytest.approx(biscoe.to_dict())
    assert filtered.filters_sentence == (
        "This tile ignores the filters on “region” and “year”: its data has no column of "
        "that name and kind.")


def test_a_selection_filters_the_other_tile_of_its_dataset_only(ana: UserView) -> None:
    penguins = _upload(ana, "penguins.csv")
    weather = _upload(ana, "nyc_weather_utc.csv")
    board = _board(ana, _chart(penguins, chart_type="bar", x="species"),
                   _chart(penguins, chart_type="bar", x="island"),
                   _chart(weather, chart_type="bar", x="origin"))
    by_species, by_island, by_origin = board.tiles
    chosen = Filter(column="species", op="eq", value="Adelie")
    chip = Selection(tile_id=by_species.id, dataset_id=penguins, filter=chosen,
                     label=tiles.selection_label(chosen))
    assert chip.label == "species is Adelie"
    shown = tiles.board_contents(ana, board, [], [chip])
    assert [c.tile_id for c in shown] == [t.id for t in board.tiles]
    species, island, origin = shown
    assert _table(species) == PENGUINS["species"].value_counts().to_dict()  # its own tile
    adelie = PENGUINS[PENGUINS["species"] == "Adelie"]["island"].value_counts()
    assert _table(island) == adelie.to_dict()
    assert "species is Adelie" in island.filters_sentence
    assert _table(origin) == WEATHER["origin"].value_counts().to_dict()  # another dataset
    assert origin.filters_sentence == ""


def test_selection_labels_read_as_words() -> None:
    label = tiles.selection_label
    assert label(Filter(column="day", op="in", value=["Sat", "Sun"])) == "day is Sat or Sun"
    assert label(Filter(column="bill", op="between", value=[40, 45.5])) == \
        "bill from 40 to 45.5"
    assert label(Filter(column="when", op="between", value=["2013-01-01", None])) == \
        "when from 1 Jan 2013"
    assert label(Filter(column="n", op="in", value=[1, 2, 3, 4, 5])) == "n is 1, 2, 3 or 2 more"


def test_fresh_tile_follows_the_new_version_and_pinned_stays(ana: UserView) -> None:
    penguins = _upload(ana, "penguins.csv")
    board = _board(ana, _chart(penguins, chart_type="bar", x="species"),
                   _chart(penguins, 1, chart_type="bar", x="species"))
    datasets.apply_steps(ana, penguins, [FilterRows(column="island", op="=", value="Dream")])
    fresh, pinned = tiles.board_contents(ana, board, [], [])
    dream = PENGUINS[PENGUINS["island"] == "Dream"]["species"].value_counts()
    assert _table(fresh) == dream.to_dict()
    assert fresh.version_sentence.startswith("Updated to version 2 on ")
    assert _table(pinned) == PENGUINS["species"].value_counts().to_dict()
    assert pinned.version_sentence == "Pinned to version 1."


def _number(dataset_id: int, **spec: object) -> TileInput:
    return TileInput(kind="number", dataset_id=dataset_id, spec=spec)


def test_number_tile_latest_full_period_against_the_one_before(ana: UserView) -> None:
    weather = _upload(ana, "nyc_weather_utc.csv")
    board = _board(ana,
                   _number(weather, aggregate="count", label="readings",
                           date_column="time_hour", period="month"),
                   _number(weather, aggregate="mean", column="temp", date_column="time_hour",
                           period="month", filters=[{"column": "wind_dir", "op": "between",
                                                     "value": [0, 180]}]))
    count, mean = tiles.board_contents(ana, board, [], [])
    months = WEATHER["time_hour"].dt.tz_localize(None).dt.to_period("M")
    per_month = WEATHER.groupby(months).size()
    march, february = int(per_month.iloc[-1]), int(per_month.iloc[-2])
    assert count.number_text == f"{march:,} readings"
    percent = round((march - february) / february * 100)
    assert count.change_text == f"−{abs(percent)} % on the previous month"
    assert count.summary == (f"{march:,} readings in March 2013, {count.change_text} "
                             f"({february:,} in February 2013).")
    assert count.table_rows[-3:] == [["January 2013", int(per_month.iloc[0])],
                                     ["February 2013", february], ["March 2013", march]]
    assert count.table_rows[0] == ["April 2012", 0] and len(count.table_rows) == 12
    assert count.title == "Readings"

    calm = WEATHER[WEATHER["wind_dir"].between(0, 180)]
    temps = calm.groupby(months[calm.index])["temp"].mean()
    assert mean.table_rows[-1][1] == pytest.approx(temps.iloc[-1])
    assert mean.table_rows[-2][1] == pytest.approx(temps.iloc[-2])
    change = (temps.iloc[-1] - temps.iloc[-2]) / abs(temps.iloc[-2]) * 100
    assert mean.change_text.startswith("+" if round(change) > 0 else "−")
    assert str(abs(round(change))) in mean.change_text


def test_number_tile_skips_a_period_still_running(ana: UserView) -> None:
    weather = _upload(ana, "nyc_weather_utc.csv")
    board = _board(ana, _number(weather, date_column="time_hour", period="month"))
    source = tiles._read_source(ana, board.tiles[0], {}).place  # noqa: SLF001 - the tile's file
    from services.boards import numbers  # noqa: PLC0415
    spec = numbers.NumberSpec.model_validate(board.tiles[0].spec)
    shown = numbers.compute(source, spec, [], today=datetime(2013, 3, 20))
    assert shown.summary.startswith("669 rows in February 2013, ")  # March is not over
    assert shown.table_rows[-1][0] == "February 2013"


def test_number_tile_without_a_date_column_is_the_whole_value(ana: UserView) -> None:
    penguins = _upload(ana, "penguins.csv")
    board = _board(ana, _number(penguins, aggregate="sum", column="body_mass_g",
                                label="grams of Gentoo",
                                filters=[{"column": "species", "op": "eq", "value": "Gentoo"}]),
                   _number(penguins, aggregate="distinct", column="island"))
    total, islands = tiles.board_contents(ana, board, [], [])
    gentoo = PENGUINS[PENGUINS["species"] == "Gentoo"]["body_mass_g"].sum()
    assert total.number_text == f"{int(gentoo):,} grams of Gentoo"
    assert total.change_text == ""
    assert islands.number_text == "3"
    assert islands.title == "Distinct count of island"


def test_number_and_table_specs_are_checked_in_plain_words(ana: UserView) -> None:
    penguins = _upload(ana, "penguins.csv")
    board = boards.create_board(ana, BoardInput(title="Checks"))
    cases = [
        (_number(penguins, aggregate="mean"), "choose the column whose mean"),
        (_number(penguins, aggregate="sum", column="species"), "needs a number column"),
        (_number(penguins, aggregate="count", date_column="island"), "choose a date column"),
        (_number(penguins, aggregate="max", column="wings"), "“wings” is not in this dataset"),
        (_number(penguins, aggregate="average"), "choose what it counts again"),
        (_number(penguins, filters=[{"column": "sex", "op": "between", "value": [1, 2]}]),
         "range filter needs a number or date"),
        (TileInput(kind="table", spec={"question": "How many?"}), "did not come through"),
        (TileInput(kind="table", spec={"columns": ["a", "b"], "rows": [[1]]}),
         "do not match its columns"),
    ]
    for tile, words in cases:
        with pytest.raises(InvalidInput, match=words):
            boards.add_tile(ana, board.id, tile)
    assert boards.get_board(ana, board.id).tiles == []
    kept = boards.add_tile(ana, board.id, _number(penguins, date_column=None, period="week",
                                                  label="  many   penguins "))
    assert kept.spec == {"aggregate": "count", "column": None, "label": "many penguins",
                         "date_column": None, "period": None, "filters": []}


def test_an_answer_table_shows_its_stored_rows_and_ignores_the_bar(ana: UserView) -> None:
    rows = [[f"row {i}", i] for i in range(600)]
    board = _board(ana, TileInput(kind="table", spec={
        "question": "Which rows?", "sql": "SELECT 1", "columns": ["name", "n"], "rows": rows,
        "answered_at": "2026-12-03T10:00:00"}))
    assert board.tiles[0].spec is not None and len(board.tiles[0].spec["rows"]) == 500
    bar = [BarFilter(filter=Filter(column="n", op="eq", value=1), kind="number")]
    shown = tiles.board_contents(ana, board, bar, [])[0]
    assert shown.table_columns == ["name", "n"] and shown.table_rows == rows[:500]
    assert shown.summary == "The answer to “Which rows?”: 500 rows of 2 columns."
    assert "do not apply" in shown.filters_sentence
    assert shown.version_sentence == "Answered on 3 Dec 2026."


def test_a_removed_dataset_gives_a_problem_not_an_exception(ana: UserView) -> None:
    penguins = _upload(ana, "penguins.csv")
    board = _board(ana, _chart(penguins, chart_type="bar", x="species"),
                   _number(penguins), TileInput(kind="note", note="Still here"))
    datasets.delete_dataset(ana, penguins)
    chart, number, note = tiles.board_contents(ana, board, [], [])
    for gone in (chart, number):
        assert gone.problem and "does not exist" in gone.problem
        assert gone.figure is None and gone.table_rows == [] and gone.number_text == ""
    assert note.problem == "" and note.note_html == "Still here"


def test_a_note_is_sanitised_and_summarised(ana: UserView) -> None:
    board = _board(ana, TileInput(kind="note", note="**Read** this <script>x()</script> "
                                                    "[link](javascript:alert(1))"))
    tile = board.tiles[0].model_copy(update={"note": "<script>alert(1)</script> hi"})
    shown = tiles.tile_content(ana, board, tile, [], [])  # even a note stored unsafely
    assert "<script>" not in shown.note_html
    stored = tiles.board_contents(ana, board, [], [])[0]
    assert "javascript:" not in stored.note_html and "<script>" not in stored.note_html
    assert stored.kind == "note" and stored.summary.startswith("Read this")


def test_shared_columns_for_the_filter_bar(ana: UserView) -> None:
    penguins = _upload(ana, "penguins.csv")
    weather = _upload(ana, "nyc_weather_utc.csv")
    board = _board(ana, _chart(penguins, chart_type="bar", x="species"),
                   _chart(weather, chart_type="bar", x="origin"),
                   TileInput(kind="note", note="n"))
    columns = tiles.shared_columns(ana, board)
    assert columns["species"] == "text" and columns["time_hour"] == "date"
    assert columns["year"] == "number"  # both datasets have a number "year": one entry
    pairs = tiles.shared_column_kinds(ana, board)
    assert len(pairs) == len(set(pairs)) == len(columns)


def test_a_column_gone_from_the_newest_version_gives_a_problem(ana: UserView) -> None:
    penguins = _upload(ana, "penguins.csv")
    board = _board(ana, _chart(penguins, chart_type="bar", x="island"),
                   _chart(penguins, 1, chart_type="bar", x="island"))
    datasets.apply_steps(ana, penguins, [DropColumns(columns=["island"])])
    fresh, pinned = tiles.board_contents(ana, board, [], [])
    assert "“island” is not in this dataset" in fresh.problem and fresh.figure is None
    assert pinned.problem == "" and _table(pinned) == PENGUINS["island"].value_counts().to_dict()


def test_a_date_range_on_the_bar_moves_a_numbers_latest_period(ana: UserView) -> None:
    weather = _upload(ana, "nyc_weather_utc.csv")
    board = _board(ana, _number(weather, date_column="time_hour"))  # by month by default
    assert board.tiles[0].spec is not None and board.tiles[0].spec["period"] == "month"
    bar = [BarFilter(filter=Filter(column="time_hour", op="between",
                                   value=["2013-01-01", "2013-02-28T23:59:59"]), kind="date")]
    shown = tiles.board_contents(ana, board, bar, [])[0]
    months = WEATHER["time_hour"].dt.tz_localize(None).dt.to_period("M").value_counts()
    january, february = int(months[pd.Period("2013-01")]), int(months[pd.Period("2013-02")])
    assert shown.number_text == f"{february:,} rows"
    assert shown.summary.startswith(f"{february:,} rows in February 2013, ")
    assert shown.summary.endswith(f"({january:,} in January 2013).")
    assert shown.filters_sentence == "Every filter on the board applies to this tile."
    mid_february = [BarFilter(filter=Filter(column="time_hour", op="between",
                                            value=["2013-01-01", "2013-02-15"]), kind="date")]
    cut = tiles.board_contents(ana, board, mid_february, [])[0]  # half a month is not full
    assert cut.summary == f"{january:,} rows in January 2013; 0 in December 2012."
    assert cut.change_text == ""


def test_a_click_on_a_month_selects_the_whole_month_for_the_other_tiles(ana: UserView) -> None:
    weather = _upload(ana, "nyc_weather_utc.csv")
    board = _board(ana, _chart(weather, chart_type="line", x="time_hour", bucket="month"),
                   _chart(weather, chart_type="bar", x="origin"))
    line, _ = tiles.board_contents(ana, board, [], [])
    assert (line.x_column, line.x_kind, line.x_bucket) == ("time_hour", "date", "month")
    clicked = {"selection": {"points": [{"x": "2013-02-01"}], "box": [], "lasso": []}}
    chip = tiles.selection_from_event(line, clicked)
    assert chip is not None and chip.label == "time_hour in February 2013"
    assert chip.filter.value == ["2013-02-01T00:00:00", "2013-02-28T23:59:59"]
    assert (chip.tile_id, chip.dataset_id) == (line.tile_id, weather)
    same_line, origins = tiles.board_contents(ana, board, [], [chip])
    february = (WEATHER["time_hour"].dt.month == 2).sum()
    assert _table(origins) == {"EWR": february}
    assert len(same_line.table_rows) == 3  # its own tile keeps every month
    two = {"selection": {"points": [{"x": "2013-01-01"}, {"x": "2013-03-01"}]}}
    wide = tiles.selection_from_event(line, two)
    assert wide is not None and wide.label == "time_hour from January 2013 to March 2013"
    assert tiles.selection_from_event(line, {"selection": {"points": []}}) is None


def test_latest_full_period_skips_a_running_or_cut_period() -> None:
    from services.boards.numbers import latest_full  # noqa: PLC0415
    month = pd.Period("2026-12", "M")
    now = pd.Period("2026-12", "M")
    assert latest_full(month, now, None) == pd.Period("2026-11", "M")  # still running
    assert latest_full(pd.Period("2026-10", "M"), now, None) == pd.Period("2026-10", "M")
    october = pd.Period("2026-10", "M")
    assert latest_full(october, now, pd.Timestamp("2026-10-31")) == october
    assert latest_full(october, now, pd.Timestamp("2026-10-30")) == pd.Period("2026-09", "M")


def test_a_number_whose_filters_end_its_rows_early_reads_their_own_latest_day(
        ana: UserView, monkeypatch: pytest.MonkeyPatch) -> None:
    """The latest period is found from the newest date of all the rows (no scan); filters that
    keep only January (the data runs to 25 March) still get January's last full day."""
    from services.boards import numbers  # noqa: PLC0415
    from services.charts import where  # noqa: PLC0415
    weather = _upload(ana, "nyc_weather_utc.csv")
    board = _board(ana, _number(weather, date_column="time_hour", period="day"),
                   _number(weather, date_column="time_hour", period="day",
                           filters=[{"column": "month", "op": "eq", "value": 1}]))
    maxima: list[list[Filter]] = []  # the filters of each newest-date lookup
    total_at = where.total_at
    monkeypatch.setattr(numbers.where, "total_at",
                        lambda place, agg, column, filters: maxima.append(filters)
                        or total_at(place, agg, column, filters))
    newark = [BarFilter(filter=Filter(column="origin", op="in", value=["EWR"]), kind="text")]
    every, january = tiles.board_contents(ana, board, newark, [])  # every row is Newark's
    days = WEATHER["time_hour"].dt.tz_localize(None).dt.normalize().value_counts()
    march_25, march_24 = (int(days[pd.Timestamp(f"2013-03-{d}")]) for d in (25, 24))
    assert every.summary.startswith(f"{march_25:,} rows in 25 Mar 2013, ")
    assert every.summary.endswith(f"({march_24:,} in 24 Mar 2013).")
    # "month" is New York's month; the dates are UTC, so January's rows end on 1 Feb (UTC)
    kept = WEATHER[WEATHER["month"] == 1]["time_hour"].dt.tz_localize(None).dt.normalize()
    per_day = kept.value_counts().sort_index()
    assert per_day.index[-1] == pd.Timestamp("2013-02-01")
    last, before = int(per_day.iloc[-1]), int(per_day.iloc[-2])
    percent = round((last - before) / before * 100)
    assert january.summary == (f"{last} rows in 1 Feb 2013, −{abs(percent)} % on the previous "
                               f"day ({before} in 31 Jan 2013).")
    assert january.table_rows == [[f"{d.day} {d:%b %Y}", int(n)]
                                  for d, n in per_day.iloc[-12:].items()]
    # one lookup without filters each; only January's rows end early: one with its filters
    assert [len(f) for f in maxima].count(0) == 2 and len(maxima) == 3


def test_number_tile_median_and_latest_date_over_all_rows(ana: UserView) -> None:
    penguins = _upload(ana, "penguins.csv")
    weather = _upload(ana, "nyc_weather_utc.csv")
    board = _board(ana, _number(penguins, aggregate="median", column="bill_length_mm"),
                   _number(weather, aggregate="max", column="time_hour", label="last reading"))
    median, last = tiles.board_contents(ana, board, [], [])
    assert median.number_text == f"{PENGUINS['bill_length_mm'].median():g}"
    assert median.summary == f"Median of bill_length_mm: {median.number_text}."
    assert last.number_text == "25 Mar 2013 17:00 last reading"
    assert last.table_rows == [["2013-03-25T17:00:00+00:00"]]


def test_a_tiles_table_is_bounded_and_plain_json() -> None:
    import numpy as np  # noqa: PLC0415
    frame = pd.DataFrame({"when": [pd.Timestamp("2026-12-03"), pd.NaT] * 300,
                          "n": [np.int64(1), np.nan] * 300, "ok": [True, False] * 300})
    columns, rows, note = tiles.table_of(frame)
    assert columns == ["when", "n", "ok"] and len(rows) == 500
    assert rows[:2] == [["2026-12-03T00:00:00", 1.0, True], [None, None, False]]
    assert note == "Showing 500 of 600 rows."
