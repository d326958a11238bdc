//! Authentication-Results (RFC 8601) as frozen Python objects, and `parse`.

use mailauth::authres::{AuthenticationResults, FIELD_NAME, MethodResult, Property};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};

use crate::errors::ParseError;
use crate::{py_repr, py_repr_opt};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyAuthenticationResults>()?;
    m.add_class::<PyMethodResult>()?;
    m.add_class::<PyProperty>()?;
    m.add_function(wrap_pyfunction!(authres_parse, m)?)?;
    Ok(())
}

/// One `ptype.property=value` of a result.
#[pyclass(frozen, eq, module = "mailauth.authres", name = "Property")]
#[derive(PartialEq, Eq)]
pub(crate) struct PyProperty {
    property: Property,
}

#[pymethods]
impl PyProperty {
    /// The property type: "smtp", "header", "body", "policy", ...
    #[getter]
    fn property_type(&self) -> &str {
        &self.property.property_type
    }

    /// The property: "mailfrom", "d", "from", ...
    #[getter]
    fn name(&self) -> &str {
        &self.property.property
    }

    /// The value, unquoted.
    #[getter]
    fn value(&self) -> &str {
        &self.property.value
    }

    fn __repr__(&self) -> String {
        format!(
            "Property({}, {}, {})",
            py_repr(&self.property.property_type),
            py_repr(&self.property.property),
            py_repr(&self.property.value)
        )
    }

    fn __str__(&self) -> String {
        format!(
            "{}.{}={}",
            self.property.property_type, self.property.property, self.property.value
        )
    }
}

/// One `method=result` with its reason and properties.
#[pyclass(frozen, module = "mailauth.authres", name = "MethodResult")]
pub(crate) struct PyMethodResult {
    result: MethodResult,
    properties: Py<PyTuple>,
}

impl PyMethodResult {
    fn new(py: Python<'_>, result: &MethodResult) -> PyResult<PyMethodResult> {
        let properties = result
            .properties
            .iter()
            .map(|p| {
                Py::new(
                    py,
                    PyProperty {
                        property: p.clone(),
                    },
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyMethodResult {
            result: result.clone(),
            properties: PyTuple::new(py, properties)?.unbind(),
        })
    }
}

#[pymethods]
impl PyMethodResult {
    /// The method: "spf", "dkim", "dmarc", ...
    #[getter]
    fn method(&self) -> &str {
        &self.result.method
    }

    /// The result: "pass", "fail", ...
    #[getter]
    fn result(&self) -> &str {
        &self.result.result
    }

    /// The `reason=` text, if any.
    #[getter]
    fn reason(&self) -> Option<&str> {
        self.result.reason.as_deref()
    }

    /// The properties, in field order.
    #[getter]
    fn properties(&self, py: Python<'_>) -> Py<PyTuple> {
        self.properties.clone_ref(py)
    }

    /// The value of the first property `property_type.name`, if present.
    fn get(&self, property_type: &str, name: &str) -> Option<&str> {
        self.result
            .properties
            .iter()
            .find(|p| {
                p.property_type.eq_ignore_ascii_case(property_type)
                    && p.property.eq_ignore_ascii_case(name)
            })
            .map(|p| p.value.as_str())
    }

    fn __repr__(&self) -> String {
        let properties: Vec<String> = self
            .result
            .properties
            .iter()
            .map(|p| format!("{}.{}={}", p.property_type, p.property, p.value))
            .collect();
        format!(
            "MethodResult(method={}, result={}, reason={}, properties={})",
            py_repr(&self.result.method),
            py_repr(&self.result.result),
            py_repr_opt(self.result.reason.as_deref()),
            py_repr(&properties.join(" "))
        )
    }
}

/// One Authentication-Results header field.
#[pyclass(frozen, module = "mailauth.authres", name = "AuthenticationResults")]
pub(crate) struct PyAuthenticationResults {
    field: AuthenticationResults,
    results: Py<PyTuple>,
}

impl PyAuthenticationResults {
    pub(crate) fn new(
        py: Python<'_>,
        field: &AuthenticationResults,
    ) -> PyResult<PyAuthenticationResults> {
        let results = field
            .results
            .iter()
            .map(|r| Py::new(py, PyMethodResult::new(py, r)?))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyAuthenticationResults {
            field: field.clone(),
            results: PyTuple::new(py, results)?.unbind(),
        })
    }
}

#[pymethods]
impl PyAuthenticationResults {
    /// The authserv-id: the host that wrote the field.
    #[getter]
    fn authserv_id(&self) -> &str {
        &self.field.authserv_id
    }

    /// The authres-version, when written.
    #[getter]
    fn version(&self) -> Option<u32> {
        self.field.version
    }

    /// The results, in field order.
    #[getter]
    fn results(&self, py: Python<'_>) -> Py<PyTuple> {
        self.results.clone_ref(py)
    }

    /// The first result of `method` (e.g. "dkim"), if any.
    fn get(&self, py: Python<'_>, method: &str) -> PyResult<Option<Py<PyMethodResult>>> {
        for item in self.results.bind(py).iter() {
            let result = item.cast_into::<PyMethodResult>()?;
            if result.get().result.method.eq_ignore_ascii_case(method) {
                return Ok(Some(result.unbind()));
            }
        }
        Ok(None)
    }

    /// The whole field, `Authentication-Results: ...`, folded with CRLF and
    /// a tab, without the final CRLF.
    fn to_header_field(&self) -> String {
        self.field.to_header_field()
    }

    /// The field value on one line, without the field name.
    fn __str__(&self) -> String {
        self.field.to_header_value()
    }

    fn __repr__(&self) -> String {
        format!(
            "AuthenticationResults({})",
            py_repr(&self.field.to_header_value())
        )
    }
}

/// Parses an Authentication-Results field: its value, or the whole field
/// with its name.
#[pyfunction]
fn authres_parse(py: Python<'_>, field: &Bound<'_, PyAny>) -> PyResult<PyAuthenticationResults> {
    let bytes: Vec<u8> = if let Ok(text) = field.cast::<PyString>() {
        text.extract::<String>()?.into_bytes()
    } else if let Ok(bytes) = field.cast::<PyBytes>() {
        bytes.as_bytes().to_vec()
    } else {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "an Authentication-Results field must be str or bytes",
        ));
    };
    let value = strip_field_name(&bytes);
    let parsed = AuthenticationResults::parse(value)
        .map_err(|e| ParseError::new_err(format!("invalid Authentication-Results: {e}")))?;
    PyAuthenticationResults::new(py, &parsed)
}

/// The value of `Authentication-Results: value`, or the input unchanged
/// when it does not start with the field name.
fn strip_field_name(field: &[u8]) -> &[u8] {
    let name = FIELD_NAME.as_bytes();
    match field.get(..name.len()) {
        Some(start) if start.eq_ignore_ascii_case(name) => {
            let rest = &field[name.len()..];
            let trimmed = rest
                .iter()
                .position(|b| *b != b' ' && *b != b'\t')
                .map_or(rest, |i| &rest[i..]);
            trimmed.strip_prefix(b":").unwrap_or(field)
        }
        _ => field,
    }
}
