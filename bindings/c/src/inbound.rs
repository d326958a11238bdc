//! The inbound pipeline: SPF, DKIM, ARC and DMARC for a received message, with
//! the Authentication-Results field to prepend.

use std::ffi::c_char;

use mailauth::dmarc::Sample;
use mailauth::dns::Name;
use mailauth::inbound::{Config, Connection, ExistingField, Inbound, Network, Verdict};

use crate::arc::mailauth_arc_outcome;
use crate::check::{Outcome, mailauth_check};
use crate::dkim::mailauth_dkim_outcome;
use crate::dmarc::{mailauth_disposition, mailauth_dmarc_outcome};
use crate::ffi::{
    Out, borrow, borrow_mut, bytes, free_handle, guard, into_handle, read, text, tri,
};
use crate::spf::mailauth_spf_outcome;
use crate::status::mailauth_status::{self, *};
use crate::string::{give_optional, give_string};

/// Reads one received message for the pipeline: feed it in chunks with
/// [`mailauth_inbound_feed`], then [`mailauth_inbound_finish`] gives the
/// check that runs SPF (HELO and MAIL FROM), DKIM and DMARC.
///
/// Thread-safety: not thread-safe; use it from one thread at a time (it may
/// move between threads).
pub struct mailauth_inbound {
    state: InboundState,
}

enum InboundState {
    /// Created; settings may still change.
    Setup {
        connection: Box<Connection>,
        config: Box<Config>,
        dmarc_sample: Sample,
    },
    /// Fed at least once.
    Reading(Box<Inbound>),
    /// Finished.
    Finished,
}

impl mailauth_inbound {
    /// The reader, made from the settings on first use.
    fn reader(&mut self) -> Option<&mut Inbound> {
        if let InboundState::Setup {
            connection,
            config,
            dmarc_sample,
        } = &self.state
        {
            let reader = Inbound::new(connection, config).with_dmarc_sample(*dmarc_sample);
            self.state = InboundState::Reading(Box::new(reader));
        }
        match &mut self.state {
            InboundState::Reading(reader) => Some(reader),
            _ => None,
        }
    }

    /// The settings, while they may change.
    pub(crate) fn setup(&mut self) -> Result<(&mut Connection, &mut Config), mailauth_status> {
        match &mut self.state {
            InboundState::Setup {
                connection, config, ..
            } => Ok((connection, config)),
            _ => Err(MAILAUTH_TOO_LATE),
        }
    }
}

/// Starts the pipeline for one message: `client_ip`, `helo` and `mail_from`
/// (without angle brackets, `""` for a bounce) are the SMTP facts,
/// `authserv_id` names this host in the Authentication-Results field (and
/// existing fields claiming it are reported as forged), `now` is the time in
/// seconds since the Unix epoch.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_new(
    client_ip: *const c_char,
    helo: *const c_char,
    mail_from: *const c_char,
    authserv_id: *const c_char,
    now: u64,
    out: *mut *mut mailauth_inbound,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: the strings are NULL or NUL-terminated.
        let ip = tri!(unsafe { text(client_ip) });
        let ip = tri!(ip.parse().map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        // SAFETY: as above.
        let helo = tri!(unsafe { text(helo) });
        // SAFETY: as above.
        let mail_from = tri!(unsafe { text(mail_from) });
        // SAFETY: as above.
        let authserv_id = tri!(unsafe { text(authserv_id) });
        let connection = Connection::new(ip, helo, mail_from);
        let config = Config::new(authserv_id, now);
        out.write(into_handle(mailauth_inbound {
            state: InboundState::Setup {
                connection: Box::new(connection),
                config: Box::new(config),
                dmarc_sample: Sample::ALWAYS,
            },
        }))
    })
}

/// Says whether the client authenticated (SMTP AUTH). Mail from
/// authenticated clients is not checked (the verdict then has no
/// Authentication-Results field). Before the first feed only, else
/// `MAILAUTH_TOO_LATE`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_set_authenticated(
    inbound: *mut mailauth_inbound,
    authenticated: bool,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `inbound` is NULL or a live handle used by this thread.
        let inbound = tri!(unsafe { borrow_mut(inbound) });
        let (connection, _) = tri!(inbound.setup());
        connection.authenticated = authenticated;
        MAILAUTH_OK
    })
}

