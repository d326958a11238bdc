//! The MTA session: one object per SMTP connection, fed what the MTA sees
//! (connect, HELO, MAIL FROM, RCPT, header fields, body chunks, end of
//! message), answering at each stage with the DNS queries it needs and
//! then a decision ([`Action`]); at the end of each message, the edits to
//! make to it and one log record.
//!
//! The session decides what OpenDKIM, OpenDMARC and policyd-spf decide
//! together, from one [`Settings`] file:
//!
//! - **sign or check by client** ([`Mode`]): mail from an internal host
//!   ([`SettingsFile::internal_hosts`]), an authenticated client or a
//!   listed daemon name (Postfix's `ORIGINATING`) is DKIM-signed by the
//!   signing table and not checked; other mail is checked and not signed;
//! - **SPF at HELO and MAIL FROM**, so that a failing sender is refused
//!   before the message is sent (policyd-spf's `HELO_reject`,
//!   `Mail_From_reject`, `PermError_reject`, `TempError_Defer`);
//! - **DKIM and DMARC at the end of the message** (OpenDKIM's `On-*`
//!   actions, OpenDMARC's `RejectFailures`), with the inbound pipeline;
//! - **the edits**: forged Authentication-Results removed, ours (and
//!   Received-SPF when asked) or the DKIM-Signature inserted at the top;
//! - **a test-only mode** that decides and logs but never refuses.
//!
//! The session is a [`Machine`]: after each stage call, poll it (or drive
//! it with [`crate::resolve`] / a [`crate::Driver`]) until it gives the
//! stage's [`Action`].
//!
//! ```
//! use std::sync::Arc;
//! use mailauth::dns::ZoneResolver;
//! use mailauth::session::{Action, Client, Session, Settings};
//!
//! let settings = Settings::from_toml(
//!     "authserv_id = \"mx.example.net\"\n",
//!     "inline",
//!     std::path::Path::new("."),
//! )
//! .unwrap();
//! let zone = ZoneResolver::from_zone_text(
//!     "$ORIGIN example.org.\n@ 3600 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n",
//! )
//! .unwrap();
//! let client = Client::new("203.0.113.9".parse().unwrap());
//! let mut session = Session::new(Arc::new(settings), client, 1_700_000_000);
//! session.helo("mx.example.org");
//! session.mail_from("alice@example.org");
//! let action = session.drive(&zone);
//! assert_eq!(action.kind(), "reject");
//! assert_eq!(action.reply().unwrap().code, 550);
//! assert!(session.log_line().unwrap().contains("spf=fail"));
//! ```

mod decide;
pub mod hosts;
pub mod import;
mod log;
pub mod settings;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

pub use hosts::{HostsError, InternalHosts};
pub use log::{DkimEntry, DmarcEntry, LogRecord};
pub use settings::{Disposal, QuarantineBy, Settings, SettingsError, SettingsFile, SpfRejection};

use crate::arc;
use crate::dkim::{SignError, Signing};
use crate::dmarc::Sample;
use crate::dns::{Answer, Query, Resolver};
use crate::inbound::{Connection, Inbound, InboundCheck, Verdict};
use crate::machine::{Machine, Poll, UnexpectedAnswer};
use crate::spf;

/// What the MTA knows of the client when it connects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Client {
    /// The client's address; `None` for a local submission (no network
    /// client), which counts as internal.
    pub address: Option<IpAddr>,
    /// Its reverse name, when the MTA looked it up.
    pub name: Option<String>,
    /// The MTA's name for the listening daemon or port (Postfix
    /// `{daemon_name}`, such as `ORIGINATING`).
    pub daemon_name: Option<String>,
    /// The SMTP AUTH user (`{auth_authen}`) when the client authenticated.
    pub authenticated: Option<String>,
}

impl Client {
    /// A client at `address`, not authenticated.
    pub fn new(address: IpAddr) -> Client {
        Client {
            address: Some(address),
            ..Client::default()
        }
    }
}

/// Whether the session signs or checks the client's mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Checked, not signed.
    Verify,
    /// Signed, not checked; the reason says why.
    Sign(SignReason),
}

