//! RSA verification with the `rsa` crate: every RSA key with the
//! pure-Rust backend, and keys under 1024 bits (which aws-lc-rs refuses)
//! with aws-lc.

use super::{CryptoError, HashAlgorithm, KeyError, KeyType};

/// DER DigestInfo prefixes for PKCS#1 v1.5 (RFC 8017 §9.2, note 1).
const SHA1_PREFIX: &[u8] = &[
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];
const SHA256_PREFIX: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
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
) -> Result<(), CryptoError> {
    let digest = super::Hasher::digest(hash, data);
    key.verify(padding(hash), &digest, signature)
        .map_err(|_| CryptoError::Mismatch)
}
