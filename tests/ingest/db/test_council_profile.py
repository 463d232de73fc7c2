"""A council profile's names and URLs: what PostgreSQL cannot store is refused up front."""

import pytest
from pydantic import ValidationError

from ingest.db.council_profile import ProfileChange, ZoneName


@pytest.mark.parametrize("zone", ["a\x00b", "a\x07b", " lead", "trail ", "x" * 81, ""])
def test_zone_names_without_control_characters_or_outer_spaces(zone: str) -> None:
    # A NUL reached PostgreSQL once and came back as a 500 (schemathesis found it).
    with pytest.raises(ValidationError):
        ZoneName(zone=zone, display_name="Market")


@pytest.mark.parametrize("zone", ["high-street", "Marché Saint-Jean", "a", "x" * 80])
def test_ordinary_zone_names_pass(zone: str) -> None:
    assert ZoneName(zone=zone, display_name="Market").zone == zone


def test_a_licence_url_with_a_nul_is_refused() -> None:
    with pytest.raises(ValidationError):
        ProfileChange(open_data_licence="https://example.org/\x00")
