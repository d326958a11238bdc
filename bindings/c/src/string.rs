//! Strings handed to C.

use std::ffi::{CString, c_char};

use crate::ffi::Out;
use crate::status::mailauth_status;

/// A library string for C: NUL bytes inside `text` (which C cannot hold)
/// become U+FFFD.
pub(crate) fn c_string(text: &str) -> CString {
    let bytes = if text.contains('\0') {
        text.replace('\0', "\u{FFFD}").into_bytes()
    } else {
        text.as_bytes().to_vec()
    };
    CString::new(bytes).unwrap_or_default()
}

/// Writes a new library string to `out`.
pub(crate) fn give_string(out: Out<*mut c_char>, text: &str) -> mailauth_status {
    out.write(c_string(text).into_raw())
}

/// Writes a new library string to `out`, or returns `MAILAUTH_ABSENT`
/// (writing nothing) for `None`.
pub(crate) fn give_optional(out: Out<*mut c_char>, text: Option<&str>) -> mailauth_status {
    match text {
        Some(text) => give_string(out, text),
        None => mailauth_status::MAILAUTH_ABSENT,
    }
}

/// Frees a string returned by the library. NULL is a no-op.
///
/// # Safety
/// `string` is NULL or a string returned by this library through a
/// `char **` out parameter, not freed before. Freeing it twice is undefined
/// behavior.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mailauth_string_free(string: *mut c_char) {
    if string.is_null() {
        return;
    }
    // SAFETY: the caller passes a pointer made by `CString::into_raw` in
    // this library and gives up ownership.
    drop(unsafe { CString::from_raw(string) });
}
