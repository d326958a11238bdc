//! Key generation and key records: new RSA or Ed25519 signing keys, the
//! private key as PEM, the DNS TXT record to publish (RFC 6376 §3.6.1,
//! RFC 8463 §4), and a check that a published record matches a private key.
//!
//! ```
//! use mailauth::dkim::{NewKey, keygen};
//!
//! let key = keygen::generate(NewKey::Ed25519).unwrap();
//! let record = key.record();
//! assert!(record.text().starts_with("v=DKIM1; k=ed25519; p="));
//! assert_eq!(keygen::check_record(record.text().as_bytes(), key.signing_key()),
//!            keygen::RecordCheck::Matches);
//! ```

use std::fmt::Write as _;

use base64::Engine as _;

use super::crypto::{self, CryptoError, KeyError, SigningKey};
use super::{HashAlgorithm, KeyType};

/// Smallest RSA key [`generate`] makes (RFC 8301 §3.2: signers MUST use at least 1024 bits).
pub const RSA_MIN_BITS: usize = 1024;
/// Largest RSA key [`generate`] makes (larger records do not fit DNS well).
pub const RSA_MAX_BITS: usize = 4096;
/// The default RSA key size (RFC 8301 §3.2: SHOULD use at least 2048).
pub const RSA_DEFAULT_BITS: usize = 2048;

/// The longest character-string a TXT record holds (RFC 1035 §3.3).
const TXT_STRING_MAX: usize = 255;

/// Which key to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NewKey {
    /// RSA with a modulus of this many bits ([`RSA_MIN_BITS`]..=[`RSA_MAX_BITS`]).
    Rsa {
        /// Modulus size.
        bits: usize,
    },
    /// Ed25519 (RFC 8463).
    Ed25519,
}

impl NewKey {
    /// The key type.
    pub fn key_type(self) -> KeyType {
        match self {
            NewKey::Rsa { .. } => KeyType::Rsa,
            NewKey::Ed25519 => KeyType::Ed25519,
        }
    }
}