/// Why a client's mail is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignReason {
    /// A local submission (no client address).
    Local,
    /// The client matched this internal hosts entry.
    InternalHost(String),
    /// The client authenticated as this user.
    Authenticated(String),
    /// The mail came in on this daemon name.
    DaemonName(String),
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Verify => f.write_str("verify"),
            Mode::Sign(SignReason::Local) => f.write_str("sign(local)"),
            Mode::Sign(SignReason::InternalHost(entry)) => write!(f, "sign(internal {entry})"),
            Mode::Sign(SignReason::Authenticated(user)) => {
                write!(f, "sign(authenticated {user})")
            }
            Mode::Sign(SignReason::DaemonName(name)) => write!(f, "sign(daemon {name})"),
        }
    }
}

/// An SMTP reply: code, enhanced status code (RFC 3463, RFC 7372) and
/// text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// `550`, `451`.
    pub code: u16,
    /// `5.7.23`.
    pub enhanced: String,
    /// The text (one line, no CR or LF).
    pub text: String,
}

impl Reply {
    /// Reads `"550 5.7.23 text"`.
    ///
    /// # Errors
    /// A message when the code is not 4xx/5xx, the enhanced code does not
    /// match its class, or the text holds a line break.
    pub fn parse(text: &str) -> Result<Reply, String> {
        let mut parts = text.splitn(3, ' ');
        let (Some(code), Some(enhanced)) = (parts.next(), parts.next()) else {
            return Err("expected \"CODE X.Y.Z text\"".to_owned());
        };
        let code: u16 = code
            .parse()
            .ok()
            .filter(|c| (400..600).contains(c))
            .ok_or("the code is not a 4xx or 5xx number")?;
        let classes: Vec<&str> = enhanced.split('.').collect();
        let valid = classes.len() == 3
            && classes
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
            && classes[0] == (code / 100).to_string();
        if !valid {
            return Err(format!(
                "{enhanced:?} is not an enhanced code of class {}",
                code / 100
            ));
        }
        let rest = parts.next().unwrap_or("");
        if rest.contains(['\r', '\n']) {
            return Err("the text holds a line break".to_owned());
        }
        Ok(Reply {
            code,
            enhanced: enhanced.to_owned(),
            text: rest.to_owned(),
        })
    }

    /// The reply with `{name}` placeholders in the text replaced (values
    /// cleaned of control characters).
    fn fill(&self, values: &[(&str, &str)]) -> Reply {
        let mut text = self.text.clone();
        for (name, value) in values {
            let clean: String = value.chars().filter(|c| !c.is_control()).collect();
            text = text.replace(&format!("{{{name}}}"), &clean);
        }
        Reply {
            text,
            ..self.clone()
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.code, self.enhanced, self.text)
    }
}

/// What the MTA does after a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Go on (at the end of the message: accept it, with the edits).
    Continue,
    /// Refuse with a 5xx reply.
    Reject(Reply),
    /// Refuse for now with a 4xx reply.
    Tempfail(Reply),
    /// Accept and throw away.
    Discard,
    /// Accept into the MTA's hold queue, for this reason.
    Quarantine(String),
}

impl Action {
    /// `continue`, `reject`, `tempfail`, `discard` or `quarantine`.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Continue => "continue",
            Action::Reject(_) => "reject",
            Action::Tempfail(_) => "tempfail",
            Action::Discard => "discard",
            Action::Quarantine(_) => "quarantine",
        }
    }

    /// The reply of a reject or tempfail.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Action::Reject(reply) | Action::Tempfail(reply) => Some(reply),
            _ => None,
        }
    }

    /// Whether the transaction ends here (anything but continue and
    /// quarantine).
    pub fn ends_transaction(&self) -> bool {
        matches!(
            self,
            Action::Reject(_) | Action::Tempfail(_) | Action::Discard
        )
    }

    fn severity(&self) -> u8 {
        match self {
            Action::Continue => 0,
            Action::Quarantine(_) => 1,
            Action::Tempfail(_) => 2,
            Action::Discard => 3,
            Action::Reject(_) => 4,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Reject(reply) | Action::Tempfail(reply) => write!(f, "{} {reply}", self.kind()),
            Action::Quarantine(reason) => write!(f, "quarantine {reason}"),
            _ => f.write_str(self.kind()),
        }
    }
}

