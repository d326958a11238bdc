//! The MTA session: settings loaded from one file, one session per SMTP
//! connection, fed stage by stage, answering with actions and edits.

use std::ffi::{CString, c_char};
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::Arc;

use mailauth::dmarc::Sample;
use mailauth::session::{Action, Client, Edit, Session, Settings};

use crate::check::Pump;
use crate::ffi::{Out, borrow, borrow_mut, bytes, free_handle, guard, into_handle, text, tri};
use crate::resolver::{mailauth_answer, mailauth_resolver};
use crate::status::mailauth_status::{self, *};
use crate::string::{c_string, give_string};

/// Settings loaded from a TOML settings file (see mailauth.toml(5)).
///
/// Thread-safety: immutable once loaded; use it from any thread. Sessions
/// keep what they need, so it may be freed while they live (a reload
/// loads new settings for new sessions and frees the old handle).
pub struct mailauth_settings {
    settings: Arc<Settings>,
}

impl mailauth_settings {
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(crate) fn shared(&self) -> &Arc<Settings> {
        &self.settings
    }
}

/// What a stage asks the MTA to do.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mailauth_action {
    /// Go on (at the end of the message: accept it with the edits).
    MAILAUTH_ACTION_CONTINUE = 0,
    /// Refuse with the 5xx reply of `mailauth_session_reply`.
    MAILAUTH_ACTION_REJECT = 1,
    /// Refuse for now with the 4xx reply of `mailauth_session_reply`.
    MAILAUTH_ACTION_TEMPFAIL = 2,
    /// Accept and throw away.
    MAILAUTH_ACTION_DISCARD = 3,
    /// Accept into the hold queue (`mailauth_session_quarantine_reason`).
    MAILAUTH_ACTION_QUARANTINE = 4,
}

/// The kind of an edit.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mailauth_edit_kind {
    /// Insert the field at the top (`smfi_insheader(ctx, 0, name, value)`).
    MAILAUTH_EDIT_INSERT = 0,
    /// Remove the `occurrence`-th field of that name
    /// (`smfi_chgheader(ctx, name, occurrence, NULL)`).
    MAILAUTH_EDIT_REMOVE = 1,
}

/// Whether a session signs or checks its client's mail.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mailauth_mode {
    /// Checked, not signed.
    MAILAUTH_MODE_VERIFY = 0,
    /// Signed, not checked (internal host, authenticated client, listed
    /// daemon name, local submission).
    MAILAUTH_MODE_SIGN = 1,
}

/// The strings of a finished stage, kept for the C accessors.
#[derive(Default)]
struct Strings {
    reply: Option<[CString; 3]>,
    quarantine: Option<CString>,
    edits: Vec<(mailauth_edit_kind, CString, Option<CString>, usize)>,
    log_line: Option<CString>,
    log_detail: Option<CString>,
}

/// One SMTP connection's session (see `mailauth_session_new`).
///
/// After each stage call (`_helo`, `_mail_from`, `_rcpt`, `_header`,
/// `_end_of_header`, `_body`, `_end_of_message`, `_abort`), run the
/// stage's DNS work with `mailauth_session_resolve`, or from an event loop
/// with `mailauth_session_poll` and the `_query` / `_supply_*` functions
/// (the same protocol as `mailauth_check_*`); then read the decision with
/// `mailauth_session_action`.
///
/// Thread-safety: one thread at a time; sessions on different threads
/// share settings and a resolver from `mailauth_settings_new_resolver`.
pub struct mailauth_session {
    pump: Pump<Session>,
    strings: Strings,
    /// Whether `strings` hold the current stage's decision: filled once,
    /// so that pointers handed out stay valid until the next stage call
    /// (polling or resolving a finished stage again keeps them).
    settled: bool,
}

impl mailauth_session {
    /// The session (read only).
    pub(crate) fn session(&self) -> &Session {
        self.pump.driver.machine()
    }

