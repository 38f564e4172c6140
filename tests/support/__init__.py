"""Helpers shared by the tests: the generated test web (see :mod:`tests.support.fixture_web`)."""
