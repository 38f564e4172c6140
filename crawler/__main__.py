"""`python -m crawler ...` entry point."""

from crawler.commands.cli import main

if __name__ == "__main__":
    main()
