//! BIMI: the record checks of the inbound pipeline (turned on with
//! [`mailauth_inbound_set_bimi`]), their outcome, the BIMI fields to insert
//! and remove, and the Assertion Record parser.
//!
//! The outcome and its record are borrowed from the pipeline's verdict:
//! they are valid until that verdict is freed, and are never freed on
//! their own. A record made by [`mailauth_bimi_record_parse`] is owned by
//! the caller and freed with [`mailauth_bimi_record_free`].

use std::ffi::c_char;

use mailauth::bimi::{self, BimiResult, Record};
use mailauth::inbound::ExistingField;

use crate::ffi::{Out, borrow_mut, bytes, free_handle, guard, into_handle, read, tri};
use crate::inbound::{mailauth_inbound, mailauth_inbound_outcome, verdict};
use crate::status::mailauth_status::{self, *};
use crate::string::{give_optional, give_string};

/// The BIMI result, as the Authentication-Results `bimi` method names it.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mailauth_bimi_result {
    /// The message qualifies and the Assertion Record is valid (fetching
    /// and validating the Indicator is the caller's).
    MAILAUTH_BIMI_PASS = 0,
    /// No Assertion Record.
    MAILAUTH_BIMI_NONE = 1,
    /// The record is invalid, or several records were found.
    MAILAUTH_BIMI_FAIL = 2,
    /// A DNS lookup failed temporarily.
    MAILAUTH_BIMI_TEMPERROR = 3,
    /// The domain published a Declination to Publish.
    MAILAUTH_BIMI_DECLINED = 4,
    /// BIMI was not performed: DMARC did not pass at enforcement, or the
    /// From field does not hold one author.
    MAILAUTH_BIMI_SKIPPED = 5,
}

fn result_code(result: BimiResult) -> mailauth_bimi_result {
    use mailauth_bimi_result::*;
    match result {
        BimiResult::Pass => MAILAUTH_BIMI_PASS,
        BimiResult::None => MAILAUTH_BIMI_NONE,
        BimiResult::TempError => MAILAUTH_BIMI_TEMPERROR,
        BimiResult::Declined => MAILAUTH_BIMI_DECLINED,
        BimiResult::Skipped => MAILAUTH_BIMI_SKIPPED,
        _ => MAILAUTH_BIMI_FAIL,
    }
}

/// The BIMI outcome of a verdict, borrowed from it (see
/// [`mailauth_inbound_outcome_bimi`]): valid until the verdict is freed,
/// never freed on its own.
///
/// Thread-safety: immutable; may be read from several threads at once.
pub struct mailauth_bimi_outcome {
    _opaque: [u8; 0],
}

/// A BIMI Assertion Record: borrowed from an outcome
/// ([`mailauth_bimi_outcome_record`]), or owned when made by
/// [`mailauth_bimi_record_parse`] (then freed with
/// [`mailauth_bimi_record_free`]).
///
/// Thread-safety: immutable; may be read from several threads at once.
pub struct mailauth_bimi_record {
    _opaque: [u8; 0],
}

fn outcome<'a>(
    outcome: *const mailauth_bimi_outcome,
) -> Result<&'a bimi::Outcome, mailauth_status> {
    // SAFETY: a non-NULL `mailauth_bimi_outcome` pointer is only ever made
    // by `mailauth_inbound_outcome_bimi` from a `bimi::Outcome` inside a
    // verdict the caller has not freed (contract of the callers).
    unsafe { outcome.cast::<bimi::Outcome>().as_ref() }.ok_or(MAILAUTH_NULL_PARAMETER)
}

fn record<'a>(record: *const mailauth_bimi_record) -> Result<&'a Record, mailauth_status> {
    // SAFETY: a non-NULL `mailauth_bimi_record` pointer is only ever made
    // from a `bimi::Record` (owned: `mailauth_bimi_record_parse`; borrowed:
    // `mailauth_bimi_outcome_record`) that is still live (contract).
    unsafe { record.cast::<Record>().as_ref() }.ok_or(MAILAUTH_NULL_PARAMETER)
}

/// The BIMI settings of a pipeline handle, while they may change.
fn bimi_config<'a>(
    inbound: *mut mailauth_inbound,
) -> Result<&'a mut bimi::Config, mailauth_status> {
    // SAFETY: `inbound` is NULL or a live handle used by this thread.
    let inbound = unsafe { borrow_mut(inbound) }?;
    let (_, config) = inbound.setup()?;
    Ok(&mut config.bimi)
}