    fn stage(&mut self, feed: impl FnOnce(&mut Session)) -> mailauth_status {
        self.strings = Strings::default();
        self.settled = false;
        feed(self.pump.machine_mut());
        MAILAUTH_OK
    }

    /// A change that is not a stage: the decision of the current stage,
    /// its open queries and the strings handed out stay.
    fn tweak(&mut self, change: impl FnOnce(&mut Session)) -> mailauth_status {
        change(self.pump.driver.machine_mut_in_place());
        MAILAUTH_OK
    }

    /// Renews the log strings of a settled stage (its queue ID changed).
    fn refresh_log(&mut self) {
        if !self.settled {
            return;
        }
        let record = self.pump.driver.machine().log_record();
        self.strings.log_line = record.map(|r| c_string(&r.to_string()));
        self.strings.log_detail = record.map(|r| c_string(&r.detail()));
    }

    /// Fills the strings once the stage has its action (once per stage).
    fn settle(&mut self) {
        if self.settled {
            return;
        }
        let session = self.pump.driver.machine();
        let Some(action) = self.pump.driver.outcome() else {
            return;
        };
        let mut strings = Strings::default();
        if let Some(reply) = action.reply() {
            strings.reply = Some([
                c_string(&reply.code.to_string()),
                c_string(&reply.enhanced),
                c_string(&reply.text),
            ]);
        }
        if let Action::Quarantine(reason) = action {
            strings.quarantine = Some(c_string(reason));
        }
        strings.edits = session
            .edits()
            .iter()
            .map(|edit| match edit {
                Edit::Insert { name, value } => (
                    mailauth_edit_kind::MAILAUTH_EDIT_INSERT,
                    c_string(name),
                    Some(c_string(value)),
                    0,
                ),
                Edit::Remove { name, occurrence } => (
                    mailauth_edit_kind::MAILAUTH_EDIT_REMOVE,
                    c_string(name),
                    None,
                    *occurrence,
                ),
            })
            .collect();
        if let Some(record) = session.log_record() {
            strings.log_line = Some(c_string(&record.to_string()));
            strings.log_detail = Some(c_string(&record.detail()));
        }
        self.strings = strings;
        self.settled = true;
    }

    fn action(&self) -> Result<&Action, mailauth_status> {
        self.pump.driver.outcome().ok_or(MAILAUTH_NOT_DONE)
    }
}

fn settings_error(error: impl std::fmt::Display, out: *mut *mut c_char) {
    // NULL: the caller does not want the message.
    if let Ok(out) = Out::new(out) {
        let _ = give_string(out, &error.to_string());
    }
}

/// Loads a settings file. On failure `*error` (when `error` is not NULL)
/// receives a message naming the file and line (free it with
/// `mailauth_string_free`) and the status is `MAILAUTH_IO_ERROR` (file not
/// readable) or `MAILAUTH_INVALID_ARGUMENT` (bad settings, or a file they
/// name that is unreadable or bad): never a half-loaded configuration.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_settings_load_file(
    path: *const c_char,
    out: *mut *mut mailauth_settings,
    error: *mut *mut c_char,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `path` is NULL or a NUL-terminated string (contract).
        let path = tri!(unsafe { text(path) });
        match Settings::from_file(Path::new(path)) {
            Ok(settings) => out.write(into_handle(mailauth_settings {
                settings: Arc::new(settings),
            })),
            Err(e) => {
                let status = match e {
                    mailauth::session::SettingsError::Io { .. } => MAILAUTH_IO_ERROR,
                    _ => MAILAUTH_INVALID_ARGUMENT,
                };
                settings_error(e, error);
                status
            }
        }
    })
}