/// Turns the SPF check of the HELO identity on or off (default on). Before
/// the first feed only, else `MAILAUTH_TOO_LATE`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_set_check_helo(
    inbound: *mut mailauth_inbound,
    check_helo: bool,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `inbound` is NULL or a live handle used by this thread.
        let inbound = tri!(unsafe { borrow_mut(inbound) });
        let (_, config) = tri!(inbound.setup());
        config.check_helo = check_helo;
        MAILAUTH_OK
    })
}

/// Sets the DMARC `mode` (a `mailauth_dmarc_mode`; default
/// `MAILAUTH_DMARC_MODE_RFC9989`) and `sample` (0 to 99; default 0), the
/// random draw for the `pct` tag of the RFC 7489 mode: the policy applies
/// fully when `sample` is below `pct`. Before the first feed only, else
/// `MAILAUTH_TOO_LATE`; `MAILAUTH_INVALID_ARGUMENT` for an unknown mode or
/// a sample above 99.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_set_dmarc(
    inbound: *mut mailauth_inbound,
    mode: u32,
    sample: u8,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `inbound` is NULL or a live handle used by this thread.
        let inbound = tri!(unsafe { borrow_mut(inbound) });
        let dmarc = tri!(crate::dmarc::dmarc_config(mode));
        let sample = tri!(Sample::new(sample).map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        match &mut inbound.state {
            InboundState::Setup {
                config,
                dmarc_sample,
                ..
            } => {
                config.dmarc = dmarc;
                *dmarc_sample = sample;
                MAILAUTH_OK
            }
            _ => MAILAUTH_TOO_LATE,
        }
    })
}

/// Uses the check settings of a settings file: `[spf]`, `[verify]`,
/// `[dmarc]` (limits, key sizes, mode, public suffix list) and `[bimi]`
/// (see [`crate::mailauth_inbound_set_bimi`]), whether HELO is
/// checked, and the trusted authserv-ids; the authserv-id given to
/// [`mailauth_inbound_new`] and the time stay. Who is not checked stays as
/// set on this handle (the settings' internal hosts are the MTA session's).
/// Before the first feed only, else `MAILAUTH_TOO_LATE`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_use_settings(
    inbound: *mut mailauth_inbound,
    settings: *const crate::session::mailauth_settings,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `inbound` is NULL or a live handle used by this thread.
        let inbound = tri!(unsafe { borrow_mut(inbound) });
        // SAFETY: `settings` is NULL or live settings.
        let settings = tri!(unsafe { borrow(settings) }).settings();
        match &mut inbound.state {
            InboundState::Setup { config, .. } => {
                settings.apply_checks(config);
                MAILAUTH_OK
            }
            _ => MAILAUTH_TOO_LATE,
        }
    })
}

/// Adds a network (`"192.0.2.0/24"`, `"2001:db8::/32"`, or one address)
/// whose clients are not checked. Before the first feed only, else
/// `MAILAUTH_TOO_LATE`; `MAILAUTH_INVALID_ARGUMENT` when it does not parse.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_add_internal_network(
    inbound: *mut mailauth_inbound,
    network: *const c_char,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `inbound` is NULL or a live handle used by this thread.
        let inbound = tri!(unsafe { borrow_mut(inbound) });
        // SAFETY: `network` is NULL or NUL-terminated.
        let network = tri!(unsafe { text(network) });
        let network: Network = tri!(network.parse().map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        let (_, config) = tri!(inbound.setup());
        config.internal_networks.push(network);
        MAILAUTH_OK
    })
}

/// Adds an authserv-id whose Authentication-Results fields in the message
/// are trusted (as OpenDMARC's `TrustedAuthservIDs`). Before the first feed
/// only, else `MAILAUTH_TOO_LATE`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_add_trusted_authserv_id(
    inbound: *mut mailauth_inbound,
    authserv_id: *const c_char,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `inbound` is NULL or a live handle used by this thread.
        let inbound = tri!(unsafe { borrow_mut(inbound) });
        // SAFETY: `authserv_id` is NULL or NUL-terminated.
        let authserv_id = tri!(unsafe { text(authserv_id) });
        let (_, config) = tri!(inbound.setup());
        config.trusted_authserv_ids.push(authserv_id.to_owned());
        MAILAUTH_OK
    })
}

