"""Near-duplicate merging: MinHash signatures, the database-resident index, headline clusters, why/unmerge, reindex."""
