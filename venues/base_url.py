"""Pointing every one of ccxt's API URLs at one base: a mock exchange on loopback, nothing else.

A ``base_url`` override exists for tests and local mocks. Pointing a venue's signed
requests at an arbitrary host would hand it the API key's signatures, so anything but
``http://127.0.0.1:PORT`` is refused with a clear error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["BaseUrlError", "loopback_base", "point_urls_at"]


class BaseUrlError(ValueError):
    """A base_url that is not http://127.0.0.1:PORT."""


def loopback_base(url: str) -> str:
    """``url`` normalised to ``http://127.0.0.1:PORT``, or BaseUrlError."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or parts.hostname != "127.0.0.1" or port is None:
        raise BaseUrlError(
            f"base_url {url!r} is refused: only http://127.0.0.1:PORT (a local mock exchange)"
            " may replace a venue's API URLs"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise BaseUrlError(f"base_url {url!r} must be only http://127.0.0.1:PORT")
    return f"http://127.0.0.1:{port}"


def point_urls_at(urls: Any, base: str) -> Any:
    """Every URL in ccxt's ``urls['api']`` (a string or nested dicts) on ``base``, paths kept."""
    if isinstance(urls, str):
        parts = urlsplit(urls.replace("{hostname}", "placeholder.invalid"))
        target = urlsplit(base)
        return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, ""))
    if isinstance(urls, dict):
        return {key: point_urls_at(value, base) for key, value in urls.items()}
    return urls
