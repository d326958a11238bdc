//! The MTA session: `Settings` (the TOML settings file) and `Session` (one
//! SMTP connection's checks and decisions), with their result classes
//! `Action`, `Edit` and `Decision`.
//!
//! The session is the core's [`Session`] in a [`Driven`]: each stage method
//! feeds it through [`mailauth::Driver::machine_mut`], then `resolve(...)`
//! (or `poll()` / `supply()`, which the package's asyncio driver uses)
//! runs the stage's DNS queries and gives its `Action`. What to decide is
//! the core's; this module only converts.

use std::path::PathBuf;
use std::sync::Arc;

use mailauth::dmarc::Sample;
use mailauth::session::{self as core, Client, Mode, Session, Settings};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyString};

use crate::check::{Driven, Outcome};
use crate::dns::{PyQuery, PyStubResolver};
use crate::errors::{ConfigError, Error, MailAuthError};
use crate::spf::ip_from_python;
use crate::{message, py_repr, py_repr_opt};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySettings>()?;
    m.add_class::<PySession>()?;
    m.add_class::<PyAction>()?;
    m.add_class::<PyEdit>()?;
    m.add_class::<PyDecision>()?;
    Ok(())
}

fn settings_error(error: &core::SettingsError) -> PyErr {
    ConfigError::new_err(error.to_string())
}

/// Loaded settings: the TOML settings file, with the key and signing
/// tables, internal hosts and check configurations it names read and
/// checked. Immutable; share one between all sessions.
#[pyclass(frozen, module = "mailauth", name = "Settings")]
pub(crate) struct PySettings {
    settings: Arc<Settings>,
    resolver: PyOnceLock<Py<PyStubResolver>>,
}

impl PySettings {
    /// The loaded settings.
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The loaded settings, shared.
    pub(crate) fn shared(&self) -> &Arc<Settings> {
        &self.settings
    }

    fn new(settings: Settings) -> PySettings {
        PySettings {
            settings: Arc::new(settings),
            resolver: PyOnceLock::new(),
        }
    }

    /// The caching stub resolver of `[dns]`, made on first use.
    fn shared_resolver(&self, py: Python<'_>) -> PyResult<Py<PyStubResolver>> {
        self.resolver
            .get_or_try_init(py, || {
                let cache =
                    self.settings.dns().resolver().map_err(|e| {
                        Error::Config(format!("{}: dns: {e}", self.settings.origin()))
                    })?;
                Py::new(py, PyStubResolver::cached(cache))
            })
            .map(|resolver| resolver.clone_ref(py))
    }
}

#[pymethods]
impl PySettings {
    /// Reads and loads a settings file; relative paths in it are taken from
    /// the file's folder.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PySettings> {
        py.detach(|| Settings::from_file(&path))
            .map(PySettings::new)
            .map_err(|e| settings_error(&e))
    }

    /// Loads settings from TOML text; `base_dir` is the folder relative
    /// paths start from, `origin` names the text in errors.
    #[staticmethod]
    #[pyo3(
        signature = (text, base_dir = None, *, origin = "<string>"),
        text_signature = "(text, base_dir='.', *, origin='<string>')"
    )]
    fn from_toml(
        py: Python<'_>,
        text: &str,
        base_dir: Option<PathBuf>,
        origin: &str,
    ) -> PyResult<PySettings> {
        let base_dir = base_dir.unwrap_or_else(|| PathBuf::from("."));
        py.detach(|| Settings::from_toml(text, origin, &base_dir))
            .map(PySettings::new)
            .map_err(|e| settings_error(&e))
    }

    /// The value of a dotted key (`"milter.socket"`, `"dns.timeout_ms"`)
    /// as text, or None for no such key.
    fn get(&self, key: &str) -> Option<String> {
        self.settings.get(key)
    }

    /// The effective settings as TOML, every key written.
    fn to_toml(&self) -> String {
        self.settings.to_toml()
    }

    /// The caching stub resolver `[dns]` describes, the same object on
    /// every call (its cache is shared by whoever uses it).
    fn resolver(&self, py: Python<'_>) -> PyResult<Py<PyStubResolver>> {
        self.shared_resolver(py)
    }

    /// Where the settings came from (the path, for a file).
    #[getter]
    fn origin(&self) -> &str {
        self.settings.origin()
    }

    /// The authserv-id of the Authentication-Results fields added.
    #[getter]
    fn authserv_id(&self) -> &str {
        self.settings.authserv_id()
    }

    fn __repr__(&self) -> String {
        format!(
            "Settings(origin={}, authserv_id={})",
            py_repr(self.settings.origin()),
            py_repr(self.settings.authserv_id())
        )
    }
}

