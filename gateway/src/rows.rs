//! The rows the gateway derives from the chains' events: what the index holds in memory and
//! the store keeps on disk.

use serde::{Deserialize, Serialize};

/// One attestation as recorded on `chain_id` (locally verified or received over IBC).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttestationRow {
    pub chain_id: String,
    pub id: u64,
    /// The proof's context: chain the consent lives on, consent token, grantee.
    pub source_chain: String,
    pub consent_id: String,
    pub grantee: String,
    /// The consent contract the proof is bound to (part of its context).
    #[serde(default)]
    pub consent_contract: String,
    pub source_id: u64,
    pub channel_id: String,
    pub sequence: u64,
    pub relayer: String,
    pub circuit_id: String,
    pub attribute: String,
    pub op: String,
    pub values: Vec<u64>,
    pub commitment: String,
    pub attester: String,
    pub proof: Vec<u8>,
    pub recorded_at: u64,
    pub expires_at: Option<u64>,
    pub revoked: bool,
    pub height: u64,
    pub tx_hash: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub enum Expiry {
    Never,
    AtHeight(u64),
    AtTime(u64),
}

/// A consent token as granted on `chain_id`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConsentRow {
    pub chain_id: String,
    pub token_id: String,
    /// The patient who granted it (pseudonymous address): the unit cohorts count.
    pub patient: String,
    pub grantee: String,
    pub purpose: String,
    pub scope: Vec<String>,
    pub expires: Expiry,
    pub revoked: bool,
}

/// What one block changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Attestation(Box<AttestationRow>),
    Consent(ConsentRow),
    RevokeConsent {
        chain_id: String,
        token_id: String,
    },
    /// Attestations on `chain_id` made under consent (`source_chain`, `consent_id`).
    RevokeAttestations {
        chain_id: String,
        source_chain: String,
        consent_id: String,
    },
    /// Attestations on `chain_id` anchored by `attester` of `source_chain` (slashed).
    RevokeAttester {
        chain_id: String,
        source_chain: String,
        attester: String,
    },
    Staking {
        chain_id: String,
        address: String,
        event: String,
        height: u64,
    },
}
