#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    to_json_binary, Addr, Binary, Decimal, Deps, DepsMut, Env, Isqrt, MessageInfo, Reply, Response,
    StdError, StdResult, Storage, SubMsg, SubMsgResult, Uint128, WasmMsg,
};
use healthmesh_types::governance::{
    CouncilConfig, ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg, StoredVotingSource,
    VotingRule, VotingSource, MAX_COUNCIL,
};

use crate::state::{
    Config, Council, CONFIG, CONTRACT_NAME, CONTRACT_VERSION, COUNCIL, MEMBERS, MEMBERS_SQRT_TOTAL,
    MEMBERS_TOTAL,
};
use crate::state::{EXECUTING, GOV_CHANNELS};
use crate::voting::{check_reachable, validate_threshold};
use crate::{council, membership, network, proposal, queries, slashing, ContractError};
use healthmesh_types::ibc::AllowedConnection;

/// Reply id of the staking contract's instantiation; proposal ids start at 1.
const STAKING_REPLY_ID: u64 = 0;

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    mut deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    validate_threshold(&msg.threshold)?;
    if msg.voting_period == 0 {
        return Err(ContractError::InvalidConfig(
            "voting period must be positive".into(),
        ));
    }
    let veto_threshold = msg
        .veto_threshold
        .unwrap_or(Decimal::from_ratio(1u128, 3u128));
    if veto_threshold.is_zero() || veto_threshold > Decimal::one() {
        return Err(ContractError::InvalidConfig(
            "veto threshold must be in (0, 1]".into(),
        ));
    }
    if let Some(deposit) = &msg.deposit {
        if deposit.amount.amount.is_zero() {
            return Err(ContractError::InvalidConfig(
                "deposit must be positive".into(),
            ));
        }
    }
    let council = council_from(deps.as_ref(), msg.council, 0)?;
    COUNCIL.save(deps.storage, &council)?;

    let (voting_period, timelock) = (msg.voting_period, msg.timelock);
    let mut response = Response::new().add_attribute("action", "instantiate");
    let voting = match msg.voting {
        VotingSource::Members { members } => {
            let mut total = Uint128::zero();
            for member in members {
                let addr = deps.api.addr_validate(&member.addr)?;
                MEMBERS.save(deps.storage, &addr, &Uint128::from(member.weight))?;
                total += Uint128::from(member.weight);
            }
            if total.is_zero() {
                return Err(ContractError::InvalidConfig(
                    "members need positive total weight".into(),
                ));
            }
            MEMBERS_TOTAL.save(deps.storage, &total)?;
            save_members_sqrt_total(deps.storage)?;
            StoredVotingSource::Members {}
        }
        VotingSource::Staking { contract } => {
            let contract = deps.api.addr_validate(&contract)?;
            slashing::check_contract(deps.as_ref(), &contract, voting_period, timelock)?;
            StoredVotingSource::Staking { contract }
        }
        VotingSource::InstantiateStaking {
            code_id,
            mut msg,
            label,
        } => {
            slashing::check_window(msg.slashing_window, voting_period, timelock)?;
            // This DAO administers the staking contract it creates (slashing, parameters).
            msg.admin = env.contract.address.to_string();
            let instantiate = WasmMsg::Instantiate {
                admin: Some(env.contract.address.to_string()),
                code_id,
                msg: to_json_binary(&msg)?,
                funds: vec![],
                label,
            };
            response =
                response.add_submessage(SubMsg::reply_on_success(instantiate, STAKING_REPLY_ID));
            // Replaced by the new address in `reply`.
            StoredVotingSource::Staking {
                contract: env.contract.address.clone(),
            }
        }
    };
    CONFIG.save(
        deps.storage,
        &Config {
            voting,
            threshold: msg.threshold,
            voting_period: msg.voting_period,
            timelock: msg.timelock,
            allow_revote: msg.allow_revote,
            veto_threshold,
            deposit: msg.deposit,
            voting_rule: msg.voting_rule,
        },
    )?;
    crate::network::init(deps.branch(), msg.network)?;
    for member in &msg.initial_members {
        membership::issue(deps.branch(), &env, member)?;
    }
    if msg.voting_rule == VotingRule::Membership && msg.initial_members.is_empty() {
        return Err(ContractError::InvalidConfig(
            "membership voting needs initial_members: someone must be able to propose".into(),
        ));
    }
    Ok(response)
}

