//! The native module of the `mailauth` Python package (`mailauth._native`).
//!
//! This crate only converts: Python values in, core values through the
//! checks of the `mailauth` crate, Python values out. Protocol logic stays in
//! the core. The package's public modules (`mailauth.spf`, `mailauth.dkim`,
//! `mailauth.dns`, ...) re-export what is defined here, with typed stubs.
//!
//! Layout:
//! - [`errors`]: the exception hierarchy and the one place where core errors
//!   become Python exceptions;
//! - [`dns`]: `Query`, the bundled resolvers, and the conversion of what a
//!   Python resolver returns (or raises) into the core's answer kinds;
//! - [`message`]: reading a message given as bytes, a file-like object or an
//!   iterator of chunks;
//! - [`check`]: `Check`, a type-erased sans-IO machine that Python drives
//!   (blocking in Rust, or from asyncio through `poll`/`supply`);
//! - [`session`]: `Settings` and `Session`, the MTA session over the
//!   settings file;
//! - [`spf`], [`dkim`], [`dmarc`], [`arc`], [`inbound`], [`bimi`], [`authres`]: the entry
//!   points and their frozen result classes.

use pyo3::prelude::*;

mod arc;
mod authres;
mod bimi;
mod check;
mod dkim;
mod dmarc;
mod dns;
mod errors;
mod inbound;
mod message;
mod session;
mod spf;
mod store;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("CRYPTO_BACKEND", mailauth::dkim::crypto::BACKEND)?;
    errors::register(m)?;
    dns::register(m)?;
    check::register(m)?;
    spf::register(m)?;
    dkim::register(m)?;
    dmarc::register(m)?;
    arc::register(m)?;
    authres::register(m)?;
    inbound::register(m)?;
    bimi::register(m)?;
    session::register(m)?;
    store::register(m)?;
    Ok(())
}

/// `text` as Python's `repr` of a `str` writes it, for the `__repr__` of
/// result classes.
pub(crate) fn py_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// An optional string as Python's `repr` writes it (`None` or a quoted str).
pub(crate) fn py_repr_opt(text: Option<&str>) -> String {
    text.map_or_else(|| "None".to_owned(), py_repr)
}