/// One change to the message, in the order to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Remove the `occurrence`-th field named `name` (from 1 at the top),
    /// as `smfi_chgheader(ctx, name, occurrence, NULL)` does. Removals
    /// come first, highest occurrence first, so earlier ones do not
    /// renumber later ones.
    Remove {
        /// The field name.
        name: String,
        /// Which one, from 1.
        occurrence: usize,
    },
    /// Insert a field at the top, as `smfi_insheader(ctx, 0, name,
    /// value)`: applied in order, the last one ends up first.
    Insert {
        /// The field name.
        name: String,
        /// The value, folded with CRLF and a tab, without the leading
        /// space and final CRLF.
        value: String,
    },
}

/// A decision and why it was taken, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The check that decided (`spf`, `helo`, `dkim`, `dmarc`, `header`,
    /// `signing`).
    pub check: &'static str,
    /// What it decided.
    pub action: Action,
    /// Why.
    pub reason: String,
}

/// The work of the current stage.
#[derive(Debug)]
enum Work {
    Idle,
    SpfHelo(spf::Check),
    SpfMailFrom(spf::Check),
    Inbound(Box<InboundCheck>),
}

/// How the message is being read.
#[derive(Debug)]
enum Reading {
    /// Before MAIL FROM, after a refusal, or in sign mode with no key.
    None,
    /// Checked: the inbound pipeline reads it (SPF already decided).
    Verify(Box<Inbound>),
    /// Signed: the header kept until the From address picks the key.
    SignHeader(Vec<u8>),
    /// Signed: the signer reads the rest.
    Sign(Box<Signing<'static>>, String),
    /// Signed: nothing to sign with, and why.
    Unsigned(String),
}

/// One SMTP connection's checks and decisions. See the [module docs](self).
#[derive(Debug)]
pub struct Session {
    settings: Arc<Settings>,
    client: Client,
    mode: Mode,
    now: u64,
    sample: Sample,
    helo: String,
    spf_helo: Option<spf::Outcome>,
    // The transaction.
    mail_from: Option<String>,
    spf_mail_from: Option<spf::Outcome>,
    recipients: usize,
    /// The recipients' domain when they all share one (DMARC reports'
    /// `envelope_to`); `None` when none came or several domains.
    recipient_domain: Option<String>,
    queue_id: Option<String>,
    reading: Reading,
    work: Work,
    action: Option<Action>,
    decisions: Vec<Decision>,
    edits: Vec<Edit>,
    verdict: Option<Verdict>,
    signed: Option<String>,
    /// ARC sealing of checked mail, fed beside the inbound pipeline.
    sealing: Option<Box<arc::Sealing<'static>>>,
    sealed: Option<String>,
    log: Option<LogRecord>,
}

impl Session {
    /// A session for a client that connected; `now` is the time (seconds
    /// since the Unix epoch) for DKIM and SPF.
    pub fn new(settings: Arc<Settings>, client: Client, now: u64) -> Session {
        let mode = mode_of(&settings, &client);
        Session {
            settings,
            client,
            mode,
            now,
            sample: Sample::ALWAYS,
            helo: String::new(),
            spf_helo: None,
            mail_from: None,
            spf_mail_from: None,
            recipients: 0,
            recipient_domain: None,
            queue_id: None,
            reading: Reading::None,
            work: Work::Idle,
            action: None,
            decisions: Vec::new(),
            edits: Vec::new(),
            verdict: None,
            signed: None,
            sealing: None,
            sealed: None,
            log: None,
        }
    }

    /// The random draw for DMARC `pct=` sampling (see [`Sample`]), used
    /// when [`settings::DmarcSection::honour_pct`] is set. Default
    /// [`Sample::ALWAYS`]: the policy always applies. The core reads no
    /// randomness; a front end draws it.
    pub fn set_dmarc_sample(&mut self, sample: Sample) {
        self.sample = sample;
    }

    /// The settings.
    pub fn settings(&self) -> &Arc<Settings> {
        &self.settings
    }

    /// Whether this client's mail is signed or checked.
    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sets the time for the next message.
    pub fn set_now(&mut self, now: u64) {
        self.now = now;
    }

    /// The client authenticated after connecting (SMTP AUTH; milters
    /// learn `{auth_authen}` at MAIL FROM): its mail is signed from now on
    /// when [`SettingsFile::sign_authenticated`].
    pub fn set_authenticated(&mut self, user: &str) {
        self.client.authenticated = (!user.is_empty()).then(|| user.to_owned());
        self.mode = mode_of(&self.settings, &self.client);
    }

