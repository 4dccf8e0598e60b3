"""Our logs: every huiqi.* record one JSON line on stderr, with anything shaped like a credit code or an
API key masked, as a database error or a traceback may quote one."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import orjson

# What must never reach a log, should some message or traceback carry it (a database error quotes its
# parameters): unified social credit codes (GB 32100-2015 alphabet) and our API keys. A code stands
# alone: 18 characters inside a longer token (a request id such as req-202611281234567890) are not one.
_SECRETS = re.compile(
    r"(?<![0-9A-Za-z_-])[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z_-])"
    r"|hq_[A-Za-z0-9_-]{16,}"
)


def redact(text: str) -> str:
    """`text` with credit codes and API keys masked."""
    return _SECRETS.sub("[redacted]", text)


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: the message's `fields`, plus time, level and logger; secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        line.update(getattr(record, "fields", None) or {"message": record.getMessage()})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return redact(orjson.dumps(line).decode())


def configure_logging(level: str) -> None:
    """Send huiqi.* logs to stderr as JSON lines (idempotent)."""
    root = logging.getLogger("huiqi")
    root.setLevel(level.upper())
    if not any(getattr(h, "_huiqi", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLineFormatter())
        handler._huiqi = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.propagate = False
