//! Regression tests of the security review's findings (M-7, M-8, L-7, L-8), each through a
//! real tonic client against the real server, named after its finding.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use healthmesh_research::auth::{now_ms, random_nonce, RequestSigner};
use healthmesh_research::pb::{self, research_service_client::ResearchServiceClient};
use hmesh_gateway::service::GatewayConfig;
use hmesh_gateway::store::Change;
use prost::Message;
use tonic::transport::Channel;
use tonic::{Code, Status};

const SERVICE: &str = "/healthmesh.research.v1.ResearchService/";

fn method(name: &str) -> String {
    format!("{SERVICE}{name}")
}

fn count_request(chains: &[&str]) -> pb::CountCohortRequest {
    pb::CountCohortRequest {
        chains: chains.iter().map(|c| c.to_string()).collect(),
        attribute: "hba1c".into(),
        predicate: Some(pb::Predicate {
            op: "lt".into(),
            values: vec![70_000],
        }),
        purpose: PURPOSE.into(),
    }
}

async fn count_on(
    client: &mut ResearchServiceClient<Channel>,
    who: &RequestSigner,
    chains: &[&str],
) -> Result<pb::CountCohortResponse, Status> {
    client
        .count_cohort(who.request(&method("CountCohort"), count_request(chains)))
        .await
        .map(|r| r.into_inner())
}

/// The published count, or None when suppressed.
async fn published(served: &Served, chains: &[&str]) -> Option<u64> {
    let res = count_on(&mut served.client().await, &signer(1), chains)
        .await
        .unwrap();
    (!res.suppressed).then_some(res.count)
}

async fn list(served: &Served, who: u8, req: pb::ListAttestationsRequest) -> Vec<pb::Attestation> {
    let req = signer(who).request(&method("ListAttestations"), req);
    let mut stream = served
        .client()
        .await
        .list_attestations(req)
        .await
        .unwrap()
        .into_inner();
    let mut items = vec![];
    while let Some(item) = stream.message().await.unwrap() {
        items.push(item);
    }
    items
}

fn key(chain: &str, id: u64) -> Option<pb::AttestationKey> {
    Some(pb::AttestationKey {
        chain_id: chain.into(),
        id,
    })
}

async fn get(served: &Served, who: u8, chain: &str, id: u64) -> Result<pb::Attestation, Status> {
    let req = signer(who).request(
        &method("GetAttestation"),
        pb::GetAttestationRequest {
            key: key(chain, id),
        },
    );
    served
        .client()
        .await
        .get_attestation(req)
        .await
        .map(|r| r.into_inner())
}

fn assert_status<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, words: &str) {
    let status = result.expect_err("expected an error status");
    assert_eq!(status.code(), code, "{status:?}");
    assert!(
        status.message().contains(words),
        "'{words}' not in: {}",
        status.message()
    );
}

/// Consent `token` on `chain` from `patient` to researcher 1, with one attestation of
/// hba1c < 70000 recorded on `chain` (id = token, commitment = `commitment(1000 + token)`).
fn member(chain: &str, token: u64, patient: &str) -> Vec<Change> {
    let one = address(1);
    let t = token.to_string();
    let mut a = attestation(chain, token, &t, &one, 1000 + token);
    a.source_chain = chain.into();
    vec![
        Change::Consent(consent_from(chain, &t, &one, patient)),
        Change::Attestation(a.into()),
    ]
}

fn members(
    chain: &str,
    tokens: std::ops::RangeInclusive<u64>,
    patient: impl Fn(u64) -> String,
) -> Vec<Change> {
    tokens.flat_map(|t| member(chain, t, &patient(t))).collect()
}

/// Index, at `height` on genomics-1, one patient (`wasm1p<token>`) per consent token.
fn seed(served: &Served, height: u64, tokens: std::ops::RangeInclusive<u64>) {
    let changes = members(GENOMICS, tokens, |t| format!("wasm1p{t}"));
    served
        .store
        .apply(&batch(GENOMICS, height, changes))
        .unwrap();
}

// ---- M-7: k-suppression ----------------------------------------------------------------

