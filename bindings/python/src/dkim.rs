//! DKIM: verification (`dkim_verify` -> a `Check`), signing, private keys.

use std::sync::Arc;

use mailauth::dkim::canon::Canonicalization;
use mailauth::dkim::crypto::SigningKey;
use mailauth::dkim::keygen::{self, KeyRecord, NewKey};
use mailauth::dkim::sign::{self, SignOptions, Signer};
use mailauth::dkim::verify::{SignatureResult, Verification, Verifier, VerifyConfig};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyString, PyTuple};

use crate::check::{Outcome, PyCheck};
use crate::errors::Error;
use crate::message;
use crate::session::PySettings;
use crate::{py_repr, py_repr_opt};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySignatureResult>()?;
    m.add_class::<PyDkimResult>()?;
    m.add_class::<PyPrivateKey>()?;
    m.add_function(wrap_pyfunction!(dkim_verify, m)?)?;
    m.add_function(wrap_pyfunction!(dkim_sign, m)?)?;
    m.add_function(wrap_pyfunction!(generate_key, m)?)?;
    m.add(
        "DEFAULT_HEADERS",
        PyTuple::new(m.py(), sign::DEFAULT_HEADERS)?,
    )?;
    Ok(())
}

/// Reads `message` and starts the key lookups of its DKIM signatures.
/// The configuration is that of `settings` (`[verify]`), else the default;
/// the options that are not None replace its values.
#[pyfunction]
#[pyo3(signature = (message, *, now, allow_sha1, min_rsa_bits, max_signatures, settings))]
fn dkim_verify(
    py: Python<'_>,
    message: &Bound<'_, PyAny>,
    now: u64,
    allow_sha1: Option<bool>,
    min_rsa_bits: Option<usize>,
    max_signatures: Option<usize>,
    settings: Option<&PySettings>,
) -> PyResult<PyCheck> {
    let mut config = settings.map_or_else(VerifyConfig::default, |s| {
        s.settings().inbound_config().dkim.clone()
    });
    if let Some(allow_sha1) = allow_sha1 {
        config.allow_sha1 = allow_sha1;
    }
    if let Some(min_rsa_bits) = min_rsa_bits {
        config.min_rsa_bits = min_rsa_bits;
    }
    if let Some(max_signatures) = max_signatures {
        config.max_signatures = max_signatures;
    }
    let mut verifier = Verifier::new(&config, now);
    message::feed(py, message, &mut |chunk| verifier.feed(chunk))?;
    let check = py.detach(|| verifier.finish());
    Ok(PyCheck::new(check))
}

/// The outcome for one DKIM-Signature field.
#[pyclass(frozen, module = "mailauth.dkim", name = "SignatureResult")]
pub(crate) struct PySignatureResult {
    result: SignatureResult,
}

#[pymethods]
impl PySignatureResult {
    /// "pass", "fail", "neutral", "policy", "temperror" or "permerror".
    #[getter]
    fn result(&self) -> &'static str {
        self.result.result.as_str()
    }

    /// Why the signature did not pass; None for a pass.
    #[getter]
    fn reason(&self) -> Option<String> {
        self.result.reason.as_ref().map(ToString::to_string)
    }

    /// The signing domain (`d=`).
    #[getter]
    fn domain(&self) -> Option<&str> {
        self.result.domain.as_ref().map(|d| d.as_str())
    }

    /// The selector (`s=`).
    #[getter]
    fn selector(&self) -> Option<&str> {
        self.result.selector.as_deref()
    }

    /// The algorithm (`a=`), e.g. "rsa-sha256".
    #[getter]
    fn algorithm(&self) -> Option<&'static str> {
        self.result.algorithm.map(|a| a.as_str())
    }

    /// The identity (`i=`, or `@` + `d=`).
    #[getter]
    fn identity(&self) -> Option<String> {
        self.result.identity.as_ref().map(ToString::to_string)
    }

    /// The first characters of `b=` (`header.b` in Authentication-Results).
    #[getter]
    fn signature_prefix(&self) -> Option<&str> {
        self.result.signature_prefix.as_deref()
    }

    /// The key size in bits, once the key was read.
    #[getter]
    fn key_bits(&self) -> Option<usize> {
        self.result.key_bits
    }

    /// `l=`, when present.
    #[getter]
    fn body_length(&self) -> Option<u64> {
        self.result.body_length
    }

    /// Body octets after `l=`, not covered by the signature.
    #[getter]
    fn unsigned_body_octets(&self) -> u64 {
        self.result.unsigned_body_octets
    }

    /// The key record says the domain is testing DKIM (`t=y`).
    #[getter]
    fn testing(&self) -> bool {
        self.result.testing
    }

    fn __repr__(&self) -> String {
        format!(
            "SignatureResult(result={}, domain={}, selector={}, algorithm={}, reason={})",
            py_repr(self.result()),
            py_repr_opt(self.domain()),
            py_repr_opt(self.selector()),
            py_repr_opt(self.algorithm()),
            py_repr_opt(self.reason().as_deref())
        )
    }
}

