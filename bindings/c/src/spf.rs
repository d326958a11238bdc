//! SPF checks (RFC 7208).

use std::ffi::c_char;
use std::net::IpAddr;

use mailauth::spf::{self, SpfResult};

use crate::check::{Outcome, mailauth_check};
use crate::ffi::{Out, borrow, free_handle, guard, into_handle, read, text, tri};
use crate::status::mailauth_status::{self, *};
use crate::string::{give_optional, give_string};

/// An SPF result (RFC 7208 §2.6).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mailauth_spf_result {
    /// No SPF record, or no valid domain to check.
    MAILAUTH_SPF_NONE = 0,
    /// The domain makes no assertion about the client.
    MAILAUTH_SPF_NEUTRAL = 1,
    /// The client is authorized.
    MAILAUTH_SPF_PASS = 2,
    /// The client is not authorized.
    MAILAUTH_SPF_FAIL = 3,
    /// The client is probably not authorized.
    MAILAUTH_SPF_SOFTFAIL = 4,
    /// A transient DNS error: try again later.
    MAILAUTH_SPF_TEMPERROR = 5,
    /// The domain's records are broken.
    MAILAUTH_SPF_PERMERROR = 6,
}

pub(crate) fn spf_result(result: SpfResult) -> mailauth_spf_result {
    use mailauth_spf_result::*;
    match result {
        SpfResult::None => MAILAUTH_SPF_NONE,
        SpfResult::Neutral => MAILAUTH_SPF_NEUTRAL,
        SpfResult::Pass => MAILAUTH_SPF_PASS,
        SpfResult::Fail => MAILAUTH_SPF_FAIL,
        SpfResult::SoftFail => MAILAUTH_SPF_SOFTFAIL,
        SpfResult::TempError => MAILAUTH_SPF_TEMPERROR,
        // PermError, and any result a later core adds.
        _ => MAILAUTH_SPF_PERMERROR,
    }
}

/// The SPF identity a check examined (RFC 7208 §2.3, §2.4).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mailauth_spf_identity {
    /// The MAIL FROM address (or `postmaster@<helo>` for a bounce).
    MAILAUTH_SPF_IDENTITY_MAIL_FROM = 0,
    /// The HELO/EHLO name.
    MAILAUTH_SPF_IDENTITY_HELO = 1,
}

/// The outcome of an SPF check, taken from a finished check with
/// [`mailauth_check_spf_outcome`].
///
/// Thread-safety: immutable; may be read from several threads at once.
pub struct mailauth_spf_outcome {
    pub(crate) outcome: spf::Outcome,
}

fn client_ip(ip: *const c_char) -> Result<IpAddr, mailauth_status> {
    // SAFETY: `ip` is NULL or NUL-terminated (contract of the callers).
    let ip = unsafe { text(ip) }?;
    ip.parse().map_err(|_| MAILAUTH_INVALID_ARGUMENT)
}

/// Creates an SPF check of the MAIL FROM identity: `client_ip` is the SMTP
/// client's address (`"192.0.2.1"`, `"2001:db8::1"`), `helo` the HELO/EHLO
/// name, `mail_from` the MAIL FROM address without angle brackets (`""` for
/// a bounce, which checks `postmaster@<helo>`), `now` the time in seconds
/// since the Unix epoch (for the `%{t}` macro). Free the check with
/// [`crate::mailauth_check_free`].
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_check_new(
    client_ip: *const c_char,
    helo: *const c_char,
    mail_from: *const c_char,
    now: u64,
    out: *mut *mut mailauth_check,
) -> mailauth_status {
    mail_from_check(
        &spf::Config::default(),
        client_ip,
        helo,
        mail_from,
        now,
        out,
    )
}

/// An SPF check of the MAIL FROM identity with `config`.
fn mail_from_check(
    config: &spf::Config,
    client_ip: *const c_char,
    helo: *const c_char,
    mail_from: *const c_char,
    now: u64,
    out: *mut *mut mailauth_check,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        let ip = tri!(self::client_ip(client_ip));
        // SAFETY: `helo` and `mail_from` are NULL or NUL-terminated
        // (contract of the exported functions).
        let helo = tri!(unsafe { text(helo) });
        // SAFETY: as above.
        let mail_from = tri!(unsafe { text(mail_from) });
        let input = spf::Input::mail_from(ip, helo, mail_from).at(now);
        let check = spf::Check::new(&input, config);
        out.write(into_handle(mailauth_check::new(check)))
    })
}

/// As [`mailauth_spf_check_new`], with the SPF limits of a settings file
/// (`[spf]`: DNS-term and void-lookup limits and counting, MX and PTR
/// names, terms, explanations, the receiver name for `%{r}`).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_check_new_with_settings(
    settings: *const crate::session::mailauth_settings,
    client_ip: *const c_char,
    helo: *const c_char,
    mail_from: *const c_char,
    now: u64,
    out: *mut *mut mailauth_check,
) -> mailauth_status {
    // SAFETY: `settings` is NULL or live settings.
    match unsafe { crate::ffi::borrow(settings) } {
        Ok(settings) => mail_from_check(
            &settings.settings().inbound_config().spf,
            client_ip,
            helo,
            mail_from,
            now,
            out,
        ),
        Err(status) => status,
    }
}

