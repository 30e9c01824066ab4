//! Registering trials: every term is checked before the trial is stored, so a registered
//! trial always has valid criteria, a coherent timeline and approved sites.

use cosmwasm_std::{Addr, Api, Coin, Env, Storage};
use healthmesh_controllers::validate;
use healthmesh_types::consent::MAX_ATTRIBUTE_LEN;
use healthmesh_types::trials::{
    Criterion, Milestone, Trial, TrialStatus, TrialTerms, MAX_CRITERIA, MAX_MILESTONES,
    MAX_TRIAL_SECONDS, MAX_TRIAL_SITES,
};

use crate::state::SITES;
use crate::ContractError;

fn invalid(reason: impl Into<String>) -> ContractError {
    ContractError::InvalidTrial(reason.into())
}

fn check_criterion(field: &'static str, c: &Criterion) -> Result<(), ContractError> {
    validate::identifier(field, &c.attribute, MAX_ATTRIBUTE_LEN)?;
    c.predicate
        .validate()
        .map_err(|e| invalid(format!("{field} {}: {e}", c.attribute)))
}

fn check_payout(name: &str, what: &str, coin: &Coin) -> Result<(), ContractError> {
    validate::bounded_text("payout denom", &coin.denom, 128)?;
    if coin.amount.is_zero() {
        return Err(invalid(format!(
            "milestone {name}: the {what} payout must be more than 0"
        )));
    }
    Ok(())
}

fn check_milestones(milestones: &[Milestone]) -> Result<(), ContractError> {
    if milestones.len() > MAX_MILESTONES {
        return Err(invalid(format!("at most {MAX_MILESTONES} milestones")));
    }
    for (i, m) in milestones.iter().enumerate() {
        validate::identifier("milestone name", &m.name, 32)?;
        if milestones[..i].iter().any(|other| other.name == m.name) {
            return Err(invalid(format!("milestone {} is named twice", m.name)));
        }
        check_criterion("milestone evidence", &m.evidence)?;
        check_payout(&m.name, "participant", &m.participant_payout)?;
        check_payout(&m.name, "site", &m.site_payout)?;
    }
    Ok(())
}

fn check_sites(
    storage: &dyn Storage,
    api: &dyn Api,
    sites: &[String],
) -> Result<Vec<Addr>, ContractError> {
    if sites.is_empty() || sites.len() > MAX_TRIAL_SITES {
        return Err(invalid(format!(
            "a trial names 1 to {MAX_TRIAL_SITES} sites"
        )));
    }
    let mut checked: Vec<Addr> = Vec::with_capacity(sites.len());
    for site in sites {
        let site = api.addr_validate(site)?;
        if !SITES.has(storage, &site) {
            return Err(ContractError::SiteNotApproved(site.to_string()));
        }
        if checked.contains(&site) {
            return Err(invalid(format!("site {site} is named twice")));
        }
        checked.push(site);
    }
    Ok(checked)
}

/// The trial `terms` describe, registered by `sponsor` as trial `id`.
pub fn build(
    storage: &dyn Storage,
    api: &dyn Api,
    env: &Env,
    id: u64,
    sponsor: Addr,
    terms: TrialTerms,
) -> Result<Trial, ContractError> {
    validate::commitment("protocol_hash", &terms.protocol_hash)?;
    if terms.criteria.is_empty() || terms.criteria.len() > MAX_CRITERIA {
        return Err(invalid(format!(
            "a trial has 1 to {MAX_CRITERIA} eligibility criteria"
        )));
    }
    for (i, c) in terms.criteria.iter().enumerate() {
        check_criterion("criterion", c)?;
        if terms.criteria[..i].contains(c) {
            return Err(invalid(format!(
                "criterion on {} is listed twice",
                c.attribute
            )));
        }
    }
    let now = env.block.time;
    let (opens, closes, ends) = (
        terms.enrollment_opens,
        terms.enrollment_closes,
        terms.ends_at,
    );
    if !(opens < closes && closes <= ends) {
        return Err(invalid(
            "enrollment must open before it closes, and close no later than the trial ends",
        ));
    }
    if ends <= now || ends.seconds() - now.seconds() > MAX_TRIAL_SECONDS {
        return Err(invalid("the trial must end in the future, within 10 years"));
    }
    if terms.capacity == 0 {
        return Err(invalid("capacity must be at least 1"));
    }
    let sites = check_sites(storage, api, &terms.sites)?;
    check_milestones(&terms.milestones)?;
    Ok(Trial {
        id,
        sponsor,
        protocol_hash: terms.protocol_hash,
        criteria: terms.criteria,
        enrollment_opens: opens,
        enrollment_closes: closes,
        ends_at: ends,
        capacity: terms.capacity,
        sites,
        milestones: terms.milestones,
        registered_at: now,
        status: TrialStatus::Active,
    })
}
