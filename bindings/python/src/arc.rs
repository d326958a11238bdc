//! ARC (RFC 8617): validation (`arc_validate` -> a `Check`), the frozen
//! `ArcResult` and `ArcSet`, and sealing (`ArcSealer`).

use std::sync::Arc;

use mailauth::arc::{self, SealOptions, SealOutcome, Sealer};
use mailauth::authres::AuthenticationResults;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::check::{Outcome, PyCheck};
use crate::dkim::PyPrivateKey;
use crate::errors::Error;
use crate::session::PySettings;
use crate::{message, py_repr, py_repr_opt};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyArcSet>()?;
    m.add_class::<PyArcResult>()?;
    m.add_class::<PyArcSealer>()?;
    m.add_class::<PyArcSeal>()?;
    m.add_function(wrap_pyfunction!(arc_validate, m)?)?;
    Ok(())
}

/// Reads `message` and starts the key lookups of its ARC chain. The
/// configuration is that of `settings` (`[arc]`, when `verify` is on),
/// else the default; the options that are not None replace its values.
#[pyfunction]
#[pyo3(signature = (message, *, allow_sha1, min_rsa_bits, max_sets, oldest_pass, settings))]
fn arc_validate(
    py: Python<'_>,
    message: &Bound<'_, PyAny>,
    allow_sha1: Option<bool>,
    min_rsa_bits: Option<usize>,
    max_sets: Option<usize>,
    oldest_pass: Option<bool>,
    settings: Option<&PySettings>,
) -> PyResult<PyCheck> {
    let mut config = settings
        .and_then(|s| s.settings().inbound_config().arc.clone())
        .unwrap_or_default();
    if let Some(allow_sha1) = allow_sha1 {
        config.allow_sha1 = allow_sha1;
    }
    if let Some(min_rsa_bits) = min_rsa_bits {
        config.min_rsa_bits = min_rsa_bits;
    }
    if let Some(max_sets) = max_sets {
        if max_sets == 0 || max_sets > arc::MAX_INSTANCE as usize {
            return Err(Error::Config(format!(
                "max_sets must be from 1 to {}, not {max_sets}",
                arc::MAX_INSTANCE
            ))
            .into());
        }
        config.max_sets = max_sets;
    }
    if let Some(oldest_pass) = oldest_pass {
        config.oldest_pass = oldest_pass;
    }
    let mut validator = arc::Validator::new(&config);
    message::feed(py, message, &mut |chunk| validator.feed(chunk))?;
    let check = py.detach(|| validator.finish());
    Ok(PyCheck::new(check))
}

/// What a validation tells about one ARC set.
#[pyclass(frozen, get_all, module = "mailauth.arc", name = "ArcSet")]
pub(crate) struct PyArcSet {
    /// The instance (`i=`).
    instance: u32,
    /// The ARC-Seal's `d=`.
    seal_domain: String,
    /// The ARC-Seal's `s=`.
    seal_selector: String,
    /// The ARC-Message-Signature's `d=`.
    signature_domain: String,
    /// The ARC-Message-Signature's `s=`.
    signature_selector: String,
    /// The ARC-Seal's chain status (`cv=`): "none", "pass" or "fail".
    chain_status: &'static str,
}

#[pymethods]
impl PyArcSet {
    fn __repr__(&self) -> String {
        format!(
            "ArcSet(instance={}, seal_domain={}, seal_selector={}, chain_status={})",
            self.instance,
            py_repr(&self.seal_domain),
            py_repr(&self.seal_selector),
            py_repr(self.chain_status)
        )
    }
}

/// The outcome of validating a message's ARC chain.
#[pyclass(frozen, module = "mailauth.arc", name = "ArcResult")]
pub(crate) struct PyArcResult {
    pub(crate) outcome: arc::Outcome,
    instances: Py<PyTuple>,
}