/// Why no key was generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeygenError {
    /// The RSA size is outside [`RSA_MIN_BITS`]..=[`RSA_MAX_BITS`] or not a multiple of 8.
    #[error(
        "rsa key size must be a multiple of 8 from {RSA_MIN_BITS} to {RSA_MAX_BITS} bits, not {bits}"
    )]
    RsaBits {
        /// The size asked for.
        bits: usize,
    },
    /// The crypto backend cannot make this key.
    #[error("cannot generate the key: {0}")]
    Backend(#[from] CryptoError),
    /// The generated key could not be read back.
    #[error("generated key unusable: {0}")]
    Key(#[from] KeyError),
}

/// A newly generated key.
#[derive(Debug)]
pub struct GeneratedKey {
    signing_key: SigningKey,
    pkcs8: Vec<u8>,
}

impl GeneratedKey {
    /// The key, ready to sign.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// The key, ready to sign, by value.
    pub fn into_signing_key(self) -> SigningKey {
        self.signing_key
    }

    /// The private key as PKCS#8 DER.
    pub fn private_key_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The private key as PEM (`-----BEGIN PRIVATE KEY-----`, PKCS#8),
    /// the form [`SigningKey::from_pem`] and OpenDKIM read.
    pub fn private_key_pem(&self) -> String {
        crypto::pem_encode("PRIVATE KEY", &self.pkcs8)
    }

    /// The key record to publish.
    pub fn record(&self) -> KeyRecord {
        KeyRecord::for_key(&self.signing_key)
    }
}

fn check_bits(new_key: NewKey) -> Result<(), KeygenError> {
    match new_key {
        NewKey::Rsa { bits } if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) || bits % 8 != 0 => {
            Err(KeygenError::RsaBits { bits })
        }
        _ => Ok(()),
    }
}

fn finish(private: crypto::backend::Private, bits: usize) -> Result<GeneratedKey, KeygenError> {
    let signing_key = SigningKey::from_backend(private, bits);
    let pkcs8 = signing_key.to_pkcs8_der()?;
    Ok(GeneratedKey { signing_key, pkcs8 })
}

/// Generates a key from the system's secure random source.
///
/// With the `aws-lc` backend, RSA sizes are 1024 up to 2048 bits (any
/// multiple of 8, made by the `rsa` crate), 2048, 3072 and 4096 bits; other
/// sizes give [`KeygenError::Backend`]. The `pure-rust` backend makes any
/// multiple of 8 in range.
pub fn generate(new_key: NewKey) -> Result<GeneratedKey, KeygenError> {
    check_bits(new_key)?;
    match new_key {
        NewKey::Rsa { bits } => finish(crypto::backend::generate_rsa(bits)?, bits),
        NewKey::Ed25519 => {
            let mut seed = [0u8; 32];
            crypto::backend::system_random(&mut seed)?;
            ed25519_from_seed(&seed)
        }
    }
}

/// Whether [`generate_with_random`] makes RSA keys of every size from the
/// given randomness (`pure-rust` backend) or only keys under 2048 bits,
/// using the backend's own source for larger ones (`aws-lc`). Ed25519
/// always uses the given randomness.
pub const RSA_USES_GIVEN_RANDOMNESS: bool = crypto::backend::RSA_KEYGEN_TAKES_RNG;

/// Generates a key from the caller's randomness: `random` must fill the
/// buffer with cryptographically secure bytes (a seeded generator makes
/// reproducible keys for tests). See [`RSA_USES_GIVEN_RANDOMNESS`].
pub fn generate_with_random(
    new_key: NewKey,
    random: &mut dyn FnMut(&mut [u8]),
) -> Result<GeneratedKey, KeygenError> {
    check_bits(new_key)?;
    match new_key {
        NewKey::Rsa { bits } => finish(crypto::backend::generate_rsa_with(bits, random)?, bits),
        NewKey::Ed25519 => {
            let mut seed = [0u8; 32];
            random(&mut seed);
            ed25519_from_seed(&seed)
        }
    }
}

fn ed25519_from_seed(seed: &[u8; 32]) -> Result<GeneratedKey, KeygenError> {
    let signing_key = SigningKey::from_ed25519_seed(seed)?;
    Ok(GeneratedKey {
        signing_key,
        pkcs8: crypto::ed25519_pkcs8(seed),
    })
}

/// A DKIM key record (RFC 6376 §3.6.1): the text of the TXT record at
/// `selector._domainkey.domain`.
///
/// The optional tags are those opendkim-genkey writes, in its order:
/// `v=DKIM1; h=...; k=...; s=email; t=y:s; p=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    key_type: KeyType,
    public_key: Vec<u8>,
    testing: bool,
    hash_algorithms: Vec<HashAlgorithm>,
    email_only: bool,
    strict_identity: bool,
}

impl KeyRecord {
    /// The record for a key.
    pub fn for_key(key: &SigningKey) -> KeyRecord {
        KeyRecord {
            key_type: key.key_type(),
            public_key: key.public_key_der(),
            testing: false,
            hash_algorithms: Vec::new(),
            email_only: false,
            strict_identity: false,
        }
    }

    /// Marks the domain as testing DKIM (`t=y`, RFC 6376 §3.6.1).
    pub fn with_testing(mut self, testing: bool) -> KeyRecord {
        self.testing = testing;
        self
    }

    /// Limits the key to these hash algorithms (`h=`, RFC 6376 §3.6.1;
    /// opendkim-genkey's `--hash-algorithms`): `h=sha256` makes verifiers
    /// refuse rsa-sha1 signatures by this key. Empty (the default) writes
    /// no `h=`: every algorithm.
    pub fn with_hash_algorithms(mut self, algorithms: &[HashAlgorithm]) -> KeyRecord {
        self.hash_algorithms = Vec::new();
        for &algorithm in algorithms {
            if !self.hash_algorithms.contains(&algorithm) {
                self.hash_algorithms.push(algorithm);
            }
        }
        self
    }

    /// Restricts the key to email (`s=email`, RFC 6376 §3.6.1;
    /// opendkim-genkey's `--restrict`).
    pub fn with_email_only(mut self, email_only: bool) -> KeyRecord {
        self.email_only = email_only;
        self
    }

