"""Stripe's error objects and the HTTP statuses that carry them.

Stripe answers every failure with `{"error": {...}}`; the SDK picks its exception class from the
HTTP status (400/404 → InvalidRequestError, 401 → AuthenticationError, 402 → CardError), so the
status matters as much as the body.
"""

from __future__ import annotations

from typing import Any

DOCS = "https://stripe.com/docs/error-codes"


class StripeError(Exception):
    """A Stripe API error: an HTTP status plus the fields of Stripe's error object."""

    def __init__(self, status: int, type_: str, message: str, *, code: str | None = None,
                 param: str | None = None, decline_code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra  # payment_intent, payment_method, charge… as Stripe embeds them

    def error_object(self) -> dict[str, Any]:
        """The inner error object (also what a payment intent keeps as `last_payment_error`)."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"{DOCS}#{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        error.update(self.extra)
        return error

    def body(self) -> dict[str, Any]:
        """The whole response body, `{"error": {...}}`."""
        return {"error": self.error_object()}


class InvalidRequest(StripeError):
    """400 `invalid_request_error` (a bad or missing parameter, a forbidden state change)."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None, **extra: Any) -> None:
        super().__init__(400, "invalid_request_error", message, code=code, param=param, **extra)


class NotFound(InvalidRequest, LookupError):
    """404 `resource_missing`; also a LookupError so in-process callers can catch it plainly."""

    def __init__(self, message: str, *, param: str | None = "id") -> None:
        super().__init__(message, param=param, code="resource_missing")
        self.status = 404


class CardError(StripeError):
    """402 `card_error` (a decline); carries the payment intent it happened on, if any."""

    def __init__(self, message: str, *, code: str, decline_code: str | None = None,
                 param: str | None = None, **extra: Any) -> None:
        super().__init__(402, "card_error", message, code=code, param=param, decline_code=decline_code, **extra)

    @property
    def payment_intent(self) -> dict[str, Any] | None:
        """The payment intent as it stands after the decline (Stripe embeds it in the error)."""
        return self.extra.get("payment_intent")


class AuthenticationFailed(StripeError):
    """401: Stripe reports a missing or unknown key as an `invalid_request_error`."""

    def __init__(self, message: str) -> None:
        super().__init__(401, "invalid_request_error", message)


class IdempotencyConflict(StripeError):
    """400 `idempotency_error`: a key reused with different parameters."""

    def __init__(self, key: str) -> None:
        super().__init__(400, "idempotency_error",
                         "Keys for idempotent requests can only be used with the same parameters they were first "
                         f"used with. Try using a key other than '{key}' if you meant to execute a different request.")


def missing(param: str) -> InvalidRequest:
    """A required parameter is absent."""
    return InvalidRequest(f"Missing required param: {param}.", param=param, code="parameter_missing")


def invalid(param: str, message: str, code: str = "parameter_invalid") -> InvalidRequest:
    """A parameter has a value Stripe refuses."""
    return InvalidRequest(message, param=param, code=code)


def no_such(kind: str, object_id: str, param: str = "id") -> NotFound:
    """`No such customer: 'cus_…'`, Stripe's wording for an unknown id."""
    return NotFound(f"No such {kind}: '{object_id}'", param=param)


def unexpected_state(kind: str, message: str, param: str | None = None) -> InvalidRequest:
    """An operation the object's current status does not allow (e.g. cancelling a paid intent)."""
    return InvalidRequest(message, param=param, code=f"{kind}_unexpected_state")
