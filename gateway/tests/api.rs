//! The research API through a real tonic client against the real server: authentication,
//! authorization by grantee, k-suppression, revocation, validation and proof re-verification.
//! (The security review's findings have their own tests in `review.rs`.)

mod common;

use std::collections::HashMap;

use common::*;
use healthmesh_research::auth::{now_ms, random_nonce};
use healthmesh_research::pb;
use hmesh_gateway::service::GatewayConfig;
use hmesh_gateway::store::Change;
use prost::Message;
use tonic::Code;

const COUNT: &str = "/healthmesh.research.v1.ResearchService/CountCohort";

/// Researcher 1 holds `patients` consents on genomics (tokens 1..), one patient and one
/// attestation each; researcher 2 holds five of its own (tokens and ids 101..=105).
async fn served_with(patients: u64) -> Served {
    let served = Served::start(&[GENOMICS, TRIALS], HashMap::new()).await;
    let (one, two) = (address(1), address(2));
    let mut changes = vec![];
    for s in 1..=patients {
        changes.push(Change::Consent(consent(GENOMICS, &s.to_string(), &one)));
        changes.push(Change::Attestation(
            attestation(GENOMICS, s, &s.to_string(), &one, s).into(),
        ));
    }
    for s in 101..=105 {
        changes.push(Change::Consent(consent(GENOMICS, &s.to_string(), &two)));
        changes.push(Change::Attestation(
            attestation(GENOMICS, s, &s.to_string(), &two, s).into(),
        ));
    }
    served.store.apply(&batch(GENOMICS, 50, changes)).unwrap();
    served
}

async fn count(served: &Served, who: u8) -> Result<pb::CountCohortResponse, tonic::Status> {
    let req = signer(who).request(COUNT, count_request());
    served
        .client()
        .await
        .count_cohort(req)
        .await
        .map(|r| r.into_inner())
}

fn assert_status(result: Result<impl std::fmt::Debug, tonic::Status>, code: Code, words: &str) {
    let status = result.expect_err("expected an error status");
    assert_eq!(status.code(), code, "{status:?}");
    assert!(
        status.message().contains(words),
        "'{words}' not in: {}",
        status.message()
    );
}

#[tokio::test]
async fn auth_failures_are_unauthenticated_with_a_reason() {
    let served = served_with(6).await;
    let mut client = served.client().await;
    // Unsigned.
    assert_status(
        client.count_cohort(count_request()).await,
        Code::Unauthenticated,
        "missing x-hm-pubkey",
    );
    // Signed over other bytes: bad signature.
    let mut other = count_request();
    other.purpose = "marketing".into();
    let mut req = tonic::Request::new(count_request());
    *req.metadata_mut() =
        signer(1).metadata(COUNT, &other.encode_to_vec(), now_ms(), &random_nonce());
    assert_status(
        client.count_cohort(req).await,
        Code::Unauthenticated,
        "signature does not verify",
    );
    // Stale: a minute old.
    let mut req = tonic::Request::new(count_request());
    *req.metadata_mut() = signer(1).metadata(
        COUNT,
        &count_request().encode_to_vec(),
        now_ms() - 60_000,
        &random_nonce(),
    );
    assert_status(
        client.count_cohort(req).await,
        Code::Unauthenticated,
        "stale request",
    );
    // Replayed: the same signed metadata twice.
    let metadata = signer(1).metadata(
        COUNT,
        &count_request().encode_to_vec(),
        now_ms(),
        &random_nonce(),
    );
    let mut first = tonic::Request::new(count_request());
    *first.metadata_mut() = metadata.clone();
    assert!(client.count_cohort(first).await.is_ok());
    let mut replay = tonic::Request::new(count_request());
    *replay.metadata_mut() = metadata;
    assert_status(
        client.count_cohort(replay).await,
        Code::Unauthenticated,
        "replayed request",
    );
    // A valid signature by a key that holds no consent anywhere.
    assert_status(
        count(&served, 9).await,
        Code::Unauthenticated,
        "unknown key",
    );
}

#[tokio::test]
async fn counts_below_k_are_suppressed_and_patients_are_distinct() {
    let served = served_with(4).await;
    let res = count(&served, 1).await.unwrap();
    assert!(res.suppressed && res.count == 0 && res.k == 5, "{res:?}");
    // A fifth patient lifts the suppression; a second attestation of a patient counts once.
    let one = address(1);
    served
        .store
        .apply(&batch(
            GENOMICS,
            51,
            vec![
                Change::Consent(consent(GENOMICS, "5", &one)),
                Change::Attestation(attestation(GENOMICS, 5, "5", &one, 5).into()),
                Change::Attestation(attestation(GENOMICS, 6, "5", &one, 6).into()),
            ],
        ))
        .unwrap();
    let res = count(&served, 1).await.unwrap();
    assert_eq!((res.count, res.suppressed), (5, false));
    assert_eq!(res.indexed_heights.get(GENOMICS), Some(&51));
}

