//! One government for the network: governance channels to the other chains' governance
//! contracts (`healthmesh-gov-1`), the council's network-wide pause, proposal messages run on
//! another chain, and network votes decided on the proposal's home chain.

use cosmwasm_std::{
    from_json, to_json_binary, Addr, Binary, BlockInfo, CosmosMsg, Decimal, Deps, DepsMut, Env,
    Event, IbcMsg, IbcTimeout, MessageInfo, Response, StdError, Storage, SubMsg, Timestamp,
    Uint128, WasmMsg,
};
use healthmesh_controllers::validate;
use healthmesh_types::events;
use healthmesh_types::governance::{
    ChainVote, ChainVoteStatus, ExecuteMsg, NetworkConfig, NetworkPauseRecord, NetworkVote,
    PauseAnswer, Proposal, RemoteExecution, RemoteResult, Status, Tally, TallyDelivery,
    MAX_DESCRIPTION_LEN, MAX_PROPOSAL_MSGS, MAX_TITLE_LEN,
};
use healthmesh_types::ibc::AllowedConnection;
use healthmesh_types::network::{
    GovPacket, OpenVoteAck, MAX_PAUSE_TARGETS, NETWORK_PACKET_TIMEOUT_SECONDS,
};
use healthmesh_types::pause::{
    PausableExecuteMsg, PausableQueryMsg, PauseMsg, PauseStatusResponse,
};

use crate::inspect::check_remote_msgs;
use crate::state::{
    CONFIG, EXECUTING, GOV_CHANNELS, LAST_NETWORK_PAUSE, MIRRORS, NETWORK_HELD, NETWORK_PAUSE_AT,
    PAUSE_SEEN, PAUSE_SEQ, PAUSE_TARGETS, PROPOSALS, PROPOSAL_COUNT,
};
use crate::voting::{passes, total_power_at, vetoed_by_votes};
use crate::ContractError;

/// Reply id of a remote proposal's messages run on a packet's arrival.
pub const REMOTE_REPLY_ID: u64 = u64::MAX - 1;

// ---------------------------------------------------------------- configuration

/// Trust the configured chains and pause targets (at instantiate).
pub fn init(deps: DepsMut, network: Option<NetworkConfig>) -> Result<(), ContractError> {
    let network = network.unwrap_or(NetworkConfig {
        connections: vec![],
        pause_targets: vec![],
    });
    for connection in &network.connections {
        GOV_CHANNELS.allow(deps.storage, connection)?;
    }
    save_pause_targets(deps, &network.pause_targets)
}

pub fn save_pause_targets(deps: DepsMut, contracts: &[String]) -> Result<(), ContractError> {
    if contracts.len() > MAX_PAUSE_TARGETS {
        return Err(ContractError::TooManyPauseTargets(MAX_PAUSE_TARGETS));
    }
    let mut targets: Vec<Addr> = vec![];
    for contract in contracts {
        let addr = deps.api.addr_validate(contract)?;
        if !targets.contains(&addr) {
            targets.push(addr);
        }
    }
    PAUSE_TARGETS.save(deps.storage, &targets)?;
    Ok(())
}

pub fn allow_connection(
    deps: DepsMut,
    allowed: AllowedConnection,
) -> Result<Response, ContractError> {
    GOV_CHANNELS.allow(deps.storage, &allowed)?;
    Ok(healthmesh_controllers::channels::allowed_response(
        "allow_connection",
        allowed,
    ))
}

/// The chains this DAO is linked to: one per trusted connection, in chain id order.
pub fn linked_chains(storage: &dyn Storage) -> Result<Vec<String>, ContractError> {
    let mut chains: Vec<String> = GOV_CHANNELS
        .allowed_connections(storage)?
        .into_iter()
        .map(|a| a.chain_id)
        .collect();
    chains.sort();
    chains.dedup();
    Ok(chains)
}

fn send(
    storage: &dyn Storage,
    env: &Env,
    chain_id: &str,
    packet: &GovPacket,
) -> Result<IbcMsg, ContractError> {
    let channel = GOV_CHANNELS.channel_to(storage, chain_id)?;
    Ok(IbcMsg::SendPacket {
        channel_id: channel.channel_id,
        data: to_json_binary(packet)?,
        timeout: IbcTimeout::with_timestamp(
            env.block.time.plus_seconds(NETWORK_PACKET_TIMEOUT_SECONDS),
        ),
    })
}

