use cosmwasm_std::{Binary, Timestamp};
use cw_ownable::OwnershipStore;
use cw_storage_plus::{Index, IndexList, IndexedMap, Item, Map, MultiIndex};
use healthmesh_controllers::pause::Pausable;
use healthmesh_types::attestation::{
    AllowedConnection, Anchor, AnchorConflict, Attestation, ChannelInfo, ConfigResponse, Delivery,
    Lane, NoticeDelivery, Predicate, PredicatePolicy, RelayerFee,
};

pub const CONTRACT_NAME: &str = "crates.io:healthmesh-attestation";
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Storage layout 2: port-bound connections, tombstones, no patient in records, claim index. State of layout 1 (before the
/// security review) is not migrated in place.
pub const STATE_LAYOUT: u16 = 2;

pub const CONFIG: Item<ConfigResponse> = Item::new("config");
pub const ADMIN: OwnershipStore = OwnershipStore::new("admin");
pub const PAUSE: Pausable = Pausable::new("pausers", "paused", "max_pause");

/// Verifying keys by circuit id (hex SHA-256 of the key encoding).
pub const VERIFYING_KEYS: Map<&str, Binary> = Map::new("verifying_keys");
/// The same keys prepared for verification (`healthmesh_proofs::verifier::PairingKey`),
/// written when a key is added, so no verification decodes a G2 point in wasm.
pub const PAIRING_KEYS: Map<&str, Binary> = Map::new("pairing_keys");
/// Relayer fees escrowed for packets in flight, by fee id.
pub const RELAYER_FEES: Map<u64, RelayerFee> = Map::new("relayer_fees");
pub const FEE_COUNT: Item<u64> = Item::new("fee_count");
/// Anchors by (commitment, custodian): a custodian's anchor never blocks another's.
pub const ANCHORS: Map<(&[u8], &str), Anchor> = Map::new("anchors");
pub const ANCHOR_CONFLICTS: Map<(&[u8], u64), AnchorConflict> = Map::new("anchor_conflicts");
pub const CONFLICT_COUNT: Item<u64> = Item::new("conflict_count");

pub struct AttestationIndexes<'a> {
    /// (context chain id, consent id): the consent the proof is bound to.
    pub consent: MultiIndex<'a, (String, String), Attestation, u64>,
    pub grantee: MultiIndex<'a, String, Attestation, u64>,
    pub commitment: MultiIndex<'a, Vec<u8>, Attestation, u64>,
    /// (commitment, attribute, predicate): the records of one claim, for `is_attested`.
    pub claim: MultiIndex<'a, (Vec<u8>, String, String), Attestation, u64>,
}

impl IndexList<Attestation> for AttestationIndexes<'_> {
    fn get_indexes(&'_ self) -> Box<dyn Iterator<Item = &'_ dyn Index<Attestation>> + '_> {
        let v: Vec<&dyn Index<Attestation>> =
            vec![&self.consent, &self.grantee, &self.commitment, &self.claim];
        Box::new(v.into_iter())
    }
}

/// The claim index key: (commitment, attribute, `op:v1,v2,…`).
pub fn claim_key(
    commitment: &[u8],
    attribute: &str,
    predicate: &Predicate,
) -> (Vec<u8>, String, String) {
    let values: Vec<String> = predicate.values.iter().map(u64::to_string).collect();
    (
        commitment.to_vec(),
        attribute.into(),
        format!("{}:{}", predicate.op.name(), values.join(",")),
    )
}

pub fn attestations<'a>() -> IndexedMap<u64, Attestation, AttestationIndexes<'a>> {
    IndexedMap::new(
        "attestations",
        AttestationIndexes {
            consent: MultiIndex::new(
                |_, a| (a.context.chain_id.clone(), a.context.consent_id.clone()),
                "attestations",
                "attestations__consent",
            ),
            grantee: MultiIndex::new(
                |_, a| a.context.grantee.clone(),
                "attestations",
                "attestations__grantee",
            ),
            commitment: MultiIndex::new(
                |_, a| a.commitment.to_vec(),
                "attestations",
                "attestations__commitment",
            ),
            claim: MultiIndex::new(
                |_, a| claim_key(&a.commitment, &a.attribute, &a.predicate),
                "attestations",
                "attestations__claim",
            ),
        },
    )
}

pub const ATTESTATION_COUNT: Item<u64> = Item::new("attestation_count");
/// Statement digests already recorded locally: one record per (statement, consent).
pub const STATEMENTS: Map<&[u8], u64> = Map::new("statements");
/// Remote attestations by (counterparty chain, id there): refuses replays.
pub const REMOTE_IDS: Map<(&str, u64), u64> = Map::new("remote_ids");
/// Delivery of a local attestation per destination channel.
pub const DELIVERIES: Map<(u64, &str), Delivery> = Map::new("deliveries");
/// Counterparty chains sent an attestation under a consent: (consent id, chain id).
pub const SENT_UNDER_CONSENT: Map<(&str, &str), ()> = Map::new("sent_under_consent");
/// Tombstones of revoked consents by (source chain, consent id): complete revocation in O(1).
pub const REVOKED_CONSENTS: Map<(&str, &str), Timestamp> = Map::new("revoked_consents");
/// Tombstones of slashed attesters by (source chain, attester).
pub const SLASHED_ATTESTERS: Map<(&str, &str), Timestamp> = Map::new("slashed_attesters");
/// News of a revocation per (consent id, counterparty chain).
pub const REVOCATION_NOTICES: Map<(&str, &str), NoticeDelivery> = Map::new("revocations");
/// News of a slash per (attester, counterparty chain).
pub const SLASH_NOTICES: Map<(&str, &str), NoticeDelivery> = Map::new("slash_notices");
pub const CHANNELS: Map<&str, ChannelInfo> = Map::new("channels");
/// The one bulk-lane channel per counterparty chain.
pub const CHAIN_CHANNELS: Map<&str, String> = Map::new("chain_channels");
/// The one urgent-lane channel per counterparty chain.
pub const URGENT_CHAIN_CHANNELS: Map<&str, String> = Map::new("urgent_chain_channels");

/// The channel of each counterparty chain on `lane`.
pub fn lane_channels(lane: Lane) -> Map<&'static str, String> {
    match lane {
        Lane::Bulk => CHAIN_CHANNELS,
        Lane::Urgent => URGENT_CHAIN_CHANNELS,
    }
}
/// The one channel handshake in progress per counterparty chain (from OpenInit or OpenTry
/// until connect): every handshake message must be about it.
pub const HANDSHAKES: Map<&str, String> = Map::new("handshakes");
/// Trusted IBC connections, each bound to its counterparty chain and contract port.
pub const ALLOWED_CONNECTIONS: Map<&str, AllowedConnection> = Map::new("allowed_connections");
/// Predicate policies by attribute.
pub const POLICIES: Map<&str, PredicatePolicy> = Map::new("policies");
/// The narrowest range the attestations of (commitment, attribute) prove together.
pub const PROVEN_RANGES: Map<(&[u8], &str), (u64, u64)> = Map::new("proven_ranges");

/// Reserve `count` consecutive attestation ids; returns the first.
pub fn next_attestation_ids(
    storage: &mut dyn cosmwasm_std::Storage,
    count: u64,
) -> cosmwasm_std::StdResult<u64> {
    let last = ATTESTATION_COUNT.may_load(storage)?.unwrap_or_default();
    ATTESTATION_COUNT.save(storage, &(last + count))?;
    Ok(last + 1)
}
