//! The crypto backend seam: public keys from key records, signing keys from
//! PEM/DER files, signature creation and verification, streaming hashes.
//!
//! Exactly one backend does RSA and Ed25519 signing and RSA verification:
//! - `aws-lc` (the default feature): aws-lc-rs.
//! - `pure-rust`: the `rsa` and `ed25519-dalek` crates, for targets without a
//!   C compiler. Note RUSTSEC-2023-0071 (timing side channel in `rsa`): prefer
//!   `aws-lc` where it builds.
//!
//! When both features are enabled, `aws-lc` is used. Ed25519 verification is
//! always done by `ed25519-dalek` (verification handles only public data, so
//! its variable-time arithmetic leaks nothing): a [`PublicKey`] keeps the
//! decoded point, which aws-lc would decode again on every call. On x86-64,
//! curve25519-dalek uses AVX-512 IFMA when built with
//! `--cfg curve25519_dalek_backend="avx512"` (this repository's
//! `.cargo/config.toml` sets it) and the processor has it, else AVX2.
//! Hashing (SHA-1, SHA-256) is always done by the `sha1`/`sha2` crates,
//! whichever backend is chosen.
//!
//! What each backend can do with RSA key sizes:
//!
//! | operation | `aws-lc` | `pure-rust` |
//! |---|---|---|
//! | verify | 512..=8192 bits (under 1024 through the `rsa` crate) | 512..=8192 bits |
//! | sign | 1024..=8192 bits (under 2048 through the `rsa` crate) | 1024..=8192 bits |
//! | generate | 1024..2048 (multiples of 8, `rsa` crate), 2048, 3072, 4096 bits | 1024..=8192 bits |
//!
//! Keys under 2048 bits are generated and used for signing by the `rsa`
//! crate with either backend, so RUSTSEC-2023-0071 (a timing side channel in
//! its private-key operations) applies to them: prefer 2048 bits where the
//! DNS provider takes the longer record.
//!
//! Anything outside those ranges is refused with
//! [`KeyError::UnsupportedKeySize`] or [`CryptoError::UnsupportedKeySize`],
//! naming the backend. (Whether a verifier *accepts* keys under 1024 bits is
//! a policy decision taken before the backend is asked, RFC 8301 §3.2.)

use base64::Engine as _;
use sha2::Digest as _;

use super::{Algorithm, HashAlgorithm, KeyType};

#[cfg(not(any(feature = "aws-lc", feature = "pure-rust")))]
compile_error!("mailauth needs a crypto backend: enable feature `aws-lc` or `pure-rust`");

/// The name of the crypto backend compiled in (`"aws-lc"` or `"pure-rust"`).
#[cfg(feature = "aws-lc")]
pub const BACKEND: &str = "aws-lc";
/// The name of the crypto backend compiled in (`"aws-lc"` or `"pure-rust"`).
#[cfg(all(feature = "pure-rust", not(feature = "aws-lc")))]
pub const BACKEND: &str = "pure-rust";

// One module per backend, each with the same items; `backend` names the one
// compiled in.
#[cfg(feature = "aws-lc")]
pub(crate) mod aws_lc;
#[cfg(all(feature = "pure-rust", not(feature = "aws-lc")))]
pub(crate) mod pure_rust;
#[cfg(any(feature = "aws-lc", feature = "pure-rust"))]
mod rsa_crate;
#[cfg(test)]
mod tests;

#[cfg(feature = "aws-lc")]
pub(crate) use aws_lc as backend;
#[cfg(all(feature = "pure-rust", not(feature = "aws-lc")))]
pub(crate) use pure_rust as backend;

/// Smallest RSA modulus (bits) any backend handles; smaller keys are broken.
const RSA_MIN_BITS_ANY: usize = 512;
/// Largest RSA modulus (bits) accepted anywhere.
const RSA_MAX_BITS: usize = 8192;

