#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, Event, MessageInfo, Response};
use healthmesh_controllers::channels::{allowed_response, disallowed_response};
use healthmesh_controllers::validate;
use healthmesh_types::events::{self, attr};
use healthmesh_types::trials::{
    ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg, TrialStatus, DEFAULT_PACKET_TIMEOUT_SECONDS,
    MAX_PACKET_TIMEOUT_SECONDS, MIN_PACKET_TIMEOUT_SECONDS,
};

use crate::milestones::{self, Claim};
use crate::state::{
    trials, ADMIN, ATTESTATION, BILLING, CONTRACT_NAME, CONTRACT_VERSION, PACKET_TIMEOUT, PAUSE,
    SITES, STATE_LAYOUT, TRIAL_COUNT,
};
use crate::{enrollment, queries, registry, ContractError};

const MAX_REASON_LEN: usize = 256;

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info).map_err(|_| ContractError::FundsNotAccepted)?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    healthmesh_controllers::migrate::set_state_layout(deps.storage, STATE_LAYOUT)?;
    let admin = ADMIN.initialize_owner(deps.storage, deps.api, Some(&msg.admin))?;
    PAUSE.init(deps.storage, deps.api, &msg.pausers, msg.max_pause_seconds)?;
    ATTESTATION.save(deps.storage, &deps.api.addr_validate(&msg.attestation)?)?;
    for allowed in &msg.billing_connections {
        BILLING.allow(deps.storage, allowed)?;
    }
    let timeout = msg
        .packet_timeout_seconds
        .unwrap_or(DEFAULT_PACKET_TIMEOUT_SECONDS);
    if !(MIN_PACKET_TIMEOUT_SECONDS..=MAX_PACKET_TIMEOUT_SECONDS).contains(&timeout) {
        return Err(ContractError::InvalidSetting(format!(
            "packet_timeout_seconds must be {MIN_PACKET_TIMEOUT_SECONDS} to {MAX_PACKET_TIMEOUT_SECONDS}"
        )));
    }
    PACKET_TIMEOUT.save(deps.storage, &timeout)?;
    for site in &msg.sites {
        SITES.save(
            deps.storage,
            &deps.api.addr_validate(site)?,
            &env.block.time,
        )?;
    }
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("admin", admin.owner.map(String::from).unwrap_or_default()))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info).map_err(|_| ContractError::FundsNotAccepted)?;
    match msg {
        ExecuteMsg::RegisterTrial(terms) => {
            PAUSE.assert_not_paused(deps.storage, &env.block)?;
            let id = TRIAL_COUNT.may_load(deps.storage)?.unwrap_or_default() + 1;
            let trial = registry::build(deps.storage, deps.api, &env, id, info.sender, terms)?;
            TRIAL_COUNT.save(deps.storage, &id)?;
            trials().save(deps.storage, id, &trial)?;
            let event = Event::new(events::TRIAL_REGISTERED)
                .add_attribute(attr::TRIAL_ID, id.to_string())
                .add_attribute("sponsor", &trial.sponsor)
                .add_attribute("protocol_hash", trial.protocol_hash.to_hex())
                .add_attribute("purpose", trial.purpose())
                .add_attribute("capacity", trial.capacity.to_string());
            let response = Response::new()
                .add_attribute("action", "register_trial")
                .set_data(to_json_binary(&id)?)
                .add_event(event);
            milestones::announce_at_registration(deps, &env, &trial, response)
        }
        ExecuteMsg::ClaimMilestone {
            trial_id,
            milestone,
            participant,
            attestation_id,
        } => {
            let claim = Claim {
                trial_id,
                milestone,
                participant,
                attestation_id,
            };
            milestones::claim(deps, env, info, claim)
        }
        ExecuteMsg::AnnounceBudget { trial_id } => {
            milestones::announce_budget(deps, env, info, trial_id)
        }
        ExecuteMsg::AllowBilling(allowed) => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            BILLING.allow(deps.storage, &allowed)?;
            Ok(allowed_response("allow_billing", allowed))
        }
        ExecuteMsg::DisallowBilling { connection_id } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            BILLING.disallow(deps.storage, &connection_id);
            Ok(disallowed_response("disallow_billing", connection_id))
        }
        ExecuteMsg::Enroll {
            trial_id,
            attestation_ids,
        } => enrollment::enroll(deps, env, info, trial_id, attestation_ids),
        ExecuteMsg::Withdraw { trial_id } => enrollment::withdraw(deps, env, info, trial_id),
        ExecuteMsg::ApproveSite { site } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            let site = deps.api.addr_validate(&site)?;
            SITES.save(deps.storage, &site, &env.block.time)?;
            Ok(site_response(events::SITE_APPROVED, &site))
        }
        ExecuteMsg::RevokeSite { site } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            let site = deps.api.addr_validate(&site)?;
            SITES.remove(deps.storage, &site);
            Ok(site_response(events::SITE_REVOKED, &site))
        }
        ExecuteMsg::SuspendTrial { trial_id, reason } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            validate::bounded_text("reason", &reason, MAX_REASON_LEN)?;
            let mut trial = load(deps.as_ref(), trial_id)?;
            if let TrialStatus::Suspended { .. } = trial.status {
                return Err(ContractError::AlreadySuspended(trial_id));
            }
            trial.status = TrialStatus::Suspended {
                at: env.block.time,
                reason: reason.clone(),
            };
            trials().save(deps.storage, trial_id, &trial)?;
            Ok(Response::new()
                .add_attribute("action", "suspend_trial")
                .add_event(
                    Event::new(events::TRIAL_SUSPENDED)
                        .add_attribute(attr::TRIAL_ID, trial_id.to_string())
                        .add_attribute("reason", reason),
                ))
        }
        ExecuteMsg::ResumeTrial { trial_id } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            let mut trial = load(deps.as_ref(), trial_id)?;
            if trial.status == TrialStatus::Active {
                return Err(ContractError::NotSuspended(trial_id));
            }
            trial.status = TrialStatus::Active;
            trials().save(deps.storage, trial_id, &trial)?;
            Ok(Response::new()
                .add_attribute("action", "resume_trial")
                .add_event(
                    Event::new(events::TRIAL_RESUMED)
                        .add_attribute(attr::TRIAL_ID, trial_id.to_string()),
                ))
        }
        ExecuteMsg::Pausable(msg) => {
            let is_admin = ADMIN.is_owner(deps.storage, &info.sender)?;
            Ok(PAUSE.execute(deps, &env, &info.sender, is_admin, msg)?)
        }
        ExecuteMsg::UpdateOwnership(action) => {
            let ownership = ADMIN.update_ownership(deps, &env.block, &info.sender, action)?;
            Ok(Response::new()
                .add_attribute("action", "update_ownership")
                .add_attributes(ownership.into_attributes()))
        }
    }
}

fn site_response(kind: &str, site: &cosmwasm_std::Addr) -> Response {
    Response::new()
        .add_attribute("action", kind)
        .add_event(Event::new(kind).add_attribute("site", site))
}

pub(crate) fn load(
    deps: Deps,
    trial_id: u64,
) -> Result<healthmesh_types::trials::Trial, ContractError> {
    trials()
        .may_load(deps.storage, trial_id)?
        .ok_or(ContractError::TrialNotFound(trial_id))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    queries::dispatch(deps, env, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    let response =
        healthmesh_controllers::migrate::migrate(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    healthmesh_controllers::migrate::require_state_layout(deps.storage, STATE_LAYOUT)?;
    Ok(response)
}
