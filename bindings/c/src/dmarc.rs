//! DMARC: policy discovery and evaluation for an Author Domain, given the
//! SPF and DKIM outcomes of the message.

use std::ffi::c_char;

use mailauth::dmarc::{self, AlignedIdentifier, Disposition, DkimAuth, DmarcResult, SpfAuth};
use mailauth::dns::Name;

use crate::check::{Outcome, mailauth_check};
use crate::dkim::mailauth_dkim_outcome;
use crate::ffi::{Out, borrow, free_handle, guard, into_handle, read, text, tri};
use crate::spf::mailauth_spf_outcome;
use crate::status::mailauth_status::{self, *};
use crate::string::{give_optional, give_string};

/// The DMARC result.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mailauth_dmarc_result {
    /// An aligned identifier passed.
    MAILAUTH_DMARC_PASS = 0,
    /// No aligned identifier passed.
    MAILAUTH_DMARC_FAIL = 1,
    /// No policy applies (no record).
    MAILAUTH_DMARC_NONE = 2,
    /// A DNS failure kept the check from deciding.
    MAILAUTH_DMARC_TEMPERROR = 3,
    /// The message or the record is broken (no single author domain).
    MAILAUTH_DMARC_PERMERROR = 4,
}

/// What DMARC asks the receiver to do with the message.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mailauth_disposition {
    /// Deliver as usual.
    MAILAUTH_DISPOSITION_NONE = 0,
    /// Treat as suspicious (spam folder, extra scrutiny).
    MAILAUTH_DISPOSITION_QUARANTINE = 1,
    /// Refuse.
    MAILAUTH_DISPOSITION_REJECT = 2,
}

pub(crate) fn disposition(disposition: Disposition) -> mailauth_disposition {
    match disposition {
        Disposition::Quarantine => mailauth_disposition::MAILAUTH_DISPOSITION_QUARANTINE,
        Disposition::Reject => mailauth_disposition::MAILAUTH_DISPOSITION_REJECT,
        _ => mailauth_disposition::MAILAUTH_DISPOSITION_NONE,
    }
}

/// The DMARC specification a check follows.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mailauth_dmarc_mode {
    /// RFC 9989 (the default): the DNS Tree Walk, `np`, `psd`, `t`.
    MAILAUTH_DMARC_MODE_RFC9989 = 0,
    /// RFC 7489: the Public Suffix List, `pct` sampling.
    MAILAUTH_DMARC_MODE_RFC7489 = 1,
}

/// The DMARC settings of `mode` (a `mailauth_dmarc_mode`).
pub(crate) fn dmarc_config(mode: u32) -> Result<dmarc::Config, mailauth_status> {
    let mode = match mode {
        m if m == mailauth_dmarc_mode::MAILAUTH_DMARC_MODE_RFC9989 as u32 => dmarc::Mode::Rfc9989,
        m if m == mailauth_dmarc_mode::MAILAUTH_DMARC_MODE_RFC7489 as u32 => dmarc::Mode::Rfc7489,
        _ => return Err(MAILAUTH_INVALID_ARGUMENT),
    };
    Ok(dmarc::Config {
        mode,
        ..dmarc::Config::default()
    })
}

/// Creates a DMARC check for the Author Domain `author_domain` (the domain
/// of the message's From address) with the message's SPF outcome (MAIL FROM
/// identity; NULL when SPF was not checked) and DKIM outcome (NULL when not
/// checked), in the RFC 9989 mode, the policy always applied. The check
/// looks up the policy and the Organizational Domains relaxed alignment
/// needs, then evaluates; take the outcome with
/// [`mailauth_check_dmarc_outcome`]. The outcomes are copied.
///
/// `MAILAUTH_INVALID_ARGUMENT` when `author_domain` is not a domain name.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_check_new(
    author_domain: *const c_char,
    spf: *const mailauth_spf_outcome,
    dkim: *const mailauth_dkim_outcome,
    out: *mut *mut mailauth_check,
) -> mailauth_status {
    mailauth_dmarc_check_new_with(
        author_domain,
        spf,
        dkim,
        mailauth_dmarc_mode::MAILAUTH_DMARC_MODE_RFC9989 as u32,
        0,
        out,
    )
}

