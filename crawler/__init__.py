"""Arabic news crawler and near-duplicate merger (Scrapy project package)."""

__version__ = "0.1.0"
