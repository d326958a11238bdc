//! DKIM signing: signing tables and messages signed in chunks.

use std::ffi::c_char;
use std::sync::Arc;

use mailauth::dkim::crypto::SigningKey;
use mailauth::dkim::sign::{SignError, SignOptions, Signer, Signing, from_address};
use mailauth::dkim::table::{KeyEntry, Pattern, SigningDomain, SigningTable};
use mailauth::message::MessageReader;

use crate::ffi::{Out, borrow, borrow_mut, bytes, free_handle, guard, into_handle, text, tri};
use crate::status::mailauth_status::{self, *};
use crate::string::give_string;

/// Which keys sign which mail: rules tried in order, the first whose
/// pattern matches the From address picks the domain, selector and key.
///
/// Thread-safety: a table that is not being changed may be used by several
/// threads at once (signing takes a `const` pointer); adding a rule needs
/// exclusive access.
pub struct mailauth_signing_table {
    table: SigningTable,
}

/// Creates an empty signing table; add rules with
/// [`mailauth_signing_table_add`].
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_signing_table_new(
    out: *mut *mut mailauth_signing_table,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        out.write(into_handle(mailauth_signing_table {
            table: SigningTable::new(),
        }))
    })
}

/// Loads OpenDKIM `KeyTable` and `SigningTable` files as named in
/// opendkim.conf: either may carry a `file:` prefix, and `refile:` on the
/// signing table makes its patterns `*` globs over the whole address. Key
/// paths in the key table are read relative to its folder.
///
/// `MAILAUTH_TABLE_INVALID` when a file cannot be read or does not parse, or
/// a key is not valid.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_signing_table_load_opendkim(
    key_table_path: *const c_char,
    signing_table_path: *const c_char,
    out: *mut *mut mailauth_signing_table,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: both paths are NULL or NUL-terminated.
        let key_table = tri!(unsafe { text(key_table_path) });
        // SAFETY: as above.
        let signing_table = tri!(unsafe { text(signing_table_path) });
        match SigningTable::from_opendkim_files(key_table, signing_table) {
            Ok(table) => out.write(into_handle(mailauth_signing_table { table })),
            Err(_) => MAILAUTH_TABLE_INVALID,
        }
    })
}

/// Appends a rule: mail whose From address matches `pattern` is signed for
/// `domain` (`d=`; `"%"` for the From address's own domain) with
/// `selector` (`s=`) and the private key `key` (`key_len` bytes of PEM or
/// DER, PKCS#1 or PKCS#8, RSA or Ed25519).
///
/// Patterns: `"*"` (any address), `"example.org"` (that domain),
/// `".example.org"` or `"*.example.org"` (its subdomains),
/// `"*@example.org"`, `"alice@example.org"` (addresses, `*` matches any
/// run of characters). `MAILAUTH_INVALID_ARGUMENT` for a bad pattern,
/// domain or selector, `MAILAUTH_KEY_INVALID` for a bad key.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_signing_table_add(
    table: *mut mailauth_signing_table,
    pattern: *const c_char,
    domain: *const c_char,
    selector: *const c_char,
    key: *const u8,
    key_len: usize,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `table` is NULL or a live table used by this thread only.
        let table = tri!(unsafe { borrow_mut(table) });
        // SAFETY: the strings are NULL or NUL-terminated.
        let pattern = tri!(unsafe { text(pattern) });
        // SAFETY: as above.
        let domain = tri!(unsafe { text(domain) });
        // SAFETY: as above.
        let selector = tri!(unsafe { text(selector) });
        // SAFETY: `key` points to `key_len` readable bytes (contract).
        let key = tri!(unsafe { bytes(key, key_len) });
        let pattern = tri!(Pattern::parse(pattern).map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        let key = if key.starts_with(b"-----") {
            SigningKey::from_pem(key)
        } else {
            SigningKey::from_der(key)
        };
        let key = tri!(key.map_err(|_| MAILAUTH_KEY_INVALID));
        let domain = if domain == "%" {
            SigningDomain::FromDomain
        } else {
            SigningDomain::Fixed(domain.to_owned())
        };
        let entry = tri!(
            KeyEntry::new(domain, selector, Arc::new(key)).map_err(|_| MAILAUTH_INVALID_ARGUMENT)
        );
        table.table.push(pattern, entry);
        MAILAUTH_OK
    })
}

/// Frees a signing table. NULL is a no-op; freeing twice is undefined
/// behavior. Signing sessions made from it stay valid.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_signing_table_free(table: *mut mailauth_signing_table) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(table) }
}

/// Where a signing session is.
enum State {
    /// Reading the header, to find the From address that picks the key.
    Header {
        table: SigningTable,
        options: Box<SignOptions>,
        now: u64,
        reader: MessageReader,
        buffered: Vec<u8>,
    },
    /// The key is chosen; the message streams into the signer.
    Body(Box<Signing<'static>>),
    /// A problem found on the way, reported by finish.
    Failed(mailauth_status),
    /// Finished.
    Finished,
}

/// One message being signed: feed it in chunks with
/// [`mailauth_dkim_signing_feed`], then [`mailauth_dkim_signing_finish`]
/// gives the DKIM-Signature field. The header is held in memory until its
/// end (bounded: 1,000 fields, 1 MiB); the body streams.
///
/// Thread-safety: not thread-safe; use it from one thread at a time (it may
/// move between threads).
pub struct mailauth_dkim_signing {
    state: State,
}

/// Starts signing one message with the rule of `table` that matches the
/// message's From address (the table is copied: it may be freed or changed
/// afterwards). `now` is the signing time in seconds since the Unix epoch
/// (`t=`). Signed: the usual header fields, From oversigned, relaxed/relaxed
/// canonicalization, rsa-sha256 or ed25519-sha256 after the key.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_signing_new(
    table: *const mailauth_signing_table,
    now: u64,
    out: *mut *mut mailauth_dkim_signing,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `table` is NULL or a live table not changed meanwhile.
        let table = tri!(unsafe { borrow(table) });
        out.write(into_handle(mailauth_dkim_signing {
            state: State::header(table.table.clone(), SignOptions::default(), now),
        }))
    })
}

