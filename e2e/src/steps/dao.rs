//! Step 4: a DAO proposal (raise the attester minimum bond) passes by vote transactions signed
//! by `hmesh` and executes; an out-of-gas vote and an unknown proposal are clear errors.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use cosmwasm_std::{to_json_binary, CosmosMsg, Uint128, WasmMsg};
use healthmesh_client::deployment::contract;
use healthmesh_types::events;
use healthmesh_types::governance::{MembershipsResponse, Status};
use healthmesh_types::staking::{Config, ExecuteMsg as StakingMsg, QueryMsg as StakingQuery};

use super::SOURCE;
use crate::evidence::Evidence;
use crate::net::{wait_for, Net};

const NEW_MIN_BOND: u128 = 1_500_000;

/// The proposal's one message, in the governance contract's own `CosmosMsg` type.
fn raise_min_bond(net: &Net) -> Result<Vec<CosmosMsg>> {
    let update = StakingMsg::UpdateConfig {
        min_bond: Some(Uint128::new(NEW_MIN_BOND)),
        unbonding_period: None,
        slashing_window: None,
        max_claims: None,
        slash_destination: None,
    };
    Ok(vec![CosmosMsg::Wasm(WasmMsg::Execute {
        contract_addr: net.contract(SOURCE, contract::STAKING)?,
        msg: to_json_binary(&update)?,
        funds: vec![],
    })])
}

pub fn run(net: &Net, ev: &mut Evidence) -> Result<()> {
    println!("== 4. DAO proposal by vote transactions");
    let file = std::env::temp_dir().join(format!("hmesh-e2e-msgs-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_vec(&raise_min_bond(net)?)?)?;
    let file = file.to_string_lossy().to_string();
    let propose = [
        "dao",
        "propose",
        "--title",
        "Raise the attester minimum bond",
        "--description",
        "e2e: 1.5 STAKE minimum",
        "--msgs",
        &file,
        // Membership tokens (soulbound, by proposal) for two DAO members; the DAO keeps
        // voting by stake.
        "--issue-membership",
        "dao-1",
        "--issue-membership",
        "dao-2",
    ];
    let tx = net.hmesh_tx(SOURCE, "dao-1", &propose)?;
    ev.measure("dao propose (hmesh)", &tx);
    let id = tx
        .attr(events::tx::PROPOSAL_CREATED, events::attr::PROPOSAL_ID)
        .context("proposal id")?;
    for voter in ["dao-1", "dao-2"] {
        ev.measure(
            "dao vote (hmesh)",
            &net.hmesh_tx(SOURCE, voter, &["dao", "vote", &id, "yes"])?,
        );
    }
    // A transaction that fails in the block (fixed gas too low, so no simulation catches it;
    // a vote costs ≈ 92k with the contracts pinned, the ante handler ≈ 40k of it):
    // hmesh reports the chain's code and log and exits non-zero; the vote is not counted.
    let failed = net.hmesh(
        SOURCE,
        &[
            "--from", "dao-3", "--gas", "70000", "dao", "vote", &id, "no",
        ],
    );
    ensure!(
        failed
            .as_ref()
            .is_err_and(|e| e.to_string().contains("failed at height")
                && e.to_string().contains("out of gas")),
        "an out-of-gas vote: {failed:?}"
    );
    let proposal = wait_for(
        "the proposal to pass and leave its timelock",
        Duration::from_secs(120),
        || {
            let p = net.hmesh(SOURCE, &["dao", "show", &id])?["proposal"].clone();
            let status: Status = serde_json::from_value(p["status"].clone())?;
            let executable_at: u128 = p["executable_at"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(u128::MAX);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_nanos();
            Ok((status == Status::Passed && now > executable_at + 2_000_000_000).then_some(status))
        },
    )?;
    ensure!(proposal == Status::Passed, "proposal {id}: {proposal:?}");
    ev.measure(
        "dao execute (hmesh)",
        &net.hmesh_tx(SOURCE, "dao-3", &["dao", "execute", &id])?,
    );
    let config: Config = net.query(SOURCE, contract::STAKING, &StakingQuery::Config {})?;
    ensure!(
        config.min_bond == Uint128::new(NEW_MIN_BOND),
        "proposal {id} executed but min_bond is {}",
        config.min_bond
    );
    let members: MembershipsResponse =
        serde_json::from_value(net.hmesh(SOURCE, &["dao", "members"])?)?;
    for who in ["dao-1", "dao-2"] {
        let address = net.account(SOURCE, who)?;
        ensure!(
            members.members.iter().any(|m| m.as_str() == address),
            "{who} holds no membership token after the proposal: {members:?}"
        );
    }
    let missing = net.hmesh(SOURCE, &["dao", "show", "999999"]);
    ensure!(
        missing
            .as_ref()
            .is_err_and(|e| e.to_string().contains("proposal 999999 not found")),
        "hmesh dao show 999999: {missing:?}"
    );
    println!("   proposal {id} passed by hmesh votes and executed (min_bond now {NEW_MIN_BOND}; membership tokens issued to dao-1 and dao-2, listed by hmesh dao members); an out-of-gas vote and an unknown proposal were clear errors");
    Ok(())
}