/// As [`mailauth_dmarc_check_new`], in `mode` (a `mailauth_dmarc_mode`), with `sample` (0 to 99) the
/// random draw for the `pct` tag of the RFC 7489 mode: the policy applies
/// fully when `sample` is below `pct` (0 always applies it). The library
/// draws no random numbers itself.
///
/// `MAILAUTH_INVALID_ARGUMENT` when `author_domain` is not a domain name,
/// `mode` is unknown or `sample` is above 99.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_check_new_with(
    author_domain: *const c_char,
    spf: *const mailauth_spf_outcome,
    dkim: *const mailauth_dkim_outcome,
    mode: u32,
    sample: u8,
    out: *mut *mut mailauth_check,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `author_domain` is NULL or NUL-terminated.
        let author = tri!(unsafe { text(author_domain) });
        let author = tri!(Name::new(author).map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        let sample = tri!(dmarc::Sample::new(sample).map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        let config = tri!(dmarc_config(mode));
        // SAFETY: `spf` is NULL or a live outcome (NULL means no SPF).
        let spf = unsafe { spf.as_ref() }.and_then(|o| SpfAuth::from_outcome(&o.outcome));
        // SAFETY: `dkim` is NULL or a live outcome (NULL means no DKIM).
        let dkim = unsafe { dkim.as_ref() }
            .map(|o| DkimAuth::from_verification(&o.outcome))
            .unwrap_or_default();
        let check = dmarc::Check::from_author_domain(&author, &config)
            .with_spf(spf)
            .with_dkim(dkim)
            .with_sample(sample);
        out.write(into_handle(mailauth_check::new(check)))
    })
}

impl From<dmarc::Outcome> for Outcome {
    fn from(outcome: dmarc::Outcome) -> Outcome {
        Outcome::Dmarc(Box::new(outcome))
    }
}

/// The outcome of DMARC: result, policy, disposition.
///
/// Thread-safety: immutable; may be read from several threads at once.
pub struct mailauth_dmarc_outcome {
    pub(crate) outcome: dmarc::Outcome,
}

/// As [`mailauth_dmarc_check_new_with`], with the DMARC settings of a
/// settings file (`[dmarc]`: mode, public suffix list, tree-walk and record
/// limits, strict records).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_check_new_with_settings(
    settings: *const crate::session::mailauth_settings,
    author_domain: *const c_char,
    spf: *const mailauth_spf_outcome,
    dkim: *const mailauth_dkim_outcome,
    sample: u8,
    out: *mut *mut mailauth_check,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `settings` is NULL or live settings.
        let settings = tri!(unsafe { borrow(settings) }).settings();
        // SAFETY: `author_domain` is NULL or NUL-terminated.
        let author = tri!(unsafe { text(author_domain) });
        let author = tri!(Name::new(author).map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        let sample = tri!(dmarc::Sample::new(sample).map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        // SAFETY: `spf` is NULL or a live outcome (NULL means no SPF).
        let spf = unsafe { spf.as_ref() }.and_then(|o| SpfAuth::from_outcome(&o.outcome));
        // SAFETY: `dkim` is NULL or a live outcome (NULL means no DKIM).
        let dkim = unsafe { dkim.as_ref() }
            .map(|o| DkimAuth::from_verification(&o.outcome))
            .unwrap_or_default();
        let check = dmarc::Check::from_author_domain(&author, &settings.inbound_config().dmarc)
            .with_spf(spf)
            .with_dkim(dkim)
            .with_sample(sample);
        out.write(into_handle(mailauth_check::new(check)))
    })
}

/// Takes the outcome of a finished DMARC check into `*out` (a new handle,
/// freed with [`mailauth_dmarc_outcome_free`]). `MAILAUTH_NOT_DONE` before
/// the check finished, `MAILAUTH_WRONG_KIND` for another kind of check.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_check_dmarc_outcome(
    check: *const mailauth_check,
    out: *mut *mut mailauth_dmarc_outcome,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `check` is NULL or a live check not mutated during the call.
        let check = tri!(unsafe { borrow(check) });
        match tri!(check.outcome()) {
            Outcome::Dmarc(outcome) => out.write(into_handle(mailauth_dmarc_outcome {
                outcome: (**outcome).clone(),
            })),
            _ => MAILAUTH_WRONG_KIND,
        }
    })
}

