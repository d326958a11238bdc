//! The helpers every export goes through: the panic boundary and the
//! checked conversion of C pointers.

use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::status::mailauth_status;

/// Runs `body`, turning a panic into `MAILAUTH_PANIC`.
///
/// The state a panicking call leaves behind is not trusted to be consistent,
/// but it stays memory-safe: handles hold only owned Rust values.
pub(crate) fn guard(body: impl FnOnce() -> mailauth_status) -> mailauth_status {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(mailauth_status::MAILAUTH_PANIC)
}

/// Frees a handle made by [`into_handle`]; NULL is a no-op. Used by every
/// `_free` function.
///
/// # Safety
/// `handle` is NULL or a pointer returned by [`into_handle`] for the same
/// `T`, not freed before.
pub(crate) unsafe fn free_handle<T>(handle: *mut T) {
    if handle.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller passes a pointer made by `Box::into_raw` for a
        // `T`, still owned by them, and gives up ownership here.
        drop(unsafe { Box::from_raw(handle) });
    }));
}

/// Moves `value` to the heap and gives out the owning pointer.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Borrows a `const` handle; `Err(MAILAUTH_NULL_PARAMETER)` for NULL.
///
/// # Safety
/// `pointer` is NULL or points to a live `T` that nothing mutates during
/// the call.
pub(crate) unsafe fn borrow<'a, T>(pointer: *const T) -> Result<&'a T, mailauth_status> {
    // SAFETY: upheld by the caller.
    unsafe { pointer.as_ref() }.ok_or(mailauth_status::MAILAUTH_NULL_PARAMETER)
}

/// Borrows a mutable handle; `Err(MAILAUTH_NULL_PARAMETER)` for NULL.
///
/// # Safety
/// `pointer` is NULL or points to a live `T` that nothing else uses during
/// the call.
pub(crate) unsafe fn borrow_mut<'a, T>(pointer: *mut T) -> Result<&'a mut T, mailauth_status> {
    // SAFETY: upheld by the caller.
    unsafe { pointer.as_mut() }.ok_or(mailauth_status::MAILAUTH_NULL_PARAMETER)
}

/// The bytes `(data, len)`: NULL is allowed only with `len == 0`; a length
/// over `isize::MAX` is refused.
///
/// # Safety
/// When `data` is not NULL it points to `len` readable bytes that stay
/// unchanged during the call.
pub(crate) unsafe fn bytes<'a>(data: *const u8, len: usize) -> Result<&'a [u8], mailauth_status> {
    if data.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(mailauth_status::MAILAUTH_NULL_PARAMETER)
        };
    }
    if len > isize::MAX as usize {
        return Err(mailauth_status::MAILAUTH_INVALID_ARGUMENT);
    }
    // SAFETY: non-NULL, `len` readable bytes (caller), size checked above.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `text` is NULL or points to a NUL-terminated string that stays
/// unchanged during the call.
pub(crate) unsafe fn text<'a>(text: *const c_char) -> Result<&'a str, mailauth_status> {
    if text.is_null() {
        return Err(mailauth_status::MAILAUTH_NULL_PARAMETER);
    }
    // SAFETY: non-NULL and NUL-terminated (caller).
    let c_text = unsafe { CStr::from_ptr(text) };
    c_text
        .to_str()
        .map_err(|_| mailauth_status::MAILAUTH_INVALID_ARGUMENT)
}

/// An out parameter, checked for NULL before any work is done.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    /// `Err(MAILAUTH_NULL_PARAMETER)` for NULL.
    pub(crate) fn new(pointer: *mut T) -> Result<Out<T>, mailauth_status> {
        if pointer.is_null() {
            Err(mailauth_status::MAILAUTH_NULL_PARAMETER)
        } else {
            Ok(Out(pointer))
        }
    }

    /// Writes `value` and returns `MAILAUTH_OK`, or returns
    /// `MAILAUTH_ABSENT` (writing nothing) for `None`.
    pub(crate) fn write_optional(self, value: Option<T>) -> mailauth_status {
        match value {
            Some(value) => self.write(value),
            None => mailauth_status::MAILAUTH_ABSENT,
        }
    }

    /// Writes the output and returns `MAILAUTH_OK`.
    ///
    /// The pointer was checked non-NULL; the exported function's contract
    /// says it points to writable memory for a `T`.
    pub(crate) fn write(self, value: T) -> mailauth_status {
        // SAFETY: non-NULL (checked in `new`), writable and aligned for `T`
        // per the documented contract of every function taking an out
        // parameter. `write` does not drop the old contents, which may be
        // uninitialized.
        unsafe { self.0.write(value) };
        mailauth_status::MAILAUTH_OK
    }
}

/// Unwraps a `Result<T, mailauth_status>` inside an export, returning the
/// status on error.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(value) => value,
            Err(status) => return status,
        }
    };
}
pub(crate) use tri;

/// The body of an accessor, the one shape every outcome getter has: inside
/// the panic guard, check the out parameter `$out` for NULL, borrow the
/// value with `$get` (a `Result<&T, mailauth_status>`, e.g. a handle or an
/// indexed element), then evaluate `$body` (a `mailauth_status`, usually
/// `$out.write(...)` or [`give_string`](crate::string::give_string)).
///
/// ```text
/// read!(outcome = spf_outcome(outcome), domain => give_string(domain, &outcome.domain))
/// ```
macro_rules! read {
    ($value:ident = $get:expr, $out:ident => $body:expr) => {
        $crate::ffi::guard(|| {
            let $out = $crate::ffi::tri!($crate::ffi::Out::new($out));
            let $value = $crate::ffi::tri!($get);
            $body
        })
    };
}
pub(crate) use read;
