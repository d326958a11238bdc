"""Mail authentication for Python: SPF, DKIM, DMARC, ARC and Authentication-Results,
and the MTA session that decides with them (:class:`Session`, :class:`Settings`).

The work is done by the Rust engine in the private module ``mailauth._native``;
this package is a thin, typed layer over it.

>>> import mailauth
>>> zone = mailauth.dns.ZoneResolver('$ORIGIN example.org.\\n@ TXT "v=spf1 ip4:192.0.2.0/24 -all"\\n')
>>> mailauth.spf.check("192.0.2.7", helo="mx.example.org", mail_from="a@example.org", resolver=zone).result
'pass'

Protocol outcomes (``fail``, ``permerror``, ...) are results; exceptions
(:class:`MailAuthError` and its subclasses) are for misuse and bad
configuration only.
"""

from __future__ import annotations

from mailauth import arc, authres, bimi, dkim, dmarc, dns, spf
from mailauth._driver import resolve, resolve_async
from mailauth._inbound import AuthenticateOptions, authenticate, authenticate_async, start_authenticate
from mailauth._native import (
    ArcResult,
    ArcSealer,
    CRYPTO_BACKEND,
    Action,
    AuthResult,
    Check,
    ConfigError,
    Decision,
    Edit,
    InvalidKeyError,
    MailAuthError,
    ParseError,
    RemovedField,
    ResolverError,
    Settings,
    SignError,
    Store,
    ZoneError,
    __version__,
)
from mailauth._session import Session

arc_verify = arc.verify
arc_verify_async = arc.verify_async

__all__ = [
    "CRYPTO_BACKEND",
    "Action",
    "ArcResult",
    "ArcSealer",
    "AuthResult",
    "AuthenticateOptions",
    "Check",
    "ConfigError",
    "Decision",
    "Edit",
    "InvalidKeyError",
    "MailAuthError",
    "ParseError",
    "RemovedField",
    "ResolverError",
    "Session",
    "Settings",
    "SignError",
    "Store",
    "ZoneError",
    "__version__",
    "arc",
    "arc_verify",
    "arc_verify_async",
    "authenticate",
    "authenticate_async",
    "authres",
    "bimi",
    "dkim",
    "dmarc",
    "dns",
    "resolve",
    "resolve_async",
    "spf",
    "start_authenticate",
]
