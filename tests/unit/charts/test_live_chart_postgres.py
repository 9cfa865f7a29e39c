"""Every chart type over a live PostgreSQL table gives the numbers the same chart gives over
the Parquet copy of the same rows (the real penguins and Seattle weather samples, and a
generated table with more rows than a chart may draw), read through a read-only role."""

import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, create_engine, event, text

from services.charts.aggregate import (
    MAX_MARKS,
    ChartData,
    aggregate,
    column_kinds,
    column_range,
    column_stats,
    common_values,
    count_rows,
)
from services.charts.live import (
    aggregate_table,
    compile_sql,
    table_column_kinds,
    table_column_range,
    table_column_stats,
    table_common_values,
    table_count_rows,
)
from services.charts.spec import ChartSpec, Filter
from services.errors import NotFound, QueryTimeout, SourceUnavailable
from services.settings import reset_settings_cache
from tests.postgres_server import PostgresServer, drop_database, new_database

SAMPLES = Path(__file__).resolve().parents[3] / "data" / "samples"
TABLES = {"penguins": "penguins.csv", "weather": "seattle-weather.csv"}


@pytest.fixture(scope="module")
def live(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory,
         ) -> Iterator[tuple[Engine, dict[str, Path]]]:
    """The samples as tables in schema `samples`, readable by a role that can only read,
    and the same frames as Parquet files."""
    url = new_database(postgres_server, migrated=False)
    folder = tmp_path_factory.mktemp("live")
    owner = create_engine(url)
    files = {}
    try:
        with owner.begin() as connection:
            connection.execute(text("CREATE SCHEMA samples"))
        for table, name in TABLES.items():
            frame = pd.read_csv(SAMPLES / name, parse_dates=["date"] if table == "weather"
                                else False)
            frame.to_sql(table, owner, schema="samples", index=False)
            files[table] = folder / f"{table}.parquet"
            frame.to_parquet(files[table], index=False)
        many = _many_rows()
        many.to_sql("many", owner, schema="samples", index=False)
        with owner.begin() as connection:  # text that sorts by English rules, not codes
            connection.execute(text('ALTER TABLE samples.many ALTER COLUMN "odd ""name"" 50%" '
                                    'TYPE text COLLATE "en-US-x-icu"'))
        files["many"] = folder / "many.parquet"
        many.to_parquet(files["many"], index=False)
        with owner.begin() as connection:
            connection.execute(text("DROP ROLE IF EXISTS chart_reader"))
            connection.execute(text("CREATE ROLE chart_reader LOGIN"))
            connection.execute(text("GRANT USAGE ON SCHEMA samples TO chart_reader"))
            connection.execute(text("GRANT SELECT ON ALL TABLES IN SCHEMA samples "
                                    "TO chart_reader"))
        reader = create_engine(url.replace("postgres@", "chart_reader@"))
        yield reader, files
        reader.dispose()
    finally:
        owner.dispose()
        drop_database(postgres_server, url)
        postgres_server.execute("DROP ROLE IF EXISTS chart_reader")


def _many_rows(n: int = 30_000) -> pd.DataFrame:
    """More points than a chart may draw: 30,000 ids and days, 50 categories, and values
    with infinities and gaps, so every limit and fallback has to happen in the database."""
    rng = np.random.default_rng(7)
    value = rng.normal(100, 30, n).round(3)
    value[::997], value[5::1013], value[::1009] = np.inf, -np.inf, np.nan
    return pd.DataFrame({
        "id": np.arange(n, dtype="int64"),
        "day": pd.Timestamp("2000-01-01") + pd.to_timedelta(np.arange(n), unit="D"),
        "cat": [f"c{i % 50:02d}" for i in rng.integers(0, 10_000, n)],
        "grp": [f"g{i % 12}" for i in range(n)],
        "value": value,
        "flag": np.arange(n) % 3 == 0,
        # quotes and a % in a name; values that sort apart by character codes and in English
        'odd "name" 50%': [("b", "B", "a", "A", "_z", "Z")[i % 6] for i in range(n)],
    })


