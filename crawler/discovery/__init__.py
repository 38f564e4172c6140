"""Finding and decoding pages: feeds, sitemaps, robots.txt, listing links, page encodings."""
