"""``smartstreets councils …``: a council's facts, and whether its residents may upload drives."""

import psycopg
import typer

from ingest.db.councils import (
    Council,
    UnknownCouncil,
    drives_enabled,
    require_council,
    set_drives_enabled,
)
from ingest.kernel.cli import DatabaseUrlOption, fail, on_database

councils_app = typer.Typer(help="Councils and what they allow.", no_args_is_help=True)


def _show(conn: psycopg.Connection, slug: str) -> tuple[Council, bool]:
    return require_council(conn, slug), drives_enabled(conn, slug)


def _print(council: Council, drives: bool) -> None:
    print(f"slug: {council.slug}")
    print(f"name: {council.name}")
    print(f"timezone: {council.timezone}")
    print(f"drives: {'enabled' if drives else 'disabled'}")


@councils_app.command("show")
def councils_show(
    council: str = typer.Argument(..., help="Council slug."),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Print a council's slug, name, time zone and whether drives are enabled."""
    _print(*on_database(database_url, lambda conn: _show(conn, council), UnknownCouncil))


@councils_app.command("set")
def councils_set(
    council: str = typer.Argument(..., help="Council slug."),
    drives: bool | None = typer.Option(
        None,
        "--drives/--no-drives",
        help="Let residents' phones upload drives (POST /v1/councils/C/drives), or stop them.",
    ),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Change what a council allows, then print it as 'show' does."""
    if drives is None:
        fail("nothing to set: give --drives or --no-drives", 2)

    def work(conn: psycopg.Connection) -> tuple[Council, bool]:
        with conn.transaction():
            set_drives_enabled(conn, council, bool(drives))
            return _show(conn, council)

    _print(*on_database(database_url, work, UnknownCouncil))
