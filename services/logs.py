"""Structured logging (one JSON object per line) that never writes a secret.

Secrets are removed twice: by value (the configured API and cookie keys) and by shape
(anything that looks like an Anthropic key or a bearer token), so a secret pasted into
an error message by a library is still caught.
"""

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from services.settings import get_settings

REDACTED = "[redacted]"
_SECRET_SHAPES = re.compile(
    r"(sk-ant-[A-Za-z0-9_\-]{8,}|sk-[A-Za-z0-9_\-]{16,}|Bearer\s+[A-Za-z0-9._\-]{8,}"
    r"|\$2[aby]\$\d\d\$[./A-Za-z0-9]{53})"
)
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


def _secret_values() -> list[str]:
    settings = get_settings()
    values = []
    for secret in (settings.anthropic_api_key, settings.cookie_key):
        if secret is not None and len(secret.get_secret_value()) >= 6:
            values.append(secret.get_secret_value())
    return values


def redact(text: str) -> str:
    for value in _secret_values():
        text = text.replace(value, REDACTED)
    return _SECRET_SHAPES.sub(REDACTED, text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value if isinstance(value, int | float | bool) else str(value)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(payload, ensure_ascii=False))


class RedactingFilter(logging.Filter):
    """Also cleans records that reach other handlers (e.g. pytest's caplog)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


_configured = False


def configure_logging() -> None:
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger("services")
    root.addHandler(handler)  # first: reading the settings may warn (a broken secrets file)
    root.addFilter(RedactingFilter())
    root.setLevel(get_settings().log_level.upper())
    root.propagate = True
    for name in ("pages", "components", "app"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(get_settings().log_level.upper())
    _configured = True


def report_unexpected(error: BaseException, *, where: str, user: str | None = None) -> str:
    """Log an unexpected error with context and return the reference id shown to the user."""
    reference = uuid.uuid4().hex[:8]
    logging.getLogger("services.unexpected").error(
        "unexpected error",
        exc_info=(type(error), error, error.__traceback__),
        extra={"reference": reference, "where": where, "user": user or "-"},
    )
    return reference