/// Turns BIMI on or off (default off). When on, a message that DMARC lets
/// through gets a `bimi=` result in the Authentication-Results field, the
/// BIMI-Location field to insert for a `pass`
/// ([`mailauth_inbound_outcome_bimi_location`]), and the incoming
/// BIMI-Location, BIMI-Indicator and BIMI-Logo-Preference fields to remove
/// whatever the result ([`mailauth_inbound_outcome_bimi_remove_count`]).
/// Before the first feed only, else `MAILAUTH_TOO_LATE`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_set_bimi(
    inbound: *mut mailauth_inbound,
    enabled: bool,
) -> mailauth_status {
    guard(|| {
        tri!(bimi_config(inbound)).enabled = enabled;
        MAILAUTH_OK
    })
}

/// Uses a BIMI-Selector field only when a DMARC-aligned, passing DKIM
/// signature covers it (default true); false trusts it regardless. Before
/// the first feed only, else `MAILAUTH_TOO_LATE`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_set_bimi_require_signed_selector(
    inbound: *mut mailauth_inbound,
    required: bool,
) -> mailauth_status {
    guard(|| {
        tri!(bimi_config(inbound)).require_signed_selector = required;
        MAILAUTH_OK
    })
}

/// The longest Assertion Record read, in octets (default 2048); a longer
/// one is invalid (`fail`). Before the first feed only, else
/// `MAILAUTH_TOO_LATE`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_set_bimi_max_record_bytes(
    inbound: *mut mailauth_inbound,
    max_record_bytes: usize,
) -> mailauth_status {
    guard(|| {
        tri!(bimi_config(inbound)).max_record_bytes = max_record_bytes;
        MAILAUTH_OK
    })
}

/// The most URIs in a record's `l=` (default 1); a record with more is
/// invalid (`fail`). Before the first feed only, else `MAILAUTH_TOO_LATE`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_set_bimi_max_location_uris(
    inbound: *mut mailauth_inbound,
    max_location_uris: usize,
) -> mailauth_status {
    guard(|| {
        tri!(bimi_config(inbound)).max_location_uris = max_location_uris;
        MAILAUTH_OK
    })
}

/// The BIMI outcome of the verdict, borrowed: `*out` is valid until the
/// verdict is freed and is not freed on its own. `MAILAUTH_ABSENT` when
/// BIMI did not run (off, or the message was not checked).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_bimi(
    outcome: *const mailauth_inbound_outcome,
    out: *mut *const mailauth_bimi_outcome,
) -> mailauth_status {
    read!(verdict = verdict(outcome), out => out.write_optional(
        verdict.bimi.as_ref().map(|o| std::ptr::from_ref(o).cast::<mailauth_bimi_outcome>())
    ))
}

/// The value of the BIMI-Location field to insert for a BIMI `pass`
/// (`v=BIMI1; l=<indicator URI>`, and `; a=<evidence URI>` when the record
/// has one), as a new string; insert it once the Indicator was fetched and
/// validated. `MAILAUTH_ABSENT` for any other result, or when BIMI did not
/// run.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_bimi_location(
    outcome: *const mailauth_inbound_outcome,
    value: *mut *mut c_char,
) -> mailauth_status {
    read!(verdict = verdict(outcome), value => give_optional(value, verdict.bimi_location.as_deref()))
}

/// How many BIMI-Location, BIMI-Indicator and BIMI-Logo-Preference fields
/// came with the message: only the receiver may write them, so each is to
/// be removed (0 when BIMI is off).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_bimi_remove_count(
    outcome: *const mailauth_inbound_outcome,
    count: *mut usize,
) -> mailauth_status {
    read!(verdict = verdict(outcome), count => count.write(verdict.bimi_remove.len()))
}

fn bimi_remove<'a>(
    outcome: *const mailauth_inbound_outcome,
    index: usize,
) -> Result<&'a ExistingField, mailauth_status> {
    verdict(outcome)?
        .bimi_remove
        .get(index)
        .ok_or(MAILAUTH_INVALID_ARGUMENT)
}

/// Which field of its name BIMI field `index` to remove is, counting the
/// fields of that name from 1 at the top (the index a milter passes to
/// `smfi_chgheader` with the name of
/// [`mailauth_inbound_outcome_bimi_remove_name`]).
/// `MAILAUTH_INVALID_ARGUMENT` for an index out of range, here and in the
/// other `mailauth_inbound_outcome_bimi_remove_*` functions.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_bimi_remove_occurrence(
    outcome: *const mailauth_inbound_outcome,
    index: usize,
    occurrence: *mut usize,
) -> mailauth_status {
    read!(field = bimi_remove(outcome, index), occurrence => occurrence.write(field.occurrence))
}