#[tokio::test]
async fn m7_one_patient_counts_once_however_many_consents_and_commitments() {
    let served = Served::start(&[GENOMICS], HashMap::new()).await;
    // One patient, five consents, five attestations with five different commitments.
    served
        .store
        .apply(&batch(
            GENOMICS,
            10,
            members(GENOMICS, 1..=5, |_| "wasm1same".into()),
        ))
        .unwrap();
    assert_eq!(published(&served, &[]).await, None, "1 patient: suppressed");
    // Four more patients: five in all.
    seed(&served, 11, 6..=9);
    assert_eq!(published(&served, &[]).await, Some(5));
}

#[tokio::test]
async fn m7_a_suppressed_cohort_cannot_be_counted_by_listing_or_getting_rows() {
    let served = Served::start(&[GENOMICS], HashMap::new()).await;
    seed(&served, 10, 1..=4);
    assert_eq!(published(&served, &[]).await, None);
    let all = pb::ListAttestationsRequest {
        include_invalid: true,
        ..Default::default()
    };
    assert!(list(&served, 1, all.clone()).await.is_empty());
    for id in 1..=4 {
        assert_status(
            get(&served, 1, GENOMICS, id).await,
            Code::NotFound,
            "among those you may see",
        );
        let req = signer(1).request(
            &method("VerifyAttestation"),
            pb::VerifyAttestationRequest {
                key: key(GENOMICS, id),
            },
        );
        assert_status(
            served.client().await.verify_attestation(req).await,
            Code::NotFound,
            "among those you may see",
        );
    }
    // At k patients the rows are shown: what they could count, CountCohort says anyway.
    served
        .store
        .apply(&batch(GENOMICS, 11, member(GENOMICS, 5, "wasm1p5")))
        .unwrap();
    assert_eq!(published(&served, &[]).await, Some(5));
    assert_eq!(list(&served, 1, all).await.len(), 5);
    assert!(get(&served, 1, GENOMICS, 1).await.is_ok());
}

#[tokio::test]
async fn m7_rows_neither_filter_by_nor_carry_the_statement() {
    let served = Served::start(&[GENOMICS], HashMap::new()).await;
    seed(&served, 10, 1..=5);
    let mut client = served.client().await;
    for req in [
        pb::ListAttestationsRequest {
            attribute: "hba1c".into(),
            ..Default::default()
        },
        pb::ListAttestationsRequest {
            commitment: commitment(1001),
            ..Default::default()
        },
    ] {
        let field = if req.attribute.is_empty() {
            "commitment"
        } else {
            "attribute"
        };
        assert_status(
            client
                .list_attestations(signer(1).request(&method("ListAttestations"), req))
                .await,
            Code::InvalidArgument,
            &format!("{field}: ListAttestations no longer filters"),
        );
    }
    // A shown row, re-encoded, holds none of the statement's fields (3, 4, 5) nor its values.
    let row = get(&served, 1, GENOMICS, 1).await.unwrap();
    let bytes = row.encode_to_vec();
    assert!(!bytes.windows(5).any(|w| w == b"hba1c"));
    let commitment = commitment(1001);
    assert!(!bytes
        .windows(commitment.len())
        .any(|w| w == commitment.as_bytes()));
    assert_eq!(row.consent_id, "1");
}

