"""The data engine: reading files, numbers and dates, profiles, quality, cleaning, DuckDB;
datasets, their versions and the samples."""
