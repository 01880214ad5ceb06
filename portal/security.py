"""Security headers on every response.

The content security policy allows only the portal's own scripts and styles (no inline script,
no on* attributes, no eval), so an injected snippet in a customer's message cannot run. HSTS is
sent only in production, where the portal is served over HTTPS; secure cookies are set in config.
Every response except the static files is `Cache-Control: no-store`: pages, fragments, exports
and media carry customers' data or a CSRF token, and must not stay in a shared or browser cache.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    )
)
# The microphone for voice notes in the composer, from the portal's own pages only.
PERMISSIONS_POLICY = "camera=(), microphone=(self), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy() -> str:
    """The policy, letting pages also connect to the live-update stream when it is served from
    another origin (scripts/run gives it a port of its own)."""
    return _policy_for(current_app.config["EVENTS_URL"])


@functools.lru_cache(maxsize=8)
def _policy_for(events_url: str) -> str:
    """Worked out once per EVENTS_URL, not on every response."""
    events = urlsplit(events_url)
    if not events.netloc:
        return CONTENT_SECURITY_POLICY
    origin = f"{events.scheme}://{events.netloc}"
    return CONTENT_SECURITY_POLICY.replace("connect-src 'self'", f"connect-src 'self' {origin}")


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    if current_app.config["ATENDE_ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def register(app: Flask) -> None:
    app.after_request(add_security_headers)