    /// HELO/EHLO: checks SPF for the name (when checking this client's
    /// mail and [`settings::SpfSection::check_helo`]).
    pub fn helo(&mut self, name: &str) {
        self.helo = name.trim().to_owned();
        self.spf_helo = None;
        self.start_stage();
        let checked = self.mode == Mode::Verify && self.settings.file().spf.check_helo;
        if let Some(ip) = self.client.address.filter(|_| checked) {
            let input = spf::Input::helo(ip, &self.helo).at(self.now);
            self.work = Work::SpfHelo(spf::Check::new(&input, &self.settings.inbound_config().spf));
            return;
        }
        self.action = Some(Action::Continue);
    }

    /// MAIL FROM: starts a transaction (ending any other) and checks SPF
    /// for the address (an empty one for a bounce).
    pub fn mail_from(&mut self, address: &str) {
        self.reset();
        self.start_stage();
        let address = address.trim();
        let address = address
            .strip_prefix('<')
            .and_then(|a| a.strip_suffix('>'))
            .unwrap_or(address);
        self.mail_from = Some(address.to_owned());
        match (&self.mode, self.client.address) {
            (Mode::Verify, Some(ip)) => {
                let input = spf::Input::mail_from(ip, &self.helo, address).at(self.now);
                self.work =
                    Work::SpfMailFrom(spf::Check::new(&input, &self.settings.inbound_config().spf));
            }
            _ => {
                self.reading = Reading::SignHeader(Vec::new());
                self.action = Some(Action::Continue);
            }
        }
    }

    /// RCPT TO.
    pub fn rcpt(&mut self, address: &str) {
        self.start_stage();
        let domain = address
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .rsplit_once('@')
            .map(|(_, domain)| domain.trim_end_matches('.').to_ascii_lowercase());
        self.recipient_domain = if self.recipients == 0 || domain == self.recipient_domain {
            domain
        } else {
            None
        };
        self.recipients += 1;
        self.action = Some(Action::Continue);
    }

    /// The MTA's queue ID, for the log record.
    pub fn set_queue_id(&mut self, queue_id: &str) {
        self.queue_id = (!queue_id.is_empty()).then(|| queue_id.to_owned());
        if let Some(log) = &mut self.log {
            log.queue_id.clone_from(&self.queue_id);
        }
    }

    /// One header field, as a milter gets it: the name, and the value
    /// after the colon (a leading space is kept or added as needed).
    pub fn header(&mut self, name: &str, value: &[u8]) {
        let mut line = Vec::with_capacity(name.len() + value.len() + 4);
        line.extend_from_slice(name.as_bytes());
        line.push(b':');
        if !value.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            line.push(b' ');
        }
        // Milters get continuation lines with bare LF.
        let mut last = 0u8;
        for &b in value {
            if b == b'\n' && last != b'\r' {
                line.push(b'\r');
            }
            line.push(b);
            last = b;
        }
        line.extend_from_slice(b"\r\n");
        self.message(&line);
        self.start_stage();
        self.action = Some(Action::Continue);
    }

    /// The end of the header (the blank line).
    pub fn end_of_header(&mut self) {
        self.message(b"\r\n");
        self.start_stage();
        self.action = Some(Action::Continue);
    }

    /// A chunk of the body (with CRLF line ends, as SMTP carries it).
    pub fn body(&mut self, chunk: &[u8]) {
        self.message(chunk);
        self.start_stage();
        self.action = Some(Action::Continue);
    }

    /// Raw message bytes (header, blank line, body) in chunks of any size:
    /// the alternative to [`header`](Self::header),
    /// [`end_of_header`](Self::end_of_header) and [`body`](Self::body) for
    /// an MTA that has the message as it came.
    pub fn message(&mut self, chunk: &[u8]) {
        match &mut self.reading {
            Reading::Verify(inbound) => {
                inbound.feed(chunk);
                if let Some(sealing) = &mut self.sealing {
                    sealing.update(chunk);
                }
            }
            Reading::Sign(signing, _) => signing.update(chunk),
            Reading::SignHeader(header) => {
                let searched = header.len().saturating_sub(3);
                header.extend_from_slice(chunk);
                self.start_signing_if_header_done(searched);
            }
            Reading::None | Reading::Unsigned(_) => {}
        }
    }

