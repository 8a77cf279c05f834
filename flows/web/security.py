"""What a public web service needs around every page: security headers, a request-size limit, rate limits,
signed session cookies with their secret, and CSRF tokens on every form.

- Headers: a self-only Content-Security-Policy (no inline script or style, no frames), ``X-Frame-Options``,
  ``nosniff``, ``Referrer-Policy``; pages are not cached by shared caches.
- Size: a body larger than ``max_body`` bytes is refused with 413 before it is read whole (by ``Content-Length``
  and by counting what arrives).
- Rate: the ``limits`` library (what slowapi is built on), a moving window per client address and kind of request
  (``search``, ``filing``); over it, 429 with a Chinese page. Behind nginx, start uvicorn with the proxy's address
  trusted (docs/web.md) so that the client address is the visitor's, not the proxy's.
- Sessions: Starlette's ``SessionMiddleware`` (cookies signed with itsdangerous), its secret from
  ``GETIHU_WEB_SECRET`` or a file ``<home>/web/session.key`` made on first start (owner-only), never a constant.
- CSRF: the synchronizer-token pattern — a random token in the signed session, put in every form as
  ``csrf_token`` (``{{ csrf_field() }}`` in a template); every POST/PUT/PATCH/DELETE must carry it (form field
  or ``X-CSRF-Token`` header) or is refused with 403. Checked by an app-wide dependency, so a route added later
  is covered without doing anything.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from markupsafe import Markup, escape

#: The environment variable holding the key that signs session cookies (any long random text).
SESSION_SECRET_VARIABLE = "GETIHU_WEB_SECRET"
#: Where the key is kept when the environment does not give one: made on first start, owner-only.
SESSION_KEY_FILE = Path("web") / "session.key"

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_CSRF_SESSION_KEY = "csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


@dataclass(frozen=True)
class WebLimits:
    """The limits of one web front (``create_app(limits=...)``)."""

    max_body: int = 256 * 1024  # bytes of a request body: a form is a few kilobytes
    search: str = "60/minute"  # public searches and business pages per client address
    filing: str = "10/hour"  # objections filed per client address


def session_secret(home: Path) -> str:
    """The key signing session cookies: ``GETIHU_WEB_SECRET``, else ``<home>/web/session.key`` (made once)."""
    given = os.environ.get(SESSION_SECRET_VARIABLE, "").strip()
    if given:
        return given
    path = home / SESSION_KEY_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text(encoding="utf-8").strip()


# --- headers and size -----------------------------------------------------------------------------------


class SecurityHeaders:
    """Pure ASGI middleware adding ``SECURITY_HEADERS`` to every response (errors included)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in SECURITY_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Pure ASGI middleware: a body over ``max_body`` bytes is refused with 413 (``on_too_large`` answers)."""

    def __init__(self, app, max_body: int, on_too_large):
        self.app = app
        self.max_body = max_body
        self.on_too_large = on_too_large

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return await self.on_too_large(scope, receive, send)
        received = 0
        started = False

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        async def watching_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if not started:
                await self.on_too_large(scope, receive, send)


# --- rate limits ----------------------------------------------------------------------------------------


class RateLimits:
    """Moving-window limits per client address and kind of request, kept in this process's memory."""

    def __init__(self, limits: WebLimits):
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._items = {"search": parse(limits.search), "filing": parse(limits.filing)}

    def allow(self, kind: str, client: str) -> bool:
        return self._limiter.hit(self._items[kind], kind, client)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def rate_limited(kind: str):
    """A route dependency: 429 when the client went over the ``kind`` limit (``search`` or ``filing``)."""

    def check(request: Request) -> None:
        if not request.app.state.rate_limits.allow(kind, client_address(request)):
            raise HTTPException(status_code=429)

    return check


# --- CSRF -----------------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get(_CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[_CSRF_SESSION_KEY] = token
    return token


def csrf_field(request: Request) -> Markup:
    """The hidden form field carrying the token (``{{ csrf_field() }}`` in a template)."""
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token(request))}">')


class CsrfRefused(HTTPException):
    def __init__(self):
        super().__init__(status_code=403, detail="csrf")


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: an unsafe request must carry this session's token (form field or header)."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = request.session.get(_CSRF_SESSION_KEY)
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not expected or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CsrfRefused