/// Loads settings from TOML text (`base_dir`: the folder relative paths
/// start from; NULL for the working directory). Errors as
/// `mailauth_settings_load_file`, the text named `settings`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_settings_load_text(
    toml: *const c_char,
    base_dir: *const c_char,
    out: *mut *mut mailauth_settings,
    error: *mut *mut c_char,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `toml` is NULL or a NUL-terminated string (contract).
        let toml = tri!(unsafe { text(toml) });
        let base = if base_dir.is_null() {
            "."
        } else {
            // SAFETY: a NUL-terminated string (contract).
            tri!(unsafe { text(base_dir) })
        };
        match Settings::from_toml(toml, "settings", Path::new(base)) {
            Ok(settings) => out.write(into_handle(mailauth_settings {
                settings: Arc::new(settings),
            })),
            Err(e) => {
                settings_error(e, error);
                MAILAUTH_INVALID_ARGUMENT
            }
        }
    })
}

/// Frees settings. NULL is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_settings_free(settings: *mut mailauth_settings) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(settings) }
}

/// The effective value of a dotted key (`"milter.socket"`, `"log.why"`,
/// `"dns.timeout_ms"`) as text: strings bare, booleans `true`/`false`,
/// numbers in decimal, arrays comma-separated. `MAILAUTH_ABSENT` for no
/// such key.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_settings_get(
    settings: *const mailauth_settings,
    key: *const c_char,
    value: *mut *mut c_char,
) -> mailauth_status {
    guard(|| {
        let value = tri!(Out::new(value));
        // SAFETY: NULL or live settings (contract).
        let settings = tri!(unsafe { borrow(settings) });
        // SAFETY: NULL or a NUL-terminated string (contract).
        let key = tri!(unsafe { text(key) });
        match settings.settings.get(key) {
            Some(text) => give_string(value, &text),
            None => MAILAUTH_ABSENT,
        }
    })
}

/// The effective settings as TOML, every key written (what `mailauth
/// config check` prints).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_settings_to_toml(
    settings: *const mailauth_settings,
    toml: *mut *mut c_char,
) -> mailauth_status {
    guard(|| {
        let toml = tri!(Out::new(toml));
        // SAFETY: NULL or live settings (contract).
        let settings = tri!(unsafe { borrow(settings) });
        give_string(toml, &settings.settings.to_toml())
    })
}

/// The resolver `[dns]` describes: the library's stub resolver with its
/// cache (`dns.cache_entries`). Thread-safe: share one among all sessions
/// of the process. `MAILAUTH_RESOLVER_SETUP` when no name server is set
/// and /etc/resolv.conf cannot be read.
#[cfg(feature = "stub-resolver")]
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_settings_new_resolver(
    settings: *const mailauth_settings,
    out: *mut *mut mailauth_resolver,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: NULL or live settings (contract).
        let settings = tri!(unsafe { borrow(settings) });
        match settings.settings.dns().resolver() {
            Ok(resolver) => out.write(into_handle(mailauth_resolver::new(Box::new(resolver)))),
            Err(_) => MAILAUTH_RESOLVER_SETUP,
        }
    })
}

/// An optional string argument: NULL or empty is `None`.
///
/// # Safety
/// `pointer` is NULL or a NUL-terminated string.
unsafe fn optional(pointer: *const c_char) -> Result<Option<String>, mailauth_status> {
    if pointer.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated (caller).
    let value = unsafe { text(pointer) }?;
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// A draw for DMARC `pct=` sampling from the process's random hash keys
/// (not secret: it decides whether a domain's partial policy applies).
fn random_sample() -> Sample {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0);
    Sample::new((hasher.finish() % 100) as u8).unwrap_or(Sample::ALWAYS)
}

