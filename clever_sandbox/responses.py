"""The response value passed from the API layers to the HTTP layer, and API errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .jsonutil import dumps


@dataclass
class Response:
    """Status, body and extra headers; the HTTP layer adds Content-Length and keep-alive."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"


def json_response(status: int, payload: Any) -> Response:
    return Response(status, dumps(payload))


class ApiError(Exception):
    """An error answered as ``{"message": ...}`` with the given status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> Response:
        return json_response(self.status, {"message": self.message})
