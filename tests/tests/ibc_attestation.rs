//! Attestations across chains: a real Groth16 proof verified on genomics-1 travels over IBC to
//! trials-1 and billing-1, is re-verified there, and revocation follows it; error acks and
//! timeouts are recorded and retried.

use std::sync::OnceLock;

use cosmwasm_std::{from_json, Binary, HexBinary, StdAck};
use cw_multi_test::Executor;
use cw_utils::Expiration;
use healthmesh_attestation::ContractError;
use healthmesh_proofs::keys::{setup_from_seed, ProvingKey};
use healthmesh_proofs::prover::{prove, Opening};
use healthmesh_proofs::statement::{
    commit, subject_key, AttributeCode, Context, Operator, Predicate, Statement,
};
use healthmesh_testing::contract_error;
use healthmesh_testing::ibc_harness::{connect, relay, Chain, Link, Relayed};
use healthmesh_types::attestation::{
    self as att, Attestation, AttestationStatus, AttestationsResponse, DeliveriesResponse,
    DeliveryStatus, IsAttestedResponse, Origin, ReceiveAck,
};
use healthmesh_types::consent;

fn keys() -> &'static ProvingKey {
    static KEYS: OnceLock<ProvingKey> = OnceLock::new();
    KEYS.get_or_init(|| setup_from_seed(b"ibc-tests").unwrap())
}

fn circuit_id() -> String {
    hex::encode(keys().verifying_key().id())
}

struct World {
    genomics: Chain,
    trials: Chain,
    billing: Chain,
    to_trials: Link,
    to_billing: Link,
}

fn world() -> World {
    let vk = keys().verifying_key().to_bytes();
    let mut genomics = Chain::new("genomics-1", &vk);
    let mut trials = Chain::new("trials-1", &vk);
    let mut billing = Chain::new("billing-1", &vk);
    let to_trials = connect(&mut genomics, &mut trials, "channel-0", "channel-0");
    let to_billing = connect(&mut genomics, &mut billing, "channel-1", "channel-0");
    World {
        genomics,
        trials,
        billing,
        to_trials,
        to_billing,
    }
}

const HBA1C: u64 = 69; // 6.9 %

struct Attested {
    id: u64,
    token_id: String,
    commitment: HexBinary,
}

/// On genomics: anchor a commitment, grant consent, prove "HbA1c < 7.0" and submit.
fn attest(chain: &mut Chain) -> Attested {
    let attribute = AttributeCode::new("hba1c").unwrap();
    let opening = Opening {
        value: HBA1C,
        salt: bls12_381::Scalar::from(987_654_321u64),
        subject: subject_key(chain.patient.as_str()),
    };
    let commitment = commit(&attribute, HBA1C, &opening.salt, &opening.subject);
    let dataset = HexBinary::from([0x11u8; 32]);
    chain.designate_custodian(&dataset);
    let custodian = chain.custodian.clone();
    chain
        .execute(
            &custodian,
            &att::ExecuteMsg::Anchor {
                commitment: HexBinary::from(commitment),
                attribute: "hba1c".into(),
                dataset: dataset.clone(),
                patient: chain.patient.to_string(),
            },
        )
        .unwrap();
    let (patient, consent_addr) = (chain.patient.clone(), chain.consent.clone());
    let grant = consent::ExecuteMsg::GrantConsent {
        grantee: chain.researcher.to_string(),
        dataset,
        purpose: "trial-eligibility".into(),
        scope: vec!["hba1c".into()],
        expires: Expiration::Never {},
    };
    let res = chain
        .app
        .execute_contract(patient, consent_addr, &grant, &[])
        .unwrap();
    let token_id = healthmesh_testing::consent::token_id_of_generic(&res.events);
    let statement = Statement {
        attribute,
        predicate: Predicate::new(Operator::Lt, vec![70]).unwrap(),
        commitment,
        context: Context {
            chain_id: chain.chain_id.clone(),
            consent_contract: chain.consent.to_string(),
            consent_id: token_id.clone(),
            grantee: chain.researcher.to_string(),
        },
    };
    let proof = prove(keys(), &statement, &opening, &mut rand::rng()).unwrap();
    let researcher = chain.researcher.clone();
    let res = chain
        .execute(&researcher, &submit_msg(&token_id, &commitment, &proof))
        .unwrap();
    let id = res
        .events
        .iter()
        .find(|e| e.ty == "wasm-attestation_recorded")
        .and_then(|e| e.attributes.iter().find(|a| a.key == "attestation_id"))
        .unwrap()
        .value
        .parse()
        .unwrap();
    Attested {
        id,
        token_id,
        commitment: HexBinary::from(commitment),
    }
}

