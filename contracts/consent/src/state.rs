use cosmwasm_std::{Addr, StdResult, Storage};
use cw721::state::CollectionInfo;
use cw_ownable::OwnershipStore;
use cw_storage_plus::{Bound, Index, IndexList, IndexedMap, Item, Map, MultiIndex};
use healthmesh_controllers::channels::ChannelBindings;
use healthmesh_controllers::pause::Pausable;
use healthmesh_types::consent::{ConsentRecord, Offer};
use healthmesh_types::settle::SETTLE_CHANNEL_VERSION;

use crate::ContractError;

pub const CONTRACT_NAME: &str = "crates.io:healthmesh-consent";
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Storage layout 2: the (grantee, dataset, patient) index and custodian designations. State of layout 1 (before the
/// security review) is not migrated in place.
pub const STATE_LAYOUT: u16 = 2;

pub const COLLECTION: Item<CollectionInfo> = Item::new("collection");
/// The governance admin (cw721's "creator").
pub const ADMIN: OwnershipStore = OwnershipStore::new("admin");
pub const PAUSE: Pausable = Pausable::new("pausers", "paused", "max_pause");
/// Tokens are numbered 1, 2, …; records are never deleted, so this is also the supply.
pub const TOKEN_COUNT: Item<u64> = Item::new("token_count");
/// The custodian each patient designated for each of their datasets.
pub const CUSTODIANS: Map<(&Addr, &[u8]), Addr> = Map::new("custodians");

/// Offers are numbered 1, 2, …; withdrawn offers are kept.
pub const OFFER_COUNT: Item<u64> = Item::new("offer_count");
/// Most billing contracts (connections) trusted to sell offers.
pub const MAX_SETTLEMENT_CONNECTIONS: usize = 4;
/// The settlement channels to billing contracts.
pub const SETTLEMENT: ChannelBindings = ChannelBindings::new(
    [
        "settle_allowed",
        "settle_channels",
        "settle_by_chain",
        "settle_handshakes",
    ],
    SETTLE_CHANNEL_VERSION,
    MAX_SETTLEMENT_CONNECTIONS,
);
/// Purchases already served, by (billing contract port, purchase id): the token minted.
pub const PURCHASES: Map<(&str, u64), String> = Map::new("purchases");

pub struct OfferIndexes<'a> {
    pub patient: MultiIndex<'a, Addr, Offer, u64>,
}

impl IndexList<Offer> for OfferIndexes<'_> {
    fn get_indexes(&'_ self) -> Box<dyn Iterator<Item = &'_ dyn Index<Offer>> + '_> {
        let v: Vec<&dyn Index<Offer>> = vec![&self.patient];
        Box::new(v.into_iter())
    }
}

pub fn offers<'a>() -> IndexedMap<u64, Offer, OfferIndexes<'a>> {
    let indexes = OfferIndexes {
        patient: MultiIndex::new(|_, o| o.patient.clone(), "offers", "offers__patient"),
    };
    IndexedMap::new("offers", indexes)
}

/// Secondary indexes of the consent records, so every list query is a bounded range scan.
pub struct ConsentIndexes<'a> {
    pub patient: MultiIndex<'a, Addr, ConsentRecord, u64>,
    pub grantee: MultiIndex<'a, Addr, ConsentRecord, u64>,
    pub dataset: MultiIndex<'a, Vec<u8>, ConsentRecord, u64>,
    pub grantee_dataset: MultiIndex<'a, (Addr, Vec<u8>), ConsentRecord, u64>,
    /// One patient's grants to one grantee on one dataset: a check naming the patient scans
    /// only those, so other patients' grants cannot push the deciding one out of the scan.
    pub grantee_dataset_patient: MultiIndex<'a, (Addr, Vec<u8>, Addr), ConsentRecord, u64>,
}

impl IndexList<ConsentRecord> for ConsentIndexes<'_> {
    fn get_indexes(&'_ self) -> Box<dyn Iterator<Item = &'_ dyn Index<ConsentRecord>> + '_> {
        let v: Vec<&dyn Index<ConsentRecord>> = vec![
            &self.patient,
            &self.grantee,
            &self.dataset,
            &self.grantee_dataset,
            &self.grantee_dataset_patient,
        ];
        Box::new(v.into_iter())
    }
}

pub fn consents<'a>() -> IndexedMap<u64, ConsentRecord, ConsentIndexes<'a>> {
    let indexes = ConsentIndexes {
        patient: MultiIndex::new(|_, c| c.patient.clone(), "consents", "consents__patient"),
        grantee: MultiIndex::new(|_, c| c.grantee.clone(), "consents", "consents__grantee"),
        dataset: MultiIndex::new(|_, c| c.dataset.to_vec(), "consents", "consents__dataset"),
        grantee_dataset: MultiIndex::new(
            |_, c| (c.grantee.clone(), c.dataset.to_vec()),
            "consents",
            "consents__grantee_dataset",
        ),
        grantee_dataset_patient: MultiIndex::new(
            |_, c| (c.grantee.clone(), c.dataset.to_vec(), c.patient.clone()),
            "consents",
            "consents__grantee_dataset_patient",
        ),
    };
    IndexedMap::new("consents", indexes)
}

/// Parse a cw721 token id ("17") into the storage key.
pub fn parse_token_id(token_id: &str) -> Result<u64, ContractError> {
    // Only canonical decimal: "017" or "+17" would alias token 17.
    match token_id.parse::<u64>() {
        Ok(id) if id.to_string() == token_id => Ok(id),
        _ => Err(ContractError::InvalidTokenId(token_id.to_string())),
    }
}

/// The storage key and record of a token, or `ConsentNotFound`.
pub fn load_consent(
    storage: &dyn Storage,
    token_id: &str,
) -> Result<(u64, ConsentRecord), ContractError> {
    let id = parse_token_id(token_id)?;
    let record = consents()
        .may_load(storage, id)?
        .ok_or_else(|| ContractError::ConsentNotFound(token_id.to_string()))?;
    Ok((id, record))
}

pub fn next_token_id(storage: &mut dyn Storage) -> StdResult<u64> {
    let id = TOKEN_COUNT.may_load(storage)?.unwrap_or_default() + 1;
    TOKEN_COUNT.save(storage, &id)?;
    Ok(id)
}

/// The exclusive lower bound of a page, from the caller's `start_after` token id.
pub fn start_bound(
    start_after: Option<String>,
) -> Result<Option<Bound<'static, u64>>, ContractError> {
    Ok(start_after
        .map(|id| parse_token_id(&id))
        .transpose()?
        .map(Bound::exclusive))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ids_are_canonical_decimals() {
        assert_eq!(parse_token_id("17"), Ok(17));
        assert_eq!(parse_token_id("0"), Ok(0));
        for bad in ["017", "+17", "-1", "", "1e3", "18446744073709551616", " 1"] {
            assert_eq!(
                parse_token_id(bad),
                Err(ContractError::InvalidTokenId(bad.into()))
            );
        }
    }
}
