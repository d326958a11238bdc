from __future__ import annotations

import pytest

import mailauth
from mailauth import authres

FIELD = (
    "Authentication-Results: mx.example.com (our MTA);\r\n"
    "\tspf=pass smtp.mailfrom=alice@example.org;\r\n"
    '\tdkim=fail reason="body hash did not verify" header.d=example.org header.s=sel;\r\n'
    "\tdmarc=pass header.from=example.org"
)


def test_parse_a_whole_field() -> None:
    parsed = authres.parse(FIELD)
    assert parsed.authserv_id == "mx.example.com"
    assert parsed.version is None
    assert [(r.method, r.result) for r in parsed.results] == [("spf", "pass"), ("dkim", "fail"), ("dmarc", "pass")]
    dkim = parsed.get("DKIM")
    assert dkim is not None
    assert dkim.reason == "body hash did not verify"
    assert dkim.get("header", "d") == "example.org"
    assert dkim.properties[1].value == "sel"
    assert dkim.properties[1].property_type == "header" and dkim.properties[1].name == "s"
    assert parsed.get("arc") is None
    assert str(parsed.results[0].properties[0]) == "smtp.mailfrom=alice@example.org"


def test_value_bytes_and_rendering() -> None:
    value = b" mx.example.com 1; dkim=pass header.d=example.org"
    parsed = authres.parse(value)
    assert parsed.version == 1
    assert str(parsed) == "mx.example.com 1; dkim=pass header.d=example.org"
    assert parsed.to_header_field() == "Authentication-Results: mx.example.com 1; dkim=pass header.d=example.org"
    assert repr(parsed) == "AuthenticationResults('mx.example.com 1; dkim=pass header.d=example.org')"
    assert authres.parse("mx.example.com; none").results == ()


def test_render_parse_round_trip() -> None:
    parsed = authres.parse(FIELD)
    again = authres.parse(parsed.to_header_field())
    assert str(again) == str(parsed)


@pytest.mark.parametrize(
    "bad",
    ["", "mx.example.com; dkim", "mx.example.com; dkim=pass (unclosed", b"mx.example.com; spf=pass\xff smtp.x=y"],
)
def test_malformed_fields_raise_parse_error(bad: str | bytes) -> None:
    with pytest.raises(mailauth.ParseError):
        authres.parse(bad)


def test_wrong_type() -> None:
    with pytest.raises(TypeError):
        authres.parse(42)  # type: ignore[arg-type]