fn submit_msg(token_id: &str, commitment: &[u8; 32], proof: &[u8]) -> att::ExecuteMsg {
    att::ExecuteMsg::SubmitAttestation {
        circuit_id: circuit_id(),
        attribute: "hba1c".into(),
        predicate: Predicate {
            op: Operator::Lt,
            values: vec![70],
        },
        commitment: HexBinary::from(commitment.to_vec()),
        consent_token_id: token_id.into(),
        proof: Binary::from(proof),
        expires_at: None,
    }
}

fn send(
    chain: &mut Chain,
    id: u64,
    channel: &str,
    timeout: Option<u64>,
) -> anyhow::Result<cw_multi_test::AppResponse> {
    let anyone = chain.researcher.clone();
    chain.execute(
        &anyone,
        &att::ExecuteMsg::SendAttestation {
            attestation_id: id,
            channel_id: channel.into(),
            timeout_seconds: timeout,
        },
    )
}

/// The patient withdraws consent `token_id` on `chain`.
fn revoke_consent(chain: &mut Chain, token_id: &str) {
    let (patient, consent_addr) = (chain.patient.clone(), chain.consent.clone());
    let revoke = consent::ExecuteMsg::RevokeConsent {
        token_id: token_id.into(),
        reason: None,
    };
    chain
        .app
        .execute_contract(patient, consent_addr, &revoke, &[])
        .unwrap();
}

fn deliveries(chain: &Chain, id: u64) -> Vec<DeliveryStatus> {
    let res: DeliveriesResponse = chain.query(&att::QueryMsg::Deliveries {
        attestation_id: id,
        start_after: None,
        limit: None,
    });
    res.deliveries.into_iter().map(|d| d.status).collect()
}

fn remote(chain: &Chain, token_id: &str) -> Vec<Attestation> {
    let res: AttestationsResponse = chain.query(&att::QueryMsg::AttestationsByConsent {
        source_chain: "genomics-1".into(),
        consent_id: token_id.into(),
        start_after: None,
        limit: None,
    });
    res.attestations
}

fn is_attested(chain: &Chain, commitment: &HexBinary) -> bool {
    let res: IsAttestedResponse = chain.query(&att::QueryMsg::IsAttested {
        commitment: commitment.clone(),
        attribute: "hba1c".into(),
        predicate: Predicate {
            op: Operator::Lt,
            values: vec![70],
        },
        at: None,
        start_before: None,
    });
    res.attested
}

fn ack(relayed: &Relayed) -> StdAck {
    match relayed {
        Relayed::Acknowledged(bytes) => from_json(bytes).unwrap(),
        Relayed::TimedOut => panic!("timed out"),
    }
}

