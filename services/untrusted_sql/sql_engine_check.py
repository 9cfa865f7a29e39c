"""DuckDB's own parser as the authority on what a query is and what it calls.

`sql_guard` first checks a query with sqlglot (for clear messages) and normalises
it; this module then asks DuckDB itself, on exactly the text that will run:
- `statement_kinds`: how many statements DuckDB sees and of which type;
- `check_engine_tree`: DuckDB's parse tree of `SELECT * FROM (<sql>)` (`json_serialize_sql`
  in a scratch instance that never runs the query) is walked: every function must be on
  the allow-list (DuckDB's plain scalar, aggregate, window and macro functions, minus any
  that take SQL text or reveal settings, paths, the catalog or the session), table functions
  only generate values, tables are the picked datasets or the query's own CTEs, and no
  other kind of table reference (DESCRIBE/SHOW, ...) appears;
- `duckdb_normalised`: DuckDB's own rendering of a query sqlglot cannot read (such as
  `PIVOT … ORDER BY`), comment-free, to be checked like any other.
"""

import atexit
import json
import re
import threading
from functools import lru_cache
from typing import Any

import duckdb

from services.errors import UnsafeQuery
from services.untrusted_sql import sandbox_worker

MSG_FILE = "This query tries to read a file, which is not allowed here."
MSG_SETTINGS = "This query tries to read or change settings, which is not allowed here."
MSG_CATALOG = (
    "This query tries to look at the database's internal catalog, which is not allowed here."
)
MSG_NOT_READ = "Only queries that read data (SELECT) are allowed here."
MSG_UNREADABLE = "I could not understand this query; please check the SQL and try again."
MSG_MULTIPLE = "Only one query at a time, please."
MSG_TOO_DEEP = (
    "This query is nested too deeply to check; please write it more simply, "
    "with fewer levels of brackets, subqueries or CASE."
)

READ_TYPES = frozenset({"SELECT", "MULTI"})  # MULTI: a bare PIVOT (DuckDB runs it in steps)
ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
ALLOWED_REF_TYPES = frozenset({
    "BASE_TABLE", "SUBQUERY", "JOIN", "TABLE_FUNCTION", "EXPRESSION_LIST", "EMPTY", "PIVOT",
})
FUNCTION_CLASSES = frozenset({"FUNCTION", "WINDOW", "AGGREGATE"})
FUNCTION_KINDS = ("scalar", "aggregate", "window", "macro")
# Called like functions in the parse tree but handled by the binder, not the catalog.
SPECIAL_FUNCTIONS = frozenset({"unnest", "unlist", "grouping", "grouping_id", "row",
                               "struct_pack", "list_value", "coalesce", "try"})
# Removed from the allow-list: they take SQL text, reveal settings, paths, the session or
# the catalog, wait, write logs, or touch sequences.
DENIED_PREFIXES = (
    "json_serialize", "json_deserialize", "json_execute", "current_", "pg_", "has_",
    "duckdb_", "pragma_", "read_", "parquet_", "sqlite_", "arrow_", "python_", "__internal",
    "inet_", "txid_", "parse_duckdb", "enable_", "disable_", "write_", "icu_", "st_read",
)
DENIED_NAMES = frozenset({
    "query", "query_table", "getenv", "getvariable", "current_setting", "version", "user",
    "session_user", "sleep_ms", "nextval", "currval", "setval", "in_search_path",
    "get_block_size", "col_description", "obj_description", "shobj_description",
    "format_pg_type", "format_type", "map_to_pg_oid", "invoke", "glob", "which_secret",
    "database_size", "checkpoint", "force_checkpoint", "sniff_csv", "summary",
    "test_all_types", "test_vector_types", "repeat_row", "seq_scan", "truncate_duckdb_logs",
})
SETTINGS_NAMES = frozenset({"current_setting", "getenv", "getvariable", "which_secret",
                            "json_serialize_plan", "version"})
SYSTEM_PREFIXES = ("duckdb_", "pragma_", "sqlite_", "pg_", "information_schema")
_FILE_LIKE = re.compile(r"[./\\:*~]")

_LOCK = threading.Lock()
_SCRATCH: list[duckdb.DuckDBPyConnection] = []


def _scratch() -> duckdb.DuckDBPyConnection:
    """One in-memory instance that only ever parses (call with `_LOCK` held)."""
    if not _SCRATCH:
        con = sandbox_worker.new_instance(threads=1, memory_limit="64MB")  # the sandbox's
        con.execute("SET enable_external_access = false")  # own locked instance, parse only
        con.execute("SET lock_configuration = true")
        _SCRATCH.append(con)
        atexit.register(con.close)
    return _SCRATCH[0]


@lru_cache(maxsize=1)
def allowed_functions() -> frozenset[str]:
    """DuckDB's plain functions, minus every one that is not plain calculation."""
    kinds = ", ".join(f"'{kind}'" for kind in FUNCTION_KINDS)
    with _LOCK:
        rows = _scratch().execute(
            "SELECT DISTINCT lower(function_name) FROM duckdb_functions() "
            f"WHERE function_type IN ({kinds})").fetchall()
    names = {str(row[0]) for row in rows} | SPECIAL_FUNCTIONS
    return frozenset(n for n in names if not is_denied(n))


