//! The whole inbound pipeline (SPF HELO and MAIL FROM, DKIM, DMARC, the
//! Authentication-Results field) for a 4 KiB message with one rsa-sha256
//! signature (2048-bit key) over the in-memory zone resolver, beside the
//! same message as one SMTP transaction through the MTA session (what the
//! session layer adds), the DKIM verification alone and the RSA signature
//! check alone, which tell the share of the pipeline spent in crypto; and the rendering and parsing
//! of the Authentication-Results field it produces; and the pipeline's
//! parts one by one (SPF at HELO and MAIL FROM, DKIM, DMARC, the
//! Authentication-Results entries and field):
//! `cargo bench --bench inbound`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailauth::authres::AuthenticationResults;
use mailauth::dkim::Algorithm;
use mailauth::dkim::crypto::SigningKey;
use mailauth::dkim::sign::{SignOptions, Signer};
use mailauth::dkim::verify::{Verifier, VerifyConfig};
use mailauth::dmarc::{self, DkimAuth, PolicyCheck, Sample, SpfAuth};
use mailauth::dns::Name;
use mailauth::dns::ZoneResolver;
use mailauth::inbound::{Config, Connection, Inbound};
use mailauth::session::{Action, Client, Session, Settings};
use mailauth::spf;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data");
const NOW: u64 = 1_795_000_000;

fn key() -> SigningKey {
    SigningKey::from_pem(&std::fs::read(format!("{DATA}/keys/sel2026.private")).unwrap()).unwrap()
}

/// A 4 KiB message (4,096 octets with its DKIM-Signature field) from
/// alice@example.org, signed by example.org.
fn message() -> Vec<u8> {
    let mut plain = String::from(
        "From: Alice <alice@example.org>\r\n\
         To: Bob <bob@example.com>\r\n\
         Subject: Quarterly figures\r\n\
         Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <20261121100000.4711@example.org>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n",
    );
    let signer = Signer::new(
        "example.org",
        "sel2026",
        Arc::new(key()),
        SignOptions::default(),
    )
    .unwrap();
    // The field's length does not depend on the body: measure it once.
    let field_len = signer
        .sign(plain.as_bytes(), NOW)
        .unwrap()
        .to_header_line()
        .len();
    let line = "The quick brown fox jumps over the lazy dog, again and again.\r\n";
    while plain.len() + field_len + line.len() <= 4096 {
        plain.push_str(line);
    }
    let rest = 4096 - plain.len() - field_len;
    if rest >= 3 {
        plain.push_str(&"x".repeat(rest - 2));
        plain.push_str("\r\n");
    }
    let field = signer.sign(plain.as_bytes(), NOW).unwrap();
    let mut message = field.to_header_line().into_bytes();
    message.extend_from_slice(plain.as_bytes());
    message
}