fn self_call(env: &Env, msg: &ExecuteMsg) -> Result<WasmMsg, ContractError> {
    Ok(WasmMsg::Execute {
        contract_addr: env.contract.address.to_string(),
        msg: to_json_binary(msg)?,
        funds: vec![],
    })
}

// ---------------------------------------------------------------- network pause

/// Reply ids of a network pause's sub-messages: one pause target, one packet to a chain
/// (the payload names which). A failure is recorded and stops nothing else.
pub const PAUSE_TARGET_REPLY_ID: u64 = u64::MAX - 2;
pub const PAUSE_SEND_REPLY_ID: u64 = u64::MAX - 3;

/// Pause every pause target not paused yet (each then held by the network, with the time of
/// its pause), or unpause the held targets whose pause is still that one: a pause set
/// locally — before, or after a held pause was lifted or lapsed — is neither taken over nor
/// lifted. Each call is its own sub-message; a target that cannot be read is reported (and
/// stays held on an unpause), not fatal.
fn pause_submsgs(
    deps: DepsMut,
    env: &Env,
    pause: bool,
    reason: &str,
) -> Result<(Vec<SubMsg>, Vec<String>), ContractError> {
    let now = env.block.time;
    let held = NETWORK_HELD.may_load(deps.storage)?.unwrap_or_default();
    let (targets, mut keep): (Vec<Addr>, Vec<(Addr, Timestamp)>) = if pause {
        let targets = PAUSE_TARGETS.may_load(deps.storage)?.unwrap_or_default();
        (targets, held.clone())
    } else {
        (held.iter().map(|(a, _)| a.clone()).collect(), vec![])
    };
    let (mut subs, mut unreadable) = (vec![], vec![]);
    for target in targets {
        let status: PauseStatusResponse = match deps
            .querier
            .query_wasm_smart(&target, &PausableQueryMsg::PauseStatus {})
        {
            Ok(status) => status,
            Err(e) => {
                unreadable.push(format!("{target}: {e}"));
                if !pause {
                    keep.extend(held.iter().filter(|(a, _)| *a == target).cloned());
                }
                continue;
            }
        };
        let since = status.paused.as_ref().map(|p| p.since);
        let msg = match (pause, since) {
            (true, None) => {
                keep.retain(|(a, _)| *a != target);
                keep.push((target.clone(), now));
                PauseMsg::Pause {
                    reason: reason.into(),
                }
            }
            (false, Some(since)) if held.contains(&(target.clone(), since)) => PauseMsg::Unpause {},
            _ => continue,
        };
        let call = WasmMsg::Execute {
            contract_addr: target.to_string(),
            msg: to_json_binary(&PausableExecuteMsg::Pausable(msg))?,
            funds: vec![],
        };
        subs.push(
            SubMsg::reply_on_error(call, PAUSE_TARGET_REPLY_ID)
                .with_payload(target.as_bytes().to_vec()),
        );
    }
    NETWORK_HELD.save(deps.storage, &keep)?;
    Ok((subs, unreadable))
}

/// The council's network pause (or unpause), decided here by its action `action_id`: this
/// chain's targets at once, the others by packet. A chain without an open channel, or whose
/// packet cannot be sent, is recorded as such: the pause goes on elsewhere.
pub fn council_network_pause(
    mut deps: DepsMut,
    env: &Env,
    action_id: u64,
    pause: bool,
    reason: &str,
) -> Result<Response, ContractError> {
    let seq = PAUSE_SEQ.may_load(deps.storage)?.unwrap_or_default() + 1;
    PAUSE_SEQ.save(deps.storage, &seq)?;
    // The newest network decision applied here: an older one arriving later is refused.
    NETWORK_PAUSE_AT.save(deps.storage, &env.block.time)?;
    let (local, unreadable) = pause_submsgs(deps.branch(), env, pause, reason)?;
    let packet = if pause {
        GovPacket::Pause {
            action_id,
            seq,
            at: env.block.time,
            reason: reason.into(),
        }
    } else {
        GovPacket::Unpause {
            action_id,
            seq,
            at: env.block.time,
        }
    };
    let mut packets = vec![];
    let mut answers = vec![];
    for chain_id in linked_chains(deps.storage)? {
        let result = match send(deps.storage, env, &chain_id, &packet) {
            Ok(msg) => {
                let sub = SubMsg::reply_on_error(msg, PAUSE_SEND_REPLY_ID)
                    .with_payload(chain_id.as_bytes().to_vec());
                packets.push(sub);
                None
            }
            Err(e) => Some(Err(e.to_string())),
        };
        answers.push(PauseAnswer { chain_id, result });
    }
    LAST_NETWORK_PAUSE.save(
        deps.storage,
        &NetworkPauseRecord {
            pause,
            origin_chain: env.block.chain_id.clone(),
            action_id,
            reason: reason.into(),
            at: env.block.time,
            at_height: env.block.height,
            answers,
        },
    )?;
    let event = Event::new(events::NETWORK_PAUSE_SENT)
        .add_attribute("pause", pause.to_string())
        .add_attribute("action_id", action_id.to_string())
        .add_attribute("seq", seq.to_string())
        .add_attribute("local_contracts", local.len().to_string())
        .add_attribute("unreadable", unreadable.join("; "))
        .add_attribute("chains", packets.len().to_string());
    Ok(Response::new()
        .add_submessages(local)
        .add_submessages(packets)
        .add_event(event))
}

