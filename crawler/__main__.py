"""`python -m crawler ...` entry point."""

from crawler.cli import main

if __name__ == "__main__":
    main()