/// Creates an SPF check of the HELO identity (`postmaster@<helo>`); see
/// [`mailauth_spf_check_new`].
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_check_new_helo(
    client_ip: *const c_char,
    helo: *const c_char,
    now: u64,
    out: *mut *mut mailauth_check,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        let ip = tri!(self::client_ip(client_ip));
        // SAFETY: `helo` is NULL or NUL-terminated.
        let helo = tri!(unsafe { text(helo) });
        let input = spf::Input::helo(ip, helo).at(now);
        let check = spf::Check::new(&input, &spf::Config::default());
        out.write(into_handle(mailauth_check::new(check)))
    })
}

/// Takes the outcome of a finished SPF check into `*out` (a new handle,
/// freed with [`mailauth_spf_outcome_free`]; the check stays usable).
/// `MAILAUTH_NOT_DONE` before the check finished, `MAILAUTH_WRONG_KIND` for
/// another kind of check.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_check_spf_outcome(
    check: *const mailauth_check,
    out: *mut *mut mailauth_spf_outcome,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `check` is NULL or a live check not mutated during the call.
        let check = tri!(unsafe { borrow(check) });
        match tri!(check.outcome()) {
            Outcome::Spf(outcome) => out.write(into_handle(mailauth_spf_outcome {
                outcome: outcome.clone(),
            })),
            #[allow(unreachable_patterns)]
            _ => MAILAUTH_WRONG_KIND,
        }
    })
}

/// Frees an SPF outcome. NULL is a no-op; freeing twice is undefined
/// behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_outcome_free(outcome: *mut mailauth_spf_outcome) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(outcome) }
}

fn spf_outcome<'a>(
    outcome: *const mailauth_spf_outcome,
) -> Result<&'a spf::Outcome, mailauth_status> {
    // SAFETY: `outcome` is NULL or a live outcome (contract of the callers).
    unsafe { borrow(outcome) }.map(|o| &o.outcome)
}

/// The SPF result.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_outcome_result(
    outcome: *const mailauth_spf_outcome,
    result: *mut mailauth_spf_result,
) -> mailauth_status {
    read!(outcome = spf_outcome(outcome), result => result.write(spf_result(outcome.result)))
}

/// The SPF result's name (`"pass"`, `"softfail"`, ...) as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_outcome_result_name(
    outcome: *const mailauth_spf_outcome,
    name: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = spf_outcome(outcome), name => give_string(name, outcome.result.as_str()))
}

/// Which identity was checked.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_outcome_identity(
    outcome: *const mailauth_spf_outcome,
    identity: *mut mailauth_spf_identity,
) -> mailauth_status {
    read!(outcome = spf_outcome(outcome), identity => identity.write(match outcome.identity {
        spf::Identity::Helo => mailauth_spf_identity::MAILAUTH_SPF_IDENTITY_HELO,
        // MailFrom, and any identity a later core adds.
        _ => mailauth_spf_identity::MAILAUTH_SPF_IDENTITY_MAIL_FROM,
    }))
}

/// The SMTP client's address as checked (`"192.0.2.1"`, `"2001:db8::1"`),
/// as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_outcome_client_ip(
    outcome: *const mailauth_spf_outcome,
    ip: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = spf_outcome(outcome), ip => give_string(ip, &outcome.client_ip.to_string()))
}

/// The HELO/EHLO name given to the check, as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_outcome_helo(
    outcome: *const mailauth_spf_outcome,
    helo: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = spf_outcome(outcome), helo => give_string(helo, &outcome.helo))
}

/// The sender checked (`local-part@domain`; `postmaster@<helo>` for the
/// HELO identity and for a bounce), as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_outcome_sender(
    outcome: *const mailauth_spf_outcome,
    sender: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = spf_outcome(outcome), sender => give_string(sender, &outcome.sender))
}

/// Why the check gave its result (`"mechanism -all matched in
/// example.org"`), as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_outcome_reason(
    outcome: *const mailauth_spf_outcome,
    reason: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = spf_outcome(outcome), reason => give_string(reason, &outcome.reason.to_string()))
}

/// The domain checked, as a new string.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_outcome_domain(
    outcome: *const mailauth_spf_outcome,
    domain: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = spf_outcome(outcome), domain => give_string(domain, &outcome.domain))
}

/// For a `fail`: the domain's explanation (`exp=`) or the default one, as a
/// new string. `MAILAUTH_ABSENT` when there is none.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_outcome_explanation(
    outcome: *const mailauth_spf_outcome,
    explanation: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = spf_outcome(outcome), explanation => {
        give_optional(explanation, outcome.explanation.as_deref())
    })
}

/// The `Received-SPF` header field (RFC 7208 §9.1) naming `receiver` as the
/// host that ran the check, as a new string: folded with CRLF TAB, without
/// the final CRLF.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_spf_outcome_received_spf(
    outcome: *const mailauth_spf_outcome,
    receiver: *const c_char,
    field: *mut *mut c_char,
) -> mailauth_status {
    read!(outcome = spf_outcome(outcome), field => {
        // SAFETY: `receiver` is NULL or NUL-terminated.
        let receiver = tri!(unsafe { text(receiver) });
        give_string(field, &outcome.received_spf(receiver))
    })
}
