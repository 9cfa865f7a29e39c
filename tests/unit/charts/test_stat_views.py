"""Seaborn statistics figures: PNG bytes from a DuckDB sample, clear errors otherwise."""

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import matplotlib
import matplotlib.pyplot as plt
import pytest
import seaborn as sns

from services.charts.spec import Filter
from services.charts.stat_views import (
    correlation_matrix,
    correlation_png,
    distribution_png,
    pairplot_png,
    regression_png,
)
from services.errors import InvalidInput, NotFound

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("s") / "data.parquet"
    duckdb.sql(f"""COPY (SELECT i % 97 * 1.5 AS "Price", i % 7 AS "Qty",
        (i % 97) * 3.0 + i % 5 AS "Revenue", ['a','b','c'][1 + i % 3] AS "Group",
        CAST(i AS VARCHAR) AS "Amount as text",
        CASE WHEN i = 3 THEN 'inf'::DOUBLE ELSE i / 10.0 END AS "Odd"
        FROM range(3000) t(i)) TO '{path}' (FORMAT parquet)""")
    return path


def test_distribution_of_numbers_and_text(data: Path) -> None:
    assert distribution_png(data, "Odd").startswith(PNG)
    assert distribution_png(data, "Group").startswith(PNG)


def test_correlation_heatmap(data: Path) -> None:
    assert correlation_png(data, ["Price", "Qty", "Revenue"]).startswith(PNG)


def test_pairplot_reports_its_sample_size(data: Path) -> None:
    image, drawn = pairplot_png(data, ["Price", "Revenue"], sample_size=500)
    assert image.startswith(PNG) and drawn == 500
    _, everything = pairplot_png(data, ["Price", "Odd"], sample_size=10_000)
    assert everything == 2999  # the infinite value is left out


def test_regression(data: Path) -> None:
    assert regression_png(data, "Price", "Revenue", sample_size=1000).startswith(PNG)


def test_text_column_gets_the_numbers_stored_as_text_hint(data: Path) -> None:
    with pytest.raises(InvalidInput, match="numbers stored as text"):
        regression_png(data, "Price", "Amount as text")


def test_bad_requests(data: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="at least 2"):
        correlation_png(data, ["Price", "Price"])
    with pytest.raises(InvalidInput, match="renamed or removed"):
        distribution_png(data, "Gone")
    with pytest.raises(NotFound):
        distribution_png(tmp_path / "gone.parquet", "Price")


def _draw_everything(data: Path) -> None:
    distribution_png(data, "Price")
    distribution_png(data, "Group")
    correlation_png(data, ["Price", "Qty", "Revenue"])
    pairplot_png(data, ["Price", "Qty", "Revenue"], sample_size=300)
    regression_png(data, "Price", "Revenue", sample_size=300)


def test_drawing_never_writes_the_process_wide_style(data: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Streamlit runs each session on its own thread: a style set for one figure must not
    be set for the whole process, even for a moment (another thread would draw with it)."""
    writes: list[str] = []
    real_set, real_raw = matplotlib.RcParams._set, matplotlib.RcParams._update_raw

    def spy_set(self: matplotlib.RcParams, key: str, val: object) -> None:
        writes.append(key)
        real_set(self, key, val)

    def spy_raw(self: matplotlib.RcParams, other: object) -> None:
        writes.append("update")
        real_raw(self, other)

    def no_pyplot(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pyplot state machine is shared by every thread")

    monkeypatch.setattr(matplotlib.RcParams, "_set", spy_set)
    monkeypatch.setattr(matplotlib.RcParams, "_update_raw", spy_raw)
    monkeypatch.setattr(plt, "figure", no_pyplot)
    monkeypatch.setattr(plt, "subplots", no_pyplot)
    _draw_everything(data)
    assert writes == []


_KINDS = (
    lambda data: distribution_png(data, "Price"),
    lambda data: distribution_png(data, "Group"),
    lambda data: correlation_png(data, ["Price", "Qty", "Revenue"]),
    lambda data: pairplot_png(data, ["Price", "Qty", "Revenue"], sample_size=300),
    lambda data: regression_png(data, "Price", "Revenue", sample_size=300),
)


def _draw_two_kinds(data: Path, thread: int, start: threading.Barrier) -> None:
    start.wait()  # all eight begin together, so their figures are drawn at the same time
    _KINDS[thread % 5](data)
    _KINDS[(thread + 2) % 5](data)


def test_eight_threads_drawing_at_once_leave_the_style_alone(data: Path) -> None:
    """Every kind of figure is drawn by three or four threads at once, beside the other
    kinds (the same five figures as _draw_everything; each thread draws two of them)."""
    before = dict(matplotlib.rcParams)
    style_before = sns.axes_style()
    start = threading.Barrier(8, timeout=60)  # a thread that failed early breaks it
    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(_draw_two_kinds, data, n, start) for n in range(8)]:
            future.result()
    assert dict(matplotlib.rcParams) == before
    assert sns.axes_style() == style_before
    assert plt.get_fignums() == []  # every figure closed (none left in pyplot's registry)


QTY_ZERO = [Filter(column="Qty", op="between", value=[0, 0])]  # i % 7 == 0: 429 of 3000 rows


def test_statistics_use_only_the_rows_the_filters_keep(data: Path) -> None:
    _, drawn = pairplot_png(data, ["Price", "Revenue"], sample_size=10_000, filters=QTY_ZERO)
    assert drawn == 429
    everything = correlation_matrix(data, ["Price", "Odd"])
    kept = correlation_matrix(data, ["Price", "Odd"], filters=[
        Filter(column="Group", op="in", value=["a"]), *QTY_ZERO])
    assert kept.loc["Price", "Odd"] != pytest.approx(everything.loc["Price", "Odd"])
    assert distribution_png(data, "Group", filters=QTY_ZERO).startswith(PNG)
    assert regression_png(data, "Price", "Revenue", filters=QTY_ZERO).startswith(PNG)


def test_filters_that_keep_nothing_say_to_remove_a_filter(data: Path) -> None:
    nothing = [Filter(column="Qty", op="between", value=[100, 200])]
    with pytest.raises(InvalidInput, match="remove a filter"):
        distribution_png(data, "Price", filters=nothing)
    with pytest.raises(InvalidInput, match="remove a filter"):
        pairplot_png(data, ["Price", "Revenue"], filters=nothing)
    with pytest.raises(InvalidInput, match="renamed or removed"):
        distribution_png(data, "Price", filters=[Filter(column="Gone", op="eq", value=1)])
