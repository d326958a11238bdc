//! DKIM verification (RFC 6376, 8301, 8463).

use std::ffi::c_char;

use mailauth::dkim::verify::{DkimResult, SignatureResult, Verification, Verifier, VerifyConfig};

use crate::check::{Outcome, mailauth_check};
use crate::ffi::{Out, borrow, borrow_mut, bytes, free_handle, guard, into_handle, read, tri};
use crate::status::mailauth_status::{self, *};
use crate::string::{give_optional, give_string};

/// The DKIM result of one signature (RFC 8601 §2.7.1).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mailauth_dkim_result {
    /// The signature verified.
    MAILAUTH_DKIM_PASS = 0,
    /// The signature did not verify (body or header changed).
    MAILAUTH_DKIM_FAIL = 1,
    /// The signature could not be processed (not checked: too many).
    MAILAUTH_DKIM_NEUTRAL = 2,
    /// The signature verified but local policy does not accept it.
    MAILAUTH_DKIM_POLICY = 3,
    /// A temporary error (DNS failure): try again later.
    MAILAUTH_DKIM_TEMPERROR = 4,
    /// A permanent error: malformed signature, missing or revoked key,
    /// refused algorithm.
    MAILAUTH_DKIM_PERMERROR = 5,
}

fn dkim_result(result: DkimResult) -> mailauth_dkim_result {
    use mailauth_dkim_result::*;
    match result {
        DkimResult::Pass => MAILAUTH_DKIM_PASS,
        DkimResult::Fail => MAILAUTH_DKIM_FAIL,
        DkimResult::Neutral => MAILAUTH_DKIM_NEUTRAL,
        DkimResult::Policy => MAILAUTH_DKIM_POLICY,
        DkimResult::TempError => MAILAUTH_DKIM_TEMPERROR,
        // PermError, and any result a later core adds.
        _ => MAILAUTH_DKIM_PERMERROR,
    }
}

/// Reads a message for DKIM verification: feed it in chunks of any size with
/// [`mailauth_dkim_verifier_feed`], then [`mailauth_dkim_verifier_finish`]
/// gives the check that looks up the keys. Memory stays bounded by the
/// header limits whatever the message size.
///
/// Thread-safety: not thread-safe; use it from one thread at a time (it may
/// move between threads).
pub struct mailauth_dkim_verifier {
    verifier: Option<Verifier>,
}

/// Creates a verifier with the default settings (RFC 8301: rsa-sha1 and
/// RSA keys under 1024 bits refused; at most 5 signatures checked); `now` is
/// the time in seconds since the Unix epoch, for `t=` and `x=`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_verifier_new(
    now: u64,
    out: *mut *mut mailauth_dkim_verifier,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        out.write(into_handle(mailauth_dkim_verifier {
            verifier: Some(Verifier::new(&VerifyConfig::default(), now)),
        }))
    })
}

/// As [`mailauth_dkim_verifier_new`], with the verification settings of a
/// settings file (`[verify]`: minimum key bits, rsa-sha1, clock skew,
/// signatures checked, header limits, `l=` handling, key cache).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_verifier_new_with_settings(
    settings: *const crate::session::mailauth_settings,
    now: u64,
    out: *mut *mut mailauth_dkim_verifier,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `settings` is NULL or live settings.
        let settings = tri!(unsafe { crate::ffi::borrow(settings) }).settings();
        out.write(into_handle(mailauth_dkim_verifier {
            verifier: Some(Verifier::new(&settings.inbound_config().dkim, now)),
        }))
    })
}

/// Feeds the next `len` bytes of the message (header and body as received,
/// CRLF or LF line endings, split anywhere). `MAILAUTH_ALREADY_FINISHED`
/// after [`mailauth_dkim_verifier_finish`].
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_verifier_feed(
    verifier: *mut mailauth_dkim_verifier,
    data: *const u8,
    len: usize,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `verifier` is NULL or a live verifier used by this thread.
        let verifier = tri!(unsafe { borrow_mut(verifier) });
        // SAFETY: `data` points to `len` readable bytes (contract).
        let data = tri!(unsafe { bytes(data, len) });
        match &mut verifier.verifier {
            Some(reading) => {
                reading.feed(data);
                MAILAUTH_OK
            }
            None => MAILAUTH_ALREADY_FINISHED,
        }
    })
}

