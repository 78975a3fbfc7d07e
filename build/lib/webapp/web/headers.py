"""Headers every answer carries: its request id and the security headers."""

from __future__ import annotations

# Only our own origin may supply scripts, styles, images and connections; no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def finish(response, request_id: str, env: str):
    """Headers every answer carries: its request id and the security headers."""
    response.headers["X-Request-ID"] = request_id
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if env == "production":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
