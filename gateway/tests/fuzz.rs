//! Seeded fuzzing of the research API through the real tonic server and client: requests of
//! every method with arbitrary field values (and bodies decoded from random bytes), under
//! signed metadata that is valid or mutated (keys missing, values replaced, non-ASCII, other
//! timestamps, keys, signatures, methods, audiences, bodies; extra and duplicated entries).
//!
//! For every case: no handler panics (a panic would surface as UNKNOWN or a broken
//! connection), every refusal has a code and a message, a mutation that breaks the signed
//! metadata is UNAUTHENTICATED, a refused request leaves no nonce behind, and after all cases
//! the index is unchanged. `FUZZ_CASES` (default 2,000, ≈ 10 s in the dev build, where
//! signing dominates; `make fuzz` 20,000, ≈ 72 s) and `FUZZ_SEED`.

mod common;

use std::collections::HashMap;

use base64::prelude::{Engine, BASE64_STANDARD};
use common::*;
use healthmesh_research::auth::{now_ms, random_nonce, AUDIENCE as AUDIENCE_KEY};
use healthmesh_research::auth::{NONCE, PUBKEY, SIGNATURE, TIMESTAMP};
use healthmesh_research::pb::{self, research_service_client::ResearchServiceClient};
use hmesh_gateway::store::Change;
use prost::Message;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::transport::Channel;
use tonic::{Code, Status};

const PREFIX: &str = "/healthmesh.research.v1.ResearchService/";
const SIGNED_KEYS: [&str; 5] = [PUBKEY, AUDIENCE_KEY, TIMESTAMP, NONCE, SIGNATURE];

fn cases() -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2_000)
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0047_4154_4557_4159)
}

#[derive(Debug, Clone, PartialEq)]
enum Call {
    Count(pb::CountCohortRequest),
    Get(pb::GetAttestationRequest),
    List(pb::ListAttestationsRequest),
    Verify(pb::VerifyAttestationRequest),
    Check(pb::CheckAccessRequest),
}

impl Call {
    fn method(&self) -> &'static str {
        match self {
            Call::Count(_) => "CountCohort",
            Call::Get(_) => "GetAttestation",
            Call::List(_) => "ListAttestations",
            Call::Verify(_) => "VerifyAttestation",
            Call::Check(_) => "CheckAccess",
        }
    }

    fn encoded(&self) -> Vec<u8> {
        match self {
            Call::Count(m) => m.encode_to_vec(),
            Call::Get(m) => m.encode_to_vec(),
            Call::List(m) => m.encode_to_vec(),
            Call::Verify(m) => m.encode_to_vec(),
            Call::Check(m) => m.encode_to_vec(),
        }
    }
}

/// A string the API means something by, or a hostile one.
fn text(rng: &mut StdRng) -> String {
    match rng.random_range(0..12) {
        0 => "hba1c".into(),
        1 => PURPOSE.into(),
        2 => [GENOMICS, TRIALS, "billing-1", "unknown-9"][rng.random_range(0..4)].into(),
        3 => rng.random_range(0..20u64).to_string(),
        4 => String::new(),
        5 => "a".repeat(rng.random_range(40..3_000)),
        6 => "é🧬\u{202e}ß".into(),
        7 => "\0\n\r\t\u{7f}".into(),
        8 => "../../etc/passwd".into(),
        9 => format!("{:064x}", rng.random::<u64>()),
        10 => "007".into(),
        _ => (0..rng.random_range(0..40))
            .map(|_| char::from(rng.random_range(0x20u8..0x7f)))
            .collect(),
    }
}

fn texts(rng: &mut StdRng) -> Vec<String> {
    let n = match rng.random_range(0..10) {
        0 => rng.random_range(60..120),
        _ => rng.random_range(0..4),
    };
    (0..n).map(|_| text(rng)).collect()
}

fn number(rng: &mut StdRng) -> u64 {
    match rng.random_range(0..4) {
        0 => 0,
        1 => u64::MAX,
        2 => rng.random_range(0..20),
        _ => rng.random(),
    }
}

fn key(rng: &mut StdRng) -> Option<pb::AttestationKey> {
    rng.random_bool(0.9).then(|| pb::AttestationKey {
        chain_id: text(rng),
        id: number(rng),
    })
}

