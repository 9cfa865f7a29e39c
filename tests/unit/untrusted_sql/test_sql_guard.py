"""The parser check: hostile SQL is refused with a plain sentence, harmless SQL passes."""

import time

import duckdb
import pytest

from services.errors import UnsafeQuery
from services.untrusted_sql import sql_engine_check
from services.untrusted_sql.sql_guard import (
    MSG_FILE,
    MSG_MULTIPLE,
    MSG_TOO_DEEP,
    check_sql,
    nesting_depth,
)
from tests.unit.hostile_sql import (
    BOMBS,
    CPU_BOMBS,
    DEEP_NESTING,
    MEMORY_BOMBS,
    PLAN_AND_SETTINGS,
    REFUSED_BY_GUARD,
)

ALLOWED = {"sales", "regions"}


def test_corpus_is_big_enough() -> None:
    assert len(REFUSED_BY_GUARD) + len(BOMBS) >= 60


@pytest.mark.parametrize("sql", REFUSED_BY_GUARD)
def test_hostile_sql_is_refused(sql: str) -> None:
    with pytest.raises(UnsafeQuery) as caught:
        check_sql(sql, ALLOWED)
    message = str(caught.value)
    assert message.endswith((".", "!")) and len(message) < 200
    assert "Traceback" not in message and "sqlglot" not in message


@pytest.mark.parametrize("sql", BOMBS)
def test_bombs_pass_the_guard_and_are_left_to_the_timeout(sql: str) -> None:
    assert check_sql(sql, ALLOWED)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", MSG_FILE),
        ("SELECT * FROM 'file.csv'", MSG_FILE),
        ('SELECT * FROM "x.parquet"', MSG_FILE),
        ("SELECT 1; -- x\n DROP TABLE x", MSG_MULTIPLE),
        ("SELECT * FROM x", "The table “x” is not one of the datasets you picked."),
    ],
)
def test_messages_are_plain_sentences(sql: str, message: str) -> None:
    with pytest.raises(UnsafeQuery, match="^" + message.replace(".", r"\.") + "$"):
        check_sql(sql, ALLOWED)


def test_unparseable_sql_is_refused_with_a_friendly_message() -> None:
    with pytest.raises(UnsafeQuery, match="^I could not understand this query"):
        check_sql("SELEC amount FROM sales WHERE", ALLOWED)


@pytest.mark.parametrize(
    "sql",
    [
        'SELECT "user", "set", "drop", "select" FROM sales',
        "SELECT 'DROP TABLE sales; read_csv(''/etc/passwd'')' AS s FROM sales",
        "SELECT * FROM sales WHERE product = 'COPY x TO y; ATTACH z'",
        "SELECT amount AS read_csv, region AS duckdb_settings FROM sales",
        "SELECT 1 -- DROP TABLE sales",
        "SELECT 1;",
        "WITH read_parquet AS (SELECT 1 AS x) SELECT x FROM read_parquet",
        "WITH t AS (SELECT * FROM sales) SELECT * FROM t JOIN regions USING (region)",
        "SELECT * FROM SALES",
        "SELECT * FROM range(10)",
        "SELECT unnest([1, 2])",
        "SELECT current_date, now()",
    ],
)
def test_harmless_sql_passes(sql: str) -> None:
    assert check_sql(sql, ALLOWED)


def test_table_names_match_case_insensitively() -> None:
    assert check_sql("SELECT * FROM sales", {"Sales"})
    assert check_sql("SELECT * FROM Sales", {"sales"})


def test_cte_names_count_only_inside_their_query() -> None:
    sql = "SELECT * FROM (WITH t AS (SELECT 1) SELECT * FROM t) a, t"
    with pytest.raises(UnsafeQuery, match="“t”"):
        check_sql(sql, ALLOWED)


def test_normalised_sql_drops_comments_and_extra_statements() -> None:
    normalised = check_sql("SELECT amount /* */ FROM sales -- */ DROP TABLE sales\n;", ALLOWED)
    assert normalised == "SELECT amount FROM sales"


def test_no_tables_allowed_still_allows_pure_expressions() -> None:
    assert check_sql("SELECT 1 + 1 AS two", set()) == "SELECT 1 + 1 AS two"
    with pytest.raises(UnsafeQuery):
        check_sql("SELECT * FROM sales", set())


