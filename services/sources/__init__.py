"""Data sources: outside databases Research Desk reads from, where the data lives.

- `catalog`: the sources themselves (added by admins, or `[connections.NAME]` in the secrets
  file), their passwords sealed at rest (`sealing`).
- `door`: the one way in: `connect(source)` and `run_readonly(...)`, always read-only, with a
  connect timeout and a statement timeout; `problems` turns a refusal into one sentence.
- `check`: "Test connection" (changes nothing; warns when the database user can write).
- `browse`: schemas, tables and views with row estimates, and column types.

Who may do what with them is decided in services.access.permissions ("manage_sources",
"use_sources").
"""
