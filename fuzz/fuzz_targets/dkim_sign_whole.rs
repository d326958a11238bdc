//! Signing a whole message, its header read in place where it can be,
//! gives the same field as feeding the message to a signing in pieces; and
//! the header fields a reader takes from pieces are those it takes octet
//! by octet. The first byte picks the piece size (1..=17) and whether the
//! header limits are small enough to be passed.
#![no_main]
use std::sync::{Arc, LazyLock};

use libfuzzer_sys::fuzz_target;
use mailauth::dkim::crypto::SigningKey;
use mailauth::dkim::sign::{SignOptions, Signer};
use mailauth::message::{HeaderLimits, MessageReader};

const NOW: u64 = 1_700_000_000;

const SMALL: HeaderLimits = HeaderLimits {
    max_fields: 6,
    max_bytes: 300,
};

static SIGNERS: LazyLock<[Signer; 2]> = LazyLock::new(|| {
    let pem = include_bytes!("../../tests/data/keys/ed25519.pkcs8.pem");
    let key = Arc::new(SigningKey::from_pem(pem).expect("test key"));
    let signer = |header_limits| {
        let options = SignOptions {
            header_limits,
            ..SignOptions::default()
        };
        Signer::new("example.com", "s", key.clone(), options).expect("signer")
    };
    [signer(HeaderLimits::default()), signer(SMALL)]
});

fn read<'a>(
    pieces: impl Iterator<Item = &'a [u8]>,
    limits: HeaderLimits,
) -> (MessageReader, Vec<u8>) {
    let mut reader = MessageReader::new(limits);
    let mut body = Vec::new();
    for piece in pieces {
        body.extend_from_slice(reader.feed(piece));
    }
    reader.finish();
    (reader, body)
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, message)) = data.split_first() else {
        return;
    };
    let piece = usize::from(seed % 17) + 1;
    let small = seed & 0x80 != 0;
    let limits = if small {
        SMALL
    } else {
        HeaderLimits::default()
    };

    let (octets, octets_body) = read(message.chunks(1), limits);
    let (pieces, pieces_body) = read(message.chunks(piece), limits);
    let (whole, whole_body) = read(std::iter::once(message), limits);
    for (reader, body) in [(&pieces, &pieces_body), (&whole, &whole_body)] {
        assert_eq!(reader.fields(), octets.fields());
        assert_eq!(body, &octets_body);
        assert_eq!(reader.error(), octets.error());
        assert_eq!(reader.header_complete(), octets.header_complete());
    }

    let signer = &SIGNERS[usize::from(small)];
    let mut signing = signer.start(NOW);
    for chunk in message.chunks(piece) {
        signing.update(chunk);
    }
    assert_eq!(signer.sign(message, NOW), signing.finish());
});
