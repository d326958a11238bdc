//! Link settings of the shared library: the SONAME carries the ABI major
//! version, and a version script exports the `mailauth_` functions only.

use std::path::PathBuf;

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".to_owned());
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let script = manifest_dir.join("mailauth.map");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux") || target.contains("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmailauth.so.{major}");
        println!(
            "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
            script.display()
        );
    }
    println!("cargo:rerun-if-changed=mailauth.map");
    println!("cargo:rerun-if-changed=build.rs");
}