PENGUIN_CHARTS = [
    ChartSpec(chart_type="bar", x="species"),
    ChartSpec(chart_type="bar", x="island", y="body_mass_g", agg="mean", sort="asc"),
    ChartSpec(chart_type="bar", x="sex", y="bill_length_mm", agg="median"),
    ChartSpec(chart_type="bar", x="species", y="island", agg="distinct"),
    ChartSpec(chart_type="bar", x="bill_depth_mm", top_n=5),  # top 5 + "Other"
    ChartSpec(chart_type="grouped_bar", x="island", color="sex", y="flipper_length_mm",
              agg="max"),
    ChartSpec(chart_type="stacked_bar", x="species", color="island", y="body_mass_g",
              agg="sum", facet="sex"),
    ChartSpec(chart_type="line", x="year", y="body_mass_g", agg="min", color="species"),
    ChartSpec(chart_type="area", x="bill_length_mm", y="body_mass_g", agg="sum"),
    ChartSpec(chart_type="scatter", x="bill_length_mm", y="bill_depth_mm", color="species",
              facet="island"),
    ChartSpec(chart_type="scatter", x="flipper_length_mm", y="body_mass_g", color="year"),
    ChartSpec(chart_type="histogram", x="flipper_length_mm", color="species"),
    ChartSpec(chart_type="histogram", x="body_mass_g", facet="sex"),
    ChartSpec(chart_type="box", x="species", y="body_mass_g", facet="island"),
    ChartSpec(chart_type="box", y="bill_length_mm"),
    ChartSpec(chart_type="heatmap", x="species", y="island"),
    ChartSpec(chart_type="heatmap", x="bill_length_mm", y="flipper_length_mm",
              color="body_mass_g", agg="mean"),
    ChartSpec(chart_type="heatmap", x="year", y="sex"),  # whole-number bins
    ChartSpec(chart_type="correlation"),
    ChartSpec(chart_type="bar", x="species", filters=[
        Filter(column="island", op="in", value=["Biscoe", "Dream", None]),
        Filter(column="body_mass_g", op="between", value=[3500, None]),
        Filter(column="sex", op="contains", value="fem")]),
    ChartSpec(chart_type="histogram", x="bill_length_mm", filters=[
        Filter(column="sex", op="eq", value=None)]),
    ChartSpec(chart_type="correlation", filters=[
        Filter(column="species", op="eq", value="Gentoo")]),
    ChartSpec(chart_type="bar", x="species", filters=[
        Filter(column="island", op="in", value=["Nowhere"])]),  # no rows at all
]
WEATHER_CHARTS = [
    ChartSpec(chart_type="line", x="date", y="temp_max", agg="mean", bucket="month"),
    ChartSpec(chart_type="line", x="date", y="precipitation", agg="sum", color="weather"),
    ChartSpec(chart_type="area", x="date", bucket="week", color="weather"),
    ChartSpec(chart_type="bar", x="date", bucket="quarter", y="wind", agg="max"),
    ChartSpec(chart_type="bar", x="weather", y="date", agg="max"),  # latest date per group
    ChartSpec(chart_type="heatmap", x="date", y="weather", bucket="year"),
    ChartSpec(chart_type="scatter", x="date", y="temp_min", color="weather"),
    ChartSpec(chart_type="box", x="weather", y="wind"),
    ChartSpec(chart_type="line", x="date", y="temp_min", agg="median", bucket="day",
              filters=[Filter(column="date", op="between",
                              value=["2013-03-01", "2013-06-30"])]),
]
MANY_CHARTS = [
    ChartSpec(chart_type="line", x="id", y="value", agg="mean"),  # falls back to ranges
    ChartSpec(chart_type="line", x="day", color="grp"),  # falls back to weeks, then months
    ChartSpec(chart_type="bar", x="cat", y="value", agg="sum", color="grp"),  # top N, Other
    ChartSpec(chart_type="bar", x="id", top_n=1000),
    ChartSpec(chart_type="scatter", x="id", y="value", color="cat"),  # a sample
    ChartSpec(chart_type="histogram", x="value", color="grp"),
    ChartSpec(chart_type="heatmap", x="id", y="value"),
    ChartSpec(chart_type="heatmap", x="day", y="cat", color="value", agg="median"),
    ChartSpec(chart_type="box", x="cat", y="value", facet="grp"),
    ChartSpec(chart_type="correlation", filters=[
        Filter(column="day", op="between", value=["2010-01-01", "2030-12-31"])]),
    ChartSpec(chart_type="bar", x="flag", y="value", agg="mean", color="grp"),
    ChartSpec(chart_type="heatmap", x="flag", y="grp", filters=[
        Filter(column="flag", op="eq", value=True),
        Filter(column="value", op="between", value=[50.5, 150])]),
    ChartSpec(chart_type="bar", x='odd "name" 50%', y="value", agg="median", filters=[
        Filter(column='odd "name" 50%', op="contains", value="%")]),
    ChartSpec(chart_type="bar", x='odd "name" 50%', color="flag", top_n=3),
    ChartSpec(chart_type="box", x='odd "name" 50%', y="value"),
    ChartSpec(chart_type="line", x="id", color="grp", filters=[
        Filter(column="cat", op="in", value=["c01", "c02", "c03"])]),
]
CASES = ([("penguins", s) for s in PENGUIN_CHARTS] + [("weather", s) for s in WEATHER_CHARTS]
         + [("many", s) for s in MANY_CHARTS])