impl Outcome for arc::Outcome {
    fn to_python(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let instances = self
            .instances
            .iter()
            .map(|set| {
                Py::new(
                    py,
                    PyArcSet {
                        instance: set.instance,
                        seal_domain: set.seal_domain.as_str().to_owned(),
                        seal_selector: set.seal_selector.clone(),
                        signature_domain: set.signature_domain.as_str().to_owned(),
                        signature_selector: set.signature_selector.clone(),
                        chain_status: set.chain_status.as_str(),
                    },
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Py::new(
            py,
            PyArcResult {
                outcome: self.clone(),
                instances: PyTuple::new(py, instances)?.unbind(),
            },
        )?
        .into_any())
    }
}

#[pymethods]
impl PyArcResult {
    /// "none", "pass" or "fail".
    #[getter]
    fn result(&self) -> &'static str {
        self.outcome.result.as_str()
    }

    /// Why the chain fails; None for "none" and "pass".
    #[getter]
    fn reason(&self) -> Option<String> {
        self.outcome.reason.as_ref().map(ToString::to_string)
    }

    /// The number of ARC sets (the highest instance), also when the chain
    /// fails; 0 for "none".
    #[getter]
    fn sets(&self) -> usize {
        self.outcome.sets
    }

    /// `header.oldest-pass`: with a "pass", the lowest instance from which
    /// every ARC-Message-Signature up to the newest validates, 0 when all
    /// of them do; None when not computed or not "pass".
    #[getter]
    fn oldest_pass(&self) -> Option<u32> {
        self.outcome.oldest_pass
    }

    /// One summary per ARC set, oldest first, when the structure of the
    /// chain is sound (empty otherwise).
    #[getter]
    fn instances(&self, py: Python<'_>) -> Py<PyTuple> {
        self.instances.clone_ref(py)
    }

    /// Why the header was not read whole, if it went past a limit.
    #[getter]
    fn header_error(&self) -> Option<String> {
        self.outcome.header_error.map(|e| e.to_string())
    }

    fn __bool__(&self) -> bool {
        self.outcome.result == arc::ArcResult::Pass
    }

    fn __repr__(&self) -> String {
        format!(
            "ArcResult(result={}, sets={}, oldest_pass={}, reason={})",
            py_repr(self.result()),
            self.outcome.sets,
            self.outcome
                .oldest_pass
                .map_or_else(|| "None".to_owned(), |o| o.to_string()),
            py_repr_opt(self.reason().as_deref())
        )
    }

    fn __str__(&self) -> &'static str {
        self.result()
    }
}

/// What sealing a message gave: the new ARC set, or why none is added.
#[pyclass(frozen, get_all, module = "mailauth.arc", name = "ArcSeal")]
pub(crate) struct PyArcSeal {
    /// "sealed", "chain-failed" (no set is added to a chain whose newest
    /// ARC-Seal already says `cv=fail`) or "too-many-sets" (the message
    /// already has the most sets).
    status: &'static str,
    /// The instance of the new set; None when not sealed.
    instance: Option<u32>,
    /// The three fields as (name, value), in the order to insert them one
    /// by one at the top of the message (ARC-Authentication-Results,
    /// ARC-Message-Signature, ARC-Seal); values folded with CRLF SP,
    /// without the final CRLF. Empty when not sealed.
    fields: Vec<(&'static str, String)>,
}

#[pymethods]
impl PyArcSeal {
    /// The fields as header lines, top to bottom (ARC-Seal first), each
    /// ending with `linesep` ("\r\n" or "\n"), ready to put in front of
    /// the message; "" when not sealed.
    #[pyo3(signature = (linesep = "\r\n"))]
    fn header_lines(&self, linesep: &str) -> PyResult<String> {
        if linesep != "\r\n" && linesep != "\n" {
            return Err(Error::Config("linesep must be \"\\r\\n\" or \"\\n\"".to_owned()).into());
        }
        let mut out = String::new();
        for (name, value) in self.fields.iter().rev() {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(&value.replace("\r\n", linesep));
            out.push_str(linesep);
        }
        Ok(out)
    }

    fn __bool__(&self) -> bool {
        self.instance.is_some()
    }

