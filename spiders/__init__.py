"""Spiders of the project: `news` (spiders/news.py) crawls any configured source."""
