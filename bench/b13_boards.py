"""B13: a board of 8 tiles (two bars, two lines, a heatmap, two numbers, an answer's table)
on the 10M-row dataset, opened in AppTest — cold (empty cache), a warm rerun, and a change on
the board's filter bar.

The dataset is B3's generator, registered through `services.data.datasets` in a temporary
data folder; neither is timed, nor is building the board. Python imports are warmed first
(a sign-in run and importing the page's modules), so "cold" measures the page with an empty
`st.cache_data`. The three figures are medians of interleaved repeats (cold, warm, filter,
cold, warm, filter, …), each cold on a fresh AppTest with its caches cleared, so a busy
moment of a shared machine touches all three alike. `B13_ROWS` (default 10,000,000; 200000
for a quick try) and `B13_REPEATS` (default 5) change the size.
"""

import os
import statistics
import time
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from bench.apptest_timing import data_folder, signed_in
from bench.b3_chart_speed import ROWS, make_dataset

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-42"
COLD_TARGET_S = 2.0
WARM_TARGET_S = 0.3
FILTER_TARGET_S = 1.0
WARM_RUNS = 3  # warm reruns per round (their median is the round's figure)

CHARTS = [
    {"chart_type": "bar", "x": "region", "y": "revenue", "agg": "mean"},
    {"chart_type": "bar", "x": "channel", "agg": "count"},
    {"chart_type": "line", "x": "date", "y": "revenue", "agg": "sum", "bucket": "month"},
    {"chart_type": "line", "x": "date", "y": "rating", "agg": "mean", "bucket": "month"},
    {"chart_type": "heatmap", "x": "region", "y": "channel", "agg": "count"},
]
NUMBERS = [
    {"aggregate": "count", "column": None, "label": "orders", "date_column": "date",
     "period": "month", "filters": []},
    {"aggregate": "sum", "column": "revenue", "label": "revenue", "date_column": "date",
     "period": "month", "filters": []},
]
ANSWER = {"question": "Which region sells most?",
          "sql": "SELECT region, sum(revenue) AS revenue FROM sales GROUP BY region",
          "columns": ["region", "revenue"],
          "rows": [["North", 1.0], ["South", 2.0], ["East", 3.0], ["West", 4.0]],
          "answered_at": "2026-12-01T10:00:00"}


def _build(source: Path) -> int:
    """The admin, the dataset and the board of 8 tiles (not timed)."""
    from services.access import users
    from services.access.permissions import Role
    from services.access.users import NewUser
    from services.boards import boards
    from services.boards.models import BoardInput, TileInput
    from services.data import datasets

    admin = users.create_first_admin(
        NewUser(username="ada", name="Ada", password=PASSWORD, role=Role.ADMIN))
    dataset, _ = datasets.create_from_upload(admin, source, original_name=source.name)
    board = boards.create_board(admin, BoardInput(title="Sales", columns=2))
    for spec in CHARTS:
        boards.add_tile(admin, board.id, TileInput(kind="chart", dataset_id=dataset.id,
                                                   spec=spec))
    for spec in NUMBERS:
        boards.add_tile(admin, board.id, TileInput(kind="number", dataset_id=dataset.id,
                                                   spec=spec))
    boards.add_tile(admin, board.id, TileInput(kind="table", dataset_id=dataset.id,
                                               spec=ANSWER))
    return board.id


def _check(at: AppTest, *, filtered: bool = False) -> None:
    """The board drew its tiles (5 charts, 2 numbers) — and the filter when asked."""
    if at.exception:
        raise RuntimeError(f"the board did not draw: {at.exception}")
    if len(at.get("plotly_chart")) != len(CHARTS) or len(at.metric) != len(NUMBERS):
        raise RuntimeError("the board did not draw every tile")
    if filtered and "Every filter on the board applies" not in str(
            [c.value for c in at.caption]):
        raise RuntimeError("the filter bar's filter did not reach the tiles")


def _timed(at: AppTest, **check: bool) -> float:
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    _check(at, **check)
    return elapsed


def _opened(board_id: int) -> AppTest:
    at = signed_in("ada", PASSWORD)
    at.query_params["board"] = str(board_id)
    at.switch_page("pages/boards.py")
    return at


def _round(board_id: int, region: str) -> tuple[float, float, float]:
    """One cold open, warm reruns, one filter-bar change (region is `region`)."""
    at = _opened(board_id)
    st.cache_data.clear()
    cold = _timed(at)
    warm = statistics.median(_timed(at) for _ in range(WARM_RUNS))
    from services.boards.filters import BarFilter
    from services.charts.spec import Filter

    # the bar's state as the "Add filter" button leaves it (components.board_state)
    at.session_state[f"board_{board_id}_bar"] = [BarFilter(
        filter=Filter(column="region", op="in", value=[region]), kind="text",
    ).model_dump(mode="json")]
    change = _timed(at, filtered=True)
    return cold, warm, change


def _measure(source: Path, repeats: int) -> tuple[float, float, float]:
    board_id = _build(source)
    import components.board_tile  # noqa: F401 - warm Python imports, not the cache
    import services.boards.tiles  # noqa: F401

    _round(board_id, "North")  # a first round warms imports and DuckDB; not counted
    rounds = [_round(board_id, region)
              for region in ("South", "East", "West", "Central", "Coast", "Islands",
                             "Mountains", "North")[:repeats]]
    cold, warm, change = (statistics.median(r[i] for r in rounds) for i in range(3))
    return cold, warm, change


def run(work_dir: Path) -> dict[str, dict]:
    rows = int(os.environ.get("B13_ROWS", ROWS))
    repeats = max(3, int(os.environ.get("B13_REPEATS", 5)))
    source = make_dataset(work_dir, rows) if rows == ROWS else _small(work_dir, rows)
    with data_folder(work_dir):
        cold, warm, change = _measure(source, repeats)
    load = os.getloadavg()[0]
    detail = (f"Boards page in AppTest, a board of 8 tiles on {rows:,} rows; medians of "
              f"{repeats} interleaved rounds (cold = fresh session, empty st.cache_data); "
              f"load average {load:.1f}")
    return {
        "B13 board cold": {"value": round(cold * 1000, 1), "target": COLD_TARGET_S * 1000,
                           "unit": "ms", "ok": cold <= COLD_TARGET_S, "detail": detail},
        "B13 board warm": {"value": round(warm * 1000, 1), "target": WARM_TARGET_S * 1000,
                           "unit": "ms", "ok": warm <= WARM_TARGET_S, "detail": detail},
        "B13 board filter change": {"value": round(change * 1000, 1),
                                    "target": FILTER_TARGET_S * 1000, "unit": "ms",
                                    "ok": change <= FILTER_TARGET_S, "detail": detail},
    }


def _small(work_dir: Path, rows: int) -> Path:
    """A smaller copy of B3's dataset for a quick try, in a folder of its own."""
    folder = work_dir / f"b13_{rows}"
    folder.mkdir(parents=True, exist_ok=True)
    return make_dataset(folder, rows)


if __name__ == "__main__":
    import json

    print(json.dumps(run(ROOT / "bench" / "work"), indent=2))
