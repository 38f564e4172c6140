"""When and what to fetch: overlap lock, cron, run records, incremental crawling, per-source budget, dupefilter, shared crawl."""
