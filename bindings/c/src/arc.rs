//! ARC (RFC 8617): chain validation as a check, and sealing.

use std::ffi::c_char;
use std::sync::Arc;

use mailauth::arc::{self, ArcResult, SealError, SealOutcome, SealedSet, Sealer, Sealing};
use mailauth::authres::AuthenticationResults;
use mailauth::dkim::crypto::SigningKey;

use crate::check::{Outcome, mailauth_check};
use crate::ffi::{
    Out, borrow, borrow_mut, bytes, free_handle, guard, into_handle, read, text, tri,
};
use crate::status::mailauth_status::{self, *};
use crate::string::{give_optional, give_string};

/// The ARC result of a message, also the chain status of an ARC-Seal
/// (`cv=`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mailauth_arc_result {
    /// No ARC set in the message.
    MAILAUTH_ARC_NONE = 0,
    /// Every ARC-Seal and the newest ARC-Message-Signature validate.
    MAILAUTH_ARC_PASS = 1,
    /// The chain is broken or malformed.
    MAILAUTH_ARC_FAIL = 2,
}

fn arc_result(result: ArcResult) -> mailauth_arc_result {
    use mailauth_arc_result::*;
    match result {
        ArcResult::None => MAILAUTH_ARC_NONE,
        ArcResult::Pass => MAILAUTH_ARC_PASS,
        // Fail, and any result a later core adds.
        _ => MAILAUTH_ARC_FAIL,
    }
}

impl From<arc::Outcome> for Outcome {
    fn from(outcome: arc::Outcome) -> Outcome {
        Outcome::Arc(Box::new(outcome))
    }
}

/// Reads a message for ARC validation: feed it in chunks of any size with
/// [`mailauth_arc_validator_feed`], then [`mailauth_arc_validator_finish`]
/// gives the check that looks up the keys of every set (all in one poll).
/// Memory stays bounded by the header limits whatever the message size.
///
/// Thread-safety: not thread-safe; use it from one thread at a time (it may
/// move between threads).
pub struct mailauth_arc_validator {
    validator: Option<arc::Validator>,
}

/// Creates a validator with the default settings (at most 50 sets,
/// rsa-sha1 and RSA keys under 1024 bits refused, `header.oldest-pass`
/// not computed for more than one set: `[arc] oldest_pass` through
/// [`mailauth_arc_validator_new_with_settings`] asks for it).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_validator_new(
    out: *mut *mut mailauth_arc_validator,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        out.write(into_handle(mailauth_arc_validator {
            validator: Some(arc::Validator::new(&arc::Config::default())),
        }))
    })
}

/// As [`mailauth_arc_validator_new`], with the `[arc]` settings of a
/// settings file (most sets, key sizes, rsa-sha1, oldest-pass, and the
/// header limits and key cache of `[verify]`) when its `verify` is on, the
/// defaults otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_validator_new_with_settings(
    settings: *const crate::session::mailauth_settings,
    out: *mut *mut mailauth_arc_validator,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `settings` is NULL or live settings.
        let settings = tri!(unsafe { borrow(settings) }).settings();
        let config = settings.inbound_config().arc.clone().unwrap_or_default();
        out.write(into_handle(mailauth_arc_validator {
            validator: Some(arc::Validator::new(&config)),
        }))
    })
}

/// Feeds the next `len` bytes of the message (header and body as received,
/// CRLF or LF line endings, split anywhere). `MAILAUTH_ALREADY_FINISHED`
/// after [`mailauth_arc_validator_finish`].
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_validator_feed(
    validator: *mut mailauth_arc_validator,
    data: *const u8,
    len: usize,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `validator` is NULL or a live validator used by this thread.
        let validator = tri!(unsafe { borrow_mut(validator) });
        // SAFETY: `data` points to `len` readable bytes (contract).
        let data = tri!(unsafe { bytes(data, len) });
        match &mut validator.validator {
            Some(reading) => {
                reading.feed(data);
                MAILAUTH_OK
            }
            None => MAILAUTH_ALREADY_FINISHED,
        }
    })
}

