"""The parser check: hostile SQL is refused with a plain sentence, harmless SQL passes."""

import pytest

from services.errors import UnsafeQuery
from services.sql_guard import MSG_FILE, MSG_MULTIPLE, check_sql
from tests.unit.hostile_sql import BOMBS, REFUSED_BY_GUARD

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
