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
    let public = PublicKey::from_record_data(KeyType::Ed25519, &b64(RFC8463_ED25519_P)).unwrap();
    assert_eq!(public.bits(), 256);
    public
        .verify(Algorithm::Ed25519Sha256, &header_data, &signature)
        .unwrap();
    let mut tampered = header_data.clone();
    tampered[0] = b'F';
    assert_eq!(
        public.verify(Algorithm::Ed25519Sha256, &tampered, &signature),
        Err(CryptoError::Mismatch)
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
        Err(CryptoError::Mismatch)
    );
    assert!(matches!(
        public.verify(Algorithm::Ed25519Sha256, &header_data, &b64(RFC8463_RSA_B)),
        Err(CryptoError::KeyTypeMismatch { .. })
    ));
}

#[test]
fn rfc8463_rsa_private_key_reads_per_backend() {
    // Both backends sign with 1024-bit keys (aws-lc through the `rsa` crate).
    let pem = data("rfc-examples/rfc8463-A1-rsa-private.pem");
    let key = SigningKey::from_pem(&pem).unwrap();
    assert_eq!(key.bits(), 1024);
    assert_eq!(key.public_key_der(), b64(RFC8463_RSA_P));
    // PKCS#1 v1.5 is deterministic: the RFC's b= comes out again.
    let header_data = rfc8463_header_data("rsa-sha256", "test");
    assert_eq!(
        key.sign(Algorithm::RsaSha256, &header_data).unwrap(),
        b64(RFC8463_RSA_B)
    );
    // The PKCS#8 form reads back as the same key.
    let again = SigningKey::from_der(&key.to_pkcs8_der().unwrap()).unwrap();
    assert_eq!(again.public_key_der(), key.public_key_der());
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
        Err(CryptoError::Mismatch)
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
        Err(CryptoError::Mismatch)
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
        Err(CryptoError::Mismatch)
    );
    let mut bad = signature.clone();
    bad[5] ^= 1;
    assert_eq!(
        public.verify(algorithm, header_data, &bad),
        Err(CryptoError::Mismatch)
    );
    assert_eq!(
        public.verify(algorithm, header_data, &[]),
        Err(CryptoError::Mismatch)
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
        Err(CryptoError::AlgorithmNotForSigning {
            algorithm: Algorithm::RsaSha1
        })
    );
    assert!(matches!(
        pkcs1.sign(Algorithm::Ed25519Sha256, b"x"),
        Err(CryptoError::KeyTypeMismatch { .. })
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
