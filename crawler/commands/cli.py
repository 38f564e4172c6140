"""Command line: ``python -m crawler crawl | export | extract | import | stats | why | cron | demo | serve``.

Thin: each command checks its input, calls the module that does the work and
prints a short result. Known failures print one line on stderr and exit 2.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from crawler import __version__
from crawler.sources import SourcesError, load_sources
from crawler.storage.database import DEFAULT_URL, Database, StorageError, describe_url

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


class UsageFailure(click.ClickException):
    """Bad usage or configuration: one line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def fail(message: str) -> NoReturn:
    raise UsageFailure(message)


def database_url(db: str | None) -> str:
    """``--db``, else ``DATABASE_URL``, else SQLite under data/."""
    return db or os.environ.get("DATABASE_URL") or DEFAULT_URL


def open_db(db: str | None) -> Database:
    try:
        return Database.open(database_url(db))
    except StorageError as exc:
        fail(str(exc))


def parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"-s expects NAME=VALUE, got {pair!r}")
        out[name.strip()] = value
    return out


db_option = click.option("--db", "db", metavar="URL", help="SQLAlchemy URL (default: $DATABASE_URL or sqlite:///data/news.db).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="arabic-news-crawler", message="%(prog)s %(version)s")
def main() -> None:
    """Crawl Arabic news sites, extract clean articles, merge near-duplicates, export a corpus."""


@main.command()
@click.option("--sources", "sources_path", default="sources.yaml", show_default=True, metavar="FILE",
              help="The sources file (YAML).")
@db_option
@click.option("-s", "settings_pairs", multiple=True, metavar="NAME=VALUE", help="A Scrapy setting, as `scrapy crawl -s`.")
@click.option("--only", multiple=True, metavar="NAME", help="Crawl only these sources (repeatable).")
@click.option("--redis", "redis_url", metavar="URL", default=None, help="Join a shared crawl through Redis (or $REDIS_URL).")
@click.option("--log-file", "log_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Log (and the summary) to this file, rotated; nothing on stdout (for cron).")
@click.option("-o", "--output", "output", multiple=True, metavar="FILE",
              help="Append the records of the articles stored to FILE (a Scrapy feed: .jsonl, .json, .csv, .xml,"
                   " or FILE:FORMAT), as `scrapy crawl -o`.")
@click.option("-O", "--overwrite-output", "overwrite_output", multiple=True, metavar="FILE",
              help="As -o, replacing FILE.")
def crawl(sources_path: str, db: str | None, settings_pairs: tuple[str, ...], only: tuple[str, ...],
          redis_url: str | None, log_file: Path | None, output: tuple[str, ...] = (),
          overwrite_output: tuple[str, ...] = ()) -> None:
    """Crawl the sources and store new articles; print a summary.

    Exit codes: 0 done, 1 the run failed (e.g. the database went away),
    2 bad usage or configuration, 75 another crawl holds this database's lock.
    """
    from crawler.scheduling.lock import EXIT_LOCKED, CrawlLock, LockHeld
    from crawler.commands.runner import project_settings, run_crawl

    url = database_url(db)
    overrides: dict[str, Any] = {"STORAGE_URL": url, "SOURCES_FILE": sources_path}
    overrides.update(parse_overrides(settings_pairs))
    redis_url = redis_url or os.environ.get("REDIS_URL")
    if redis_url:
        overrides["REDIS_URL"] = redis_url
    if log_file is not None:
        overrides["LOG_INSTALL_ROOT_HANDLER"] = False  # the rotated file takes the place of Scrapy's handler
    settings = project_settings(overrides)
    out = CrawlOutput(log_file, settings)
    if output or overwrite_output:
        from scrapy.exceptions import UsageError
        from scrapy.utils.conf import feed_process_params_from_cli

        try:
            feeds = feed_process_params_from_cli(settings, list(output), overwrite_output=list(overwrite_output))
        except UsageError as exc:
            out.fail(str(exc).splitlines()[0])
        settings.set("FEEDS", feeds, priority="cmdline")
    try:
        sources = load_sources(sources_path)
    except SourcesError as exc:
        out.fail(str(exc))
    unknown = sorted(set(only) - {s.name for s in sources})
    if unknown:
        out.fail(f"{sources_path}: --only: no source named {unknown[0]!r}")
    if redis_url:  # a shared crawl: PostgreSQL only, Redis reachable (else exit 2)
        from crawler.scheduling.shared import SharedCrawlError, initialise_database, prepare_shared

        try:
            prepare_shared(settings, redis_url, url, sources_path, only)
        except SharedCrawlError as exc:
            out.fail(str(exc))
    lock = None
    if settings.getbool("LOCK_ENABLED"):
        # The lock comes first: a second crawl exits at once, touching nothing.
        # The workers of a shared crawl hold it together (shared mode).
        lock = CrawlLock(url, shared=bool(redis_url))
        try:
            lock.acquire()
        except LockHeld as exc:
            out.fail(str(exc), EXIT_LOCKED)
        except Exception as exc:  # noqa: BLE001 - an unreachable PostgreSQL server
            reason = str(exc).strip().splitlines()
            out.fail(f"database {describe_url(url)} is unreachable: {reason[0] if reason else exc}")
        if not redis_url:
            settings.set("LOCK_HELD", True, priority="cmdline")
    try:
        try:
            if redis_url:
                initialise_database(settings, url)  # workers started together: one migrates
            else:
                # Unreachable database, or dedup settings that do not match its
                # index: exit 2 before any fetch.
                database = Database.open(url)
                try:
                    check_dedup_settings(settings, database)
                finally:
                    database.close()
        except (StorageError, ValueError) as exc:
            out.fail(str(exc))
        summary = run_crawl(settings, sources_path, list(only) or None)
    finally:
        if lock is not None:
            lock.release()
    out.result(summary.render())
    if not summary.ok:
        out.fail(f"the crawl failed ({summary.finish_reason}); the next run fetches what is missing", 1)


def check_dedup_settings(settings: BaseSettings, database: Database) -> None:
    """Raise if the DEDUP_* settings are invalid or differ from those the index was built with."""
    if settings.getbool("DEDUP_ENABLED"):
        from crawler.stats import CounterStats
        from crawler.dedup.clusterer import Deduplicator

        Deduplicator.build(settings, CounterStats(), database).open()


class CrawlOutput:
    """Where `crawl` reports: stdout/stderr, or only the rotated --log-file (cron).

    The log follows the ``LOG_*`` settings either way: Scrapy's own handler
    (stderr, or ``LOG_FILE``) without ``--log-file``; with it, a rotated file
    of the same level and format (``LOG_LEVEL``, ``LOG_FORMAT``,
    ``LOG_DATEFORMAT``), which takes the place of ``LOG_FILE``. The summary is
    an INFO line there (so ``LOG_LEVEL=WARNING`` leaves it out).
    Bad ``LOG_LEVEL`` or ``LOG_FORMAT``: exit 2.
    """

    def __init__(self, log_file: Path | None, settings: Any) -> None:
        import logging

        from crawler.scheduling.cron import log_level, rotating_handler

        self.log_file = log_file
        self.logger = None
        try:
            level = log_level(settings)
            value = settings.get("LOG_LEVEL")
            if isinstance(value, str) and value != logging.getLevelName(level):  # `-s LOG_LEVEL=warning`
                settings.set("LOG_LEVEL", logging.getLevelName(level), priority=settings.getpriority("LOG_LEVEL"))
            handler = rotating_handler(log_file, settings=settings) if log_file is not None else None
        except ValueError as exc:
            fail(str(exc))
        if handler is not None:
            root = logging.getLogger()
            root.addHandler(handler)
            root.setLevel(max(handler.level, logging.DEBUG))
            self.logger = logging.getLogger("crawler.commands.cli")

    def result(self, text: str) -> None:
        if self.logger is not None:
            self.logger.info("%s", text)
        else:
            click.echo(text)

    def fail(self, message: str, code: int = 2) -> NoReturn:
        if self.logger is not None:
            self.logger.error("%s", message)
        if code == 2:
            fail(message)
        click.echo(f"error: {message}", err=True)
        sys.exit(code)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--url", default=None, help="The page's URL (resolves links, reads dates in the URL).")
@click.option("--stored", "stored_url", default=None, metavar="URL",
              help="Instead of FILE: re-run extraction on the stored (compressed) page of this article.")
@db_option
def extract(file: Path | None, url: str | None, stored_url: str | None, db: str | None) -> None:
    """Extract one saved page (or a stored one, with --stored) and print its JSON record."""
    from crawler.extract import extract_article

    if (file is None) == (stored_url is None):
        fail("give either FILE or --stored URL")
    if stored_url is not None:
        from crawler.storage.database import stored_page

        database = open_db(db)
        try:
            page = stored_page(database, stored_url)
        finally:
            database.close()
        if page is None:
            fail(f"no stored page for {stored_url}")
        data, url, encoding = page.html, page.url, page.encoding
    else:
        try:
            data = file.read_bytes()
        except OSError as exc:
            fail(f"{file}: cannot read: {exc.strerror or exc}")
        encoding = None
    result = extract_article(data, url, encoding=encoding)
    click.echo(json.dumps(result.to_record(), ensure_ascii=False, indent=2))


@main.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet", "warc"]), required=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@db_option
@click.option("--what", type=click.Choice(["articles", "headlines"]), default="articles", show_default=True)
@click.option("--all-copies", is_flag=True, help="Every stored copy, not one record per cluster.")
@click.option("--since", default=None, metavar="DATE", help="Only articles published (or fetched) since DATE.")
@click.option("--site", default=None, metavar="NAME", help="Only this source.")
@click.option("--sources", "sources_path", default=None, metavar="FILE",
              help="Sources file for the dataset card's licence notes [default: sources.yaml, if present].")
def export(fmt: str, out: Path, db: str | None, what: str, all_copies: bool, since: str | None,
           site: str | None, sources_path: str | None) -> None:
    """Export the de-duplicated corpus (JSON lines, CSV, Parquet or WARC) with its dataset card."""
    from crawler.storage.export import export_corpus

    sources = None
    if sources_path is None and Path("sources.yaml").is_file():
        sources_path = "sources.yaml"
    if sources_path is not None and not Path(sources_path).exists():
        click.echo(f"note: {sources_path}: no such file; the dataset card has no licence notes", err=True)
        sources_path = None
    if sources_path is not None:
        try:
            sources = load_sources(sources_path)
        except SourcesError as exc:
            fail(str(exc))
    database = open_db(db)
    try:
        count = export_corpus(database, out, fmt, what=what, all_copies=all_copies, since=since,
                              site=site, progress=sys.stderr.isatty(), sources=sources, sources_file=sources_path)
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{out}: cannot write: {exc.strerror or exc}")
    finally:
        database.close()
    unit = "pages (WARC response records)" if fmt == "warc" else what
    click.echo(f"{count} {unit} written to {out} (card: {out.name}.card.json, {out.name}.card.md)")


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--site", default=None, metavar="NAME", help="Source name for records that carry none.")
@click.option("--sources", "sources_path", default="sources.yaml", show_default=True, metavar="FILE",
              help="The sources file (YAML): each source's boilerplate_patterns apply to its records.")
@db_option
@click.option("-s", "settings_pairs", multiple=True, metavar="NAME=VALUE",
              help="A setting, e.g. -s IMPORT_WORKERS=0 (as for crawl).")
@click.pass_context
def import_(ctx: click.Context, file: Path, site: str | None, sources_path: str, db: str | None,
            settings_pairs: tuple[str, ...]) -> None:
    """Clean, de-duplicate and store an existing corpus (JSON lines)."""
    from crawler.storage.importer import import_jsonl
    from crawler.commands.runner import project_settings

    if not file.is_file():
        fail(f"{file}: cannot read: no such file")
    patterns = import_patterns(sources_path, explicit=ctx.get_parameter_source("sources_path")
                               is not click.core.ParameterSource.DEFAULT)
    overrides = parse_overrides(settings_pairs)
    database = open_db(db)
    settings = project_settings(overrides)
    try:
        check_dedup_settings(settings, database)
        counts = import_jsonl(file, database, site=site, settings=settings, progress=sys.stderr.isatty(),
                              patterns_by_site=patterns)
    except (StorageError, ValueError) as exc:
        fail(str(exc))
    finally:
        database.close()
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))


