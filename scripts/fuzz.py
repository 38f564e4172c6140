"""Run the fuzz suite (tests/test_fuzz.py) for a while: ``make fuzz`` (``FUZZ_SECONDS``, default 600).

Every target runs round-robin, a Hypothesis run of 500 random inputs at a time, until the time is
up; the number of inputs tried per target and the slowest input are printed. Exit 1 when a target
failed (an exception escaped or one input took over 5 s): Hypothesis prints the shrunk input,
which then goes into tests/test_fuzz.py as an ``@example`` (a regression test).
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("FUZZ_PROFILE", "long")

from tests import test_fuzz  # noqa: E402

TARGETS = [getattr(test_fuzz, name) for name in dir(test_fuzz) if name.startswith("test_")]


def main() -> int:
    logging.disable(logging.CRITICAL)  # broken gzip and the like are logged by design: noise here
    seconds = float(os.environ.get("FUZZ_SECONDS", "600"))
    end = time.monotonic() + seconds
    failures: list[str] = []
    rounds = 0
    while time.monotonic() < end and not failures:
        for target in TARGETS:
            if time.monotonic() >= end:
                break
            try:
                target()
            except Exception:  # noqa: BLE001 - reported below, with Hypothesis's falsifying example
                failures.append(f"{target.__name__}:\n{traceback.format_exc()}")
                break
        rounds += 1
    total = sum(test_fuzz.TRIED.values())
    print(f"fuzz: {seconds:.0f} s, {rounds} rounds, {total:,} inputs tried")
    for name, count in sorted(test_fuzz.TRIED.items()):
        print(f"  {name:18s} {count:>9,}")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