    /// The end of the message: checks DKIM and DMARC (or signs), then
    /// gives the final [`Action`]; [`edits`](Self::edits) and
    /// [`log_line`](Self::log_line) are then set.
    pub fn end_of_message(&mut self) {
        self.start_stage();
        match std::mem::replace(&mut self.reading, Reading::None) {
            Reading::Verify(inbound) => {
                self.work = Work::Inbound(Box::new(inbound.finish()));
            }
            Reading::SignHeader(header) => {
                // The header never ended: sign what came.
                let searched = header.len().saturating_sub(3);
                self.reading = Reading::SignHeader(header);
                if let Reading::SignHeader(header) = &mut self.reading {
                    header.extend_from_slice(b"\r\n\r\n");
                }
                self.start_signing_if_header_done(searched);
                self.end_of_message();
            }
            Reading::Sign(signing, by) => {
                match signing.finish() {
                    Ok(field) => {
                        self.signed = Some(by);
                        self.edits.push(Edit::Insert {
                            name: field.name().to_owned(),
                            value: field.value().trim_start().to_owned(),
                        });
                    }
                    Err(e) => self.not_signed(&e),
                }
                self.finish(Action::Continue);
            }
            Reading::Unsigned(reason) => {
                self.signed = None;
                self.decisions.push(Decision {
                    check: "signing",
                    action: Action::Continue,
                    reason,
                });
                self.finish(Action::Continue);
            }
            Reading::None => self.finish(Action::Continue),
        }
    }

    /// Drops the transaction (SMTP RSET, or the MTA aborted it); the
    /// connection's facts and HELO result stay.
    pub fn abort(&mut self) {
        self.reset();
        self.action = Some(Action::Continue);
    }

    /// Runs the current stage with a blocking resolver and returns its
    /// action.
    pub fn drive<R: Resolver + ?Sized>(&mut self, resolver: &R) -> Action {
        loop {
            match self.poll() {
                Poll::Done(action) => return action,
                Poll::Lookups(queries) => {
                    for query in queries {
                        let answer = resolver.lookup(&query);
                        // The session asked for this query.
                        let _ = self.supply(&query, answer);
                    }
                }
            }
        }
    }

    /// The decision of the last stage, once it has one.
    pub fn action(&self) -> Option<&Action> {
        self.action.as_ref()
    }

    /// The edits of the ended message (see [`Edit`] for the order).
    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    /// The inbound verdict of the ended message (checked mail only).
    pub fn verdict(&self) -> Option<&Verdict> {
        self.verdict.as_ref()
    }

    /// What DMARC reports need of the ended message
    /// ([`report::Verdict`](crate::report::Verdict)): for a front end to
    /// record in a report store (the session does no I/O). `None` when
    /// the message was not checked (signed mail, a refusal before the end
    /// of the message) or no DMARC policy applied.
    pub fn report_verdict(&self) -> Option<crate::report::Verdict> {
        let verdict = self.verdict.as_ref()?;
        let ip = self.client.address?;
        let connection = Connection::new(ip, &self.helo, self.mail_from.as_deref().unwrap_or(""));
        crate::report::Verdict::from_inbound(
            verdict,
            &connection,
            self.recipient_domain.as_deref(),
            self.now,
        )
    }

    /// The SPF result of the HELO name.
    pub fn spf_helo(&self) -> Option<&spf::Outcome> {
        self.spf_helo.as_ref()
    }

    /// The SPF result of the MAIL FROM address.
    pub fn spf_mail_from(&self) -> Option<&spf::Outcome> {
        self.spf_mail_from.as_ref()
    }

    /// Every decision of the transaction with its reason.
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// The log record of the ended transaction (refused, or at the end of
    /// the message).
    pub fn log_record(&self) -> Option<&LogRecord> {
        self.log.as_ref()
    }

    /// The one-line log record of the ended transaction.
    pub fn log_line(&self) -> Option<String> {
        self.log.as_ref().map(LogRecord::to_string)
    }

    fn start_stage(&mut self) {
        self.action = None;
        self.work = Work::Idle;
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.spf_mail_from = None;
        self.recipients = 0;
        self.recipient_domain = None;
        self.queue_id = None;
        self.reading = Reading::None;
        self.work = Work::Idle;
        self.decisions.clear();
        self.edits.clear();
        self.verdict = None;
        self.signed = None;
        self.sealing = None;
        self.sealed = None;
        self.log = None;
    }

