"""The command line (`python -m crawler ...`) and what each command runs."""
