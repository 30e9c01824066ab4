//! `hmesh stake …`: the staking contract.

use anyhow::Result;
use clap::Subcommand;
use cosmwasm_std::Uint128;
use healthmesh_types::staking::{ExecuteMsg, QueryMsg, StakeResponse};

use crate::context::{Ctx, GlobalArgs};
use crate::output::{print_tx, print_value};

#[derive(Subcommand)]
pub enum StakeCommand {
    /// Bond AMOUNT of the chain's denom (e.g. 1000000).
    Bond { amount: u128 },
    /// Start unbonding AMOUNT; claimable after the unbonding period.
    Unbond { amount: u128 },
    /// Withdraw matured claims.
    Claim,
    /// Bond, attester status, pending rewards and claims of an address (default: --from).
    Show { address: Option<String> },
    /// Withdraw pending rewards.
    Rewards,
}

pub async fn run(g: &GlobalArgs, command: StakeCommand) -> Result<()> {
    let ctx = Ctx::new(g)?;
    let staking = ctx.contract("staking")?;
    let (msg, funds) = match command {
        StakeCommand::Bond { amount } => (ExecuteMsg::Bond {}, vec![ctx.coin(amount)?]),
        StakeCommand::Unbond { amount } => (
            ExecuteMsg::Unbond {
                amount: Uint128::new(amount),
            },
            vec![],
        ),
        StakeCommand::Claim => (ExecuteMsg::Claim {}, vec![]),
        StakeCommand::Rewards => (ExecuteMsg::WithdrawRewards {}, vec![]),
        StakeCommand::Show { address } => {
            let address = match address {
                Some(a) => ctx.address(&a)?.to_string(),
                None => ctx.signer()?.address(&ctx.info.bech32_prefix)?,
            };
            let stake: StakeResponse = ctx.query(&staking, &QueryMsg::Stake { address }).await?;
            print_value(&stake);
            return Ok(());
        }
    };
    let outcome = ctx.execute(&staking, &msg, funds).await?;
    print_tx(&outcome, ctx.json());
    Ok(())
}
