//! Steps 1–2: on genomics-1 the patient designates the custodian and grants consent (hmesh),
//! the custodian anchors a commitment, the researcher submits a Groth16 proof of
//! `hba1c < 7.0` and sends the attestation over IBC; Hermes relays it and trials-1 re-verifies
//! and records it. Also the attestation primitives the burst step reuses.

use std::time::Duration;

use anyhow::{Context, Result};
use cosmwasm_std::{Binary, HexBinary};
use healthmesh_client::deployment::contract;
use healthmesh_client::TxOutcome;
use healthmesh_proofs::keys::ProvingKey;
use healthmesh_proofs::prover::{prove, Opening};
use healthmesh_proofs::statement::{
    commit, salt_from_wide_bytes, subject_key, AttributeCode, Context as ProofContext, Operator,
    Predicate, Statement,
};
use healthmesh_types::attestation::{
    Attestation, AttestationSubmission, AttestationsResponse, DeliveriesResponse, Delivery,
    ExecuteMsg, Origin, QueryMsg,
};
use healthmesh_types::events;

use super::{PURPOSE, REMOTE, SOURCE};
use crate::evidence::Evidence;
use crate::net::{wait_for, Net};

/// Synthetic HbA1c values in ten-thousandths of a percent (6.4137 % …): distinctive numbers, so
/// finding one on chain would mean the value leaked.
const BASE_VALUE: u64 = 64_137;
const THRESHOLD: u64 = 70_000;
/// The relayer fee attached to every send of the run (ustake), paid to Hermes' key that
/// delivered the packet.
pub const RELAYER_FEE: u128 = 1_000;

/// The localnet's proving key and the circuit id the chains trust.
pub struct Prover {
    pk: ProvingKey,
    circuit_id: String,
}

impl Prover {
    pub fn load(net: &Net) -> Result<Self> {
        let path = net.root.join(".localnet/proof-keys/predicate.pk");
        let pk = ProvingKey::from_bytes(
            &std::fs::read(&path).with_context(|| format!("{}", path.display()))?,
        )?;
        let circuit_id = net
            .deployment
            .circuit_id
            .clone()
            .context("the deployment names no circuit_id")?;
        Ok(Prover { pk, circuit_id })
    }

    pub fn circuit_id(&self) -> &str {
        &self.circuit_id
    }

    /// A Groth16 proof of `statement` from `opening`, as bytes.
    pub fn prove(&self, statement: &Statement, opening: &Opening) -> Result<Binary> {
        let proof = prove(&self.pk, statement, opening, &mut rand::rng())?;
        Ok(Binary::from(proof.to_vec()))
    }
}

/// What one granted consent covers.
pub struct Grant {
    pub dataset: String,
    pub token: String,
    /// The grantee's key name: the account that proves, submits and sends under it.
    pub grantee: String,
}

pub fn random_hex() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Through hmesh: the patient names the custodian holding a fresh dataset, then grants the
/// researcher consent to it.
pub fn grant(net: &Net, ev: &mut Evidence) -> Result<Grant> {
    grant_to(net, ev, "researcher")
}

/// On genomics-1, `patient` designates the localnet's custodian for a fresh (random) dataset
/// commitment: the dataset and the transaction.
pub fn designate_custodian(net: &Net, patient: &str) -> Result<(String, TxOutcome)> {
    let dataset = random_hex();
    let designate = [
        "consent",
        "designate-custodian",
        "--dataset",
        &dataset,
        "--custodian",
        "custodian",
    ];
    let tx = net.hmesh_tx(SOURCE, patient, &designate)?;
    Ok((dataset, tx))
}

/// [`grant`] to the key `grantee`.
pub fn grant_to(net: &Net, ev: &mut Evidence, grantee: &str) -> Result<Grant> {
    let grantee_address = net.account(SOURCE, grantee)?;
    let (dataset, tx) = designate_custodian(net, &net.patient)?;
    ev.measure("designate_custodian (hmesh)", &tx);
    let grant = [
        "consent",
        "grant",
        "--grantee",
        &grantee_address,
        "--dataset",
        &dataset,
        "--purpose",
        PURPOSE,
        "--scope",
        "hba1c",
    ];
    let tx = net.hmesh_tx(SOURCE, &net.patient, &grant)?;
    ev.measure("grant_consent (hmesh)", &tx);
    let token = tx
        .attr(events::tx::CONSENT_GRANTED, events::attr::TOKEN_ID)
        .context("token id")?;
    Ok(Grant {
        dataset,
        token,
        grantee: grantee.into(),
    })
}

