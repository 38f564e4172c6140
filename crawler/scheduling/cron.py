"""`python -m crawler cron`: the crontab line of a scheduled crawl, installed idempotently.

The line cds to the repository, runs ``crawl`` from the repository's virtual
environment with the same sources and database, and sends its log to a
rotated file under ``data/logs/`` (``crawl --log-file``; the shell redirection
only catches what happens before logging starts). A trailing marker comment
(``# arabic-news-crawler:<id>``, the id derived from the repository and the
database) makes ``--install`` replace rather than add, and ``--remove`` find
the line again.
"""

from __future__ import annotations

import hashlib
import logging
import logging.handlers
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

__all__ = ["SCHEDULES", "CronError", "CronJob", "install", "log_level", "read_crontab", "remove", "rotating_handler"]

#: accepted --every values -> the five crontab time fields
SCHEDULES: dict[str, str] = {
    "15m": "*/15 * * * *",
    "30m": "*/30 * * * *",
    "1h": "0 * * * *",
    "2h": "0 */2 * * *",
    "1d": "0 3 * * *",
}
MARKER = "arabic-news-crawler"
LOG_MAX_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 5
LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"  # Scrapy's LOG_FORMAT default
LOG_DATEFORMAT = "%Y-%m-%d %H:%M:%S"


class CronError(RuntimeError):
    """The crontab cannot be read or written; one line for the user."""


def log_level(settings: BaseSettings) -> int:
    """``LOG_LEVEL`` as a number (a name such as ``WARNING``, or a number).

    Raises:
        ValueError: not a level, with a one-line reason.
    """
    value = settings.get("LOG_LEVEL") or "DEBUG"  # Scrapy's default
    names = logging.getLevelNamesMapping()
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    if str(value).upper() in names:
        return names[str(value).upper()]
    raise ValueError(f"LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not {value!r}")


def rotating_handler(path: Path, max_bytes: int = LOG_MAX_BYTES, backups: int = LOG_BACKUPS,
                     settings: BaseSettings | None = None) -> logging.Handler:
    """A size-rotated log file (``crawl.log``, ``crawl.log.1`` ... ``.5``), its folder created.

    With *settings*, the handler is what Scrapy's own log handler would be
    (``LOG_LEVEL``, ``LOG_FORMAT``, ``LOG_DATEFORMAT``, ``LOG_ENCODING``,
    ``LOG_SHORT_NAMES``; ``LOG_ENABLED`` off: nothing is written), only rotated.

    Raises:
        ValueError: an invalid ``LOG_LEVEL`` or ``LOG_FORMAT``.
    """
    fmt, datefmt, level, encoding = LOG_FORMAT, LOG_DATEFORMAT, logging.NOTSET, "utf-8"
    if settings is not None:
        fmt = settings.get("LOG_FORMAT") or LOG_FORMAT
        datefmt = settings.get("LOG_DATEFORMAT") or LOG_DATEFORMAT
        level = log_level(settings) if settings.getbool("LOG_ENABLED") else logging.CRITICAL + 1
        encoding = settings.get("LOG_ENCODING") or encoding
    try:
        formatter = logging.Formatter(fmt, datefmt)
    except ValueError as exc:
        raise ValueError(f"LOG_FORMAT {fmt!r} is not a logging format: {exc}") from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding=encoding)
    handler.setFormatter(formatter)
    handler.setLevel(level)
    if settings is not None and settings.getbool("LOG_SHORT_NAMES"):
        from scrapy.utils.log import TopLevelFormatter

        handler.addFilter(TopLevelFormatter(["scrapy"]))
    return handler


def absolute_db_url(url: str, cwd: Path) -> str:
    """*url* with a relative SQLite path made absolute against *cwd* (cron runs elsewhere)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not parsed.database.startswith("file:") and not Path(parsed.database).is_absolute():
        parsed = parsed.set(database=str((cwd / parsed.database).resolve()))
    return parsed.render_as_string(hide_password=False)


@dataclass(frozen=True)
class CronJob:
    """One scheduled crawl.

    Args:
        every: one of :data:`SCHEDULES` (``15m``, ``30m``, ``1h``, ``2h``, ``1d``).
        repo: the repository root (where ``.venv`` is).
        sources: the sources file (absolute, or relative to *repo*).
        db_url: the database URL (relative SQLite paths resolved against *repo*).
        log_file: the rotated log (absolute, or relative to *repo*).
    """

    every: str
    repo: Path
    sources: str
    db_url: str
    log_file: str = "data/logs/crawl.log"

    def __post_init__(self) -> None:
        if self.every not in SCHEDULES:
            raise ValueError(f"--every must be one of {', '.join(SCHEDULES)}, not {self.every!r}")

    @property
    def marker(self) -> str:
        ident = hashlib.sha1(f"{self.repo.resolve()}|{self.db_url}".encode()).hexdigest()[:10]
        return f"# {MARKER}:{ident}"

    def command(self) -> str:
        """The shell command of the line (without schedule and marker)."""
        log = shlex.quote(self.log_file)
        log_dir = shlex.quote(str(Path(self.log_file).parent))
        cmd = (f"cd {shlex.quote(str(self.repo))} && mkdir -p {log_dir} && .venv/bin/python -m crawler crawl"
               f" --sources {shlex.quote(self.sources)} --db {shlex.quote(self.db_url)}"
               f" --log-file {log} >> {log} 2>&1")
        return cmd.replace("%", "\\%")  # cron turns a bare % into a newline

    def line(self) -> str:
        return f"{SCHEDULES[self.every]} {self.command()} {self.marker}"


def _crontab(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["crontab", *args], input=stdin, capture_output=True, text=True, timeout=30,
                              check=False)
    except FileNotFoundError:
        raise CronError("the `crontab` command is not installed (install cron, or add the printed line by hand)")\
            from None


def read_crontab() -> list[str]:
    """The user's crontab lines (empty when there is none)."""
    proc = _crontab(["-l"])
    if proc.returncode != 0:
        if "no crontab" in (proc.stderr or "").lower():
            return []
        raise CronError(f"crontab -l failed: {(proc.stderr or '').strip() or proc.returncode}")
    return proc.stdout.splitlines()


def _write(lines: list[str]) -> None:
    proc = _crontab(["-"], "\n".join(lines) + "\n" if lines else "")
    if proc.returncode != 0:
        raise CronError(f"crontab - failed: {(proc.stderr or '').strip() or proc.returncode}")


def install(job: CronJob) -> bool:
    """Add (or replace) the job's line; returns whether the crontab changed."""
    lines = read_crontab()
    kept = [ln for ln in lines if not ln.rstrip().endswith(job.marker)]
    new = [*kept, job.line()]
    if new == lines:
        return False
    _write(new)
    return True


def remove(job: CronJob) -> bool:
    """Take the job's line out; returns whether there was one."""
    lines = read_crontab()
    kept = [ln for ln in lines if not ln.rstrip().endswith(job.marker)]
    if kept == lines:
        return False
    _write(kept)
    return True