#[test]
fn an_attestation_travels_from_genomics_to_trials_and_is_reverified() {
    let mut w = world();
    let a = attest(&mut w.genomics);
    assert!(is_attested(&w.genomics, &a.commitment));
    assert!(!is_attested(&w.trials, &a.commitment));

    send(&mut w.genomics, a.id, &w.to_trials.a_channel, None).unwrap();
    let relayed = relay(
        &mut w.genomics,
        &mut w.trials,
        &w.to_trials.a_channel,
        &w.to_trials.b_channel,
    );
    let StdAck::Success(data) = ack(&relayed[0]) else {
        panic!("error ack: {relayed:?}")
    };
    let remote_id = from_json::<ReceiveAck>(&data).unwrap().value;

    let received = remote(&w.trials, &a.token_id);
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(r.id, remote_id);
    assert_eq!(r.commitment, a.commitment);
    assert_eq!(r.context.chain_id, "genomics-1");
    match &r.origin {
        Origin::Remote {
            source_chain,
            source_id,
            channel_id,
            sequence,
            relayer,
        } => {
            assert_eq!(
                (
                    source_chain.as_str(),
                    *source_id,
                    channel_id.as_str(),
                    *sequence
                ),
                ("genomics-1", a.id, "channel-0", 1)
            );
            assert_eq!(*relayer, w.genomics.app.api().addr_make("relayer"));
        }
        other => panic!("expected a remote origin, got {other:?}"),
    }
    assert!(is_attested(&w.trials, &a.commitment));
    assert_eq!(
        deliveries(&w.genomics, a.id),
        vec![DeliveryStatus::Delivered { remote_id }]
    );

    // Sending again while delivered is refused; remote attestations are not forwarded.
    let err = send(&mut w.genomics, a.id, &w.to_trials.a_channel, None).unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::AlreadySent { .. }
    ));
    let err = send(&mut w.trials, remote_id, &w.to_trials.b_channel, None).unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::NotLocal
    );
    let err = send(&mut w.genomics, a.id, "channel-9", None).unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::ChannelNotOpen("channel-9".into())
    );
}

#[test]
fn revocation_follows_the_attestation_to_every_chain() {
    let mut w = world();
    let a = attest(&mut w.genomics);
    for link in [&w.to_trials, &w.to_billing] {
        send(&mut w.genomics, a.id, &link.a_channel, None).unwrap();
    }
    relay(
        &mut w.genomics,
        &mut w.trials,
        &w.to_trials.a_channel,
        &w.to_trials.b_channel,
    );
    relay(
        &mut w.genomics,
        &mut w.billing,
        &w.to_billing.a_channel,
        &w.to_billing.b_channel,
    );
    assert!(is_attested(&w.trials, &a.commitment) && is_attested(&w.billing, &a.commitment));

    // Not revoked yet: propagation is refused.
    let anyone = w.genomics.researcher.clone();
    let propagate = att::ExecuteMsg::PropagateRevocation {
        consent_token_id: a.token_id.clone(),
    };
    let err = w.genomics.execute(&anyone, &propagate).unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::ConsentNotRevoked(a.token_id.clone())
    );

    revoke_consent(&mut w.genomics, &a.token_id);
    w.genomics.execute(&anyone, &propagate).unwrap();
    assert!(!is_attested(&w.genomics, &a.commitment));
    for (chain, link) in [
        (&mut w.trials, &w.to_trials),
        (&mut w.billing, &w.to_billing),
    ] {
        let relayed = relay(&mut w.genomics, chain, &link.a_channel, &link.b_channel);
        assert!(matches!(ack(&relayed[0]), StdAck::Success(_)));
        assert!(!is_attested(chain, &a.commitment));
        assert!(matches!(
            remote(chain, &a.token_id)[0].status,
            AttestationStatus::Revoked { .. }
        ));
    }
    // Everything acknowledged: propagating again sends nothing.
    w.genomics.execute(&anyone, &propagate).unwrap();
    assert!(w.genomics.recorder.sent.borrow().is_empty());
}