    /// Forbids subdomains in the signature's `i=` (`t=s`, RFC 6376 §3.6.1:
    /// the `i=` domain must equal `d=`; opendkim-genkey's
    /// `--nosubdomains`).
    pub fn with_strict_identity(mut self, strict_identity: bool) -> KeyRecord {
        self.strict_identity = strict_identity;
        self
    }

    /// The record text: `v=DKIM1; k=rsa; p=...`, with `h=`, `s=email` and
    /// `t=` when set (see [`KeyRecord`]).
    pub fn text(&self) -> String {
        let encoded = base64::engine::general_purpose::STANDARD.encode(&self.public_key);
        let mut out = String::from("v=DKIM1;");
        if !self.hash_algorithms.is_empty() {
            let names: Vec<&str> = self.hash_algorithms.iter().map(|h| h.as_str()).collect();
            let _ = write!(out, " h={};", names.join(":"));
        }
        let _ = write!(out, " k={};", self.key_type);
        if self.email_only {
            out.push_str(" s=email;");
        }
        let flags: Vec<&str> = [(self.testing, "y"), (self.strict_identity, "s")]
            .into_iter()
            .filter_map(|(set, flag)| set.then_some(flag))
            .collect();
        if !flags.is_empty() {
            let _ = write!(out, " t={};", flags.join(":"));
        }
        let _ = write!(out, " p={encoded}");
        out
    }

    /// The text split into character-strings of at most 255 bytes.
    pub fn strings(&self) -> Vec<String> {
        // The text is ASCII, so any byte boundary is a char boundary.
        self.text()
            .as_bytes()
            .chunks(TXT_STRING_MAX)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect()
    }

    /// The record in zone-file form, as opendkim-genkey writes it (fields
    /// separated by tabs, continuation lines indented by a tab):
    ///
    /// ```text
    /// sel._domainkey  IN  TXT  ( "v=DKIM1; k=rsa; p=MIIB..."
    ///     "...IDAQAB" )  ; ----- DKIM key sel for example.com
    /// ```
    ///
    /// `selector` and `domain` are written as given: validate them first.
    pub fn zone_entry(&self, selector: &str, domain: &str) -> String {
        self.zone_entry_named(&format!("{selector}._domainkey"), selector, domain)
    }

    /// As [`zone_entry`](Self::zone_entry), with the domain appended to the
    /// owner name as an absolute name (`sel._domainkey.example.com.`), as
    /// opendkim-genkey's `--append-domain` writes it: for a zone file whose
    /// `$ORIGIN` is not the signing domain.
    pub fn zone_entry_with_domain(&self, selector: &str, domain: &str) -> String {
        let domain = domain.trim_end_matches('.');
        self.zone_entry_named(
            &format!("{selector}._domainkey.{domain}."),
            selector,
            domain,
        )
    }

    fn zone_entry_named(&self, owner: &str, selector: &str, domain: &str) -> String {
        let mut out = format!("{owner}\tIN\tTXT\t( ");
        for (index, string) in self.strings().iter().enumerate() {
            if index > 0 {
                out.push_str("\n\t  ");
            }
            // Record text holds no '"' or '\\' (base64 and fixed tags).
            let _ = write!(out, "\"{string}\"");
        }
        let _ = writeln!(out, " )  ; ----- DKIM key {selector} for {domain}");
        out
    }
}

/// How a published key record compares with a private key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordCheck {
    /// The record publishes this key's public half.
    Matches,
    /// The record publishes another key.
    DifferentKey,
    /// The record's key type (`k=`) is not the private key's type.
    KeyTypeMismatch {
        /// The type in the record.
        record: KeyType,
        /// The type of the private key.
        key: KeyType,
    },
    /// The record has an empty `p=`: the key is revoked (RFC 6376 §3.6.1).
    Revoked,
    /// The record cannot be read; the text says why.
    Malformed(RecordProblem),
}