/// Turns ARC chain validation on or off (default off). When on, every
/// checked message's chain is validated with the default ARC settings (or
/// those of [`mailauth_inbound_use_settings`]) and `arc=` goes into the
/// Authentication-Results field. Before the first feed only, else
/// `MAILAUTH_TOO_LATE`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_set_arc(
    inbound: *mut mailauth_inbound,
    enabled: bool,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `inbound` is NULL or a live handle used by this thread.
        let inbound = tri!(unsafe { borrow_mut(inbound) });
        let (_, config) = tri!(inbound.setup());
        if !enabled {
            config.arc = None;
        } else if config.arc.is_none() {
            config.arc = Some(mailauth::arc::Config::default());
        }
        MAILAUTH_OK
    })
}

/// Adds a trusted ARC sealer (an ARC-Seal `d=` domain): when a message's
/// chain passes and a set this domain sealed recorded `dmarc=pass`, a DMARC
/// failure is set aside (the DMARC outcome then has a policy override, see
/// `mailauth_dmarc_outcome_override_type`). Needs ARC validation on
/// ([`mailauth_inbound_set_arc`]). Before the first feed only, else
/// `MAILAUTH_TOO_LATE`; `MAILAUTH_INVALID_ARGUMENT` when `domain` is not a
/// domain name.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_add_trusted_arc_sealer(
    inbound: *mut mailauth_inbound,
    domain: *const c_char,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `inbound` is NULL or a live handle used by this thread.
        let inbound = tri!(unsafe { borrow_mut(inbound) });
        // SAFETY: `domain` is NULL or NUL-terminated.
        let domain = tri!(unsafe { text(domain) });
        let domain = tri!(Name::new(domain).map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        let (_, config) = tri!(inbound.setup());
        config.trusted_arc_sealers.push(domain);
        MAILAUTH_OK
    })
}

/// Feeds the next `len` bytes of the message (as received, split
/// anywhere). `MAILAUTH_ALREADY_FINISHED` after [`mailauth_inbound_finish`].
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_feed(
    inbound: *mut mailauth_inbound,
    data: *const u8,
    len: usize,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `inbound` is NULL or a live handle used by this thread.
        let inbound = tri!(unsafe { borrow_mut(inbound) });
        // SAFETY: `data` points to `len` readable bytes (contract).
        let data = tri!(unsafe { bytes(data, len) });
        match inbound.reader() {
            Some(reading) => {
                reading.feed(data);
                MAILAUTH_OK
            }
            None => MAILAUTH_ALREADY_FINISHED,
        }
    })
}

/// Ends the message and gives in `*out` the check that runs the pipeline
/// (a new handle, freed with `mailauth_check_free`; take its outcome with
/// [`mailauth_check_inbound_outcome`]). Feeding or finishing again gives
/// `MAILAUTH_ALREADY_FINISHED`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_finish(
    inbound: *mut mailauth_inbound,
    out: *mut *mut mailauth_check,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `inbound` is NULL or a live handle used by this thread.
        let inbound = tri!(unsafe { borrow_mut(inbound) });
        if inbound.reader().is_none() {
            return MAILAUTH_ALREADY_FINISHED;
        }
        match std::mem::replace(&mut inbound.state, InboundState::Finished) {
            InboundState::Reading(reading) => {
                out.write(into_handle(mailauth_check::new(reading.finish())))
            }
            _ => MAILAUTH_ALREADY_FINISHED,
        }
    })
}

/// Frees a pipeline handle. NULL is a no-op; freeing twice is undefined
/// behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_free(inbound: *mut mailauth_inbound) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(inbound) }
}

/// The verdict of the inbound pipeline.
///
/// Thread-safety: immutable; may be read from several threads at once.
pub struct mailauth_inbound_outcome {
    verdict: Verdict,
}

/// Takes the verdict of a finished pipeline check into `*out` (a new handle,
/// freed with [`mailauth_inbound_outcome_free`]). `MAILAUTH_NOT_DONE` before
/// the check finished, `MAILAUTH_WRONG_KIND` for another kind of check.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_check_inbound_outcome(
    check: *const mailauth_check,
    out: *mut *mut mailauth_inbound_outcome,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `check` is NULL or a live check not mutated during the call.
        let check = tri!(unsafe { borrow(check) });
        match tri!(check.outcome()) {
            Outcome::Inbound(verdict) => out.write(into_handle(mailauth_inbound_outcome {
                verdict: (**verdict).clone(),
            })),
            _ => MAILAUTH_WRONG_KIND,
        }
    })
}