#[tokio::test]
async fn m7_chain_subsets_cannot_be_differenced() {
    let served = Served::start(&[GENOMICS, TRIALS], HashMap::new()).await;
    // 6 patients with consents on genomics, 2 on trials.
    let mut changes = members(GENOMICS, 1..=6, |t| format!("wasm1p{t}"));
    changes.extend(members(TRIALS, 11..=12, |t| format!("wasm1p{t}")));
    served.store.apply(&batch(GENOMICS, 10, changes)).unwrap();
    assert_eq!(published(&served, &[GENOMICS]).await, Some(6));
    assert_eq!(published(&served, &[TRIALS]).await, None);
    // Both chains (or all, the default) minus genomics would be the 2 on trials.
    assert_eq!(published(&served, &[GENOMICS, TRIALS]).await, None);
    assert_eq!(published(&served, &[]).await, None);
    // And the rows, which could be counted per chain, are not shown.
    assert!(list(&served, 1, Default::default()).await.is_empty());

    // Three more on trials: every group has k, every count is published.
    served
        .store
        .apply(&batch(
            TRIALS,
            10,
            members(TRIALS, 13..=15, |t| format!("wasm1p{t}")),
        ))
        .unwrap();
    assert_eq!(published(&served, &[TRIALS]).await, Some(5));
    assert_eq!(published(&served, &[]).await, Some(11));
    assert_eq!(list(&served, 1, Default::default()).await.len(), 11);

    // The six genomics patients also grant on trials: the same patients, counted once.
    served
        .store
        .apply(&batch(
            TRIALS,
            11,
            (1..=6)
                .flat_map(|p| member(TRIALS, 20 + p, &format!("wasm1p{p}")))
                .collect(),
        ))
        .unwrap();
    assert_eq!(published(&served, &[GENOMICS]).await, Some(6));
    assert_eq!(published(&served, &[TRIALS]).await, Some(11));
    assert_eq!(published(&served, &[]).await, Some(11));
}

#[tokio::test]
async fn m7_a_received_copy_counts_its_patient_under_the_consents_chain_once() {
    let served = Served::start(&[GENOMICS, TRIALS], HashMap::new()).await;
    let mut changes = members(GENOMICS, 1..=5, |t| format!("wasm1p{t}"));
    // Attestation 1 of genomics relayed to trials (recorded there as 901).
    let mut copy = attestation(TRIALS, 901, "1", &address(1), 1);
    copy.source_chain = GENOMICS.into();
    changes.push(Change::Attestation(copy.into()));
    served.store.apply(&batch(GENOMICS, 10, changes)).unwrap();
    assert_eq!(published(&served, &[GENOMICS]).await, Some(5));
    assert_eq!(published(&served, &[]).await, Some(5));
    assert_eq!(
        published(&served, &[TRIALS]).await,
        None,
        "no consent on trials"
    );
}

// ---- M-8: hostile inputs, bounded cache, rate limit --------------------------------------

#[tokio::test]
async fn m8_oversized_attribute_is_refused() {
    let served = Served::start(&[GENOMICS], HashMap::new()).await;
    seed(&served, 10, 1..=5);
    let mut client = served.client().await;
    let with_attribute = |attribute: String| {
        let mut req = count_request(&[]);
        req.attribute = attribute;
        signer(1).request(&method("CountCohort"), req)
    };
    assert_status(
        client.count_cohort(with_attribute("a".repeat(33))).await,
        Code::InvalidArgument,
        "attribute must be 1 to 32 characters long, got 33",
    );
    assert_status(
        client
            .count_cohort(with_attribute("x".repeat(60_000)))
            .await,
        Code::InvalidArgument,
        "attribute must be 1 to 32 characters long, got 60000",
    );
    assert_status(
        client.count_cohort(with_attribute("HbA1c".into())).await,
        Code::InvalidArgument,
        "attribute must start with a lowercase letter",
    );
    // 4 MiB: refused before it is decoded.
    assert_status(
        client
            .count_cohort(with_attribute("x".repeat(4 << 20)))
            .await,
        Code::OutOfRange,
        "message length too large",
    );
    // None of them changed anything: no nonce remembered, no cohort cached.
    assert_eq!(served.gateway.nonces_remembered(), 0);
    assert_eq!(served.store.index().cached_cohorts(), 0);
    assert_eq!(published(&served, &[]).await, Some(5));
}