fn predicate(rng: &mut StdRng) -> Option<pb::Predicate> {
    rng.random_bool(0.9).then(|| pb::Predicate {
        op: [
            "lt", "lte", "gt", "eq", "between", "in", "nin", "LT", "", "xor",
        ][rng.random_range(0..10)]
        .into(),
        values: (0..match rng.random_range(0..8) {
            0 => rng.random_range(20..2_000),
            _ => rng.random_range(0..4),
        })
            .map(|_| number(rng))
            .collect(),
    })
}

/// A well-formed request of a random method for researcher 1's rows.
fn well_formed(rng: &mut StdRng, method: usize) -> Call {
    let chains = [
        vec![],
        vec![GENOMICS.to_string()],
        vec![GENOMICS.into(), TRIALS.into()],
    ][rng.random_range(0..3)]
    .clone();
    let key = Some(pb::AttestationKey {
        chain_id: GENOMICS.into(),
        id: rng.random_range(0..9),
    });
    match method {
        0 => Call::Count(pb::CountCohortRequest {
            chains,
            attribute: "hba1c".into(),
            predicate: Some(pb::Predicate {
                op: "lt".into(),
                values: vec![70_000],
            }),
            purpose: PURPOSE.into(),
        }),
        1 => Call::Get(pb::GetAttestationRequest { key }),
        2 => Call::List(pb::ListAttestationsRequest {
            chains,
            page_size: rng.random_range(0..10),
            ..Default::default()
        }),
        3 => Call::Verify(pb::VerifyAttestationRequest { key }),
        _ => Call::Check(pb::CheckAccessRequest {
            chain_id: GENOMICS.into(),
            dataset: format!("{:064x}", 1),
            purpose: PURPOSE.into(),
            attribute: "hba1c".into(),
            token_id: "1".into(),
        }),
    }
}

/// One field of `call` given an arbitrary value.
fn mutate(rng: &mut StdRng, call: &mut Call) {
    let field = rng.random_range(0..7);
    match call {
        Call::Count(m) => match field {
            0 => m.chains = texts(rng),
            1 => m.attribute = text(rng),
            2 | 3 => m.predicate = predicate(rng),
            _ => m.purpose = text(rng),
        },
        Call::Get(pb::GetAttestationRequest { key: k })
        | Call::Verify(pb::VerifyAttestationRequest { key: k }) => *k = key(rng),
        Call::List(m) => match field {
            0 => m.chains = texts(rng),
            1 => m.attribute = text(rng),
            2 => m.consent_id = text(rng),
            3 => m.commitment = text(rng),
            4 => m.start_after = key(rng),
            5 => m.page_size = number(rng) as u32,
            _ => m.include_invalid = !m.include_invalid,
        },
        Call::Check(m) => match field {
            0 | 1 => m.chain_id = text(rng),
            2 => m.dataset = text(rng),
            3 => m.purpose = text(rng),
            4 => m.attribute = text(rng),
            _ => m.token_id = text(rng),
        },
    }
}

/// A request of a random method: well-formed, with some fields arbitrary, or decoded from
/// random bytes.
fn call(rng: &mut StdRng) -> Call {
    let method = rng.random_range(0..5);
    if rng.random_bool(0.2) {
        let bytes: Vec<u8> = (0..rng.random_range(0..64)).map(|_| rng.random()).collect();
        let decoded = match method {
            0 => pb::CountCohortRequest::decode(&bytes[..]).map(Call::Count),
            1 => pb::GetAttestationRequest::decode(&bytes[..]).map(Call::Get),
            2 => pb::ListAttestationsRequest::decode(&bytes[..]).map(Call::List),
            3 => pb::VerifyAttestationRequest::decode(&bytes[..]).map(Call::Verify),
            _ => pb::CheckAccessRequest::decode(&bytes[..]).map(Call::Check),
        };
        if let Ok(call) = decoded {
            return call;
        }
    }
    let mut call = well_formed(rng, method);
    for _ in 0..rng.random_range(0..3) {
        mutate(rng, &mut call);
    }
    call
}

fn ascii(s: &str) -> AsciiMetadataValue {
    AsciiMetadataValue::try_from(s).expect("visible ASCII")
}

