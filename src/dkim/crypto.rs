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
//! | sign | 2048..=8192 bits | 1024..=8192 bits |
//!
//! Anything outside those ranges is refused with
//! [`KeyError::UnsupportedKeySize`] or [`SignatureError::UnsupportedKeySize`],
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

/// Why signing or verification did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
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

fn check_key_type(algorithm: Algorithm, key_type: KeyType) -> Result<(), SignatureError> {
    let needed = algorithm.key_type();
    if needed == key_type {
        Ok(())
    } else {
        Err(SignatureError::KeyTypeMismatch {
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
    ) -> Result<(), SignatureError> {
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
) -> Result<(), SignatureError> {
    use ed25519_dalek::Verifier as _;
    let signature =
        ed25519_dalek::Signature::from_slice(signature).map_err(|_| SignatureError::Mismatch)?;
    key.verify(digest, &signature)
        .map_err(|_| SignatureError::Mismatch)
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
                    inner: backend::rsa_private(pkcs1)?,
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
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, SignatureError> {
        backend::private_pkcs8(&self.inner)
    }

    /// Signs `header_data`, the canonicalized header fields (RFC 6376 §3.7),
    /// hashing it as [`PublicKey::verify`] describes. `rsa-sha1` is refused
    /// (RFC 8301 §3.1).
    pub fn sign(
        &self,
        algorithm: Algorithm,
        header_data: &[u8],
    ) -> Result<Vec<u8>, SignatureError> {
        check_key_type(algorithm, self.key_type())?;
        match algorithm {
            Algorithm::RsaSha256 => backend::rsa_sign_sha256(&self.inner, header_data),
            Algorithm::Ed25519Sha256 => {
                let digest = Hasher::digest(HashAlgorithm::Sha256, header_data);
                backend::ed25519_sign(&self.inner, &digest)
            }
            _ => Err(SignatureError::AlgorithmNotForSigning { algorithm }),
        }
    }
}

// ---------------------------------------------------------------------------
// RSA verification with the `rsa` crate: every RSA key with the pure-Rust
// backend, and keys under 1024 bits (which aws-lc-rs refuses) with aws-lc.

#[cfg(any(feature = "aws-lc", feature = "pure-rust"))]
mod rsa_crate {
    use super::{HashAlgorithm, KeyError, KeyType, SignatureError};

    /// DER DigestInfo prefixes for PKCS#1 v1.5 (RFC 8017 §9.2, note 1).
    const SHA1_PREFIX: &[u8] = &[
        0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
    ];
    const SHA256_PREFIX: &[u8] = &[
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];

    pub(super) fn padding(hash: HashAlgorithm) -> rsa::Pkcs1v15Sign {
        let (prefix, len) = match hash {
            HashAlgorithm::Sha1 => (SHA1_PREFIX, 20),
            _ => (SHA256_PREFIX, 32),
        };
        rsa::Pkcs1v15Sign {
            hash_len: Some(len),
            prefix: prefix.into(),
        }
    }

    /// Parses a PKCS#1 RSAPublicKey.
    pub(super) fn public(pkcs1: &[u8]) -> Result<rsa::RsaPublicKey, KeyError> {
        use rsa::pkcs1::der::Decode as _;
        let malformed = KeyError::Malformed {
            key_type: KeyType::Rsa,
        };
        let key = rsa::pkcs1::RsaPublicKey::from_der(pkcs1).map_err(|_| malformed.clone())?;
        let n = rsa::BigUint::from_bytes_be(key.modulus.as_bytes());
        let e = rsa::BigUint::from_bytes_be(key.public_exponent.as_bytes());
        rsa::RsaPublicKey::new_with_max_size(n, e, super::RSA_MAX_BITS).map_err(|_| malformed)
    }

    /// Checks a PKCS#1 v1.5 signature over `data` hashed with `hash`.
    pub(super) fn verify(
        key: &rsa::RsaPublicKey,
        hash: HashAlgorithm,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let digest = super::Hasher::digest(hash, data);
        key.verify(padding(hash), &digest, signature)
            .map_err(|_| SignatureError::Mismatch)
    }
}

// ---------------------------------------------------------------------------
// Backend: aws-lc-rs

#[cfg(feature = "aws-lc")]
pub(crate) mod backend {
    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::signature::{self as sig, KeyPair as _};

    use super::{HashAlgorithm, KeyError, KeyType, SignatureError};

    /// aws-lc-rs refuses to sign with RSA keys under 2048 bits.
    pub(crate) const RSA_SIGN_MIN_BITS: usize = 2048;
    /// aws-lc-rs verifies RSA keys from 1024 bits (the legacy parameters);
    /// smaller ones (accepted only when a verifier lowers
    /// `VerifyConfig::min_rsa_bits`) go to the `rsa` crate. Verification
    /// uses only public data, so the `rsa` crate's timing side channel
    /// (RUSTSEC-2023-0071, in private-key operations) does not apply.
    const RSA_VERIFY_MIN_BITS: usize = 1024;

    pub(crate) enum Private {
        Rsa(sig::RsaKeyPair),
        Ed25519(sig::Ed25519KeyPair),
    }

    /// An RSA public key parsed once: by aws-lc (PKCS#1 v1.5 with SHA-256,
    /// the algorithm of every signature accepted by default), or by the
    /// `rsa` crate for keys under 1024 bits.
    #[derive(Clone)]
    pub(crate) enum RsaPublic {
        AwsLc(sig::ParsedPublicKey),
        Short(Box<rsa::RsaPublicKey>),
    }

    /// Parses (and checks) a PKCS#1 RSAPublicKey of `bits` bits.
    pub(super) fn rsa_public_key(pkcs1: &[u8], bits: usize) -> Result<RsaPublic, KeyError> {
        if bits < RSA_VERIFY_MIN_BITS {
            return super::rsa_crate::public(pkcs1).map(|key| RsaPublic::Short(Box::new(key)));
        }
        // The same decoding and `RSA_check_key` as `rsa::PublicKey::from_der`.
        sig::ParsedPublicKey::new(&sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, pkcs1)
            .map(RsaPublic::AwsLc)
            .map_err(|_| KeyError::Malformed {
                key_type: KeyType::Rsa,
            })
    }

    pub(super) fn rsa_verify(
        parsed: &RsaPublic,
        pkcs1: &[u8],
        hash: HashAlgorithm,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let parsed = match parsed {
            RsaPublic::AwsLc(parsed) => parsed,
            RsaPublic::Short(key) => return super::rsa_crate::verify(key, hash, data, signature),
        };
        let verified = match hash {
            HashAlgorithm::Sha1 => sig::UnparsedPublicKey::new(
                &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
                pkcs1,
            )
            .verify(data, signature),
            _ => parsed.verify_sig(data, signature),
        };
        verified.map_err(|_| SignatureError::Mismatch)
    }

    pub(super) fn rsa_private(pkcs1: &[u8]) -> Result<Private, KeyError> {
        sig::RsaKeyPair::from_der(pkcs1)
            .map(Private::Rsa)
            .map_err(|_| KeyError::Malformed {
                key_type: KeyType::Rsa,
            })
    }

    pub(super) fn ed25519_private(seed: &[u8; 32]) -> Result<Private, KeyError> {
        sig::Ed25519KeyPair::from_seed_unchecked(seed)
            .map(Private::Ed25519)
            .map_err(|_| KeyError::Malformed {
                key_type: KeyType::Ed25519,
            })
    }

    pub(super) fn private_key_type(key: &Private) -> KeyType {
        match key {
            Private::Rsa(_) => KeyType::Rsa,
            Private::Ed25519(_) => KeyType::Ed25519,
        }
    }

    pub(super) fn public_record_data(key: &Private) -> Vec<u8> {
        match key {
            // The RSAPublicKey (PKCS#1) wrapped as SubjectPublicKeyInfo.
            Private::Rsa(pair) => super::rsa_spki_from_pkcs1(pair.public_key().as_ref()),
            Private::Ed25519(pair) => pair.public_key().as_ref().to_vec(),
        }
    }

    pub(super) fn private_pkcs8(key: &Private) -> Result<Vec<u8>, SignatureError> {
        match key {
            Private::Rsa(pair) => pair
                .as_der()
                .map(|der| der.as_ref().to_vec())
                .map_err(|_| SignatureError::Backend),
            Private::Ed25519(pair) => pair
                .to_pkcs8v1()
                .map(|doc| doc.as_ref().to_vec())
                .map_err(|_| SignatureError::Backend),
        }
    }

    pub(super) fn rsa_sign_sha256(key: &Private, data: &[u8]) -> Result<Vec<u8>, SignatureError> {
        let Private::Rsa(pair) = key else {
            return Err(SignatureError::Backend);
        };
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let mut signature = vec![0u8; pair.public_modulus_len()];
        pair.sign(&sig::RSA_PKCS1_SHA256, &rng, data, &mut signature)
            .map_err(|_| SignatureError::Backend)?;
        Ok(signature)
    }

    pub(super) fn ed25519_sign(key: &Private, digest: &[u8]) -> Result<Vec<u8>, SignatureError> {
        let Private::Ed25519(pair) = key else {
            return Err(SignatureError::Backend);
        };
        Ok(pair.sign(digest).as_ref().to_vec())
    }

    /// Generates an RSA key (2048, 3072 or 4096 bits) from aws-lc's random source.
    pub(crate) fn generate_rsa(bits: usize) -> Result<Private, SignatureError> {
        let size = match bits {
            2048 => aws_lc_rs::rsa::KeySize::Rsa2048,
            3072 => aws_lc_rs::rsa::KeySize::Rsa3072,
            4096 => aws_lc_rs::rsa::KeySize::Rsa4096,
            _ => {
                return Err(SignatureError::UnsupportedKeySize {
                    bits,
                    operation: "key generation",
                    backend: super::BACKEND,
                });
            }
        };
        sig::RsaKeyPair::generate(size)
            .map(Private::Rsa)
            .map_err(|_| SignatureError::Backend)
    }

    /// Whether [`generate_rsa`] takes randomness from the caller.
    pub(crate) const RSA_KEYGEN_TAKES_RNG: bool = false;

    /// Not available with this backend (see [`RSA_KEYGEN_TAKES_RNG`]).
    pub(crate) fn generate_rsa_with(
        bits: usize,
        _random: &mut dyn FnMut(&mut [u8]),
    ) -> Result<Private, SignatureError> {
        generate_rsa(bits)
    }

    /// Fills `buf` from the system's secure random source.
    pub(crate) fn system_random(buf: &mut [u8]) -> Result<(), SignatureError> {
        aws_lc_rs::rand::fill(buf).map_err(|_| SignatureError::Backend)
    }
}

// ---------------------------------------------------------------------------
// Backend: pure Rust (rsa + ed25519-dalek)

#[cfg(all(feature = "pure-rust", not(feature = "aws-lc")))]
pub(crate) mod backend {
    use ed25519_dalek::Signer as _;
    use rsa::pkcs8::EncodePrivateKey as _;

    use super::{HashAlgorithm, KeyError, KeyType, SignatureError};

    /// The `rsa` crate signs with any size; RFC 8301 §3.2 forbids under 1024.
    pub(crate) const RSA_SIGN_MIN_BITS: usize = 1024;

    pub(crate) enum Private {
        Rsa(Box<rsa::RsaPrivateKey>),
        Ed25519(Box<ed25519_dalek::SigningKey>),
    }

    /// An RSA public key parsed once.
    #[derive(Clone)]
    pub(crate) struct RsaPublic(rsa::RsaPublicKey);

    /// Parses (and checks) a PKCS#1 RSAPublicKey of `_bits` bits.
    pub(super) fn rsa_public_key(pkcs1: &[u8], _bits: usize) -> Result<RsaPublic, KeyError> {
        super::rsa_crate::public(pkcs1).map(RsaPublic)
    }

    pub(super) fn rsa_verify(
        parsed: &RsaPublic,
        _pkcs1: &[u8],
        hash: HashAlgorithm,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        super::rsa_crate::verify(&parsed.0, hash, data, signature)
    }

    pub(super) fn rsa_private(pkcs1: &[u8]) -> Result<Private, KeyError> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        let key = rsa::RsaPrivateKey::from_pkcs1_der(pkcs1).map_err(|_| KeyError::Malformed {
            key_type: KeyType::Rsa,
        })?;
        key.validate().map_err(|_| KeyError::Malformed {
            key_type: KeyType::Rsa,
        })?;
        Ok(Private::Rsa(Box::new(key)))
    }

    pub(super) fn ed25519_private(seed: &[u8; 32]) -> Result<Private, KeyError> {
        Ok(Private::Ed25519(Box::new(
            ed25519_dalek::SigningKey::from_bytes(seed),
        )))
    }

    pub(super) fn private_key_type(key: &Private) -> KeyType {
        match key {
            Private::Rsa(_) => KeyType::Rsa,
            Private::Ed25519(_) => KeyType::Ed25519,
        }
    }

    pub(super) fn public_record_data(key: &Private) -> Vec<u8> {
        match key {
            Private::Rsa(key) => {
                use rsa::pkcs1::EncodeRsaPublicKey as _;
                match key.to_public_key().to_pkcs1_der() {
                    Ok(doc) => super::rsa_spki_from_pkcs1(doc.as_bytes()),
                    Err(_) => Vec::new(),
                }
            }
            Private::Ed25519(key) => key.verifying_key().to_bytes().to_vec(),
        }
    }

    pub(super) fn private_pkcs8(key: &Private) -> Result<Vec<u8>, SignatureError> {
        match key {
            Private::Rsa(key) => key
                .to_pkcs8_der()
                .map(|doc| doc.as_bytes().to_vec())
                .map_err(|_| SignatureError::Backend),
            Private::Ed25519(key) => Ok(super::ed25519_pkcs8(&key.to_bytes())),
        }
    }

    pub(super) fn rsa_sign_sha256(key: &Private, data: &[u8]) -> Result<Vec<u8>, SignatureError> {
        let Private::Rsa(key) = key else {
            return Err(SignatureError::Backend);
        };
        let digest = super::Hasher::digest(HashAlgorithm::Sha256, data);
        // Blinded with OS randomness; PKCS#1 v1.5 output is deterministic anyway.
        key.sign_with_rng(
            &mut rand_core::OsRng,
            super::rsa_crate::padding(HashAlgorithm::Sha256),
            &digest,
        )
        .map_err(|_| SignatureError::Backend)
    }

    pub(super) fn ed25519_sign(key: &Private, digest: &[u8]) -> Result<Vec<u8>, SignatureError> {
        let Private::Ed25519(key) = key else {
            return Err(SignatureError::Backend);
        };
        Ok(key.sign(digest).to_bytes().to_vec())
    }

    /// Adapts a byte-filling closure to rand_core 0.6.
    struct FnRng<'a>(&'a mut dyn FnMut(&mut [u8]));

    impl rand_core::RngCore for FnRng<'_> {
        fn next_u32(&mut self) -> u32 {
            let mut b = [0u8; 4];
            (self.0)(&mut b);
            u32::from_le_bytes(b)
        }
        fn next_u64(&mut self) -> u64 {
            let mut b = [0u8; 8];
            (self.0)(&mut b);
            u64::from_le_bytes(b)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            (self.0)(dest)
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            (self.0)(dest);
            Ok(())
        }
    }

    // The caller promises a cryptographically secure source.
    impl rand_core::CryptoRng for FnRng<'_> {}

    /// Whether [`generate_rsa_with`] uses the caller's randomness.
    pub(crate) const RSA_KEYGEN_TAKES_RNG: bool = true;

    /// Generates an RSA key from the system's random source.
    pub(crate) fn generate_rsa(bits: usize) -> Result<Private, SignatureError> {
        let mut os = |buf: &mut [u8]| rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, buf);
        generate_rsa_with(bits, &mut os)
    }

    /// Generates an RSA key from the caller's random source.
    pub(crate) fn generate_rsa_with(
        bits: usize,
        random: &mut dyn FnMut(&mut [u8]),
    ) -> Result<Private, SignatureError> {
        let mut rng = FnRng(random);
        rsa::RsaPrivateKey::new(&mut rng, bits)
            .map(|key| Private::Rsa(Box::new(key)))
            .map_err(|_| SignatureError::Backend)
    }

    /// Fills `buf` from the system's secure random source.
    pub(crate) fn system_random(buf: &mut [u8]) -> Result<(), SignatureError> {
        rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, buf)
            .map_err(|_| SignatureError::Backend)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn data(path: &str) -> Vec<u8> {
        let full = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&full).unwrap_or_else(|e| panic!("reading {full}: {e}"))
    }

    fn b64(text: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap()
    }

    /// RFC 8463 A.2 record data.
    const RFC8463_ED25519_P: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    const RFC8463_RSA_P: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

    /// The relaxed-canonicalized header data that RFC 8463 A.3 signed, with
    /// the signature's own field last and b= empty (RFC 6376 §3.7).
    fn rfc8463_header_data(algorithm: &str, selector: &str) -> Vec<u8> {
        format!(
            "from:Joe SixPack <joe@football.example.com>\r\n\
             to:Suzie Q <suzie@shopping.example.net>\r\n\
             subject:Is dinner ready?\r\n\
             date:Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n\
             message-id:<20030712040037.46341.5F8J@football.example.com>\r\n\
             dkim-signature:v=1; a={algorithm}; c=relaxed/relaxed; d=football.example.com; \
             i=@football.example.com; q=dns/txt; s={selector}; t=1528637909; \
             h=from : to : subject : date : message-id : from : subject : date; \
             bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b="
        )
        .into_bytes()
    }

    const RFC8463_ED25519_B: &str =
        "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";
    const RFC8463_RSA_B: &str = "F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2JzdA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=";

    fn rfc8463_ed25519_key() -> SigningKey {
        let seed = b64(
            String::from_utf8(data("rfc-examples/rfc8463-A1-ed25519-secret-seed.b64"))
                .unwrap()
                .trim(),
        );
        SigningKey::from_ed25519_seed(&seed.try_into().unwrap()).unwrap()
    }

    #[test]
    fn rfc8463_ed25519_key_matches_record_and_reproduces_signature() {
        let key = rfc8463_ed25519_key();
        assert_eq!(key.key_type(), KeyType::Ed25519);
        assert_eq!(key.public_key_der(), b64(RFC8463_ED25519_P));
        let header_data = rfc8463_header_data("ed25519-sha256", "brisbane");
        // Ed25519 is deterministic: the RFC's b= comes out again.
        let signature = key.sign(Algorithm::Ed25519Sha256, &header_data).unwrap();
        assert_eq!(signature, b64(RFC8463_ED25519_B));
        let public =
            PublicKey::from_record_data(KeyType::Ed25519, &b64(RFC8463_ED25519_P)).unwrap();
        assert_eq!(public.bits(), 256);
        public
            .verify(Algorithm::Ed25519Sha256, &header_data, &signature)
            .unwrap();
        let mut tampered = header_data.clone();
        tampered[0] = b'F';
        assert_eq!(
            public.verify(Algorithm::Ed25519Sha256, &tampered, &signature),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rfc8463_rsa_signature_verifies() {
        let public = PublicKey::from_record_data(KeyType::Rsa, &b64(RFC8463_RSA_P)).unwrap();
        assert_eq!(public.bits(), 1024);
        assert_eq!(public.key_type(), KeyType::Rsa);
        assert_eq!(public.to_record_data(), b64(RFC8463_RSA_P));
        let header_data = rfc8463_header_data("rsa-sha256", "test");
        public
            .verify(Algorithm::RsaSha256, &header_data, &b64(RFC8463_RSA_B))
            .unwrap();
        assert_eq!(
            public.verify(Algorithm::RsaSha1, &header_data, &b64(RFC8463_RSA_B)),
            Err(SignatureError::Mismatch)
        );
        assert!(matches!(
            public.verify(Algorithm::Ed25519Sha256, &header_data, &b64(RFC8463_RSA_B)),
            Err(SignatureError::KeyTypeMismatch { .. })
        ));
    }

    #[test]
    fn rfc8463_rsa_private_key_reads_per_backend() {
        let pem = data("rfc-examples/rfc8463-A1-rsa-private.pem");
        let result = SigningKey::from_pem(&pem);
        if cfg!(feature = "aws-lc") {
            // aws-lc-rs signs only with RSA keys of 2048 bits or more.
            assert_eq!(
                result.unwrap_err(),
                KeyError::UnsupportedKeySize {
                    bits: 1024,
                    operation: "signing",
                    backend: "aws-lc"
                }
            );
        } else {
            let key = result.unwrap();
            assert_eq!(key.bits(), 1024);
            assert_eq!(key.public_key_der(), b64(RFC8463_RSA_P));
            // PKCS#1 v1.5 is deterministic: the RFC's b= comes out again.
            let header_data = rfc8463_header_data("rsa-sha256", "test");
            assert_eq!(
                key.sign(Algorithm::RsaSha256, &header_data).unwrap(),
                b64(RFC8463_RSA_B)
            );
        }
    }

    /// Signatures made by `openssl dgst -sha1/-sha256 -sign` with the RFC 8463
    /// A.1 RSA key over `b"mailauth rsa-sha1 test vector\r\n"`.
    #[test]
    fn openssl_vectors_verify() {
        let message = b"mailauth rsa-sha1 test vector\r\n";
        let sha1 = "NO4+X2QLwpVcdvdL7NgT2e3qa6EYggzvQKgh4Sl4f5Jh9G6LGJCfCfoFJjfyq4qoylHdZPUxbJWIfF2oBOgkHHxkrKjHmDfZCDmz4UAai6ow3ygiylvAK+D+dzl0JD6ZNKMRsuy1Vs9haVlPKhvuSVglScvXIMMe6z4C1HOx0PY=";
        let sha256 = "YxFR+DnL/ueEfXY3tl2Ixkq15Xbvfnjn1AO6E6fg1MUMZzKdMmsAIZNVdnbYVIBoyflC5oHKaUmFrR077SSorMQgQF+V9rkOPuPrhSLeOrNe0lgY2c90ycZzHFEFKyZL5g+x3h0TLHjDYyzCSttN/YOznynLsChT4Gk5KUtInUk=";
        let public = PublicKey::from_record_data(KeyType::Rsa, &b64(RFC8463_RSA_P)).unwrap();
        public
            .verify(Algorithm::RsaSha1, message, &b64(sha1))
            .unwrap();
        public
            .verify(Algorithm::RsaSha256, message, &b64(sha256))
            .unwrap();
        assert_eq!(
            public.verify(Algorithm::RsaSha256, message, &b64(sha1)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn keys_under_1024_bits_per_backend() {
        let spki = b64(
            "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMKbNRy6Mt++atYhf4YUrheQauw40zDkphYZDmE8Icn3Emhz38e3q01e/+hP6sJyma0IPy+gfhdCaZDC8l53X3kCAwEAAQ==",
        );
        let signature = b64(
            "tSkx0a9Tp+ZjhzlBFp2E8d0p6s6QyGYJ2vXg9hrsY8UO1wTFZk2CjNT4uIT5WNEbAk2D9gTZ0+VPnEo+tGKcOw==",
        );
        let public = PublicKey::from_record_data(KeyType::Rsa, &spki).unwrap();
        assert_eq!(public.bits(), 512);
        let result = public.verify(
            Algorithm::RsaSha256,
            b"mailauth rsa-sha1 test vector\r\n",
            &signature,
        );
        // Every backend verifies them (aws-lc through the `rsa` crate);
        // whether they are accepted is the verifier's policy.
        assert_eq!(result, Ok(()));
        assert_eq!(
            public.verify(Algorithm::RsaSha256, b"another text\r\n", &signature),
            Err(SignatureError::Mismatch)
        );
        // Nobody signs with 512 bits.
        let err = SigningKey::from_pem(&data("keys/rsa512.pkcs8.pem")).unwrap_err();
        assert!(matches!(
            err,
            KeyError::UnsupportedKeySize {
                bits: 512,
                operation: "signing",
                ..
            }
        ));
    }

    fn round_trip(key: &SigningKey, algorithm: Algorithm) {
        let header_data = b"from:a@example.com\r\ndkim-signature:v=1; b=";
        let signature = key.sign(algorithm, header_data).unwrap();
        let public = PublicKey::from_record_data(key.key_type(), &key.public_key_der()).unwrap();
        assert_eq!(public.bits(), key.bits());
        public.verify(algorithm, header_data, &signature).unwrap();
        assert_eq!(
            public.verify(algorithm, b"from:b@example.com\r\n", &signature),
            Err(SignatureError::Mismatch)
        );
        let mut bad = signature.clone();
        bad[5] ^= 1;
        assert_eq!(
            public.verify(algorithm, header_data, &bad),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            public.verify(algorithm, header_data, &[]),
            Err(SignatureError::Mismatch)
        );
        // Through PKCS#8 and back.
        let again = SigningKey::from_der(&key.to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(again.public_key_der(), key.public_key_der());
        assert_eq!(
            again.public_key().unwrap().to_record_data(),
            key.public_key_der()
        );
    }

    #[test]
    fn rsa2048_round_trip_pkcs1_and_pkcs8() {
        let pkcs8 = SigningKey::from_pem(&data("keys/rsa2048.pkcs8.pem")).unwrap();
        let pkcs1 = SigningKey::from_pem(&data("keys/rsa2048.pkcs1.pem")).unwrap();
        assert_eq!(pkcs8.bits(), 2048);
        assert_eq!(pkcs8.key_type(), KeyType::Rsa);
        assert_eq!(pkcs8.public_key_der(), pkcs1.public_key_der());
        // openssl pkey -pubout gives the same SubjectPublicKeyInfo.
        let spki = b64(
            "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA6xjf027rF6KM3iBLca8J5zYJYy3BlsGSviXoGRP0gKp0uOMB1+jsUlSvnAivf4jGN9j0aCwLuC6Q/OsO6w0As5sKzzVDhiJWxWs9f3qy7DSWlGPJ3UMLWQ8ccxuxoJf2C4uMNgLv5PnpstW87E5n6d7QkH6gi2mHFJYVbdl4TCN3VmewbFZVt4Ecow0jaRGraBWaEyuzFkt0n0fPxeeM0hBwOTNN3f7jZk4OWCVaXvYb9zbCBt1YMkmzAnvqMadkroqADLNuUSpQhE86dwxoyJyL2cdqxcQy59MOJKX7m/BHtV3R6VB3Zm/FmKAs4MuTVE7Cd+H7RBdUmhqSoHYHGwIDAQAB",
        );
        assert_eq!(pkcs8.public_key_der(), spki);
        round_trip(&pkcs8, Algorithm::RsaSha256);
        // A bare PKCS#1 RSAPublicKey in p= is accepted too.
        let (bare, bits) = rsa_public_pkcs1(&spki).unwrap();
        assert_eq!(bits, 2048);
        let public = PublicKey::from_record_data(KeyType::Rsa, bare).unwrap();
        let signature = pkcs1.sign(Algorithm::RsaSha256, b"x").unwrap();
        public
            .verify(Algorithm::RsaSha256, b"x", &signature)
            .unwrap();
        assert_eq!(
            pkcs1.sign(Algorithm::RsaSha1, b"x"),
            Err(SignatureError::AlgorithmNotForSigning {
                algorithm: Algorithm::RsaSha1
            })
        );
        assert!(matches!(
            pkcs1.sign(Algorithm::Ed25519Sha256, b"x"),
            Err(SignatureError::KeyTypeMismatch { .. })
        ));
    }

    #[test]
    fn ed25519_round_trip() {
        let key = SigningKey::from_pem(&data("keys/ed25519.pkcs8.pem")).unwrap();
        assert_eq!(key.key_type(), KeyType::Ed25519);
        assert_eq!(key.bits(), 256);
        round_trip(&key, Algorithm::Ed25519Sha256);
        round_trip(&rfc8463_ed25519_key(), Algorithm::Ed25519Sha256);
        // Our PKCS#8 encoding is the one OpenSSL writes.
        let (_, der) = pem_decode(&data("keys/ed25519.pkcs8.pem")).unwrap();
        assert_eq!(key.to_pkcs8_der().unwrap(), der);
    }

    #[test]
    fn malformed_keys_are_errors() {
        assert_eq!(
            PublicKey::from_record_data(KeyType::Ed25519, &[1, 2, 3]).unwrap_err(),
            KeyError::Ed25519Length { length: 3 }
        );
        // The neutral point (y = 1) has small order: with it any signature
        // could be made to verify.
        let mut neutral = [0u8; 32];
        neutral[0] = 1;
        assert_eq!(
            PublicKey::from_record_data(KeyType::Ed25519, &neutral).unwrap_err(),
            KeyError::Ed25519Point
        );
        // y = 2 is not on the curve.
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        assert_eq!(
            PublicKey::from_record_data(KeyType::Ed25519, &off_curve).unwrap_err(),
            KeyError::Ed25519Point
        );
        let rsa_malformed = KeyError::Malformed {
            key_type: KeyType::Rsa,
        };
        for bad in [
            &b""[..],
            b"\x30",
            b"\x30\x03\x02\x01",
            b"\x30\x84\xff\xff\xff\xff",
            b"garbage",
        ] {
            assert_eq!(
                PublicKey::from_record_data(KeyType::Rsa, bad).unwrap_err(),
                rsa_malformed
            );
        }
        // An RSA record truncated by one byte, and one with trailing junk.
        let good = b64(RFC8463_RSA_P);
        assert!(PublicKey::from_record_data(KeyType::Rsa, &good[..good.len() - 1]).is_err());
        let mut long = good.clone();
        long.push(0);
        assert!(PublicKey::from_record_data(KeyType::Rsa, &long).is_err());
        // An Ed25519 key in an RSA record.
        assert!(PublicKey::from_record_data(KeyType::Rsa, &b64(RFC8463_ED25519_P)).is_err());

        assert_eq!(
            SigningKey::from_pem(b"not a key").unwrap_err(),
            KeyError::NoPemBlock
        );
        assert_eq!(
            SigningKey::from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n").unwrap_err(),
            KeyError::NoPemBlock
        );
        assert_eq!(
            SigningKey::from_pem(b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n")
                .unwrap_err(),
            KeyError::PemBase64
        );
        assert_eq!(
            SigningKey::from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .unwrap_err(),
            KeyError::UnsupportedPemLabel {
                label: "CERTIFICATE".into()
            }
        );
        assert_eq!(
            SigningKey::from_pem(&data("keys/rsa2048.encrypted.pem")).unwrap_err(),
            KeyError::Encrypted
        );
        assert_eq!(
            SigningKey::from_pem(&data("keys/p256.pkcs8.pem")).unwrap_err(),
            KeyError::UnsupportedAlgorithm
        );
        assert_eq!(
            SigningKey::from_der(b"").unwrap_err(),
            KeyError::UnrecognizedPrivateKey
        );
        // A PKCS#1 key with a corrupted body.
        let (_, mut der) = pem_decode(&data("keys/rsa2048.pkcs1.pem")).unwrap();
        let middle = der.len() / 2;
        der[middle] ^= 0xff;
        assert!(SigningKey::from_der(&der).is_err());
        // Every truncation of a valid key is an error, never a panic.
        let (_, der) = pem_decode(&data("keys/ed25519.pkcs8.pem")).unwrap();
        for cut in 0..der.len() {
            assert!(SigningKey::from_der(&der[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn hasher_streams() {
        let mut h = Hasher::new(HashAlgorithm::Sha256);
        h.update(b"ab");
        h.update(b"c");
        assert_eq!(h.algorithm(), HashAlgorithm::Sha256);
        assert_eq!(h.finish(), Hasher::digest(HashAlgorithm::Sha256, b"abc"));
        // FIPS 180 "abc" vectors.
        assert_eq!(
            Hasher::digest(HashAlgorithm::Sha1, b"abc"),
            b64("qZk+NkcGgWq6PiVxeFDCbJzQ2J0=")
        );
        assert_eq!(
            Hasher::digest(HashAlgorithm::Sha256, b"abc"),
            b64("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
        );
    }

    #[test]
    fn pem_encode_round_trips() {
        let der: Vec<u8> = (0..=255).collect();
        let pem = pem_encode("PRIVATE KEY", &der);
        assert!(pem.lines().all(|line| line.len() <= 64));
        assert_eq!(
            pem_decode(pem.as_bytes()).unwrap(),
            ("PRIVATE KEY".into(), der)
        );
    }
}
