//! The inbound pipeline (SPF, DKIM, ARC, DMARC): `authenticate_start` and the frozen `AuthResult`.

use mailauth::dns::Name;
use mailauth::inbound::{self, Connection, ExistingField, Inbound, Network, Verdict};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::authres::PyAuthenticationResults;
use crate::bimi::PyBimiResult;
use crate::check::{Outcome, PyCheck};
use crate::errors::Error;
use crate::session::PySettings;
use crate::spf::ip_from_python;
use crate::{dmarc, message, py_repr, py_repr_opt};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyAuthResult>()?;
    m.add_class::<PyRemovedField>()?;
    m.add_function(wrap_pyfunction!(authenticate_start, m)?)?;
    Ok(())
}

/// Reads `message` and starts every check of the inbound pipeline. The
/// check configurations (SPF, DKIM, DMARC, `check_helo` and the trusted
/// authserv-ids) are those of `settings`, else the defaults; the options
/// that are not None replace them.
#[pyfunction]
#[pyo3(signature = (message, *, ip, helo, mail_from, authserv_id, now, authenticated, internal, check_helo, internal_networks, trusted_authserv_ids, dmarc_mode, dmarc_sample, settings, arc = None, trusted_arc_sealers = None, bimi = None, bimi_require_signed_selector = None, bimi_max_record_bytes = None, bimi_max_location_uris = None))]
#[allow(clippy::too_many_arguments)]
fn authenticate_start(
    py: Python<'_>,
    message: &Bound<'_, PyAny>,
    ip: &Bound<'_, PyAny>,
    helo: &str,
    mail_from: &str,
    authserv_id: &str,
    now: u64,
    authenticated: bool,
    internal: bool,
    check_helo: Option<bool>,
    internal_networks: Option<Vec<String>>,
    trusted_authserv_ids: Option<Vec<String>>,
    dmarc_mode: Option<&str>,
    dmarc_sample: u8,
    settings: Option<&PySettings>,
    arc: Option<bool>,
    trusted_arc_sealers: Option<Vec<String>>,
    bimi: Option<bool>,
    bimi_require_signed_selector: Option<bool>,
    bimi_max_record_bytes: Option<usize>,
    bimi_max_location_uris: Option<usize>,
) -> PyResult<PyCheck> {
    if authserv_id.is_empty() {
        return Err(Error::Config("authserv_id must not be empty".to_owned()).into());
    }
    let dmarc_sample = mailauth::dmarc::Sample::new(dmarc_sample)
        .map_err(|e| Error::Config(format!("dmarc_{e}")))?;
    let mut connection = Connection::new(ip_from_python(ip)?, helo, mail_from);
    connection.authenticated = authenticated;
    connection.internal = internal;
    let mut config = inbound::Config::new(authserv_id, now);
    if let Some(settings) = settings {
        settings.settings().apply_checks(&mut config);
    }
    if let Some(check_helo) = check_helo {
        config.check_helo = check_helo;
    }
    if let Some(dmarc_mode) = dmarc_mode {
        config.dmarc.mode = dmarc::mode_from_str(dmarc_mode)?;
    }
    if let Some(trusted_authserv_ids) = trusted_authserv_ids {
        config.trusted_authserv_ids = trusted_authserv_ids;
    }
    match arc {
        Some(false) => config.arc = None,
        Some(true) if config.arc.is_none() => config.arc = Some(mailauth::arc::Config::default()),
        _ => {}
    }
    if let Some(sealers) = trusted_arc_sealers {
        config.trusted_arc_sealers = sealers
            .iter()
            .map(|text| {
                Name::new(text)
                    .map_err(|e| Error::Config(format!("invalid arc sealer {text:?}: {e}")))
            })
            .collect::<Result<_, _>>()?;
    }
    crate::bimi::apply_options(
        &mut config.bimi,
        bimi,
        bimi_require_signed_selector,
        bimi_max_record_bytes,
        bimi_max_location_uris,
    );
    config.internal_networks = internal_networks
        .unwrap_or_default()
        .iter()
        .map(|text| {
            text.parse::<Network>()
                .map_err(|e| Error::Config(format!("invalid network {text:?}: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let mut pipeline = Inbound::new(&connection, &config).with_dmarc_sample(dmarc_sample);
    message::feed(py, message, &mut |chunk| pipeline.feed(chunk))?;
    let check = py.detach(|| pipeline.finish());
    Ok(PyCheck::new(check))
}

/// An Authentication-Results field of the message that claims our
/// authserv-id: a forgery to remove before adding ours.
#[pyclass(frozen, module = "mailauth", name = "RemovedField")]
pub(crate) struct PyRemovedField {
    position: usize,
    occurrence: usize,
    raw: Vec<u8>,
}

#[pymethods]
impl PyRemovedField {
    /// Its position among all header fields, from 0 at the top.
    #[getter]
    fn position(&self) -> usize {
        self.position
    }

    /// Which Authentication-Results field it is, from 1 at the top (the
    /// index a milter's `chgheader` takes).
    #[getter]
    fn occurrence(&self) -> usize {
        self.occurrence
    }

    /// The field as it appeared, name included, without the final line break.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.raw)
    }

    fn __repr__(&self) -> String {
        format!(
            "RemovedField(position={}, occurrence={})",
            self.position, self.occurrence
        )
    }
}

/// The outcome of the inbound pipeline.
#[pyclass(frozen, get_all, module = "mailauth", name = "AuthResult")]
pub(crate) struct PyAuthResult {
    /// Why the message was not checked (authenticated or internal client),
    /// or None.
    skipped: Option<String>,
    /// SPF for the MAIL FROM identity (None when skipped).
    spf: Option<Py<PyAny>>,
    /// SPF for the HELO identity (None when skipped or not checked).
    spf_helo: Option<Py<PyAny>>,
    /// DKIM: one result per signature (None when skipped).
    dkim: Option<Py<PyAny>>,
    /// DMARC (None when skipped).
    dmarc: Option<Py<PyAny>>,
    /// ARC: the chain's validation (None when skipped or ARC is off).
    arc: Option<Py<PyAny>>,
    /// What DMARC asks the receiver to do: "none", "quarantine", "reject".
    disposition: &'static str,
    /// The Authentication-Results field to prepend, `Authentication-Results:
    /// ...` folded with CRLF and a tab, without the final CRLF; None when
    /// skipped.
    header_field: Option<String>,
    /// The same field as a parsed structure.
    authentication_results: Option<Py<PyAuthenticationResults>>,
    /// Authentication-Results fields claiming our authserv-id, to remove.
    remove: Py<PyTuple>,
    /// The Authentication-Results fields from trusted authserv-ids.
    trusted_results: Py<PyTuple>,
    /// Why the header was not read whole (past the configured number of
    /// fields or bytes), or None. Forgeries past the bound are not in
    /// `remove`: an MTA should refuse such a message.
    header_error: Option<String>,
    /// BIMI (None unless enabled and DMARC gave an outcome).
    bimi: Option<Py<PyBimiResult>>,
    /// The value of the BIMI-Location field to insert for a BIMI "pass",
    /// or None.
    bimi_location: Option<String>,
    /// The incoming BIMI-Location, BIMI-Indicator and BIMI-Logo-Preference
    /// fields, to remove (empty with BIMI off).
    bimi_remove: Py<PyTuple>,
}

fn result_name(object: Option<&Py<PyAny>>, py: Python<'_>) -> String {
    object
        .and_then(|o| o.bind(py).getattr("result").ok())
        .and_then(|r| r.extract::<String>().ok())
        .map_or_else(|| "None".to_owned(), |r| py_repr(&r))
}

/// Fields of the message to remove, as Python objects.
fn removed_fields(py: Python<'_>, fields: &[ExistingField]) -> PyResult<Py<PyTuple>> {
    let fields = fields
        .iter()
        .map(|r| {
            let raw = r.field.raw();
            let raw = raw.strip_suffix(b"\r\n").unwrap_or(raw);
            let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
            Py::new(
                py,
                PyRemovedField {
                    position: r.position,
                    occurrence: r.occurrence,
                    raw: raw.to_vec(),
                },
            )
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyTuple::new(py, fields)?.unbind())
}

impl Outcome for Verdict {
    fn to_python(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let trusted = self
            .trusted_results
            .iter()
            .map(|ar| Py::new(py, PyAuthenticationResults::new(py, ar)?))
            .collect::<PyResult<Vec<_>>>()?;
        let result = PyAuthResult {
            skipped: self.skipped.as_ref().map(ToString::to_string),
            spf: self
                .spf_mail_from
                .as_ref()
                .map(|o| o.to_python(py))
                .transpose()?,
            spf_helo: self
                .spf_helo
                .as_ref()
                .map(|o| o.to_python(py))
                .transpose()?,
            dkim: self.dkim.as_ref().map(|o| o.to_python(py)).transpose()?,
            dmarc: self.dmarc.as_ref().map(|o| o.to_python(py)).transpose()?,
            arc: self.arc.as_ref().map(|o| o.to_python(py)).transpose()?,
            disposition: self.disposition.as_str(),
            header_field: self.header_field(),
            authentication_results: self
                .authentication_results
                .as_ref()
                .map(|ar| Py::new(py, PyAuthenticationResults::new(py, ar)?))
                .transpose()?,
            remove: removed_fields(py, &self.remove)?,
            trusted_results: PyTuple::new(py, trusted)?.unbind(),
            header_error: self.header_error.map(|e| e.to_string()),
            bimi: self
                .bimi
                .as_ref()
                .map(|o| Py::new(py, PyBimiResult::new(py, o)?))
                .transpose()?,
            bimi_location: self.bimi_location.clone(),
            bimi_remove: removed_fields(py, &self.bimi_remove)?,
        };
        Ok(Py::new(py, result)?.into_any())
    }
}

#[pymethods]
impl PyAuthResult {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "AuthResult(spf={}, dkim={}, dmarc={}, disposition={}, skipped={})",
            result_name(self.spf.as_ref(), py),
            result_name(self.dkim.as_ref(), py),
            result_name(self.dmarc.as_ref(), py),
            py_repr(self.disposition),
            py_repr_opt(self.skipped.as_deref())
        )
    }
}
