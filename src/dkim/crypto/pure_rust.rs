//! The pure-Rust backend (feature `pure-rust`): the `rsa` and
//! `ed25519-dalek` crates, for targets without a C compiler.

use ed25519_dalek::Signer as _;

use super::{CryptoError, HashAlgorithm, KeyError, KeyType};

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
) -> Result<(), CryptoError> {
    super::rsa_crate::verify(&parsed.0, hash, data, signature)
}

pub(super) fn rsa_private(pkcs1: &[u8], _bits: usize) -> Result<Private, KeyError> {
    super::rsa_crate::private(pkcs1).map(|key| Private::Rsa(Box::new(key)))
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
        Private::Rsa(key) => super::rsa_crate::public_record_data(key),
        Private::Ed25519(key) => key.verifying_key().to_bytes().to_vec(),
    }
}

pub(super) fn private_pkcs8(key: &Private) -> Result<Vec<u8>, CryptoError> {
    match key {
        Private::Rsa(key) => super::rsa_crate::private_pkcs8(key),
        Private::Ed25519(key) => Ok(super::ed25519_pkcs8(&key.to_bytes())),
    }
}

pub(super) fn rsa_sign_sha256(key: &Private, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let Private::Rsa(key) = key else {
        return Err(CryptoError::Backend);
    };
    let mut os = |buf: &mut [u8]| rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, buf);
    super::rsa_crate::sign_sha256(key, data, &mut os)
}

pub(super) fn ed25519_sign(key: &Private, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let Private::Ed25519(key) = key else {
        return Err(CryptoError::Backend);
    };
    Ok(key.sign(digest).to_bytes().to_vec())
}

/// Whether [`generate_rsa_with`] uses the caller's randomness.
pub(crate) const RSA_KEYGEN_TAKES_RNG: bool = true;

/// Generates an RSA key from the system's random source.
pub(crate) fn generate_rsa(bits: usize) -> Result<Private, CryptoError> {
    let mut os = |buf: &mut [u8]| rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, buf);
    generate_rsa_with(bits, &mut os)
}

/// Generates an RSA key from the caller's random source.
pub(crate) fn generate_rsa_with(
    bits: usize,
    random: &mut dyn FnMut(&mut [u8]),
) -> Result<Private, CryptoError> {
    super::rsa_crate::generate(bits, random).map(|key| Private::Rsa(Box::new(key)))
}

/// Fills `buf` from the system's secure random source.
pub(crate) fn system_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, buf).map_err(|_| CryptoError::Backend)
}