/// A fresh commitment to `BASE_VALUE + i`: its anchor and a proof of `hba1c < 7.0` under
/// `grant`, ready to submit.
pub struct Prepared {
    pub anchor: ExecuteMsg,
    pub submission: AttestationSubmission,
}

pub fn prepare(
    net: &Net,
    prover: &Prover,
    ev: &mut Evidence,
    grant: &Grant,
    i: u64,
) -> Result<Prepared> {
    let patient = net.account(SOURCE, &net.patient)?;
    let value = BASE_VALUE + i;
    let mut wide = [0u8; 64];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut wide);
    let opening = Opening {
        value,
        salt: salt_from_wide_bytes(&wide),
        subject: subject_key(&patient),
    };
    ev.secrets.push(value.to_string());
    ev.secrets.push(hex::encode(opening.salt.to_bytes()));
    let attribute = AttributeCode::new("hba1c")?;
    let commitment = commit(&attribute, value, &opening.salt, &opening.subject);
    let anchor = ExecuteMsg::Anchor {
        commitment: HexBinary::from(commitment.to_vec()),
        attribute: "hba1c".into(),
        dataset: HexBinary::from_hex(&grant.dataset)?,
        patient,
    };
    ev.see(&anchor);
    let statement = Statement {
        attribute,
        predicate: Predicate::new(Operator::Lt, vec![THRESHOLD])?,
        commitment,
        context: ProofContext {
            chain_id: SOURCE.into(),
            consent_contract: net.contract(SOURCE, contract::CONSENT)?,
            consent_id: grant.token.clone(),
            grantee: net.account(SOURCE, &grant.grantee)?,
        },
    };
    let proof = prove(&prover.pk, &statement, &opening, &mut rand::rng())?;
    let submission = AttestationSubmission {
        attribute: "hba1c".into(),
        predicate: statement.predicate.clone(),
        commitment: HexBinary::from(commitment.to_vec()),
        consent_token_id: grant.token.clone(),
        proof: Binary::from(proof.to_vec()),
        expires_at: None,
    };
    ev.see(&submission);
    Ok(Prepared { anchor, submission })
}

/// Anchors a fresh commitment and submits one proof (`submit_attestation`); returns the
/// attestation id; the gas of both txs is measured.
pub fn attest(net: &Net, prover: &Prover, ev: &mut Evidence, grant: &Grant, i: u64) -> Result<u64> {
    let Prepared { anchor, submission } = prepare(net, prover, ev, grant, i)?;
    let tx = net.execute(SOURCE, "custodian", contract::ATTESTATION, &anchor)?;
    ev.measure("anchor", &tx);
    let submit = ExecuteMsg::SubmitAttestation {
        circuit_id: prover.circuit_id.clone(),
        attribute: submission.attribute,
        predicate: submission.predicate,
        commitment: submission.commitment,
        consent_token_id: submission.consent_token_id,
        proof: submission.proof,
        expires_at: None,
    };
    let tx = net.execute(SOURCE, "researcher", contract::ATTESTATION, &submit)?;
    ev.measure("submit_attestation (one proof, verified on chain)", &tx);
    let id = tx
        .attr(
            events::tx::ATTESTATION_RECORDED,
            events::attr::ATTESTATION_ID,
        )
        .context("attestation id")?;
    Ok(id.parse()?)
}

/// The ids of every attestation a transaction recorded, in order.
pub fn recorded_ids(tx: &TxOutcome) -> Result<Vec<u64>> {
    tx.events
        .iter()
        .filter(|e| e.kind == events::tx::ATTESTATION_RECORDED)
        .filter_map(|e| {
            e.attributes
                .iter()
                .find(|a| a.key == events::attr::ATTESTATION_ID)
        })
        .map(|a| Ok(a.value.parse()?))
        .collect()
}