/// Why a key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The DER encoding is not a key of the expected kind.
    #[error("malformed {key_type} key")]
    Malformed {
        /// The kind of key that was expected.
        key_type: KeyType,
    },
    /// An Ed25519 public key must be exactly 32 bytes (RFC 8463 §4).
    #[error("an ed25519 public key is 32 bytes, not {length}")]
    Ed25519Length {
        /// The length found.
        length: usize,
    },
    /// The 32 bytes are not a valid Ed25519 point, or a point of small order
    /// (a weak key with which anybody could make signatures that verify).
    #[error("invalid ed25519 public key")]
    Ed25519Point,
    /// The backend cannot use an RSA key of this size for this operation.
    #[error("rsa keys of {bits} bits are not supported for {operation} by the {backend} backend")]
    UnsupportedKeySize {
        /// Size of the key's modulus.
        bits: usize,
        /// `"signing"` or `"verification"`.
        operation: &'static str,
        /// The backend name ([`BACKEND`]).
        backend: &'static str,
    },
    /// No `-----BEGIN ...-----` / `-----END ...-----` block was found.
    #[error("no pem block found")]
    NoPemBlock,
    /// The PEM label is not one of `PRIVATE KEY` or `RSA PRIVATE KEY`.
    #[error("unsupported pem label {label:?} (expected \"PRIVATE KEY\" or \"RSA PRIVATE KEY\")")]
    UnsupportedPemLabel {
        /// The label found.
        label: String,
    },
    /// Encrypted private keys need a passphrase, which is not supported.
    #[error("encrypted private keys are not supported")]
    Encrypted,
    /// The PEM body is not valid base64.
    #[error("invalid base64 in pem block")]
    PemBase64,
    /// The DER is neither PKCS#8 nor PKCS#1.
    #[error("not a pkcs#8 or pkcs#1 private key")]
    UnrecognizedPrivateKey,
    /// A PKCS#8 key of an algorithm DKIM does not use.
    #[error("pkcs#8 key of an algorithm other than rsa or ed25519")]
    UnsupportedAlgorithm,
}

/// Why a crypto operation did not succeed: verifying or making a
/// signature, exporting or generating a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The signature does not match the data and key.
    #[error("signature does not verify")]
    Mismatch,
    /// The algorithm needs a key of another type.
    #[error("algorithm {algorithm} needs an {needed} key, not {key_type}")]
    KeyTypeMismatch {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// The key type the algorithm needs.
        needed: KeyType,
        /// The key type given.
        key_type: KeyType,
    },
    /// The backend cannot use an RSA key of this size for this operation.
    #[error("rsa keys of {bits} bits are not supported for {operation} by the {backend} backend")]
    UnsupportedKeySize {
        /// Size of the key's modulus.
        bits: usize,
        /// `"signing"` or `"verification"`.
        operation: &'static str,
        /// The backend name ([`BACKEND`]).
        backend: &'static str,
    },
    /// Signing with rsa-sha1 is forbidden (RFC 8301 §3.1).
    #[error("signing with {algorithm} is not supported")]
    AlgorithmNotForSigning {
        /// The algorithm asked for.
        algorithm: Algorithm,
    },
    /// The backend reported an internal failure.
    #[error("crypto backend failure")]
    Backend,
}

fn check_key_type(algorithm: Algorithm, key_type: KeyType) -> Result<(), CryptoError> {
    let needed = algorithm.key_type();
    if needed == key_type {
        Ok(())
    } else {
        Err(CryptoError::KeyTypeMismatch {
            algorithm,
            needed,
            key_type,
        })
    }
}

// ---------------------------------------------------------------------------
// Hashing

/// A streaming hash (SHA-1 or SHA-256).
#[derive(Clone)]
pub struct Hasher {
    state: HasherState,
}

#[derive(Clone)]
enum HasherState {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("algorithm", &self.algorithm())
            .finish()
    }
}

impl Hasher {
    /// Starts a hash.
    pub fn new(algorithm: HashAlgorithm) -> Hasher {
        let state = match algorithm {
            HashAlgorithm::Sha1 => HasherState::Sha1(sha1::Sha1::new()),
            HashAlgorithm::Sha256 => HasherState::Sha256(sha2::Sha256::new()),
        };
        Hasher { state }
    }

    /// The algorithm of this hash.
    pub fn algorithm(&self) -> HashAlgorithm {
        match self.state {
            HasherState::Sha1(_) => HashAlgorithm::Sha1,
            HasherState::Sha256(_) => HashAlgorithm::Sha256,
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            HasherState::Sha1(h) => h.update(data),
            HasherState::Sha256(h) => h.update(data),
        }
    }

    /// Returns the digest (20 bytes for SHA-1, 32 for SHA-256).
    pub fn finish(self) -> Vec<u8> {
        match self.state {
            HasherState::Sha1(h) => h.finalize().to_vec(),
            HasherState::Sha256(h) => h.finalize().to_vec(),
        }
    }

    /// Hashes `data` in one call.
    pub fn digest(algorithm: HashAlgorithm, data: &[u8]) -> Vec<u8> {
        let mut hasher = Hasher::new(algorithm);
        hasher.update(data);
        hasher.finish()
    }
}