/// A session for a client that connected: `client_addr` its address
/// (NULL or empty: a local submission, which counts as internal),
/// `client_name` its reverse name, `daemon_name` the MTA's daemon name
/// (Postfix `{daemon_name}`), `auth_authen` the SMTP AUTH user (NULL or
/// empty: not authenticated). All but `settings` and `out` may be NULL.
/// The time is read from the system clock; the DMARC `pct=` draw is
/// random (`mailauth_session_set_dmarc_sample` fixes it).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_new(
    settings: *const mailauth_settings,
    client_addr: *const c_char,
    client_name: *const c_char,
    daemon_name: *const c_char,
    auth_authen: *const c_char,
    out: *mut *mut mailauth_session,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: NULL or live settings (contract).
        let settings = tri!(unsafe { borrow(settings) });
        // SAFETY: each NULL or NUL-terminated (contract).
        let (addr, name, daemon, auth) = tri!(unsafe {
            (|| {
                Ok::<_, mailauth_status>((
                    optional(client_addr)?,
                    optional(client_name)?,
                    optional(daemon_name)?,
                    optional(auth_authen)?,
                ))
            })()
        });
        let address = match addr {
            Some(text) => {
                let text = text.trim_start_matches('[').trim_end_matches(']');
                let text = text.strip_prefix("IPv6:").unwrap_or(text);
                Some(tri!(text.parse().map_err(|_| MAILAUTH_INVALID_ARGUMENT)))
            }
            None => None,
        };
        let mut client = Client::default();
        client.address = address;
        client.name = name;
        client.daemon_name = daemon;
        client.authenticated = auth;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut session = Session::new(settings.settings.clone(), client, now);
        session.set_dmarc_sample(random_sample());
        out.write(into_handle(mailauth_session {
            pump: Pump::new(session),
            strings: Strings::default(),
            settled: false,
        }))
    })
}

/// Frees a session. NULL is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_free(session: *mut mailauth_session) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(session) }
}

/// Runs a stage call on a live session with a string argument.
fn stage_text(
    session: *mut mailauth_session,
    value: *const c_char,
    feed: impl FnOnce(&mut Session, &str),
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live session used by this thread only.
        let session = tri!(unsafe { borrow_mut(session) });
        // SAFETY: NULL or NUL-terminated (contract).
        let value = tri!(unsafe { text(value) });
        session.stage(|s| feed(s, value))
    })
}

/// Runs a stage call without argument.
fn stage(session: *mut mailauth_session, feed: impl FnOnce(&mut Session)) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live session used by this thread only.
        let session = tri!(unsafe { borrow_mut(session) });
        session.stage(feed)
    })
}

/// HELO/EHLO with the name given.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_helo(
    session: *mut mailauth_session,
    name: *const c_char,
) -> mailauth_status {
    stage_text(session, name, Session::helo)
}

/// MAIL FROM (angle brackets optional; empty for a bounce): starts a
/// transaction, ending any other.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_mail_from(
    session: *mut mailauth_session,
    address: *const c_char,
) -> mailauth_status {
    stage_text(session, address, Session::mail_from)
}

/// The client authenticated (Postfix gives milters `{auth_authen}` at MAIL
/// FROM): call before `mailauth_session_mail_from`. Empty: not
/// authenticated. A stage of its own: resolve it before the next.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_set_authenticated(
    session: *mut mailauth_session,
    user: *const c_char,
) -> mailauth_status {
    stage_text(session, user, |s, user| {
        s.set_authenticated(user);
        s.abort();
    })
}

/// RCPT TO.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_rcpt(
    session: *mut mailauth_session,
    address: *const c_char,
) -> mailauth_status {
    stage_text(session, address, Session::rcpt)
}

/// One header field: its name and its value as a milter gets it (after
/// the colon; continuation lines with LF or CRLF).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_header(
    session: *mut mailauth_session,
    name: *const c_char,
    value: *const c_char,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live session used by this thread only.
        let session = tri!(unsafe { borrow_mut(session) });
        // SAFETY: NULL or NUL-terminated (contract).
        let name = tri!(unsafe { text(name) });
        if value.is_null() {
            return MAILAUTH_NULL_PARAMETER;
        }
        // SAFETY: non-NULL and NUL-terminated (contract); header values
        // need not be UTF-8.
        let value = unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes();
        session.stage(|s| s.header(name, value))
    })
}

/// The end of the header.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_end_of_header(
    session: *mut mailauth_session,
) -> mailauth_status {
    stage(session, Session::end_of_header)
}