/// Visible ASCII, of a length the transport carries.
fn printable(rng: &mut StdRng) -> String {
    (0..rng.random_range(0..300))
        .map(|_| char::from(rng.random_range(0x21u8..0x7f)))
        .collect()
}

/// Signed metadata for `call`, valid or mutated; whether the mutation must be refused, and
/// what it did.
fn metadata(rng: &mut StdRng, call: &Call) -> (MetadataMap, bool, String) {
    let method = format!("{PREFIX}{}", call.method());
    let body = call.encoded();
    let (ts, nonce) = (now_ms(), random_nonce());
    let mut md = signer(1).metadata(&method, &body, ts, &nonce);
    let field = SIGNED_KEYS[rng.random_range(0..SIGNED_KEYS.len())];
    let refuse = |md: MetadataMap, what: String| (md, true, what);
    match rng.random_range(0..12) {
        0 => (md, false, "valid".into()),
        1 => {
            md.remove(field);
            refuse(md, format!("{field} removed"))
        }
        2 => {
            let value = printable(rng);
            let same = md
                .get(field)
                .is_some_and(|v| v.as_bytes() == value.as_bytes());
            md.insert(field, ascii(&value));
            (md, !same, format!("{field} = {value:?}"))
        }
        3 => {
            let value = AsciiMetadataValue::try_from(&[0x80u8, 0xff, b'a', 0xc3][..])
                .expect("obs-text is a valid header value");
            md.insert(field, value);
            refuse(md, format!("{field} not ASCII"))
        }
        4 => {
            let value = [
                format!("+{ts}"),
                format!("0{ts}"),
                format!("{ts}.0"),
                format!(" {ts}"),
                String::new(),
                "-1".into(),
                u64::MAX.to_string(),
                "18446744073709551616".into(),
                (ts - 120_000).to_string(),
                (ts + 3_600_000).to_string(),
            ][rng.random_range(0..10)]
            .clone();
            md.insert(TIMESTAMP, ascii(&value));
            refuse(md, format!("timestamp {value:?} for {ts}"))
        }
        5 => {
            let len = [0, 32, 33, 65, rng.random_range(0..100)][rng.random_range(0..5)];
            let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            let value = match rng.random_range(0..2) {
                0 => BASE64_STANDARD.encode(bytes),
                _ => BASE64_STANDARD.encode(signer(2).public_key()),
            };
            md.insert(PUBKEY, ascii(&value));
            refuse(md, "another public key".into())
        }
        6 => {
            let signature = BASE64_STANDARD
                .decode(md.get(SIGNATURE).unwrap().to_str().unwrap())
                .unwrap();
            let value = match rng.random_range(0..3) {
                0 => {
                    let mut flipped = signature.clone();
                    let i = rng.random_range(0..flipped.len());
                    flipped[i] ^= 1 << rng.random_range(0..8);
                    BASE64_STANDARD.encode(flipped)
                }
                1 => BASE64_STANDARD.encode((0..64).map(|_| rng.random()).collect::<Vec<u8>>()),
                _ => {
                    let other = signer(2).metadata(&method, &body, ts, &nonce);
                    other.get(SIGNATURE).unwrap().to_str().unwrap().to_string()
                }
            };
            md.insert(SIGNATURE, ascii(&value));
            refuse(md, "another signature".into())
        }
        7 => {
            let other = self::call(rng);
            let bytes = other.encoded();
            let signed = signer(1).metadata(&method, &bytes, ts, &nonce);
            (signed, bytes != body, "signed over another body".into())
        }
        8 => {
            let other =
                ["CountCohort", "GetAttestation", "CheckAccess", "Nope"][rng.random_range(0..4)];
            let signed = signer(1).metadata(&format!("{PREFIX}{other}"), &body, ts, &nonce);
            (
                signed,
                other != call.method(),
                format!("signed for {other}"),
            )
        }
        9 => {
            let audience = ["gateway.test:9391", "", "127.0.0.1:9390"][rng.random_range(0..3)];
            let other = healthmesh_research::auth::RequestSigner::new(
                cosmrs::crypto::secp256k1::SigningKey::from_slice(&[1; 32]).unwrap(),
                audience,
            );
            match other {
                Ok(s) => refuse(
                    s.metadata(&method, &body, ts, &nonce),
                    format!("signed for audience {audience:?}"),
                ),
                Err(_) => (md, false, "unchanged".into()),
            }
        }
        10 => {
            // An entry nobody signs passes; a signed entry given twice is ambiguous.
            md.insert("x-hm-extra", ascii(&printable(rng)));
            if rng.random_bool(0.5) {
                let again = md.get(field).unwrap().clone();
                md.append(field, again);
                refuse(md, format!("{field} twice"))
            } else {
                (md, false, "an extra entry".into())
            }
        }
        _ => refuse(
            signer(9).metadata(&method, &body, ts, &nonce),
            "a key with no consent".into(),
        ),
    }
}