#[test]
fn an_error_ack_is_recorded_and_the_send_can_be_retried() {
    let mut w = world();
    let a = attest(&mut w.genomics);
    // trials' governance withdrew the key: the proof cannot be re-verified there.
    let admin = w.trials.admin.clone();
    w.trials
        .execute(
            &admin,
            &att::ExecuteMsg::RemoveVerifyingKey {
                circuit_id: circuit_id(),
            },
        )
        .unwrap();
    send(&mut w.genomics, a.id, &w.to_trials.a_channel, None).unwrap();
    let relayed = relay(
        &mut w.genomics,
        &mut w.trials,
        &w.to_trials.a_channel,
        &w.to_trials.b_channel,
    );
    let StdAck::Error(error) = ack(&relayed[0]) else {
        panic!("expected an error ack")
    };
    assert!(error.contains("unknown verifying key"), "{error}");
    assert!(
        remote(&w.trials, &a.token_id).is_empty(),
        "an error ack leaves no state"
    );
    assert_eq!(
        deliveries(&w.genomics, a.id),
        vec![DeliveryStatus::Failed { error }]
    );

    let vk = Binary::from(keys().verifying_key().to_bytes());
    w.trials
        .execute(&admin, &att::ExecuteMsg::SetVerifyingKey { vk })
        .unwrap();
    let res = send(&mut w.genomics, a.id, &w.to_trials.a_channel, None).unwrap();
    assert!(res.events.iter().any(|e| e
        .attributes
        .iter()
        .any(|x| x.key == "attempt" && x.value == "2")));
    relay(
        &mut w.genomics,
        &mut w.trials,
        &w.to_trials.a_channel,
        &w.to_trials.b_channel,
    );
    assert!(matches!(
        deliveries(&w.genomics, a.id)[0],
        DeliveryStatus::Delivered { .. }
    ));
}

#[test]
fn a_timeout_is_recorded_and_the_send_can_be_retried() {
    let mut w = world();
    let a = attest(&mut w.genomics);
    send(&mut w.genomics, a.id, &w.to_trials.a_channel, Some(60)).unwrap();
    w.trials.advance(120);
    let relayed = relay(
        &mut w.genomics,
        &mut w.trials,
        &w.to_trials.a_channel,
        &w.to_trials.b_channel,
    );
    assert!(matches!(relayed[0], Relayed::TimedOut));
    assert_eq!(
        deliveries(&w.genomics, a.id),
        vec![DeliveryStatus::TimedOut]
    );
    assert!(remote(&w.trials, &a.token_id).is_empty());

    w.genomics.advance(120);
    send(&mut w.genomics, a.id, &w.to_trials.a_channel, Some(600)).unwrap();
    relay(
        &mut w.genomics,
        &mut w.trials,
        &w.to_trials.a_channel,
        &w.to_trials.b_channel,
    );
    assert!(matches!(
        deliveries(&w.genomics, a.id)[0],
        DeliveryStatus::Delivered { .. }
    ));
    assert_eq!(remote(&w.trials, &a.token_id).len(), 1);
}

#[test]
fn submission_requires_anchor_consent_and_the_right_context() {
    let mut w = world();
    let a = attest(&mut w.genomics);
    let stored: Attestation = w.genomics.query(&att::QueryMsg::Attestation { id: a.id });
    let commitment: [u8; 32] = a.commitment.to_vec().try_into().unwrap();
    let researcher = w.genomics.researcher.clone();

    // The same proof under another consent id: the context differs, the proof fails.
    let (patient, consent_addr) = (w.genomics.patient.clone(), w.genomics.consent.clone());
    let grant = consent::ExecuteMsg::GrantConsent {
        grantee: researcher.to_string(),
        dataset: HexBinary::from([0x11u8; 32]),
        purpose: "trial-eligibility".into(),
        scope: vec!["hba1c".into()],
        expires: Expiration::Never {},
    };
    let res = w
        .genomics
        .app
        .execute_contract(patient.clone(), consent_addr.clone(), &grant, &[])
        .unwrap();
    let other_token = healthmesh_testing::consent::token_id_of_generic(&res.events);
    let err = w
        .genomics
        .execute(
            &researcher,
            &submit_msg(&other_token, &commitment, &stored.proof),
        )
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::Proof(healthmesh_proofs::Error::InvalidProof)
    );

    // A commitment nobody anchored.
    let mut unanchored = commitment;
    unanchored[0] ^= 1;
    let err = w
        .genomics
        .execute(
            &researcher,
            &submit_msg(&a.token_id, &unanchored, &stored.proof),
        )
        .unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::NotAnchored { .. }
    ));

    // A revoked consent.
    revoke_consent(&mut w.genomics, &a.token_id);
    let err = w
        .genomics
        .execute(
            &researcher,
            &submit_msg(&a.token_id, &commitment, &stored.proof),
        )
        .unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::ConsentDenied { .. }
    ));

    // A stranger cannot anchor.
    let err = w
        .genomics
        .execute(
            &researcher,
            &att::ExecuteMsg::Anchor {
                commitment: HexBinary::from([7u8; 32]),
                attribute: "age".into(),
                dataset: HexBinary::from([1u8; 32]),
                patient: w.genomics.patient.to_string(),
            },
        )
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::NotDesignatedCustodian {
            sender: researcher.to_string(),
            dataset: HexBinary::from([1u8; 32]).to_hex(),
        }
    );
}