// ---------------------------------------------------------------------------
// A small DER reader: enough to tell PKCS#1 from PKCS#8, find the algorithm
// and the RSA modulus size, so errors name the key size whatever the backend.

mod der {
    pub(super) const SEQUENCE: u8 = 0x30;
    pub(super) const INTEGER: u8 = 0x02;
    pub(super) const OCTET_STRING: u8 = 0x04;
    pub(super) const OID: u8 = 0x06;
    pub(super) const BIT_STRING: u8 = 0x03;

    /// OID 1.2.840.113549.1.1.1 (rsaEncryption), content bytes.
    pub(super) const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    /// OID 1.3.101.112 (Ed25519, RFC 8410), content bytes.
    pub(super) const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

    /// Reads one TLV; returns (tag, content, rest).
    pub(super) fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        let length = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return None;
            }
            let (bytes, after) = rest.split_at_checked(count)?;
            rest = after;
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        let (content, rest) = rest.split_at_checked(length)?;
        Some((tag, content, rest))
    }

    /// Reads one TLV that must have `tag`.
    pub(super) fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (found, content, rest) = read(input)?;
        (found == tag).then_some((content, rest))
    }

    /// Bit length of a positive DER INTEGER's content.
    pub(super) fn integer_bits(content: &[u8]) -> usize {
        let trimmed = match content.iter().position(|&b| b != 0) {
            Some(start) => &content[start..],
            None => return 0,
        };
        match trimmed.first() {
            Some(&first) => trimmed.len() * 8 - first.leading_zeros() as usize,
            None => 0,
        }
    }

    /// Encodes a length.
    pub(super) fn push_len(out: &mut Vec<u8>, len: usize) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            let significant = bytes.get(skip..).unwrap_or_default();
            out.push(0x80 | significant.len() as u8);
            out.extend_from_slice(significant);
        }
    }

    /// Encodes one TLV.
    pub(super) fn push(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
        out.push(tag);
        push_len(out, content.len());
        out.extend_from_slice(content);
    }
}

/// What a private key DER holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrivateDer<'a> {
    /// PKCS#1 RSAPrivateKey (the whole input) with its modulus size.
    RsaPkcs1 { pkcs1: &'a [u8], bits: usize },
    /// PKCS#8 holding RSA; `pkcs1` is the inner RSAPrivateKey.
    RsaPkcs8 { pkcs1: &'a [u8], bits: usize },
    /// PKCS#8 holding an Ed25519 seed.
    Ed25519Pkcs8 { seed: [u8; 32] },
}

fn rsa_pkcs1_private_bits(pkcs1: &[u8]) -> Option<usize> {
    let (body, _) = der::expect(pkcs1, der::SEQUENCE)?;
    let (_version, body) = der::expect(body, der::INTEGER)?;
    let (modulus, _) = der::expect(body, der::INTEGER)?;
    Some(der::integer_bits(modulus))
}

fn classify_private_der(input: &[u8]) -> Result<PrivateDer<'_>, KeyError> {
    let (body, _) = der::expect(input, der::SEQUENCE).ok_or(KeyError::UnrecognizedPrivateKey)?;
    let (_version, after_version) =
        der::expect(body, der::INTEGER).ok_or(KeyError::UnrecognizedPrivateKey)?;
    match der::read(after_version) {
        // PKCS#1: version, then the modulus INTEGER.
        Some((der::INTEGER, modulus, _)) => Ok(PrivateDer::RsaPkcs1 {
            pkcs1: input,
            bits: der::integer_bits(modulus),
        }),
        // PKCS#8: version, AlgorithmIdentifier, OCTET STRING privateKey.
        Some((der::SEQUENCE, algorithm, rest)) => {
            let (oid, _) =
                der::expect(algorithm, der::OID).ok_or(KeyError::UnrecognizedPrivateKey)?;
            let (private, _) =
                der::expect(rest, der::OCTET_STRING).ok_or(KeyError::UnrecognizedPrivateKey)?;
            if oid == der::OID_RSA {
                let bits = rsa_pkcs1_private_bits(private).ok_or(KeyError::Malformed {
                    key_type: KeyType::Rsa,
                })?;
                Ok(PrivateDer::RsaPkcs8 {
                    pkcs1: private,
                    bits,
                })
            } else if oid == der::OID_ED25519 {
                // RFC 8410 §7: CurvePrivateKey ::= OCTET STRING (the 32-byte seed).
                let (seed, _) =
                    der::expect(private, der::OCTET_STRING).ok_or(KeyError::Malformed {
                        key_type: KeyType::Ed25519,
                    })?;
                let seed: [u8; 32] = seed.try_into().map_err(|_| KeyError::Malformed {
                    key_type: KeyType::Ed25519,
                })?;
                Ok(PrivateDer::Ed25519Pkcs8 { seed })
            } else {
                Err(KeyError::UnsupportedAlgorithm)
            }
        }
        _ => Err(KeyError::UnrecognizedPrivateKey),
    }
}