/// Frees a pipeline verdict. NULL is a no-op; freeing twice is undefined
/// behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_free(outcome: *mut mailauth_inbound_outcome) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(outcome) }
}

pub(crate) fn verdict<'a>(
    outcome: *const mailauth_inbound_outcome,
) -> Result<&'a Verdict, mailauth_status> {
    // SAFETY: `outcome` is NULL or a live verdict (contract of the callers).
    unsafe { borrow(outcome) }.map(|o| &o.verdict)
}

/// Why the message was not checked (`"authenticated client"`, `"internal
/// client"`, `"client in internal network 10.0.0.0/8"`), as a new string.
/// `MAILAUTH_ABSENT` when it was checked.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_skipped(
    outcome: *const mailauth_inbound_outcome,
    reason: *mut *mut c_char,
) -> mailauth_status {
    read!(verdict = verdict(outcome), reason => {
        give_optional(reason, verdict.skipped.as_ref().map(ToString::to_string).as_deref())
    })
}

/// The `Authentication-Results` field to prepend to the message, as a new
/// string: folded with CRLF, without the final CRLF. `MAILAUTH_ABSENT` when
/// the message was not checked.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_authentication_results(
    outcome: *const mailauth_inbound_outcome,
    field: *mut *mut c_char,
) -> mailauth_status {
    read!(verdict = verdict(outcome), field => give_optional(field, verdict.header_field().as_deref()))
}

/// What DMARC asks the receiver to do (`MAILAUTH_DISPOSITION_NONE` without
/// a DMARC policy, or when the domain is testing its policy).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_disposition(
    outcome: *const mailauth_inbound_outcome,
    disposition: *mut mailauth_disposition,
) -> mailauth_status {
    read!(verdict = verdict(outcome), disposition => {
        disposition.write(crate::dmarc::disposition(verdict.disposition))
    })
}

/// The DMARC outcome, as a new handle (freed with
/// `mailauth_dmarc_outcome_free`). `MAILAUTH_ABSENT` when DMARC was not
/// evaluated (the message was not checked).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_dmarc(
    outcome: *const mailauth_inbound_outcome,
    out: *mut *mut mailauth_dmarc_outcome,
) -> mailauth_status {
    read!(verdict = verdict(outcome), out => out.write_optional(verdict.dmarc.as_ref().map(|o| {
        into_handle(mailauth_dmarc_outcome { outcome: o.clone() })
    })))
}

/// The ARC outcome, as a new handle (freed with
/// `mailauth_arc_outcome_free`). `MAILAUTH_ABSENT` when the chain was not
/// validated (ARC validation off, or the message not checked).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_arc(
    outcome: *const mailauth_inbound_outcome,
    out: *mut *mut mailauth_arc_outcome,
) -> mailauth_status {
    read!(verdict = verdict(outcome), out => out.write_optional(verdict.arc.as_ref().map(|o| {
        into_handle(mailauth_arc_outcome { outcome: o.clone() })
    })))
}

/// The SPF outcome for the MAIL FROM identity, as a new handle (freed with
/// `mailauth_spf_outcome_free`). `MAILAUTH_ABSENT` when not checked.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_spf(
    outcome: *const mailauth_inbound_outcome,
    out: *mut *mut mailauth_spf_outcome,
) -> mailauth_status {
    read!(verdict = verdict(outcome), out => out.write_optional(verdict.spf_mail_from.as_ref().map(|o| {
        into_handle(mailauth_spf_outcome { outcome: o.clone() })
    })))
}

/// The SPF outcome for the HELO identity, as a new handle (freed with
/// `mailauth_spf_outcome_free`). `MAILAUTH_ABSENT` when not checked (the
/// message was skipped, or the HELO check is off).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_spf_helo(
    outcome: *const mailauth_inbound_outcome,
    out: *mut *mut mailauth_spf_outcome,
) -> mailauth_status {
    read!(verdict = verdict(outcome), out => out.write_optional(verdict.spf_helo.as_ref().map(|o| {
        into_handle(mailauth_spf_outcome { outcome: o.clone() })
    })))
}

