//! The pure-Rust backend (feature `pure-rust`): the `rsa` and
//! `ed25519-dalek` crates, for targets without a C compiler.

use ed25519_dalek::Signer as _;
use rsa::pkcs8::EncodePrivateKey as _;

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

pub(super) fn private_pkcs8(key: &Private) -> Result<Vec<u8>, CryptoError> {
    match key {
        Private::Rsa(key) => key
            .to_pkcs8_der()
            .map(|doc| doc.as_bytes().to_vec())
            .map_err(|_| CryptoError::Backend),
        Private::Ed25519(key) => Ok(super::ed25519_pkcs8(&key.to_bytes())),
    }
}

pub(super) fn rsa_sign_sha256(key: &Private, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let Private::Rsa(key) = key else {
        return Err(CryptoError::Backend);
    };
    let digest = super::Hasher::digest(HashAlgorithm::Sha256, data);
    // Blinded with OS randomness; PKCS#1 v1.5 output is deterministic anyway.
    key.sign_with_rng(
        &mut rand_core::OsRng,
        super::rsa_crate::padding(HashAlgorithm::Sha256),
        &digest,
    )
    .map_err(|_| CryptoError::Backend)
}

pub(super) fn ed25519_sign(key: &Private, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let Private::Ed25519(key) = key else {
        return Err(CryptoError::Backend);
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
pub(crate) fn generate_rsa(bits: usize) -> Result<Private, CryptoError> {
    let mut os = |buf: &mut [u8]| rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, buf);
    generate_rsa_with(bits, &mut os)
}

/// Generates an RSA key from the caller's random source.
pub(crate) fn generate_rsa_with(
    bits: usize,
    random: &mut dyn FnMut(&mut [u8]),
) -> Result<Private, CryptoError> {
    let mut rng = FnRng(random);
    rsa::RsaPrivateKey::new(&mut rng, bits)
        .map(|key| Private::Rsa(Box::new(key)))
        .map_err(|_| CryptoError::Backend)
}

/// Fills `buf` from the system's secure random source.
pub(crate) fn system_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, buf).map_err(|_| CryptoError::Backend)
}