/// Why a key record could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordProblem {
    /// The record is not UTF-8 text.
    #[error("record is not text")]
    NotText,
    /// `v=` is present but is not `DKIM1`.
    #[error("v= is not DKIM1")]
    Version,
    /// `p=` is missing.
    #[error("no p= tag")]
    NoPublicKey,
    /// `p=` is not base64.
    #[error("p= is not base64")]
    PublicKeyBase64,
    /// `k=` names an unknown key type.
    #[error("unknown k= key type")]
    UnknownKeyType,
    /// A tag appears twice (RFC 6376 §3.2).
    #[error("duplicate tag")]
    DuplicateTag,
    /// `p=` does not hold a key of the record's type.
    #[error("p= is not a valid public key")]
    BadPublicKey,
}

/// Compares a published key record (the TXT text, strings joined) with a
/// private key, as `opendkim-testkey` does.
pub fn check_record(record_text: &[u8], key: &SigningKey) -> RecordCheck {
    let text = match std::str::from_utf8(record_text) {
        Ok(text) => text,
        Err(_) => return RecordCheck::Malformed(RecordProblem::NotText),
    };
    let mut version = None;
    let mut key_type = None;
    let mut public = None;
    for tag in text.split(';') {
        let Some((name, value)) = tag.split_once('=') else {
            continue;
        };
        let slot = match name.trim() {
            "v" => &mut version,
            "k" => &mut key_type,
            "p" => &mut public,
            _ => continue,
        };
        if slot.is_some() {
            return RecordCheck::Malformed(RecordProblem::DuplicateTag);
        }
        *slot = Some(value.trim());
    }
    if version.is_some_and(|v| v != "DKIM1") {
        return RecordCheck::Malformed(RecordProblem::Version);
    }
    let record_type = match key_type.unwrap_or("rsa") {
        k if k.eq_ignore_ascii_case("rsa") => KeyType::Rsa,
        k if k.eq_ignore_ascii_case("ed25519") => KeyType::Ed25519,
        _ => return RecordCheck::Malformed(RecordProblem::UnknownKeyType),
    };
    let Some(public) = public else {
        return RecordCheck::Malformed(RecordProblem::NoPublicKey);
    };
    // Folding whitespace may appear inside base64 values (RFC 6376 §3.2).
    let compact: String = public
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return RecordCheck::Revoked;
    }
    if record_type != key.key_type() {
        return RecordCheck::KeyTypeMismatch {
            record: record_type,
            key: key.key_type(),
        };
    }
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) else {
        return RecordCheck::Malformed(RecordProblem::PublicKeyBase64);
    };
    let Ok(published) = crypto::PublicKey::from_record_data(record_type, &der) else {
        return RecordCheck::Malformed(RecordProblem::BadPublicKey);
    };
    if published.to_record_data() == key.public_key_der() {
        RecordCheck::Matches
    } else {
        RecordCheck::DifferentKey
    }
}

