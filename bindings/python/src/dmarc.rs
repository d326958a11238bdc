//! DMARC: `dmarc_check` (policy discovery, then evaluation of given SPF and
//! DKIM results) and the frozen `DmarcResult`.

use mailauth::dmarc::{self, AlignedIdentifier, Check, DkimAuth, Mode, Sample, SpfAuth, Testing};
use mailauth::dns::Name;
use mailauth::message::{HeaderField, HeaderLimits, MessageReader};
use pyo3::prelude::*;

use crate::check::{Outcome, PyCheck};
use crate::dkim::PyDkimResult;
use crate::errors::Error;
use crate::session::PySettings;
use crate::spf::PySpfResult;
use crate::{message, py_repr, py_repr_opt};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDmarcResult>()?;
    m.add_class::<PyPolicyOverride>()?;
    m.add_function(wrap_pyfunction!(dmarc_check, m)?)?;
    Ok(())
}

/// The mode named `mode`.
pub(crate) fn mode_from_str(mode: &str) -> Result<Mode, Error> {
    mode.parse()
        .map_err(|e| Error::Config(format!("dmarc mode {mode:?}: {e}")))
}

/// The pct draw `sample` (0 to 99).
pub(crate) fn sample_from_int(sample: u8) -> Result<Sample, Error> {
    Sample::new(sample).map_err(|e| Error::Config(e.to_string()))
}

/// The header fields of a message.
fn header_of_message(py: Python<'_>, message: &Bound<'_, PyAny>) -> PyResult<Vec<HeaderField>> {
    let mut reader = MessageReader::new(HeaderLimits::default());
    message::feed(py, message, &mut |chunk| {
        if !reader.header_complete() {
            reader.feed(chunk);
        }
    })?;
    reader.finish();
    Ok(reader.take_fields())
}

/// Starts a DMARC check of the message's author domain (or the given one)
/// against SPF and DKIM results computed before. The configuration is
/// that of `settings` (`[dmarc]`), else the default; a `mode` that is not
/// None replaces its mode.
#[pyfunction]
#[pyo3(signature = (message, *, author_domain, spf, dkim, mode, sample, settings))]
#[allow(clippy::too_many_arguments)]
fn dmarc_check(
    py: Python<'_>,
    message: Option<&Bound<'_, PyAny>>,
    author_domain: Option<&str>,
    spf: Option<&PySpfResult>,
    dkim: Option<&PyDkimResult>,
    mode: Option<&str>,
    sample: u8,
    settings: Option<&PySettings>,
) -> PyResult<PyCheck> {
    let sample = sample_from_int(sample)?;
    let mut config = settings.map_or_else(dmarc::Config::default, |s| {
        s.settings().inbound_config().dmarc.clone()
    });
    if let Some(mode) = mode {
        config.mode = mode_from_str(mode)?;
    }
    let check = match (message, author_domain) {
        (Some(message), None) => Check::from_fields(&header_of_message(py, message)?, &config),
        (None, Some(domain)) => Check::from_author_domain(
            &Name::new(domain)
                .map_err(|e| Error::Config(format!("invalid author domain {domain:?}: {e}")))?,
            &config,
        ),
        _ => {
            return Err(
                Error::Config("give either a message or an author_domain".to_owned()).into(),
            );
        }
    };
    let check = check
        .with_spf(spf.and_then(|s| SpfAuth::from_outcome(&s.outcome)))
        .with_dkim(
            dkim.map(|d| DkimAuth::from_verification(&d.verification))
                .unwrap_or_default(),
        )
        .with_sample(sample);
    Ok(PyCheck::new(check))
}

/// The outcome of a DMARC check.
#[pyclass(frozen, module = "mailauth.dmarc", name = "DmarcResult")]
pub(crate) struct PyDmarcResult {
    outcome: dmarc::Outcome,
}

impl Outcome for dmarc::Outcome {
    fn to_python(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(
            py,
            PyDmarcResult {
                outcome: self.clone(),
            },
        )?
        .into_any())
    }
}

