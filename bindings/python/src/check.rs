//! `Check`: any sans-IO machine of the core, driven from Python.
//!
//! Every entry point builds a machine and wraps it in a [`PyCheck`]. Python
//! code then either calls `resolve(resolver)` (a blocking loop in Rust: the
//! GIL is released while the machine works and while a bundled resolver
//! looks up) or drives it itself with `poll()` / `supply()` (the asyncio
//! driver of the package does that with an async resolver).

use std::sync::{Arc, Mutex, PoisonError};

use mailauth::dns::Query;
use mailauth::{Driver, Machine, MachineExt};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::dns::{self, NativeResolver, PyQuery};
use crate::errors::{Error, MailAuthError};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCheck>()
}

/// An outcome of the core that has a Python form.
pub(crate) trait Outcome: Send + Sync + 'static {
    /// The Python result object.
    fn to_python(&self, py: Python<'_>) -> PyResult<Py<PyAny>>;
}

/// A machine of any kind, its outcome shared as its Python form's source.
type AnyMachine = Box<dyn Machine<Output = Arc<dyn Outcome>> + Send>;

/// A check in progress: a machine of the core waiting for DNS answers.
#[pyclass(frozen, module = "mailauth", name = "Check")]
pub(crate) struct PyCheck {
    driver: Mutex<Driver<AnyMachine>>,
}

impl PyCheck {
    /// Wraps a machine.
    pub(crate) fn new<M>(machine: M) -> PyCheck
    where
        M: Machine + Send + 'static,
        M::Output: Outcome,
    {
        let machine: AnyMachine =
            Box::new(machine.map_output(|outcome| Arc::new(outcome) as Arc<dyn Outcome>));
        PyCheck {
            driver: Mutex::new(Driver::new(machine)),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Driver<AnyMachine>) -> T) -> T {
        let mut guard = self.driver.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Polls without the GIL (verifying signatures happens here).
    fn poll_detached(&self, py: Python<'_>) -> Vec<Query> {
        py.detach(|| self.with(|d| d.poll().to_vec()))
    }

    fn finished(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.with(|d| d.outcome().cloned()) {
            Some(outcome) => outcome.to_python(py),
            None => Err(MailAuthError::new_err("the check has not finished")),
        }
    }

    fn resolve_natively(
        &self,
        py: Python<'_>,
        resolver: &NativeResolver,
        parallel: bool,
    ) -> PyResult<Py<PyAny>> {
        // The queries of one poll are independent: a resolver that waits
        // on the network is asked them all at once.
        py.detach(|| {
            self.with(|d| {
                if parallel {
                    d.resolve_parallel(resolver);
                } else {
                    d.resolve(resolver);
                }
            })
        });
        self.finished(py)
    }
}

#[pymethods]
impl PyCheck {
    /// The queries the check needs answered now; an empty list once it has
    /// finished (then `outcome()` gives the result).
    fn poll<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let queries = self.poll_detached(py);
        PyList::new(py, queries.into_iter().map(|query| PyQuery { query }))
    }

    /// Hands over what the resolver gave for `query`: a list of records, or
    /// an exception instance (`NXDomain`, `TempFail`, `TimeoutError`, ...).
    fn supply(&self, py: Python<'_>, query: &PyQuery, answer: &Bound<'_, PyAny>) -> PyResult<()> {
        let answer = if let Ok(exception) = answer.cast::<pyo3::exceptions::PyBaseException>() {
            dns::answer_from_exception(py, PyErr::from_value(exception.clone().into_any()))?
        } else {
            dns::answer_from_value(&query.query, answer)?
        };
        self.with(|d| d.supply(&query.query, answer))
            .map_err(Error::from)?;
        Ok(())
    }

    /// The result, once `poll()` returned an empty list.
    fn outcome(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.finished(py)
    }

    /// Runs the check to its end with `resolver` (blocking) and returns the
    /// result.
    fn resolve(&self, py: Python<'_>, resolver: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Some((native, parallel)) = dns::native_resolver(resolver) {
            return self.resolve_natively(py, &native, parallel);
        }
        loop {
            let queries = self.poll_detached(py);
            if queries.is_empty() {
                return self.finished(py);
            }
            for query in queries {
                let outcome = resolver.call_method1(
                    "lookup",
                    (PyQuery {
                        query: query.clone(),
                    },),
                );
                let answer = dns::answer_from_lookup(py, &query, outcome)?;
                // The machine asked for exactly this query.
                let _ = self.with(|d| d.supply(&query, answer));
            }
        }
    }

    fn __repr__(&self) -> &'static str {
        "<mailauth.Check>"
    }
}
