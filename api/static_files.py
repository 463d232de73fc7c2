"""The files under ``api/static`` (scripts, the service worker, icons), served as they are."""

from functools import cache
from importlib.resources import files

from fastapi.responses import Response

REVALIDATE = {"Cache-Control": "no-cache"}
"""The files are small: browsers (and the drive app's service worker) check for a newer copy on
every load and use the kept one offline."""

_TYPES = {".js": "text/javascript", ".svg": "image/svg+xml"}


@cache
def _read(name: str) -> bytes:
    return files("api").joinpath("static", name).read_bytes()


def static_response(name: str) -> Response:
    """The file ``api/static/<name>`` with its media type."""
    media_type = _TYPES[name[name.rindex(".") :]]
    return Response(_read(name), media_type=media_type, headers=REVALIDATE)
