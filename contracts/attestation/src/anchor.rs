//! Anchors: an active attester declares that it holds the record behind a commitment.
//! A second, different anchor of the same commitment is kept as evidence, not applied.

use cosmwasm_std::{Addr, Deps, DepsMut, Env, Event, HexBinary, MessageInfo, Response};
use healthmesh_types::attestation::{Anchor, AnchorConflict};
use healthmesh_types::consent::MAX_ATTRIBUTE_LEN;
use healthmesh_types::staking::{IsActiveAttesterResponse, QueryMsg as StakingQuery};
use healthmesh_types::validate;

use crate::state::{ANCHORS, ANCHOR_CONFLICTS, CONFIG, CONFLICT_COUNT, PAUSE};
use crate::ContractError;

pub fn assert_active_attester(deps: Deps, attester: &Addr) -> Result<(), ContractError> {
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
    assert_active_attester(deps.as_ref(), &info.sender)?;
    let attempted = Anchor {
        commitment: commitment.clone(),
        attester: info.sender,
        attribute,
        dataset,
        patient,
        height: env.block.height,
        time: env.block.time,
    };
    let Some(existing) = ANCHORS.may_load(deps.storage, &commitment)? else {
        ANCHORS.save(deps.storage, &commitment, &attempted)?;
        let event = Event::new("commitment_anchored")
            .add_attribute("commitment", commitment.to_hex())
            .add_attribute("attester", &attempted.attester)
            .add_attribute("attribute", &attempted.attribute)
            .add_attribute("dataset", attempted.dataset.to_hex());
        return Ok(Response::new()
            .add_attribute("action", "anchor")
            .add_event(event));
    };
    let same = existing.attester == attempted.attester
        && existing.attribute == attempted.attribute
        && existing.dataset == attempted.dataset
        && existing.patient == attempted.patient;
    if same {
        return Err(ContractError::AlreadyAnchored(commitment.to_hex()));
    }
    let id = CONFLICT_COUNT.may_load(deps.storage)?.unwrap_or_default() + 1;
    CONFLICT_COUNT.save(deps.storage, &id)?;
    let event = Event::new("anchor_conflict")
        .add_attribute("commitment", commitment.to_hex())
        .add_attribute("existing_attester", &existing.attester)
        .add_attribute("attempted_attester", &attempted.attester)
        .add_attribute("conflict_id", id.to_string());
    ANCHOR_CONFLICTS.save(
        deps.storage,
        (&commitment, id),
        &AnchorConflict {
            existing,
            attempted,
        },
    )?;
    Ok(Response::new()
        .add_attribute("action", "anchor_conflict")
        .add_event(event))
}
