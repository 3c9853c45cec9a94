"""Standard Webhooks signatures (https://www.standardwebhooks.com), made by the `standardwebhooks` package.

A generated secret is `whsec_` + base64 of 32 random bytes, the form the package expects. A secret
the user chose in any other form is used as raw key bytes (its UTF-8); a receiver verifies it with
`Webhook(base64.b64encode(secret.encode()).decode())` (docs/webhooks.md).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from standardwebhooks import Webhook

PREFIX = "whsec_"


def signing_key(secret: str) -> bytes:
    if secret.startswith(PREFIX):
        try:
            key = base64.b64decode(secret[len(PREFIX):] + "==", validate=False)
        except (binascii.Error, ValueError):
            key = b""
        if key:
            return key
    return secret.encode()


def signed_headers(*, secret: str, message_id: str, timestamp: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (`webhook-timestamp` is the attempt's time)."""
    signature = Webhook(signing_key(secret)).sign(message_id, timestamp, body)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature}