def import_patterns(sources_path: str, *, explicit: bool) -> dict[str, tuple[str, ...]]:
    """Each source's ``boilerplate_patterns``, by source name, for ``import``.

    A bad sources file is bad configuration (exit 2), as for ``crawl``; only the
    default file may be absent (an import needs no sources), and then there are no patterns.
    """
    if not explicit and not Path(sources_path).exists():
        return {}
    try:
        sources = load_sources(sources_path)
    except SourcesError as exc:
        fail(str(exc))
    return {s.name: s.boilerplate_patterns for s in sources if s.boilerplate_patterns}


@main.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--check", is_flag=True, help="Exit 1 when a source is flagged (dead or redesigned).")
@click.option("--runs", "n_runs", default=10, show_default=True, metavar="N", help="Runs shown in the history.")
@click.option("-s", "settings_pairs", multiple=True, metavar="NAME=VALUE",
              help="A setting, e.g. -s RUNS_HEALTH_RUNS=5 (as for crawl).")
def stats(db: str | None, as_json: bool, check: bool, n_runs: int, settings_pairs: tuple[str, ...]) -> None:
    """Show what the database holds, the run history and each source's health."""
    from crawler.commands.report import corpus_stats, render_stats
    from crawler.commands.runner import project_settings

    settings = project_settings(parse_overrides(settings_pairs))
    database = open_db(db)
    try:
        data = corpus_stats(database, runs=n_runs, health_runs=settings.getint("RUNS_HEALTH_RUNS"),
                            min_pages=settings.getint("RUNS_HEALTH_MIN_PAGES"))
    finally:
        database.close()
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else render_stats(data))
    if check and data.get("flagged"):
        sys.exit(1)


