"""``smartstreets councils …``: create a council and keep its profile (names, place, calendar,
depot, zones, what it publishes) in one place."""

import json
import re
from pathlib import Path
from typing import Any

import psycopg
import typer
from pydantic import ValidationError

from api.council_profiles import check_change, profile_json, profile_lines, zones_from_geojson
from api.open_data_settings import OpenDataSettings
from ingest.contract.decode import describe_validation_error
from ingest.db.council_profile import (
    SLUG_PATTERN,
    CouncilExists,
    CouncilProfile,
    ProfileChange,
    create_council,
    load_profile,
    update_profile,
)
from ingest.db.councils import UnknownCouncil, council_slugs
from ingest.kernel.cli import DatabaseUrlOption, fail, on_database

councils_app = typer.Typer(
    help="Councils: create one, and keep its profile in one place.", no_args_is_help=True
)

_NAME = typer.Option(None, "--name", help="Display name, e.g. 'Rutland County Council'.")
_TZ = typer.Option(None, "--timezone", help="IANA time zone (default Europe/London).")
_HOLIDAYS = typer.Option(None, "--holidays", help="Built-in holiday calendar: england, vic, none.")
_LOCALE = typer.Option(None, "--locale", help="Language and region, e.g. en-GB.")
_BBOX = typer.Option(None, "--bbox", metavar="W,S,E,N", help="Bounding box in degrees.")
_BOUNDARY = typer.Option(
    None, "--boundary", metavar="FILE", help="GeoJSON Polygon/MultiPolygon of the council."
)
_DEPOT = typer.Option(None, "--depot", metavar="LAT,LON[,NAME]", help="The vehicles' depot.")
_ZONE = typer.Option(
    None, "--zone", metavar="ZONE=NAME", help="A zone's display name (repeatable)."
)
_ZONES = typer.Option(
    None,
    "--zones",
    metavar="FILE",
    help="GeoJSON FeatureCollection of zone polygons (properties: zone, display_name).",
)
_COUNTERS = typer.Option(
    None,
    "--counter-forecasts/--no-counter-forecasts",
    help="Publish counter-level figures and forecasts, or only zones'.",
)
_DRIVES = typer.Option(
    None, "--drives/--no-drives", help="Let residents' phones upload drives, or stop them."
)
_LICENCE = typer.Option(None, "--licence", metavar="URL", help="The open data's licence URL.")


def _numbers(option: str, text: str, count: tuple[int, ...]) -> list[str]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in count:
        fail(f"{option}: expected {' or '.join(map(str, count))} comma-separated values", 2)
    return parts