#[tokio::test]
async fn m8_identifiers_are_validated_naming_the_field() {
    let served = Served::start(&[GENOMICS], HashMap::new()).await;
    seed(&served, 10, 1..=5);
    let mut client = served.client().await;
    let s = signer(1);

    let mut req = count_request(&[]);
    req.purpose = "trial eligibility".into();
    assert_status(
        client
            .count_cohort(s.request(&method("CountCohort"), req))
            .await,
        Code::InvalidArgument,
        "purpose must start with a lowercase letter",
    );
    let mut req = count_request(&[]);
    req.chains = vec!["g".repeat(51)];
    assert_status(
        client
            .count_cohort(s.request(&method("CountCohort"), req))
            .await,
        Code::InvalidArgument,
        "chains: a chain id must be 1 to 50 characters long, got 51",
    );
    let mut req = count_request(&[]);
    req.chains = vec![GENOMICS.into(); 65];
    assert_status(
        client
            .count_cohort(s.request(&method("CountCohort"), req))
            .await,
        Code::InvalidArgument,
        "chains lists 65 entries",
    );
    let mut req = count_request(&[]);
    req.predicate = Some(pb::Predicate {
        op: "o".repeat(10_000),
        values: vec![1],
    });
    let status = client
        .count_cohort(s.request(&method("CountCohort"), req))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("predicate.op") && status.message().len() < 200,
        "names the field without echoing the input: {}",
        status.message()
    );
    assert_status(
        client
            .list_attestations(s.request(
                &method("ListAttestations"),
                pb::ListAttestationsRequest {
                    consent_id: "t1".into(),
                    ..Default::default()
                },
            ))
            .await,
        Code::InvalidArgument,
        "consent_id: a consent token id is a decimal number",
    );
    assert_status(
        client
            .get_attestation(s.request(
                &method("GetAttestation"),
                pb::GetAttestationRequest {
                    key: key("genomics 1", 1),
                },
            ))
            .await,
        Code::InvalidArgument,
        "key.chain_id: a chain id contains only",
    );
    let check = |dataset: &str, token_id: &str| {
        s.request(
            &method("CheckAccess"),
            pb::CheckAccessRequest {
                chain_id: GENOMICS.into(),
                dataset: dataset.into(),
                purpose: PURPOSE.into(),
                attribute: "hba1c".into(),
                token_id: token_id.into(),
            },
        )
    };
    assert_status(
        client.check_access(check("abcd", "")).await,
        Code::InvalidArgument,
        "dataset must be a 32-byte commitment",
    );
    assert_status(
        client.check_access(check(&"ab".repeat(32), "01")).await,
        Code::InvalidArgument,
        "token_id: a consent token id",
    );
    assert_eq!(
        served.gateway.nonces_remembered(),
        0,
        "refusals change nothing"
    );
}

#[tokio::test]
async fn m8_the_count_cache_is_a_bounded_lru() {
    let served = Served::start_with(
        &[GENOMICS],
        HashMap::new(),
        GatewayConfig {
            cohort_cache: 8,
            ..test_config()
        },
        None,
    )
    .await;
    seed(&served, 10, 1..=5);
    let mut client = served.client().await;
    for bound in 0..40u64 {
        let mut req = count_request(&[]);
        req.predicate = Some(pb::Predicate {
            op: "lt".into(),
            values: vec![bound],
        });
        client
            .count_cohort(signer(1).request(&method("CountCohort"), req))
            .await
            .unwrap();
    }
    assert_eq!(served.store.index().cached_cohorts(), 8);
    // The evicted and the kept answer alike.
    assert_eq!(published(&served, &[]).await, Some(5));
}

#[tokio::test]
async fn m8_each_key_is_rate_limited_with_resource_exhausted() {
    let served = Served::start_with(
        &[GENOMICS],
        HashMap::new(),
        GatewayConfig {
            rate_per_sec: 2,
            burst: 3,
            ..test_config()
        },
        None,
    )
    .await;
    let mut changes = members(GENOMICS, 1..=5, |t| format!("wasm1p{t}"));
    changes.push(Change::Consent(consent(GENOMICS, "50", &address(2))));
    served.store.apply(&batch(GENOMICS, 10, changes)).unwrap();
    let mut client = served.client().await;
    for _ in 0..3 {
        count_on(&mut client, &signer(1), &[]).await.unwrap();
    }
    let refused = signer(1).metadata(
        &method("CountCohort"),
        &count_request(&[]).encode_to_vec(),
        now_ms(),
        &random_nonce(),
    );
    let mut req = tonic::Request::new(count_request(&[]));
    *req.metadata_mut() = refused.clone();
    assert_status(
        client.count_cohort(req).await,
        Code::ResourceExhausted,
        "rate limit: at most 2 requests per second per key",
    );
    // Per key: researcher 2 is not held back by researcher 1.
    count_on(&mut client, &signer(2), &[]).await.unwrap();
    // The refused request changed nothing: once a token is back, the very same request
    // (same nonce) is accepted, not taken for a replay.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut again = tonic::Request::new(count_request(&[]));
    *again.metadata_mut() = refused;
    client.count_cohort(again).await.unwrap();
}