@main.command()
@click.option("--every", default=None, metavar="INTERVAL", help="15m, 30m, 1h, 2h or 1d.")
@click.option("--install", "action", flag_value="install", help="Add the line to your crontab (idempotent).")
@click.option("--remove", "action", flag_value="remove", help="Take the line out of your crontab.")
@click.option("--sources", "sources_path", default="sources.yaml", show_default=True, metavar="FILE",
              help="The sources file (YAML).")
@db_option
@click.option("--log-file", "log_file", default="data/logs/crawl.log", show_default=True, metavar="FILE",
              help="The rotated log of the scheduled crawls (relative to the repository).")
def cron(every: str | None, action: str | None, sources_path: str, db: str | None, log_file: str) -> None:
    """Print (or --install / --remove) the crontab line of a scheduled crawl."""
    from crawler.scheduling.cron import SCHEDULES, CronError, CronJob, absolute_db_url, install, remove

    repo = Path(__file__).resolve().parents[2]
    if every is None and action != "remove":
        fail(f"--every is required ({', '.join(SCHEDULES)})")
    if every is not None and every not in SCHEDULES:
        fail(f"--every must be one of {', '.join(SCHEDULES)}, not {every!r}")
    sources = Path(sources_path)
    if not sources.is_absolute():
        sources = (Path.cwd() / sources) if (Path.cwd() / sources).is_file() else repo / sources
    try:
        load_sources(str(sources))
    except SourcesError as exc:
        fail(str(exc))
    try:
        url = absolute_db_url(database_url(db), Path.cwd())
    except Exception:  # noqa: BLE001 - sqlalchemy ArgumentError
        fail(f"database URL {database_url(db)!r} is not a valid SQLAlchemy URL")
    job = CronJob(every or "1h", repo, str(sources.resolve()), url, log_file)
    if not (repo / ".venv" / "bin" / "python").exists():
        click.echo(f"warning: {repo / '.venv'} does not exist yet: run `make venv` first", err=True)
    try:
        if action == "install":
            changed = install(job)
            click.echo(("installed: " if changed else "already installed: ") + job.line())
        elif action == "remove":
            click.echo("removed" if remove(job) else "not installed: nothing to remove")
        else:
            click.echo(job.line())
    except CronError as exc:
        fail(str(exc))


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("data/demo"),
              show_default=True)