/// Ends the message and gives in `*out` the check that looks up the keys
/// and verifies the signatures (a new handle, freed with
/// `mailauth_check_free`; take its outcome with
/// [`mailauth_check_dkim_outcome`]). The verifier can then only be freed:
/// feeding or finishing again gives `MAILAUTH_ALREADY_FINISHED`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_verifier_finish(
    verifier: *mut mailauth_dkim_verifier,
    out: *mut *mut mailauth_check,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `verifier` is NULL or a live verifier used by this thread.
        let verifier = tri!(unsafe { borrow_mut(verifier) });
        match verifier.verifier.take() {
            Some(reading) => out.write(into_handle(mailauth_check::new(reading.finish()))),
            None => MAILAUTH_ALREADY_FINISHED,
        }
    })
}

/// Frees a verifier. NULL is a no-op; freeing twice is undefined behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_verifier_free(verifier: *mut mailauth_dkim_verifier) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(verifier) }
}

/// The outcome of DKIM verification: one result per DKIM-Signature field,
/// in message order (none for an unsigned message).
///
/// Thread-safety: immutable; may be read from several threads at once.
pub struct mailauth_dkim_outcome {
    pub(crate) outcome: Verification,
}

/// Takes the outcome of a finished DKIM check into `*out` (a new handle,
/// freed with [`mailauth_dkim_outcome_free`]). `MAILAUTH_NOT_DONE` before
/// the check finished, `MAILAUTH_WRONG_KIND` for another kind of check.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_check_dkim_outcome(
    check: *const mailauth_check,
    out: *mut *mut mailauth_dkim_outcome,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `check` is NULL or a live check not mutated during the call.
        let check = tri!(unsafe { borrow(check) });
        match tri!(check.outcome()) {
            Outcome::Dkim(outcome) => out.write(into_handle(mailauth_dkim_outcome {
                outcome: outcome.clone(),
            })),
            #[allow(unreachable_patterns)]
            _ => MAILAUTH_WRONG_KIND,
        }
    })
}

/// Frees a DKIM outcome. NULL is a no-op; freeing twice is undefined
/// behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_free(outcome: *mut mailauth_dkim_outcome) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(outcome) }
}

fn verification<'a>(
    outcome: *const mailauth_dkim_outcome,
) -> Result<&'a Verification, mailauth_status> {
    // SAFETY: `outcome` is NULL or a live outcome (contract of the callers).
    unsafe { borrow(outcome) }.map(|o| &o.outcome)
}

fn signature<'a>(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
) -> Result<&'a SignatureResult, mailauth_status> {
    verification(outcome)?
        .signatures
        .get(index)
        .ok_or(MAILAUTH_INVALID_ARGUMENT)
}

/// How many DKIM-Signature fields the message has (each has a result).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_count(
    outcome: *const mailauth_dkim_outcome,
    count: *mut usize,
) -> mailauth_status {
    read!(outcome = verification(outcome), count => count.write(outcome.signatures.len()))
}

/// Why the header was not read whole (it went past the configured number
/// of fields or bytes), as a new string. `MAILAUTH_ABSENT` when it was.
/// Signatures past the bound are not verified; an MTA should refuse such a
/// message.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_header_error(
    outcome: *const mailauth_dkim_outcome,
    error: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = verification(outcome), error => {
        give_optional(error, outcome.header_error.map(|e| e.to_string()).as_deref())
    })
}

/// Whether the empty line between header and body was found (`false`: the
/// message is all header and the body is empty).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_header_complete(
    outcome: *const mailauth_dkim_outcome,
    complete: *mut bool,
) -> mailauth_status {
    read!(outcome = verification(outcome), complete => complete.write(outcome.header_complete))
}