async fn list_consent(served: &Served, consent_id: &str) -> Vec<pb::Attestation> {
    let req = pb::ListAttestationsRequest {
        consent_id: consent_id.into(),
        include_invalid: true,
        ..Default::default()
    };
    let req = signer(1).request(
        "/healthmesh.research.v1.ResearchService/ListAttestations",
        req,
    );
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

#[tokio::test]
async fn revocation_hides_a_patient() {
    let served = served_with(6).await;
    assert_eq!(count(&served, 1).await.unwrap().count, 6);
    served
        .store
        .apply(&batch(
            GENOMICS,
            51,
            vec![Change::RevokeConsent {
                chain_id: GENOMICS.into(),
                token_id: "6".into(),
            }],
        ))
        .unwrap();
    assert_eq!(count(&served, 1).await.unwrap().count, 5);
    // The revoked attestation is still listed with include_invalid, marked revoked.
    let listed = list_consent(&served, "6").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].validity, pb::Validity::Revoked as i32);
    // Revocation propagated to the attestations themselves (e.g. on a receiving chain).
    served
        .store
        .apply(&batch(
            GENOMICS,
            52,
            vec![Change::RevokeAttestations {
                chain_id: GENOMICS.into(),
                source_chain: GENOMICS.into(),
                consent_id: "5".into(),
            }],
        ))
        .unwrap();
    let res = count(&served, 1).await.unwrap();
    assert!(
        res.suppressed,
        "4 patients left must be suppressed: {res:?}"
    );
    // The cohort is below k now: its rows are no longer shown, valid or not.
    assert!(list_consent(&served, "6").await.is_empty());
    assert!(list_consent(&served, "1").await.is_empty());
}

#[tokio::test]
async fn researchers_only_see_their_own_grants() {
    let served = served_with(6).await;
    assert_eq!(count(&served, 1).await.unwrap().count, 6);
    assert_eq!(count(&served, 2).await.unwrap().count, 5);
    let get = |who: u8, id: u64| {
        let req = pb::GetAttestationRequest {
            key: Some(pb::AttestationKey {
                chain_id: GENOMICS.into(),
                id,
            }),
        };
        signer(who).request(
            "/healthmesh.research.v1.ResearchService/GetAttestation",
            req,
        )
    };
    let mut client = served.client().await;
    let own = client
        .get_attestation(get(2, 101))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.grantee, address(2));
    assert_eq!(own.provenance.unwrap().tx_hash, format!("{:064X}", 101));
    assert_status(
        client.get_attestation(get(2, 1)).await,
        Code::NotFound,
        "no attestation genomics-1/1",
    );
    let req = signer(2).request(
        "/healthmesh.research.v1.ResearchService/ListAttestations",
        pb::ListAttestationsRequest::default(),
    );
    let mut stream = client.list_attestations(req).await.unwrap().into_inner();
    let mut seen = vec![];
    while let Some(a) = stream.message().await.unwrap() {
        seen.push(a.key.unwrap().id);
    }
    assert_eq!(seen, vec![101, 102, 103, 104, 105]);

    // An index whose writer failed answers nothing, not even a single attestation (which
    // does not need the chain to be reachable): its rows may include the failed write.
    {
        let mut health = served.health.lock().unwrap();
        let genomics = health.get_mut(GENOMICS).unwrap();
        genomics.stopped = true;
        genomics.reachable = false;
        genomics.error = Some("the index stopped: index write failed: disk full".into());
    }
    assert_status(
        client.get_attestation(get(2, 101)).await,
        Code::Unavailable,
        "chain genomics-1: the index stopped: index write failed: disk full",
    );
}

#[tokio::test]
async fn malformed_requests_and_unreachable_chains_get_clear_codes() {
    let served = served_with(6).await;
    let mut client = served.client().await;
    let mut bad = count_request();
    bad.predicate = Some(pb::Predicate {
        op: "approximately".into(),
        values: vec![1],
    });
    assert_status(
        client.count_cohort(signer(1).request(COUNT, bad)).await,
        Code::InvalidArgument,
        "predicate",
    );
    let mut bad = count_request();
    bad.predicate = Some(pb::Predicate {
        op: "between".into(),
        values: vec![1],
    });
    assert_status(
        client.count_cohort(signer(1).request(COUNT, bad)).await,
        Code::InvalidArgument,
        "predicate values",
    );
    let mut bad = count_request();
    bad.purpose = String::new();
    assert_status(
        client.count_cohort(signer(1).request(COUNT, bad)).await,
        Code::InvalidArgument,
        "purpose must be 1 to 64 characters long, got 0",
    );
    let mut bad = count_request();
    bad.chains = vec!["mars-1".into()];
    assert_status(
        client.count_cohort(signer(1).request(COUNT, bad)).await,
        Code::InvalidArgument,
        "unknown chain 'mars-1'",
    );
    served
        .health
        .lock()
        .unwrap()
        .get_mut(TRIALS)
        .unwrap()
        .reachable = false;
    assert_status(
        count(&served, 1).await,
        Code::Unavailable,
        "chain trials-1 is unreachable",
    );
    let mut genomics_only = count_request();
    genomics_only.chains = vec![GENOMICS.into()];
    assert_eq!(
        client
            .count_cohort(signer(1).request(COUNT, genomics_only))
            .await
            .unwrap()
            .into_inner()
            .count,
        6
    );
}

