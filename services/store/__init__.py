"""The metadata store: engine, tables, migrations, dataset and research metadata."""
