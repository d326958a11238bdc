//! The aws-lc-rs backend (feature `aws-lc`, the default).

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::{self as sig, KeyPair as _};

use super::{CryptoError, HashAlgorithm, KeyError, KeyType};

/// RFC 8301 §3.2 forbids signing with keys under 1024 bits. aws-lc-rs
/// signs from 2048 bits; keys of 1024 up to 2048 bits (which RFC 8301
/// allows, and which fit the record length some DNS providers impose) are
/// generated and used by the `rsa` crate.
pub(crate) const RSA_SIGN_MIN_BITS: usize = 1024;
/// The smallest RSA key aws-lc-rs itself signs with and generates.
const RSA_AWS_LC_SIGN_MIN_BITS: usize = 2048;
/// aws-lc-rs verifies RSA keys from 1024 bits (the legacy parameters);
/// smaller ones (accepted only when a verifier lowers
/// `VerifyConfig::min_rsa_bits`) go to the `rsa` crate. Verification
/// uses only public data, so the `rsa` crate's timing side channel
/// (RUSTSEC-2023-0071, in private-key operations) does not apply.
const RSA_VERIFY_MIN_BITS: usize = 1024;

pub(crate) enum Private {
    Rsa(sig::RsaKeyPair),
    /// An RSA key of 1024 up to 2048 bits, which aws-lc-rs refuses to sign
    /// with. The `rsa` crate signs with blinding, but its modular
    /// arithmetic is not constant-time (RUSTSEC-2023-0071): a 2048-bit key
    /// avoids both that and the short key's weaker security.
    RsaShort(Box<rsa::RsaPrivateKey>),
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
) -> Result<(), CryptoError> {
    let parsed = match parsed {
        RsaPublic::AwsLc(parsed) => parsed,
        RsaPublic::Short(key) => return super::rsa_crate::verify(key, hash, data, signature),
    };
    let verified = match hash {
        HashAlgorithm::Sha1 => {
            sig::UnparsedPublicKey::new(&sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY, pkcs1)
                .verify(data, signature)
        }
        _ => parsed.verify_sig(data, signature),
    };
    verified.map_err(|_| CryptoError::Mismatch)
}

pub(super) fn rsa_private(pkcs1: &[u8], bits: usize) -> Result<Private, KeyError> {
    if bits < RSA_AWS_LC_SIGN_MIN_BITS {
        return super::rsa_crate::private(pkcs1).map(|key| Private::RsaShort(Box::new(key)));
    }
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
        Private::Rsa(_) | Private::RsaShort(_) => KeyType::Rsa,
        Private::Ed25519(_) => KeyType::Ed25519,
    }
}

pub(super) fn public_record_data(key: &Private) -> Vec<u8> {
    match key {
        // The RSAPublicKey (PKCS#1) wrapped as SubjectPublicKeyInfo.
        Private::Rsa(pair) => super::rsa_spki_from_pkcs1(pair.public_key().as_ref()),
        Private::RsaShort(key) => super::rsa_crate::public_record_data(key),
        Private::Ed25519(pair) => pair.public_key().as_ref().to_vec(),
    }
}

pub(super) fn private_pkcs8(key: &Private) -> Result<Vec<u8>, CryptoError> {
    match key {
        Private::Rsa(pair) => pair
            .as_der()
            .map(|der| der.as_ref().to_vec())
            .map_err(|_| CryptoError::Backend),
        Private::RsaShort(key) => super::rsa_crate::private_pkcs8(key),
        Private::Ed25519(pair) => pair
            .to_pkcs8v1()
            .map(|doc| doc.as_ref().to_vec())
            .map_err(|_| CryptoError::Backend),
    }
}

pub(super) fn rsa_sign_sha256(key: &Private, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let pair = match key {
        Private::Rsa(pair) => pair,
        Private::RsaShort(key) => {
            return with_aws_lc_random(|random| super::rsa_crate::sign_sha256(key, data, random));
        }
        Private::Ed25519(_) => return Err(CryptoError::Backend),
    };
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut signature = vec![0u8; pair.public_modulus_len()];
    pair.sign(&sig::RSA_PKCS1_SHA256, &rng, data, &mut signature)
        .map_err(|_| CryptoError::Backend)?;
    Ok(signature)
}

pub(super) fn ed25519_sign(key: &Private, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let Private::Ed25519(pair) = key else {
        return Err(CryptoError::Backend);
    };
    // Read in place: aws-lc-rs's `Signature` has room for the longest
    // signature it knows (4.6 KB), which moving out of the `Result` copies.
    match &pair.try_sign(digest) {
        Ok(signature) => Ok(signature.as_ref().to_vec()),
        Err(_) => Err(CryptoError::Backend),
    }
}

/// Runs `operation` with aws-lc's random source; an error if the source
/// failed at any point (aws-lc aborts instead, so this is belt and braces:
/// bytes from a failed fill are never used as randomness).
fn with_aws_lc_random<T>(
    operation: impl FnOnce(&mut dyn FnMut(&mut [u8])) -> Result<T, CryptoError>,
) -> Result<T, CryptoError> {
    let failed = std::cell::Cell::new(false);
    let mut random = |buf: &mut [u8]| {
        if aws_lc_rs::rand::fill(buf).is_err() {
            failed.set(true);
        }
    };
    let result = operation(&mut random);
    if failed.get() {
        return Err(CryptoError::Backend);
    }
    result
}

/// Generates an RSA key from aws-lc's random source: 2048, 3072 or 4096
/// bits by aws-lc, 1024 up to 2048 bits (a multiple of 8) by the `rsa`
/// crate.
pub(crate) fn generate_rsa(bits: usize) -> Result<Private, CryptoError> {
    with_aws_lc_random(|random| generate_rsa_with(bits, random))
}

/// Whether [`generate_rsa_with`] takes randomness from the caller for every
/// size (only for keys under 2048 bits with this backend).
pub(crate) const RSA_KEYGEN_TAKES_RNG: bool = false;

/// Generates an RSA key: under 2048 bits by the `rsa` crate from `random`,
/// 2048, 3072 or 4096 bits by aws-lc from its own source.
pub(crate) fn generate_rsa_with(
    bits: usize,
    random: &mut dyn FnMut(&mut [u8]),
) -> Result<Private, CryptoError> {
    if (RSA_SIGN_MIN_BITS..RSA_AWS_LC_SIGN_MIN_BITS).contains(&bits) {
        return super::rsa_crate::generate(bits, random)
            .map(|key| Private::RsaShort(Box::new(key)));
    }
    let size = match bits {
        2048 => aws_lc_rs::rsa::KeySize::Rsa2048,
        3072 => aws_lc_rs::rsa::KeySize::Rsa3072,
        4096 => aws_lc_rs::rsa::KeySize::Rsa4096,
        _ => {
            return Err(CryptoError::UnsupportedKeySize {
                bits,
                operation: "key generation",
                backend: super::BACKEND,
            });
        }
    };
    sig::RsaKeyPair::generate(size)
        .map(Private::Rsa)
        .map_err(|_| CryptoError::Backend)
}

/// Fills `buf` from the system's secure random source.
pub(crate) fn system_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    aws_lc_rs::rand::fill(buf).map_err(|_| CryptoError::Backend)
}
