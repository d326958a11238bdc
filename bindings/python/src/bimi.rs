//! BIMI: the frozen `BimiResult` of the inbound pipeline, `BimiRecord`,
//! `bimi_record_parse`, and the BIMI options of the pipeline.

use mailauth::bimi::{self, Record};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};

use crate::errors::{Error, ParseError};
use crate::{py_repr, py_repr_opt};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBimiResult>()?;
    m.add_class::<PyBimiRecord>()?;
    m.add_function(wrap_pyfunction!(bimi_record_parse, m)?)?;
    Ok(())
}

/// The BIMI options of `authenticate_start`: each one given (not None)
/// replaces the setting of `config`.
pub(crate) fn apply_options(
    config: &mut bimi::Config,
    enabled: Option<bool>,
    require_signed_selector: Option<bool>,
    max_record_bytes: Option<usize>,
    max_location_uris: Option<usize>,
) {
    if let Some(enabled) = enabled {
        config.enabled = enabled;
    }
    if let Some(required) = require_signed_selector {
        config.require_signed_selector = required;
    }
    if let Some(max) = max_record_bytes {
        config.max_record_bytes = max;
    }
    if let Some(max) = max_location_uris {
        config.max_location_uris = max;
    }
}

/// A BIMI Assertion Record.
#[pyclass(frozen, get_all, module = "mailauth.bimi", name = "BimiRecord")]
pub(crate) struct PyBimiRecord {
    /// `l=`: the HTTPS URIs of the Indicator (empty when `l=` is empty).
    locations: Py<PyTuple>,
    /// `a=`: the HTTPS URI of the Evidence Document, or None.
    evidence: Option<String>,
    /// `lps=true`: the domain publishes local-part selectors.
    local_part_selector: bool,
    /// `avp=`: "brand" or "personal", or None.
    avatar_preference: Option<&'static str>,
    /// `l=` and `a=` are both empty: a Declination to Publish.
    is_declination: bool,
}

impl PyBimiRecord {
    fn new(py: Python<'_>, record: &Record) -> PyResult<PyBimiRecord> {
        Ok(PyBimiRecord {
            locations: PyTuple::new(py, &record.locations)?.unbind(),
            evidence: record.evidence.clone(),
            local_part_selector: record.local_part_selector,
            avatar_preference: record.avatar_preference.map(|p| p.as_str()),
            is_declination: record.is_declination(),
        })
    }
}

#[pymethods]
impl PyBimiRecord {
    fn __repr__(&self, py: Python<'_>) -> String {
        let locations: Vec<String> = self
            .locations
            .bind(py)
            .iter()
            .filter_map(|l| l.extract::<String>().ok())
            .map(|l| py_repr(&l))
            .collect();
        format!(
            "BimiRecord(locations=({}{}), evidence={})",
            locations.join(", "),
            if locations.len() == 1 { "," } else { "" },
            py_repr_opt(self.evidence.as_deref())
        )
    }
}

/// Parses a BIMI Assertion Record (its TXT character-strings joined, as
/// str or bytes) with the limits given. Raises `ParseError` naming the
/// problem when it is not a valid record.
#[pyfunction]
#[pyo3(signature = (text, *, max_record_bytes = None, max_location_uris = None))]
fn bimi_record_parse(
    py: Python<'_>,
    text: &Bound<'_, PyAny>,
    max_record_bytes: Option<usize>,
    max_location_uris: Option<usize>,
) -> PyResult<PyBimiRecord> {
    let bytes: Vec<u8> = if let Ok(text) = text.cast::<PyString>() {
        text.extract::<String>()?.into_bytes()
    } else if let Ok(bytes) = text.cast::<PyBytes>() {
        bytes.as_bytes().to_vec()
    } else {
        return Err(Error::Config("text must be str or bytes".to_owned()).into());
    };
    let mut config = bimi::Config::default();
    apply_options(&mut config, None, None, max_record_bytes, max_location_uris);
    let record = Record::parse(&bytes, &config)
        .map_err(|e| ParseError::new_err(format!("invalid BIMI record: {e}")))?;
    PyBimiRecord::new(py, &record)
}

/// The BIMI outcome of the inbound pipeline.
#[pyclass(frozen, get_all, module = "mailauth.bimi", name = "BimiResult")]
pub(crate) struct PyBimiResult {
    /// "pass", "none", "fail", "temperror", "declined" or "skipped".
    result: &'static str,
    /// Why the result is what it is.
    reason: String,
    /// The selector looked up (`header.selector`).
    selector: String,
    /// Why the message's BIMI-Selector field was not used, or None.
    selector_ignored: Option<String>,
    /// Where the record evaluated was found (`header.d`), or None.
    domain: Option<String>,
    /// The valid record (for "pass" and "declined"), or None.
    record: Option<Py<PyBimiRecord>>,
    /// The evidence status (`policy.authority`): "none", "pass", "fail".
    authority: &'static str,
}

impl PyBimiResult {
    pub(crate) fn new(py: Python<'_>, outcome: &bimi::Outcome) -> PyResult<PyBimiResult> {
        Ok(PyBimiResult {
            result: outcome.result.as_str(),
            reason: outcome.reason.to_string(),
            selector: outcome.selector.as_str().to_owned(),
            selector_ignored: outcome.selector_ignored.as_ref().map(ToString::to_string),
            domain: outcome.domain.as_ref().map(|d| d.as_str().to_owned()),
            record: outcome
                .record
                .as_ref()
                .map(|r| Py::new(py, PyBimiRecord::new(py, r)?))
                .transpose()?,
            authority: outcome.authority.as_str(),
        })
    }
}

#[pymethods]
impl PyBimiResult {
    fn __repr__(&self) -> String {
        format!(
            "BimiResult(result={}, domain={}, selector={})",
            py_repr(self.result),
            py_repr_opt(self.domain.as_deref()),
            py_repr(&self.selector)
        )
    }
}