def is_denied(name: str) -> bool:
    return name in DENIED_NAMES or name.startswith(DENIED_PREFIXES)


def statement_kinds(sql: str) -> list[str]:
    """DuckDB's statement types for `sql` (raises `duckdb.Error` if it cannot parse it)."""
    with _LOCK:
        statements = _scratch().extract_statements(sql)
    return [str(s.type).rsplit(".", 1)[-1].upper() for s in statements]


class AsWritten:
    """How DuckDB reads the text as written: its statement types, or why it cannot."""

    def __init__(self, kinds: list[str] | None, error: duckdb.Error | None) -> None:
        self.kinds = kinds
        self.error = error

    def require_one_read(self) -> None:
        """DuckDB must read the text as written as one read query too: a text only sqlglot
        can read would otherwise run as sqlglot's guess (`… LIMIT 3 UNION ALL …` is one)."""
        if self.kinds is None:
            raise UnsafeQuery(MSG_UNREADABLE) from self.error
        if len(self.kinds) > 1:
            raise UnsafeQuery(MSG_MULTIPLE)
        if len(self.kinds) != 1 or self.kinds[0] not in READ_TYPES:
            raise UnsafeQuery(MSG_NOT_READ)


def read_as_written(sql: str) -> AsWritten:
    """DuckDB's reading of `sql`; refuses at once if DuckDB gives up on its depth (long
    operator chains included), which sqlglot would take seconds to find."""
    try:
        return AsWritten(statement_kinds(sql), None)
    except duckdb.Error as error:
        if "expression depth" in str(error):
            raise UnsafeQuery(MSG_TOO_DEEP) from error
        return AsWritten(None, error)


def _serialise(select_sql: str) -> dict[str, Any]:
    with _LOCK:
        row = _scratch().execute("SELECT json_serialize_sql(?)", [select_sql]).fetchone()
    tree = json.loads(row[0]) if row else {"error": True}
    if not isinstance(tree, dict):
        return {"error": True}
    return tree


def duckdb_normalised(sql: str) -> str | None:
    """DuckDB's own comment-free rendering of one read query, or None if it is not one."""
    try:
        kinds = statement_kinds(sql)
    except duckdb.Error:
        return None
    if len(kinds) != 1 or kinds[0] not in READ_TYPES:
        return None
    body = re.sub(r"(?:\s|;|--[^\n]*)+$", "", sql)
    try:
        tree = _serialise(f"SELECT * FROM (\n{body}\n)")
        if tree.get("error") or len(tree.get("statements") or []) != 1:
            return None
        with _LOCK:
            row = _scratch().execute("SELECT json_deserialize_sql(?)",
                                     [json.dumps(tree)]).fetchone()
    except duckdb.Error:
        return None
    return str(row[0]) if row and row[0] else None


def check_engine_tree(sql: str, allowed_tables: set[str]) -> None:
    """Refuse `sql` (to be run as `SELECT * FROM (sql)`) unless DuckDB's parse tree is one
    read-only query that calls only allowed functions over the allowed tables."""
    try:
        tree = _serialise(f"SELECT * FROM (\n{sql}\n)")
    except duckdb.Error as error:
        raise UnsafeQuery(MSG_UNREADABLE) from error
    statements = tree.get("statements") or []
    if tree.get("error") or len(statements) != 1:
        _check_without_tree(sql)  # a bare PIVOT has no JSON tree; anything else is refused
        return
    allowed = {name.lower() for name in allowed_tables} | _cte_names(statements[0])
    _walk(statements[0], allowed, allowed_functions())


def _check_without_tree(sql: str) -> None:
    try:
        kinds = statement_kinds(sql)
    except duckdb.Error as error:
        too_deep = "expression depth" in str(error)
        raise UnsafeQuery(MSG_TOO_DEEP if too_deep else MSG_UNREADABLE) from error
    if len(kinds) != 1 or kinds[0] not in READ_TYPES:
        raise UnsafeQuery(MSG_NOT_READ)
    if kinds[0] != "MULTI":
        raise UnsafeQuery(MSG_UNREADABLE)
    _check_multi(sql)


def _cte_names(tree: Any) -> set[str]:
    names: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            cte_map = node.get("cte_map")
            if isinstance(cte_map, dict):
                names.update(str(e.get("key", "")).lower() for e in cte_map.get("map") or []
                             if isinstance(e, dict))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names


def _walk(tree: Any, tables: set[str], functions: frozenset[str]) -> None:
    stack = [tree]
    while stack:  # iterative: a deep tree cannot exhaust Python's stack here
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        kind = str(node.get("type", ""))
        if "sample" in node and not kind.endswith("_NODE"):
            _check_ref(node, kind, tables)
            if kind == "TABLE_FUNCTION":
                function = node.get("function") or {}
                stack.extend([function.get("arguments"), function.get("children")])
                stack.extend(v for k, v in node.items() if k != "function")
                continue
        elif node.get("class") in FUNCTION_CLASSES and "function_name" in node:
            _check_function(node, functions)
        stack.extend(node.values())


