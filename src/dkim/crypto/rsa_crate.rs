//! RSA with the `rsa` crate: every RSA key with the pure-Rust backend; with
//! aws-lc, verification with keys under 1024 bits and key generation and
//! signing with keys of 1024 up to 2048 bits (the sizes aws-lc-rs refuses).

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

/// Parses and checks a PKCS#1 RSAPrivateKey.
pub(super) fn private(pkcs1: &[u8]) -> Result<rsa::RsaPrivateKey, KeyError> {
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    let malformed = KeyError::Malformed {
        key_type: KeyType::Rsa,
    };
    let key = rsa::RsaPrivateKey::from_pkcs1_der(pkcs1).map_err(|_| malformed.clone())?;
    key.validate().map_err(|_| malformed)?;
    Ok(key)
}

/// The public key as a key record's `p=` holds it (SubjectPublicKeyInfo).
pub(super) fn public_record_data(key: &rsa::RsaPrivateKey) -> Vec<u8> {
    use rsa::pkcs1::EncodeRsaPublicKey as _;
    match key.to_public_key().to_pkcs1_der() {
        Ok(doc) => super::rsa_spki_from_pkcs1(doc.as_bytes()),
        Err(_) => Vec::new(),
    }
}

/// The private key as PKCS#8 DER.
pub(super) fn private_pkcs8(key: &rsa::RsaPrivateKey) -> Result<Vec<u8>, CryptoError> {
    use rsa::pkcs8::EncodePrivateKey as _;
    key.to_pkcs8_der()
        .map(|doc| doc.as_bytes().to_vec())
        .map_err(|_| CryptoError::Backend)
}

/// Signs `data` with PKCS#1 v1.5 and SHA-256, blinded with `random`
/// (the signature itself is deterministic).
pub(super) fn sign_sha256(
    key: &rsa::RsaPrivateKey,
    data: &[u8],
    random: &mut dyn FnMut(&mut [u8]),
) -> Result<Vec<u8>, CryptoError> {
    let digest = super::Hasher::digest(HashAlgorithm::Sha256, data);
    key.sign_with_rng(&mut FnRng(random), padding(HashAlgorithm::Sha256), &digest)
        .map_err(|_| CryptoError::Backend)
}

/// Generates an RSA key of `bits` bits from `random`.
pub(super) fn generate(
    bits: usize,
    random: &mut dyn FnMut(&mut [u8]),
) -> Result<rsa::RsaPrivateKey, CryptoError> {
    rsa::RsaPrivateKey::new(&mut FnRng(random), bits).map_err(|_| CryptoError::Backend)
}

/// Adapts a byte-filling closure to the `rsa` crate's rand_core (0.6).
struct FnRng<'a>(&'a mut dyn FnMut(&mut [u8]));

impl rsa::rand_core::RngCore for FnRng<'_> {
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
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        (self.0)(dest);
        Ok(())
    }
}

// The caller promises a cryptographically secure source.
impl rsa::rand_core::CryptoRng for FnRng<'_> {}
