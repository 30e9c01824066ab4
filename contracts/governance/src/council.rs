//! The security council: a fixed member set with its own threshold (e.g. 8 of 12) that can
//! pause and unpause HealthMesh contracts at once and veto a proposal in its timelock.
//!
//! Each council change (by proposal) starts a new epoch; an action belongs to the epoch it
//! was proposed in and can only be approved while that council is in office, so approvals
//! of removed members never count. The council cannot veto a proposal that changes it.

use cosmwasm_std::{
    to_json_binary, Addr, Api, DepsMut, Env, Event, MessageInfo, Response, WasmMsg,
};
use healthmesh_types::events;
use healthmesh_types::governance::{
    CouncilAction, CouncilActionInfo, Proposal, Status, COUNCIL_ACTION_TTL,
};
use healthmesh_types::pause::{PausableExecuteMsg, PauseMsg};

use crate::inspect::changes_council;
use crate::network::council_network_pause;
use crate::proposal::load_current;
use crate::state::{Council, CONFIG, COUNCIL, COUNCIL_ACTIONS, COUNCIL_ACTION_COUNT, PROPOSALS};
use crate::ContractError;

fn assert_member(deps: &DepsMut, info: &MessageInfo) -> Result<Council, ContractError> {
    let council = COUNCIL.load(deps.storage)?;
    if !council.members.contains(&info.sender) {
        return Err(ContractError::NotCouncilMember(info.sender.to_string()));
    }
    Ok(council)
}

/// The council may veto any proposal but one that changes the council: it cannot keep
/// itself in office.
fn assert_vetoable(api: &dyn Api, dao: &Addr, proposal: &Proposal) -> Result<(), ContractError> {
    if changes_council(api, dao, &proposal.msgs) {
        return Err(ContractError::CouncilChangeNotVetoable(proposal.id));
    }
    Ok(())
}

pub fn propose(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    action: CouncilAction,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let council = assert_member(&deps, &info)?;
    match &action {
        CouncilAction::Pause { contract, reason } => {
            deps.api.addr_validate(contract)?;
            healthmesh_controllers::validate::bounded_text(
                "reason",
                reason,
                healthmesh_controllers::pause::MAX_REASON_LEN,
            )?;
        }
        CouncilAction::Unpause { contract } => {
            deps.api.addr_validate(contract)?;
        }
        CouncilAction::NetworkPause { reason } => {
            healthmesh_controllers::validate::bounded_text(
                "reason",
                reason,
                healthmesh_controllers::pause::MAX_REASON_LEN,
            )?;
        }
        CouncilAction::NetworkUnpause {} => {}
        CouncilAction::Veto { proposal_id } => {
            let proposal = crate::proposal::load(deps.storage, *proposal_id)?;
            assert_vetoable(deps.api, &env.contract.address, &proposal)?;
        }
    }
    let id = COUNCIL_ACTION_COUNT
        .may_load(deps.storage)?
        .unwrap_or_default()
        + 1;
    COUNCIL_ACTION_COUNT.save(deps.storage, &id)?;
    let record = CouncilActionInfo {
        id,
        action,
        approvals: vec![info.sender.clone()],
        epoch: council.epoch,
        expires: env.block.time.plus_seconds(COUNCIL_ACTION_TTL),
        executed: false,
    };
    let response = Response::new()
        .add_attribute("action", "council_propose")
        .add_event(
            Event::new(events::COUNCIL_ACTION_PROPOSED)
                .add_attribute("action_id", id.to_string())
                .add_attribute("by", &info.sender),
        );
    finish(deps, env, record, council.threshold, response)
}

pub fn approve(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let council = assert_member(&deps, &info)?;
    let mut record = COUNCIL_ACTIONS
        .may_load(deps.storage, id)?
        .ok_or(ContractError::CouncilActionNotFound(id))?;
    if record.executed {
        return Err(ContractError::CouncilActionDone(id));
    }
    if record.epoch != council.epoch {
        return Err(ContractError::CouncilActionStale {
            id,
            epoch: record.epoch,
            current: council.epoch,
        });
    }
    if env.block.time >= record.expires {
        return Err(ContractError::CouncilActionExpired(id));
    }
    if record.approvals.contains(&info.sender) {
        return Err(ContractError::AlreadyApproved(
            info.sender.into_string(),
            id,
        ));
    }
    record.approvals.push(info.sender.clone());
    let response = Response::new()
        .add_attribute("action", "council_approve")
        .add_event(
            Event::new(events::COUNCIL_ACTION_APPROVED)
                .add_attribute("action_id", id.to_string())
                .add_attribute("by", &info.sender)
                .add_attribute("approvals", record.approvals.len().to_string()),
        );
    finish(deps, env, record, council.threshold, response)
}

/// Store the action, and run it once it has enough approvals.
fn finish(
    deps: DepsMut,
    env: Env,
    mut record: CouncilActionInfo,
    threshold: u32,
    response: Response,
) -> Result<Response, ContractError> {
    if (record.approvals.len() as u32) < threshold {
        COUNCIL_ACTIONS.save(deps.storage, record.id, &record)?;
        return Ok(response);
    }
    record.executed = true;
    COUNCIL_ACTIONS.save(deps.storage, record.id, &record)?;
    let event = Event::new(events::COUNCIL_ACTION_EXECUTED)
        .add_attribute("action_id", record.id.to_string());
    let pausable = |contract: &String, msg: PauseMsg| -> Result<WasmMsg, ContractError> {
        Ok(WasmMsg::Execute {
            contract_addr: contract.clone(),
            msg: to_json_binary(&PausableExecuteMsg::Pausable(msg))?,
            funds: vec![],
        })
    };
    match &record.action {
        CouncilAction::Pause { contract, reason } => Ok(response
            .add_message(pausable(
                contract,
                PauseMsg::Pause {
                    reason: reason.clone(),
                },
            )?)
            .add_event(event.add_attribute("pause", contract))),
        CouncilAction::Unpause { contract } => Ok(response
            .add_message(pausable(contract, PauseMsg::Unpause {})?)
            .add_event(event.add_attribute("unpause", contract))),
        CouncilAction::NetworkPause { reason } => {
            let network = council_network_pause(deps, &env, record.id, true, reason)?;
            Ok(merge(response, network).add_event(event.add_attribute("network_pause", "true")))
        }
        CouncilAction::NetworkUnpause {} => {
            let network = council_network_pause(deps, &env, record.id, false, "")?;
            Ok(merge(response, network).add_event(event.add_attribute("network_unpause", "true")))
        }
        CouncilAction::Veto { proposal_id } => {
            let config = CONFIG.load(deps.storage)?;
            let mut proposal = load_current(deps.storage, &config, &env.block, *proposal_id)?;
            assert_vetoable(deps.api, &env.contract.address, &proposal)?;
            let in_timelock = proposal.status == Status::Passed
                && proposal.executable_at.is_some_and(|t| env.block.time < t);
            if !in_timelock {
                return Err(ContractError::NotInTimelock(*proposal_id));
            }
            proposal.status = Status::Vetoed;
            PROPOSALS.save(deps.storage, *proposal_id, &proposal)?;
            Ok(response.add_event(event.add_attribute("veto", proposal_id.to_string())))
        }
    }
}

/// `response` with the messages and events of `more` appended.
fn merge(response: Response, more: Response) -> Response {
    response
        .add_submessages(more.messages)
        .add_events(more.events)
        .add_attributes(more.attributes)
}
