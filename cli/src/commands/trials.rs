//! `hmesh trials …`: the trials contract on trials-1 (`--chain trials`).

use anyhow::{anyhow, bail, Context as _, Result};
use clap::Subcommand;
use cosmwasm_std::{coin, Timestamp};
use healthmesh_types::billing::{self, TrialBudget};
use healthmesh_types::trials::{
    BudgetLink, Criterion, ExecuteMsg, Milestone, MilestoneClaim, MilestoneClaimsResponse,
    Operator, ParticipantResponse, ParticipantsResponse, Predicate, QueryMsg, SitesResponse, Trial,
    TrialTerms, TrialsResponse,
};

use super::parse_hex;
use crate::context::{Ctx, GlobalArgs};
use crate::output::{print_tx, print_value};

#[derive(Subcommand)]
pub enum TrialsCommand {
    /// Register a trial (signed by the sponsor); prints the trial id in its event.
    Register {
        /// SHA-256 of the protocol document, hex.
        #[arg(long)]
        protocol_hash: String,
        /// An eligibility criterion, `ATTRIBUTE OP VALUE[,VALUE…]`, e.g. "hba1c lt 70"; repeat.
        #[arg(long = "criterion", required = true)]
        criteria: Vec<String>,
        /// Enrollment stays open this many days from now.
        #[arg(long)]
        enrollment_days: u64,
        /// The trial ends this many days from now.
        #[arg(long)]
        duration_days: u64,
        #[arg(long)]
        capacity: u32,
        /// Sites (addresses or role names), comma separated; each approved by governance.
        #[arg(long, value_delimiter = ',', required = true)]
        sites: Vec<String>,
        /// A milestone, `NAME:ATTRIBUTE OP VALUE:PARTICIPANT_PAYOUT:SITE_PAYOUT`, e.g.
        /// "visit-3:visits_completed gte 3:500:200" (payouts in the chain's denom); repeat.
        #[arg(long = "milestone")]
        milestones: Vec<String>,
    },
    /// Show one trial.
    Show { trial_id: u64 },
    /// List trials, newest first (only a sponsor's with --sponsor).
    List {
        #[arg(long)]
        sponsor: Option<String>,
        #[arg(long)]
        start_before: Option<u64>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Enroll (signed by the patient) with attestations held on this chain, under one consent
    /// granted to the trials contract for trial:<id>, covering every criterion.
    Enroll {
        trial_id: u64,
        /// Attestation ids on this chain, comma separated.
        #[arg(long, value_delimiter = ',', required = true)]
        attestations: Vec<u64>,
    },
    /// Leave a trial (signed by the participant).
    Withdraw { trial_id: u64 },
    /// A participant and whether their enrollment holds now (default: --from).
    Participant {
        trial_id: u64,
        #[arg(long)]
        address: Option<String>,
    },
    /// A trial's participants.
    Participants {
        trial_id: u64,
        #[arg(long)]
        start_after: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Sites approved by governance.
    Sites,
    /// Claim a milestone for a participant (signed by a site of the trial) with an attestation
    /// the site made under the participant's enrollment consent; the payout is sent to the
    /// billing chain. With --show, print the claim and its fate instead.
    Milestone {
        trial_id: u64,
        /// The milestone's name, e.g. visit-3.
        #[arg(long)]
        milestone: String,
        /// The participant (address or role name).
        #[arg(long)]
        participant: String,
        /// The site's attestation on this chain showing the milestone.
        #[arg(long, required_unless_present = "show")]
        attestation: Option<u64>,
        #[arg(long)]
        show: bool,
    },
    /// A trial's milestone claims and their fate (trials chain).
    Claims {
        trial_id: u64,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// A trial's budget. On the billing chain (`--chain billing`): show it, or with --fund
    /// add to it, or with --reclaim take back what is left after the trial's end (signed by
    /// the sponsor's key). On the trials chain: show what billing answered to its terms, or
    /// with --announce send the terms again.
    Budget {
        trial_id: u64,
        /// Amount in the chain's denom to add to the budget (billing chain).
        #[arg(long, conflicts_with_all = ["reclaim", "announce"])]
        fund: Option<u128>,
        #[arg(long, conflicts_with = "announce")]
        reclaim: bool,
        #[arg(long)]
        announce: bool,
        /// The chain of the trials contract (deployment name or chain id).
        #[arg(long, default_value = "trials")]
        trials_chain: String,
    },
}

/// `ATTRIBUTE OP VALUE[,VALUE…]`.
fn parse_criterion(text: &str) -> Result<Criterion> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [attribute, op, values] = parts.as_slice() else {
        bail!("a criterion is ATTRIBUTE OP VALUES, e.g. \"hba1c lt 70\"; got {text:?}");
    };
    let op = Operator::from_name(op).map_err(|e| anyhow!("{text:?}: {e}"))?;
    let values = values
        .split(',')
        .map(|v| v.parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{text:?}: values must be whole numbers"))?;
    let predicate = Predicate::new(op, values).map_err(|e| anyhow!("{text:?}: {e}"))?;
    Ok(Criterion {
        attribute: attribute.to_string(),
        predicate,
    })
}

/// `NAME:ATTRIBUTE OP VALUE:PARTICIPANT_PAYOUT:SITE_PAYOUT`.
fn parse_milestone(text: &str, denom: &str) -> Result<Milestone> {
    let parts: Vec<&str> = text.split(':').collect();
    let [name, evidence, participant, site] = parts.as_slice() else {
        bail!("a milestone is NAME:CRITERION:PARTICIPANT_PAYOUT:SITE_PAYOUT; got {text:?}");
    };
    let amount = |s: &str| {
        s.parse::<u128>()
            .with_context(|| format!("{text:?}: payouts must be whole numbers"))
    };
    Ok(Milestone {
        name: name.to_string(),
        evidence: parse_criterion(evidence)?,
        participant_payout: coin(amount(participant)?, denom),
        site_payout: coin(amount(site)?, denom),
    })
}

fn days_from_now(days: u64) -> Result<Timestamp> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    Ok(Timestamp::from_seconds(
        now.saturating_add(days.saturating_mul(86_400)),
    ))
}

/// `hmesh trials budget` on the billing chain: the billing contract's side of the budget.
async fn billing_budget(
    ctx: &Ctx<'_>,
    trials_chain: &str,
    trial_id: u64,
    fund: Option<u128>,
    reclaim: bool,
) -> Result<()> {
    let billing = ctx.contract("billing")?;
    let chain_id = ctx
        .args
        .deployment()
        .ok()
        .and_then(|d| d.chain(trials_chain).ok().map(|c| c.chain_id.clone()))
        .unwrap_or_else(|| trials_chain.to_string());
    let (msg, funds) = match (fund, reclaim) {
        (Some(amount), _) => (
            billing::ExecuteMsg::FundTrial { chain_id, trial_id },
            vec![ctx.coin(amount)?],
        ),
        (None, true) => (
            billing::ExecuteMsg::ReclaimTrialBudget { chain_id, trial_id },
            vec![],
        ),
        (None, false) => {
            let q = billing::QueryMsg::TrialBudget { chain_id, trial_id };
            let budget: TrialBudget = ctx.query(&billing, &q).await?;
            print_value(&budget);
            return Ok(());
        }
    };
    let outcome = ctx.execute(&billing, &msg, funds).await?;
    print_tx(&outcome, ctx.json());
    Ok(())
}

pub async fn run(g: &GlobalArgs, command: TrialsCommand) -> Result<()> {
    let ctx = Ctx::new(g)?;
    if let TrialsCommand::Budget {
        trial_id,
        fund,
        reclaim,
        announce: false,
        trials_chain,
    } = &command
    {
        if ctx.info.contracts.contains_key("billing") {
            return billing_budget(&ctx, trials_chain, *trial_id, *fund, *reclaim).await;
        }
        if fund.is_some() || *reclaim {
            bail!("--fund and --reclaim run on the billing chain: add --chain billing");
        }
    }
    let trials = ctx.contract("trials")?;
    let msg = match command {
        TrialsCommand::Register {
            protocol_hash,
            criteria,
            enrollment_days,
            duration_days,
            capacity,
            sites,
            milestones,
        } => {
            let sites = sites
                .iter()
                .map(|s| ctx.address(s).map(|a| a.to_string()))
                .collect::<Result<Vec<_>>>()?;
            let terms = TrialTerms {
                protocol_hash: parse_hex("--protocol-hash", &protocol_hash)?,
                criteria: criteria
                    .iter()
                    .map(|c| parse_criterion(c))
                    .collect::<Result<_>>()?,
                enrollment_opens: days_from_now(0)?,
                enrollment_closes: days_from_now(enrollment_days)?,
                ends_at: days_from_now(duration_days)?,
                capacity,
                sites,
                milestones: milestones
                    .iter()
                    .map(|m| parse_milestone(m, &ctx.info.denom))
                    .collect::<Result<_>>()?,
            };
            ExecuteMsg::RegisterTrial(terms)
        }
        TrialsCommand::Enroll {
            trial_id,
            attestations,
        } => ExecuteMsg::Enroll {
            trial_id,
            attestation_ids: attestations,
        },
        TrialsCommand::Withdraw { trial_id } => ExecuteMsg::Withdraw { trial_id },
        TrialsCommand::Show { trial_id } => {
            let trial: Trial = ctx.query(&trials, &QueryMsg::Trial { trial_id }).await?;
            print_value(&trial);
            return Ok(());
        }
        TrialsCommand::List {
            sponsor,
            start_before,
            limit,
        } => {
            let q = QueryMsg::Trials {
                sponsor: sponsor
                    .map(|s| ctx.address(&s).map(|a| a.to_string()))
                    .transpose()?,
                start_before,
                limit,
            };
            let page: TrialsResponse = ctx.query(&trials, &q).await?;
            print_value(&page);
            return Ok(());
        }
        TrialsCommand::Participant { trial_id, address } => {
            let participant = match address {
                Some(a) => ctx.address(&a)?.to_string(),
                None => ctx.signer()?.address(&ctx.info.bech32_prefix)?,
            };
            let q = QueryMsg::Participant {
                trial_id,
                participant,
            };
            let answer: ParticipantResponse = ctx.query(&trials, &q).await?;
            print_value(&answer);
            return Ok(());
        }
        TrialsCommand::Participants {
            trial_id,
            start_after,
            limit,
        } => {
            let q = QueryMsg::Participants {
                trial_id,
                start_after,
                limit,
            };
            let page: ParticipantsResponse = ctx.query(&trials, &q).await?;
            print_value(&page);
            return Ok(());
        }
        TrialsCommand::Milestone {
            trial_id,
            milestone,
            participant,
            attestation,
            show,
        } => {
            let participant = ctx.address(&participant)?.to_string();
            if show {
                let q = QueryMsg::MilestoneClaim {
                    trial_id,
                    milestone,
                    participant,
                };
                let claim: MilestoneClaim = ctx.query(&trials, &q).await?;
                print_value(&claim);
                return Ok(());
            }
            ExecuteMsg::ClaimMilestone {
                trial_id,
                milestone,
                participant,
                attestation_id: attestation.context("--attestation")?,
            }
        }
        TrialsCommand::Claims { trial_id, limit } => {
            let q = QueryMsg::MilestoneClaims {
                trial_id,
                start_after: None,
                limit,
            };
            let page: MilestoneClaimsResponse = ctx.query(&trials, &q).await?;
            print_value(&page);
            return Ok(());
        }
        TrialsCommand::Budget {
            trial_id, announce, ..
        } => {
            if !announce {
                let link: BudgetLink = ctx
                    .query(&trials, &QueryMsg::BudgetLink { trial_id })
                    .await?;
                print_value(&link);
                return Ok(());
            }
            ExecuteMsg::AnnounceBudget { trial_id }
        }
        TrialsCommand::Sites => {
            let q = QueryMsg::Sites {
                start_after: None,
                limit: Some(30),
            };
            let sites: SitesResponse = ctx.query(&trials, &q).await?;
            print_value(&sites);
            return Ok(());
        }
    };
    let outcome = ctx.execute(&trials, &msg, vec![]).await?;
    print_tx(&outcome, ctx.json());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_and_milestones_parse_or_say_why_not() {
        let c = parse_criterion("hba1c lt 70").unwrap();
        assert_eq!(c.attribute, "hba1c");
        assert_eq!(c.predicate, Predicate::new(Operator::Lt, vec![70]).unwrap());
        let c = parse_criterion("genotype:apoe in 2,3").unwrap();
        assert_eq!(c.predicate.values, vec![2, 3]);
        for bad in [
            "hba1c lt",
            "hba1c about 70",
            "hba1c lt seventy",
            "bmi between 30,20",
        ] {
            assert!(parse_criterion(bad).is_err(), "{bad}");
        }
        let m = parse_milestone("visit-3:visits_completed gte 3:500:200", "ustake").unwrap();
        assert_eq!(m.name, "visit-3");
        assert_eq!(m.participant_payout, coin(500, "ustake"));
        assert_eq!(m.site_payout, coin(200, "ustake"));
        assert!(parse_milestone("visit-3:visits_completed gte 3:500", "ustake").is_err());
    }
}