/// Sends an attestation over IBC to `to` with a relayer fee; returns the send's tx.
pub fn send(net: &Net, ev: &mut Evidence, id: u64, to: &str, timeout: u64) -> Result<TxOutcome> {
    let msg = ExecuteMsg::SendAttestation {
        attestation_id: id,
        channel_id: net.channel(SOURCE, to)?,
        timeout_seconds: Some(timeout),
    };
    ev.see(&msg);
    let tx = net.execute_all(
        SOURCE,
        "researcher",
        contract::ATTESTATION,
        &[msg],
        RELAYER_FEE,
    )?;
    ev.measure("send_attestation (with relayer fee)", &tx);
    Ok(tx)
}

/// One batch packet of `ids` to trials-1 on the bulk lane, with a relayer fee.
pub fn send_batch(net: &Net, ev: &mut Evidence, ids: &[u64]) -> Result<TxOutcome> {
    let msg = ExecuteMsg::SendAttestations {
        attestation_ids: ids.to_vec(),
        channel_id: net.channel(SOURCE, REMOTE)?,
        timeout_seconds: Some(600),
    };
    ev.see(&msg);
    net.execute_all(
        SOURCE,
        "researcher",
        contract::ATTESTATION,
        &[msg],
        RELAYER_FEE,
    )
}

/// Every attestation `chain` holds under the source chain's consent `token`, page by page.
pub fn attestations_under(net: &Net, chain: &str, token: &str) -> Result<Vec<Attestation>> {
    let mut all: Vec<Attestation> = vec![];
    loop {
        let q = QueryMsg::AttestationsByConsent {
            source_chain: SOURCE.into(),
            consent_id: token.into(),
            start_after: all.last().map(|a| a.id),
            limit: Some(30),
        };
        let page: AttestationsResponse = net.query(chain, contract::ATTESTATION, &q)?;
        if page.attestations.is_empty() {
            return Ok(all);
        }
        all.extend(page.attestations);
    }
}

/// The source's record of an attestation's deliveries.
pub fn deliveries(net: &Net, id: u64) -> Result<Vec<Delivery>> {
    let q = QueryMsg::Deliveries {
        attestation_id: id,
        start_after: None,
        limit: None,
    };
    let answer: DeliveriesResponse = net.query(SOURCE, contract::ATTESTATION, &q)?;
    Ok(answer.deliveries)
}

/// The attestations under `token` that the remote chain holds, as (source id, height received).
pub fn remote_records(net: &Net, token: &str) -> Result<Vec<(u64, u64)>> {
    Ok(attestations_under(net, REMOTE, token)?
        .iter()
        .filter_map(|a| match &a.origin {
            Origin::Remote { source_id, .. } => Some((*source_id, a.height)),
            Origin::Local { .. } => None,
        })
        .collect())
}

/// Waits until every sent attestation is recorded remotely; returns each one's latency in
/// seconds from its send's block to its receive's block (both chains' block times).
pub fn wait_remote(net: &Net, token: &str, sent: &[(u64, u64)]) -> Result<Vec<f64>> {
    let received = wait_for(
        "the attestations on the remote chain",
        Duration::from_secs(300),
        || {
            let have = remote_records(net, token)?;
            Ok(sent
                .iter()
                .all(|(id, _)| have.iter().any(|(r, _)| r == id))
                .then_some(have))
        },
    )?;
    sent.iter()
        .map(|(id, send_height)| {
            let (_, recv_height) = received.iter().find(|(r, _)| r == id).expect("waited for");
            Ok(net.block_time(REMOTE, *recv_height)? - net.block_time(SOURCE, *send_height)?)
        })
        .collect()
}

pub fn run(net: &Net, prover: &Prover, ev: &mut Evidence) -> Result<Grant> {
    println!("== 1-2. attest on {SOURCE}, relay to {REMOTE}");
    let grant = grant(net, ev)?;
    let id = attest(net, prover, ev, &grant, 0)?;
    let height = send(net, ev, id, REMOTE, 600)?.height;
    let latency = wait_remote(net, &grant.token, &[(id, height)])?[0];
    let key = format!(
        "{}.{}",
        events::tx::ATTESTATION_RECEIVED,
        events::attr::CONSENT_ID
    );
    let receives = net.search_txs(REMOTE, &key, &grant.token)?;
    let receive = receives.last().context("the relayed receive tx")?;
    ev.measure("remote receive + re-verify (Hermes tx)", receive);
    println!("   attestation {id} verified on {SOURCE}, re-verified and recorded on {REMOTE} {latency:.1} s (block time) after its send");
    Ok(grant)
}
