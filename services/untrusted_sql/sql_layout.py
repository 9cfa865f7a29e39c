"""A query laid out on several lines for a person to read (display only: what ran, and what
is stored, stays exactly as the guard passed it)."""

import sqlglot
import sqlglot.errors


def readable_sql(sql: str) -> str:
    """`sql` pretty-printed in DuckDB's dialect, or as it is when it cannot be parsed."""
    try:
        return ";\n".join(sqlglot.transpile(sql, read="duckdb", write="duckdb", pretty=True))
    except sqlglot.errors.SqlglotError:
        return sql
