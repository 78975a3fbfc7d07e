"""Standard Webhooks signatures: `webhook-id`, `webhook-timestamp`, `webhook-signature`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets as random

TOLERANCE_SECONDS = 5 * 60
SECONDS = re.compile(r"[0-9]{1,12}")
SECRET_PREFIX = "whsec_"


class SignatureError(Exception):
    """A signed request that fails verification; the message says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(random.token_bytes(32)).decode()


def secret_bytes(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret."""
    encoded = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError("a signing secret is whsec_ followed by base64") from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secrets: list[str], msg_id: str | None, timestamp: str | None,
           signature: str | None, body: bytes, now: float) -> None:
    """Raise SignatureError unless one of `secrets` signed this body at an acceptable time."""
    missing = [name for name, value in (("webhook-id", msg_id), ("webhook-timestamp", timestamp),
                                        ("webhook-signature", signature)) if not value]
    if missing:
        raise SignatureError(400, "Missing signature headers: " + ", ".join(missing))
    if not SECONDS.fullmatch(timestamp):  # ASCII digits: str.isdigit also takes "²"
        raise SignatureError(400, "webhook-timestamp must be whole seconds since the epoch")
    sent = int(timestamp)
    if sent < now - TOLERANCE_SECONDS:
        raise SignatureError(401, "webhook-timestamp is more than 5 minutes old")
    if sent > now + TOLERANCE_SECONDS:
        raise SignatureError(401, "webhook-timestamp is more than 5 minutes in the future")
    if not secrets:
        raise SignatureError(401, "This project has no signing secret")
    offered = [part.partition(",")[2] for part in signature.split() if part.startswith("v1,")]
    for secret in secrets:
        expected = sign(secret, msg_id, sent, body).partition(",")[2]
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return
    raise SignatureError(401, "No matching signature: wrong secret or altered body")