/// The call over the real client; a stream is read to its end.
async fn send(
    client: &mut ResearchServiceClient<Channel>,
    call: Call,
    md: MetadataMap,
) -> Result<(), Status> {
    fn with<T>(message: T, md: MetadataMap) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = md;
        request
    }
    match call {
        Call::Count(m) => client.count_cohort(with(m, md)).await.map(drop),
        Call::Get(m) => client.get_attestation(with(m, md)).await.map(drop),
        Call::Verify(m) => client.verify_attestation(with(m, md)).await.map(drop),
        Call::Check(m) => client.check_access(with(m, md)).await.map(drop),
        Call::List(m) => {
            let mut stream = client.list_attestations(with(m, md)).await?.into_inner();
            while stream.message().await?.is_some() {}
            Ok(())
        }
    }
}

#[tokio::test]
async fn the_api_refuses_malformed_requests_and_metadata_cleanly() {
    let served = Served::start(&[GENOMICS, TRIALS], HashMap::new()).await;
    let one = address(1);
    let mut changes = vec![];
    for s in 1..=6u64 {
        changes.push(Change::Consent(consent(GENOMICS, &s.to_string(), &one)));
        changes.push(Change::Attestation(
            attestation(GENOMICS, s, &s.to_string(), &one, s).into(),
        ));
    }
    served.store.apply(&batch(GENOMICS, 10, changes)).unwrap();
    let index_before = served.store.snapshot().unwrap();
    let mut client = served.client().await;
    let (seed, cases) = (seed(), cases());
    let mut rng = StdRng::seed_from_u64(seed);
    let mut codes: std::collections::BTreeMap<String, usize> = Default::default();
    for i in 0..cases {
        let call = call(&mut rng);
        let (md, must_refuse, what) = metadata(&mut rng, &call);
        let shown = format!(
            "case {i} (FUZZ_SEED={seed}): {} with {what}: {:.300}",
            call.method(),
            format!("{call:?}")
        );
        let nonces = served.gateway.nonces_remembered();
        let result = send(&mut client, call.clone(), md).await;
        let after = served.gateway.nonces_remembered();
        let code = match &result {
            Ok(()) => Code::Ok,
            Err(status) => status.code(),
        };
        *codes.entry(format!("{code:?}")).or_default() += 1;
        if let Err(status) = &result {
            assert!(
                !matches!(
                    code,
                    Code::Unknown | Code::Internal | Code::Cancelled | Code::DataLoss
                ),
                "{shown}: {status:?} (a handler panicked or the connection broke)"
            );
            assert!(!status.message().is_empty(), "{shown}: no message");
            if matches!(code, Code::Unauthenticated | Code::InvalidArgument) {
                assert_eq!(after, nonces, "{shown}: a refused request left a nonce");
            }
        }
        if must_refuse {
            assert_eq!(code, Code::Unauthenticated, "{shown}: accepted");
        } else {
            assert_ne!(
                code,
                Code::Unauthenticated,
                "{shown}: valid metadata refused: {result:?}"
            );
        }
    }
    assert_eq!(
        served.store.snapshot().unwrap(),
        index_before,
        "requests changed the index"
    );
    // Still serving.
    let mut client = served.client().await;
    let request = signer(1).request(&format!("{PREFIX}CountCohort"), count_request());
    assert!(client.count_cohort(request).await.is_ok());
    println!("gateway API: {cases} cases, seed {seed}, codes {codes:?}");
}