/// A chunk of the body (CRLF line ends, as SMTP carries it).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_body(
    session: *mut mailauth_session,
    chunk: *const u8,
    len: usize,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live session used by this thread only.
        let session = tri!(unsafe { borrow_mut(session) });
        // SAFETY: `chunk` points to `len` readable bytes (contract).
        let chunk = tri!(unsafe { bytes(chunk, len) });
        session.stage(|s| s.body(chunk))
    })
}

/// Raw message bytes (header, blank line, body) in chunks of any size, for
/// an MTA that has the message as it came: instead of `_header`,
/// `_end_of_header` and `_body`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_message(
    session: *mut mailauth_session,
    chunk: *const u8,
    len: usize,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live session used by this thread only.
        let session = tri!(unsafe { borrow_mut(session) });
        // SAFETY: `chunk` points to `len` readable bytes (contract).
        let chunk = tri!(unsafe { bytes(chunk, len) });
        session.stage(|s| s.message(chunk))
    })
}

/// The end of the message: DKIM and DMARC (or signing). After resolving,
/// the action, the edits and the log line are set.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_end_of_message(
    session: *mut mailauth_session,
) -> mailauth_status {
    stage(session, Session::end_of_message)
}

/// RSET or an aborted transaction: drops it (the connection stays).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_abort(session: *mut mailauth_session) -> mailauth_status {
    stage(session, Session::abort)
}

/// The MTA's queue ID, for the log line. Not a stage: the decision and
/// open queries stay; after the end of a message its log line and detail
/// take the ID (pointers to the old ones are then invalid).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_set_queue_id(
    session: *mut mailauth_session,
    queue_id: *const c_char,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live session used by this thread only.
        let session = tri!(unsafe { borrow_mut(session) });
        // SAFETY: NULL or NUL-terminated (contract).
        let queue_id = tri!(unsafe { text(queue_id) });
        let status = session.tweak(|s| s.set_queue_id(queue_id));
        session.refresh_log();
        status
    })
}

/// Fixes the DMARC `pct=` draw (0–99; the policy applies when the draw is
/// below `pct`), for tests; `MAILAUTH_INVALID_ARGUMENT` above 99.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_set_dmarc_sample(
    session: *mut mailauth_session,
    draw: u8,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live session used by this thread only.
        let session = tri!(unsafe { borrow_mut(session) });
        let sample = tri!(Sample::new(draw).map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        session.tweak(|s| s.set_dmarc_sample(sample))
    })
}

/// Runs the current stage's DNS work with a blocking resolver; then the
/// action can be read.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_resolve(
    session: *mut mailauth_session,
    resolver: *const mailauth_resolver,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live session used by this thread only.
        let session = tri!(unsafe { borrow_mut(session) });
        // SAFETY: NULL or a live resolver, taken by shared reference.
        let resolver = tri!(unsafe { borrow(resolver) });
        let status = session.pump.resolve(resolver);
        session.settle();
        status
    })
}

/// The event-loop path: how many queries the stage needs now (0: the
/// action can be read). As `mailauth_check_poll`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_poll(
    session: *mut mailauth_session,
    query_count: *mut usize,
) -> mailauth_status {
    guard(|| {
        let query_count = tri!(Out::new(query_count));
        // SAFETY: NULL or a live session used by this thread only.
        let session = tri!(unsafe { borrow_mut(session) });
        let status = session.pump.poll(query_count);
        session.settle();
        status
    })
}

/// The query at `index` of the last poll, as `mailauth_check_query`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_query(
    session: *const mailauth_session,
    index: usize,
    name: *mut *const c_char,
    rr_type: *mut u16,
) -> mailauth_status {
    guard(|| {
        let name = tri!(Out::new(name));
        let rr_type = tri!(Out::new(rr_type));
        // SAFETY: NULL or a live session not mutated during the call.
        let session = tri!(unsafe { borrow(session) });
        session.pump.query(index, name, rr_type)
    })
}