#[tokio::test]
async fn verify_attestation_reverifies_the_stored_proof() {
    use healthmesh_proofs::keys::setup_from_seed;
    use healthmesh_proofs::prover::{prove, Opening};
    use healthmesh_proofs::statement::*;
    use healthmesh_proofs::verifier::PreparedVerifyingKey;

    let pk = setup_from_seed(b"gateway-test").unwrap();
    let vk = pk.verifying_key();
    let circuit = hex::encode(vk.id());
    let one = address(1);
    let opening = Opening {
        value: 64_000,
        salt: salt_from_wide_bytes(&[7u8; 64]),
        subject: subject_key("wasm1patient"),
    };
    let attribute = AttributeCode::new("hba1c").unwrap();
    let statement = Statement {
        commitment: commit(&attribute, opening.value, &opening.salt, &opening.subject),
        attribute,
        predicate: Predicate::new(Operator::Lt, vec![70_000]).unwrap(),
        context: Context {
            chain_id: GENOMICS.into(),
            consent_contract: CONSENT_CONTRACT.into(),
            consent_id: "1".into(),
            grantee: one.clone(),
        },
    };
    let proof = prove(&pk, &statement, &opening, &mut rand::rng()).unwrap();

    // One patient: k = 1, so that its attestations may be shown (the cohort rule is tested in
    // review.rs).
    let served = Served::start_with(
        &[GENOMICS],
        HashMap::from([(circuit.clone(), PreparedVerifyingKey::new(&vk))]),
        GatewayConfig {
            k: 1,
            ..test_config()
        },
        None,
    )
    .await;
    let mut good = attestation(GENOMICS, 1, "1", &one, 0);
    good.commitment = hex::encode(statement.commitment);
    good.circuit_id = circuit.clone();
    good.proof = proof.to_vec();
    let mut tampered = good.clone();
    tampered.id = 2;
    tampered.values = vec![60_000]; // the stored predicate no longer matches the proof
    let mut unknown = good.clone();
    unknown.id = 3;
    unknown.circuit_id = "ff".repeat(32);
    served
        .store
        .apply(&batch(
            GENOMICS,
            5,
            vec![
                Change::Consent(consent(GENOMICS, "1", &one)),
                Change::Attestation(good.into()),
                Change::Attestation(tampered.into()),
                Change::Attestation(unknown.into()),
            ],
        ))
        .unwrap();
    let verify = |id: u64| {
        let req = pb::VerifyAttestationRequest {
            key: Some(pb::AttestationKey {
                chain_id: GENOMICS.into(),
                id,
            }),
        };
        signer(1).request(
            "/healthmesh.research.v1.ResearchService/VerifyAttestation",
            req,
        )
    };
    let mut client = served.client().await;
    let ok = client
        .verify_attestation(verify(1))
        .await
        .unwrap()
        .into_inner();
    assert!(ok.proof_valid, "{ok:?}");
    assert_eq!(ok.provenance.unwrap().source_chain, GENOMICS);
    let bad = client
        .verify_attestation(verify(2))
        .await
        .unwrap()
        .into_inner();
    assert!(
        !bad.proof_valid && bad.reason.contains("proof rejected"),
        "{bad:?}"
    );
    let unknown = client
        .verify_attestation(verify(3))
        .await
        .unwrap()
        .into_inner();
    assert!(
        !unknown.proof_valid && unknown.reason.contains("unknown circuit"),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn health_and_reflection_are_served() {
    let served = served_with(1).await;
    let channel = tonic::transport::Channel::from_shared(served.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let res = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: healthmesh_research::SERVICE_NAME.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        res.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    // Once the index stops (its writer failed), the health service says NOT_SERVING.
    {
        let mut chains = served.health.lock().unwrap();
        let genomics = chains.get_mut(GENOMICS).unwrap();
        genomics.stopped = true;
        genomics.error = Some("the index stopped: index write failed: disk full".into());
    }
    let not_serving = tonic_health::pb::health_check_response::ServingStatus::NotServing as i32;
    let mut status = res.status;
    for _ in 0..50 {
        status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: healthmesh_research::SERVICE_NAME.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        if status == not_serving {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, not_serving, "within 5 s of the index stopping");
    let server = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(server.status, not_serving, "the server as a whole too");

    // Reflection (what grpcurl uses): the research service is listed.
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let channel = tonic::transport::Channel::from_shared(served.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        responses.message().await.unwrap().unwrap().message_response
    else {
        panic!("not a list of services");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&healthmesh_research::SERVICE_NAME.to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_string()),
        "{names:?}"
    );
}