/// What the MTA does after a stage.
#[pyclass(frozen, eq, module = "mailauth", name = "Action")]
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PyAction {
    kind: &'static str,
    code: Option<u16>,
    enhanced: Option<String>,
    text: Option<String>,
    reason: Option<String>,
    display: String,
    ends_transaction: bool,
}

impl PyAction {
    /// `action`, its reason the quarantine reason or, for a refusal, the
    /// reason of the decision that took it.
    fn new(action: &core::Action, decisions: &[core::Decision]) -> PyAction {
        let reason = match action {
            core::Action::Quarantine(reason) => Some(reason.clone()),
            core::Action::Continue => None,
            _ => decisions
                .iter()
                .rev()
                .find(|d| d.action == *action)
                .map(|d| d.reason.clone()),
        };
        let reply = action.reply();
        PyAction {
            kind: action.kind(),
            code: reply.map(|r| r.code),
            enhanced: reply.map(|r| r.enhanced.clone()),
            text: reply.map(|r| r.text.clone()),
            reason,
            display: action.to_string(),
            ends_transaction: action.ends_transaction(),
        }
    }
}

#[pymethods]
impl PyAction {
    /// "continue", "reject", "tempfail", "discard" or "quarantine".
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }

    /// The SMTP reply code of a reject (5xx) or tempfail (4xx), else None.
    #[getter]
    fn code(&self) -> Option<u16> {
        self.code
    }

    /// The enhanced status code of the reply (`"5.7.23"`), else None.
    #[getter]
    fn enhanced(&self) -> Option<&str> {
        self.enhanced.as_deref()
    }

    /// The text of the reply, else None.
    #[getter]
    fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// Why: the quarantine reason, or the reason of the decision that
    /// refused; None for continue.
    #[getter]
    fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// Whether the transaction ends here (reject, tempfail, discard).
    #[getter]
    fn ends_transaction(&self) -> bool {
        self.ends_transaction
    }

    fn __str__(&self) -> &str {
        &self.display
    }

    fn __repr__(&self) -> String {
        format!(
            "Action(kind={}, code={}, enhanced={}, text={}, reason={})",
            py_repr(self.kind),
            self.code
                .map_or_else(|| "None".to_owned(), |c| c.to_string()),
            py_repr_opt(self.enhanced.as_deref()),
            py_repr_opt(self.text.as_deref()),
            py_repr_opt(self.reason.as_deref())
        )
    }
}

/// One change to the message, in the order to apply: removals first
/// (highest occurrence first), then insertions at the top (applied in
/// order, the last one ends up first).
#[pyclass(frozen, eq, module = "mailauth", name = "Edit")]
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PyEdit {
    kind: &'static str,
    name: String,
    value: Option<String>,
    occurrence: Option<usize>,
}

impl From<&core::Edit> for PyEdit {
    fn from(edit: &core::Edit) -> PyEdit {
        match edit {
            core::Edit::Remove { name, occurrence } => PyEdit {
                kind: "remove",
                name: name.clone(),
                value: None,
                occurrence: Some(*occurrence),
            },
            core::Edit::Insert { name, value } => PyEdit {
                kind: "insert",
                name: name.clone(),
                value: Some(value.clone()),
                occurrence: None,
            },
        }
    }
}

