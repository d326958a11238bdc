"""BIMI (draft-brand-indicators-for-message-identification): the receiver's
record checks.

BIMI runs inside the inbound pipeline: pass ``bimi=True`` to
:func:`mailauth.authenticate` and read :attr:`mailauth.AuthResult.bimi` (a
:class:`BimiResult`), :attr:`~mailauth.AuthResult.bimi_location` (the
BIMI-Location field to insert for a ``pass``) and
:attr:`~mailauth.AuthResult.bimi_remove` (the incoming BIMI fields to
remove). A ``pass`` means the message qualifies and its Assertion Record is
valid; fetching and validating the Indicator and the Evidence Document over
HTTPS is left to the caller. :func:`parse_record` reads one record.
"""

from __future__ import annotations

from mailauth._native import BimiRecord, BimiResult, bimi_record_parse


def parse_record(
    text: str | bytes, *, max_record_bytes: int | None = None, max_location_uris: int | None = None
) -> BimiRecord:
    """Parses a BIMI Assertion Record (its TXT strings joined):
    ``v=BIMI1; l=<https URI>; a=<https URI>``. The limits default to 2048
    octets and one ``l=`` URI. Raises :class:`mailauth.ParseError` naming
    the problem when the record is not valid."""
    return bimi_record_parse(text, max_record_bytes=max_record_bytes, max_location_uris=max_location_uris)


__all__ = ["BimiRecord", "BimiResult", "parse_record"]
