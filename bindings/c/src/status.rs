//! Status codes.

use std::ffi::c_char;

use crate::ffi::{Out, guard, tri};

/// What a call did. Every function of the library returns one.
///
/// The numbers never change meaning: codes are only ever added, at the end.
/// A protocol outcome (an SPF `fail`, a DKIM `permerror`) is not a status:
/// it is read from the outcome of a check that returned `MAILAUTH_OK`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mailauth_status {
    /// Success; the out parameters were written.
    MAILAUTH_OK = 0,
    /// A pointer argument that must not be NULL was NULL.
    MAILAUTH_NULL_PARAMETER = 1,
    /// An argument is not valid: not UTF-8, not an IP address, not a domain
    /// name, an unknown enum value, an index out of range, a length over
    /// `PTRDIFF_MAX`.
    MAILAUTH_INVALID_ARGUMENT = 2,
    /// The caller's buffer is too small for the output.
    MAILAUTH_INSUFFICIENT_SIZE = 3,
    /// A bug in the library: a panic was caught at the boundary. The handle
    /// involved should be freed and not used otherwise.
    MAILAUTH_PANIC = 4,
    /// The check has not finished: poll it and supply the answers it asks
    /// for first.
    MAILAUTH_NOT_DONE = 5,
    /// The check is of another kind than the outcome asked for (an SPF
    /// outcome from a DKIM check).
    MAILAUTH_WRONG_KIND = 6,
    /// An answer was supplied for a query the check is not waiting for (no
    /// such index in the last poll, or answered already). The answer was
    /// dropped; the check is unchanged.
    MAILAUTH_UNEXPECTED_ANSWER = 7,
    /// The DNS response packet is not a well-formed response to the query
    /// (bad format, a query instead of a response, another question). Nothing
    /// was supplied: supply a failure or another packet.
    MAILAUTH_DNS_MALFORMED = 8,
    /// The DNS response packet has the TC bit set: ask again over TCP.
    /// Nothing was supplied.
    MAILAUTH_DNS_TRUNCATED = 9,
    /// The message was already finished: no more feeding.
    MAILAUTH_ALREADY_FINISHED = 10,
    /// Zone-file text does not parse.
    MAILAUTH_ZONE_SYNTAX = 11,
    /// A private key cannot be read (not PEM or DER, not RSA or Ed25519).
    MAILAUTH_KEY_INVALID = 12,
    /// A signing table or key table cannot be read or does not parse.
    MAILAUTH_TABLE_INVALID = 13,
    /// The message cannot be signed: it has no From field, or its header is
    /// over the limits.
    MAILAUTH_SIGN_FAILED = 14,
    /// No rule of the signing table matches the From address.
    MAILAUTH_NO_SIGNING_RULE = 15,
    /// A file could not be read.
    MAILAUTH_IO_ERROR = 16,
    /// The value asked for is not present in this outcome (no explanation,
    /// no selector); nothing was written.
    MAILAUTH_ABSENT = 17,
    /// The resolver could not be set up (no usable name server).
    MAILAUTH_RESOLVER_SETUP = 18,
    /// A setting was changed after the message started to be fed.
    MAILAUTH_TOO_LATE = 19,
    /// No ARC set was added: the newest ARC-Seal of the message already
    /// says `cv=fail`, and a chain marked failed is not extended (RFC 8617
    /// §5.1.2).
    MAILAUTH_ARC_CHAIN_FAILED = 20,
    /// No ARC set was added: the message already has the most ARC sets
    /// allowed.
    MAILAUTH_ARC_TOO_MANY_SETS = 21,
}

/// The message of every status and the list of all of them, from one
/// table: the `match` it expands to is exhaustive, so a status added to
/// the enum without a line here does not compile.
macro_rules! statuses {
    ($($status:ident => $message:literal,)*) => {
        impl mailauth_status {
            /// Every status, in code order.
            const ALL: &'static [mailauth_status] = &[$(mailauth_status::$status,)*];

            fn message(self) -> &'static str {
                match self {
                    $(mailauth_status::$status => $message,)*
                }
            }
        }
    };
}

statuses! {
    MAILAUTH_OK => "success",
    MAILAUTH_NULL_PARAMETER => "a required pointer argument was null",
    MAILAUTH_INVALID_ARGUMENT => "invalid argument",
    MAILAUTH_INSUFFICIENT_SIZE => "buffer too small",
    MAILAUTH_PANIC => "internal error: panic caught at the library boundary",
    MAILAUTH_NOT_DONE => "the check has not finished",
    MAILAUTH_WRONG_KIND => "the check is of another kind",
    MAILAUTH_UNEXPECTED_ANSWER => "answer supplied for a query that was not asked",
    MAILAUTH_DNS_MALFORMED => "malformed dns response",
    MAILAUTH_DNS_TRUNCATED => "truncated dns response: retry over tcp",
    MAILAUTH_ALREADY_FINISHED => "the message was already finished",
    MAILAUTH_ZONE_SYNTAX => "zone file syntax error",
    MAILAUTH_KEY_INVALID => "invalid private key",
    MAILAUTH_TABLE_INVALID => "invalid signing table or key table",
    MAILAUTH_SIGN_FAILED => "the message cannot be signed",
    MAILAUTH_NO_SIGNING_RULE => "no signing table rule matches the from address",
    MAILAUTH_IO_ERROR => "i/o error",
    MAILAUTH_ABSENT => "value not present",
    MAILAUTH_RESOLVER_SETUP => "resolver setup failed",
    MAILAUTH_TOO_LATE => "settings must be made before the message is fed",
    MAILAUTH_ARC_CHAIN_FAILED => "not sealed: the arc chain is marked failed",
    MAILAUTH_ARC_TOO_MANY_SETS => "not sealed: the message has the most arc sets",
}

impl mailauth_status {
    fn from_code(code: u32) -> Option<mailauth_status> {
        mailauth_status::ALL
            .iter()
            .copied()
            .find(|status| *status as u32 == code)
    }
}

/// Copies the message of status `code` (lowercase English, NUL-terminated)
/// into `buf` of `len` bytes and stores its length without the NUL in
/// `*written`.
///
/// An unknown code gives `"unknown status"`. `MAILAUTH_INSUFFICIENT_SIZE`
/// when the message and its NUL do not fit (64 bytes always suffice).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_status_message(
    code: u32,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> mailauth_status {
    guard(|| {
        let written = tri!(Out::new(written));
        if buf.is_null() {
            return mailauth_status::MAILAUTH_NULL_PARAMETER;
        }
        let message = mailauth_status::from_code(code).map_or("unknown status", |s| s.message());
        if message.len() >= len {
            return mailauth_status::MAILAUTH_INSUFFICIENT_SIZE;
        }
        // SAFETY: `buf` is non-NULL and, per the contract, `len` writable
        // bytes; the message and its NUL take fewer than `len` (checked).
        unsafe {
            std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), message.len());
            buf.add(message.len()).write(0);
        }
        written.write(message.len())
    })
}

#[cfg(test)]
mod tests {
    use super::mailauth_status;

    #[test]
    fn every_code_round_trips_and_has_a_short_message() {
        let count = mailauth_status::ALL.len() as u32;
        for code in 0..count {
            let status = mailauth_status::from_code(code).unwrap();
            assert_eq!(status as u32, code);
            assert!(status.message().len() < 64);
        }
        assert_eq!(mailauth_status::from_code(count), None);
    }
}