/// Encodes an Ed25519 seed as a PKCS#8 v1 PrivateKeyInfo (RFC 8410 §7).
pub(crate) fn ed25519_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut algorithm = Vec::new();
    der::push(&mut algorithm, der::OID, der::OID_ED25519);
    let mut curve_private = Vec::new();
    der::push(&mut curve_private, der::OCTET_STRING, seed);
    let mut body = Vec::new();
    der::push(&mut body, der::INTEGER, &[0]);
    der::push(&mut body, der::SEQUENCE, &algorithm);
    der::push(&mut body, der::OCTET_STRING, &curve_private);
    let mut out = Vec::new();
    der::push(&mut out, der::SEQUENCE, &body);
    out
}

/// Wraps a PKCS#1 RSAPublicKey in a SubjectPublicKeyInfo (RFC 5280 §4.1).
pub(crate) fn rsa_spki_from_pkcs1(pkcs1: &[u8]) -> Vec<u8> {
    let mut algorithm = Vec::new();
    der::push(&mut algorithm, der::OID, der::OID_RSA);
    algorithm.extend_from_slice(&[0x05, 0x00]); // NULL parameters
    let mut bit_string = vec![0u8]; // no unused bits
    bit_string.extend_from_slice(pkcs1);
    let mut body = Vec::new();
    der::push(&mut body, der::SEQUENCE, &algorithm);
    der::push(&mut body, der::BIT_STRING, &bit_string);
    let mut out = Vec::new();
    der::push(&mut out, der::SEQUENCE, &body);
    out
}

/// Finds the PKCS#1 RSAPublicKey in `der` (a SubjectPublicKeyInfo or a bare
/// RSAPublicKey) and returns it with the modulus size in bits.
fn rsa_public_pkcs1(input: &[u8]) -> Result<(&[u8], usize), KeyError> {
    let malformed = KeyError::Malformed {
        key_type: KeyType::Rsa,
    };
    let (body, trailing) = der::expect(input, der::SEQUENCE).ok_or(malformed.clone())?;
    if !trailing.is_empty() {
        return Err(malformed);
    }
    let pkcs1 = match der::read(body) {
        // SubjectPublicKeyInfo: AlgorithmIdentifier, BIT STRING.
        Some((der::SEQUENCE, algorithm, rest)) => {
            let (oid, _) = der::expect(algorithm, der::OID).ok_or(malformed.clone())?;
            if oid != der::OID_RSA {
                return Err(malformed);
            }
            let (bits, _) = der::expect(rest, der::BIT_STRING).ok_or(malformed.clone())?;
            match bits.split_first() {
                Some((0, key)) => key,
                _ => return Err(malformed),
            }
        }
        // Bare RSAPublicKey: modulus, exponent.
        Some((der::INTEGER, _, _)) => input,
        _ => return Err(malformed),
    };
    let (key_body, _) = der::expect(pkcs1, der::SEQUENCE).ok_or(malformed.clone())?;
    let (modulus, rest) = der::expect(key_body, der::INTEGER).ok_or(malformed.clone())?;
    der::expect(rest, der::INTEGER).ok_or(malformed)?;
    Ok((pkcs1, der::integer_bits(modulus)))
}

// ---------------------------------------------------------------------------
// PEM

