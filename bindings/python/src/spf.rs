//! SPF: `spf_check` and the frozen `SpfResult`.

use std::net::IpAddr;

use mailauth::spf;
use pyo3::prelude::*;

use crate::check::{Outcome, PyCheck};
use crate::errors::Error;
use crate::py_repr;
use crate::session::PySettings;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySpfResult>()?;
    m.add_function(wrap_pyfunction!(spf_check, m)?)?;
    Ok(())
}

/// An IP address given as `str` or as an `ipaddress` object.
pub(crate) fn ip_from_python(ip: &Bound<'_, PyAny>) -> PyResult<IpAddr> {
    if let Ok(ip) = ip.extract::<IpAddr>() {
        return Ok(ip);
    }
    let text: String = ip.extract()?;
    text.trim()
        .parse()
        .map_err(|_| Error::Config(format!("invalid ip address {text:?}")).into())
}

/// Starts an SPF check (RFC 7208 check_host()) of the MAIL FROM identity
/// or, with `identity="helo"`, of the HELO name. The configuration is
/// that of `settings` (`[spf]`), else the default; the options that are
/// not None replace its values.
#[pyfunction]
#[pyo3(signature = (ip, *, helo, mail_from, identity, now, receiver, max_void_lookups, max_dns_mechanisms, settings))]
#[allow(clippy::too_many_arguments)]
fn spf_check(
    ip: &Bound<'_, PyAny>,
    helo: &str,
    mail_from: &str,
    identity: &str,
    now: u64,
    receiver: Option<&str>,
    max_void_lookups: Option<usize>,
    max_dns_mechanisms: Option<usize>,
    settings: Option<&PySettings>,
) -> PyResult<PyCheck> {
    let ip = ip_from_python(ip)?;
    let input = match identity {
        "mailfrom" => spf::Input::mail_from(ip, helo, mail_from),
        "helo" => spf::Input::helo(ip, helo),
        other => {
            return Err(Error::Config(format!(
                "identity must be \"mailfrom\" or \"helo\", not {other:?}"
            ))
            .into());
        }
    }
    .at(now);
    let mut config = settings.map_or_else(spf::Config::default, |s| {
        s.settings().inbound_config().spf.clone()
    });
    if let Some(receiver) = receiver {
        config.receiver = receiver.into();
    }
    if let Some(max_void_lookups) = max_void_lookups {
        config.max_void_lookups = max_void_lookups;
    }
    if let Some(max_dns_mechanisms) = max_dns_mechanisms {
        config.max_dns_mechanisms = max_dns_mechanisms;
    }
    Ok(PyCheck::new(spf::Check::new(&input, &config)))
}

/// The outcome of an SPF check.
#[pyclass(frozen, module = "mailauth.spf", name = "SpfResult")]
pub(crate) struct PySpfResult {
    pub(crate) outcome: spf::Outcome,
}

impl Outcome for spf::Outcome {
    fn to_python(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(
            py,
            PySpfResult {
                outcome: self.clone(),
            },
        )?
        .into_any())
    }
}

#[pymethods]
impl PySpfResult {
    /// "pass", "fail", "softfail", "neutral", "none", "temperror" or "permerror".
    #[getter]
    fn result(&self) -> &'static str {
        self.outcome.result.as_str()
    }

    /// The identity checked: "mailfrom" or "helo".
    #[getter]
    fn identity(&self) -> &'static str {
        self.outcome.identity.as_str()
    }

    /// The client's IP address, as text.
    #[getter]
    fn client_ip(&self) -> String {
        self.outcome.client_ip.to_string()
    }

    /// The HELO name given.
    #[getter]
    fn helo(&self) -> &str {
        &self.outcome.helo
    }

    /// The sender checked (`local@domain`; `postmaster@helo` for HELO
    /// and for the null sender).
    #[getter]
    fn sender(&self) -> &str {
        &self.outcome.sender
    }

    /// The domain whose policy was checked.
    #[getter]
    fn domain(&self) -> &str {
        &self.outcome.domain
    }

    /// Why the result is what it is.
    #[getter]
    fn reason(&self) -> String {
        self.outcome.reason.to_string()
    }

    /// The explanation of a `fail` (the domain's `exp=` text or the default).
    #[getter]
    fn explanation(&self) -> Option<&str> {
        self.outcome.explanation.as_deref()
    }

    /// The Received-SPF header field (RFC 7208 §9.1), with its name and
    /// without the final CRLF.
    fn received_spf(&self, receiver: &str) -> String {
        self.outcome.received_spf(receiver)
    }

    fn __repr__(&self) -> String {
        format!(
            "SpfResult(result={}, identity={}, domain={}, reason={})",
            py_repr(self.result()),
            py_repr(self.identity()),
            py_repr(&self.outcome.domain),
            py_repr(&self.reason())
        )
    }

    fn __str__(&self) -> &'static str {
        self.result()
    }
}