/// The council of `epoch` (0 at instantiate, one more at every change).
fn council_from(deps: Deps, council: CouncilConfig, epoch: u64) -> Result<Council, ContractError> {
    let mut members: Vec<Addr> = Vec::with_capacity(council.members.len());
    for m in &council.members {
        let addr = deps.api.addr_validate(m)?;
        if members.contains(&addr) {
            return Err(ContractError::InvalidConfig(format!(
                "council member {m} listed twice"
            )));
        }
        members.push(addr);
    }
    if members.len() > MAX_COUNCIL
        || council.threshold == 0
        || council.threshold as usize > members.len()
    {
        return Err(ContractError::InvalidConfig(format!(
            "council threshold {} of {} members is not satisfiable (at most {MAX_COUNCIL} members)",
            council.threshold,
            members.len()
        )));
    }
    Ok(Council {
        members,
        threshold: council.threshold,
        epoch,
    })
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::Propose {
            title,
            description,
            msgs,
        } => proposal::propose(deps, env, info, title, description, msgs),
        ExecuteMsg::Vote { proposal_id, vote } => {
            proposal::vote(deps, env, info, proposal_id, vote)
        }
        ExecuteMsg::Execute { proposal_id } => proposal::execute(deps, env, info, proposal_id),
        ExecuteMsg::Close { proposal_id } => proposal::close(deps, env, info, proposal_id),
        ExecuteMsg::CouncilPropose { action } => council::propose(deps, env, info, action),
        ExecuteMsg::CouncilApprove { action_id } => council::approve(deps, env, info, action_id),
        ExecuteMsg::ExecuteProposalMsgs { proposal_id } => {
            proposal::execute_msgs(deps, env, &info.sender, proposal_id)
        }
        ExecuteMsg::SendRemote { chain_id, msgs } => {
            network::send_remote(deps, &env, &info, chain_id, msgs)
        }
        ExecuteMsg::NetworkPropose {
            title,
            description,
            msgs,
        } => network::network_propose(deps, env, info, title, description, msgs),
        ExecuteMsg::SendTally { proposal_id } => {
            cw_utils::nonpayable(&info)?;
            network::send_tally(deps, env, proposal_id)
        }
        ExecuteMsg::AllowConnection {
            connection_id,
            chain_id,
            counterparty_port,
        } => {
            assert_self(&env, &info)?;
            network::allow_connection(
                deps,
                AllowedConnection {
                    connection_id,
                    chain_id,
                    counterparty_port,
                },
            )
        }
        ExecuteMsg::DisallowConnection { connection_id } => {
            assert_self(&env, &info)?;
            GOV_CHANNELS.disallow(deps.storage, &connection_id);
            Ok(healthmesh_controllers::channels::disallowed_response(
                "disallow_connection",
                connection_id,
            ))
        }
        ExecuteMsg::SetPauseTargets { contracts } => {
            assert_self(&env, &info)?;
            network::save_pause_targets(deps, &contracts)?;
            Ok(Response::new()
                .add_attribute("action", "set_pause_targets")
                .add_attribute("contracts", contracts.len().to_string()))
        }
        ExecuteMsg::ApplyNetworkPause { pause, reason } => {
            network::apply_network_pause(deps, &env, &info, pause, &reason)
        }
        ExecuteMsg::ExecuteRemoteMsgs { msgs } => network::execute_remote_msgs(&env, &info, msgs),
        ExecuteMsg::IssueMembership { address } => {
            assert_self(&env, &info)?;
            membership::issue(deps, &env, &address)
        }
        ExecuteMsg::RevokeMembership { address } => {
            assert_self(&env, &info)?;
            membership::revoke(deps, &env, &address)
        }
        ExecuteMsg::TransferMembership { .. } => Err(ContractError::MembershipSoulbound),
        ExecuteMsg::UpdateConfig {
            threshold,
            voting_period,
            timelock,
            allow_revote,
            voting_rule,
        } => {
            assert_self(&env, &info)?;
            let mut config = CONFIG.load(deps.storage)?;
            if let Some(threshold) = threshold {
                validate_threshold(&threshold)?;
                config.threshold = threshold;
            }
            if voting_period == Some(0) {
                return Err(ContractError::InvalidConfig(
                    "voting period must be positive".into(),
                ));
            }
            config.voting_period = voting_period.unwrap_or(config.voting_period);
            config.timelock = timelock.unwrap_or(config.timelock);
            config.allow_revote = allow_revote.unwrap_or(config.allow_revote);
            if let Some(rule) = voting_rule {
                if rule == VotingRule::Membership && membership::total(deps.as_ref())?.is_zero() {
                    return Err(ContractError::InvalidConfig(
                        "membership voting needs at least one member: issue memberships first"
                            .into(),
                    ));
                }
                config.voting_rule = rule;
            }
            slashing::check(deps.as_ref(), &config)?;
            check_reachable(deps.as_ref(), &config, env.block.height + 1)?;
            CONFIG.save(deps.storage, &config)?;
            Ok(Response::new().add_attribute("action", "update_config"))
        }
        ExecuteMsg::UpdateCouncil { council } => {
            assert_self(&env, &info)?;
            // A new epoch: approvals given to the old council's actions no longer count.
            let epoch = COUNCIL
                .load(deps.storage)?
                .epoch
                .checked_add(1)
                .ok_or_else(|| StdError::generic_err("council epoch overflow"))?;
            let council = council_from(deps.as_ref(), council, epoch)?;
            COUNCIL.save(deps.storage, &council)?;
            Ok(Response::new()
                .add_attribute("action", "update_council")
                .add_attribute("council_epoch", epoch.to_string()))
        }
    }
}