#[pymethods]
impl PyEdit {
    /// "insert" (a field at the top) or "remove".
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }

    /// The field name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The value of an inserted field, folded with CRLF and a tab, without
    /// the leading space and the final CRLF; None for a removal.
    #[getter]
    fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// Which field named `name` a removal removes, from 1 at the top (as
    /// milter's `chgheader` counts); None for an insertion.
    #[getter]
    fn occurrence(&self) -> Option<usize> {
        self.occurrence
    }

    fn __repr__(&self) -> String {
        match self.occurrence {
            Some(n) => format!(
                "Edit(kind='remove', name={}, occurrence={n})",
                py_repr(&self.name)
            ),
            None => format!(
                "Edit(kind='insert', name={}, value={})",
                py_repr(&self.name),
                py_repr_opt(self.value.as_deref())
            ),
        }
    }
}

/// A decision of the transaction and why it was taken.
#[pyclass(frozen, module = "mailauth", name = "Decision")]
pub(crate) struct PyDecision {
    check: &'static str,
    action: Py<PyAction>,
    reason: String,
}

#[pymethods]
impl PyDecision {
    /// The check that decided: "spf", "helo", "dkim", "dmarc", "header" or
    /// "signing".
    #[getter]
    fn check(&self) -> &'static str {
        self.check
    }

    /// What it decided.
    #[getter]
    fn action(&self, py: Python<'_>) -> Py<PyAction> {
        self.action.clone_ref(py)
    }

    /// Why.
    #[getter]
    fn reason(&self) -> &str {
        &self.reason
    }

    fn __repr__(&self) -> String {
        format!(
            "Decision(check={}, action={}, reason={})",
            py_repr(self.check),
            py_repr(&self.action.get().display),
            py_repr(&self.reason)
        )
    }
}

/// A bytes-like argument (or str, encoded as UTF-8).
fn bytes_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(text.extract::<String>()?.into_bytes());
    }
    match message::chunk_of(value)? {
        Some(bytes) => Ok(bytes.to_vec()),
        None => Err(PyTypeError::new_err(format!(
            "{what} must be bytes or str, not {}",
            value
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "?".to_owned())
        ))),
    }
}

/// One SMTP connection's checks and decisions: feed it each stage, then
/// `resolve(resolver)` gives the stage's `Action`.
#[pyclass(frozen, subclass, module = "mailauth._native", name = "Session")]
pub(crate) struct PySession {
    driven: Driven<Session>,
    settings: Py<PySettings>,
}

impl PySession {
    /// Feeds the session a stage (without the GIL).
    fn stage(&self, py: Python<'_>, feed: impl FnOnce(&mut Session) + Send) {
        self.driven.with(py, |d| feed(d.machine_mut()));
    }

    /// A change that is not a stage: the action of the current stage (or
    /// its open queries) stays.
    fn tweak(&self, py: Python<'_>, change: impl FnOnce(&mut Session) + Send) {
        self.driven.with(py, |d| {
            let done = d.outcome().is_some();
            change(d.machine_mut());
            if done {
                // The session still has its action: no query.
                d.poll();
            }
        });
    }

    /// The action of the stage, once its DNS queries are answered.
    fn finished(&self, py: Python<'_>) -> PyResult<PyAction> {
        self.driven
            .with(py, |d| {
                d.outcome()
                    .map(|action| PyAction::new(action, d.machine().decisions()))
            })
            .ok_or_else(|| MailAuthError::new_err("the stage has not finished: poll() first"))
    }

    pub(crate) fn read<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&Session) -> T + Send) -> T {
        self.driven.with(py, |d| f(d.machine()))
    }
}