/// The outcome of verifying a message: one result per signature.
#[pyclass(frozen, module = "mailauth.dkim", name = "DkimResult")]
pub(crate) struct PyDkimResult {
    pub(crate) verification: Verification,
    signatures: Py<PyTuple>,
}

impl Outcome for Verification {
    fn to_python(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let signatures = self
            .signatures
            .iter()
            .map(|s| Py::new(py, PySignatureResult { result: s.clone() }))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Py::new(
            py,
            PyDkimResult {
                verification: self.clone(),
                signatures: PyTuple::new(py, signatures)?.unbind(),
            },
        )?
        .into_any())
    }
}

#[pymethods]
impl PyDkimResult {
    /// One result per DKIM-Signature field, in message order.
    #[getter]
    fn signatures(&self, py: Python<'_>) -> Py<PyTuple> {
        self.signatures.clone_ref(py)
    }

    /// The message's result: "pass" when a signature passed, "none" without
    /// signatures, else the result of the first signature.
    #[getter]
    fn result(&self) -> &'static str {
        let signatures = &self.verification.signatures;
        if self.verification.passed().next().is_some() {
            "pass"
        } else {
            signatures.first().map_or("none", |s| s.result.as_str())
        }
    }

    /// The domains whose signatures passed, in message order.
    #[getter]
    fn passed_domains(&self) -> Vec<String> {
        self.verification
            .passed()
            .filter_map(|s| s.domain.as_ref().map(|d| d.as_str().to_owned()))
            .collect()
    }

    /// Why the header could not be read whole, if it went past a limit.
    #[getter]
    fn header_error(&self) -> Option<String> {
        self.verification.header_error.map(|e| e.to_string())
    }

    /// Whether the empty line between header and body was found (False:
    /// the message is all header and the body is empty).
    #[getter]
    fn header_complete(&self) -> bool {
        self.verification.header_complete
    }

    fn __bool__(&self) -> bool {
        self.verification.passed().next().is_some()
    }

    fn __len__(&self) -> usize {
        self.verification.signatures.len()
    }

    fn __repr__(&self) -> String {
        let parts: Vec<String> = self
            .verification
            .signatures
            .iter()
            .map(|s| {
                format!(
                    "{}:{}",
                    s.domain.as_ref().map_or("?", |d| d.as_str()),
                    s.result.as_str()
                )
            })
            .collect();
        format!(
            "DkimResult(result={}, signatures=[{}])",
            py_repr(self.result()),
            parts.join(", ")
        )
    }
}

/// A private key to sign with (RSA or Ed25519).
#[pyclass(frozen, module = "mailauth.dkim", name = "PrivateKey")]
pub(crate) struct PyPrivateKey {
    pub(crate) key: Arc<SigningKey>,
}

fn bytes_or_text(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(text) = data.cast::<PyString>() {
        return Ok(text.extract::<String>()?.into_bytes());
    }
    data.extract::<PyBackedBytes>()
        .map(|b| b.to_vec())
        .map_err(|_| PyTypeError::new_err("a key must be given as bytes or str"))
}

#[pymethods]
impl PyPrivateKey {
    /// Reads a PEM private key: PKCS#8 (RSA or Ed25519) or PKCS#1 RSA.
    #[staticmethod]
    fn from_pem(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<PyPrivateKey> {
        let data = bytes_or_text(data)?;
        let key = py
            .detach(|| SigningKey::from_pem(&data))
            .map_err(Error::from)?;
        Ok(PyPrivateKey { key: Arc::new(key) })
    }

    /// Reads a DER private key: PKCS#8 (RSA or Ed25519) or PKCS#1 RSA.
    #[staticmethod]
    fn from_der(py: Python<'_>, data: &[u8]) -> PyResult<PyPrivateKey> {
        let key = py
            .detach(|| SigningKey::from_der(data))
            .map_err(Error::from)?;
        Ok(PyPrivateKey { key: Arc::new(key) })
    }

    /// An Ed25519 key from its 32-byte seed (the RFC 8032 secret key).
    #[staticmethod]
    fn from_ed25519_seed(seed: &[u8]) -> PyResult<PyPrivateKey> {
        let seed: &[u8; 32] = seed.try_into().map_err(|_| {
            Error::Config(format!("an ed25519 seed is 32 bytes, not {}", seed.len()))
        })?;
        let key = SigningKey::from_ed25519_seed(seed).map_err(Error::from)?;
        Ok(PyPrivateKey { key: Arc::new(key) })
    }

    /// "rsa" or "ed25519".
    #[getter]
    fn key_type(&self) -> &'static str {
        self.key.key_type().as_str()
    }

    /// The key size in bits (256 for Ed25519).
    #[getter]
    fn bits(&self) -> usize {
        self.key.bits()
    }