/// Ends the message and gives in `*out` the check that looks up the keys
/// and validates the chain (a new handle, freed with `mailauth_check_free`;
/// take its outcome with [`mailauth_check_arc_outcome`]). Feeding or
/// finishing again gives `MAILAUTH_ALREADY_FINISHED`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_validator_finish(
    validator: *mut mailauth_arc_validator,
    out: *mut *mut mailauth_check,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `validator` is NULL or a live validator used by this thread.
        let validator = tri!(unsafe { borrow_mut(validator) });
        match validator.validator.take() {
            Some(reading) => out.write(into_handle(mailauth_check::new(reading.finish()))),
            None => MAILAUTH_ALREADY_FINISHED,
        }
    })
}

/// Frees a validator. NULL is a no-op; freeing twice is undefined behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_validator_free(validator: *mut mailauth_arc_validator) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(validator) }
}

/// The outcome of ARC validation: the result, the number of sets, the
/// oldest passing instance and one summary per set.
///
/// Thread-safety: immutable; may be read from several threads at once.
pub struct mailauth_arc_outcome {
    pub(crate) outcome: arc::Outcome,
}

/// Takes the outcome of a finished ARC check into `*out` (a new handle,
/// freed with [`mailauth_arc_outcome_free`]). `MAILAUTH_NOT_DONE` before
/// the check finished, `MAILAUTH_WRONG_KIND` for another kind of check.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_check_arc_outcome(
    check: *const mailauth_check,
    out: *mut *mut mailauth_arc_outcome,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `check` is NULL or a live check not mutated during the call.
        let check = tri!(unsafe { borrow(check) });
        match tri!(check.outcome()) {
            Outcome::Arc(outcome) => out.write(into_handle(mailauth_arc_outcome {
                outcome: (**outcome).clone(),
            })),
            _ => MAILAUTH_WRONG_KIND,
        }
    })
}

/// Frees an ARC outcome. NULL is a no-op; freeing twice is undefined
/// behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_free(outcome: *mut mailauth_arc_outcome) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(outcome) }
}

fn arc_outcome<'a>(
    outcome: *const mailauth_arc_outcome,
) -> Result<&'a arc::Outcome, mailauth_status> {
    // SAFETY: `outcome` is NULL or a live outcome (contract of the callers).
    unsafe { borrow(outcome) }.map(|o| &o.outcome)
}

fn set<'a>(
    outcome: *const mailauth_arc_outcome,
    index: usize,
) -> Result<&'a arc::SetSummary, mailauth_status> {
    arc_outcome(outcome)?
        .instances
        .get(index)
        .ok_or(MAILAUTH_INVALID_ARGUMENT)
}

/// The ARC result.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_result(
    outcome: *const mailauth_arc_outcome,
    result: *mut mailauth_arc_result,
) -> mailauth_status {
    read!(outcome = arc_outcome(outcome), result => result.write(arc_result(outcome.result)))
}

/// The ARC result's name (`"none"`, `"pass"`, `"fail"`) as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_result_name(
    outcome: *const mailauth_arc_outcome,
    name: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = arc_outcome(outcome), name => give_string(name, outcome.result.as_str()))
}

/// Why the chain fails (`"arc-seal 2: signature did not verify"`), as a new
/// string. `MAILAUTH_ABSENT` for `none` and `pass`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_reason(
    outcome: *const mailauth_arc_outcome,
    reason: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = arc_outcome(outcome), reason => {
        give_optional(reason, outcome.reason.as_ref().map(ToString::to_string).as_deref())
    })
}

/// The number of ARC sets (the highest instance), also when the chain
/// fails; 0 for `none`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_sets(
    outcome: *const mailauth_arc_outcome,
    sets: *mut usize,
) -> mailauth_status {
    read!(outcome = arc_outcome(outcome), sets => sets.write(outcome.sets))
}

/// `header.oldest-pass` (RFC 8617 §7.2): with a `pass`, the lowest
/// instance from which every ARC-Message-Signature up to the newest
/// validates, 0 when all of them do. `MAILAUTH_ABSENT` when not computed
/// or not `pass`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_oldest_pass(
    outcome: *const mailauth_arc_outcome,
    instance: *mut u32,
) -> mailauth_status {
    read!(outcome = arc_outcome(outcome), instance => instance.write_optional(outcome.oldest_pass))
}

/// Why the header was not read whole (it went past the configured number
/// of fields or bytes), as a new string. `MAILAUTH_ABSENT` when it was.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_header_error(
    outcome: *const mailauth_arc_outcome,
    error: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = arc_outcome(outcome), error => {
        give_optional(error, outcome.header_error.map(|e| e.to_string()).as_deref())
    })
}