impl SigningKey {
    /// The private key as a PEM file (`PRIVATE KEY`, PKCS#8, RFC 7468), as
    /// [`SigningKey::from_pem`] reads it back.
    ///
    /// # Errors
    /// As [`SigningKey::to_pkcs8_der`].
    pub fn to_pkcs8_pem(&self) -> Result<String, CryptoError> {
        Ok(crypto::pem_encode("PRIVATE KEY", &self.to_pkcs8_der()?))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::dkim::Algorithm;
    use crate::dkim::crypto::Hasher;

    #[test]
    fn pem_round_trip() {
        let key = SigningKey::from_ed25519_seed(&[7; 32]).unwrap();
        let pem = key.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(pem.ends_with("-----END PRIVATE KEY-----\n"));
        let back = SigningKey::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(back.public_key_der(), key.public_key_der());
    }

    /// A deterministic byte source: SHA-256 in counter mode over a seed.
    fn seeded(seed: u64) -> impl FnMut(&mut [u8]) {
        let mut counter = 0u64;
        move |buf: &mut [u8]| {
            for chunk in buf.chunks_mut(32) {
                let mut input = seed.to_le_bytes().to_vec();
                input.extend_from_slice(&counter.to_le_bytes());
                counter += 1;
                let block = Hasher::digest(crate::dkim::HashAlgorithm::Sha256, &input);
                chunk.copy_from_slice(&block[..chunk.len()]);
            }
        }
    }

    #[test]
    fn ed25519_from_seeded_randomness_is_reproducible() {
        let a = generate_with_random(NewKey::Ed25519, &mut seeded(7)).unwrap();
        let b = generate_with_random(NewKey::Ed25519, &mut seeded(7)).unwrap();
        let c = generate_with_random(NewKey::Ed25519, &mut seeded(8)).unwrap();
        assert_eq!(a.private_key_der(), b.private_key_der());
        assert_ne!(a.private_key_der(), c.private_key_der());
        let pem = a.private_key_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let read = SigningKey::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(read.public_key_der(), a.signing_key().public_key_der());
        let record = a.record();
        assert_eq!(record.strings().len(), 1);
        assert_eq!(
            check_record(record.text().as_bytes(), &read),
            RecordCheck::Matches
        );
        assert_eq!(
            check_record(record.text().as_bytes(), c.signing_key()),
            RecordCheck::DifferentKey
        );
    }

    #[test]
    fn rsa_2048_generates_signs_and_matches_record() {
        let key = generate(NewKey::Rsa { bits: 2048 }).unwrap();
        assert_eq!(key.signing_key().bits(), 2048);
        let read = SigningKey::from_pem(key.private_key_pem().as_bytes()).unwrap();
        let signature = read.sign(Algorithm::RsaSha256, b"data").unwrap();
        key.signing_key()
            .public_key()
            .unwrap()
            .verify(Algorithm::RsaSha256, b"data", &signature)
            .unwrap();
        let record = key.record();
        let text = record.text();
        assert!(text.starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"), "{text}");
        // 2048-bit SPKI is 294 bytes = 392 base64 chars: two strings.
        let strings = record.strings();
        assert_eq!(strings.len(), 2);
        assert!(strings.iter().all(|s| s.len() <= 255));
        assert_eq!(strings.concat(), text);
        let zone = record.zone_entry("sel", "example.com");
        assert!(
            zone.starts_with("sel._domainkey\tIN\tTXT\t( \"v=DKIM1; k=rsa; p="),
            "{zone}"
        );
        assert!(
            zone.ends_with("\" )  ; ----- DKIM key sel for example.com\n"),
            "{zone}"
        );
        assert_eq!(zone.lines().count(), 2);
        assert_eq!(check_record(text.as_bytes(), &read), RecordCheck::Matches);
        // The zone form's strings, joined, are the same record.
        let joined: String = zone.split('"').skip(1).step_by(2).collect();
        assert_eq!(check_record(joined.as_bytes(), &read), RecordCheck::Matches);
    }

    #[test]
    fn rsa_from_seeded_randomness_per_backend() {
        // Keys under 2048 bits come from the given randomness with both
        // backends (aws-lc hands them to the `rsa` crate).
        let a = generate_with_random(NewKey::Rsa { bits: 1024 }, &mut seeded(1)).unwrap();
        let b = generate_with_random(NewKey::Rsa { bits: 1024 }, &mut seeded(1)).unwrap();
        assert_eq!(a.private_key_der(), b.private_key_der());
        assert_eq!(a.signing_key().bits(), 1024);
        if !RSA_USES_GIVEN_RANDOMNESS {
            // aws-lc makes 2048, 3072 and 4096-bit RSA keys itself, and no
            // other size from 2048 bits up.
            assert!(matches!(
                generate_with_random(NewKey::Rsa { bits: 2056 }, &mut seeded(1)),
                Err(KeygenError::Backend(CryptoError::UnsupportedKeySize {
                    bits: 2056,
                    ..
                }))
            ));
        }
    }

    #[test]
    fn record_options_in_opendkim_genkey_order() {
        let key = ed25519_from_seed(&[7; 32]).unwrap();
        let record = key
            .record()
            .with_testing(true)
            .with_strict_identity(true)
            .with_email_only(true)
            .with_hash_algorithms(&[HashAlgorithm::Sha256, HashAlgorithm::Sha256]);
        let text = record.text();
        assert!(
            text.starts_with("v=DKIM1; h=sha256; k=ed25519; s=email; t=y:s; p="),
            "{text}"
        );
        let parsed = crate::dkim::key::KeyRecord::parse(text.as_bytes()).unwrap();
        assert!(parsed.testing && parsed.strict_identity && parsed.allows_email());
        assert!(!parsed.allows_hash(HashAlgorithm::Sha1));
        assert_eq!(
            check_record(text.as_bytes(), key.signing_key()),
            RecordCheck::Matches
        );
        let entry = record.zone_entry_with_domain("sel", "example.com.");
        assert!(entry.starts_with("sel._domainkey.example.com.\tIN\tTXT\t( \"v=DKIM1;"));
        assert!(
            entry.ends_with("; ----- DKIM key sel for example.com\n"),
            "{entry}"
        );
    }

    #[test]
    fn rsa_1024_generates_signs_and_matches_record() {
        let key = generate(NewKey::Rsa { bits: 1024 }).unwrap();
        assert_eq!(key.signing_key().bits(), 1024);
        let read = SigningKey::from_pem(key.private_key_pem().as_bytes()).unwrap();
        assert_eq!(read.public_key_der(), key.signing_key().public_key_der());
        let signature = read.sign(Algorithm::RsaSha256, b"data").unwrap();
        assert_eq!(signature.len(), 128);
        key.signing_key()
            .public_key()
            .unwrap()
            .verify(Algorithm::RsaSha256, b"data", &signature)
            .unwrap();
        let text = key.record().text();
        assert_eq!(check_record(text.as_bytes(), &read), RecordCheck::Matches);
    }

    #[test]
    fn bad_sizes_are_refused() {
        for bits in [0, 512, 1023, 1025, 4104, 8192] {
            assert_eq!(
                generate(NewKey::Rsa { bits }).unwrap_err(),
                KeygenError::RsaBits { bits }
            );
        }
    }

    #[test]
    fn record_check_outcomes() {
        let key = generate_with_random(NewKey::Ed25519, &mut seeded(3)).unwrap();
        let key = key.signing_key();
        let p = base64::engine::general_purpose::STANDARD.encode(key.public_key_der());
        let check = |text: &str| check_record(text.as_bytes(), key);
        assert_eq!(
            check(&format!("v=DKIM1; k=ed25519; p={p}")),
            RecordCheck::Matches
        );
        // Whitespace inside p=, no v=, extra tags.
        let (head, tail) = p.split_at(10);
        assert_eq!(
            check(&format!("k=ed25519; t=y; p={head} \r\n {tail}")),
            RecordCheck::Matches
        );
        assert_eq!(check("v=DKIM1; k=ed25519; p="), RecordCheck::Revoked);
        assert_eq!(
            check(&format!("v=DKIM1; p={p}")),
            RecordCheck::KeyTypeMismatch {
                record: KeyType::Rsa,
                key: KeyType::Ed25519
            }
        );
        assert_eq!(
            check("v=DKIM2; k=ed25519; p=AAAA"),
            RecordCheck::Malformed(RecordProblem::Version)
        );
        assert_eq!(
            check("v=DKIM1; k=ed25519"),
            RecordCheck::Malformed(RecordProblem::NoPublicKey)
        );
        assert_eq!(
            check("k=dsa; p=AAAA"),
            RecordCheck::Malformed(RecordProblem::UnknownKeyType)
        );
        assert_eq!(
            check("k=ed25519; p=!!"),
            RecordCheck::Malformed(RecordProblem::PublicKeyBase64)
        );
        assert_eq!(
            check("k=ed25519; p=AAAA"),
            RecordCheck::Malformed(RecordProblem::BadPublicKey)
        );
        assert_eq!(
            check("p=a; p=b"),
            RecordCheck::Malformed(RecordProblem::DuplicateTag)
        );
        assert_eq!(
            check_record(b"\xff", key),
            RecordCheck::Malformed(RecordProblem::NotText)
        );
        let testing = KeyRecord::for_key(key).with_testing(true).text();
        assert!(testing.starts_with("v=DKIM1; k=ed25519; t=y; p="));
        assert_eq!(check(&testing), RecordCheck::Matches);
    }
}
