//! Anchors: the custodian a patient designated for a dataset declares that it holds the record
//! behind a commitment. Anchors are kept per (commitment, custodian): another custodian's
//! anchor of the same commitment is recorded as evidence of a conflict but never blocks or
//! replaces this one; governance can remove a wrong anchor.

use cosmwasm_std::{Addr, Deps, DepsMut, Env, Event, HexBinary, MessageInfo, Order, Response};
use healthmesh_controllers::validate;
use healthmesh_types::attestation::{Anchor, AnchorConflict};
use healthmesh_types::consent::{CustodianResponse, QueryMsg as ConsentQuery, MAX_ATTRIBUTE_LEN};
use healthmesh_types::events;
use healthmesh_types::staking::{IsActiveAttesterResponse, QueryMsg as StakingQuery};

use crate::state::{ANCHORS, ANCHOR_CONFLICTS, CONFIG, CONFLICT_COUNT, PAUSE, SLASHED_ATTESTERS};
use crate::ContractError;

/// The attester is bonded at least `min_bond` on this chain's staking contract and was never
/// slashed (a slash tombstones it here).
pub fn assert_attester_in_standing(
    deps: Deps,
    chain_id: &str,
    attester: &Addr,
) -> Result<(), ContractError> {
    if SLASHED_ATTESTERS.has(deps.storage, (chain_id, attester.as_str())) {
        return Err(ContractError::AttesterSlashed(attester.to_string()));
    }
    let staking = CONFIG.load(deps.storage)?.staking;
    let res: IsActiveAttesterResponse = deps.querier.query_wasm_smart(
        staking,
        &StakingQuery::IsActiveAttester {
            address: attester.to_string(),
        },
    )?;
    if !res.active {
        return Err(ContractError::NotActiveAttester(attester.to_string()));
    }
    Ok(())
}

/// H-3: only the custodian the patient designated for the dataset may anchor its records.
fn assert_designated(
    deps: Deps,
    patient: &Addr,
    dataset: &HexBinary,
    sender: &Addr,
) -> Result<(), ContractError> {
    let consent = CONFIG.load(deps.storage)?.consent;
    let res: CustodianResponse = deps.querier.query_wasm_smart(
        consent,
        &ConsentQuery::Custodian {
            patient: patient.to_string(),
            dataset: dataset.clone(),
        },
    )?;
    if res.custodian.as_ref() != Some(sender) {
        return Err(ContractError::NotDesignatedCustodian {
            sender: sender.to_string(),
            dataset: dataset.to_hex(),
        });
    }
    Ok(())
}

pub fn anchor(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    commitment: HexBinary,
    attribute: String,
    dataset: HexBinary,
    patient: String,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    validate::commitment("commitment", &commitment)?;
    validate::commitment("dataset", &dataset)?;
    validate::identifier("attribute", &attribute, MAX_ATTRIBUTE_LEN)?;
    let patient = deps.api.addr_validate(&patient)?;
    assert_designated(deps.as_ref(), &patient, &dataset, &info.sender)?;
    assert_attester_in_standing(deps.as_ref(), &env.block.chain_id, &info.sender)?;
    let key = (commitment.as_slice(), info.sender.as_str());
    if ANCHORS.has(deps.storage, key) {
        return Err(ContractError::AlreadyAnchored(commitment.to_hex()));
    }
    let anchor = Anchor {
        commitment: commitment.clone(),
        attester: info.sender.clone(),
        attribute,
        dataset,
        patient,
        height: env.block.height,
        time: env.block.time,
    };
    let other = ANCHORS
        .prefix(&commitment)
        .range(deps.storage, None, None, Order::Ascending)
        .next()
        .transpose()?;
    ANCHORS.save(deps.storage, key, &anchor)?;
    let mut response = Response::new().add_attribute("action", "anchor").add_event(
        Event::new("commitment_anchored")
            .add_attribute("commitment", commitment.to_hex())
            .add_attribute("attester", &anchor.attester)
            .add_attribute("attribute", &anchor.attribute)
            .add_attribute("dataset", anchor.dataset.to_hex()),
    );
    if let Some((_, existing)) = other {
        let id = CONFLICT_COUNT.may_load(deps.storage)?.unwrap_or_default() + 1;
        CONFLICT_COUNT.save(deps.storage, &id)?;
        response = response.add_event(
            Event::new(events::ANCHOR_CONFLICT)
                .add_attribute("commitment", commitment.to_hex())
                .add_attribute("existing_attester", &existing.attester)
                .add_attribute("attempted_attester", &anchor.attester)
                .add_attribute("conflict_id", id.to_string()),
        );
        let conflict = AnchorConflict {
            existing,
            attempted: anchor,
        };
        ANCHOR_CONFLICTS.save(deps.storage, (&commitment, id), &conflict)?;
    }
    Ok(response)
}

/// Governance removes a wrong or disputed anchor; attestations already made over it keep
/// their own standing (consent, attester) and can be challenged by slashing the attester.
pub fn remove(
    deps: DepsMut,
    commitment: HexBinary,
    custodian: String,
) -> Result<Response, ContractError> {
    let key = (commitment.as_slice(), custodian.as_str());
    if !ANCHORS.has(deps.storage, key) {
        return Err(ContractError::NotAnchored {
            commitment: commitment.to_hex(),
            custodian,
        });
    }
    ANCHORS.remove(deps.storage, key);
    Ok(Response::new()
        .add_attribute("action", "remove_anchor")
        .add_event(
            Event::new("anchor_removed")
                .add_attribute("commitment", commitment.to_hex())
                .add_attribute("attester", custodian),
        ))
}
