//! `hmesh dao …` and `hmesh council …`: the governance contract.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use cosmwasm_std::{to_json_binary, Binary, CosmosMsg, Decimal, WasmMsg};
use healthmesh_types::attestation::ExecuteMsg as AttestationMsg;
use healthmesh_types::governance::{
    ConfigResponse, CouncilAction, CouncilActionResponse, CouncilResponse, ExecuteMsg,
    MembershipsResponse, NetworkResponse, ProposalResponse, ProposalsResponse, QueryMsg, Vote,
    VotesResponse, VotingRule,
};
use healthmesh_types::pause::{PausableExecuteMsg, PauseMsg};
use healthmesh_types::staking::{ExecuteMsg as StakingMsg, VotingPowerResponse};

use healthmesh_client::tx::parse_address;
use healthmesh_client::ChainInfo;

use super::read_file;
use crate::context::{Ctx, GlobalArgs};
use crate::output::{print_tx, print_value};

#[derive(Subcommand)]
pub enum DaoCommand {
    /// Submit a proposal. Its messages come from --msgs FILE (a JSON array of CosmosMsg)
    /// and/or typed shortcuts; the configured deposit is attached automatically.
    Propose(Box<ProposeArgs>),
    /// Submit a network proposal: open on this chain (its home) and on every linked chain,
    /// voted on each with `hmesh dao vote`, decided here on the sum of the chains' tallies.
    /// Same messages and shortcuts as `propose` (with --on they run on another chain).
    NetworkPropose(Box<ProposeArgs>),
    /// Send this chain's tally of an ended network proposal to its home chain.
    Tally { proposal_id: u64 },
    /// Governance channels, trusted chains, pause targets and the last network pause.
    Network,
    /// Holders of the DAO's membership token.
    Members {
        #[arg(long)]
        start_after: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Vote on an open proposal.
    Vote {
        proposal_id: u64,
        #[arg(value_enum)]
        vote: VoteArg,
    },
    /// Execute a passed proposal after its timelock.
    Execute { proposal_id: u64 },
    /// Close a rejected or expired proposal (refunds the deposit by policy).
    Close { proposal_id: u64 },
    /// List proposals, newest first.
    List {
        #[arg(long)]
        start_after: Option<u64>,
        #[arg(long)]
        limit: Option<u32>,
        /// Oldest first.
        #[arg(long)]
        oldest_first: bool,
    },
    /// Show one proposal.
    Show { proposal_id: u64 },
    /// Votes cast on a proposal.
    Votes {
        proposal_id: u64,
        #[arg(long)]
        start_after: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Voting power of an address (default: --from) at a height (default: latest).
    Power {
        address: Option<String>,
        #[arg(long)]
        height: Option<u64>,
    },
}

/// A proposal's title, description and messages (from a file and/or typed shortcuts).
#[derive(Args)]
pub struct ProposeArgs {
    #[arg(long)]
    title: String,
    #[arg(long, default_value = "")]
    description: String,
    /// JSON file with an array of CosmosMsg, e.g. [{"wasm":{"execute":{…}}}].
    #[arg(long)]
    msgs: Option<PathBuf>,
    /// Slash this attester's bond (address or role name) by --ratio.
    #[arg(long, requires = "ratio")]
    slash: Option<String>,
    /// Fraction to slash, e.g. 0.1.
    #[arg(long)]
    ratio: Option<Decimal>,
    /// Pause this contract (name from the deployment, or address).
    #[arg(long)]
    pause: Option<String>,
    /// Unpause this contract.
    #[arg(long)]
    unpause: Option<String>,
    /// Register this verifying key file (HMVK) with the attestation contract.
    #[arg(long)]
    set_vk: Option<PathBuf>,
    /// Issue this DAO's (soulbound) membership token to an address or role name; repeat.
    #[arg(long = "issue-membership")]
    issue_membership: Vec<String>,
    /// Revoke a member's token; repeat.
    #[arg(long = "revoke-membership")]
    revoke_membership: Vec<String>,
    /// Count votes by this rule from now on: stake, quadratic or membership.
    #[arg(long)]
    voting_rule: Option<RuleArg>,
    /// Reason recorded with a slash or pause.
    #[arg(long, default_value = "governance proposal")]
    reason: String,
    /// Run the messages on this chain (genomics|trials|billing) instead: its governance
    /// executes them when the passed proposal's packet arrives. Shortcut names resolve there.
    #[arg(long)]
    on: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RuleArg {
    Stake,
    Quadratic,
    Membership,
}

impl From<RuleArg> for VotingRule {
    fn from(r: RuleArg) -> Self {
        match r {
            RuleArg::Stake => VotingRule::Stake,
            RuleArg::Quadratic => VotingRule::Quadratic,
            RuleArg::Membership => VotingRule::Membership,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum VoteArg {
    Yes,
    No,
    Abstain,
    Veto,
}

impl From<VoteArg> for Vote {
    fn from(v: VoteArg) -> Self {
        match v {
            VoteArg::Yes => Vote::Yes,
            VoteArg::No => Vote::No,
            VoteArg::Abstain => Vote::Abstain,
            VoteArg::Veto => Vote::Veto,
        }
    }
}

#[derive(Subcommand)]
pub enum CouncilCommand {
    /// Propose (and approve) pausing a contract, or with --network every chain's pause
    /// targets (this chain's at once, the others' by packet, at the threshold approval).
    Pause {
        #[arg(required_unless_present = "network", conflicts_with = "network")]
        contract: Option<String>,
        #[arg(long)]
        network: bool,
        #[arg(long)]
        reason: String,
    },
    /// Propose (and approve) lifting a pause (--network: on every chain).
    Unpause {
        #[arg(required_unless_present = "network", conflicts_with = "network")]
        contract: Option<String>,
        #[arg(long)]
        network: bool,
    },
    /// Propose (and approve) vetoing a proposal in its timelock.
    Veto { proposal_id: u64 },
    /// Approve a pending council action; it executes at the threshold.
    Approve { action_id: u64 },
    /// Show a council action and its approvals.
    Show { action_id: u64 },
    /// Council members and threshold.
    Members,
}

pub async fn run(g: &GlobalArgs, command: DaoCommand) -> Result<()> {
    let ctx = Ctx::new(g)?;
    let governance = ctx.contract("governance")?;
    let network = matches!(command, DaoCommand::NetworkPropose(_));
    let msg = match command {
        DaoCommand::Propose(args) | DaoCommand::NetworkPropose(args) => {
            let ProposeArgs {
                title, description, ..
            } = &*args;
            let (title, description) = (title.clone(), description.clone());
            let msgs = proposal_msgs(g, &ctx, *args)?;
            let config: ConfigResponse = ctx.query(&governance, &QueryMsg::Config {}).await?;
            let funds = match config.deposit {
                Some(d) => vec![cosmrs::Coin {
                    denom: d
                        .amount
                        .denom
                        .parse()
                        .map_err(|e: cosmrs::ErrorReport| anyhow::anyhow!("{e}"))?,
                    amount: d.amount.amount.u128(),
                }],
                None => vec![],
            };
            let msg = if network {
                ExecuteMsg::NetworkPropose {
                    title,
                    description,
                    msgs,
                }
            } else {
                ExecuteMsg::Propose {
                    title,
                    description,
                    msgs,
                }
            };
            let outcome = ctx.execute(&governance, &msg, funds).await?;
            print_tx(&outcome, ctx.json());
            return Ok(());
        }
        DaoCommand::Tally { proposal_id } => ExecuteMsg::SendTally { proposal_id },
        DaoCommand::Network => {
            let n: NetworkResponse = ctx.query(&governance, &QueryMsg::Network {}).await?;
            print_value(&n);
            return Ok(());
        }
        DaoCommand::Vote { proposal_id, vote } => ExecuteMsg::Vote {
            proposal_id,
            vote: vote.into(),
        },
        DaoCommand::Execute { proposal_id } => ExecuteMsg::Execute { proposal_id },
        DaoCommand::Close { proposal_id } => ExecuteMsg::Close { proposal_id },
        DaoCommand::List {
            start_after,
            limit,
            oldest_first,
        } => {
            let q = QueryMsg::ListProposals {
                start_after,
                limit,
                reverse: Some(!oldest_first),
            };
            let page: ProposalsResponse = ctx.query(&governance, &q).await?;
            if ctx.json() {
                print_value(&page);
            } else {
                println!(
                    "{:>4}  {:<16} {:>12} {:>12}  TITLE",
                    "ID", "STATUS", "YES", "NO"
                );
                for p in page.proposals {
                    let status = serde_json::to_value(&p.status)?;
                    println!(
                        "{:>4}  {:<16} {:>12} {:>12}  {}",
                        p.id,
                        status.as_str().unwrap_or("?"),
                        p.tally.yes,
                        p.tally.no,
                        p.title
                    );
                }
            }
            return Ok(());
        }
        DaoCommand::Show { proposal_id } => {
            let p: ProposalResponse = ctx
                .query(&governance, &QueryMsg::Proposal { proposal_id })
                .await?;
            print_value(&p);
            return Ok(());
        }
        DaoCommand::Votes {
            proposal_id,
            start_after,
            limit,
        } => {
            let v: VotesResponse = ctx
                .query(
                    &governance,
                    &QueryMsg::Votes {
                        proposal_id,
                        start_after,
                        limit,
                    },
                )
                .await?;
            print_value(&v);
            return Ok(());
        }
        DaoCommand::Power { address, height } => {
            let address = match address {
                Some(a) => ctx.address(&a)?.to_string(),
                None => ctx.signer()?.address(&ctx.info.bech32_prefix)?,
            };
            let p: VotingPowerResponse = ctx
                .query(
                    &governance,
                    &QueryMsg::VotingPowerAtHeight { address, height },
                )
                .await?;
            print_value(&p);
            return Ok(());
        }
        DaoCommand::Members { start_after, limit } => {
            let q = QueryMsg::Memberships { start_after, limit };
            let page: MembershipsResponse = ctx.query(&governance, &q).await?;
            print_value(&page);
            return Ok(());
        }
    };
    let outcome = ctx.execute(&governance, &msg, vec![]).await?;
    print_tx(&outcome, ctx.json());
    Ok(())
}

pub async fn run_council(g: &GlobalArgs, command: CouncilCommand) -> Result<()> {
    let ctx = Ctx::new(g)?;
    let governance = ctx.contract("governance")?;
    let msg = match command {
        CouncilCommand::Pause {
            contract, reason, ..
        } => ExecuteMsg::CouncilPropose {
            action: match contract {
                None => CouncilAction::NetworkPause { reason },
                Some(contract) => CouncilAction::Pause {
                    contract: ctx.contract_or_address(&contract)?.to_string(),
                    reason,
                },
            },
        },
        CouncilCommand::Unpause { contract, .. } => ExecuteMsg::CouncilPropose {
            action: match contract {
                None => CouncilAction::NetworkUnpause {},
                Some(contract) => CouncilAction::Unpause {
                    contract: ctx.contract_or_address(&contract)?.to_string(),
                },
            },
        },
        CouncilCommand::Veto { proposal_id } => ExecuteMsg::CouncilPropose {
            action: CouncilAction::Veto { proposal_id },
        },
        CouncilCommand::Approve { action_id } => ExecuteMsg::CouncilApprove { action_id },
        CouncilCommand::Show { action_id } => {
            let a: CouncilActionResponse = ctx
                .query(&governance, &QueryMsg::CouncilAction { action_id })
                .await?;
            print_value(&a);
            return Ok(());
        }
        CouncilCommand::Members => {
            let c: CouncilResponse = ctx.query(&governance, &QueryMsg::Council {}).await?;
            print_value(&c);
            return Ok(());
        }
    };
    let outcome = ctx.execute(&governance, &msg, vec![]).await?;
    print_tx(&outcome, ctx.json());
    Ok(())
}

/// A `WasmMsg::Execute` for a proposal, carrying a contract's own message type.
fn wasm_execute<M: serde::Serialize>(contract: &str, msg: &M) -> Result<CosmosMsg> {
    Ok(CosmosMsg::Wasm(WasmMsg::Execute {
        contract_addr: contract.to_string(),
        msg: to_json_binary(msg)?,
        funds: vec![],
    }))
}

/// A JSON array of `CosmosMsg` (a single message is accepted too).
pub fn parse_msgs_file(path: &std::path::Path) -> Result<Vec<CosmosMsg>> {
    let bytes = read_file(path)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let list = match value {
        serde_json::Value::Array(items) => items,
        single => vec![single],
    };
    list.into_iter()
        .enumerate()
        .map(|(i, m)| {
            serde_json::from_value::<CosmosMsg>(m)
                .with_context(|| format!("{}: message {i} is not a CosmosMsg", path.display()))
        })
        .collect()
}

/// The chain a proposal's messages run on: this one, or `--on` another (whose governance runs
/// them); shortcut names resolve in its deployment.
struct Target {
    info: ChainInfo,
}

impl Target {
    fn contract(&self, name: &str) -> Result<String> {
        let address = self.info.contracts.get(name).ok_or_else(|| {
            anyhow::anyhow!("no {name} contract known for chain {}", self.info.chain_id)
        })?;
        self.address(address)
    }

    fn address(&self, name_or_address: &str) -> Result<String> {
        let account = self.info.account(name_or_address);
        Ok(parse_address(&account, &self.info.bech32_prefix)?.to_string())
    }

    fn contract_or_address(&self, name_or_address: &str) -> Result<String> {
        self.address(&self.info.contract(name_or_address))
    }
}

/// A proposal's messages from a file and the typed shortcuts, resolved on the target chain;
/// with `--on`, wrapped in one `SendRemote` to this chain's governance.
fn proposal_msgs(g: &GlobalArgs, ctx: &Ctx, args: ProposeArgs) -> Result<Vec<CosmosMsg>> {
    let ProposeArgs {
        msgs,
        slash,
        ratio,
        pause,
        unpause,
        set_vk,
        issue_membership,
        revoke_membership,
        voting_rule,
        reason,
        on,
        ..
    } = args;
    let remote = on.is_some();
    if remote
        && (!issue_membership.is_empty() || !revoke_membership.is_empty() || voting_rule.is_some())
    {
        bail!("--on: another chain's members and voting rule are its own DAO's decision (its governance refuses them); propose there instead");
    }
    let target = Target {
        info: match &on {
            Some(chain) => g.deployment()?.chain(chain)?.clone(),
            None => ctx.info.clone(),
        },
    };
    let mut all = match msgs {
        Some(path) => parse_msgs_file(&path)?,
        None => vec![],
    };
    if let (Some(attester), Some(ratio)) = (slash, ratio) {
        let attester = target.address(&attester)?;
        let slash = StakingMsg::Slash {
            attester: attester.clone(),
            ratio,
            reason: reason.clone(),
        };
        all.push(wasm_execute(&target.contract("staking")?, &slash)?);
        // In the same proposal: the slashed attester's anchors and attestations stop being
        // valid here and on every chain.
        let invalidate = AttestationMsg::InvalidateAttester { attester };
        all.push(wasm_execute(&target.contract("attestation")?, &invalidate)?);
    }
    let pausable = |contract: Option<String>, msg: PauseMsg| -> Result<Option<CosmosMsg>> {
        contract
            .map(|c| {
                let msg = PausableExecuteMsg::Pausable(msg);
                wasm_execute(&target.contract_or_address(&c)?, &msg)
            })
            .transpose()
    };
    all.extend(pausable(
        pause,
        PauseMsg::Pause {
            reason: reason.clone(),
        },
    )?);
    all.extend(pausable(unpause, PauseMsg::Unpause {})?);
    if let Some(path) = set_vk {
        let vk = read_file(&path)?;
        healthmesh_proofs::verifier::VerifyingKey::from_bytes(&vk)
            .map_err(|e| anyhow::anyhow!("{} is not a verifying key: {e}", path.display()))?;
        let msg = AttestationMsg::SetVerifyingKey {
            vk: Binary::new(vk),
        };
        all.push(wasm_execute(&target.contract("attestation")?, &msg)?);
    }
    let dao = target.contract("governance")?;
    for who in issue_membership {
        let address = target.address(&who)?;
        all.push(wasm_execute(
            &dao,
            &ExecuteMsg::IssueMembership { address },
        )?);
    }
    for who in revoke_membership {
        let address = target.address(&who)?;
        all.push(wasm_execute(
            &dao,
            &ExecuteMsg::RevokeMembership { address },
        )?);
    }
    if let Some(rule) = voting_rule {
        let update = ExecuteMsg::UpdateConfig {
            threshold: None,
            voting_period: None,
            timelock: None,
            allow_revote: None,
            voting_rule: Some(rule.into()),
        };
        all.push(wasm_execute(&dao, &update)?);
    }
    if all.is_empty() {
        bail!("a proposal needs messages: pass --msgs FILE or a shortcut (--slash, --pause, --unpause, --set-vk, --issue-membership, --revoke-membership, --voting-rule)");
    }
    if on.is_none() || target.info.chain_id == ctx.info.chain_id {
        return Ok(all);
    }
    let own = ctx.contract("governance")?.to_string();
    let remote = ExecuteMsg::SendRemote {
        chain_id: target.info.chain_id.clone(),
        msgs: all,
    };
    Ok(vec![wasm_execute(&own, &remote)?])
}