/// A network pause's sub-message failed: a target refused (reported), or a packet could not
/// be sent (recorded as that chain's answer).
pub fn pause_step_failed(
    storage: &mut dyn Storage,
    id: u64,
    payload: &Binary,
    error: String,
) -> Result<Response, ContractError> {
    let subject = String::from_utf8_lossy(payload).to_string();
    if id == PAUSE_SEND_REPLY_ID {
        if let Some(mut record) = LAST_NETWORK_PAUSE.may_load(storage)? {
            for answer in record.answers.iter_mut().filter(|a| a.chain_id == subject) {
                answer.result = Some(Err(error.clone()));
            }
            LAST_NETWORK_PAUSE.save(storage, &record)?;
        }
    }
    let what = if id == PAUSE_SEND_REPLY_ID {
        "chain_id"
    } else {
        "contract"
    };
    Ok(Response::new().add_event(
        Event::new(events::NETWORK_PAUSE_STEP_FAILED)
            .add_attribute(what, subject)
            .add_attribute("error", error),
    ))
}

/// A pause packet from `origin`'s governance at `port` (authenticated by the caller):
/// recorded, then applied by a self-call. One older than a pause or unpause already applied
/// from that governance is refused (packets of an unordered channel can overtake each other).
#[allow(clippy::too_many_arguments)]
pub fn receive_pause(
    deps: DepsMut,
    env: &Env,
    (origin, port): (&str, &str),
    action_id: u64,
    (seq, at): (u64, Timestamp),
    pause: bool,
    reason: &str,
) -> Result<(Vec<WasmMsg>, Event), ContractError> {
    validate::bounded_text(
        "reason",
        reason,
        healthmesh_controllers::pause::MAX_REASON_LEN,
    )?;
    if let Some(seen) = PAUSE_SEEN.may_load(deps.storage, (origin, port))? {
        if seen >= seq {
            return Err(ContractError::StalePause { seq, seen });
        }
    }
    // Across chains: a decision older than the newest applied here (a delayed unpause
    // overtaken by another chain's newer pause) is refused.
    if let Some(newest) = NETWORK_PAUSE_AT.may_load(deps.storage)? {
        if at < newest {
            return Err(ContractError::OlderNetworkPause { at, newest });
        }
    }
    PAUSE_SEEN.save(deps.storage, (origin, port), &seq)?;
    NETWORK_PAUSE_AT.save(deps.storage, &at)?;
    LAST_NETWORK_PAUSE.save(
        deps.storage,
        &NetworkPauseRecord {
            pause,
            origin_chain: origin.into(),
            action_id,
            reason: reason.into(),
            at: env.block.time,
            at_height: env.block.height,
            answers: vec![],
        },
    )?;
    let apply = self_call(
        env,
        &ExecuteMsg::ApplyNetworkPause {
            pause,
            reason: reason.into(),
        },
    )?;
    let event = Event::new(events::NETWORK_PAUSE_APPLIED)
        .add_attribute("origin_chain", origin)
        .add_attribute("action_id", action_id.to_string())
        .add_attribute("seq", seq.to_string())
        .add_attribute("pause", pause.to_string());
    Ok((vec![apply], event))
}

/// Record a chain's answer to this chain's network pause `action_id`.
fn answer_pause(
    storage: &mut dyn Storage,
    env: &Env,
    chain_id: &str,
    action_id: u64,
    result: Result<(), String>,
) -> Result<Event, ContractError> {
    let event = Event::new(events::NETWORK_PAUSE_ANSWERED)
        .add_attribute("chain_id", chain_id)
        .add_attribute("action_id", action_id.to_string())
        .add_attribute("ok", result.is_ok().to_string())
        .add_attribute("error", result.clone().err().unwrap_or_default());
    if let Some(mut record) = LAST_NETWORK_PAUSE.may_load(storage)? {
        let ours = record.origin_chain == env.block.chain_id && record.action_id == action_id;
        if ours {
            for answer in record.answers.iter_mut().filter(|a| a.chain_id == chain_id) {
                answer.result = Some(result.clone());
            }
            LAST_NETWORK_PAUSE.save(storage, &record)?;
        }
    }
    Ok(event)
}

