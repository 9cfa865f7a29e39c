"""Ask's SQL for a live source, without a server: what the transpiled text looks like and
the sentences for what only a live source refuses."""

import pytest

from services.errors import InvalidInput, UnsafeQuery
from services.untrusted_sql import live_sql
from services.untrusted_sql.live_sql import to_dialect
from tests.unit.hostile_sql import LIVE_REFUSED

TABLES = {"sales": ("public", "penguins"), "regions": ("shop", "Regions")}


def test_chosen_tables_are_named_by_schema_and_keep_their_alias() -> None:
    assert to_dialect("SELECT s.species FROM sales s JOIN regions ON true", TABLES) == (
        'SELECT s.species FROM "public"."penguins" AS s JOIN "shop"."Regions" AS regions ON TRUE')


def test_duckdb_functions_become_postgres_ones() -> None:
    sql = to_dialect("SELECT species, median(body_mass_g), list(island) FROM sales GROUP BY ALL",
                     TABLES)
    assert sql == ('SELECT species, PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY body_mass_g), '
                   'ARRAY_AGG(island) FROM "public"."penguins" AS sales GROUP BY 1')


def test_order_by_all_becomes_column_positions() -> None:
    assert to_dialect("SELECT species, island FROM sales ORDER BY ALL DESC", TABLES) == (
        'SELECT species, island FROM "public"."penguins" AS sales '
        "ORDER BY 1 DESC NULLS LAST, 2 DESC NULLS LAST")


@pytest.mark.parametrize("sql", LIVE_REFUSED)
def test_live_hostile_sql_is_refused_before_the_database(sql: str) -> None:
    with pytest.raises(UnsafeQuery) as caught:
        to_dialect(sql, TABLES)
    message = str(caught.value)
    assert message.endswith(".") and len(message) < 200 and "sqlglot" not in message


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 'pg_authid'::regclass", live_sql.MSG_TYPE),
        ("WITH sales AS (SELECT 1) SELECT * FROM sales", live_sql.MSG_SAME_NAME),
        ("SELECT hash(species) FROM sales", live_sql.MSG_FUNCTION.format(name="hash")),
        ("PIVOT sales ON species USING count(*) GROUP BY island", live_sql.MSG_UNSUPPORTED),
        ("SELECT * EXCLUDE (sex) FROM sales", live_sql.MSG_UNSUPPORTED),
        ("SELECT * FROM sales ORDER BY ALL", live_sql.MSG_UNSUPPORTED),
    ],
)
def test_what_only_a_live_source_refuses_has_its_own_sentence(sql: str, message: str) -> None:
    with pytest.raises(UnsafeQuery) as caught:
        to_dialect(sql, TABLES)
    assert str(caught.value) == message


def test_a_database_other_than_postgresql_is_refused_in_one_sentence(tmp_path) -> None:
    with pytest.raises(InvalidInput, match=f"^{live_sql.MSG_DIALECT}$"):
        live_sql.run_live(f"sqlite:///{tmp_path / 'x.db'}", "SELECT 1", TABLES)


def test_batches_shrink_as_rows_grow_so_the_byte_cap_bounds_memory() -> None:
    assert live_sql._next_batch(0, 0, 1000) == 1
    assert live_sql._next_batch(1, 10, 1 << 20) == live_sql.FETCH_BATCH
    assert live_sql._next_batch(1, 600, 1000) == 1  # one huge row: one at a time
    assert live_sql._next_batch(10, 100, 10_000) == 247


def test_arrays_and_json_count_whole_towards_the_byte_cap() -> None:
    row = (["x" * 1000] * 10, {"k": "v" * 500}, 3, "abc")
    assert live_sql._row_bytes(row) == (8 + 10_000) + (8 + 1 + 500) + 16 + 3