fn bench(c: &mut Criterion) {
    let zone_text = std::fs::read_to_string(format!("{DATA}/example.zone")).unwrap();
    let zone = ZoneResolver::from_zone_text(&zone_text).unwrap();
    let message = message();
    let connection = Connection::new(
        "192.0.2.25".parse().unwrap(),
        "mx1.example.org",
        "alice@example.org",
    );
    let config = Config::new("mx.example.com", NOW);

    // Check once that the pipeline does what is measured.
    let mut inbound = Inbound::new(&connection, &config);
    inbound.feed(&message);
    let verdict = mailauth::resolve(inbound.finish(), &zone);
    let field = verdict.header_field().unwrap();
    assert!(
        field.contains("dkim=pass") && field.contains("dmarc=pass"),
        "{field}"
    );

    let mut group = c.benchmark_group("inbound");
    group.throughput(Throughput::Bytes(message.len() as u64));
    group.bench_function(format!("pipeline {} B rsa-2048", message.len()), |b| {
        b.iter(|| {
            let mut inbound = Inbound::new(&connection, &config);
            inbound.feed(black_box(&message));
            let verdict = mailauth::resolve(inbound.finish(), &zone);
            black_box(verdict.header_field())
        });
    });
    // The same message as one SMTP transaction through the MTA session:
    // HELO and MAIL FROM (SPF), RCPT, the message, end of message (DKIM,
    // DMARC), the edits and the log line an MTA writes.
    let settings = Arc::new(
        Settings::from_toml(
            "authserv_id = \"mx.example.com\"\n",
            "bench",
            std::path::Path::new(DATA),
        )
        .unwrap(),
    );
    let client = Client::new("192.0.2.25".parse().unwrap());
    let transaction = || {
        let mut session = Session::new(settings.clone(), client.clone(), NOW);
        session.helo("mx1.example.org");
        session.drive(&zone);
        session.mail_from("alice@example.org");
        session.drive(&zone);
        session.rcpt("bob@example.com");
        session.drive(&zone);
        session.message(black_box(&message));
        session.end_of_message();
        let action = session.drive(&zone);
        (action, session.edits().to_vec(), session.log_line())
    };
    let (action, edits, log) = transaction();
    assert_eq!(action, Action::Continue);
    assert_eq!(edits.len(), 1);
    assert!(log.unwrap().contains("dmarc=pass"));
    group.bench_function(format!("session {} B rsa-2048", message.len()), |b| {
        b.iter(|| black_box(transaction()));
    });
    group.bench_function(
        format!("dkim verify only {} B rsa-2048", message.len()),
        |b| {
            b.iter(|| {
                let mut verifier = Verifier::new(&VerifyConfig::default(), NOW);
                verifier.feed(black_box(&message));
                black_box(mailauth::resolve(verifier.finish(), &zone))
            });
        },
    );
    group.finish();

    // The pipeline's parts, each as the pipeline runs it for this message,
    // so that the pipeline's time minus theirs is its own bookkeeping
    // (reading the header once, sharing queries, moving outcomes).
    let mut parts = c.benchmark_group("inbound parts");
    let ip = connection.client_ip;
    let helo_input = spf::Input::helo(ip, "mx1.example.org").at(NOW);
    let mail_from_input = spf::Input::mail_from(ip, "mx1.example.org", "alice@example.org").at(NOW);
    parts.bench_function("spf helo", |b| {
        b.iter(|| mailauth::resolve(spf::Check::new(black_box(&helo_input), &config.spf), &zone))
    });
    parts.bench_function("spf mail from", |b| {
        b.iter(|| {
            mailauth::resolve(
                spf::Check::new(black_box(&mail_from_input), &config.spf),
                &zone,
            )
        })
    });
    parts.bench_function(format!("dkim verify {} B", message.len()), |b| {
        b.iter(|| {
            let mut verifier = Verifier::new(&config.dkim, NOW);
            verifier.feed(black_box(&message));
            black_box(mailauth::resolve(verifier.finish(), &zone))
        });
    });
    let fields = {
        let end = message.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let mut reader = mailauth::message::MessageReader::new(Default::default());
        reader.feed(&message[..end + 4]);
        reader.take_fields()
    };
    let spf_outcome = mailauth::resolve(spf::Check::new(&mail_from_input, &config.spf), &zone);
    let spf_auth = SpfAuth::from_outcome(&spf_outcome);
    let verification = verdict.dkim.clone().unwrap();
    let dkim_auth = DkimAuth::from_verification(&verification);
    parts.bench_function("dmarc from, discovery, evaluation", |b| {
        b.iter(|| {
            let author = dmarc::author_domain_with(black_box(&fields), &config.dmarc);
            let ids = [Name::new("example.org").unwrap()];
            let check = PolicyCheck::new(author, &ids, &config.dmarc, Sample::ALWAYS);
            let found = mailauth::resolve(check, &zone);
            black_box(found.evaluate(spf_auth.as_ref(), &dkim_auth))
        })
    });
    parts.bench_function("authentication-results entries and field", |b| {
        b.iter(|| {
            let mut ar = AuthenticationResults::new("mx.example.com");
            ar.results.push(spf_outcome.to_method_result());
            ar.results.extend(verification.to_method_results());
            ar.results
                .push(verdict.dmarc.as_ref().unwrap().to_method_result());
            black_box(ar.to_header_field())
        })
    });
    parts.finish();

    // Authentication-Results alone: render the verdict's field, parse it.
    let ar = verdict.authentication_results.clone().unwrap();
    let value = field
        .strip_prefix("Authentication-Results:")
        .unwrap()
        .to_owned();
    c.bench_function(format!("authres/render {} B", field.len()).as_str(), |b| {
        b.iter(|| black_box(&ar).to_header_field());
    });
    c.bench_function(format!("authres/parse {} B", value.len()).as_str(), |b| {
        b.iter(|| AuthenticationResults::parse(black_box(value.as_bytes())).unwrap());
    });

    // The RSA check alone, over signed header data of the same size as the
    // message's (about 400 octets).
    let key = key();
    let public = key.public_key().unwrap();
    let header_data = vec![b'h'; 400];
    let signature = key.sign(Algorithm::RsaSha256, &header_data).unwrap();
    c.bench_function("inbound/rsa-2048 signature check only", |b| {
        b.iter(|| {
            public
                .verify(Algorithm::RsaSha256, black_box(&header_data), &signature)
                .unwrap();
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
