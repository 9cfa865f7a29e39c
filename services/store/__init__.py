"""The metadata store: the engine, the tables and their migrations (nothing else: the
operations live in their domain packages)."""