/// The position of BIMI field `index` to remove among all header fields,
/// from 0 at the top.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_bimi_remove_position(
    outcome: *const mailauth_inbound_outcome,
    index: usize,
    position: *mut usize,
) -> mailauth_status {
    read!(field = bimi_remove(outcome, index), position => position.write(field.position))
}

/// The name of BIMI field `index` to remove, as it appeared in the message
/// (`BIMI-Location`, `BIMI-Indicator` or `BIMI-Logo-Preference` in any
/// case), as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_bimi_remove_name(
    outcome: *const mailauth_inbound_outcome,
    index: usize,
    name: *mut *mut c_char,
) -> mailauth_status {
    read!(field = bimi_remove(outcome, index), name => give_optional(
        name,
        field.field.name().map(String::from_utf8_lossy).as_deref()
    ))
}

/// BIMI field `index` to remove, as it appeared in the message, name
/// included, without the final line break: `*data` points to `*len` bytes
/// owned by the verdict (valid until it is freed; not NUL-terminated, not
/// necessarily UTF-8).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_bimi_remove_field(
    outcome: *const mailauth_inbound_outcome,
    index: usize,
    data: *mut *const u8,
    len: *mut usize,
) -> mailauth_status {
    guard(|| {
        let data = tri!(Out::new(data));
        let len = tri!(Out::new(len));
        let raw = tri!(bimi_remove(outcome, index)).field.raw();
        len.write(raw.len());
        data.write(raw.as_ptr())
    })
}

/// The BIMI result.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_outcome_result(
    outcome: *const mailauth_bimi_outcome,
    result: *mut mailauth_bimi_result,
) -> mailauth_status {
    read!(o = self::outcome(outcome), result => result.write(result_code(o.result)))
}

/// The BIMI result as its keyword (`pass`, `none`, `fail`, `temperror`,
/// `declined`, `skipped`), as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_outcome_result_name(
    outcome: *const mailauth_bimi_outcome,
    name: *mut *mut c_char,
) -> mailauth_status {
    read!(o = self::outcome(outcome), name => give_string(name, o.result.as_str()))
}

/// Why the result is what it is (`valid bimi record`, `no bimi record`,
/// `not at enforcement or not authenticated: dmarc fail`, ...), as a new
/// string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_outcome_reason(
    outcome: *const mailauth_bimi_outcome,
    reason: *mut *mut c_char,
) -> mailauth_status {
    read!(o = self::outcome(outcome), reason => give_string(reason, &o.reason.to_string()))
}

/// The selector looked up (`header.selector`; `default` unless a
/// BIMI-Selector field named another), as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_outcome_selector(
    outcome: *const mailauth_bimi_outcome,
    selector: *mut *mut c_char,
) -> mailauth_status {
    read!(o = self::outcome(outcome), selector => give_string(selector, o.selector.as_str()))
}

/// Why the message's BIMI-Selector field was not used (several fields, a
/// malformed one, or one no aligned DKIM signature covers), as a new
/// string. `MAILAUTH_ABSENT` when it was used or there was none.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_outcome_selector_ignored(
    outcome: *const mailauth_bimi_outcome,
    why: *mut *mut c_char,
) -> mailauth_status {
    read!(o = self::outcome(outcome), why => give_optional(
        why,
        o.selector_ignored.as_ref().map(ToString::to_string).as_deref()
    ))
}

/// Where the record evaluated was found (`header.d`: the author domain, or
/// its Organizational Domain), as a new string. `MAILAUTH_ABSENT` when no
/// record was looked at (`skipped`, `none`).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_outcome_domain(
    outcome: *const mailauth_bimi_outcome,
    domain: *mut *mut c_char,
) -> mailauth_status {
    read!(o = self::outcome(outcome), domain => give_optional(
        domain,
        o.domain.as_ref().map(|d| d.as_str())
    ))
}

/// The valid record (for `pass` and `declined`), borrowed from the
/// outcome: valid until the verdict is freed, never freed on its own.
/// `MAILAUTH_ABSENT` for other results.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_outcome_record(
    outcome: *const mailauth_bimi_outcome,
    out: *mut *const mailauth_bimi_record,
) -> mailauth_status {
    read!(o = self::outcome(outcome), out => out.write_optional(
        o.record.as_ref().map(|r| std::ptr::from_ref(r).cast::<mailauth_bimi_record>())
    ))
}

/// The evidence status (`policy.authority`: `none`, `pass` or `fail`), as
/// a new string; `none` unless evidence was validated (the library does not
/// fetch it).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_outcome_authority(
    outcome: *const mailauth_bimi_outcome,
    authority: *mut *mut c_char,
) -> mailauth_status {
    read!(o = self::outcome(outcome), authority => give_string(authority, o.authority.as_str()))
}