@pytest.mark.parametrize("sql", PLAN_AND_SETTINGS)
def test_plan_settings_and_sql_text_functions_are_refused(sql: str) -> None:
    with pytest.raises(UnsafeQuery) as caught:
        check_sql(sql, ALLOWED)
    message = str(caught.value)
    assert message.endswith(".") and "/" not in message  # no path leaks into the sentence


def test_json_serialize_plan_no_longer_reveals_the_sandbox() -> None:
    with pytest.raises(UnsafeQuery, match="settings"):
        check_sql("SELECT json_serialize_plan('SELECT * FROM sales')", ALLOWED)


@pytest.mark.parametrize("sql", MEMORY_BOMBS + CPU_BOMBS)
def test_resource_bombs_pass_the_guard_and_are_left_to_the_worker(sql: str) -> None:
    assert check_sql(sql, ALLOWED)


@pytest.mark.parametrize("sql", DEEP_NESTING, ids=lambda s: f"{s[:24]}…{len(s)}")
def test_deep_nesting_is_refused_in_one_sentence(sql: str) -> None:
    started = time.perf_counter()
    with pytest.raises(UnsafeQuery) as caught:
        check_sql(sql, ALLOWED)
    assert str(caught.value) == MSG_TOO_DEEP
    assert time.perf_counter() - started < 5


def test_nesting_depth_ignores_strings_and_comments() -> None:
    assert nesting_depth("SELECT ((1)), '(((((', \"((\" -- ((((\n /* ((( */") == 2
    assert nesting_depth("SELECT CASE WHEN a THEN CASE WHEN b THEN 1 END END") == 2
    assert check_sql("SELECT '" + "(" * 500 + "' AS brackets", ALLOWED)


@pytest.mark.parametrize(
    "sql",
    [
        "PIVOT sales ON product USING sum(amount) GROUP BY region ORDER BY region",
        "PIVOT sales ON product USING sum(amount) GROUP BY region ORDER BY region LIMIT 2;",
        "PIVOT sales ON product IN ('Apple', 'Banana') USING sum(amount) GROUP BY region "
        "ORDER BY region -- by region",
    ],
)
def test_valid_duckdb_pivot_with_order_by_is_accepted(sql: str) -> None:
    normalised = check_sql(sql, ALLOWED)
    assert "ORDER BY region" in normalised and "--" not in normalised


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT current_date, current_timestamp, today(), now()",
        "SELECT [1, 2][1], {'a': 1}.a, 'ab'[1], [x * 2 FOR x IN [1, 2]] AS l",
        "SELECT region ILIKE 'n%', region SIMILAR TO 'N.*', amount::VARCHAR FROM sales",
        "SELECT COLUMNS('am.*') FROM sales",
        "SELECT region, sum(amount) FROM sales GROUP BY ALL ORDER BY ALL",
        "SELECT * FROM sales USING SAMPLE 10%",
        "SELECT * FROM sales ASOF JOIN regions USING (region)",
        "SELECT list_filter([1, 2], lambda x: x > 1), list_transform([1], x -> x + 1)",
        "SELECT levenshtein(region, product), struct_pack(a := 1), coalesce(NULL, 1)",
        "SELECT '{\"a\": 1}'::JSON->>'a', json_extract('{\"a\": 1}', '$.a')",
    ],
)
def test_everyday_duckdb_passes_both_parsers(sql: str) -> None:
    assert check_sql(sql, ALLOWED)


def test_the_allow_list_is_duckdbs_own_and_excludes_what_reveals_or_runs_sql() -> None:
    allowed = sql_engine_check.allowed_functions()
    assert {"sum", "levenshtein", "date_trunc", "regexp_matches", "list_sum"} <= allowed
    for name in ("json_serialize_plan", "json_serialize_sql", "json_deserialize_sql",
                 "json_execute_serialized_sql", "query", "query_table", "current_setting",
                 "getvariable", "version", "current_query", "read_csv", "glob", "sleep_ms"):
        assert name not in allowed
    listed = {str(r[0]).lower() for r in duckdb.connect().execute(
        "SELECT function_name FROM duckdb_functions()").fetchall()}
    assert allowed - sql_engine_check.SPECIAL_FUNCTIONS <= listed


def test_statements_duckdb_reads_differently_are_refused() -> None:
    # sqlglot alone would see one statement in each; DuckDB decides.
    for sql in ("SELECT 1; SELECT 2", "DESCRIBE sales", "SELECT * FROM (SHOW TABLES)"):
        with pytest.raises(UnsafeQuery):
            check_sql(sql, ALLOWED)
