//! DKIM verification (RFC 6376, 8301, 8463).

use std::ffi::c_char;

use mailauth::dkim::verify::{DkimResult, SignatureResult, Verification, Verifier, VerifyConfig};

use crate::check::{Outcome, mailauth_check};
use crate::ffi::{Out, borrow, borrow_mut, bytes, free_handle, guard, into_handle, tri};
use crate::status::mailauth_status::{self, *};
use crate::string::give_string;

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

/// How many DKIM-Signature fields the message has (each has a result).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_count(
    outcome: *const mailauth_dkim_outcome,
    count: *mut usize,
) -> mailauth_status {
    guard(|| {
        let count = tri!(Out::new(count));
        // SAFETY: `outcome` is NULL or a live outcome.
        let outcome = tri!(unsafe { borrow(outcome) });
        count.write(outcome.outcome.signatures.len())
    })
}

fn signature<'a>(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
) -> Result<&'a SignatureResult, mailauth_status> {
    // SAFETY: `outcome` is NULL or a live outcome (contract of the callers).
    let outcome = unsafe { borrow(outcome) }?;
    outcome
        .outcome
        .signatures
        .get(index)
        .ok_or(MAILAUTH_INVALID_ARGUMENT)
}

/// The result of signature `index` (0 is the topmost).
/// `MAILAUTH_INVALID_ARGUMENT` for an index out of range.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_result(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    result: *mut mailauth_dkim_result,
) -> mailauth_status {
    guard(|| {
        let result = tri!(Out::new(result));
        let signature = tri!(signature(outcome, index));
        result.write(dkim_result(signature.result))
    })
}

/// The result name of signature `index` (`"pass"`, `"permerror"`, ...) as
/// a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_result_name(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    name: *mut *mut c_char,
) -> mailauth_status {
    guard(|| {
        let name = tri!(Out::new(name));
        let signature = tri!(signature(outcome, index));
        give_string(name, signature.result.as_str())
    })
}

/// Why signature `index` did not pass (`"body hash did not verify"`), as a
/// new string. `MAILAUTH_ABSENT` for a pass.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_outcome_reason(
    outcome: *const mailauth_dkim_outcome,
    index: usize,
    reason: *mut *mut c_char,
) -> mailauth_status {
    guard(|| {
        let reason = tri!(Out::new(reason));
        let signature = tri!(signature(outcome, index));
        match &signature.reason {
            Some(why) => give_string(reason, &why.to_string()),
            None => MAILAUTH_ABSENT,
        }
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
    guard(|| {
        let domain = tri!(Out::new(domain));
        let signature = tri!(signature(outcome, index));
        match &signature.domain {
            Some(name) => give_string(domain, name.as_str()),
            None => MAILAUTH_ABSENT,
        }
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
    guard(|| {
        let selector = tri!(Out::new(selector));
        let signature = tri!(signature(outcome, index));
        match &signature.selector {
            Some(text) => give_string(selector, text),
            None => MAILAUTH_ABSENT,
        }
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
    guard(|| {
        let algorithm = tri!(Out::new(algorithm));
        let signature = tri!(signature(outcome, index));
        match signature.algorithm {
            Some(a) => give_string(algorithm, a.as_str()),
            None => MAILAUTH_ABSENT,
        }
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
    guard(|| {
        let identity = tri!(Out::new(identity));
        let signature = tri!(signature(outcome, index));
        match &signature.identity {
            Some(i) => give_string(identity, &i.to_string()),
            None => MAILAUTH_ABSENT,
        }
    })
}
