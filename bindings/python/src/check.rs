//! `Check`: any sans-IO machine of the core, driven from Python.
//!
//! Every entry point builds a machine and wraps it in a [`PyCheck`]. Python
//! code then either calls `resolve(resolver)` (a blocking loop in Rust: the
//! GIL is released while the machine works and while a bundled resolver
//! looks up) or drives it itself with `poll()` / `supply()` (the asyncio
//! driver of the package does that with an async resolver).

use std::sync::{Mutex, PoisonError};

use mailauth::dns::{Answer, Query};
use mailauth::{Machine, Poll};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::dns::{self, NativeResolver, PyQuery};
use crate::errors::{Error, MailAuthError};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCheck>()
}

/// An outcome of the core that has a Python form.
pub(crate) trait Outcome: Clone + Send + 'static {
    /// The Python result object.
    fn to_python(&self, py: Python<'_>) -> PyResult<Py<PyAny>>;
}

/// A machine with its output type erased.
trait Drivable: Send {
    /// The queries needed now; empty once the outcome is known.
    fn poll(&mut self) -> Vec<Query>;
    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), mailauth::UnexpectedAnswer>;
    /// The outcome, once `poll` returned no query.
    fn outcome(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>>;
}

struct Driven<M: Machine> {
    machine: M,
    done: Option<M::Output>,
}

impl<M> Drivable for Driven<M>
where
    M: Machine + Send,
    M::Output: Outcome,
{
    fn poll(&mut self) -> Vec<Query> {
        if self.done.is_some() {
            return Vec::new();
        }
        match self.machine.poll() {
            Poll::Done(output) => {
                self.done = Some(output);
                Vec::new()
            }
            Poll::Lookups(queries) => queries,
        }
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), mailauth::UnexpectedAnswer> {
        self.machine.supply(query, answer)
    }

    fn outcome(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.done.as_ref().map(|o| o.to_python(py)).transpose()
    }
}

/// A check in progress: a machine of the core waiting for DNS answers.
#[pyclass(frozen, module = "mailauth", name = "Check")]
pub(crate) struct PyCheck {
    machine: Mutex<Box<dyn Drivable>>,
}

impl PyCheck {
    /// Wraps a machine.
    pub(crate) fn new<M>(machine: M) -> PyCheck
    where
        M: Machine + Send + 'static,
        M::Output: Outcome,
    {
        PyCheck {
            machine: Mutex::new(Box::new(Driven {
                machine,
                done: None,
            })),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut dyn Drivable) -> T) -> T {
        let mut guard = self.machine.lock().unwrap_or_else(PoisonError::into_inner);
        f(guard.as_mut())
    }

    /// Polls without the GIL (verifying signatures happens here).
    fn poll_detached(&self, py: Python<'_>) -> Vec<Query> {
        py.detach(|| self.with(|m| m.poll()))
    }

    fn finished(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.with(|m| m.outcome(py))?
            .ok_or_else(|| MailAuthError::new_err("the check has not finished"))
    }

    fn resolve_natively(
        &self,
        py: Python<'_>,
        resolver: &NativeResolver,
        parallel: bool,
    ) -> PyResult<Py<PyAny>> {
        py.detach(|| {
            loop {
                let queries = self.with(|m| m.poll());
                if queries.is_empty() {
                    return;
                }
                // The queries of one poll are independent: a resolver that
                // waits on the network is asked them all at once.
                let answers: Vec<Answer> = if !parallel || queries.len() == 1 {
                    queries.iter().map(|q| resolver.lookup(q)).collect()
                } else {
                    std::thread::scope(|scope| {
                        let handles: Vec<_> = queries
                            .iter()
                            .map(|q| scope.spawn(move || resolver.lookup(q)))
                            .collect();
                        handles
                            .into_iter()
                            .map(|h| {
                                h.join()
                                    .unwrap_or(Answer::TempFail(mailauth::dns::Failure::Other))
                            })
                            .collect()
                    })
                };
                self.with(|m| {
                    for (query, answer) in queries.iter().zip(answers) {
                        // The machine asked for exactly these queries.
                        let _ = m.supply(query, answer);
                    }
                });
            }
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
        self.with(|m| m.supply(&query.query, answer))
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
                let _ = self.with(|m| m.supply(&query, answer));
            }
        }
    }

    fn __repr__(&self) -> &'static str {
        "<mailauth.Check>"
    }
}