def demo(out_dir: Path) -> None:
    """Serve the bundled sample site on loopback, crawl it, export it, summarise."""
    from crawler.demo.run import run_demo

    click.echo(run_demo(out_dir))


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback unless given).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--cache-seconds", default=30.0, show_default=True, type=click.FloatRange(0),
              help="How long the whole-corpus counts of / and /api/stats are reused (0: computed for every request).")
def serve(db: str | None, host: str, port: int, cache_seconds: float) -> None:
    """Show the corpus as a local, read-only web page: counts, search, stories, headlines, /api/stats."""
    from crawler.commands.runner import project_settings
    from crawler.dedup.minhash import DedupConfig
    from crawler.web.db import open_readonly
    from crawler.web.server import port_free, run

    try:
        database = open_readonly(database_url(db))
    except StorageError as exc:
        fail(str(exc))
    try:
        if not port_free(host, port):
            fail(f"cannot listen on {host}:{port}: the address is in use or not available (try --port)")
        settings = project_settings()
        try:
            DedupConfig.from_settings(settings)
        except ValueError as exc:
            fail(str(exc))
        run(database, host, port, settings, cache_seconds=cache_seconds, announce=click.echo)
    finally:
        database.close()


@main.command()
@click.argument("url_a")
@click.argument("url_b")
@db_option
def why(url_a: str, url_b: str, db: str | None) -> None:
    """Explain why two stored URLs were merged (or not): method, score, Jaccard, configuration, when."""
    from crawler.dedup.minhash import DedupConfig
    from crawler.commands.runner import project_settings
    from crawler.dedup.why import UnknownArticle, explain

    database = open_db(db)
    try:
        settings = project_settings()
        click.echo(explain(database, url_a, url_b, DedupConfig.from_settings(settings),
                           member_threshold=settings.getfloat("DEDUP_MEMBER_THRESHOLD"),
                           max_members=settings.getint("DEDUP_MAX_MEMBERS_CHECKED")))
    except UnknownArticle as exc:
        fail(str(exc))
    except ValueError as exc:  # invalid DEDUP_* settings
        fail(str(exc))
    finally:
        database.close()


