"""Errors the twin answers with; the engine turns each into the guides' error envelope."""

from __future__ import annotations


class ApiError(Exception):
    """A client-facing error: HTTP status, an `errMsg_…` message and a detail naming the cause."""

    def __init__(self, status: int, message: str, detail: str | None = None) -> None:
        super().__init__(f"{status} {message}: {detail}")
        self.status = status
        self.message = message
        self.detail = detail


def bad_request(message: str, detail: str) -> ApiError:
    return ApiError(400, message, detail)


def unauthorized(message: str = "errMsg_loginRequired", detail: str = "A valid bearer token is required") -> ApiError:
    return ApiError(401, message, detail)


def forbidden(message: str = "errMsg_accessDenied", detail: str = "This user may not do this") -> ApiError:
    return ApiError(403, message, detail)


def not_found(message: str, detail: str) -> ApiError:
    return ApiError(404, message, detail)
