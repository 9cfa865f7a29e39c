"""The hostile SQL corpus, as data. Tests pick the tables `sales` and `regions`.

`REFUSED_BY_GUARD`: each must raise `UnsafeQuery` from `check_sql`.
`BOMBS`: pass the guard (they only read allowed tables) and must be stopped by the timeout.
`SANDBOX_ONLY`: statements run straight on a locked sandbox connection (guard bypassed);
each must fail there. `{other}` is replaced by the path of a Parquet file not given.
`PLAN_AND_SETTINGS`: functions that take SQL text or reveal settings, paths, the session or
the catalog; each must be refused by `check_sql` (they are part of `REFUSED_BY_GUARD`).
`MEMORY_BOMBS` / `CPU_BOMBS`: pass the guard (only allowed tables and plain functions) and
must be stopped by the worker's memory cap or the hard time limit, in bounded time.
`DEEP_NESTING`: must be refused by `check_sql` with one sentence, never a RecursionError.
"""

REFUSED_BY_GUARD: list[str] = [
    # file reads through every reader function, with and without parentheses
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_csv",
    "SELECT * FROM read_parquet('/data/other_user.parquet')",
    "SELECT * FROM read_parquet(['a.parquet', 'b.parquet'])",
    "SELECT * FROM parquet_scan('/data/x.parquet')",
    "SELECT * FROM parquet_metadata('/data/x.parquet')",
    "SELECT * FROM parquet_schema('/data/x.parquet')",
    "SELECT * FROM read_json('/etc/passwd')",
    "SELECT * FROM read_json_auto('/etc/passwd')",
    "SELECT * FROM read_ndjson('/etc/passwd')",
    "SELECT * FROM read_json_objects('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM iceberg_scan('/data/ice')",
    "SELECT * FROM delta_scan('/data/delta')",
    "SELECT * FROM read_duckdb('/data/metadata.duckdb')",
    "SELECT * FROM 'file.csv'",
    "SELECT * FROM '/data/runtime/metadata.duckdb'",
    'SELECT * FROM "x.parquet"',
    "SELECT * FROM '~/secrets.json'",
    "FROM 'https://example.com/data.csv'",
    "SELECT s.* FROM sales s JOIN read_csv('/etc/passwd') p ON true",
    "SELECT (SELECT count(*) FROM read_text('/etc/shadow'))",
    "SELECT * FROM sales WHERE amount IN (SELECT 1 FROM read_csv('/etc/passwd'))",
    "WITH x AS (SELECT * FROM read_parquet('/data/a.parquet')) SELECT * FROM x",
    "SELECT read_text('/etc/passwd')",
    # writes, databases, extensions
    "COPY sales TO '/tmp/out.csv'",
    "COPY (SELECT * FROM sales) TO '/tmp/out.parquet' (FORMAT parquet)",
    "COPY sales FROM '/etc/passwd'",
    "EXPORT DATABASE '/tmp/dump'",
    "IMPORT DATABASE '/tmp/dump'",
    "ATTACH '/data/runtime/metadata.duckdb' AS meta",
    "ATTACH ':memory:' AS scratch",
    "DETACH meta",
    "USE meta",
    "INSTALL httpfs",
    "LOAD httpfs",
    "FORCE INSTALL httpfs",
    # settings
    "SET enable_external_access = true",
    "SET allowed_paths = ['/']",
    "RESET lock_configuration",
    "PRAGMA enable_profiling",
    "PRAGMA database_list",
    "CALL pragma_version()",
    "CALL duckdb_settings()",
    "SET VARIABLE x = 1",
    "SELECT current_setting('memory_limit')",
    "SELECT getenv('HOME')",
    "SELECT getvariable('x')",
    "SELECT * FROM which_secret('s3://bucket/x', 's3')",
    "CREATE SECRET s3secret (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    # DDL / DML
    "CREATE TABLE t AS SELECT * FROM sales",
    "CREATE VIEW v AS SELECT 1",
    "CREATE MACRO evil(x) AS x",
    "DROP TABLE sales",
    "DROP VIEW sales",
    "ALTER TABLE sales ADD COLUMN x INTEGER",
    "INSERT INTO sales VALUES (1)",
    "UPDATE sales SET amount = 0",
    "DELETE FROM sales",
    "TRUNCATE sales",
    "SELECT * INTO copy_of_sales FROM sales",
    "CHECKPOINT",
    "BEGIN TRANSACTION",
    "DESCRIBE sales",
    "SHOW TABLES",
    "SUMMARIZE sales",
    # several statements and comment tricks
    "SELECT 1; DROP TABLE sales",
    "SELECT 1; -- harmless?\n DROP TABLE sales",
    "SELECT 1 /* ; */; SELECT 2",
    "/* hello */ DROP TABLE sales",
    "-- just a comment\nCOPY sales TO '/tmp/x.csv'",
    "SELECT 1;;SELECT * FROM read_csv('/etc/passwd')",
    "SELECT 'a;b'; ATTACH 'x.db'",
    # catalog snooping
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM duckdb_tables()",
    "SELECT * FROM duckdb_views()",
    "SELECT * FROM duckdb_databases()",
    "SELECT * FROM duckdb_secrets()",
    "SELECT * FROM duckdb_extensions()",
    "SELECT * FROM duckdb_tables",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM information_schema.columns",
    "SELECT * FROM pg_catalog.pg_class",
    "SELECT * FROM pg_settings",
    "SELECT * FROM sqlite_master",
    "SELECT * FROM pragma_database_list",
    "SELECT * FROM main.sales",
    "SELECT * FROM meta.main.users",
    "SELECT * FROM system.main.duckdb_settings()",
    "WITH sqlite_master AS (SELECT 1) SELECT * FROM sqlite_master",
    "SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')",
    "SELECT * FROM query_table('sales')",
    "SELECT query('SELECT 1')",
    "SELECT json_execute_serialized_sql('{}')",
    "SELECT * FROM sales WHERE region = current_setting('threads')",
    # DESCRIBE / SHOW / SUMMARIZE hidden in a subquery (DuckDB reads them as SELECTs)
    "SELECT * FROM (DESCRIBE sales)",
    "SELECT * FROM (SHOW TABLES)",
    "SELECT * FROM (SUMMARIZE sales)",
    "SELECT * FROM repeat(1, 10)",
    "SELECT * FROM histogram('sales', amount)",
    # tables of another user, or unknown
    "SELECT * FROM ds_99",
    "SELECT * FROM users",
    "SELECT s.* FROM sales s JOIN password_hashes p ON true",
    "WITH a AS (SELECT 1) SELECT * FROM a, other_users_table",
    # not SQL we understand
    "SELECT FROM WHERE (",
    "",
    "   ;  ",
]