/// The wire query at `index` of the last poll, as
/// `mailauth_check_query_packet`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_query_packet(
    session: *const mailauth_session,
    index: usize,
    id: u16,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> mailauth_status {
    guard(|| {
        let written = tri!(Out::new(written));
        // SAFETY: NULL or a live session not mutated during the call.
        let session = tri!(unsafe { borrow(session) });
        session.pump.query_packet(index, id, buf, len, written)
    })
}

/// Answers the query at `index` with a DNS response packet, as
/// `mailauth_check_supply_packet`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_supply_packet(
    session: *mut mailauth_session,
    index: usize,
    packet: *const u8,
    len: usize,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live session used by this thread only.
        let session = tri!(unsafe { borrow_mut(session) });
        // SAFETY: `packet` points to `len` readable bytes (contract).
        let packet = tri!(unsafe { bytes(packet, len) });
        session.pump.supply_packet(index, packet)
    })
}

/// Answers the query at `index` with records or a status, as
/// `mailauth_check_supply_answer`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_supply_answer(
    session: *mut mailauth_session,
    index: usize,
    answer: *const mailauth_answer,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live session used by this thread only.
        let session = tri!(unsafe { borrow_mut(session) });
        // SAFETY: NULL or a live answer not mutated meanwhile.
        let answer = tri!(unsafe { borrow(answer) });
        session.pump.supply_answer(index, answer)
    })
}

/// Answers the query at `index` with a `mailauth_dns_status`, as
/// `mailauth_check_supply_status`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_supply_status(
    session: *mut mailauth_session,
    index: usize,
    status: u32,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live session used by this thread only.
        let session = tri!(unsafe { borrow_mut(session) });
        session.pump.supply_status(index, status)
    })
}

/// The decision of the last stage (a `mailauth_action`);
/// `MAILAUTH_NOT_DONE` while its queries are open.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_action(
    session: *const mailauth_session,
    action: *mut u32,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(action));
        // SAFETY: NULL or a live session not mutated during the call.
        let session = tri!(unsafe { borrow(session) });
        let code = match tri!(session.action()) {
            Action::Reject(_) => mailauth_action::MAILAUTH_ACTION_REJECT,
            Action::Tempfail(_) => mailauth_action::MAILAUTH_ACTION_TEMPFAIL,
            Action::Discard => mailauth_action::MAILAUTH_ACTION_DISCARD,
            Action::Quarantine(_) => mailauth_action::MAILAUTH_ACTION_QUARANTINE,
            _ => mailauth_action::MAILAUTH_ACTION_CONTINUE,
        };
        out.write(code as u32)
    })
}

/// The reply of a reject or tempfail: `*code` ("550"), `*enhanced`
/// ("5.7.23"), `*text`, as `smfi_setreply` takes them; owned by the
/// session until its next stage call. `MAILAUTH_ABSENT` for other actions.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_reply(
    session: *const mailauth_session,
    code: *mut *const c_char,
    enhanced: *mut *const c_char,
    text: *mut *const c_char,
) -> mailauth_status {
    guard(|| {
        let code = tri!(Out::new(code));
        let enhanced = tri!(Out::new(enhanced));
        let text = tri!(Out::new(text));
        // SAFETY: NULL or a live session not mutated during the call.
        let session = tri!(unsafe { borrow(session) });
        tri!(session.action());
        let Some([c, e, t]) = &session.strings.reply else {
            return MAILAUTH_ABSENT;
        };
        code.write(c.as_ptr());
        enhanced.write(e.as_ptr());
        text.write(t.as_ptr())
    })
}

/// Why a message goes to the hold queue (`smfi_quarantine`'s reason);
/// owned by the session until its next stage call. `MAILAUTH_ABSENT` for
/// other actions.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_quarantine_reason(
    session: *const mailauth_session,
    reason: *mut *const c_char,
) -> mailauth_status {
    guard(|| {
        let reason = tri!(Out::new(reason));
        // SAFETY: NULL or a live session not mutated during the call.
        let session = tri!(unsafe { borrow(session) });
        tri!(session.action());
        match &session.strings.quarantine {
            Some(text) => reason.write(text.as_ptr()),
            None => MAILAUTH_ABSENT,
        }
    })
}

