"""Turning errors into HTTP answers of one shape: {"error": {"code", "message", "field"?}}.

Validation messages name the field at fault and never repeat the value sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from mayknow.accounts.service import ServiceUnavailable
from mayknow.entrypoints.api.schemas import ErrorOut
from mayknow.shared.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    MayknowError,
    NotAuthenticated,
    NotFound,
    RateLimited,
    TooLarge,
)

STATUS: dict[type[MayknowError], int] = {
    InvalidInput: 422,
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    RateLimited: 429,
    ServiceUnavailable: 503,
}

# Declared on every operation of the OpenAPI document, so that it says what errors look like.
RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorOut, "description": 'Refused: {"error": {"code", "message", "field"?}}'},
}

HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    return {"error": body}


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, field), status_code=status, headers=headers)


def _status(exc: MayknowError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


async def _domain(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MayknowError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_response(_status(exc), exc.code, exc.message, exc.field, headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"type": "", "loc": ()}
    kind, field = first.get("type", ""), _field(tuple(first.get("loc", ())))
    if kind == "json_invalid":
        return error_response(400, "malformed_json", "The request body is not valid JSON.")
    if kind == "missing":
        if field == "body":
            return error_response(422, "missing_body", "The request needs a JSON body.")
        return error_response(422, "missing_field", f"'{field}' is required.", field)
    if kind in {"string_too_long", "too_long"}:
        return error_response(422, "too_long", f"'{field}' is too long.", field)
    return error_response(422, "invalid_field", f"'{field}' has the wrong type or form.", field)


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "The request cannot be served."
    return error_response(exc.status_code, code, message, headers=exc.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(MayknowError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
