"""The inbound pipeline: SPF, DKIM, ARC and DMARC for one received message."""

from __future__ import annotations

from typing import Iterable, Literal, TypedDict

from mailauth._driver import AnyResolver, Timestamp, Unpack, resolve, resolve_async, unix_time, validate_options
from mailauth._native import AuthResult, Check, Settings, authenticate_start
from mailauth.dkim import Message
from mailauth.dmarc import draw_sample
from mailauth.dns import Resolver
from mailauth.spf import IpAddress


class _SmtpFacts(TypedDict):
    ip: IpAddress
    helo: str
    mail_from: str
    authserv_id: str


class AuthenticateOptions(_SmtpFacts, total=False):
    """The keyword arguments of :func:`start_authenticate`,
    :func:`authenticate` and :func:`authenticate_async` (besides
    ``resolver``), with their defaults.

    ``ip``, ``helo``, ``mail_from`` (required)
        The SMTP facts: the client's address, the HELO/EHLO name it gave and
        the MAIL FROM address (``""`` for a bounce).
    ``authserv_id`` (required)
        This host's name in the Authentication-Results field; fields that
        already claim it are forgeries (listed in ``remove``).
    ``now = None``
        The time of the check (DKIM ``t=`` and ``x=``, SPF ``%{t}``):
        seconds since the epoch or an aware :class:`datetime.datetime`; None
        is the current time.
    ``settings = None``
        A :class:`mailauth.Settings` whose check configurations the pipeline
        starts from: ``[spf]``, ``[verify]``, ``[dmarc]`` (limits, key
        sizes, mode, public suffix list), ``[bimi]``, ``[spf] check_helo`` and
        ``trusted_authserv_ids``; None is the defaults below. The options
        given replace them; ``authserv_id`` and the clients not checked
        (``internal_networks``) are always those given here.
    ``authenticated = False``, ``internal = False``
        The client authenticated (SMTP AUTH) or is known as internal: its
        mail is not checked.
    ``check_helo = True``
        Check SPF for the HELO identity too.
    ``internal_networks = ()``
        Networks (CIDR strings) whose clients are not checked.
    ``trusted_authserv_ids = ()``
        Authentication-Results fields from these authserv-ids are read and
        returned in ``trusted_results``, and their ``spf=pass`` and
        ``dkim=pass`` count for DMARC alignment.
    ``dmarc_mode = "rfc9989"``
        ``"rfc9989"`` or ``"rfc7489"``, as ``mode`` of
        :func:`mailauth.dmarc.check`.
    ``dmarc_sample = None``
        The draw (0..99) for ``pct`` in RFC 7489 mode; None draws at random.
    ``arc = False``
        Validate the ARC chain (the result is ``arc`` of the
        :class:`mailauth.AuthResult`, and ``arc=`` goes into the
        Authentication-Results field); None or absent keeps what
        ``settings`` says (``[arc] verify``).
    ``trusted_arc_sealers = ()``
        ARC sealers (ARC-Seal ``d=`` domains) trusted to vouch for mail: when
        the chain passes and a set one of them sealed recorded
        ``dmarc=pass``, a DMARC failure is set aside (the DMARC result's
        ``policy_override``). Needs ``arc``.
    ``bimi = False``
        Run BIMI (:mod:`mailauth.bimi`) once DMARC has an outcome: the
        result is in ``bimi`` and in the Authentication-Results field, the
        BIMI-Location field to insert for a ``pass`` in ``bimi_location``,
        and the incoming BIMI-Location, BIMI-Indicator and
        BIMI-Logo-Preference fields to remove in ``bimi_remove``.
    ``bimi_require_signed_selector = True``
        Use a BIMI-Selector field only when a DMARC-aligned, passing DKIM
        signature covers it.
    ``bimi_max_record_bytes = 2048``, ``bimi_max_location_uris = 1``
        The longest BIMI record read, and the most URIs in its ``l=``; a
        record past either is invalid (``fail``).
    """

    now: Timestamp
    authenticated: bool
    internal: bool
    check_helo: bool
    internal_networks: Iterable[str]
    trusted_authserv_ids: Iterable[str]
    dmarc_mode: Literal["rfc9989", "rfc7489"]
    dmarc_sample: int | None
    settings: Settings
    arc: bool
    trusted_arc_sealers: Iterable[str]
    bimi: bool
    bimi_require_signed_selector: bool
    bimi_max_record_bytes: int
    bimi_max_location_uris: int


def start_authenticate(message: Message, **options: Unpack[AuthenticateOptions]) -> Check:
    """Reads the message and returns the pipeline as a :class:`mailauth.Check`.
    The options are those of :class:`AuthenticateOptions`."""
    validate_options(options, AuthenticateOptions)
    dmarc_sample = options.get("dmarc_sample")
    trusted = options.get("trusted_authserv_ids")
    sealers = options.get("trusted_arc_sealers")
    return authenticate_start(
        message,
        ip=options["ip"],
        helo=options["helo"],
        mail_from=options["mail_from"],
        authserv_id=options["authserv_id"],
        now=unix_time(options.get("now")),
        authenticated=options.get("authenticated", False),
        internal=options.get("internal", False),
        check_helo=options.get("check_helo"),
        internal_networks=list(options.get("internal_networks", ())),
        trusted_authserv_ids=None if trusted is None else list(trusted),
        dmarc_mode=options.get("dmarc_mode"),
        dmarc_sample=draw_sample() if dmarc_sample is None else dmarc_sample,
        settings=options.get("settings"),
        arc=options.get("arc"),
        trusted_arc_sealers=None if sealers is None else list(sealers),
        bimi=options.get("bimi"),
        bimi_require_signed_selector=options.get("bimi_require_signed_selector"),
        bimi_max_record_bytes=options.get("bimi_max_record_bytes"),
        bimi_max_location_uris=options.get("bimi_max_location_uris"),
    )


def authenticate(
    message: Message, *, resolver: Resolver | None = None, **options: Unpack[AuthenticateOptions]
) -> AuthResult:
    """Runs SPF (MAIL FROM and HELO), DKIM, DMARC and (with ``arc=True``) ARC on a message,
    asking ``resolver`` (the system's by default). The options are those of
    :class:`AuthenticateOptions`. Every lookup of a round is asked before
    any answer is awaited, so a resolver that answers in parallel waits one
    round trip.
    """
    result: AuthResult = resolve(start_authenticate(message, **options), resolver)
    return result


async def authenticate_async(
    message: Message, *, resolver: AnyResolver | None = None, **options: Unpack[AuthenticateOptions]
) -> AuthResult:
    """:func:`authenticate` for asyncio (aiosmtpd handlers): the lookups of
    each round run concurrently, and ``resolver.lookup`` may be a coroutine
    function."""
    result: AuthResult = await resolve_async(start_authenticate(message, **options), resolver)
    return result
