"""Standard Webhooks signatures: `webhook-id`, `webhook-timestamp`, `webhook-signature`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from webapp.errors import SignatureError
from webapp.tenancy.values import SECRET_PREFIX

TOLERANCE_SECONDS = 5 * 60
SECONDS = re.compile(r"[0-9]{1,12}")


def secret_bytes(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret."""
    encoded = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError("a signing secret is whsec_ followed by base64") from None


def digest(secret: str, msg_id: str, timestamp: int, body: bytes) -> bytes:
    content = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(secret_bytes(secret), content, hashlib.sha256).digest()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    return "v1," + base64.b64encode(digest(secret, msg_id, timestamp, body)).decode()


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
        raise SignatureError(401, "This project has no signing secret", unmatched=True)
    offered = offered_digests(signature)
    if not offered:
        raise SignatureError(400, "webhook-signature holds no v1,<base64> signature")
    for secret in secrets:
        expected = digest(secret, msg_id, sent, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return
    raise SignatureError(401, "No matching signature: wrong secret or altered body",
                         unmatched=True)


def offered_digests(header: str) -> list[bytes]:
    """The digests of the header's well-formed `v1,<base64>` entries (others are ignored:
    other schemes, non-ASCII, broken base64)."""
    digests = []
    for part in header.split():
        scheme, _, encoded = part.partition(",")
        if scheme != "v1" or not encoded:
            continue
        try:
            digests.append(base64.b64decode(encoded, validate=True))
        except ValueError:  # binascii.Error, and non-ASCII text
            continue
    return digests
