//! `Check`: any sans-IO machine of the core, driven from Python.
//!
//! Every entry point builds a machine and wraps it in a [`PyCheck`]. Python
//! code then either calls `resolve(resolver)` (the core's `Driver` runs the
//! check: the GIL is released while the machine works and while a bundled
//! resolver looks up, and taken for each lookup of a Python resolver) or
//! drives it itself with `poll()` / `supply()` (the asyncio driver of the
//! package does that with an async resolver).
//!
//! [`Driven`] holds the driver and its loops; `Session` (see
//! [`crate::session`]) uses it too, for the stages of an MTA session.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use mailauth::{Driver, Machine, MachineExt};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::dns::{self, PyQuery};
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

/// A machine of the core in a [`Driver`], driven from Python: the lock and
/// the loops that `Check` and `Session` share.
pub(crate) struct Driven<M: Machine> {
    driver: Mutex<Driver<M>>,
}

impl<M> Driven<M>
where
    M: Machine + Send,
    M::Output: Send,
{
    pub(crate) fn new(machine: M) -> Driven<M> {
        Driven {
            driver: Mutex::new(Driver::new(machine)),
        }
    }

    /// Runs `f` on the driver without the GIL (verifying signatures happens
    /// in a poll). The lock is only ever waited for without the GIL, so a
    /// thread holding it may take the GIL (to call a Python resolver)
    /// without deadlock.
    pub(crate) fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Driver<M>) -> T + Send,
    ) -> T {
        py.detach(|| f(&mut self.lock()))
    }

    /// The driver, for a caller that does not hold the GIL (such as the
    /// sink of [`crate::message::feed`]).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Driver<M>> {
        self.driver.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The queries the machine needs answered now (empty once finished).
    pub(crate) fn poll<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let queries = self.with(py, |d| d.poll().to_vec());
        PyList::new(py, queries.into_iter().map(|query| PyQuery { query }))
    }

    /// Hands over what the resolver gave for `query`: a list of records, or
    /// an exception instance.
    pub(crate) fn supply(
        &self,
        py: Python<'_>,
        query: &PyQuery,
        answer: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let answer = if let Ok(exception) = answer.cast::<pyo3::exceptions::PyBaseException>() {
            dns::answer_from_exception(py, PyErr::from_value(exception.clone().into_any()))?
        } else {
            dns::answer_from_value(&query.query, answer)?
        };
        self.with(py, |d| d.supply(&query.query, answer))
            .map_err(Error::from)?;
        Ok(())
    }

    /// Runs the machine to its end with `resolver`: a bundled one entirely
    /// without the GIL, a Python object's `lookup` method with the GIL taken
    /// for each lookup only (an exception that stands for no DNS answer
    /// stops the run and is raised).
    pub(crate) fn run(&self, py: Python<'_>, resolver: &Bound<'_, PyAny>) -> PyResult<()> {
        match dns::native_resolver(resolver) {
            // The queries of one poll are independent: a resolver that waits
            // on the network is asked them all at once.
            Some((native, parallel)) => {
                self.with(py, |d| {
                    if parallel {
                        d.resolve_parallel(&native);
                    } else {
                        d.resolve(&native);
                    }
                });
                Ok(())
            }
            None => {
                let resolver = resolver.clone().unbind();
                self.with(py, |d| {
                    d.try_resolve(|query| {
                        Python::attach(|py| {
                            let outcome = resolver.bind(py).call_method1(
                                "lookup",
                                (PyQuery {
                                    query: query.clone(),
                                },),
                            );
                            dns::answer_from_lookup(py, query, outcome)
                        })
                    })
                })
            }
        }
    }
}

/// A check in progress: a machine of the core waiting for DNS answers.
#[pyclass(frozen, module = "mailauth", name = "Check")]
pub(crate) struct PyCheck {
    driven: Driven<AnyMachine>,
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
            driven: Driven::new(machine),
        }
    }

    fn finished(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.driven.with(py, |d| d.outcome().cloned()) {
            Some(outcome) => outcome.to_python(py),
            None => Err(MailAuthError::new_err("the check has not finished")),
        }
    }
}

#[pymethods]
impl PyCheck {
    /// The queries the check needs answered now; an empty list once it has
    /// finished (then `outcome()` gives the result).
    fn poll<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.driven.poll(py)
    }

    /// Hands over what the resolver gave for `query`: a list of records, or
    /// an exception instance (`NXDomain`, `TempFail`, `TimeoutError`, ...).
    fn supply(&self, py: Python<'_>, query: &PyQuery, answer: &Bound<'_, PyAny>) -> PyResult<()> {
        self.driven.supply(py, query, answer)
    }

    /// The result, once `poll()` returned an empty list.
    fn outcome(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.finished(py)
    }

    /// Runs the check to its end with `resolver` (blocking) and returns the
    /// result.
    #[pyo3(name = "resolve")]
    fn run(&self, py: Python<'_>, resolver: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.driven.run(py, resolver)?;
        self.finished(py)
    }

    fn __repr__(&self) -> &'static str {
        "<mailauth.Check>"
    }
}