// ---- L-7: audience, restarts, unknown keys, TLS ---------------------------------------

#[tokio::test]
async fn l7_a_request_signed_for_another_gateway_is_refused() {
    let served = Served::start(&[GENOMICS], HashMap::new()).await;
    seed(&served, 10, 1..=5);
    let key = cosmrs::crypto::secp256k1::SigningKey::from_slice(&[1; 32]).unwrap();
    let elsewhere = RequestSigner::new(key, "other-gateway.test:9390").unwrap();
    assert_status(
        count_on(&mut served.client().await, &elsewhere, &[]).await,
        Code::Unauthenticated,
        "wrong audience",
    );
    // Relabelled to this gateway, the signature (over the other audience) fails.
    let mut md = elsewhere.metadata(
        &method("CountCohort"),
        &count_request(&[]).encode_to_vec(),
        now_ms(),
        &random_nonce(),
    );
    md.insert("x-hm-audience", AUDIENCE.parse().unwrap());
    let mut req = tonic::Request::new(count_request(&[]));
    *req.metadata_mut() = md;
    assert_status(
        served.client().await.count_cohort(req).await,
        Code::Unauthenticated,
        "signature does not verify",
    );
    assert_eq!(published(&served, &[]).await, Some(5), "this gateway's own");
}

#[tokio::test]
async fn l7_a_request_signed_before_the_gateway_started_is_refused() {
    let served = Served::start(&[GENOMICS], HashMap::new()).await;
    seed(&served, 10, 1..=5);
    // Fresh by the clock (1 ms before the start, well within the 30 s window) but from before
    // the start: a nonce the gateway could have seen before a restart.
    let mut req = tonic::Request::new(count_request(&[]));
    *req.metadata_mut() = signer(1).metadata(
        &method("CountCohort"),
        &count_request(&[]).encode_to_vec(),
        served.gateway.started_ms() - 1,
        &random_nonce(),
    );
    assert_status(
        served.client().await.count_cohort(req).await,
        Code::Unauthenticated,
        "signed before this gateway started",
    );
}

#[tokio::test]
async fn l7_an_unknown_key_does_not_fill_the_nonce_cache() {
    let served = Served::start(&[GENOMICS], HashMap::new()).await;
    let stranger = signer(9);
    let metadata = stranger.metadata(
        &method("CountCohort"),
        &count_request(&[]).encode_to_vec(),
        now_ms(),
        &random_nonce(),
    );
    let mut client = served.client().await;
    for _ in 0..3 {
        let mut req = tonic::Request::new(count_request(&[]));
        *req.metadata_mut() = metadata.clone();
        assert_status(
            client.count_cohort(req).await,
            Code::Unauthenticated,
            "unknown key",
        );
    }
    assert_eq!(served.gateway.nonces_remembered(), 0);
    // Once granted consent, the same request is its first use, not a replay.
    served
        .store
        .apply(&batch(
            GENOMICS,
            10,
            vec![Change::Consent(consent(GENOMICS, "1", &address(9)))],
        ))
        .unwrap();
    let mut req = tonic::Request::new(count_request(&[]));
    *req.metadata_mut() = metadata;
    client.count_cohort(req).await.unwrap();
    assert_eq!(served.gateway.nonces_remembered(), 1);
}

