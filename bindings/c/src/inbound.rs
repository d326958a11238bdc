//! The inbound pipeline: SPF, DKIM and DMARC for a received message, with
//! the Authentication-Results field to prepend.

use std::ffi::c_char;

use mailauth::inbound::{Config, Connection, Inbound, Network, Verdict};

use crate::check::{Outcome, mailauth_check};
use crate::dkim::mailauth_dkim_outcome;
use crate::dmarc::{mailauth_disposition, mailauth_dmarc_outcome};
use crate::ffi::{Out, borrow, borrow_mut, bytes, free_handle, guard, into_handle, text, tri};
use crate::spf::mailauth_spf_outcome;
use crate::status::mailauth_status::{self, *};
use crate::string::give_string;

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
    },
    /// Fed at least once.
    Reading(Box<Inbound>),
    /// Finished.
    Finished,
}

impl mailauth_inbound {
    /// The reader, made from the settings on first use.
    fn reader(&mut self) -> Option<&mut Inbound> {
        if let InboundState::Setup { connection, config } = &self.state {
            self.state = InboundState::Reading(Box::new(Inbound::new(connection, config)));
        }
        match &mut self.state {
            InboundState::Reading(reader) => Some(reader),
            _ => None,
        }
    }

    /// The settings, while they may change.
    fn setup(&mut self) -> Result<(&mut Connection, &mut Config), mailauth_status> {
        match &mut self.state {
            InboundState::Setup { connection, config } => Ok((connection, config)),
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

fn verdict<'a>(outcome: *const mailauth_inbound_outcome) -> Result<&'a Verdict, mailauth_status> {
    // SAFETY: `outcome` is NULL or a live verdict (contract of the callers).
    unsafe { borrow(outcome) }.map(|o| &o.verdict)
}

/// The `Authentication-Results` field to prepend to the message, as a new
/// string: folded with CRLF, without the final CRLF. `MAILAUTH_ABSENT` when
/// the message was not checked.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_authentication_results(
    outcome: *const mailauth_inbound_outcome,
    field: *mut *mut c_char,
) -> mailauth_status {
    guard(|| {
        let field = tri!(Out::new(field));
        let verdict = tri!(verdict(outcome));
        match verdict.header_field() {
            Some(text) => give_string(field, &text),
            None => MAILAUTH_ABSENT,
        }
    })
}

/// What DMARC asks the receiver to do (`MAILAUTH_DISPOSITION_NONE` without
/// a DMARC policy, or when the domain is testing its policy).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_disposition(
    outcome: *const mailauth_inbound_outcome,
    disposition: *mut mailauth_disposition,
) -> mailauth_status {
    guard(|| {
        let disposition = tri!(Out::new(disposition));
        let verdict = tri!(verdict(outcome));
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
    guard(|| {
        let out = tri!(Out::new(out));
        let verdict = tri!(verdict(outcome));
        match &verdict.dmarc {
            Some(dmarc) => out.write(into_handle(mailauth_dmarc_outcome {
                outcome: dmarc.clone(),
            })),
            None => MAILAUTH_ABSENT,
        }
    })
}

/// The SPF outcome for the MAIL FROM identity, as a new handle (freed with
/// `mailauth_spf_outcome_free`). `MAILAUTH_ABSENT` when not checked.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_spf(
    outcome: *const mailauth_inbound_outcome,
    out: *mut *mut mailauth_spf_outcome,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        let verdict = tri!(verdict(outcome));
        match &verdict.spf_mail_from {
            Some(spf) => out.write(into_handle(mailauth_spf_outcome {
                outcome: spf.clone(),
            })),
            None => MAILAUTH_ABSENT,
        }
    })
}

/// The DKIM outcome (one result per signature), as a new handle (freed with
/// `mailauth_dkim_outcome_free`). `MAILAUTH_ABSENT` when not checked.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_dkim(
    outcome: *const mailauth_inbound_outcome,
    out: *mut *mut mailauth_dkim_outcome,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        let verdict = tri!(verdict(outcome));
        match &verdict.dkim {
            Some(dkim) => out.write(into_handle(mailauth_dkim_outcome {
                outcome: dkim.clone(),
            })),
            None => MAILAUTH_ABSENT,
        }
    })
}

/// How many existing Authentication-Results fields claim this host's
/// authserv-id: forgeries to remove before prepending ours (RFC 8601 §5).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_forged_count(
    outcome: *const mailauth_inbound_outcome,
    count: *mut usize,
) -> mailauth_status {
    guard(|| {
        let count = tri!(Out::new(count));
        let verdict = tri!(verdict(outcome));
        count.write(verdict.remove.len())
    })
}

/// Which Authentication-Results field forgery `index` is, counting those
/// fields from 1 at the top (the index a milter passes to
/// `smfi_chgheader`). `MAILAUTH_INVALID_ARGUMENT` for an index out of
/// range.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_inbound_outcome_forged_occurrence(
    outcome: *const mailauth_inbound_outcome,
    index: usize,
    occurrence: *mut usize,
) -> mailauth_status {
    guard(|| {
        let occurrence = tri!(Out::new(occurrence));
        let verdict = tri!(verdict(outcome));
        match verdict.remove.get(index) {
            Some(field) => occurrence.write(field.occurrence),
            None => MAILAUTH_INVALID_ARGUMENT,
        }
    })
}