/// How many edits the ended message has (0 before its end).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_edit_count(
    session: *const mailauth_session,
    count: *mut usize,
) -> mailauth_status {
    guard(|| {
        let count = tri!(Out::new(count));
        // SAFETY: NULL or a live session not mutated during the call.
        let session = tri!(unsafe { borrow(session) });
        tri!(session.action());
        count.write(session.strings.edits.len())
    })
}

/// The edit at `index`, in the order to apply: removals first (highest
/// occurrence first: `smfi_chgheader(ctx, name, occurrence, NULL)`), then
/// insertions (`smfi_insheader(ctx, 0, name, value)`; the last applied
/// ends on top). `*kind` is a `mailauth_edit_kind`; `*value` is NULL for
/// a removal and folded with CRLF and a tab for an insertion (a milter
/// for Sendmail or Postfix may pass LF instead); `*occurrence` counts
/// from 1 (0 for an insertion). Strings are owned by the session until
/// its next stage call.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_edit(
    session: *const mailauth_session,
    index: usize,
    kind: *mut u32,
    name: *mut *const c_char,
    value: *mut *const c_char,
    occurrence: *mut usize,
) -> mailauth_status {
    guard(|| {
        let kind = tri!(Out::new(kind));
        let name = tri!(Out::new(name));
        let value = tri!(Out::new(value));
        let occurrence = tri!(Out::new(occurrence));
        // SAFETY: NULL or a live session not mutated during the call.
        let session = tri!(unsafe { borrow(session) });
        tri!(session.action());
        let Some((k, n, v, o)) = session.strings.edits.get(index) else {
            return MAILAUTH_INVALID_ARGUMENT;
        };
        kind.write(*k as u32);
        name.write(n.as_ptr());
        value.write(v.as_ref().map_or(std::ptr::null(), |v| v.as_ptr()));
        occurrence.write(*o)
    })
}

/// The one-line log record of the ended transaction (refused, or at the
/// end of the message): queue ID, client, mode, every result, the action
/// and the reason of every decision. Owned by the session until its next
/// stage call; `MAILAUTH_ABSENT` while no transaction has ended.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_log_line(
    session: *const mailauth_session,
    line: *mut *const c_char,
) -> mailauth_status {
    guard(|| {
        let line = tri!(Out::new(line));
        // SAFETY: NULL or a live session not mutated during the call.
        let session = tri!(unsafe { borrow(session) });
        match &session.strings.log_line {
            Some(text) => line.write(text.as_ptr()),
            None => MAILAUTH_ABSENT,
        }
    })
}

/// Each check's reasons for the ended transaction (OpenDKIM's `LogWhy`),
/// as `mailauth_session_log_line`.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_log_detail(
    session: *const mailauth_session,
    detail: *mut *const c_char,
) -> mailauth_status {
    guard(|| {
        let detail = tri!(Out::new(detail));
        // SAFETY: NULL or a live session not mutated during the call.
        let session = tri!(unsafe { borrow(session) });
        match &session.strings.log_detail {
            Some(text) => detail.write(text.as_ptr()),
            None => MAILAUTH_ABSENT,
        }
    })
}

/// Whether the session signs or checks (a `mailauth_mode`).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_session_mode(
    session: *const mailauth_session,
    mode: *mut u32,
) -> mailauth_status {
    guard(|| {
        let mode = tri!(Out::new(mode));
        // SAFETY: NULL or a live session not mutated during the call.
        let session = tri!(unsafe { borrow(session) });
        let value = match session.pump.driver.machine().mode() {
            mailauth::session::Mode::Verify => mailauth_mode::MAILAUTH_MODE_VERIFY,
            _ => mailauth_mode::MAILAUTH_MODE_SIGN,
        };
        mode.write(value as u32)
    })
}
