"""``smartstreets dashboards build | check | push``: Grafana dashboards from the builder."""

from pathlib import Path

import typer

from dashboards.build import JSON_DIR, check, write
from dashboards.errors import DashboardsError
from dashboards.grafana import Grafana
from dashboards.push import push as push_all
from ingest.kernel.cli import fail

dashboards_app = typer.Typer(
    help="Grafana dashboards: generate, check and provision them.", no_args_is_help=True
)

DirOption = typer.Option(JSON_DIR, "--dir", help="Where the dashboard JSON files live.")


def _check(directory: Path) -> None:
    problems = check(directory)
    if problems:
        for p in problems:
            typer.echo(f"error: {p}", err=True)
        raise typer.Exit(1)
    typer.echo(f"dashboards in {directory} are valid and up to date")


@dashboards_app.command("build")
def build(directory: Path = DirOption) -> None:
    """Write every dashboard's JSON file from the builder."""
    for path in write(directory):
        typer.echo(f"wrote {path}", err=True)


@dashboards_app.command("check")
def check_command(directory: Path = DirOption) -> None:
    """Fail unless the JSON files are valid and what the builder makes."""
    _check(directory)


@dashboards_app.command("push")
def push(
    url: str | None = typer.Option(
        None, "--url", envvar="SMARTSTREETS_GRAFANA_URL", help="Grafana's URL."
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="SMARTSTREETS_GRAFANA_TOKEN",
        help="A Grafana service-account token with the Admin role.",
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        envvar=["SMARTSTREETS_GRAFANA_DATABASE_URL", "SMARTSTREETS_DATABASE_URL"],
        help="The database as Grafana reaches it, for the data source (default: "
        "$SMARTSTREETS_GRAFANA_DATABASE_URL, then $SMARTSTREETS_DATABASE_URL; without one the "
        "data source must exist, e.g. provisioned from deploy/grafana).",
    ),
    force: bool = typer.Option(False, "--force", help="Write every item even when unchanged."),
    check_only: bool = typer.Option(
        False, "--check", help="Only check the dashboard files, as 'dashboards check' does."
    ),
    directory: Path = DirOption,
) -> None:
    """Create or update the data source and every dashboard; unchanged items are left alone."""
    if check_only:
        _check(directory)
        return
    if not url:
        fail("give Grafana's URL with --url or $SMARTSTREETS_GRAFANA_URL", 2)
    if not token:
        fail("give a Grafana token with --token or $SMARTSTREETS_GRAFANA_TOKEN", 2)
    try:
        done = push_all(Grafana(url, token), database_url or None, force=force)
    except DashboardsError as exc:
        fail(str(exc))
    for item in done:
        typer.echo(f"{item.kind} {item.uid} ({item.title}): {item.outcome}")