@main.command()
@db_option
@click.option("-s", "settings_pairs", multiple=True, metavar="NAME=VALUE",
              help="A DEDUP_* setting to rebuild the index with (as for crawl).")
def reindex(db: str | None, settings_pairs: tuple[str, ...]) -> None:
    """Rebuild the de-duplication indexes from the stored articles with the current DEDUP_* settings.

    Needed after a change of those settings (or of a release's hashing): a
    crawl refuses to mix signatures of two configurations. Clusters are kept.
    Exit codes: 0 done, 2 bad usage, 75 a crawl holds this database's lock.
    """
    from crawler.scheduling.lock import EXIT_LOCKED, LockHeld, crawl_lock
    from crawler.dedup.reindex import reindex as do_reindex
    from crawler.commands.runner import project_settings

    overrides = parse_overrides(settings_pairs)
    settings = project_settings(overrides)
    url = database_url(db)
    database = open_db(db)
    try:
        with crawl_lock(url):
            counts = do_reindex(database, settings)
    except LockHeld as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except (StorageError, ValueError) as exc:
        fail(str(exc))
    finally:
        database.close()
    click.echo(f"reindexed {counts['articles']} articles and {counts['headlines']} headline spellings")


@main.command()
@click.argument("url")
@db_option
def unmerge(url: str, db: str | None) -> None:
    """Move one stored copy out of its cluster into its own (recorded; the next export shows it apart)."""
    from crawler.dedup.why import UnknownArticle
    from crawler.dedup.why import unmerge as do_unmerge

    database = open_db(db)
    try:
        old, new = do_unmerge(database, url)
    except (UnknownArticle, ValueError) as exc:
        fail(str(exc))
    finally:
        database.close()
    click.echo(f"{url}: moved from cluster {old} to {new}")


if __name__ == "__main__":
    main()