/// Frees a DMARC outcome. NULL is a no-op; freeing twice is undefined
/// behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_free(outcome: *mut mailauth_dmarc_outcome) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(outcome) }
}

fn dmarc_outcome<'a>(
    outcome: *const mailauth_dmarc_outcome,
) -> Result<&'a dmarc::Outcome, mailauth_status> {
    // SAFETY: `outcome` is NULL or a live outcome (contract of the callers).
    unsafe { borrow(outcome) }.map(|o| &o.outcome)
}

/// The DMARC result.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_result(
    outcome: *const mailauth_dmarc_outcome,
    result: *mut mailauth_dmarc_result,
) -> mailauth_status {
    use mailauth_dmarc_result::*;
    read!(outcome = dmarc_outcome(outcome), result => result.write(match outcome.result {
        DmarcResult::Pass => MAILAUTH_DMARC_PASS,
        DmarcResult::Fail => MAILAUTH_DMARC_FAIL,
        DmarcResult::None => MAILAUTH_DMARC_NONE,
        DmarcResult::TempError => MAILAUTH_DMARC_TEMPERROR,
        // PermError, and any result a later core adds.
        _ => MAILAUTH_DMARC_PERMERROR,
    }))
}

/// The DMARC result's name (`"pass"`, `"fail"`, ...) as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_result_name(
    outcome: *const mailauth_dmarc_outcome,
    name: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = dmarc_outcome(outcome), name => give_string(name, outcome.result.as_str()))
}

/// What DMARC asks the receiver to do (`MAILAUTH_DISPOSITION_NONE` without
/// a policy, or when the domain is testing its policy).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_disposition(
    outcome: *const mailauth_dmarc_outcome,
    result: *mut mailauth_disposition,
) -> mailauth_status {
    read!(outcome = dmarc_outcome(outcome), result => result.write(disposition(outcome.disposition)))
}

/// The published policy that applied (`"none"`, `"quarantine"`,
/// `"reject"`), as a new string. `MAILAUTH_ABSENT` when none applied.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_policy(
    outcome: *const mailauth_dmarc_outcome,
    policy: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = dmarc_outcome(outcome), policy => {
        give_optional(policy, outcome.policy.map(|p| p.as_str()))
    })
}

/// Which tag of the record gave the policy (`"p"`, `"sp"`, `"np"`, or
/// `"broken-record"` for a record without a valid `p` read as `p=none`),
/// as a new string. `MAILAUTH_ABSENT` when no policy applied.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_policy_source(
    outcome: *const mailauth_dmarc_outcome,
    source: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = dmarc_outcome(outcome), source => {
        give_optional(source, outcome.policy_source.map(|p| p.as_str()))
    })
}

/// The domain whose DMARC record applied, as a new string.
/// `MAILAUTH_ABSENT` when no record applied.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_policy_domain(
    outcome: *const mailauth_dmarc_outcome,
    domain: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = dmarc_outcome(outcome), domain => {
        give_optional(domain, outcome.policy_domain.as_ref().map(|n| n.as_str()))
    })
}

/// The Author Domain, as a new string. `MAILAUTH_ABSENT` when the From
/// field gave none.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_author_domain(
    outcome: *const mailauth_dmarc_outcome,
    domain: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = dmarc_outcome(outcome), domain => {
        give_optional(domain, outcome.author_domain.as_ref().map(|n| n.as_str()))
    })
}

/// The Organizational Domain of the Author Domain, as a new string.
/// `MAILAUTH_ABSENT` when not known.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_organizational_domain(
    outcome: *const mailauth_dmarc_outcome,
    domain: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = dmarc_outcome(outcome), domain => {
        give_optional(domain, outcome.organizational_domain.as_ref().map(|n| n.as_str()))
    })
}

/// How many identifiers aligned and passed (read each with
/// [`mailauth_dmarc_outcome_aligned`]).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_aligned_count(
    outcome: *const mailauth_dmarc_outcome,
    count: *mut usize,
) -> mailauth_status {
    read!(outcome = dmarc_outcome(outcome), count => count.write(outcome.aligned().len()))
}

