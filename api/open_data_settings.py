"""Settings of the open-data exports: the licence and who to contact about the data."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

OGL_V3 = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


class OpenDataSettings(BaseSettings):
    """What the open-data catalogue says about every council's datasets."""

    model_config = SettingsConfigDict(env_prefix="SMARTSTREETS_OPEN_DATA_", extra="forbid")

    licence_url: str = Field(
        default=OGL_V3,
        min_length=1,
        description="URL of the licence every dataset is published under (default OGL v3).",
    )
    contact_email: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="E-mail address publishers can be reached at about the data; none if unset.",
    )
    base_url: str | None = Field(
        default=None,
        description="Public URL the API is reached at (behind a proxy), for the catalogue's "
        "download links; default the URL of the request.",
    )