#[pymethods]
impl PyDmarcResult {
    /// "pass", "fail", "none", "temperror" or "permerror".
    #[getter]
    fn result(&self) -> &'static str {
        self.outcome.result.as_str()
    }

    /// The RFC5322.From domain, when the message gave one.
    #[getter]
    fn author_domain(&self) -> Option<&str> {
        self.outcome.author_domain.as_ref().map(|n| n.as_str())
    }

    /// Where the policy record was found.
    #[getter]
    fn policy_domain(&self) -> Option<&str> {
        self.outcome.policy_domain.as_ref().map(|n| n.as_str())
    }

    /// The Organizational Domain of the author domain, when known.
    #[getter]
    fn organizational_domain(&self) -> Option<&str> {
        self.outcome
            .organizational_domain
            .as_ref()
            .map(|n| n.as_str())
    }

    /// The published policy that applies: "none", "quarantine" or "reject".
    #[getter]
    fn policy(&self) -> Option<&'static str> {
        self.outcome.policy.map(|p| p.as_str())
    }

    /// Which tag of the record gave the policy: "p", "sp", "np", or
    /// "broken-record" (no valid `p`, read as `p=none`); None when no
    /// policy applied.
    #[getter]
    fn policy_source(&self) -> Option<&'static str> {
        self.outcome.policy_source.map(|p| p.as_str())
    }

    /// What the policy asks the receiver to do: "none", "quarantine" or
    /// "reject" ("none" when the domain is testing its policy).
    #[getter]
    fn disposition(&self) -> &'static str {
        self.outcome.disposition.as_str()
    }

    /// The identifiers that aligned and passed, as ("spf" | "dkim", domain).
    #[getter]
    fn aligned(&self) -> Vec<(&'static str, String)> {
        self.outcome
            .aligned()
            .iter()
            .filter_map(|a| match a {
                AlignedIdentifier::Spf(n) => Some(("spf", n.as_str().to_owned())),
                AlignedIdentifier::Dkim(n) => Some(("dkim", n.as_str().to_owned())),
                _ => None,
            })
            .collect()
    }

    /// Whether the disposition was softened: the domain is testing its
    /// policy (`t=y`), or the message fell outside the `pct` sample.
    #[getter]
    fn testing(&self) -> bool {
        self.outcome.testing != Testing::No
    }

    /// A short explanation.
    #[getter]
    fn reason(&self) -> String {
        self.outcome.reason.to_string()
    }

    /// The local policy override that set the disposition aside (for
    /// instance a trusted ARC sealer vouched for the message); None when
    /// the policy was not overridden.
    #[getter]
    fn policy_override(&self) -> Option<PyPolicyOverride> {
        self.outcome
            .policy_override
            .as_ref()
            .map(|o| PyPolicyOverride {
                kind: o.kind.as_str(),
                comment: o.comment.clone(),
            })
    }

    /// The value of a tag (`p`, `sp`, `np`, `psd`, `t`, `adkim`, `aspf`,
    /// `rua`, `ruf`, `fo`, `pct`, `rf`, `ri`) of the policy record that
    /// applied, defaults included (lists comma-separated, `fo` options
    /// colon-separated); `None` when no record applied or `p`/`sp`/`np` is
    /// absent. `ValueError` for another tag name.
    fn record_tag(&self, tag: &str) -> PyResult<Option<String>> {
        const TAGS: &[&str] = &[
            "p", "sp", "np", "psd", "t", "adkim", "aspf", "rua", "ruf", "fo", "pct", "rf", "ri",
        ];
        if !TAGS.contains(&tag) {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "not a DMARC tag: {tag:?}"
            )));
        }
        Ok(self.outcome.record.as_ref().and_then(|r| r.tag_value(tag)))
    }

    fn __repr__(&self) -> String {
        format!(
            "DmarcResult(result={}, author_domain={}, policy={}, disposition={}, reason={})",
            py_repr(self.result()),
            py_repr_opt(self.author_domain()),
            py_repr_opt(self.policy()),
            py_repr(self.disposition()),
            py_repr(&self.outcome.reason.to_string())
        )
    }

    fn __str__(&self) -> &'static str {
        self.result()
    }
}

/// Why a DMARC disposition was set aside by local policy (the
/// `PolicyOverrideReason` of aggregate reports).
#[pyclass(frozen, get_all, module = "mailauth.dmarc", name = "PolicyOverride")]
pub(crate) struct PyPolicyOverride {
    /// The reason type: "local_policy", "trusted_forwarder",
    /// "mailing_list", "forwarded" or "other".
    #[pyo3(name = "type")]
    kind: &'static str,
    /// What the override rests on (for ARC: `arc=pass as[2].d=...
    /// as[2].s=...`).
    comment: String,
}

#[pymethods]
impl PyPolicyOverride {
    fn __repr__(&self) -> String {
        format!(
            "PolicyOverride(type={}, comment={})",
            py_repr(self.kind),
            py_repr(&self.comment)
        )
    }
}