/// The DKIM outcome (one result per signature), as a new handle (freed with
/// `mailauth_dkim_outcome_free`). `MAILAUTH_ABSENT` when not checked.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_dkim(
    outcome: *const mailauth_inbound_outcome,
    out: *mut *mut mailauth_dkim_outcome,
) -> mailauth_status {
    read!(verdict = verdict(outcome), out => out.write_optional(verdict.dkim.as_ref().map(|o| {
        into_handle(mailauth_dkim_outcome { outcome: o.clone() })
    })))
}

/// Why the header was not read whole (it went past the configured number
/// of fields or bytes), as a new string; `MAILAUTH_ABSENT` when it was.
/// Forgeries past the bound are not listed: an MTA should refuse such a
/// message.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_header_error(
    outcome: *const mailauth_inbound_outcome,
    error: *mut *mut c_char,
) -> mailauth_status {
    read!(verdict = verdict(outcome), error => {
        give_optional(error, verdict.header_error.map(|e| e.to_string()).as_deref())
    })
}

/// How many Authentication-Results fields came from trusted authserv-ids
/// (see [`mailauth_inbound_add_trusted_authserv_id`]).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_trusted_count(
    outcome: *const mailauth_inbound_outcome,
    count: *mut usize,
) -> mailauth_status {
    read!(verdict = verdict(outcome), count => count.write(verdict.trusted_results.len()))
}

/// Trusted Authentication-Results field `index`, as its value rendered
/// anew (`authserv-id; method=result ...`), as a new string.
/// `MAILAUTH_INVALID_ARGUMENT` for an index out of range.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_trusted_result(
    outcome: *const mailauth_inbound_outcome,
    index: usize,
    value: *mut *mut c_char,
) -> mailauth_status {
    read!(verdict = verdict(outcome), value => match verdict.trusted_results.get(index) {
        Some(results) => give_string(value, &results.to_header_value()),
        None => MAILAUTH_INVALID_ARGUMENT,
    })
}

/// How many existing Authentication-Results fields claim this host's
/// authserv-id: forgeries to remove before prepending ours (RFC 8601 §5).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_forged_count(
    outcome: *const mailauth_inbound_outcome,
    count: *mut usize,
) -> mailauth_status {
    read!(verdict = verdict(outcome), count => count.write(verdict.remove.len()))
}

fn forged<'a>(
    outcome: *const mailauth_inbound_outcome,
    index: usize,
) -> Result<&'a ExistingField, mailauth_status> {
    verdict(outcome)?
        .remove
        .get(index)
        .ok_or(MAILAUTH_INVALID_ARGUMENT)
}

/// Which Authentication-Results field forgery `index` is, counting those
/// fields from 1 at the top (the index a milter passes to
/// `smfi_chgheader`). `MAILAUTH_INVALID_ARGUMENT` for an index out of
/// range, here and in the other `mailauth_inbound_outcome_forged_*`
/// functions.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_forged_occurrence(
    outcome: *const mailauth_inbound_outcome,
    index: usize,
    occurrence: *mut usize,
) -> mailauth_status {
    read!(field = forged(outcome, index), occurrence => occurrence.write(field.occurrence))
}

/// The position of forgery `index` among all header fields, from 0 at the
/// top.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_forged_position(
    outcome: *const mailauth_inbound_outcome,
    index: usize,
    position: *mut usize,
) -> mailauth_status {
    read!(field = forged(outcome, index), position => position.write(field.position))
}

/// Forgery `index` as it appeared in the message, name included, without
/// the final line break: `*data` points to `*len` bytes owned by the
/// outcome (valid until it is freed; not NUL-terminated, not necessarily
/// UTF-8).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_forged_field(
    outcome: *const mailauth_inbound_outcome,
    index: usize,
    data: *mut *const u8,
    len: *mut usize,
) -> mailauth_status {
    guard(|| {
        let data = tri!(Out::new(data));
        let len = tri!(Out::new(len));
        let raw = tri!(forged(outcome, index)).field.raw();
        len.write(raw.len());
        data.write(raw.as_ptr())
    })
}