def _read_json(option: str, path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{option}: cannot read {path}: {exc.strerror}", 2)
    except ValueError as exc:
        fail(f"{option}: {path} is not JSON: {exc}", 2)


def _change(**options: Any) -> ProfileChange:
    """The options given, checked as the admin API checks a body."""
    fields: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
    fields.pop("zone", None), fields.pop("zones", None)
    if options.get("bbox"):
        fields["bbox"] = _numbers("--bbox", options["bbox"], (4,))
    if options.get("boundary"):
        fields["boundary"] = _read_json("--boundary", options["boundary"])
    if options.get("depot"):
        lat, lon, *name = _numbers("--depot", options["depot"], (2, 3))
        fields["depot"] = {"lat": lat, "lon": lon} | ({"name": name[0]} if name else {})
    zones: list[dict[str, Any]] = []
    if options.get("zones"):
        path: Path = options["zones"]
        try:
            zones += zones_from_geojson(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            fail(f"--zones: cannot read {path}: {exc.strerror}", 2)
        except ValueError as exc:
            fail(f"--zones: {exc}", 2)
    for item in options.get("zone") or ():
        zone, sep, display = item.partition("=")
        if not sep:
            fail(f"--zone {item!r}: expected ZONE=DISPLAY NAME", 2)
        zones.append({"zone": zone.strip(), "display_name": display.strip()})
    if zones:
        fields["zones"] = zones
    try:
        return check_change(ProfileChange.model_validate(fields))
    except ValidationError as exc:
        fail(describe_validation_error(exc), 2)
    except ValueError as exc:
        fail(str(exc), 2)


def _print(profile: CouncilProfile, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(profile_json(profile), indent=2, ensure_ascii=False))
        return
    print("\n".join(profile_lines(profile, OpenDataSettings().licence_url)))


def _slug_or_fail(slug: str) -> str:
    if not re.fullmatch(SLUG_PATTERN, slug):
        fail(f"bad council slug {slug!r}: use 1-40 lower-case letters, digits or '-'", 2)
    return slug


@councils_app.command("create")
def councils_create(
    council: str = typer.Argument(..., help="Slug for topics and URLs, e.g. 'rutland'."),
    name: str | None = _NAME,
    timezone: str | None = _TZ,
    holidays: str | None = _HOLIDAYS,
    locale: str | None = _LOCALE,
    bbox: str | None = _BBOX,
    boundary: Path | None = _BOUNDARY,
    depot: str | None = _DEPOT,
    zone: list[str] | None = _ZONE,
    zones: Path | None = _ZONES,
    counter_forecasts: bool | None = _COUNTERS,
    drives: bool | None = _DRIVES,
    licence: str | None = _LICENCE,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Register a new council with its profile, then print it as 'show' does."""
    _slug_or_fail(council)
    if not name:
        fail("a new council needs --name, e.g. --name 'Rutland County Council'", 2)
    change = _change(
        name=name, timezone=timezone, holiday_calendar=holidays, locale=locale, bbox=bbox,
        boundary=boundary, depot=depot, zone=zone, zones=zones,
        publish_counters=counter_forecasts, drives_enabled=drives, open_data_licence=licence,
    )  # fmt: skip

    def work(conn: psycopg.Connection) -> CouncilProfile:
        return create_council(conn, council, change)

    _print(on_database(database_url, work, CouncilExists))


@councils_app.command("set")
def councils_set(
    council: str = typer.Argument(..., help="Council slug."),
    name: str | None = _NAME,
    timezone: str | None = _TZ,
    holidays: str | None = _HOLIDAYS,
    locale: str | None = _LOCALE,
    bbox: str | None = _BBOX,
    boundary: Path | None = _BOUNDARY,
    depot: str | None = _DEPOT,
    zone: list[str] | None = _ZONE,
    zones: Path | None = _ZONES,
    counter_forecasts: bool | None = _COUNTERS,
    drives: bool | None = _DRIVES,
    licence: str | None = _LICENCE,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Change a council's profile (only the options given), then print it as 'show' does."""
    change = _change(
        name=name, timezone=timezone, holiday_calendar=holidays, locale=locale, bbox=bbox,
        boundary=boundary, depot=depot, zone=zone, zones=zones,
        publish_counters=counter_forecasts, drives_enabled=drives, open_data_licence=licence,
    )  # fmt: skip
    if not change.model_dump(exclude_none=True):
        fail("nothing to set: give at least one option (see --help)", 2)
    _print(on_database(database_url, lambda c: update_profile(c, council, change), UnknownCouncil))


@councils_app.command("show")
def councils_show(
    council: str = typer.Argument(..., help="Council slug."),
    as_json: bool = typer.Option(False, "--json", help="The profile as JSON."),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Print a council's profile."""
    _print(on_database(database_url, lambda c: load_profile(c, council), UnknownCouncil), as_json)


@councils_app.command("list")
def councils_list(database_url: str | None = DatabaseUrlOption) -> None:
    """Print every council's slug and display name."""

    def work(conn: psycopg.Connection) -> list[tuple[str, str]]:
        return [(s, load_profile(conn, s).name) for s in council_slugs(conn)]

    for slug, name in on_database(database_url, work):
        print(f"{slug}\t{name}")