def _check_ref(node: dict[str, Any], kind: str, tables: set[str]) -> None:
    if kind not in ALLOWED_REF_TYPES:
        raise UnsafeQuery(MSG_NOT_READ)
    if kind == "BASE_TABLE":
        _check_table(node, tables)
    elif kind == "TABLE_FUNCTION":
        function = node.get("function") or {}
        name = str(function.get("function_name", "")).lower()
        if function.get("schema") or function.get("catalog"):
            raise UnsafeQuery(MSG_CATALOG)
        if name not in ALLOWED_TABLE_FUNCTIONS:
            raise UnsafeQuery(_function_message(name))


def _check_table(node: dict[str, Any], tables: set[str]) -> None:
    name = str(node.get("table_name", ""))
    lowered = name.lower()
    qualifiers = [str(node.get(k) or "") for k in ("catalog_name", "schema_name")]
    if lowered.startswith(SYSTEM_PREFIXES) or any(qualifiers):
        raise UnsafeQuery(MSG_CATALOG)
    if _FILE_LIKE.search(name):
        raise UnsafeQuery(MSG_FILE)
    if lowered not in tables:
        raise UnsafeQuery(f"The table “{name}” is not one of the datasets you picked.")


def _check_function(node: dict[str, Any], functions: frozenset[str]) -> None:
    name = str(node.get("function_name", "")).lower()
    if node.get("schema") or node.get("catalog"):
        raise UnsafeQuery(MSG_CATALOG)
    if name in functions:
        return
    raise UnsafeQuery(_function_message(name))


def _function_message(name: str) -> str:
    if name.startswith(("read_", "parquet_")) or name in {"glob", "sniff_csv"}:
        return MSG_FILE
    if name in SETTINGS_NAMES:
        return MSG_SETTINGS
    if name.startswith(SYSTEM_PREFIXES):
        return MSG_CATALOG
    return f"The function “{name}” is not allowed here; please use plain calculations instead."


# --- a bare PIVOT whose column values DuckDB looks up first ("MULTI") ----------------------
# DuckDB cannot give a parse tree for it, so its tokenizer is the authority here: the query
# must be a PIVOT and every call in it an allowed function (sqlglot has already checked its
# tables and functions; the sandbox is the wall behind both).

def tokens(sql: str) -> list[tuple[str, str]]:
    """DuckDB's tokens of `sql` as (kind, text), comments included."""
    with _LOCK:
        found = duckdb.tokenize(sql)
    spans: list[tuple[str, str]] = []
    for index, (start, kind) in enumerate(found):
        end = found[index + 1][0] if index + 1 < len(found) else len(sql)
        spans.append((str(kind).rsplit(".", 1)[-1], sql[start:end].strip()))
    return spans


def _check_multi(sql: str) -> None:
    spans = [t for t in tokens(sql) if t[0] != "comment"]
    keywords = [text.upper() for kind, text in spans if kind == "keyword"]
    if "PIVOT" not in keywords:
        raise UnsafeQuery(MSG_NOT_READ)
    functions = allowed_functions()
    for (kind, text), (_, following) in zip(spans, spans[1:], strict=False):
        name = _unquoted(text).lower() if kind in ("identifier", "keyword") else ""
        if not name:
            continue
        if name.startswith(SYSTEM_PREFIXES) or name in {"pg_catalog", "system", "temp"}:
            raise UnsafeQuery(MSG_CATALOG)
        if not following.startswith("("):
            continue
        called = kind == "identifier" or name in _all_function_names()
        if called and name not in functions and name not in ALLOWED_TABLE_FUNCTIONS:
            raise UnsafeQuery(_function_message(name))


def _unquoted(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


@lru_cache(maxsize=1)
def _all_function_names() -> frozenset[str]:
    with _LOCK:
        rows = _scratch().execute(
            "SELECT DISTINCT lower(function_name) FROM duckdb_functions()").fetchall()
    return frozenset(str(row[0]) for row in rows)


def split_trailing_order(sql: str) -> tuple[str, str] | None:
    """For a bare `PIVOT … ORDER BY …/LIMIT …` (which sqlglot cannot read): the PIVOT and
    the trailing clauses, so it can be read as `SELECT * FROM (PIVOT …) ORDER BY …`."""
    try:
        found = duckdb.tokenize(sql)
    except duckdb.Error:
        return None
    depth = 0
    first_keyword: str | None = None
    for index, (start, kind) in enumerate(found):
        end = found[index + 1][0] if index + 1 < len(found) else len(sql)
        text = sql[start:end].strip()
        kind_name = str(kind).rsplit(".", 1)[-1]
        if kind_name == "keyword" and first_keyword is None:
            first_keyword = text.upper()
        if kind_name == "operator":
            depth += text.count("(") - text.count(")")
        if (kind_name == "keyword" and depth == 0 and first_keyword == "PIVOT"
                and text.upper() in ("ORDER", "LIMIT")):
            return sql[:start].rstrip(), sql[start:]
    return None
