"""Item pipelines: clean (extract), dedup (MinHash), store (SQL)."""