    fn __repr__(&self) -> String {
        format!(
            "ArcSeal(status={}, instance={})",
            py_repr(self.status),
            self.instance
                .map_or_else(|| "None".to_owned(), |i| i.to_string())
        )
    }
}

/// Who seals and how: the sealing domain, selector, private key and the
/// authserv-id written in the ARC-Authentication-Results.
#[pyclass(frozen, module = "mailauth.arc", name = "ArcSealer")]
pub(crate) struct PyArcSealer {
    sealer: Arc<Sealer>,
}

#[pymethods]
impl PyArcSealer {
    /// A sealer for `domain` (`d=`) and `selector` (`s=`) with `key`
    /// (rsa-sha256 or ed25519-sha256 after the key), writing
    /// `authserv_id` in the ARC-Authentication-Results; `headers` are the
    /// fields the ARC-Message-Signature signs when present (default: those
    /// DKIM signs).
    #[new]
    #[pyo3(signature = (*, key, domain, selector, authserv_id, headers = None))]
    fn new(
        key: &PyPrivateKey,
        domain: &str,
        selector: &str,
        authserv_id: &str,
        headers: Option<Vec<String>>,
    ) -> PyResult<PyArcSealer> {
        let mut options = SealOptions::default();
        if let Some(headers) = headers {
            options.headers = headers;
        }
        let sealer = Sealer::new(domain, selector, key.key.clone(), authserv_id, options)
            .map_err(Error::from)?;
        Ok(PyArcSealer {
            sealer: Arc::new(sealer),
        })
    }

    /// The sealer of a settings file's `[arc]` section (`seal` on); None
    /// when the settings do not seal.
    #[staticmethod]
    fn from_settings(settings: &PySettings) -> Option<PyArcSealer> {
        settings.settings().sealer().map(|sealer| PyArcSealer {
            sealer: Arc::new(sealer.clone()),
        })
    }

    /// The sealing domain (`d=`).
    #[getter]
    fn domain(&self) -> &str {
        self.sealer.domain()
    }

    /// The selector (`s=`).
    #[getter]
    fn selector(&self) -> &str {
        self.sealer.selector()
    }

    /// The authserv-id written in the ARC-Authentication-Results.
    #[getter]
    fn authserv_id(&self) -> &str {
        self.sealer.authserv_id()
    }

    /// The algorithm (`a=`): "rsa-sha256" or "ed25519-sha256".
    #[getter]
    fn algorithm(&self) -> &'static str {
        self.sealer.algorithm().as_str()
    }

    /// Seals `message`. `chain` is the result of validating the same
    /// message ("none" gives `cv=none`, "pass" `cv=pass`, "fail"
    /// `cv=fail`); `results` the value of an Authentication-Results field
    /// (`authserv-id; method=result ...`) whose results the
    /// ARC-Authentication-Results records, or None to take them from the
    /// message's own Authentication-Results fields that carry the sealer's
    /// authserv-id. `now` is the sealing time (`t=`).
    #[pyo3(signature = (message, *, chain, results, now))]
    fn seal(
        &self,
        py: Python<'_>,
        message: &Bound<'_, PyAny>,
        chain: &PyArcResult,
        results: Option<&str>,
        now: u64,
    ) -> PyResult<PyArcSeal> {
        let results = match results {
            Some(value) => {
                let value = strip_field_name(value);
                let parsed = AuthenticationResults::parse(value.as_bytes()).map_err(|e| {
                    Error::Config(format!(
                        "results are not an authentication-results value: {e}"
                    ))
                })?;
                Some(parsed.results)
            }
            None => None,
        };
        let mut sealing = self.sealer.start(now);
        message::feed(py, message, &mut |chunk| sealing.update(chunk))?;
        let chain = &chain.outcome;
        let sealed = py
            .detach(|| match &results {
                Some(results) => sealing.finish(chain, results),
                None => sealing.finish_with_header_results(chain),
            })
            .map_err(Error::from)?;
        Ok(match sealed {
            SealOutcome::Sealed(set) => PyArcSeal {
                status: "sealed",
                instance: Some(set.instance()),
                fields: set
                    .fields()
                    .iter()
                    .map(|(name, value)| (*name, (*value).to_owned()))
                    .collect(),
            },
            SealOutcome::ChainFailed => PyArcSeal {
                status: "chain-failed",
                instance: None,
                fields: Vec::new(),
            },
            _ => PyArcSeal {
                status: "too-many-sets",
                instance: None,
                fields: Vec::new(),
            },
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "ArcSealer(domain={}, selector={}, authserv_id={})",
            py_repr(self.domain()),
            py_repr(self.selector()),
            py_repr(self.authserv_id())
        )
    }
}

/// `value` without a leading `Authentication-Results:` field name.
fn strip_field_name(value: &str) -> &str {
    const NAME: &str = "authentication-results:";
    match value.get(..NAME.len()) {
        Some(head) if head.eq_ignore_ascii_case(NAME) => &value[NAME.len()..],
        _ => value,
    }
}