#[tokio::test]
async fn l7_tls_is_served_with_a_certificate_and_plaintext_is_not() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.key_pair.serialize_pem());
    let dir = tempfile::tempdir().unwrap();
    let (cert_file, key_file) = (dir.path().join("gw.pem"), dir.path().join("gw.key"));
    std::fs::write(&cert_file, &cert_pem).unwrap();
    std::fs::write(&key_file, &key_pem).unwrap();
    let identity = hmesh_gateway::server::identity(&cert_file, &key_file).unwrap();
    let served =
        Served::start_with(&[GENOMICS], HashMap::new(), test_config(), Some(identity)).await;
    seed(&served, 10, 1..=5);

    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(&cert_pem))
        .domain_name("localhost");
    let channel = Channel::from_shared(served.url.clone())
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let res = count_on(&mut ResearchServiceClient::new(channel), &signer(1), &[])
        .await
        .unwrap();
    assert_eq!((res.count, res.suppressed), (5, false));

    // A plaintext HTTP/2 client gets no answer from the TLS port.
    let plain = served.url.replace("https://", "http://");
    let failed = match Channel::from_shared(plain).unwrap().connect().await {
        Err(_) => true,
        Ok(channel) => count_on(&mut ResearchServiceClient::new(channel), &signer(1), &[])
            .await
            .is_err(),
    };
    assert!(failed, "plaintext must not be answered");
    // Files that are not PEM are refused naming the file.
    let err = hmesh_gateway::server::identity(&key_file, &key_file).unwrap_err();
    assert!(err.to_string().contains("not a PEM certificate"), "{err}");
}

// ---- L-8: the consent must be the caller's and cover the attribute -----------------------

#[tokio::test]
async fn l8_an_attestation_under_another_researchers_consent_does_not_count() {
    let served = Served::start(&[GENOMICS], HashMap::new()).await;
    let mut changes = members(GENOMICS, 1..=4, |t| format!("wasm1p{t}"));
    // The proof's context names researcher 1, but consent 50 was granted to researcher 2.
    changes.push(Change::Consent(consent_from(
        GENOMICS,
        "50",
        &address(2),
        "wasm1p50",
    )));
    changes.push(Change::Attestation(
        attestation(GENOMICS, 50, "50", &address(1), 50).into(),
    ));
    served.store.apply(&batch(GENOMICS, 10, changes)).unwrap();
    assert_eq!(published(&served, &[]).await, None, "4 patients, not 5");
    served
        .store
        .apply(&batch(GENOMICS, 11, member(GENOMICS, 5, "wasm1p5")))
        .unwrap();
    assert_eq!(published(&served, &[]).await, Some(5));
    assert!(get(&served, 1, GENOMICS, 5).await.is_ok());
    assert_status(
        get(&served, 1, GENOMICS, 50).await,
        Code::NotFound,
        "genomics-1/50",
    );
    assert_status(
        get(&served, 2, GENOMICS, 50).await,
        Code::NotFound,
        "genomics-1/50",
    );
}

#[tokio::test]
async fn l8_an_attestation_outside_the_consents_scope_or_purpose_does_not_count() {
    let served = Served::start(&[GENOMICS], HashMap::new()).await;
    let one = address(1);
    let mut changes = members(GENOMICS, 1..=4, |t| format!("wasm1p{t}"));
    // Consent 60 covers "age" only; consent 61 is for another purpose.
    let mut age_only = consent_from(GENOMICS, "60", &one, "wasm1p60");
    age_only.scope = vec!["age".into()];
    let mut marketing = consent_from(GENOMICS, "61", &one, "wasm1p61");
    marketing.purpose = "marketing".into();
    changes.push(Change::Consent(age_only));
    changes.push(Change::Consent(marketing));
    changes.push(Change::Attestation(
        attestation(GENOMICS, 60, "60", &one, 60).into(),
    ));
    changes.push(Change::Attestation(
        attestation(GENOMICS, 61, "61", &one, 61).into(),
    ));
    served.store.apply(&batch(GENOMICS, 10, changes)).unwrap();
    assert_eq!(published(&served, &[]).await, None, "4 patients, not 6");
    served
        .store
        .apply(&batch(GENOMICS, 11, member(GENOMICS, 5, "wasm1p5")))
        .unwrap();
    assert_eq!(published(&served, &[]).await, Some(5));
    assert_status(
        get(&served, 1, GENOMICS, 60).await,
        Code::NotFound,
        "genomics-1/60",
    );
}
