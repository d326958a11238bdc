from __future__ import annotations

import pytest

import mailauth
from mailauth import dns


@pytest.mark.parametrize(
    "cls",
    [
        mailauth.ConfigError,
        mailauth.InvalidKeyError,
        mailauth.SignError,
        mailauth.ZoneError,
        mailauth.ResolverError,
    ],
)
def test_every_error_is_a_mailauth_error_and_a_value_error(cls: type[Exception]) -> None:
    assert issubclass(cls, mailauth.MailAuthError)
    assert issubclass(cls, ValueError)
    assert cls.__module__ == "mailauth"


@pytest.mark.parametrize("cls", [dns.NXDomain, dns.NoData, dns.TempFail, dns.PermFail])
def test_dns_answer_kinds_are_dns_errors_not_misuse(cls: type[Exception]) -> None:
    assert issubclass(cls, dns.DnsError)
    assert not issubclass(cls, mailauth.MailAuthError)
    assert cls.__module__ == "mailauth.dns"


def test_package_metadata() -> None:
    assert mailauth.__version__ == "0.1.0"
    assert mailauth.CRYPTO_BACKEND == "aws-lc"
    assert mailauth._native.__name__ == "mailauth._native"