/// How many set summaries the outcome has (one per ARC set, oldest first,
/// when the structure of the chain is sound; 0 otherwise). Read each with
/// the `mailauth_arc_outcome_set_*` functions.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_instance_count(
    outcome: *const mailauth_arc_outcome,
    count: *mut usize,
) -> mailauth_status {
    read!(outcome = arc_outcome(outcome), count => count.write(outcome.instances.len()))
}

/// The instance (`i=`) of set `index` (0 is the oldest).
/// `MAILAUTH_INVALID_ARGUMENT` for an index out of range, here and in every
/// `mailauth_arc_outcome_set_*` function.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_set_instance(
    outcome: *const mailauth_arc_outcome,
    index: usize,
    instance: *mut u32,
) -> mailauth_status {
    read!(set = set(outcome, index), instance => instance.write(set.instance))
}

/// The ARC-Seal's `d=` of set `index`, as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_set_seal_domain(
    outcome: *const mailauth_arc_outcome,
    index: usize,
    domain: *mut *mut c_char,
) -> mailauth_status {
    read!(set = set(outcome, index), domain => give_string(domain, set.seal_domain.as_str()))
}

/// The ARC-Seal's `s=` of set `index`, as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_set_seal_selector(
    outcome: *const mailauth_arc_outcome,
    index: usize,
    selector: *mut *mut c_char,
) -> mailauth_status {
    read!(set = set(outcome, index), selector => give_string(selector, &set.seal_selector))
}

/// The ARC-Message-Signature's `d=` of set `index`, as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_set_signature_domain(
    outcome: *const mailauth_arc_outcome,
    index: usize,
    domain: *mut *mut c_char,
) -> mailauth_status {
    read!(set = set(outcome, index), domain => give_string(domain, set.signature_domain.as_str()))
}

/// The ARC-Message-Signature's `s=` of set `index`, as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_set_signature_selector(
    outcome: *const mailauth_arc_outcome,
    index: usize,
    selector: *mut *mut c_char,
) -> mailauth_status {
    read!(set = set(outcome, index), selector => give_string(selector, &set.signature_selector))
}

/// The ARC-Seal's chain status (`cv=`) of set `index`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_outcome_set_chain_status(
    outcome: *const mailauth_arc_outcome,
    index: usize,
    status: *mut mailauth_arc_result,
) -> mailauth_status {
    read!(set = set(outcome, index), status => status.write(arc_result(set.chain_status)))
}

/// Who seals and how: the sealing domain (`d=`), selector (`s=`), private
/// key and the authserv-id written in the ARC-Authentication-Results.
///
/// Thread-safety: immutable; may be used by several threads at once.
pub struct mailauth_arc_sealer {
    sealer: Arc<Sealer>,
}

fn sealer_error(error: &SealError) -> mailauth_status {
    match error {
        SealError::KeyType(_) => MAILAUTH_KEY_INVALID,
        SealError::Invalid(_) | SealError::AuthservId(_) | SealError::ChainMismatch { .. } => {
            MAILAUTH_INVALID_ARGUMENT
        }
        _ => MAILAUTH_SIGN_FAILED,
    }
}

/// Creates a sealer for `domain` (`d=`) and `selector` (`s=`) with the
/// private key `key` (`key_len` bytes of PEM or DER, PKCS#1 or PKCS#8, RSA
/// or Ed25519: rsa-sha256 or ed25519-sha256 after the key), writing
/// `authserv_id` in the ARC-Authentication-Results. The
/// ARC-Message-Signature signs the usual header fields, relaxed/relaxed.
///
/// `MAILAUTH_INVALID_ARGUMENT` for a bad domain, selector or authserv-id,
/// `MAILAUTH_KEY_INVALID` for a bad key.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_sealer_new(
    domain: *const c_char,
    selector: *const c_char,
    key: *const u8,
    key_len: usize,
    authserv_id: *const c_char,
    out: *mut *mut mailauth_arc_sealer,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: the strings are NULL or NUL-terminated.
        let domain = tri!(unsafe { text(domain) });
        // SAFETY: as above.
        let selector = tri!(unsafe { text(selector) });
        // SAFETY: as above.
        let authserv_id = tri!(unsafe { text(authserv_id) });
        // SAFETY: `key` points to `key_len` readable bytes (contract).
        let key = tri!(unsafe { bytes(key, key_len) });
        let key = if key.starts_with(b"-----") {
            SigningKey::from_pem(key)
        } else {
            SigningKey::from_der(key)
        };
        let key = tri!(key.map_err(|_| MAILAUTH_KEY_INVALID));
        match Sealer::new(
            domain,
            selector,
            Arc::new(key),
            authserv_id,
            arc::SealOptions::default(),
        ) {
            Ok(sealer) => out.write(into_handle(mailauth_arc_sealer {
                sealer: Arc::new(sealer),
            })),
            Err(error) => sealer_error(&error),
        }
    })
}