def _canonical(data: ChartData, ordered: bool) -> pd.DataFrame:
    """The frame with comparable types; rows sorted unless their order is the chart's."""
    frame = data.frame.copy()
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name]) or frame[name].map(
                lambda v: hasattr(v, "isoformat")).any():
            frame[name] = pd.to_datetime(frame[name]).astype("datetime64[ns]")
        elif pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(
                frame[name]):
            frame[name] = frame[name].astype("float64")
    if not ordered:
        frame = frame.sort_values(list(frame.columns), kind="stable", na_position="last")
    return frame.reset_index(drop=True)


@pytest.mark.parametrize(("table", "spec"), CASES,
                         ids=[f"{t}-{s.chart_type}-{i}" for i, (t, s) in enumerate(CASES)])
def test_live_postgres_chart_matches_parquet(live: tuple[Engine, dict[str, Path]], table: str,
                                             spec: ChartSpec) -> None:
    engine, files = live
    expected = aggregate(files[table], spec)
    got = aggregate_table(engine, "samples", table, spec)
    # bars, lines and boxes are drawn in the frame's order; scatter points and cells are not
    ordered = spec.chart_type not in ("scatter", "heatmap", "histogram", "correlation")
    assert list(got.frame.columns) == list(expected.frame.columns)
    assert got.mark_count <= MAX_MARKS
    if expected.is_sampled:  # each engine draws its own random-looking sample
        assert (got.mark_count, got.rows_in, got.note) == (expected.mark_count,
                                                           expected.rows_in, expected.note)
        assert got.is_sampled
        return
    # counts are exact; a float may differ in its last digits between two engines' orders
    # of adding up (and PostgreSQL's corr() formula), so floats agree to 1e-9 relative
    pd.testing.assert_frame_equal(_canonical(got, ordered), _canonical(expected, ordered),
                                  check_exact=False, rtol=1e-9, atol=0)
    assert (got.mark_count, got.rows_in, got.note, got.labels, got.is_sampled,
            got.is_binned) == (expected.mark_count, expected.rows_in, expected.note,
                               expected.labels, expected.is_sampled, expected.is_binned)
    assert got.bin_widths == pytest.approx(expected.bin_widths, rel=1e-9)
    assert (got.spread is None) == (expected.spread is None)
    if got.spread is not None and expected.spread is not None:
        assert got.spread.model_dump() == pytest.approx(expected.spread.model_dump(),
                                                        rel=1e-9)


