"""Static files and the page headers that keep every script, style and font our own."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"

# The browser module of private discovery imports @noble/curves by its package name;
# this import map points those names at the copies vendored under /static/vendor.
IMPORT_MAP = json.dumps(
    {
        "imports": {
            "@noble/curves/": "/static/vendor/@noble/curves/",
            "@noble/hashes/": "/static/vendor/@noble/hashes/",
        }
    },
    separators=(",", ":"),
)
_MAP_HASH = base64.b64encode(hashlib.sha256(IMPORT_MAP.encode()).digest()).decode()

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'sha256-{_MAP_HASH}'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

PAGE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "permissions-policy": "geolocation=(), camera=(), microphone=()",
}