#[pymethods]
impl PySession {
    /// A session for a client that connected: `client_addr` its address
    /// (None for a local submission), `client_name` its reverse name,
    /// `daemon_name` the MTA's daemon name (Postfix `{daemon_name}`),
    /// `auth_user` the SMTP AUTH user; `now` in seconds since the epoch
    /// (None: the current time).
    #[new]
    #[pyo3(signature = (settings, client_addr = None, client_name = None, daemon_name = None, auth_user = None, now = None))]
    fn new(
        settings: Bound<'_, PySettings>,
        client_addr: Option<&Bound<'_, PyAny>>,
        client_name: Option<String>,
        daemon_name: Option<String>,
        auth_user: Option<String>,
        now: Option<u64>,
    ) -> PyResult<PySession> {
        let address = match client_addr {
            None => None,
            Some(addr) => match addr.extract::<String>() {
                Ok(text) if text.trim().is_empty() => None,
                _ => Some(ip_from_python(addr)?),
            },
        };
        let mut client = Client::default();
        client.address = address;
        client.name = client_name.filter(|s| !s.is_empty());
        client.daemon_name = daemon_name.filter(|s| !s.is_empty());
        client.authenticated = auth_user.filter(|s| !s.is_empty());
        let now = now.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
        let session = Session::new(settings.get().settings.clone(), client, now);
        Ok(PySession {
            driven: Driven::new(session),
            settings: settings.unbind(),
        })
    }

    /// The settings.
    #[getter]
    fn settings(&self, py: Python<'_>) -> Py<PySettings> {
        self.settings.clone_ref(py)
    }

    /// HELO/EHLO: checks SPF for the name.
    fn helo(&self, py: Python<'_>, name: &str) {
        self.stage(py, |s| s.helo(name));
    }

    /// MAIL FROM (the address with or without angle brackets; empty for a
    /// bounce): starts a transaction and checks SPF for it.
    fn mail_from(&self, py: Python<'_>, address: &str) {
        self.stage(py, |s| s.mail_from(address));
    }

    /// RCPT TO.
    fn rcpt(&self, py: Python<'_>, address: &str) {
        self.stage(py, |s| s.rcpt(address));
    }

    /// One header field: its name and the value after the colon (a milter's
    /// `header` callback), continuation lines with LF or CRLF.
    fn header(&self, py: Python<'_>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = bytes_arg(value, "value")?;
        self.stage(py, |s| s.header(name, &value));
        Ok(())
    }

    /// The end of the header.
    fn end_of_header(&self, py: Python<'_>) {
        self.stage(py, Session::end_of_header);
    }

    /// Body bytes (CRLF line ends): `bytes`, a binary file or an iterable of
    /// chunks.
    fn body(&self, py: Python<'_>, chunk: &Bound<'_, PyAny>) -> PyResult<()> {
        self.stage(py, |s| s.body(b""));
        let driven = &self.driven;
        // The sink runs without the GIL.
        message::feed(py, chunk, &mut |bytes| {
            driven.lock().machine_mut().body(bytes)
        })
    }

    /// Raw message bytes (header, blank line, body) as they came: `bytes`,
    /// a binary file or an iterable of chunks; the alternative to `header`,
    /// `end_of_header` and `body`.
    fn message(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        self.stage(py, |s| s.message(b""));
        let driven = &self.driven;
        // The sink runs without the GIL.
        message::feed(py, data, &mut |bytes| {
            driven.lock().machine_mut().message(bytes);
        })
    }

    /// The end of the message: checks DKIM and DMARC (or signs); after
    /// `resolve`, `edits` and `log_line` are set.
    fn end_of_message(&self, py: Python<'_>) {
        self.stage(py, Session::end_of_message);
    }

    /// Drops the transaction (SMTP RSET); the connection's facts stay.
    fn abort(&self, py: Python<'_>) {
        self.stage(py, Session::abort);
    }

    /// The MTA's queue ID, for the log record.
    fn set_queue_id(&self, py: Python<'_>, queue_id: &str) {
        self.tweak(py, |s| s.set_queue_id(queue_id));
    }

    /// The client authenticated (SMTP AUTH) after connecting.
    fn set_authenticated(&self, py: Python<'_>, user: &str) {
        self.tweak(py, |s| s.set_authenticated(user));
    }

    /// The draw (0..99) for DMARC `pct=` sampling.
    fn set_dmarc_sample(&self, py: Python<'_>, sample: u8) -> PyResult<()> {
        let sample = Sample::new(sample).map_err(|e| Error::Config(format!("dmarc_{e}")))?;
        self.tweak(py, |s| s.set_dmarc_sample(sample));
        Ok(())
    }