// ---------------------------------------------------------------- remote execution

/// `SendRemote`, run by the proposal being executed: the messages go to `chain_id`'s
/// governance; no open channel fails the proposal's execution as a whole.
pub fn send_remote(
    deps: DepsMut,
    env: &Env,
    info: &MessageInfo,
    chain_id: String,
    msgs: Vec<CosmosMsg>,
) -> Result<Response, ContractError> {
    if info.sender != env.contract.address {
        return Err(ContractError::NotSelf);
    }
    let proposal_id = EXECUTING
        .may_load(deps.storage)?
        .ok_or(ContractError::NotExecuting)?;
    let mut proposal = crate::proposal::load(deps.storage, proposal_id)?;
    if proposal.status != Status::Executed {
        return Err(ContractError::NotExecuting);
    }
    check_remote_count(&msgs)?;
    let index = proposal.remote.len() as u32;
    let count = msgs.len() as u32;
    let packet = GovPacket::Execute {
        proposal_id,
        index,
        msgs,
    };
    let send = send(deps.storage, env, &chain_id, &packet)?;
    proposal.remote.push(RemoteExecution {
        chain_id: chain_id.clone(),
        msgs: count,
        result: RemoteResult::InFlight,
    });
    PROPOSALS.save(deps.storage, proposal_id, &proposal)?;
    Ok(Response::new().add_message(send).add_event(
        Event::new(events::REMOTE_EXECUTION_SENT)
            .add_attribute("proposal_id", proposal_id.to_string())
            .add_attribute("index", index.to_string())
            .add_attribute("chain_id", chain_id)
            .add_attribute("msgs", count.to_string()),
    ))
}

pub fn check_remote_count(msgs: &[CosmosMsg]) -> Result<(), ContractError> {
    if msgs.is_empty() || msgs.len() > MAX_PROPOSAL_MSGS {
        return Err(ContractError::InvalidConfig(format!(
            "a remote execution carries 1 to {MAX_PROPOSAL_MSGS} messages"
        )));
    }
    Ok(())
}

/// Remote messages from `origin` (authenticated by the caller), run atomically by a
/// self-call; if any fails, none applies and the reply turns the ack into an error.
pub fn receive_execute(
    deps: Deps,
    env: &Env,
    origin: &str,
    proposal_id: u64,
    msgs: Vec<CosmosMsg>,
) -> Result<(SubMsg, Event), ContractError> {
    check_remote_count(&msgs)?;
    check_remote_msgs(deps.api, &env.contract.address, &msgs)?;
    let event = Event::new(events::REMOTE_EXECUTION_RECEIVED)
        .add_attribute("origin_chain", origin)
        .add_attribute("proposal_id", proposal_id.to_string())
        .add_attribute("msgs", msgs.len().to_string());
    let run = self_call(env, &ExecuteMsg::ExecuteRemoteMsgs { msgs })?;
    Ok((SubMsg::reply_on_error(run, REMOTE_REPLY_ID), event))
}

fn record_remote(
    storage: &mut dyn Storage,
    env: &Env,
    chain_id: &str,
    proposal_id: u64,
    index: u32,
    result: Result<(), String>,
) -> Result<Event, ContractError> {
    let mut proposal = crate::proposal::load(storage, proposal_id)?;
    let remote = proposal
        .remote
        .get_mut(index as usize)
        .filter(|r| r.chain_id == chain_id && r.result == RemoteResult::InFlight)
        .ok_or(ContractError::NotInFlight)?;
    let at = env.block.time;
    remote.result = match &result {
        Ok(()) => RemoteResult::Executed { at },
        Err(error) => RemoteResult::Failed {
            error: error.clone(),
            at,
        },
    };
    PROPOSALS.save(storage, proposal_id, &proposal)?;
    Ok(Event::new(events::REMOTE_EXECUTION_RESULT)
        .add_attribute("proposal_id", proposal_id.to_string())
        .add_attribute("index", index.to_string())
        .add_attribute("chain_id", chain_id)
        .add_attribute("executed", result.is_ok().to_string())
        .add_attribute("error", result.err().unwrap_or_default()))
}

