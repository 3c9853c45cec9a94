"""A logging filter that keeps credentials out of every log line."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    (re.compile(r"(?i)(authorization\s*[:=]\s*)(bearer\s+)?[^\s,'\"}]+"), r"\1\2[REDACTED]"),
    (re.compile(r"(?i)(x-api-key\s*[:=]\s*)[^\s,'\"}]+"), r"\1[REDACTED]"),
    (re.compile(r"(?i)(api[_-]?key['\"]?\s*[:=]\s*['\"]?)[^\s,'\"}]+"), r"\1[REDACTED]"),
    (re.compile(r"(\w+://)[^/\s:@]+:[^/\s@]+@"), r"\1[REDACTED]@"),
    (re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|pl_[A-Za-z0-9]{8}_[A-Za-z0-9_\-]{16,})"), "[REDACTED]"),
]

_known_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Remember a secret value so that any later log line containing it is scrubbed."""
    if value and len(value) >= 6:
        _known_secrets.add(value)


def redact(text: str) -> str:
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, "[REDACTED]")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
