"""Missing-value markers (NA, N/A, NULL, None, NaN, -, —, #N/A): read as missing where the
rest of the column is numbers or dates, never taken from a text column that means them,
and never counted as values a fix "could not read"."""

from pathlib import Path

import duckdb
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.data import text_reading
from services.data.cleaning import apply_recipe, preview_steps
from services.data.dataset_models import MapCategories, ParseDate, ParseNumber
from services.data.ingest import ingest_file
from services.data.quality import find_issues
from tests.unit.datasets_fixtures import frame_parquet

MARKERS = ["NA", "N/A", "n/a", "NULL", "null", "None", "NaN", "-", "—", "#N/A"]


def _ingest(tmp_path: Path, text: str, name: str = "f.csv"):  # noqa: ANN202 - IngestResult
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return ingest_file(path, original_name=name, dest_dir=tmp_path / "out")


_DUCK = duckdb.connect()  # one in-memory database for reading results (a cursor per read)


def _column(result, name: str) -> list:  # noqa: ANN001
    sql = next(c.sql_name for c in result.columns if c.name == name)
    with _DUCK.cursor() as con:
        return [r[0] for r in con.execute(
            f'SELECT "{sql}" FROM \'{result.parquet_path}\'').fetchall()]


def _kinds(result) -> dict[str, str]:  # noqa: ANN001
    return {c.name: c.dtype for c in result.columns}


def _parquet(tmp_path: Path, frame: pd.DataFrame, name: str = "in.parquet") -> Path:
    return frame_parquet(tmp_path, frame, name)


# --- the rule ----------------------------------------------------------------------------

def test_every_common_marker_is_a_missing_marker_in_any_case_and_with_spaces() -> None:
    for marker in MARKERS + ["", "  ", " na ", "nan", "#n/a", "–"]:
        assert text_reading.is_missing_marker(marker), marker
    for value in ["0", "NAN1", "Nan Goldin", "none of them", "--5", "N.A.", "Namibia"]:
        assert not text_reading.is_missing_marker(value), value


def test_a_marker_is_missing_only_where_the_rest_of_the_column_is_numbers_or_dates() -> None:
    decision = text_reading.decide_missing_markers([
        ["1.5", "NA", "2"],            # numbers: NA is missing
        ["2024-01-03", "N/A"],         # dates: N/A is missing
        ["Heating", "None", "Gas"],    # text: "None" is a category, nothing proves it
    ])
    assert decision.by_column == {0: ["NA"], 1: ["N/A"]}
    assert decision.markers == ["NA", "N/A"]


def test_a_text_column_follows_the_marker_the_file_proves_except_the_word_none() -> None:
    decision = text_reading.decide_missing_markers([
        ["39.1", "NA", "None"],        # numbers prove NA and None are missing markers
        ["male", "NA", "female"],      # so R's NA for an unknown sex is missing too
        ["Electric", "None", "Gas"],   # but "None" here is an answer, kept as a value
    ])
    assert decision.by_column == {0: ["NA", "None"], 1: ["NA"]}
    assert decision.markers == ["NA"]  # read as missing everywhere
    assert decision.only_in == {0: ["None"]}  # read as missing in the number column only


def test_a_marker_nothing_proves_stays_a_value() -> None:
    decision = text_reading.decide_missing_markers([["EU", "NA", "AS"], ["1", "2"]])
    assert decision.markers == [] and decision.by_column == {}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(numbers=st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=30),
       markers=st.lists(st.sampled_from(MARKERS), min_size=1, max_size=5),
       words=st.lists(st.sampled_from(["Gas", "Electric", "None", "Oil"]), min_size=1,
                      max_size=8))
def test_markers_among_numbers_are_decided_and_the_word_none_never_leaves_text(
        numbers: list[int], markers: list[str], words: list[str]) -> None:
    column = [str(n) for n in numbers] + markers
    decision = text_reading.decide_missing_markers([column, words])
    assert set(decision.by_column[0]) == set(markers)
    assert "None" not in decision.by_column.get(1, [])
    if "None" in words and "None" in markers:
        assert "None" not in decision.markers and decision.only_in == {0: ["None"]}
    rows = [[value, words[0]] for value in column]
    assert [row[0] for row in decision.blank(rows)] == \
        [str(n) for n in numbers] + [""] * len(markers)


# --- ingest ------------------------------------------------------------------------------

def test_r_style_na_is_read_as_missing_and_the_file_says_where(tmp_path: Path) -> None:
    result = _ingest(tmp_path, 'species,mass,flipper,sex\n"Adelie",3750,181,"male"\n'
                               '"Adelie",NA,NA,NA\n"Gentoo",5000,220,"female"\n')
    kinds = _kinds(result)
    assert kinds["mass"] in ("number", "whole number")
    assert kinds["flipper"] in ("number", "whole number")
    assert _column(result, "mass") == [3750, None, 5000]
    assert _column(result, "sex") == ["male", None, "female"]
    assert "“NA” was read as a missing value in 3 columns: “mass”, “flipper”, “sex”." \
        in result.warnings


def test_other_markers_in_number_and_date_columns(tmp_path: Path) -> None:
    result = _ingest(tmp_path, "a,b,c,d\n1.5,N/A,2024-01-03,—\n#N/A,7,NULL,4\n2,8,"
                               "2024-01-05,5\n")
    kinds = _kinds(result)
    assert kinds["a"] == "number" and kinds["b"] in ("number", "whole number")
    assert kinds["c"] == "date" and kinds["d"] in ("number", "whole number")
    assert _column(result, "a") == [1.5, None, 2.0]
    assert _column(result, "d") == [None, 4, 5]
    assert "“#N/A” was read as a missing value in 1 column (“a”)." in result.warnings