// ---------------------------------------------------------------- network votes

/// A network proposal: created here as `Propose` would, then opened on every linked chain.
pub fn network_propose(
    mut deps: DepsMut,
    env: Env,
    info: MessageInfo,
    title: String,
    description: String,
    msgs: Vec<CosmosMsg>,
) -> Result<Response, ContractError> {
    let chains = linked_chains(deps.storage)?;
    if chains.is_empty() {
        return Err(ContractError::NoNetwork);
    }
    let nested = crate::inspect::remote_msgs(deps.api, &env.contract.address, &msgs);
    if !crate::inspect::slash_targets(deps.api, &msgs).is_empty()
        || !crate::inspect::slash_targets(deps.api, &nested).is_empty()
    {
        return Err(ContractError::NetworkSlash);
    }
    let response =
        crate::proposal::propose(deps.branch(), env.clone(), info, title, description, msgs)?;
    let id = PROPOSAL_COUNT.load(deps.storage)?;
    let mut proposal = crate::proposal::load(deps.storage, id)?;
    let config = CONFIG.load(deps.storage)?;
    let packet = GovPacket::OpenVote {
        proposal_id: id,
        title: proposal.title.clone(),
        description: proposal.description.clone(),
        voting_end: proposal.expires,
    };
    let mut sends = vec![];
    for chain_id in &chains {
        sends.push(send(deps.storage, &env, chain_id, &packet)?);
    }
    proposal.network = Some(NetworkVote::Home {
        chains: chains
            .iter()
            .map(|chain_id| ChainVote {
                chain_id: chain_id.clone(),
                status: ChainVoteStatus::Opening,
            })
            .collect(),
        tally_deadline: proposal.expires.plus_seconds(config.voting_period),
    });
    PROPOSALS.save(deps.storage, id, &proposal)?;
    Ok(response.add_messages(sends).add_event(
        Event::new(events::NETWORK_VOTE_OPENED)
            .add_attribute("proposal_id", id.to_string())
            .add_attribute("chains", chains.join(","))
            .add_attribute("voting_end", proposal.expires.seconds().to_string()),
    ))
}

/// Open `home`'s network proposal here, over this chain's power now, until `voting_end`.
pub fn receive_open_vote(
    deps: DepsMut,
    env: &Env,
    (home, home_port): (&str, &str),
    proposal_id: u64,
    title: String,
    description: String,
    voting_end: Timestamp,
) -> Result<(Binary, Event), ContractError> {
    validate::bounded_text("title", &title, MAX_TITLE_LEN)?;
    validate::bounded_text("description", &description, MAX_DESCRIPTION_LEN)?;
    if let Some(mirror_id) = MIRRORS.may_load(deps.storage, (home, home_port, proposal_id))? {
        return Err(ContractError::AlreadyMirrored {
            home_chain: home.into(),
            proposal_id,
            mirror_id,
        });
    }
    if voting_end <= env.block.time {
        return Err(ContractError::VotingEndPassed(voting_end));
    }
    let config = CONFIG.load(deps.storage)?;
    let height = env.block.height;
    let total_power = total_power_at(deps.as_ref(), &config, height)?;
    let id = PROPOSAL_COUNT.may_load(deps.storage)?.unwrap_or_default() + 1;
    PROPOSAL_COUNT.save(deps.storage, &id)?;
    let mirror = Proposal {
        id,
        title,
        description,
        proposer: env.contract.address.clone(),
        msgs: vec![],
        start_height: height,
        start_time: env.block.time,
        expires: voting_end,
        total_power,
        threshold: config.threshold.clone(),
        tally: Tally::default(),
        status: Status::Open,
        passed_at: None,
        executable_at: None,
        timelock: None,
        voting_rule: config.voting_rule,
        deposit: None,
        deposit_refunded: false,
        network: Some(NetworkVote::Mirror {
            home_chain: home.into(),
            home_proposal_id: proposal_id,
            tally: TallyDelivery::NotSent,
        }),
        remote: vec![],
    };
    PROPOSALS.save(deps.storage, id, &mirror)?;
    MIRRORS.save(deps.storage, (home, home_port, proposal_id), &id)?;
    let ack = to_json_binary(&OpenVoteAck {
        mirror_id: id,
        total_power,
    })?;
    let event = Event::new(events::PROPOSAL_CREATED)
        .add_attribute("proposal_id", id.to_string())
        .add_attribute("home_chain", home)
        .add_attribute("home_proposal_id", proposal_id.to_string())
        .add_attribute("expires", voting_end.seconds().to_string());
    Ok((ack, event))
}

