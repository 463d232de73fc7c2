"""One shape for every refused request: ``{"detail": "<one line>"}``.

FastAPI answers a request that fails validation with a list of pydantic errors; here it gets the
same one-line message as every other 4xx (naming each parameter at fault), so clients need one
error shape and the OpenAPI document can promise it (``ErrorPublic``) for every 422.
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.schemas import ErrorPublic

VALIDATION_RESPONSE: dict[int | str, dict[str, Any]] = {422: {"model": ErrorPublic}}
"""The 422 every operation declares."""


def describe(exc: RequestValidationError) -> str:
    """``query.bbox: Field required; path.council: String should match pattern …``."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts).replace("\x00", "\\x00") or "invalid request"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": describe(exc)}, status.HTTP_422_UNPROCESSABLE_CONTENT)


def install_error_handlers(app: FastAPI) -> None:
    """Answer validation failures with ``ErrorPublic`` instead of FastAPI's list."""
    app.add_exception_handler(RequestValidationError, _validation_error)