/// The result of signature `index` (0 is the topmost).
/// `MAILAUTH_INVALID_ARGUMENT` for an index out of range, here and in every
/// `mailauth_dkim_outcome_*` function that takes an index.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_result(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    result: *mut mailauth_dkim_result,
) -> mailauth_status {
    read!(signature = signature(outcome, index), result => result.write(dkim_result(signature.result)))
}

/// The result name of signature `index` (`"pass"`, `"permerror"`, ...) as
/// a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_result_name(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    name: *mut *mut c_char,
) -> mailauth_status {
    read!(signature = signature(outcome, index), name => give_string(name, signature.result.as_str()))
}

/// Why signature `index` did not pass (`"body hash did not verify"`), as a
/// new string. `MAILAUTH_ABSENT` for a pass.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_reason(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    reason: *mut *mut c_char,
) -> mailauth_status {
    read!(signature = signature(outcome, index), reason => {
        give_optional(reason, signature.reason.as_ref().map(ToString::to_string).as_deref())
    })
}

/// The signing domain (`d=`) of signature `index`, as a new string.
/// `MAILAUTH_ABSENT` when the signature is too malformed to have one.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_domain(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    domain: *mut *mut c_char,
) -> mailauth_status {
    read!(signature = signature(outcome, index), domain => {
        give_optional(domain, signature.domain.as_ref().map(|n| n.as_str()))
    })
}

/// The selector (`s=`) of signature `index`, as a new string.
/// `MAILAUTH_ABSENT` when the signature is too malformed to have one.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_selector(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    selector: *mut *mut c_char,
) -> mailauth_status {
    read!(signature = signature(outcome, index), selector => {
        give_optional(selector, signature.selector.as_deref())
    })
}

/// The algorithm (`a=`: `"rsa-sha256"`, `"ed25519-sha256"`) of signature
/// `index`, as a new string. `MAILAUTH_ABSENT` when unknown.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_algorithm(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    algorithm: *mut *mut c_char,
) -> mailauth_status {
    read!(signature = signature(outcome, index), algorithm => {
        give_optional(algorithm, signature.algorithm.map(|a| a.as_str()))
    })
}

/// The identity (`i=`, or `@` and `d=` when absent) of signature `index`,
/// as a new string. `MAILAUTH_ABSENT` when unknown.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_identity(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    identity: *mut *mut c_char,
) -> mailauth_status {
    read!(signature = signature(outcome, index), identity => {
        give_optional(identity, signature.identity.as_ref().map(ToString::to_string).as_deref())
    })
}

/// The first characters of `b=` of signature `index` (`header.b` in
/// Authentication-Results, RFC 6008), as a new string. `MAILAUTH_ABSENT`
/// when unknown.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_signature_prefix(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    prefix: *mut *mut c_char,
) -> mailauth_status {
    read!(signature = signature(outcome, index), prefix => {
        give_optional(prefix, signature.signature_prefix.as_deref())
    })
}

/// The size in bits of the key of signature `index`. `MAILAUTH_ABSENT`
/// when the key was not read.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_key_bits(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    bits: *mut usize,
) -> mailauth_status {
    read!(signature = signature(outcome, index), bits => bits.write_optional(signature.key_bits))
}

/// The body length (`l=`) of signature `index`. `MAILAUTH_ABSENT` when the
/// signature covers the whole body.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_body_length(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    length: *mut u64,
) -> mailauth_status {
    read!(signature = signature(outcome, index), length => length.write_optional(signature.body_length))
}

/// How many canonical body octets follow the `l=` limit of signature
/// `index`, not covered by it (0 when all is signed).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_unsigned_body_octets(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    octets: *mut u64,
) -> mailauth_status {
    read!(signature = signature(outcome, index), octets => octets.write(signature.unsigned_body_octets))
}

/// Whether the key record of signature `index` says the domain is testing
/// DKIM (`t=y`).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_testing(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    testing: *mut bool,
) -> mailauth_status {
    read!(signature = signature(outcome, index), testing => testing.write(signature.testing))
}
