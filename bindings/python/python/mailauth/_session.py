"""The MTA session: what OpenDKIM, OpenDMARC and policyd-spf decide
together, from one TOML settings file, for one SMTP connection.

Feed the session each stage the MTA sees (``helo``, ``mail_from``, ``rcpt``,
``header`` ... ``end_of_header``, ``body``, ``end_of_message``), then run the
stage's DNS queries with ``resolve(resolver)`` or ``await
resolve_async(resolver)``: each gives the stage's :class:`Action`. At the end
of the message, ``edits`` lists the header changes to make and ``log_line``
the log record.
"""

from __future__ import annotations

from mailauth import _native
from mailauth._driver import AnyResolver, Timestamp, resolve_async, unix_time
from mailauth._native import Action, Settings
from mailauth.dmarc import draw_sample
from mailauth.spf import IpAddress


class Session(_native.Session):
    """One SMTP connection's checks and decisions.

    ``client_addr`` is the client's address (None for a local submission,
    which is signed), ``client_name`` its reverse name, ``daemon_name`` the
    MTA's name of the listening daemon (Postfix ``{daemon_name}``, such as
    ``ORIGINATING``), ``auth_user`` the SMTP AUTH user; ``now`` the time
    (seconds since the epoch or an aware ``datetime``; the current time by
    default) and ``dmarc_sample`` the draw (0..99) for DMARC ``pct=``
    sampling (random by default).
    """

    def __new__(
        cls,
        settings: Settings,
        client_addr: IpAddress | None = None,
        client_name: str | None = None,
        daemon_name: str | None = None,
        auth_user: str | None = None,
        now: Timestamp = None,
        *,
        dmarc_sample: int | None = None,
    ) -> Session:
        session = super().__new__(cls, settings, client_addr, client_name, daemon_name, auth_user, unix_time(now))
        session.set_dmarc_sample(draw_sample() if dmarc_sample is None else dmarc_sample)
        return session

    def set_now(self, now: Timestamp) -> None:
        """Sets the time for the next message (seconds since the epoch or an
        aware ``datetime``; None for the current time)."""
        super().set_now(unix_time(now))

    async def resolve_async(self, resolver: AnyResolver | None = None) -> Action:
        """Runs the stage's DNS queries from asyncio and returns its action.

        The queries of each round are looked up concurrently;
        ``resolver.lookup`` may be a coroutine function or a plain one. The
        settings' resolver (run in a worker thread) when None.
        """
        return await resolve_async(self, resolver if resolver is not None else self.settings.resolver())


__all__ = ["Session"]