    fn not_signed(&mut self, error: &SignError) {
        self.decisions.push(Decision {
            check: "signing",
            action: Action::Continue,
            reason: format!("not signed: {error}"),
        });
    }

    /// In sign mode, once the header is complete: picks the key by the
    /// From address and starts the signer on what came so far.
    fn start_signing_if_header_done(&mut self, searched: usize) {
        let Reading::SignHeader(header) = &mut self.reading else {
            return;
        };
        let limits = self.settings.sign_options().header_limits;
        let end = memchr::memmem::find(&header[searched..], b"\r\n\r\n")
            .map(|i| searched + i + 4)
            .or_else(|| header.starts_with(b"\r\n").then_some(2));
        let Some(_) = end else {
            if header.len() > limits.max_bytes {
                self.reading = Reading::Unsigned("not signed: header too large".to_owned());
            }
            return;
        };
        let header = std::mem::take(header);
        let from = from_address(&header);
        let chosen = from.as_deref().and_then(|from| {
            crate::dkim::Signer::from_table(
                self.settings.signing_table(),
                from,
                self.settings.sign_options().clone(),
            )
        });
        self.reading = match (chosen, from) {
            (Some(Ok(signer)), _) => {
                let by = format!("d={},s={}", signer.domain(), signer.selector());
                let mut signing = signer.into_signing(self.now);
                signing.update(&header);
                Reading::Sign(Box::new(signing), by)
            }
            (Some(Err(e)), _) => Reading::Unsigned(format!("not signed: {e}")),
            (None, Some(from)) => {
                Reading::Unsigned(format!("not signed: no signing rule for {from}"))
            }
            (None, None) => Reading::Unsigned("not signed: no From address".to_owned()),
        };
    }

    /// Ends the transaction with `action` (test-only mode keeps it in the
    /// log and continues).
    fn finish(&mut self, action: Action) {
        let taken = if self.settings.file().test_only {
            Action::Continue
        } else {
            action.clone()
        };
        self.log = Some(log::record(self, &action, &taken));
        self.action = Some(taken);
    }

    /// A stage's decision: the transaction ends when it refuses.
    fn decide_stage(&mut self, decision: Option<Decision>) {
        match decision {
            Some(decision) if decision.action != Action::Continue => {
                let action = decision.action.clone();
                self.decisions.push(decision);
                self.finish(action);
                if self.action.as_ref().is_some_and(Action::ends_transaction) {
                    self.reading = Reading::None;
                }
            }
            _ => self.action = Some(Action::Continue),
        }
    }

    fn helo_done(&mut self, outcome: spf::Outcome) {
        let decision = decide::spf(&self.settings, &outcome, true);
        self.spf_helo = Some(outcome);
        self.decide_stage(decision);
    }

    fn mail_from_done(&mut self, outcome: spf::Outcome) {
        let decision = decide::spf(&self.settings, &outcome, false);
        let refused = decision
            .as_ref()
            .is_some_and(|d| d.action != Action::Continue);
        let mut connection = Connection::new(
            outcome.client_ip,
            &self.helo,
            self.mail_from.as_deref().unwrap_or(""),
        );
        connection.authenticated = self.client.authenticated.is_some();
        let mut config = self.settings.inbound_config().clone();
        config.now = self.now;
        let sample = if self.settings.file().dmarc.honour_pct {
            self.sample
        } else {
            Sample::ALWAYS
        };
        let inbound = Inbound::new(&connection, &config)
            .with_dmarc_sample(sample)
            .with_spf(self.spf_helo.clone(), outcome.clone());
        self.spf_mail_from = Some(outcome);
        self.reading = Reading::Verify(Box::new(inbound));
        self.sealing = self
            .settings
            .sealer()
            .map(|sealer| Box::new(sealer.clone().into_sealing(self.now)));
        self.decide_stage(decision);
        if refused && self.settings.file().test_only {
            // Test-only: the message is still read and checked.
            self.log = None;
        }
    }