/// `SendTally`: anyone, once the mirror's voting ended and its tally is not accepted or in
/// flight.
pub fn send_tally(deps: DepsMut, env: Env, id: u64) -> Result<Response, ContractError> {
    let mut proposal = crate::proposal::load(deps.storage, id)?;
    let Some(NetworkVote::Mirror {
        home_chain,
        home_proposal_id,
        tally,
    }) = &mut proposal.network
    else {
        return Err(ContractError::NotNetworkProposal(id));
    };
    if env.block.time < proposal.expires {
        return Err(ContractError::VotingNotEnded {
            id,
            end: proposal.expires,
        });
    }
    if matches!(
        tally,
        TallyDelivery::InFlight | TallyDelivery::Accepted { .. }
    ) {
        return Err(ContractError::TallyAlreadySent(id));
    }
    *tally = TallyDelivery::InFlight;
    let packet = GovPacket::Tally {
        proposal_id: *home_proposal_id,
        mirror_id: id,
        tally: proposal.tally.clone(),
        total_power: proposal.total_power,
    };
    let send = send(deps.storage, &env, home_chain, &packet)?;
    let event = Event::new(events::NETWORK_TALLY_SENT)
        .add_attribute("proposal_id", id.to_string())
        .add_attribute("home_chain", home_chain.as_str())
        .add_attribute("home_proposal_id", home_proposal_id.to_string())
        .add_attribute("yes", proposal.tally.yes)
        .add_attribute("no", proposal.tally.no)
        .add_attribute("total_power", proposal.total_power);
    PROPOSALS.save(deps.storage, id, &proposal)?;
    Ok(Response::new()
        .add_attribute("action", "send_tally")
        .add_message(send)
        .add_event(event))
}

/// A linked chain's tally for the home proposal `id`: accepted once, between the end of
/// voting and the tally deadline, from the chain that opened it, with the total it opened.
pub fn receive_tally(
    storage: &mut dyn Storage,
    env: &Env,
    chain_id: &str,
    id: u64,
    mirror_id: u64,
    tally: Tally,
    total_power: Uint128,
) -> Result<Event, ContractError> {
    let refuse = |reason: &str| ContractError::TallyRefused {
        chain: chain_id.into(),
        id,
        reason: reason.into(),
    };
    let mut proposal = crate::proposal::load(storage, id)?;
    let expires = proposal.expires;
    let (chains, tally_deadline) = home_vote(&mut proposal)?;
    let now = env.block.time;
    if now < expires {
        return Err(refuse("voting has not ended here yet"));
    }
    // At the deadline the proposal is decided without the missing tallies.
    if now >= tally_deadline {
        return Err(refuse("the tally deadline has passed"));
    }
    let cast = [tally.no, tally.abstain, tally.veto]
        .iter()
        .try_fold(tally.yes, |sum, part| sum.checked_add(*part));
    if !cast.is_ok_and(|cast| cast <= total_power) {
        return Err(refuse("more votes than power"));
    }
    let entry = chains
        .iter_mut()
        .find(|c| c.chain_id == chain_id)
        .ok_or_else(|| refuse("chain not part of this vote"))?;
    match entry.status {
        ChainVoteStatus::Open {
            mirror_id: m,
            total_power: t,
        } if m == mirror_id && t == total_power => {}
        _ => return Err(refuse("not open there under this mirror and total")),
    }
    let event = Event::new(events::NETWORK_TALLY_RECEIVED)
        .add_attribute("proposal_id", id.to_string())
        .add_attribute("chain_id", chain_id)
        .add_attribute("yes", tally.yes)
        .add_attribute("no", tally.no)
        .add_attribute("total_power", total_power);
    entry.status = ChainVoteStatus::Tallied {
        mirror_id,
        total_power,
        tally,
        at: now,
    };
    PROPOSALS.save(storage, id, &proposal)?;
    Ok(event)
}