PLAN_AND_SETTINGS: list[str] = [
    "SELECT json_serialize_plan('SELECT 1')",
    "SELECT json_serialize_plan('SELECT * FROM sales', format := true)",
    "SELECT * FROM sales WHERE json_serialize_plan('SELECT 1') IS NOT NULL",
    "SELECT json_serialize_sql('SELECT 1')",
    "SELECT json_deserialize_sql(json_serialize_sql('SELECT 1'))",
    "SELECT json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
    "SELECT * FROM json_execute_serialized_sql('{}')",
    "SELECT current_setting('allowed_paths')",
    "SELECT current_setting('temp_directory') AS t FROM sales",
    "SELECT version()",
    "SELECT current_database(), current_schema()",
    "SELECT current_schemas(true)",
    "SELECT current_query()",
    "SELECT current_user, session_user",
    "SELECT in_search_path('main', 'main')",
    "SELECT get_block_size('memory')",
    "SELECT sleep_ms(60000)",
    "SELECT pg_sleep(60)",
    "SELECT write_log('x')",
    "SELECT nextval('s')",
    "SELECT txid_current()",
    "SELECT has_table_privilege('sales', 'select')",
    "SELECT pg_typeof(1)",
    "SELECT * FROM (SELECT * FROM duckdb_settings()) s",
    "SELECT (SELECT value FROM duckdb_settings() WHERE name = 'allowed_paths')",
    "SELECT * FROM duckdb_logs_parsed('query')",
    "SELECT * FROM duckdb_memory()",
    "SELECT * FROM pragma_show('sales')",
    "SELECT * FROM pragma_table_info('sales')",
    "SELECT * FROM pragma_platform()",
    "SELECT * FROM pragma_user_agent()",
    "PIVOT sales ON product USING max(json_serialize_plan('SELECT 1')) GROUP BY region",
    "PIVOT sales ON product USING sum(amount) GROUP BY region ORDER BY current_setting('x')",
    "PIVOT duckdb_settings() ON name USING count(*)",
]
REFUSED_BY_GUARD += PLAN_AND_SETTINGS

MEMORY_BOMBS: list[str] = [
    "SELECT len(range(0, 1000000000)) AS n",
    "SELECT max(length(repeat('x', 100000000) || order_id)) AS n FROM sales",
    "SELECT string_agg(repeat('x', 10000000), '') AS s FROM sales",
    "SELECT list_sum(range(0, 500000000)) AS s",
    "SELECT count(*) FROM (SELECT list(repeat('y', 1000000)) AS l FROM range(2000) GROUP BY ALL)",
]

CPU_BOMBS: list[str] = [
    "SELECT max(levenshtein(repeat(region, 20000), repeat(product, 20000))) AS d "
    "FROM sales",
    "SELECT count(*) FROM sales a, sales b, sales c, sales d, sales e, sales f",
    "SELECT max(damerau_levenshtein(repeat('ab', 10000), repeat('ba', 10000))) AS d "
    "FROM sales",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
]

DEEP_NESTING: list[str] = [
    "SELECT " + "(" * 5000 + "1" + ")" * 5000,
    "SELECT " + "(SELECT " * 500 + "1" + ")" * 500,
    "SELECT " + "CASE WHEN amount > 1 THEN " * 2000 + "1" + " END" * 2000 + " FROM sales",
    "SELECT " + "abs(" * 3000 + "1" + ")" * 3000,
    "SELECT 1" + " + 1" * 20000,
    "SELECT * FROM " + "(SELECT * FROM " * 300 + "sales" + ") t" * 300,
    "SELECT [" * 3000 + "1" + "]" * 3000,
    "SELECT " + "NOT " * 20000 + "true",
]

BOMBS: list[str] = [
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r, sales) "
    "SELECT max(n) FROM r",
    "SELECT count(*) FROM sales a, sales b, sales c, sales d, sales e",
    "SELECT sum(a.amount * b.amount) FROM sales a CROSS JOIN sales b CROSS JOIN sales c "
    "CROSS JOIN sales d CROSS JOIN sales e",
    "SELECT count(*) FROM range(1000000) a, range(1000000) b",
]

SANDBOX_ONLY: list[str] = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM '{other}'",
    "SELECT * FROM read_parquet('{other}')",
    "SELECT * FROM parquet_metadata('{other}')",
    "COPY (SELECT 1) TO '{other}.csv'",
    "EXPORT DATABASE '{other}_dump'",
    "ATTACH '{other}.duckdb' AS meta",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET threads = 8",
    "SET enable_external_access = true",
    "SET allowed_paths = ['/']",
    "RESET allowed_paths",
    "SET lock_configuration = false",
    "PRAGMA threads = 8",
    "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')",
]
