//! Reading a message handed over from Python, chunk by chunk.
//!
//! A message is `bytes` (or `bytearray`, `memoryview`), a binary file-like
//! object (anything with `read(size)`), or an iterable of such chunks. Only
//! one chunk is held at a time, and each is processed without the GIL.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString};

/// How much is asked of a file-like object per `read` call.
const READ_SIZE: usize = 1 << 20;

/// A chunk as bytes: `bytes` is borrowed, `bytearray` and `memoryview`
/// copied; anything else is `None`.
pub(crate) fn chunk_of(item: &Bound<'_, PyAny>) -> PyResult<Option<PyBackedBytes>> {
    if item.is_instance_of::<PyBytes>() || item.is_instance_of::<PyByteArray>() {
        return Ok(Some(item.extract::<PyBackedBytes>()?));
    }
    if item.is_instance_of::<PyMemoryView>() {
        let bytes = item.call_method0("tobytes")?;
        return Ok(Some(bytes.extract::<PyBackedBytes>()?));
    }
    Ok(None)
}

fn type_name(item: &Bound<'_, PyAny>) -> String {
    item.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

/// Hands every chunk of `message` to `sink`, with the GIL released while
/// `sink` runs.
pub(crate) fn feed(
    py: Python<'_>,
    message: &Bound<'_, PyAny>,
    sink: &mut (dyn FnMut(&[u8]) + Send),
) -> PyResult<()> {
    if let Some(bytes) = chunk_of(message)? {
        py.detach(|| sink(&bytes));
        return Ok(());
    }
    if message.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "message must be bytes, a binary file or an iterable of bytes, not str \
             (encode it, or open the file in binary mode)",
        ));
    }
    if message.hasattr("read")? {
        loop {
            let chunk = message.call_method1("read", (READ_SIZE,))?;
            let Some(bytes) = chunk_of(&chunk)? else {
                return Err(PyTypeError::new_err(format!(
                    "read() returned {}, not bytes: open the file in binary mode",
                    type_name(&chunk)
                )));
            };
            if bytes.is_empty() {
                return Ok(());
            }
            py.detach(|| sink(&bytes));
        }
    }
    let Ok(iter) = message.try_iter() else {
        return Err(PyTypeError::new_err(format!(
            "message must be bytes, a binary file or an iterable of bytes, not {}",
            type_name(message)
        )));
    };
    for item in iter {
        let item = item?;
        let Some(bytes) = chunk_of(&item)? else {
            return Err(PyTypeError::new_err(format!(
                "message chunks must be bytes, not {}",
                type_name(&item)
            )));
        };
        py.detach(|| sink(&bytes));
    }
    Ok(())
}
