"""Logging of `twin serve`: a malformed request is one line in the log, never a traceback."""

from __future__ import annotations

import logging

from aiohttp import http_exceptions


class MalformedRequestFilter(logging.Filter):
    """Turns aiohttp's "Error handling request" traceback for a request its parser refused (NUL bytes
    in a header, a broken request line…) into one warning line: the client sent bad input, the twin
    answered 400, nothing failed."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, http_exceptions.HttpProcessingError) and 400 <= (error.code or 0) < 500:
            reason = " ".join(str(error.message or type(error).__name__).split())
            record.msg, record.args, record.exc_info, record.exc_text = (
                f"{record.getMessage()}: refused with {error.code}: {reason[:200]}", (), None, None)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_malformed_requests(logger: logging.Logger | None = None) -> None:
    """Install the filter on aiohttp's server logger (once)."""
    logger = logger or logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestFilter) for f in logger.filters):
        logger.addFilter(MalformedRequestFilter())