/// A network proposal's status at `block`: mirrors count down to their tally; the home
/// decides once voting ended and every tally is in, or at the tally deadline (a missing
/// tally counts as power that did not vote); a chain that did not open the vote rejects it.
pub fn refresh_network(
    proposal: &mut Proposal,
    veto_threshold: Decimal,
    timelock: u64,
    block: &BlockInfo,
) {
    if block.time < proposal.expires {
        return;
    }
    let (chains, tally_deadline) = match &proposal.network {
        None => return,
        Some(NetworkVote::Mirror { tally, .. }) => {
            proposal.status = match tally {
                TallyDelivery::Accepted { .. } => Status::Counted,
                _ => Status::Tallying,
            };
            return;
        }
        Some(NetworkVote::Home {
            chains,
            tally_deadline,
        }) => (chains, *tally_deadline),
    };
    let past_deadline = block.time >= tally_deadline;
    let unopened = chains.iter().any(|c| match c.status {
        ChainVoteStatus::NotOpened { .. } => true,
        ChainVoteStatus::Opening => past_deadline,
        _ => false,
    });
    let tallied_at: Vec<Timestamp> = chains
        .iter()
        .filter_map(|c| match c.status {
            ChainVoteStatus::Tallied { at, .. } => Some(at),
            _ => None,
        })
        .collect();
    let missing = tallied_at.len() < chains.len();
    if unopened {
        proposal.status = Status::Rejected;
        return;
    }
    if missing && !past_deadline {
        proposal.status = Status::Tallying;
        return;
    }
    let decided_at = if missing {
        tally_deadline
    } else {
        tallied_at
            .into_iter()
            .fold(proposal.expires, Timestamp::max)
    };
    let (tally, total) = network_tally(proposal);
    let threshold = &proposal.threshold;
    proposal.status = if vetoed_by_votes(threshold, &tally, total, veto_threshold) {
        Status::Vetoed
    } else if passes(threshold, &tally, total) {
        let timelock = proposal.timelock.unwrap_or(timelock);
        proposal.passed_at = Some(decided_at);
        proposal.executable_at = Some(decided_at.plus_seconds(timelock));
        Status::Passed
    } else {
        Status::Rejected
    };
}

/// A home proposal's network tally (its own votes and every tally received) and the
/// network's total power (its own and that of every chain that opened it).
pub fn network_tally(proposal: &Proposal) -> (Tally, Uint128) {
    let mut tally = proposal.tally.clone();
    let mut total = proposal.total_power;
    if let Some(NetworkVote::Home { chains, .. }) = &proposal.network {
        for chain in chains {
            match &chain.status {
                ChainVoteStatus::Tallied {
                    total_power,
                    tally: t,
                    ..
                } => {
                    tally.yes += t.yes;
                    tally.no += t.no;
                    tally.abstain += t.abstain;
                    tally.veto += t.veto;
                    total += *total_power;
                }
                ChainVoteStatus::Open { total_power, .. } => total += *total_power,
                _ => {}
            }
        }
    }
    (tally, total)
}

/// A home proposal's chains and tally deadline, or `NotNetworkProposal`.
fn home_vote(proposal: &mut Proposal) -> Result<(&mut Vec<ChainVote>, Timestamp), ContractError> {
    match &mut proposal.network {
        Some(NetworkVote::Home {
            chains,
            tally_deadline,
        }) => Ok((chains, *tally_deadline)),
        _ => Err(ContractError::NotNetworkProposal(proposal.id)),
    }
}

fn answer_open_vote(
    storage: &mut dyn Storage,
    env: &Env,
    chain_id: &str,
    id: u64,
    result: Result<Binary, String>,
) -> Result<Event, ContractError> {
    let mut proposal = crate::proposal::load(storage, id)?;
    let own_total = proposal.total_power;
    let (chains, tally_deadline) = home_vote(&mut proposal)?;
    // An opening confirmed only after the deadline cannot turn a rejection into a vote.
    let result = if env.block.time >= tally_deadline {
        Err("opened only after the tally deadline".to_string())
    } else {
        result
    };
    let opened = result.and_then(|data| {
        from_json::<OpenVoteAck>(&data).map_err(|e| format!("unreadable acknowledgement: {e}"))
    });
    let opened = opened.and_then(|ack| {
        // The network total must stay countable: tallies are bounded by their totals.
        let fits = chains
            .iter()
            .filter_map(|c| match &c.status {
                ChainVoteStatus::Open { total_power, .. }
                | ChainVoteStatus::Tallied { total_power, .. } => Some(*total_power),
                _ => None,
            })
            .chain([own_total, ack.total_power])
            .try_fold(Uint128::zero(), |sum, t| sum.checked_add(t))
            .is_ok();
        fits.then_some(ack)
            .ok_or_else(|| "total power overflows the network total".to_string())
    });
    let entry = chains
        .iter_mut()
        .find(|c| c.chain_id == chain_id && c.status == ChainVoteStatus::Opening)
        .ok_or(ContractError::NotInFlight)?;
    entry.status = match &opened {
        Ok(ack) => ChainVoteStatus::Open {
            mirror_id: ack.mirror_id,
            total_power: ack.total_power,
        },
        Err(reason) => ChainVoteStatus::NotOpened {
            reason: reason.clone(),
        },
    };
    PROPOSALS.save(storage, id, &proposal)?;
    Ok(Event::new(events::NETWORK_VOTE_ANSWERED)
        .add_attribute("proposal_id", id.to_string())
        .add_attribute("chain_id", chain_id)
        .add_attribute("opened", opened.is_ok().to_string())
        .add_attribute("error", opened.err().unwrap_or_default()))
}

