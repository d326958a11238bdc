"""Authentication-Results (RFC 8601) as a data structure.

>>> from mailauth import authres
>>> field = authres.parse("Authentication-Results: mx.example.net; dkim=pass header.d=example.org")
>>> field.authserv_id, field.results[0].method, field.results[0].get("header", "d")
('mx.example.net', 'dkim', 'example.org')
>>> str(field)
'mx.example.net; dkim=pass header.d=example.org'
"""

from __future__ import annotations

from mailauth._native import AuthenticationResults, MethodResult, ParseError, Property, authres_parse


def parse(field: str | bytes) -> AuthenticationResults:
    """Parses an Authentication-Results field: the value, or the whole field
    with its name. Raises :class:`mailauth.ParseError` when it is malformed."""
    return authres_parse(field)


__all__ = ["AuthenticationResults", "MethodResult", "ParseError", "Property", "parse"]