/// A `submit_attestations` entry proving `hba1c <op> <values>` under the consent of `a`.
fn proven_submission(
    chain: &Chain,
    a: &Attested,
    op: Operator,
    values: Vec<u64>,
) -> att::AttestationSubmission {
    let opening = Opening {
        value: HBA1C,
        salt: bls12_381::Scalar::from(987_654_321u64),
        subject: subject_key(chain.patient.as_str()),
    };
    let statement = Statement {
        attribute: AttributeCode::new("hba1c").unwrap(),
        predicate: Predicate::new(op, values).unwrap(),
        commitment: a.commitment.to_vec().try_into().unwrap(),
        context: Context {
            chain_id: chain.chain_id.clone(),
            consent_contract: chain.consent.to_string(),
            consent_id: a.token_id.clone(),
            grantee: chain.researcher.to_string(),
        },
    };
    let proof = prove(keys(), &statement, &opening, &mut rand::rng()).unwrap();
    att::AttestationSubmission {
        attribute: "hba1c".into(),
        predicate: statement.predicate,
        commitment: a.commitment.clone(),
        consent_token_id: a.token_id.clone(),
        proof: Binary::from(proof),
        expires_at: None,
    }
}

fn submit_batch(
    chain: &mut Chain,
    batch: Vec<att::AttestationSubmission>,
) -> anyhow::Result<Vec<u64>> {
    let researcher = chain.researcher.clone();
    let res = chain.execute(
        &researcher,
        &att::ExecuteMsg::SubmitAttestations {
            circuit_id: circuit_id(),
            attestations: batch,
        },
    )?;
    Ok(res
        .events
        .iter()
        .filter(|e| e.ty == "wasm-attestation_recorded")
        .filter_map(|e| e.attributes.iter().find(|a| a.key == "attestation_id"))
        .map(|a| a.value.parse().unwrap())
        .collect())
}

/// On genomics: anchor one commitment, grant one consent, and submit a proof of each
/// predicate in one `submit_attestations` batch. Returns the consent and the new ids.
fn attest_batch(chain: &mut Chain, predicates: &[(Operator, Vec<u64>)]) -> (String, Vec<u64>) {
    let a = attest(chain);
    let batch = predicates
        .iter()
        .map(|(op, values)| proven_submission(chain, &a, *op, values.clone()))
        .collect();
    (a.token_id, submit_batch(chain, batch).unwrap())
}

const BATCH: [(Operator, u64); 4] = [
    (Operator::Gt, 10),
    (Operator::Gte, 20),
    (Operator::Lte, 80),
    (Operator::Ne, 90),
];

fn batch_predicates() -> Vec<(Operator, Vec<u64>)> {
    BATCH.iter().map(|(op, v)| (*op, vec![*v])).collect()
}

/// Relayer fees held by the contract; must equal its balance (the escrow invariant).
fn open_fees(chain: &Chain) -> u128 {
    let res: att::RelayerFeesResponse = chain.query(&att::QueryMsg::RelayerFees {
        start_after: None,
        limit: None,
    });
    res.fees.iter().map(|f| f.amount.amount.u128()).sum()
}

fn assert_escrow_invariant(chain: &Chain) {
    assert_eq!(chain.balance(&chain.attestation), open_fees(chain));
}

fn send_paid(
    chain: &mut Chain,
    ids: Vec<u64>,
    channel: &str,
    timeout: Option<u64>,
    fee: u128,
) -> anyhow::Result<cw_multi_test::AppResponse> {
    let (researcher, contract) = (chain.researcher.clone(), chain.attestation.clone());
    chain.app.execute_contract(
        researcher,
        contract,
        &att::ExecuteMsg::SendAttestations {
            attestation_ids: ids,
            channel_id: channel.into(),
            timeout_seconds: timeout,
        },
        &cosmwasm_std::coins(fee, healthmesh_testing::dao::DENOM),
    )
}