/// The sealer of a settings file's `[arc]` section (`seal` on: the key,
/// domain and selector the signing table picks for the `sealer` domain,
/// `seal_headers`, `max_sets`, and the settings' authserv-id).
/// `MAILAUTH_ABSENT` when the settings do not seal.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_sealer_new_with_settings(
    settings: *const crate::session::mailauth_settings,
    out: *mut *mut mailauth_arc_sealer,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `settings` is NULL or live settings.
        let settings = tri!(unsafe { borrow(settings) }).settings();
        out.write_optional(settings.sealer().map(|sealer| {
            into_handle(mailauth_arc_sealer {
                sealer: Arc::new(sealer.clone()),
            })
        }))
    })
}

/// Frees a sealer. NULL is a no-op; freeing twice is undefined behavior.
/// Sealing sessions made from it stay valid.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_sealer_free(sealer: *mut mailauth_arc_sealer) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(sealer) }
}

/// One message being sealed: feed it in chunks with
/// [`mailauth_arc_sealing_feed`] (the same bytes the validator of the
/// message is fed), then [`mailauth_arc_sealing_finish`] gives the new ARC
/// set. Memory stays bounded by the header limits; the body streams.
///
/// Thread-safety: not thread-safe; use it from one thread at a time (it may
/// move between threads).
pub struct mailauth_arc_sealing {
    sealing: Option<Sealing<'static>>,
}

/// Starts sealing one message with `sealer` (which may be freed
/// afterwards); `now` is the sealing time in seconds since the Unix epoch
/// (`t=`).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_sealing_new(
    sealer: *const mailauth_arc_sealer,
    now: u64,
    out: *mut *mut mailauth_arc_sealing,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `sealer` is NULL or a live sealer.
        let sealer = tri!(unsafe { borrow(sealer) });
        let sealer = Sealer::clone(&sealer.sealer);
        out.write(into_handle(mailauth_arc_sealing {
            sealing: Some(sealer.into_sealing(now)),
        }))
    })
}

/// Feeds the next `len` bytes of the message (as received, CRLF or LF line
/// endings, split anywhere). `MAILAUTH_ALREADY_FINISHED` after
/// [`mailauth_arc_sealing_finish`].
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_sealing_feed(
    sealing: *mut mailauth_arc_sealing,
    data: *const u8,
    len: usize,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `sealing` is NULL or a live session used by this thread.
        let sealing = tri!(unsafe { borrow_mut(sealing) });
        // SAFETY: `data` points to `len` readable bytes (contract).
        let data = tri!(unsafe { bytes(data, len) });
        match &mut sealing.sealing {
            Some(sealing) => {
                sealing.update(data);
                MAILAUTH_OK
            }
            None => MAILAUTH_ALREADY_FINISHED,
        }
    })
}

/// A new ARC set: three header fields to add at the top of the message.
///
/// Thread-safety: immutable; may be read from several threads at once.
pub struct mailauth_arc_set {
    set: SealedSet,
}