    /// The private key as PKCS#8 DER.
    fn to_der<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let der = self.key.to_pkcs8_der().map_err(|e| Error::Sign(e.into()))?;
        Ok(PyBytes::new(py, &der))
    }

    /// The private key as PEM (`-----BEGIN PRIVATE KEY-----`, PKCS#8).
    fn to_pem(&self) -> PyResult<String> {
        Ok(self.key.to_pkcs8_pem().map_err(|e| Error::Sign(e.into()))?)
    }

    /// The public key as it goes into `p=` (before base64).
    fn public_key_der<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.key.public_key_der())
    }

    /// The key record to publish at `selector._domainkey.domain`:
    /// `v=DKIM1; k=...; p=...`.
    #[pyo3(signature = (*, testing = false))]
    fn dns_record(&self, testing: bool) -> String {
        KeyRecord::for_key(&self.key).with_testing(testing).text()
    }

    /// The key record in zone-file form, as opendkim-genkey writes it.
    #[pyo3(signature = (selector, domain, *, testing = false))]
    fn zone_entry(&self, selector: &str, domain: &str, testing: bool) -> PyResult<String> {
        sign::validate_selector(selector).map_err(Error::from)?;
        sign::validate_domain(domain).map_err(Error::from)?;
        Ok(KeyRecord::for_key(&self.key)
            .with_testing(testing)
            .zone_entry(selector, domain))
    }

    fn __repr__(&self) -> String {
        format!(
            "PrivateKey(key_type={}, bits={})",
            py_repr(self.key_type()),
            self.bits()
        )
    }
}

/// Generates a private key: "ed25519", or "rsa" of `bits` bits.
#[pyfunction]
#[pyo3(signature = (key_type = "rsa", *, bits = None))]
fn generate_key(py: Python<'_>, key_type: &str, bits: Option<usize>) -> PyResult<PyPrivateKey> {
    let new_key = match key_type {
        "rsa" => NewKey::Rsa {
            bits: bits.unwrap_or(keygen::RSA_DEFAULT_BITS),
        },
        "ed25519" => {
            if bits.is_some_and(|b| b != 256) {
                return Err(Error::Config("ed25519 keys have 256 bits".to_owned()).into());
            }
            NewKey::Ed25519
        }
        other => {
            return Err(Error::Config(format!(
                "key type must be \"rsa\" or \"ed25519\", not {other:?}"
            ))
            .into());
        }
    };
    let generated = py
        .detach(|| keygen::generate(new_key))
        .map_err(Error::from)?;
    Ok(PyPrivateKey {
        key: Arc::new(generated.into_signing_key()),
    })
}

/// Signs `message`; returns the DKIM-Signature field to prepend, with its
/// name and final line break. The options are those of `settings`
/// (`[signing]`), else the default; the ones that are not None replace
/// them (`expire_after=0`: no `x=`).
#[pyfunction]
#[pyo3(signature = (message, *, key, domain, selector, now, identity, headers, oversign, canonicalization, timestamp, expire_after, body_length, linesep, settings))]
#[allow(clippy::too_many_arguments)]
fn dkim_sign(
    py: Python<'_>,
    message: &Bound<'_, PyAny>,
    key: &PyPrivateKey,
    domain: &str,
    selector: &str,
    now: u64,
    identity: Option<&str>,
    headers: Option<Vec<String>>,
    oversign: Option<Vec<String>>,
    canonicalization: Option<&str>,
    timestamp: Option<bool>,
    expire_after: Option<u64>,
    body_length: Option<bool>,
    linesep: &str,
    settings: Option<&PySettings>,
) -> PyResult<String> {
    if linesep != "\r\n" && linesep != "\n" {
        return Err(Error::Config("linesep must be \"\\r\\n\" or \"\\n\"".to_owned()).into());
    }
    let mut options = settings.map_or_else(SignOptions::default, |s| {
        s.settings().sign_options().clone()
    });
    if let Some(canonicalization) = canonicalization {
        options.canonicalization =
            Canonicalization::from_tag(canonicalization).ok_or_else(|| {
                Error::Config(format!(
                    "canonicalization must be header/body with simple or relaxed, not {canonicalization:?}"
                ))
            })?;
    }
    if let Some(headers) = headers {
        options.headers = headers;
    }
    if let Some(oversign) = oversign {
        options.oversigned = oversign;
    }
    if let Some(timestamp) = timestamp {
        options.timestamp = timestamp;
    }
    if let Some(expire_after) = expire_after {
        options.expire_after = (expire_after > 0).then_some(expire_after);
    }
    if let Some(body_length) = body_length {
        options.body_length = body_length;
    }
    let mut signer =
        Signer::new(domain, selector, key.key.clone(), options).map_err(Error::from)?;
    if let Some(identity) = identity {
        signer = signer.with_identity(identity).map_err(Error::from)?;
    }
    let mut signing = signer.start(now);
    message::feed(py, message, &mut |chunk| signing.update(chunk))?;
    let field = py.detach(|| signing.finish()).map_err(Error::from)?;
    Ok(if linesep == "\n" {
        field.to_header_line_lf()
    } else {
        field.into_header_line()
    })
}
