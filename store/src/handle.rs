//! [`Store`]: what a front end (the milter, the C and Python bindings)
//! records sessions' verdicts with.

use std::sync::Arc;
use std::time::Duration;

use mailauth::report::Verdict;
use mailauth::session::{Session, Settings};

use crate::recorder::{Connect, Recorder, RecorderConfig};
use crate::store::StoreError;

/// Records DMARC verdicts in the report store without delaying mail: a
/// [`Recorder`] of [`Verdict`]s. Cheap to clone; `Send` and `Sync`.
#[derive(Debug, Clone)]
pub struct Store {
    recorder: Recorder<Verdict>,
}

impl Store {
    /// The store of the settings' `[report]` section. The database is
    /// opened by the writer thread, so a store that is down does not make
    /// this fail: its verdicts wait in the queue while the writer retries.
    ///
    /// # Errors
    /// [`StoreError::Config`] for settings that cannot work, or when the
    /// writer thread cannot be started.
    pub fn open(settings: &Arc<Settings>) -> Result<Store, StoreError> {
        Store::with(
            crate::settings::connector(settings),
            crate::settings::recorder_config(settings)?,
        )
    }

    /// A store that `connect` opens, with these limits.
    ///
    /// # Errors
    /// [`StoreError::Config`] when the writer thread cannot be started.
    pub fn with(connect: Connect, config: RecorderConfig) -> Result<Store, StoreError> {
        let recorder = Recorder::start(connect, config)
            .map_err(|e| StoreError::Config(format!("cannot start the writer: {e}")))?;
        Ok(Store { recorder })
    }

    /// Queues a verdict (counted in the period of its
    /// [`time`](Verdict::time)); never waits. `false` when the queue was
    /// full and the verdict dropped (see [`lost`](Self::lost)).
    pub fn record(&self, verdict: Verdict) -> bool {
        let time = verdict.time;
        self.recorder.record(verdict, time)
    }

    /// Queues the verdict of the session's ended message
    /// ([`Session::report_verdict`]); never waits. `false` when there is
    /// none (the message was not checked, or no DMARC policy applied) or
    /// it was dropped.
    pub fn record_session(&self, session: &Session) -> bool {
        session
            .report_verdict()
            .is_some_and(|verdict| self.record(verdict))
    }

    /// Verdicts dropped so far because the queue was full.
    pub fn lost(&self) -> u64 {
        self.recorder.lost()
    }

    /// Verdicts written to the store so far.
    pub fn written(&self) -> u64 {
        self.recorder.written()
    }

    /// Waits up to `timeout` until what was queued before is written;
    /// `false` on timeout.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.recorder.flush(timeout)
    }

    /// Drops this handle; the last one waits for what is queued to be
    /// written (see [`Recorder::close`]).
    pub fn close(self) {
        self.recorder.close();
    }

    /// The recorder underneath.
    pub fn recorder(&self) -> &Recorder<Verdict> {
        &self.recorder
    }
}