fn assert_self(env: &Env, info: &MessageInfo) -> Result<(), ContractError> {
    if info.sender != env.contract.address {
        return Err(ContractError::NotSelf);
    }
    Ok(())
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn reply(deps: DepsMut, _env: Env, reply: Reply) -> Result<Response, ContractError> {
    let payload = reply.payload;
    match (reply.id, reply.result) {
        (STAKING_REPLY_ID, SubMsgResult::Ok(response)) => {
            let address = response
                .events
                .iter()
                .filter(|e| e.ty == "instantiate")
                .flat_map(|e| e.attributes.iter())
                .find(|a| a.key == "_contract_address")
                .map(|a| a.value.clone())
                .ok_or_else(|| {
                    StdError::generic_err("staking instantiation reported no address")
                })?;
            let contract = deps.api.addr_validate(&address)?;
            CONFIG.update(deps.storage, |mut c| -> Result<_, ContractError> {
                c.voting = StoredVotingSource::Staking { contract };
                Ok(c)
            })?;
            Ok(Response::new().add_attribute("staking_contract", address))
        }
        // A proposal's messages all ran: failing here undoes them all.
        (slashing::CHECK_REPLY_ID, SubMsgResult::Ok(_)) => {
            slashing::check(deps.as_ref(), &CONFIG.load(deps.storage)?)?;
            EXECUTING.remove(deps.storage);
            Ok(Response::new())
        }
        (network::REMOTE_REPLY_ID, SubMsgResult::Err(error)) => network::remote_failed(error),
        (
            id @ (network::PAUSE_TARGET_REPLY_ID | network::PAUSE_SEND_REPLY_ID),
            SubMsgResult::Err(error),
        ) => network::pause_step_failed(deps.storage, id, &payload, error),
        (id, SubMsgResult::Err(error)) => proposal::mark_failed(deps, id, error),
        (id, _) => Err(ContractError::Std(StdError::generic_err(format!(
            "unexpected reply {id}"
        )))),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    queries::dispatch(deps, env, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    let response =
        healthmesh_controllers::migrate::migrate(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    // A DAO of fixed members from before quadratic totals.
    if MEMBERS_SQRT_TOTAL.may_load(deps.storage)?.is_none() {
        save_members_sqrt_total(deps.storage)?;
    }
    Ok(response)
}

/// Σ⌊√weight⌋ of the fixed members (set at instantiate, so bounded by that message): the
/// quadratic total over `VotingSource::Members`.
fn save_members_sqrt_total(storage: &mut dyn Storage) -> StdResult<()> {
    let mut total = Uint128::zero();
    for item in MEMBERS.range(storage, None, None, cosmwasm_std::Order::Ascending) {
        total += item?.1.isqrt();
    }
    MEMBERS_SQRT_TOTAL.save(storage, &total)
}