#[test]
fn a_batch_travels_in_one_packet_and_its_relayer_is_paid() {
    let mut w = world();
    let (token_id, ids) = attest_batch(&mut w.genomics, &batch_predicates());
    assert_eq!(ids.len(), BATCH.len());
    let relayer = w.genomics.app.api().addr_make("relayer");
    let researcher = w.genomics.researcher.clone();
    let before = w.genomics.balance(&researcher);

    send_paid(
        &mut w.genomics,
        ids.clone(),
        &w.to_trials.a_channel,
        None,
        7,
    )
    .unwrap();
    assert_eq!(w.genomics.balance(&researcher), before - 7);
    assert_eq!(open_fees(&w.genomics), 7);
    assert_escrow_invariant(&w.genomics);
    assert_eq!(w.genomics.recorder.sent.borrow().len(), 1, "one packet");

    let relayed = relay(
        &mut w.genomics,
        &mut w.trials,
        &w.to_trials.a_channel,
        &w.to_trials.b_channel,
    );
    let StdAck::Success(data) = ack(&relayed[0]) else {
        panic!("error ack: {relayed:?}")
    };
    let ack: ReceiveAck = from_json(&data).unwrap();
    assert_eq!(ack.ids.len(), BATCH.len());
    assert_eq!(ack.relayer.as_deref(), Some(relayer.as_str()));
    let received = remote(&w.trials, &token_id);
    assert_eq!(
        received.iter().map(|a| a.id).collect::<Vec<_>>(),
        ack.ids,
        "all recorded, in packet order"
    );
    for (id, remote_id) in ids.iter().zip(&ack.ids) {
        assert_eq!(
            deliveries(&w.genomics, *id),
            vec![DeliveryStatus::Delivered {
                remote_id: *remote_id
            }]
        );
    }
    assert_eq!(
        w.genomics.balance(&relayer),
        7,
        "the relayer earned the fee"
    );
    assert_eq!(open_fees(&w.genomics), 0);
    assert_escrow_invariant(&w.genomics);
}

#[test]
fn a_batch_with_one_bad_proof_is_refused_whole() {
    let mut w = world();
    let a = attest(&mut w.genomics);
    // A valid proof, and the proof of the first statement (hba1c < 70) offered for another.
    let original: Attestation = w.genomics.query(&att::QueryMsg::Attestation { id: a.id });
    let mut forged = proven_submission(&w.genomics, &a, Operator::Lte, vec![80]);
    forged.proof = original.proof;
    let valid = proven_submission(&w.genomics, &a, Operator::Gt, vec![10]);
    let count = |c: &Chain| remote_local(c, &a.token_id);
    let before = count(&w.genomics);
    let err = submit_batch(&mut w.genomics, vec![valid.clone(), forged]).unwrap_err();
    let error = contract_error(err);
    assert!(matches!(error, ContractError::Proof(_)), "{error:?}");
    assert_eq!(count(&w.genomics), before, "nothing recorded");
    assert_eq!(submit_batch(&mut w.genomics, vec![valid]).unwrap().len(), 1);
}

fn remote_local(chain: &Chain, token_id: &str) -> usize {
    let res: AttestationsResponse = chain.query(&att::QueryMsg::AttestationsByConsent {
        source_chain: chain.chain_id.clone(),
        consent_id: token_id.into(),
        start_after: None,
        limit: None,
    });
    res.attestations.len()
}