/// Aligned identifier `index`: `*method` is `"spf"` or `"dkim"` and
/// `*domain` the domain, both new strings (written together).
/// `MAILAUTH_INVALID_ARGUMENT` for an index out of range.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_aligned(
    outcome: *const mailauth_dmarc_outcome,
    index: usize,
    method: *mut *mut c_char,
    domain: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = dmarc_outcome(outcome), domain => {
        let method = tri!(Out::new(method));
        let (name, identifier) = match outcome.aligned().get(index) {
            Some(AlignedIdentifier::Spf(name)) => ("spf", name),
            Some(AlignedIdentifier::Dkim(name)) => ("dkim", name),
            _ => return MAILAUTH_INVALID_ARGUMENT,
        };
        let status = give_string(domain, identifier.as_str());
        if status == MAILAUTH_OK {
            give_string(method, name)
        } else {
            status
        }
    })
}

/// Why a failing message got a milder disposition than its policy:
/// `"no"`, `"test-mode"` (the record has `t=y`) or `"not-sampled"` (RFC
/// 7489 mode, outside `pct`), as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_testing(
    outcome: *const mailauth_dmarc_outcome,
    testing: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = dmarc_outcome(outcome), testing => give_string(testing, outcome.testing.as_str()))
}

/// A short explanation of the result (for logs), as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_reason(
    outcome: *const mailauth_dmarc_outcome,
    reason: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = dmarc_outcome(outcome), reason => give_string(reason, &outcome.reason.to_string()))
}

/// The reason type of a local policy override (`"local_policy"`,
/// `"trusted_forwarder"`, `"mailing_list"`, `"forwarded"`, `"other"`, as
/// in aggregate reports), as a new string: the disposition was set aside,
/// for instance because a trusted ARC sealer vouched for the message.
/// `MAILAUTH_ABSENT` when the policy was not overridden.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_override_type(
    outcome: *const mailauth_dmarc_outcome,
    kind: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = dmarc_outcome(outcome), kind => {
        give_optional(kind, outcome.policy_override.as_ref().map(|o| o.kind.as_str()))
    })
}

/// What a local policy override rests on (for ARC: `"arc=pass as[2].d=...
/// as[2].s=..."`), as a new string. `MAILAUTH_ABSENT` when the policy was
/// not overridden.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_override_comment(
    outcome: *const mailauth_dmarc_outcome,
    comment: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = dmarc_outcome(outcome), comment => {
        give_optional(comment, outcome.policy_override.as_ref().map(|o| o.comment.as_str()))
    })
}

/// The value of tag `tag` (`"p"`, `"sp"`, `"np"`, `"psd"`, `"t"`,
/// `"adkim"`, `"aspf"`, `"rua"`, `"ruf"`, `"fo"`, `"pct"`, `"rf"`, `"ri"`)
/// of the policy record that applied, as a new string: what applies,
/// defaults included (lists comma-separated, `fo` options colon-separated).
/// `MAILAUTH_ABSENT` when no record applied or the tag (`p`, `sp`, `np`)
/// is absent; `MAILAUTH_INVALID_ARGUMENT` for another tag name.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dmarc_outcome_record_tag(
    outcome: *const mailauth_dmarc_outcome,
    tag: *const c_char,
    value: *mut *mut c_char,
) -> mailauth_status {
    guard(|| {
        let value = tri!(Out::new(value));
        // SAFETY: NULL or a NUL-terminated string (contract).
        let tag = tri!(unsafe { text(tag) });
        let outcome = tri!(dmarc_outcome(outcome));
        const TAGS: &[&str] = &[
            "p", "sp", "np", "psd", "t", "adkim", "aspf", "rua", "ruf", "fo", "pct", "rf", "ri",
        ];
        if !TAGS.contains(&tag) {
            return MAILAUTH_INVALID_ARGUMENT;
        }
        match outcome.record.as_ref().and_then(|r| r.tag_value(tag)) {
            Some(text) => give_string(value, &text),
            None => MAILAUTH_ABSENT,
        }
    })
}
