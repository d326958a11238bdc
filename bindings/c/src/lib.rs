//! The C ABI of mailauth: `libmailauth.so`, `libmailauth.a` and
//! `include/mailauth.h` (generated from this crate by cbindgen).
//!
//! This layer holds no protocol logic: it converts C arguments to the core's
//! types, owns the handles it gives out and maps errors to
//! [`mailauth_status`] codes. The conventions:
//!
//! - names are `mailauth_<type>_<verb>`; handles are opaque;
//! - every function returns a [`mailauth_status`]; outputs go through out
//!   parameters and are written only when the status is `MAILAUTH_OK`;
//! - a NULL pointer where a value is required gives
//!   `MAILAUTH_NULL_PARAMETER`; `_free(NULL)` does nothing;
//! - no panic crosses the boundary: one is caught and reported as
//!   `MAILAUTH_PANIC`;
//! - strings the library returns are NUL-terminated, UTF-8, and freed with
//!   [`mailauth_string_free`].
#![allow(non_camel_case_types)]
// The exports are called from C, which has no `unsafe`: their pointer
// contracts are stated in the header, and each dereference sits in a small
// `unsafe` block with its SAFETY comment (as in rustls-ffi).
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod arc;
mod bimi;
mod check;
mod dkim;
mod dmarc;
mod ffi;
mod inbound;
mod resolver;
mod session;
mod sign;
mod spf;
mod status;
mod store;
mod string;

pub use arc::*;
pub use bimi::*;
pub use check::*;
pub use dkim::*;
pub use dmarc::*;
pub use inbound::*;
pub use resolver::*;
pub use session::*;
pub use sign::*;
pub use spf::*;
pub use status::*;
pub use store::*;
pub use string::*;

/// The major version of the library: the ABI version, also in the SONAME
/// (`libmailauth.so.0`).
pub const MAILAUTH_VERSION_MAJOR: u32 = 0;
/// The minor version of the library.
pub const MAILAUTH_VERSION_MINOR: u32 = 1;
/// The patch version of the library.
pub const MAILAUTH_VERSION_PATCH: u32 = 0;

/// The version of the library as a NUL-terminated string (`"0.1.0"`), in
/// static storage: never free it.
///
/// Compare it with the `MAILAUTH_VERSION_*` macros of the header to detect
/// a program running against another library than it was built with.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_version() -> *const std::ffi::c_char {
    static VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(version) => version,
        Err(_) => c"unknown",
    };
    VERSION.as_ptr()
}

#[cfg(test)]
mod tests {
    /// What the header promises about threads, checked by the compiler:
    /// outcomes, tables and the bundled resolvers may be shared; readers,
    /// signing sessions and answers may move between threads. Checks are
    /// documented as bound to their thread (the SPF machine holds `Rc`).
    #[test]
    fn thread_safety_claims_hold() {
        fn shareable<T: Send + Sync>() {}
        fn movable<T: Send>() {}
        shareable::<mailauth::dns::ZoneResolver>();
        #[cfg(feature = "stub-resolver")]
        shareable::<mailauth::dns::StubResolver>();
        shareable::<super::mailauth_spf_outcome>();
        shareable::<super::mailauth_dkim_outcome>();
        shareable::<super::mailauth_dmarc_outcome>();
        shareable::<super::mailauth_inbound_outcome>();
        shareable::<super::mailauth_arc_outcome>();
        shareable::<super::mailauth_arc_sealer>();
        shareable::<super::mailauth_arc_set>();
        movable::<super::mailauth_arc_validator>();
        movable::<super::mailauth_arc_sealing>();
        shareable::<super::mailauth_signing_table>();
        movable::<super::mailauth_dkim_verifier>();
        movable::<super::mailauth_dkim_signing>();
        movable::<super::mailauth_inbound>();
        movable::<super::mailauth_answer>();
        movable::<mailauth::dkim::verify::VerifyCheck>();
        movable::<mailauth::dmarc::Discovery>();
    }

    #[test]
    fn version_macros_follow_the_package_version() {
        let expected = format!(
            "{}.{}.{}",
            super::MAILAUTH_VERSION_MAJOR,
            super::MAILAUTH_VERSION_MINOR,
            super::MAILAUTH_VERSION_PATCH
        );
        assert_eq!(expected, env!("CARGO_PKG_VERSION"));
    }
}