#[test]
fn relayer_fees_are_refunded_on_timeout_and_on_error_acks() {
    let mut w = world();
    let (_, ids) = attest_batch(&mut w.genomics, &batch_predicates());
    let researcher = w.genomics.researcher.clone();
    let start = w.genomics.balance(&researcher);

    // Timeout: the relayer never delivered in time.
    send_paid(
        &mut w.genomics,
        ids.clone(),
        &w.to_trials.a_channel,
        Some(60),
        5,
    )
    .unwrap();
    assert_escrow_invariant(&w.genomics);
    w.trials.advance(120);
    let relayed = relay(
        &mut w.genomics,
        &mut w.trials,
        &w.to_trials.a_channel,
        &w.to_trials.b_channel,
    );
    assert!(matches!(relayed[0], Relayed::TimedOut));
    assert_eq!(w.genomics.balance(&researcher), start, "refunded");
    assert_eq!(
        deliveries(&w.genomics, ids[0]),
        vec![DeliveryStatus::TimedOut]
    );
    assert_escrow_invariant(&w.genomics);

    // Error ack: billing-1 does not know the key.
    let admin = w.billing.admin.clone();
    w.billing
        .execute(
            &admin,
            &att::ExecuteMsg::RemoveVerifyingKey {
                circuit_id: circuit_id(),
            },
        )
        .unwrap();
    send_paid(
        &mut w.genomics,
        ids.clone(),
        &w.to_billing.a_channel,
        None,
        9,
    )
    .unwrap();
    assert_eq!(w.genomics.balance(&researcher), start - 9);
    let relayed = relay(
        &mut w.genomics,
        &mut w.billing,
        &w.to_billing.a_channel,
        &w.to_billing.b_channel,
    );
    assert!(matches!(ack(&relayed[0]), StdAck::Error(_)));
    assert_eq!(w.genomics.balance(&researcher), start, "refunded");
    let relayer = w.genomics.app.api().addr_make("relayer");
    assert_eq!(
        w.genomics.balance(&relayer),
        0,
        "no fee for a failed delivery"
    );
    assert_escrow_invariant(&w.genomics);
}

#[test]
fn the_urgent_lane_takes_small_packets_paying_the_urgent_fee() {
    use healthmesh_testing::ibc_harness::{connect_urgent, URGENT_FEE};
    let mut w = world();
    let urgent = connect_urgent(
        &mut w.genomics,
        &mut w.trials,
        &w.to_trials,
        "channel-2",
        "channel-1",
    );
    let mut predicates = batch_predicates();
    predicates.push((Operator::Lt, vec![75]));
    let (token_id, ids) = attest_batch(&mut w.genomics, &predicates);
    let researcher = w.genomics.researcher.clone();
    let start = w.genomics.balance(&researcher);
    let refused = |w: &mut World, ids: Vec<u64>, fee: u128| {
        let sent = w.genomics.recorder.sent.borrow().len();
        let err = send_paid(&mut w.genomics, ids, &urgent.a_channel, None, fee).unwrap_err();
        assert_eq!(w.genomics.recorder.sent.borrow().len(), sent, "no packet");
        contract_error::<ContractError>(err)
    };

    assert!(matches!(
        refused(&mut w, ids[..1].to_vec(), URGENT_FEE - 1),
        ContractError::UrgentFeeTooLow { .. }
    ));
    let (anyone, contract) = (researcher.clone(), w.genomics.attestation.clone());
    let unpaid = w.genomics.app.execute_contract(
        anyone,
        contract,
        &att::ExecuteMsg::SendAttestation {
            attestation_id: ids[0],
            channel_id: urgent.a_channel.clone(),
            timeout_seconds: None,
        },
        &[],
    );
    assert!(matches!(
        contract_error::<ContractError>(unpaid.unwrap_err()),
        ContractError::UrgentFeeTooLow { .. }
    ));
    assert_eq!(
        refused(&mut w, ids.clone(), URGENT_FEE),
        ContractError::UrgentBatchSize {
            max: att::URGENT_MAX_BATCH,
            got: 5
        }
    );
    assert_eq!(
        w.genomics.balance(&researcher),
        start,
        "refusals cost nothing"
    );

    // Two attestations, one urgent packet, the premium to the relayer that delivered it.
    send_paid(
        &mut w.genomics,
        ids[..2].to_vec(),
        &urgent.a_channel,
        None,
        URGENT_FEE,
    )
    .unwrap();
    assert_escrow_invariant(&w.genomics);
    let relayed = relay(
        &mut w.genomics,
        &mut w.trials,
        &urgent.a_channel,
        &urgent.b_channel,
    );
    assert!(
        matches!(ack(&relayed[0]), StdAck::Success(_)),
        "{relayed:?}"
    );
    let received = remote(&w.trials, &token_id);
    assert_eq!(received.len(), 2);
    assert!(received.iter().all(|a| matches!(
        &a.origin,
        Origin::Remote { channel_id, .. } if *channel_id == urgent.b_channel
    )));
    let relayer = w.genomics.app.api().addr_make("relayer");
    assert_eq!(w.genomics.balance(&relayer), URGENT_FEE);
    assert_escrow_invariant(&w.genomics);

    // Delivered on one lane, an attestation is not sent again on the other.
    let err = send_paid(
        &mut w.genomics,
        ids[..1].to_vec(),
        &w.to_trials.a_channel,
        None,
        1,
    )
    .unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::AlreadySent { .. }
    ));
    // The bulk lane keeps its rules: any fee, up to MAX_BATCH.
    send_paid(
        &mut w.genomics,
        ids[2..].to_vec(),
        &w.to_trials.a_channel,
        None,
        1,
    )
    .unwrap();

    // Governance closes the lane; only governance may.
    let closing = att::ExecuteMsg::SetUrgentFee { fee: None };
    assert!(w.genomics.execute(&researcher, &closing).is_err());
    let admin = w.genomics.admin.clone();
    w.genomics.execute(&admin, &closing).unwrap();
    let config: att::ConfigResponse = w.genomics.query(&att::QueryMsg::Config {});
    assert_eq!(config.urgent_fee, None);
    assert_eq!(
        refused(&mut w, ids[4..].to_vec(), 10 * URGENT_FEE),
        ContractError::UrgentLaneClosed
    );
    let zero = att::ExecuteMsg::SetUrgentFee {
        fee: Some(cosmwasm_std::coin(0, healthmesh_testing::dao::DENOM)),
    };
    assert!(w.genomics.execute(&admin, &zero).is_err());
}