/// Parses a BIMI Assertion Record (its TXT character-strings joined) with
/// the default limits (2048 octets, one `l=` URI). See
/// [`mailauth_bimi_record_parse_with`].
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_record_parse(
    data: *const u8,
    len: usize,
    out: *mut *mut mailauth_bimi_record,
    error: *mut *mut c_char,
) -> mailauth_status {
    let defaults = bimi::Config::default();
    mailauth_bimi_record_parse_with(
        data,
        len,
        defaults.max_record_bytes,
        defaults.max_location_uris,
        out,
        error,
    )
}

/// Parses a BIMI Assertion Record (`v=BIMI1; l=<https URI>; a=<https
/// URI>`) of at most `max_record_bytes` octets with at most
/// `max_location_uris` URIs in `l=` into `*out` (a new handle, freed with
/// [`mailauth_bimi_record_free`]). A record that is not valid gives
/// `MAILAUTH_INVALID_ARGUMENT`, and `*error` (when `error` is not NULL)
/// receives why (`no l= tag`, `invalid a= uri: not https`, ...; free it
/// with `mailauth_string_free`).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_record_parse_with(
    data: *const u8,
    len: usize,
    max_record_bytes: usize,
    max_location_uris: usize,
    out: *mut *mut mailauth_bimi_record,
    error: *mut *mut c_char,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `data` points to `len` readable bytes (contract).
        let text = tri!(unsafe { bytes(data, len) });
        let mut config = bimi::Config::default();
        config.max_record_bytes = max_record_bytes;
        config.max_location_uris = max_location_uris;
        match Record::parse(text, &config) {
            Ok(parsed) => out.write(into_handle(parsed).cast::<mailauth_bimi_record>()),
            Err(problem) => {
                if let Ok(error) = Out::new(error) {
                    give_string(error, &problem.to_string());
                }
                MAILAUTH_INVALID_ARGUMENT
            }
        }
    })
}

/// Frees a record made by [`mailauth_bimi_record_parse`]. NULL is a
/// no-op; freeing twice, or freeing a record borrowed from an outcome, is
/// undefined behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_record_free(record: *mut mailauth_bimi_record) {
    // SAFETY: a record the caller owns was made by `into_handle` for a
    // `Record` (contract of this function).
    unsafe { free_handle(record.cast::<Record>()) }
}

/// How many Indicator URIs `l=` holds (0 when `l=` is empty).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_record_location_count(
    record: *const mailauth_bimi_record,
    count: *mut usize,
) -> mailauth_status {
    read!(r = self::record(record), count => count.write(r.locations.len()))
}

/// Indicator URI `index` of `l=`, as a new string.
/// `MAILAUTH_INVALID_ARGUMENT` for an index out of range.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_record_location(
    record: *const mailauth_bimi_record,
    index: usize,
    uri: *mut *mut c_char,
) -> mailauth_status {
    read!(r = self::record(record), uri => match r.locations.get(index) {
        Some(location) => give_string(uri, location),
        None => MAILAUTH_INVALID_ARGUMENT,
    })
}

/// The URI of the Evidence Document (`a=`), as a new string.
/// `MAILAUTH_ABSENT` when `a=` is absent or empty.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_record_evidence(
    record: *const mailauth_bimi_record,
    uri: *mut *mut c_char,
) -> mailauth_status {
    read!(r = self::record(record), uri => give_optional(uri, r.evidence.as_deref()))
}

/// Whether the record has `lps=true` (the domain publishes local-part
/// selectors).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_record_local_part_selector(
    record: *const mailauth_bimi_record,
    enabled: *mut bool,
) -> mailauth_status {
    read!(r = self::record(record), enabled => enabled.write(r.local_part_selector))
}

/// The avatar preference of `avp=` (`brand` or `personal`), as a new
/// string. `MAILAUTH_ABSENT` when `avp=` is absent or holds another value.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_record_avatar_preference(
    record: *const mailauth_bimi_record,
    preference: *mut *mut c_char,
) -> mailauth_status {
    read!(r = self::record(record), preference => give_optional(
        preference,
        r.avatar_preference.map(|p| p.as_str())
    ))
}

/// Whether the record is a Declination to Publish (`l=` and `a=` both
/// empty).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_bimi_record_is_declination(
    record: *const mailauth_bimi_record,
    declination: *mut bool,
) -> mailauth_status {
    read!(r = self::record(record), declination => declination.write(r.is_declination()))
}