    /// Sets the time (seconds since the epoch) for the next message.
    fn set_now(&self, py: Python<'_>, now: u64) {
        self.tweak(py, |s| s.set_now(now));
    }

    /// The queries the stage needs answered now; an empty list once it has
    /// its action (then `outcome()` gives it).
    fn poll<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.driven.poll(py)
    }

    /// Hands over what the resolver gave for `query`: a list of records, or
    /// an exception instance (`NXDomain`, `TempFail`, `TimeoutError`, ...).
    fn supply(&self, py: Python<'_>, query: &PyQuery, answer: &Bound<'_, PyAny>) -> PyResult<()> {
        self.driven.supply(py, query, answer)
    }

    /// The action of the stage, once `poll()` returned an empty list.
    fn outcome(&self, py: Python<'_>) -> PyResult<PyAction> {
        self.finished(py)
    }

    /// Runs the stage's DNS queries with `resolver` (blocking; the
    /// settings' resolver when None) and returns its action.
    #[pyo3(signature = (resolver = None))]
    fn resolve(&self, py: Python<'_>, resolver: Option<&Bound<'_, PyAny>>) -> PyResult<PyAction> {
        match resolver {
            Some(resolver) => self.driven.run(py, resolver)?,
            None => {
                let resolver = self.settings.get().shared_resolver(py)?;
                self.driven.run(py, resolver.bind(py).as_any())?;
            }
        }
        self.finished(py)
    }

    /// "verify" (the client's mail is checked) or "sign" (it is signed).
    #[getter]
    fn mode(&self, py: Python<'_>) -> &'static str {
        self.read(py, |s| match s.mode() {
            Mode::Verify => "verify",
            _ => "sign",
        })
    }

    /// The mode and why: "verify", "sign(local)", "sign(internal ENTRY)",
    /// "sign(authenticated USER)" or "sign(daemon NAME)".
    #[getter]
    fn mode_detail(&self, py: Python<'_>) -> String {
        self.read(py, |s| s.mode().to_string())
    }

    /// The edits of the ended message, in the order to apply.
    #[getter]
    fn edits(&self, py: Python<'_>) -> Vec<PyEdit> {
        self.read(py, |s| s.edits().iter().map(PyEdit::from).collect())
    }

    /// Every decision of the transaction with its reason.
    #[getter]
    fn decisions(&self, py: Python<'_>) -> PyResult<Vec<PyDecision>> {
        let decisions = self.read(py, |s| s.decisions().to_vec());
        decisions
            .iter()
            .map(|d| {
                Ok(PyDecision {
                    check: d.check,
                    action: Py::new(py, PyAction::new(&d.action, std::slice::from_ref(d)))?,
                    reason: d.reason.clone(),
                })
            })
            .collect()
    }

    /// The one-line log record of the ended transaction (refused, or at the
    /// end of the message), else None.
    #[getter]
    fn log_line(&self, py: Python<'_>) -> Option<String> {
        self.read(py, Session::log_line)
    }

    /// Each check's reasons for the ended transaction on one line
    /// (OpenDKIM's `LogWhy`), else None.
    #[getter]
    fn log_detail(&self, py: Python<'_>) -> Option<String> {
        self.read(py, |s| s.log_record().map(core::LogRecord::detail))
    }

    /// The SPF result of the HELO name, once checked.
    #[getter]
    fn spf_helo(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.read(py, |s| s.spf_helo().cloned())
            .map(|outcome| outcome.to_python(py))
            .transpose()
    }

    /// The SPF result of the MAIL FROM address, once checked.
    #[getter]
    fn spf_mail_from(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.read(py, |s| s.spf_mail_from().cloned())
            .map(|outcome| outcome.to_python(py))
            .transpose()
    }

    /// The inbound checks' results of the ended message (checked mail
    /// only), as `mailauth.authenticate` gives them.
    #[getter]
    fn auth_result(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.read(py, |s| s.verdict().cloned())
            .map(|verdict| verdict.to_python(py))
            .transpose()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let mode = self.mode_detail(py);
        format!("<mailauth.Session mode={}>", py_repr(&mode))
    }
}