/// Review of the urgent lane: a chain linked only by the urgent lane still hears revocations
/// (notices go on the bulk lane, or on the urgent one when that is all there is).
#[test]
fn review_revocations_reach_a_chain_linked_only_by_the_urgent_lane() {
    use healthmesh_testing::ibc_harness::{connect_urgent, URGENT_FEE};
    let vk = keys().verifying_key().to_bytes();
    let mut genomics = Chain::new("genomics-1", &vk);
    let mut trials = Chain::new("trials-1", &vk);
    let link = Link {
        a_channel: "channel-3".into(),
        b_channel: "channel-4".into(),
        connection: "connection-u".into(),
    };
    let (genomics_port, trials_port) = (genomics.port(), trials.port());
    for (chain, other, port) in [
        (&mut genomics, "trials-1", trials_port),
        (&mut trials, "genomics-1", genomics_port),
    ] {
        let admin = chain.admin.clone();
        let allow = att::ExecuteMsg::AllowConnection {
            connection_id: link.connection.clone(),
            chain_id: other.into(),
            counterparty_port: port,
        };
        chain.execute(&admin, &allow).unwrap();
    }
    let urgent = connect_urgent(&mut genomics, &mut trials, &link, "channel-3", "channel-4");
    let a = attest(&mut genomics);
    send_paid(
        &mut genomics,
        vec![a.id],
        &urgent.a_channel,
        None,
        URGENT_FEE,
    )
    .unwrap();
    relay(&mut genomics, &mut trials, "channel-3", "channel-4");
    assert!(is_attested(&trials, &a.commitment));

    revoke_consent(&mut genomics, &a.token_id);
    let anyone = genomics.researcher.clone();
    let propagate = att::ExecuteMsg::PropagateRevocation {
        consent_token_id: a.token_id.clone(),
    };
    genomics.execute(&anyone, &propagate).unwrap();
    let relayed = relay(&mut genomics, &mut trials, "channel-3", "channel-4");
    assert!(matches!(ack(&relayed[0]), StdAck::Success(_)));
    assert!(!is_attested(&trials, &a.commitment));
}
