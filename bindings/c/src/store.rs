//! The DMARC report store: sessions' verdicts recorded without delaying
//! mail (`mailauth-store`).

use std::ffi::c_char;
use std::time::Duration;

use ::mailauth_store::Store;

use crate::ffi::{Out, borrow, free_handle, guard, into_handle, tri};
use crate::session::{mailauth_session, mailauth_settings};
use crate::status::mailauth_status::{self, *};
use crate::string::give_string;

/// The report store of a settings file's `[report]` section, recording
/// the DMARC verdict of each message (see `mailauth_store_record`).
///
/// Recording never blocks: verdicts go into a bounded queue that a writer
/// thread drains into the database; when the database is down the writer
/// retries with backoff, and once the queue is full verdicts are dropped
/// and counted (`mailauth_store_lost`).
///
/// Thread-safety: use it from any number of threads at once.
pub struct mailauth_store {
    store: Option<Store>,
}

impl mailauth_store {
    fn store(&self) -> Result<&Store, mailauth_status> {
        self.store.as_ref().ok_or(MAILAUTH_NULL_PARAMETER)
    }
}

impl Drop for mailauth_store {
    fn drop(&mut self) {
        // The writer thread writes what is queued and ends before the
        // handle is gone.
        if let Some(store) = self.store.take() {
            store.close();
        }
    }
}

/// Opens the report store the settings describe (`report.store`,
/// `report.path` or `report.connection`, the queue limits) and starts its
/// writer thread. The database itself is opened by that thread, so a
/// database that is down does not make this fail. On failure `*error`
/// (when `error` is not NULL) receives a message (free it with
/// `mailauth_string_free`) and the status is `MAILAUTH_INVALID_ARGUMENT`.
///
/// Open it in the process that records (after any fork: the writer is a
/// thread).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_store_open(
    settings: *const mailauth_settings,
    out: *mut *mut mailauth_store,
    error: *mut *mut c_char,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or live settings (contract).
        let settings = tri!(unsafe { borrow(settings) });
        let out = tri!(Out::new(out));
        match Store::open(settings.shared()) {
            Ok(store) => out.write(into_handle(mailauth_store { store: Some(store) })),
            Err(e) => {
                if let Ok(error) = Out::new(error) {
                    let _ = give_string(error, &e.to_string());
                }
                MAILAUTH_INVALID_ARGUMENT
            }
        }
    })
}

/// Records the DMARC verdict of the session's ended message (after
/// `mailauth_session_end_of_message` and its resolve): queued, never
/// waited for. `MAILAUTH_OK` also when there is nothing to record (signed
/// mail, a message refused before its end, no DMARC policy) and when the
/// queue was full (the verdict is then counted by `mailauth_store_lost`).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_store_record(
    store: *const mailauth_store,
    session: *const mailauth_session,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live store (contract; shared between threads).
        let store = tri!(unsafe { borrow(store) });
        // SAFETY: NULL or a live session used by this thread only.
        let session = tri!(unsafe { borrow(session) });
        tri!(store.store()).record_session(session.session());
        MAILAUTH_OK
    })
}

/// The number of verdicts dropped so far because the queue was full (the
/// database was down or slower than the mail).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_store_lost(
    store: *const mailauth_store,
    out: *mut u64,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live store (contract).
        let store = tri!(unsafe { borrow(store) });
        tri!(Out::new(out)).write(tri!(store.store()).lost())
    })
}

/// The number of verdicts written to the database so far.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_store_written(
    store: *const mailauth_store,
    out: *mut u64,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live store (contract).
        let store = tri!(unsafe { borrow(store) });
        tri!(Out::new(out)).write(tri!(store.store()).written())
    })
}

/// Waits up to `timeout_ms` milliseconds until every verdict recorded
/// before is written: `MAILAUTH_OK`, or `MAILAUTH_NOT_DONE` on timeout
/// (the database is down). For an orderly stop, not for the mail path.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_store_flush(
    store: *const mailauth_store,
    timeout_ms: u64,
) -> mailauth_status {
    guard(|| {
        // SAFETY: NULL or a live store (contract).
        let store = tri!(unsafe { borrow(store) });
        if tri!(store.store()).flush(Duration::from_millis(timeout_ms)) {
            MAILAUTH_OK
        } else {
            MAILAUTH_NOT_DONE
        }
    })
}

/// Frees the store: waits until the writer thread has written what is
/// queued (a database that is down is retried a few times, for some
/// seconds at most) and ended. NULL is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_store_free(store: *mut mailauth_store) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(store) }
}
