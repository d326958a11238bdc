//! The committed `include/mailauth.h` is what cbindgen generates from this
//! crate now. With `MAILAUTH_UPDATE_HEADER=1` the test writes the fresh
//! header instead of comparing.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

#[test]
fn committed_header_is_fresh() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let header_path = crate_dir.join("../../include/mailauth.h");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let mut fresh = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .unwrap()
        .write(&mut fresh);
    let fresh = String::from_utf8(fresh).unwrap();
    assert!(
        fresh.contains(&format!(
            "#define MAILAUTH_VERSION_STRING \"{}\"",
            env!("CARGO_PKG_VERSION")
        )),
        "cbindgen.toml's MAILAUTH_VERSION_STRING must follow the package version"
    );
    if std::env::var_os("MAILAUTH_UPDATE_HEADER").is_some() {
        std::fs::write(&header_path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&header_path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/mailauth.h differs from a fresh generation; regenerate it with\n  \
         MAILAUTH_UPDATE_HEADER=1 cargo test -p mailauth-capi --test header"
    );
}
