"""Board tiles on a live dataset (a real PostgreSQL source): a chart and a number computed in
its database give pandas' numbers on the same sample, and say they are live."""

from collections.abc import Iterator

import pandas as pd
import pytest

from services.access.users import UserView
from services.boards import boards, tiles
from services.boards.filters import BarFilter
from services.boards.models import BoardInput, TileInput
from services.charts.spec import Filter
from services.data import live_datasets
from services.errors import InvalidInput
from services.sources import door
from services.sources.catalog import SourceView
from tests.factories import make_admin, make_user
from tests.live_source import SAMPLES, LiveSource, add_reader_source

WEATHER = pd.read_csv(SAMPLES / "seattle-weather.csv", parse_dates=["date"])


@pytest.fixture
def admin() -> UserView:
    return make_admin()


@pytest.fixture
def source(admin: UserView, live: LiveSource) -> Iterator[SourceView]:
    yield add_reader_source(admin, live)
    door.dispose_engines()


def test_live_tiles_are_computed_in_the_database(admin: UserView, source: SourceView) -> None:
    ana = make_user(admin, "ana")
    weather = live_datasets.create_live_dataset(ana, source.id, "public", "seattle_weather")
    board = boards.create_board(ana, BoardInput(title="Live"))
    with pytest.raises(InvalidInput, match="no versions"):
        boards.add_tile(ana, board.id, TileInput(kind="chart", dataset_id=weather.id,
                                                 dataset_version=1, spec={"x": "weather"}))
    for tile in (TileInput(kind="chart", dataset_id=weather.id,
                           spec={"chart_type": "bar", "x": "weather"}),
                 TileInput(kind="number", dataset_id=weather.id,
                           spec={"aggregate": "sum", "column": "precipitation",
                                 "date_column": "date", "period": "month", "label": "mm"})):
        boards.add_tile(ana, board.id, tile)
    board = boards.get_board(ana, board.id)
    bar = [BarFilter(filter=Filter(column="date", op="between",
                                   value=["2015-01-01", "2015-06-30"]), kind="date")]
    chart, number = tiles.board_contents(ana, board, bar, [])
    assert chart.problem == "" and number.problem == ""
    assert chart.version_sentence == "Live: public.seattle_weather in warehouse · read just now."
    half = WEATHER[WEATHER["date"].between("2015-01-01", "2015-06-30")]
    counts = {row[0]: row[chart.table_columns.index("Count of rows")]
              for row in chart.table_rows}
    assert counts == half["weather"].value_counts().to_dict()
    monthly = half.groupby(half["date"].dt.to_period("M"))["precipitation"].sum()
    assert number.table_rows[-1][0] == "June 2015"  # the bar's date range ends there
    assert number.table_rows[-1][1] == pytest.approx(monthly.iloc[-1])
    assert number.table_rows[-2][1] == pytest.approx(monthly.iloc[-2])
    assert number.change_text.endswith("on the previous month")
    assert tiles.shared_columns(ana, board)["date"] == "date"