def test_a_category_none_stays_text_when_nothing_proves_it_missing(tmp_path: Path) -> None:
    result = _ingest(tmp_path, "heating,rooms\nGas,3\nNone,2\nElectric,NA\n")
    assert _kinds(result)["heating"] in ("text", "category")
    assert _column(result, "heating") == ["Gas", "None", "Electric"]
    assert _column(result, "rooms") == [3, 2, None]


def test_none_is_missing_among_numbers_but_kept_as_a_category(tmp_path: Path) -> None:
    result = _ingest(tmp_path, "heating,cost\nGas,3.5\nNone,None\nElectric,1,200.5\n"
                     .replace("1,200.5", '"1,200.5"'))
    assert _kinds(result)["cost"] == "number"
    assert _column(result, "cost") == [3.5, None, 1200.5]
    assert _column(result, "heating") == ["Gas", "None", "Electric"]


def test_none_is_missing_among_day_month_dates_but_kept_as_a_category(
        tmp_path: Path) -> None:
    result = _ingest(tmp_path, "plan,start\nGas,25/01/2024\nNone,None\nOil,03/02/2024\n")
    assert _kinds(result)["start"] == "date"
    assert [str(v) if v else v for v in _column(result, "start")] == [
        "2024-01-25", None, "2024-02-03"]
    assert _column(result, "plan") == ["Gas", "None", "Oil"]


def test_north_america_written_na_is_not_blanked_without_proof(tmp_path: Path) -> None:
    result = _ingest(tmp_path, "continent,countries\nEU,44\nNA,23\nAS,48\n")
    assert _column(result, "continent") == ["EU", "NA", "AS"]
    assert not any("missing value" in w for w in result.warnings)


def test_a_late_text_value_in_a_marker_column_keeps_the_column_as_text(
        tmp_path: Path) -> None:
    rows = "\n".join(["1", "NA"] * 12_000 + ["lots"])  # "lots" is far past every sample
    result = _ingest(tmp_path, "n\n" + rows + "\n")
    values = _column(result, "n")
    assert result.rows == 24_001 and values[-1] == "lots"
    assert values[:2] == ["1", None]  # still a missing value, not the text "NA"


# --- quality fixes and cleaning steps ------------------------------------------------------

def test_numbers_as_text_with_markers_are_found_and_markers_not_counted_unreadable(
        tmp_path: Path) -> None:
    path = _parquet(tmp_path, pd.DataFrame({"v": ["1.5", "NA", "2", "N/A", "3.25", "-"] * 5}))
    finding = next(f for f in find_issues(path) if f.column == "v")
    assert finding.kind == "numbers_stored_as_text"
    assert "NA" not in finding.message
    preview = preview_steps(path, [finding.fix])
    assert preview.effects[0].unreadable == 0
    out = apply_recipe(path, [finding.fix], tmp_path / "o.parquet")
    assert _column(out, "v")[:6] == [1.5, None, 2.0, None, 3.25, None]


def test_a_value_that_is_not_a_marker_is_still_counted_unreadable(tmp_path: Path) -> None:
    path = _parquet(tmp_path, pd.DataFrame({"v": ["1", "NA", "lots", "2"]}))
    assert preview_steps(path, [ParseNumber(column="v")]).effects[0].unreadable == 1


def test_date_step_reads_markers_as_missing_not_unreadable(tmp_path: Path) -> None:
    path = _parquet(tmp_path, pd.DataFrame({"d": ["03/01/2024", "NA", "25/01/2024",
                                                  "#N/A", "soon"]}))
    effect = preview_steps(path, [ParseDate(column="d")]).effects[0]
    assert effect.unreadable == 1  # only "soon"


# --- spellings never merge numbers -------------------------------------------------------

def test_spellings_never_merge_numbers_of_different_sign_or_size(tmp_path: Path) -> None:
    values = (["2"] * 5 + ["-2"] * 3 + ["x"] + ["1.5 kg"] * 3 + ["15 kg"] * 2
              + ["NY"] * 4 + ["ny "] * 2)
    path = _parquet(tmp_path, pd.DataFrame({"v": values}))
    fixes = [f.fix for f in find_issues(path) if isinstance(f.fix, MapCategories)]
    mapping = {k: v for fix in fixes for k, v in fix.mapping.items()}
    assert mapping == {"ny ": "NY"}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.one_of(st.integers(-10**9, 10**9).map(str),
                                st.decimals(-10**6, 10**6, places=2, allow_nan=False,
                                            allow_infinity=False).map(str),
                                st.sampled_from(MARKERS)), min_size=2, max_size=40)
       .filter(lambda c: any(not text_reading.is_missing_marker(v) for v in c)))
def test_ingest_round_trip_numbers_come_back_and_markers_become_missing(
        tmp_path: Path, cells: list[str]) -> None:
    text = "n,label\n" + "".join(f"{v},row{i}\n" for i, v in enumerate(cells))
    result = _ingest(tmp_path, text, name=f"r{abs(hash(text))}.csv")
    assert _kinds(result)["n"] in ("number", "whole number")
    expected = [None if text_reading.is_missing_marker(v) else float(v) for v in cells]
    assert [None if v is None else float(v) for v in _column(result, "n")] == expected
    assert _column(result, "label") == [f"row{i}" for i in range(len(cells))]
