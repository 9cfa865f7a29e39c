"""The data engine: reading files, numbers and dates, profiles, quality, cleaning, DuckDB."""