/// Starts signing one message as a settings file says: the key by the
/// From address through its signing table, its canonicalization, signed
/// and oversigned fields, expiry and header limits. Otherwise as
/// [`mailauth_dkim_signing_new`].
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_signing_new_with_settings(
    settings: *const crate::session::mailauth_settings,
    now: u64,
    out: *mut *mut mailauth_dkim_signing,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `settings` is NULL or live settings.
        let settings = tri!(unsafe { borrow(settings) }).settings();
        out.write(into_handle(mailauth_dkim_signing {
            state: State::header(
                settings.signing_table().clone(),
                settings.sign_options().clone(),
                now,
            ),
        }))
    })
}

impl State {
    fn header(table: SigningTable, options: SignOptions, now: u64) -> State {
        State::Header {
            table,
            now,
            reader: MessageReader::new(options.header_limits),
            options: Box::new(options),
            buffered: Vec::new(),
        }
    }
}

fn sign_error(error: &SignError) -> mailauth_status {
    match error {
        SignError::Invalid(_) => MAILAUTH_INVALID_ARGUMENT,
        _ => MAILAUTH_SIGN_FAILED,
    }
}

impl mailauth_dkim_signing {
    fn feed(&mut self, chunk: &[u8]) -> mailauth_status {
        match &mut self.state {
            State::Header {
                reader, buffered, ..
            } => {
                reader.feed(chunk);
                buffered.extend_from_slice(chunk);
                if reader.error().is_some() {
                    self.state = State::Failed(MAILAUTH_SIGN_FAILED);
                } else if reader.header_complete() {
                    self.start_body();
                }
                MAILAUTH_OK
            }
            State::Body(signing) => {
                signing.update(chunk);
                MAILAUTH_OK
            }
            State::Failed(_) => MAILAUTH_OK,
            State::Finished => MAILAUTH_ALREADY_FINISHED,
        }
    }

    /// The header is complete (or the message ends): choose the key and
    /// hand the buffered bytes to the signer.
    fn start_body(&mut self) {
        let State::Header {
            table,
            options,
            now,
            reader,
            buffered,
        } = std::mem::replace(&mut self.state, State::Finished)
        else {
            return;
        };
        let from = reader
            .fields()
            .iter()
            .find(|field| field.is_named(b"from"))
            .and_then(|field| from_address(field.value()));
        let Some(from) = from else {
            self.state = State::Failed(MAILAUTH_SIGN_FAILED);
            return;
        };
        let signer = match Signer::from_table(&table, &from, *options) {
            None => {
                self.state = State::Failed(MAILAUTH_NO_SIGNING_RULE);
                return;
            }
            Some(Err(error)) => {
                self.state = State::Failed(sign_error(&error));
                return;
            }
            Some(Ok(signer)) => signer,
        };
        let mut signing = signer.into_signing(now);
        signing.update(&buffered);
        self.state = State::Body(Box::new(signing));
    }

    fn finish(&mut self) -> Result<String, mailauth_status> {
        if matches!(self.state, State::Header { .. }) {
            // A message that is all header (no empty line).
            self.start_body();
        }
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Body(signing) => signing
                .finish()
                .map(|field| field.into_header_line())
                .map_err(|e| sign_error(&e)),
            State::Failed(status) => Err(status),
            State::Finished | State::Header { .. } => Err(MAILAUTH_ALREADY_FINISHED),
        }
    }
}

/// Feeds the next `len` bytes of the message (as it will be sent, CRLF or
/// LF line endings, split anywhere). `MAILAUTH_ALREADY_FINISHED` after
/// [`mailauth_dkim_signing_finish`]. Problems with the message (no From, no
/// matching rule) are reported by finish.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_signing_feed(
    signing: *mut mailauth_dkim_signing,
    data: *const u8,
    len: usize,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `signing` is NULL or a live session used by this thread.
        let signing = tri!(unsafe { borrow_mut(signing) });
        // SAFETY: `data` points to `len` readable bytes (contract).
        let data = tri!(unsafe { bytes(data, len) });
        signing.feed(data)
    })
}

/// Ends the message and gives the `DKIM-Signature` header field to prepend
/// to it, as a new string: `"DKIM-Signature: ..."` folded with CRLF SP and
/// ending with CRLF.
///
/// `MAILAUTH_SIGN_FAILED` (no From field, header over the limits),
/// `MAILAUTH_NO_SIGNING_RULE` (no rule for the From address),
/// `MAILAUTH_ALREADY_FINISHED` when called twice.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_signing_finish(
    signing: *mut mailauth_dkim_signing,
    field: *mut *mut c_char,
) -> mailauth_status {
    guard(|| {
        let field = tri!(Out::new(field));
        // SAFETY: `signing` is NULL or a live session used by this thread.
        let signing = tri!(unsafe { borrow_mut(signing) });
        let line = tri!(signing.finish());
        give_string(field, &line)
    })
}

/// Frees a signing session. NULL is a no-op; freeing twice is undefined
/// behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_dkim_signing_free(signing: *mut mailauth_dkim_signing) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(signing) }
}
