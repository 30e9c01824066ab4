//! Milestone payouts: a site claims a milestone for a participant with an attestation it made,
//! under the consent the participant enrolled with, proving the milestone's evidence. Judged
//! here, where the enrollment lives (participant active, site of the trial and still approved,
//! trial running, never paid or in flight), then sent to the billing chain over this
//! contract's own channel (`healthmesh-trials-1`), which pays from the trial's budget once.
//! Registration announces the trial's budget terms there (sponsor, end).

use cosmwasm_std::{
    to_json_binary, Addr, Binary, CosmosMsg, Deps, DepsMut, Env, Event, IbcMsg, IbcTimeout,
    MessageInfo, Response, Storage,
};
use healthmesh_types::attestation::{Attestation, AttestationStatus};
use healthmesh_types::events::{self, attr};
use healthmesh_types::ibc::BoundChannel;
use healthmesh_types::settle::ACCOUNT_ADDRESS_LEN;
use healthmesh_types::trial_pay::{BudgetTerms, MilestonePayout, TrialPacket};
use healthmesh_types::trials::{BudgetLink, BudgetLinkStatus, ClaimStatus, MilestoneClaim, Trial};

use crate::contract::load;
use crate::eligibility::implies;
use crate::enrollment::{assert_not_suspended, attestation, participant};
use crate::state::{BILLING, BUDGET_LINKS, CLAIMS, PACKET_TIMEOUT, PAUSE, SITES};
use crate::ContractError;

/// The open channel to the (one) trusted billing contract.
pub fn billing_channel(storage: &dyn Storage) -> Result<BoundChannel, ContractError> {
    let allowed = BILLING.allowed_connections(storage)?;
    let chain = allowed
        .first()
        .map(|a| a.chain_id.clone())
        .ok_or(ContractError::NoBillingChannel)?;
    BILLING
        .channel_to(storage, &chain)
        .map_err(|_| ContractError::NoBillingChannel)
}

fn send(
    storage: &dyn Storage,
    env: &Env,
    channel: &str,
    packet: &TrialPacket,
) -> Result<CosmosMsg, ContractError> {
    let timeout = env.block.time.plus_seconds(PACKET_TIMEOUT.load(storage)?);
    Ok(IbcMsg::SendPacket {
        channel_id: channel.into(),
        data: to_json_binary(packet)?,
        timeout: IbcTimeout::with_timestamp(timeout),
    }
    .into())
}

fn canonical_account(deps: Deps, address: &Addr, what: &str) -> Result<Binary, ContractError> {
    let bytes = deps.api.addr_canonicalize(address.as_str())?;
    if bytes.len() != ACCOUNT_ADDRESS_LEN {
        return Err(ContractError::NotKeyAccount(format!("{what} {address}")));
    }
    Ok(bytes.into())
}

/// The budget terms packet of `trial` on `channel`, recorded as announced.
fn announce(
    deps: DepsMut,
    env: &Env,
    trial: &Trial,
    channel: &str,
) -> Result<(CosmosMsg, Event), ContractError> {
    let terms = BudgetTerms {
        trial_id: trial.id,
        sponsor: canonical_account(deps.as_ref(), &trial.sponsor, "sponsor")?,
        ends_at: trial.ends_at,
    };
    let msg = send(deps.storage, env, channel, &TrialPacket::OpenBudget(terms))?;
    let status = BudgetLinkStatus::Announced {
        channel_id: channel.into(),
    };
    BUDGET_LINKS.save(deps.storage, trial.id, &status)?;
    let event = Event::new(events::BUDGET_ANNOUNCED)
        .add_attribute(attr::TRIAL_ID, trial.id.to_string())
        .add_attribute(attr::CHANNEL_ID, channel);
    Ok((msg, event))
}

/// At registration: announce the budget when a billing channel is open and the sponsor is a
/// key account; otherwise the sponsor announces it later (`announce_budget`).
pub fn announce_at_registration(
    deps: DepsMut,
    env: &Env,
    trial: &Trial,
    response: Response,
) -> Result<Response, ContractError> {
    let key_sponsor = canonical_account(deps.as_ref(), &trial.sponsor, "sponsor").is_ok();
    match billing_channel(deps.storage) {
        Ok(channel) if key_sponsor && !trial.milestones.is_empty() => {
            let (msg, event) = announce(deps, env, trial, &channel.channel_id)?;
            Ok(response.add_message(msg).add_event(event))
        }
        _ => {
            BUDGET_LINKS.save(deps.storage, trial.id, &BudgetLinkStatus::NotAnnounced)?;
            Ok(response)
        }
    }
}

pub fn announce_budget(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    trial_id: u64,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let trial = load(deps.as_ref(), trial_id)?;
    if trial.sponsor != info.sender {
        return Err(ContractError::NotSponsor(trial_id));
    }
    if env.block.time >= trial.ends_at {
        return Err(ContractError::TrialEnded(trial_id));
    }
    match BUDGET_LINKS.may_load(deps.storage, trial_id)? {
        Some(BudgetLinkStatus::Announced { .. }) => {
            return Err(ContractError::BudgetInFlight(trial_id))
        }
        Some(BudgetLinkStatus::Open { .. }) => return Err(ContractError::BudgetOpen(trial_id)),
        _ => {}
    }
    let channel = billing_channel(deps.storage)?;
    let (msg, event) = announce(deps, &env, &trial, &channel.channel_id)?;
    Ok(Response::new()
        .add_attribute("action", "announce_budget")
        .add_message(msg)
        .add_event(event))
}