def test_live_postgres_values_are_bound_not_written_in(live: tuple[Engine, dict[str, Path]],
                                                       ) -> None:
    engine, files = live
    hostile = "x'); DROP TABLE samples.penguins; --"
    spec = ChartSpec(chart_type="bar", x="species",
                     filters=[Filter(column="island", op="in", value=[hostile]),
                              Filter(column="sex", op="contains", value=hostile)])
    sent: list[str] = []

    def keep(conn: object, cursor: object, statement: str, *args: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        got = aggregate_table(engine, "samples", "penguins", spec)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert got.mark_count == 0 and got.rows_in == 0
    chart_sql = [q for q in sent if '"samples"."penguins"' in q]
    # one query did the grouping and the top-N in the database; the values went apart
    assert len(chart_sql) == 1 and "GROUP BY" in chart_sql[0] and "LIMIT 30" in chart_sql[0]
    assert not any("DROP" in q or hostile in q for q in sent)
    assert aggregate_table(engine, "samples", "penguins", ChartSpec(x="species")).rows_in == 344


def test_compiled_postgres_sql_keeps_placeholders() -> None:
    sql = compile_sql("SELECT a, COUNT(*) AS n FROM t WHERE b = ANY([$p1, $p2]) "
                      "AND isfinite(c) GROUP BY ALL", "postgres")
    assert "%(p1)s" in sql and "%(p2)s" in sql
    assert "GROUP BY 1" in sql and "ALL" not in sql and "ISFINITE" not in sql.upper()


def test_live_postgres_missing_table_says_so(live: tuple[Engine, dict[str, Path]]) -> None:
    engine, _ = live
    with pytest.raises(NotFound, match="not in this database"):
        aggregate_table(engine, "samples", "nothing_here", ChartSpec(x="species"))


def test_live_postgres_slow_chart_stops_at_the_time_limit(
        live: tuple[Engine, dict[str, Path]], monkeypatch: pytest.MonkeyPatch) -> None:
    engine, _ = live
    monkeypatch.setenv("RESEARCH_DESK_QUERY_TIMEOUT_S", "0.001")
    reset_settings_cache()
    try:
        with pytest.raises(QueryTimeout, match="stopped the query after 0.001 seconds"):
            aggregate_table(engine, "samples", "many",
                            ChartSpec(chart_type="heatmap", x="day", y="cat", color="value",
                                      agg="median"))
    finally:
        monkeypatch.delenv("RESEARCH_DESK_QUERY_TIMEOUT_S")
        reset_settings_cache()


def test_live_postgres_source_that_is_down_says_so() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceUnavailable, match=f"at 127.0.0.1:{port} cannot be reached"):
        aggregate_table(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none", "samples",
                        "penguins", ChartSpec(x="species"))


def test_live_postgres_chart_from_a_url(live: tuple[Engine, dict[str, Path]]) -> None:
    engine, files = live
    spec = ChartSpec(chart_type="bar", x="island", y="body_mass_g", agg="mean")
    got = aggregate_table(engine.url.render_as_string(hide_password=False), "samples",
                          "penguins", spec)
    assert got.frame["value"].tolist() == pytest.approx(
        aggregate(files["penguins"], spec).frame["value"].tolist(), rel=1e-9)


@pytest.mark.parametrize("table", ["penguins", "weather", "many"])
def test_live_postgres_filter_helpers_match_parquet(live: tuple[Engine, dict[str, Path]],
                                                    table: str) -> None:
    """What Explore's first chart and filter controls read: kinds, first-rows statistics,
    rows left after filters, ranges and common values."""
    engine, files = live
    path = files[table]
    kinds = column_kinds(path)
    assert table_column_kinds(engine, "samples", table) == kinds
    live_stats = table_column_stats(engine, "samples", table)
    assert live_stats.keys() == column_stats(path).keys()
    for name, stats in column_stats(path).items():
        assert live_stats[name] == stats
    for name, kind in kinds.items():
        if kind in ("number", "date"):
            assert table_column_range(engine, "samples", table, name) == column_range(path,
                                                                                      name)
        if kind == "text":
            assert table_common_values(engine, "samples", table, name, 5) == common_values(
                path, name, 5)
    text_column = next(n for n, k in kinds.items() if k == "text")
    filters = [Filter(column=text_column, op="contains", value="a"),
               Filter(column=text_column, op="in", value=common_values(path, text_column)[:2])]
    assert table_count_rows(engine, "samples", table, filters) == count_rows(path, filters)