fn answer_tally(
    storage: &mut dyn Storage,
    env: &Env,
    mirror_id: u64,
    result: Result<(), String>,
) -> Result<Event, ContractError> {
    let mut proposal = crate::proposal::load(storage, mirror_id)?;
    let Some(NetworkVote::Mirror { tally, .. }) = &mut proposal.network else {
        return Err(ContractError::NotNetworkProposal(mirror_id));
    };
    if *tally != TallyDelivery::InFlight {
        return Err(ContractError::NotInFlight);
    }
    *tally = match &result {
        Ok(()) => TallyDelivery::Accepted { at: env.block.time },
        Err(reason) => TallyDelivery::Refused {
            reason: reason.clone(),
        },
    };
    PROPOSALS.save(storage, mirror_id, &proposal)?;
    Ok(Event::new(events::NETWORK_TALLY_ANSWERED)
        .add_attribute("proposal_id", mirror_id.to_string())
        .add_attribute("accepted", result.is_ok().to_string())
        .add_attribute("error", result.err().unwrap_or_default()))
}

/// The answer (ack data, or the error / "timeout") to a packet this contract sent to
/// `chain_id`, recorded where the packet came from.
pub fn settle(
    storage: &mut dyn Storage,
    env: &Env,
    chain_id: &str,
    packet: GovPacket,
    result: Result<Binary, String>,
) -> Result<Event, ContractError> {
    let done = result.clone().map(|_| ());
    match packet {
        GovPacket::Pause { action_id, .. } | GovPacket::Unpause { action_id, .. } => {
            answer_pause(storage, env, chain_id, action_id, done)
        }
        GovPacket::Execute {
            proposal_id, index, ..
        } => record_remote(storage, env, chain_id, proposal_id, index, done),
        GovPacket::OpenVote { proposal_id, .. } => {
            answer_open_vote(storage, env, chain_id, proposal_id, result)
        }
        GovPacket::Tally { mirror_id, .. } => answer_tally(storage, env, mirror_id, done),
    }
}

/// Internal `ApplyNetworkPause`.
pub fn apply_network_pause(
    deps: DepsMut,
    env: &Env,
    info: &MessageInfo,
    pause: bool,
    reason: &str,
) -> Result<Response, ContractError> {
    if info.sender != env.contract.address {
        return Err(ContractError::NotSelf);
    }
    let (subs, unreadable) = pause_submsgs(deps, env, pause, reason)?;
    Ok(Response::new()
        .add_attribute("action", "apply_network_pause")
        .add_attribute("contracts", subs.len().to_string())
        .add_attribute("unreadable", unreadable.join("; "))
        .add_submessages(subs))
}

/// Internal `ExecuteRemoteMsgs`: like a proposal's messages, the last one replies so the
/// slashing-window rule is checked after all ran (breaking it fails them all).
pub fn execute_remote_msgs(
    env: &Env,
    info: &MessageInfo,
    mut msgs: Vec<CosmosMsg>,
) -> Result<Response, ContractError> {
    if info.sender != env.contract.address {
        return Err(ContractError::NotSelf);
    }
    let last = msgs.pop().ok_or(ContractError::NotExecuting)?;
    Ok(Response::new()
        .add_attribute("action", "execute_remote_msgs")
        .add_messages(msgs)
        .add_submessage(SubMsg::reply_on_success(
            last,
            crate::slashing::CHECK_REPLY_ID,
        )))
}

/// A remote execution that failed: the ack says so; nothing of it applied.
pub fn remote_failed(error: String) -> Result<Response, ContractError> {
    let reason = format!("remote execution failed: {error}");
    Ok(Response::new()
        .set_data(cosmwasm_std::StdAck::error(reason.clone()).to_binary())
        .add_event(
            Event::new(events::REMOTE_EXECUTION_RESULT)
                .add_attribute("executed", "false")
                .add_attribute("error", reason),
        ))
}

pub fn unreadable(e: StdError) -> ContractError {
    ContractError::InvalidPacket(e.to_string())
}