/// Reads the first PEM block of `text`: (label, DER bytes).
pub(crate) fn pem_decode(text: &[u8]) -> Result<(String, Vec<u8>), KeyError> {
    let text = String::from_utf8_lossy(text);
    let mut lines = text.lines().map(str::trim);
    let label = lines
        .by_ref()
        .find_map(|line| line.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
        .ok_or(KeyError::NoPemBlock)?
        .to_owned();
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    let mut ended = false;
    for line in lines {
        if line == end {
            ended = true;
            break;
        }
        if line.contains(':') {
            // RFC 1421 headers such as "Proc-Type: 4,ENCRYPTED".
            if line.contains("ENCRYPTED") {
                return Err(KeyError::Encrypted);
            }
            continue;
        }
        body.push_str(line);
    }
    if !ended {
        return Err(KeyError::NoPemBlock);
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|_| KeyError::PemBase64)?;
    Ok((label, der))
}

/// Writes DER as a PEM block with 64-column lines (RFC 7468).
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in encoded.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

// ---------------------------------------------------------------------------
// Public keys

/// A public key from a DKIM key record, ready to verify signatures.
#[derive(Clone)]
pub struct PublicKey {
    inner: PublicInner,
}

#[derive(Clone)]
enum PublicInner {
    Rsa {
        pkcs1: Vec<u8>,
        bits: usize,
        /// The key as the backend parsed it, so that verifying does not
        /// parse it again.
        parsed: backend::RsaPublic,
    },
    /// The point decoded once (ed25519-dalek does every Ed25519
    /// verification, whichever backend is compiled in).
    Ed25519(Box<ed25519_dalek::VerifyingKey>),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey")
            .field("key_type", &self.key_type())
            .field("bits", &self.bits())
            .finish()
    }
}

impl PublicKey {
    /// Reads the base64-decoded `p=` of a key record.
    ///
    /// RSA: a SubjectPublicKeyInfo (RFC 6376 §3.6.1), or a bare PKCS#1
    /// RSAPublicKey, which some domains publish. Ed25519: the raw 32-byte
    /// public key (RFC 8463 §4).
    pub fn from_record_data(key_type: KeyType, der: &[u8]) -> Result<PublicKey, KeyError> {
        let inner = match key_type {
            KeyType::Rsa => {
                let (pkcs1, bits) = rsa_public_pkcs1(der)?;
                if !(RSA_MIN_BITS_ANY..=RSA_MAX_BITS).contains(&bits) {
                    return Err(KeyError::UnsupportedKeySize {
                        bits,
                        operation: "verification",
                        backend: BACKEND,
                    });
                }
                let parsed = backend::rsa_public_key(pkcs1, bits)?;
                PublicInner::Rsa {
                    pkcs1: pkcs1.to_vec(),
                    bits,
                    parsed,
                }
            }
            KeyType::Ed25519 => {
                let raw: [u8; 32] = der
                    .try_into()
                    .map_err(|_| KeyError::Ed25519Length { length: der.len() })?;
                PublicInner::Ed25519(Box::new(ed25519_public(&raw)?))
            }
        };
        Ok(PublicKey { inner })
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        match self.inner {
            PublicInner::Rsa { .. } => KeyType::Rsa,
            PublicInner::Ed25519(_) => KeyType::Ed25519,
        }
    }

    /// The key size in bits (RSA modulus size; 256 for Ed25519).
    pub fn bits(&self) -> usize {
        match self.inner {
            PublicInner::Rsa { bits, .. } => bits,
            PublicInner::Ed25519(_) => 256,
        }
    }

    /// The key as it goes into a key record's `p=` (before base64):
    /// SubjectPublicKeyInfo for RSA, the raw 32 bytes for Ed25519.
    pub fn to_record_data(&self) -> Vec<u8> {
        match &self.inner {
            PublicInner::Rsa { pkcs1, .. } => rsa_spki_from_pkcs1(pkcs1),
            PublicInner::Ed25519(key) => key.to_bytes().to_vec(),
        }
    }

    /// Checks `signature` over `header_data`, the canonicalized header fields
    /// that were signed (RFC 6376 §3.7). The backend hashes `header_data`:
    /// RSA is PKCS#1 v1.5 with the algorithm's hash; Ed25519 is PureEdDSA
    /// over the SHA-256 digest of `header_data` (RFC 8463 §3).
    pub fn verify(
        &self,
        algorithm: Algorithm,
        header_data: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        check_key_type(algorithm, self.key_type())?;
        match &self.inner {
            PublicInner::Rsa { pkcs1, parsed, .. } => {
                backend::rsa_verify(parsed, pkcs1, algorithm.hash(), header_data, signature)
            }
            PublicInner::Ed25519(key) => {
                let digest = Hasher::digest(HashAlgorithm::Sha256, header_data);
                ed25519_verify(key, &digest, signature)
            }
        }
    }
}