/// Ends the message and builds its new ARC set into `*out` (a new handle,
/// freed with [`mailauth_arc_set_free`]).
///
/// `chain` is the outcome of validating the same message (`none` gives
/// `cv=none` and instance 1, `pass` gives `cv=pass`, `fail` gives
/// `cv=fail`). `results` is what
/// the ARC-Authentication-Results records: the value of an
/// Authentication-Results field (`authserv-id; method=result ...`, such as
/// the one `mailauth_inbound_outcome_authentication_results` gives, with
/// or without its `Authentication-Results:` name), whose results are
/// taken; NULL takes them from the message's own Authentication-Results
/// fields that carry the sealer's authserv-id, copied as written.
///
/// No set is added to a chain an earlier hop marked failed (its newest
/// ARC-Seal says `cv=fail`: `MAILAUTH_ARC_CHAIN_FAILED`) nor to a message
/// that already has the most sets (`MAILAUTH_ARC_TOO_MANY_SETS`);
/// `MAILAUTH_INVALID_ARGUMENT` when `results` does not parse or `chain`
/// counts another number of sets than the message holds;
/// `MAILAUTH_SIGN_FAILED` when the header is over the limits or the key
/// refuses to sign; `MAILAUTH_ALREADY_FINISHED` when called twice.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_sealing_finish(
    sealing: *mut mailauth_arc_sealing,
    chain: *const mailauth_arc_outcome,
    results: *const c_char,
    out: *mut *mut mailauth_arc_set,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `sealing` is NULL or a live session used by this thread.
        let sealing = tri!(unsafe { borrow_mut(sealing) });
        let chain = tri!(arc_outcome(chain));
        let results = if results.is_null() {
            None
        } else {
            // SAFETY: non-NULL and NUL-terminated (contract).
            let value = tri!(unsafe { text(results) });
            let value = strip_field_name(value);
            let parsed = tri!(
                AuthenticationResults::parse(value.as_bytes())
                    .map_err(|_| MAILAUTH_INVALID_ARGUMENT)
            );
            Some(parsed.results)
        };
        let Some(sealing) = sealing.sealing.take() else {
            return MAILAUTH_ALREADY_FINISHED;
        };
        let sealed = match &results {
            Some(results) => sealing.finish(chain, results),
            None => sealing.finish_with_header_results(chain),
        };
        match sealed {
            Ok(SealOutcome::Sealed(set)) => out.write(into_handle(mailauth_arc_set { set })),
            Ok(SealOutcome::ChainFailed) => MAILAUTH_ARC_CHAIN_FAILED,
            Ok(_) => MAILAUTH_ARC_TOO_MANY_SETS,
            Err(error) => sealer_error(&error),
        }
    })
}

/// `value` without a leading `Authentication-Results:` field name.
fn strip_field_name(value: &str) -> &str {
    const NAME: &str = "authentication-results:";
    match value.get(..NAME.len()) {
        Some(head) if head.eq_ignore_ascii_case(NAME) => &value[NAME.len()..],
        _ => value,
    }
}

/// Frees a sealing session. NULL is a no-op; freeing twice is undefined
/// behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_sealing_free(sealing: *mut mailauth_arc_sealing) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(sealing) }
}

/// Frees an ARC set. NULL is a no-op; freeing twice is undefined behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_set_free(set: *mut mailauth_arc_set) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(set) }
}

fn sealed_set<'a>(set: *const mailauth_arc_set) -> Result<&'a SealedSet, mailauth_status> {
    // SAFETY: `set` is NULL or a live set (contract of the callers).
    unsafe { borrow(set) }.map(|s| &s.set)
}

/// The instance (`i=`) of the new set.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_set_instance(
    set: *const mailauth_arc_set,
    instance: *mut u32,
) -> mailauth_status {
    read!(set = sealed_set(set), instance => instance.write(set.instance()))
}

/// The name of field `index` (0 to 2) as a new string, in the order to
/// insert the fields one by one at the top of the message (each above the
/// previous one): `"ARC-Authentication-Results"`,
/// `"ARC-Message-Signature"`, `"ARC-Seal"`. `MAILAUTH_INVALID_ARGUMENT`
/// for another index.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_set_field_name(
    set: *const mailauth_arc_set,
    index: usize,
    name: *mut *mut c_char,
) -> mailauth_status {
    read!(set = sealed_set(set), name => match set.fields().get(index) {
        Some((field, _)) => give_string(name, field),
        None => MAILAUTH_INVALID_ARGUMENT,
    })
}

/// The value of field `index` (0 to 2, as in
/// [`mailauth_arc_set_field_name`]) as a new string: after the `": "`,
/// folded with CRLF SP, without the final CRLF.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_set_field_value(
    set: *const mailauth_arc_set,
    index: usize,
    value: *mut *mut c_char,
) -> mailauth_status {
    read!(set = sealed_set(set), value => match set.fields().get(index) {
        Some((_, text)) => give_string(value, text),
        None => MAILAUTH_INVALID_ARGUMENT,
    })
}

/// The three fields as header lines ending with CRLF, top to bottom
/// (ARC-Seal first), ready to put in front of the message, as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_arc_set_header_lines(
    set: *const mailauth_arc_set,
    lines: *mut *mut c_char,
) -> mailauth_status {
    read!(set = sealed_set(set), lines => give_string(lines, &set.to_header_lines()))
}