    /// Adds an ARC set recording this hop's results (RFC 8617 §5.1), when
    /// the chain was validated and is not broken.
    fn seal(&mut self, sealing: arc::Sealing<'static>, verdict: &Verdict) {
        let (Some(chain), Some(results)) = (&verdict.arc, &verdict.authentication_results) else {
            return;
        };
        let reason = match sealing.finish(chain, &results.results) {
            Ok(arc::SealOutcome::Sealed(set)) => {
                if let Some(sealer) = self.settings.sealer() {
                    self.sealed = Some(format!(
                        "i={}, d={}, s={}",
                        set.instance(),
                        sealer.domain(),
                        sealer.selector()
                    ));
                }
                for (name, value) in set.fields() {
                    self.edits.push(Edit::Insert {
                        name: name.to_owned(),
                        value: value.trim_start().to_owned(),
                    });
                }
                return;
            }
            Ok(arc::SealOutcome::ChainFailed) => {
                "not sealed: a seal already says cv=fail".to_owned()
            }
            Ok(arc::SealOutcome::TooManySets) => "not sealed: too many ARC sets".to_owned(),
            Err(e) => format!("not sealed: {e}"),
        };
        self.decisions.push(Decision {
            check: "arc",
            action: Action::Continue,
            reason,
        });
    }

    fn message_done(&mut self, verdict: Verdict) {
        let (decisions, edits) =
            decide::message(&self.settings, &verdict, self.spf_mail_from.as_ref());
        // Test-only mode carries earlier refusals (SPF) to here.
        self.decisions.extend(decisions);
        let action = self
            .decisions
            .iter()
            .map(|d| &d.action)
            .max_by_key(|a| a.severity())
            .cloned()
            .unwrap_or(Action::Continue);
        self.edits = edits;
        if let Some(sealing) = self.sealing.take() {
            self.seal(*sealing, &verdict);
        }
        self.verdict = Some(verdict);
        self.finish(action);
    }
}

impl Machine for Session {
    type Output = Action;

    fn poll(&mut self) -> Poll<Action> {
        loop {
            if let Some(action) = &self.action {
                return Poll::Done(action.clone());
            }
            match &mut self.work {
                Work::Idle => self.action = Some(Action::Continue),
                Work::SpfHelo(check) => match check.poll() {
                    Poll::Lookups(queries) => return Poll::Lookups(queries),
                    Poll::Done(outcome) => {
                        self.work = Work::Idle;
                        self.helo_done(outcome);
                    }
                },
                Work::SpfMailFrom(check) => match check.poll() {
                    Poll::Lookups(queries) => return Poll::Lookups(queries),
                    Poll::Done(outcome) => {
                        self.work = Work::Idle;
                        self.mail_from_done(outcome);
                    }
                },
                Work::Inbound(check) => match check.poll() {
                    Poll::Lookups(queries) => return Poll::Lookups(queries),
                    Poll::Done(verdict) => {
                        self.work = Work::Idle;
                        self.message_done(verdict);
                    }
                },
            }
        }
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        match &mut self.work {
            Work::Idle => Err(UnexpectedAnswer {
                query: query.clone(),
            }),
            Work::SpfHelo(check) | Work::SpfMailFrom(check) => check.supply(query, answer),
            Work::Inbound(check) => check.supply(query, answer),
        }
    }
}

/// Sign or verify, by the client.
fn mode_of(settings: &Settings, client: &Client) -> Mode {
    let file = settings.file();
    if let Some(user) = client
        .authenticated
        .as_ref()
        .filter(|_| file.sign_authenticated)
    {
        return Mode::Sign(SignReason::Authenticated(user.clone()));
    }
    if let Some(name) = client.daemon_name.as_ref().filter(|name| {
        file.daemon_names
            .iter()
            .any(|d| d.eq_ignore_ascii_case(name))
    }) {
        return Mode::Sign(SignReason::DaemonName(name.clone()));
    }
    let Some(address) = client.address else {
        return Mode::Sign(SignReason::Local);
    };
    match settings
        .internal_hosts()
        .find(Some(address), client.name.as_deref())
    {
        Some(entry) => Mode::Sign(SignReason::InternalHost(entry)),
        None => Mode::Verify,
    }
}

/// The address of the (first) From field of a raw header.
fn from_address(header: &[u8]) -> Option<String> {
    let mut reader = crate::message::MessageReader::new(crate::message::HeaderLimits::default());
    reader.feed(header);
    reader.finish();
    let fields = reader.take_fields();
    let from = fields.iter().find(|f| f.is_named(b"from"))?;
    crate::dkim::sign::from_address(from.value())
}

#[cfg(test)]
mod tests;