/// Decodes an Ed25519 public key (RFC 8032 §5.1.3). Points of small order
/// are refused: with such a key anybody could make signatures that verify.
fn ed25519_public(raw: &[u8; 32]) -> Result<ed25519_dalek::VerifyingKey, KeyError> {
    match ed25519_dalek::VerifyingKey::from_bytes(raw) {
        Ok(key) if !key.is_weak() => Ok(key),
        _ => Err(KeyError::Ed25519Point),
    }
}

/// Ed25519 verification as RFC 8032 §5.1.7 without the cofactor, `S`
/// required below the group order (the check aws-lc and libsodium make too).
/// ed25519-dalek is used with either backend: with the decoded point kept
/// in [`PublicKey`] it is faster than aws-lc here, which decodes the point
/// on every call.
fn ed25519_verify(
    key: &ed25519_dalek::VerifyingKey,
    digest: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    use ed25519_dalek::Verifier as _;
    let signature =
        ed25519_dalek::Signature::from_slice(signature).map_err(|_| CryptoError::Mismatch)?;
    key.verify(digest, &signature)
        .map_err(|_| CryptoError::Mismatch)
}

// ---------------------------------------------------------------------------
// Signing keys

/// A private key to sign with.
pub struct SigningKey {
    inner: backend::Private,
    bits: usize,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_type", &self.key_type())
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a PEM private key: `PRIVATE KEY` (PKCS#8, RSA or Ed25519) or
    /// `RSA PRIVATE KEY` (PKCS#1). Encrypted keys are refused.
    pub fn from_pem(pem: &[u8]) -> Result<SigningKey, KeyError> {
        let (label, der) = pem_decode(pem)?;
        match label.as_str() {
            "PRIVATE KEY" | "RSA PRIVATE KEY" => SigningKey::from_der(&der),
            "ENCRYPTED PRIVATE KEY" => Err(KeyError::Encrypted),
            _ => Err(KeyError::UnsupportedPemLabel { label }),
        }
    }

    /// Reads a DER private key: PKCS#8 (RSA or Ed25519) or PKCS#1 (RSA).
    pub fn from_der(der: &[u8]) -> Result<SigningKey, KeyError> {
        match classify_private_der(der)? {
            PrivateDer::RsaPkcs1 { pkcs1, bits } | PrivateDer::RsaPkcs8 { pkcs1, bits } => {
                if !(backend::RSA_SIGN_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
                    return Err(KeyError::UnsupportedKeySize {
                        bits,
                        operation: "signing",
                        backend: BACKEND,
                    });
                }
                Ok(SigningKey {
                    inner: backend::rsa_private(pkcs1, bits)?,
                    bits,
                })
            }
            PrivateDer::Ed25519Pkcs8 { seed } => SigningKey::from_ed25519_seed(&seed),
        }
    }

    /// An Ed25519 key from its 32-byte seed (the RFC 8032 secret key).
    pub fn from_ed25519_seed(seed: &[u8; 32]) -> Result<SigningKey, KeyError> {
        Ok(SigningKey {
            inner: backend::ed25519_private(seed)?,
            bits: 256,
        })
    }

    pub(crate) fn from_backend(inner: backend::Private, bits: usize) -> SigningKey {
        SigningKey { inner, bits }
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        backend::private_key_type(&self.inner)
    }

    /// The key size in bits (RSA modulus size; 256 for Ed25519).
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The public key as it goes into a key record's `p=` (before base64):
    /// SubjectPublicKeyInfo for RSA, the raw 32 bytes for Ed25519.
    pub fn public_key_der(&self) -> Vec<u8> {
        backend::public_record_data(&self.inner)
    }

    /// The matching public key.
    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        PublicKey::from_record_data(self.key_type(), &self.public_key_der())
    }

    /// The private key as PKCS#8 DER (for writing a `PRIVATE KEY` PEM file).
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, CryptoError> {
        backend::private_pkcs8(&self.inner)
    }

    /// Signs `header_data`, the canonicalized header fields (RFC 6376 §3.7),
    /// hashing it as [`PublicKey::verify`] describes. `rsa-sha1` is refused
    /// (RFC 8301 §3.1).
    pub fn sign(&self, algorithm: Algorithm, header_data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        check_key_type(algorithm, self.key_type())?;
        match algorithm {
            Algorithm::RsaSha256 => backend::rsa_sign_sha256(&self.inner, header_data),
            Algorithm::Ed25519Sha256 => {
                let digest = sha2::Sha256::digest(header_data);
                backend::ed25519_sign(&self.inner, &digest)
            }
            _ => Err(CryptoError::AlgorithmNotForSigning { algorithm }),
        }
    }
}
