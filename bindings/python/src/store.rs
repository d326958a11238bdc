//! `mailauth.Store`: the DMARC report store (`mailauth-store`).

use std::sync::Mutex;
use std::time::Duration;

use mailauth_store::Store;
use pyo3::prelude::*;

use crate::errors::{ConfigError, MailAuthError};
use crate::session::{PySession, PySettings};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStore>()?;
    Ok(())
}

/// The report store of a settings file's `[report]` section: records the
/// DMARC verdict of each message without delaying mail (a bounded queue
/// that a writer thread drains; when the database is down, verdicts
/// beyond the queue are dropped and counted in `lost`).
#[pyclass(frozen, module = "mailauth", name = "Store")]
pub(crate) struct PyStore {
    store: Mutex<Option<Store>>,
}

impl PyStore {
    fn with<T>(&self, f: impl FnOnce(&Store) -> T) -> PyResult<T> {
        let guard = self
            .store
            .lock()
            .map_err(|_| MailAuthError::new_err("the store's lock is poisoned"))?;
        guard
            .as_ref()
            .map(f)
            .ok_or_else(|| MailAuthError::new_err("the store is closed"))
    }
}

#[pymethods]
impl PyStore {
    /// Opens the store the settings describe and starts its writer (the
    /// database is opened by the writer: one that is down does not make
    /// this fail).
    #[staticmethod]
    fn open(settings: &PySettings) -> PyResult<PyStore> {
        let store =
            Store::open(settings.shared()).map_err(|e| ConfigError::new_err(e.to_string()))?;
        Ok(PyStore {
            store: Mutex::new(Some(store)),
        })
    }

    /// Records the verdict of the session's ended message; never waits.
    /// False when there is none (signed mail, refused before the end, no
    /// DMARC policy) or the queue was full.
    fn record(&self, py: Python<'_>, session: &PySession) -> PyResult<bool> {
        let verdict = session.read(py, |s| s.report_verdict());
        match verdict {
            Some(verdict) => self.with(|store| store.record(verdict)),
            None => Ok(false),
        }
    }

    /// Verdicts dropped because the queue was full.
    #[getter]
    fn lost(&self) -> PyResult<u64> {
        self.with(Store::lost)
    }

    /// Verdicts written to the database.
    #[getter]
    fn written(&self) -> PyResult<u64> {
        self.with(Store::written)
    }

    /// Waits up to `timeout` seconds until what was recorded is written;
    /// False on timeout.
    #[pyo3(signature = (timeout = 30.0))]
    fn flush(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let store = self.with(Store::clone)?;
        let timeout = Duration::try_from_secs_f64(timeout.max(0.0))
            .map_err(|e| ConfigError::new_err(e.to_string()))?;
        Ok(py.detach(|| store.flush(timeout)))
    }

    /// Writes what is queued and stops the writer; the store cannot record
    /// afterwards. Closing twice does nothing.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let store = self
            .store
            .lock()
            .map_err(|_| MailAuthError::new_err("the store's lock is poisoned"))?
            .take();
        if let Some(store) = store {
            py.detach(|| store.close());
        }
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*args))]
    fn __exit__(&self, py: Python<'_>, args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        // The exception, if any, is not handled here.
        let _ = args;
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        match self.with(|s| (s.written(), s.lost())) {
            Ok((written, lost)) => format!("<mailauth.Store written={written} lost={lost}>"),
            Err(_) => "<mailauth.Store closed>".to_owned(),
        }
    }
}
