use cosmwasm_std::Binary;
use cw_ownable::OwnershipStore;
use cw_storage_plus::{Index, IndexList, IndexedMap, Item, Map, MultiIndex};
use healthmesh_types::attestation::{
    Anchor, AnchorConflict, Attestation, ChannelInfo, ConfigResponse, Delivery, DeliveryStatus,
};
use healthmesh_types::pause::Pausable;

pub const CONTRACT_NAME: &str = "crates.io:healthmesh-attestation";
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

pub const CONFIG: Item<ConfigResponse> = Item::new("config");
pub const ADMIN: OwnershipStore = OwnershipStore::new("admin");
pub const PAUSE: Pausable = Pausable::new("pausers", "paused", "max_pause");

/// Verifying keys by circuit id (hex SHA-256 of the key encoding).
pub const VERIFYING_KEYS: Map<&str, Binary> = Map::new("verifying_keys");
pub const ANCHORS: Map<&[u8], Anchor> = Map::new("anchors");
pub const ANCHOR_CONFLICTS: Map<(&[u8], u64), AnchorConflict> = Map::new("anchor_conflicts");
pub const CONFLICT_COUNT: Item<u64> = Item::new("conflict_count");

pub struct AttestationIndexes<'a> {
    /// (context chain id, consent id): the consent the proof is bound to.
    pub consent: MultiIndex<'a, (String, String), Attestation, u64>,
    pub grantee: MultiIndex<'a, String, Attestation, u64>,
    pub commitment: MultiIndex<'a, Vec<u8>, Attestation, u64>,
}

impl IndexList<Attestation> for AttestationIndexes<'_> {
    fn get_indexes(&'_ self) -> Box<dyn Iterator<Item = &'_ dyn Index<Attestation>> + '_> {
        let v: Vec<&dyn Index<Attestation>> = vec![&self.consent, &self.grantee, &self.commitment];
        Box::new(v.into_iter())
    }
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
        },
    )
}

pub const ATTESTATION_COUNT: Item<u64> = Item::new("attestation_count");
/// Remote attestations by (source chain, id there): refuses replays.
pub const REMOTE_IDS: Map<(&str, u64), u64> = Map::new("remote_ids");
/// Delivery of a local attestation per destination channel.
pub const DELIVERIES: Map<(u64, &str), Delivery> = Map::new("deliveries");
/// Delivery of a consent's revocation per channel.
pub const REVOCATIONS: Map<(&str, &str), DeliveryStatus> = Map::new("revocations");
pub const CHANNELS: Map<&str, ChannelInfo> = Map::new("channels");
/// Trusted IBC connections and the chain id at their other end.
pub const ALLOWED_CONNECTIONS: Map<&str, String> = Map::new("allowed_connections");

pub fn next_attestation_id(
    storage: &mut dyn cosmwasm_std::Storage,
) -> cosmwasm_std::StdResult<u64> {
    let id = ATTESTATION_COUNT.may_load(storage)?.unwrap_or_default() + 1;
    ATTESTATION_COUNT.save(storage, &id)?;
    Ok(id)
}