pub fn budget_link(deps: Deps, trial_id: u64) -> Result<BudgetLink, ContractError> {
    load(deps, trial_id)?;
    Ok(BudgetLink {
        trial_id,
        status: BUDGET_LINKS
            .may_load(deps.storage, trial_id)?
            .unwrap_or(BudgetLinkStatus::NotAnnounced),
    })
}

/// The fields of a `ClaimMilestone` message.
pub struct Claim {
    pub trial_id: u64,
    pub milestone: String,
    pub participant: String,
    pub attestation_id: u64,
}

pub fn claim(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    claim: Claim,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let trial = load(deps.as_ref(), claim.trial_id)?;
    assert_running(&trial, &env)?;
    let milestone = trial
        .milestones
        .iter()
        .find(|m| m.name == claim.milestone)
        .ok_or_else(|| ContractError::UnknownMilestone {
            trial_id: trial.id,
            milestone: claim.milestone.clone(),
        })?;
    let site = info.sender;
    if !trial.sites.contains(&site) || !SITES.has(deps.storage, &site) {
        return Err(ContractError::NotASite {
            trial_id: trial.id,
            address: site.to_string(),
        });
    }
    let participant_addr = deps.api.addr_validate(&claim.participant)?;
    let standing = participant(deps.as_ref(), trial.id, &participant_addr)?;
    if let Some(reason) = standing.reason {
        return Err(ContractError::ParticipantInactive {
            trial_id: trial.id,
            reason,
        });
    }
    let key = (trial.id, claim.milestone.as_str(), &participant_addr);
    if let Some(previous) = CLAIMS.may_load(deps.storage, key)? {
        if !matches!(previous.status, ClaimStatus::Unpaid { .. }) {
            return Err(ContractError::AlreadyClaimed {
                trial_id: trial.id,
                milestone: claim.milestone.clone(),
            });
        }
    }
    let evidence = attestation(deps.as_ref(), claim.attestation_id)?;
    check_evidence(
        deps.as_ref(),
        &standing.enrollment,
        &evidence,
        &site,
        milestone,
    )?;
    let channel = billing_channel(deps.storage)?;

    let payout = MilestonePayout {
        trial_id: trial.id,
        milestone: milestone.name.clone(),
        participant: canonical_account(deps.as_ref(), &participant_addr, "participant")?,
        site: canonical_account(deps.as_ref(), &site, "site")?,
        participant_payout: milestone.participant_payout.clone(),
        site_payout: milestone.site_payout.clone(),
        attestation_id: claim.attestation_id,
    };
    let msg = send(
        deps.storage,
        &env,
        &channel.channel_id,
        &TrialPacket::Milestone(payout),
    )?;
    let record = MilestoneClaim {
        trial_id: trial.id,
        milestone: milestone.name.clone(),
        participant: participant_addr.clone(),
        site: site.clone(),
        attestation_id: claim.attestation_id,
        participant_payout: milestone.participant_payout.clone(),
        site_payout: milestone.site_payout.clone(),
        claimed_at: env.block.time,
        status: ClaimStatus::InFlight {
            channel_id: channel.channel_id.clone(),
        },
    };
    CLAIMS.save(deps.storage, key, &record)?;
    let event = Event::new(events::MILESTONE_CLAIMED)
        .add_attribute(attr::TRIAL_ID, trial.id.to_string())
        .add_attribute(attr::MILESTONE, &milestone.name)
        .add_attribute(attr::PARTICIPANT, &participant_addr)
        .add_attribute("site", &site)
        .add_attribute(attr::ATTESTATION_ID, claim.attestation_id.to_string())
        .add_attribute(attr::CHANNEL_ID, &channel.channel_id);
    Ok(Response::new()
        .add_attribute("action", "claim_milestone")
        .add_message(msg)
        .add_event(event))
}

fn assert_running(trial: &Trial, env: &Env) -> Result<(), ContractError> {
    assert_not_suspended(trial)?;
    if env.block.time >= trial.ends_at {
        return Err(ContractError::TrialEnded(trial.id));
    }
    Ok(())
}

/// The attestation is valid, made by the claiming site, under the participant's enrollment
/// consent, and proves the milestone's evidence.
fn check_evidence(
    deps: Deps,
    enrollment: &healthmesh_types::trials::Enrollment,
    a: &Attestation,
    site: &Addr,
    milestone: &healthmesh_types::trials::Milestone,
) -> Result<(), ContractError> {
    let refuse = |why: String| ContractError::EvidenceRefused {
        attestation_id: a.id,
        reason: why,
    };
    if let AttestationStatus::Revoked { reason, .. } = &a.status {
        return Err(refuse(format!("no longer valid: {reason}")));
    }
    if a.recorded_at < enrollment.enrolled_at {
        return Err(refuse(
            "recorded before the participant enrolled: a milestone is reached in the trial".into(),
        ));
    }
    if a.context.chain_id != enrollment.source_chain
        || a.context.consent_id != enrollment.consent_id
    {
        return Err(refuse(
            "not under the consent the participant enrolled with".into(),
        ));
    }
    // The attester is an address of the source chain: the same key as the site when its
    // canonical bytes are the site's.
    let site_bytes = deps.api.addr_canonicalize(site.as_str())?;
    let attester = deps.api.addr_canonicalize(&a.attester).ok();
    if attester.as_ref() != Some(&site_bytes) {
        return Err(refuse(format!("made by {}, not by the site", a.attester)));
    }
    let evidence = &milestone.evidence;
    if a.attribute != evidence.attribute || !implies(&a.predicate, &evidence.predicate) {
        return Err(refuse(format!(
            "it does not show {} {} {:?}",
            evidence.attribute,
            evidence.predicate.op.name(),
            evidence.predicate.values
        )));
    }
    Ok(())
}
