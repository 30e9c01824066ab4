//! Staking on multi-test: bonding, capped claims, rewards, slashing window, hooks that fail,
//! pausing that cannot lock funds forever.

use cosmwasm_std::{coins, Addr, Decimal, Empty, Response, StdError, StdResult, Uint128};
use cw_multi_test::{ContractWrapper, Executor};
use healthmesh_controllers::pause::PauseError;
use healthmesh_staking::ContractError;
use healthmesh_testing::consent::event_attr;
use healthmesh_testing::dao::{DaoSuite, DAY, DENOM, MAX_CLAIMS, SLASHING_WINDOW, UNBONDING};
use healthmesh_testing::{contract_error, storage_snapshot};
use healthmesh_types::pause::PauseMsg;
use healthmesh_types::staking::{self, ExecuteMsg, QueryMsg};

fn unbond(amount: u128) -> ExecuteMsg {
    ExecuteMsg::Unbond {
        amount: Uint128::new(amount),
    }
}

/// Runs a staking message as governance would after a passed proposal.
fn as_governance(
    suite: &mut DaoSuite,
    msg: &ExecuteMsg,
) -> anyhow::Result<cw_multi_test::AppResponse> {
    let (gov, staking) = (suite.governance.clone(), suite.staking.clone());
    suite.exec(&gov, &staking, msg, &[])
}

#[test]
fn attesters_are_active_at_min_bond() {
    let suite = DaoSuite::new();
    let active = |who: &Addr| -> bool {
        let res: staking::IsActiveAttesterResponse = suite
            .app
            .wrap()
            .query_wasm_smart(
                &suite.staking,
                &QueryMsg::IsActiveAttester {
                    address: who.to_string(),
                },
            )
            .unwrap();
        res.active
    };
    assert!(active(&suite.hospital));
    assert!(active(&suite.lab));
    assert!(!active(&suite.clinic), "100 is below the 200 minimum");
    assert!(!active(&suite.latecomer));
}

#[test]
fn claims_are_capped_and_released_at_maturity() {
    let mut suite = DaoSuite::new();
    let (lab, staking_addr) = (suite.lab.clone(), suite.staking.clone());
    for _ in 0..MAX_CLAIMS {
        suite.exec(&lab, &staking_addr, &unbond(10), &[]).unwrap();
    }
    let before = storage_snapshot(&suite.app, &staking_addr);
    let err = suite
        .exec(&lab, &staking_addr, &unbond(10), &[])
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::TooManyClaims { max: MAX_CLAIMS }
    );
    let err = suite
        .exec(&lab, &staking_addr, &ExecuteMsg::Claim {}, &[])
        .unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::NothingToClaim { .. }
    ));
    assert_eq!(storage_snapshot(&suite.app, &staking_addr), before);

    suite.next_block(UNBONDING);
    let balance = suite.balance(&lab);
    suite
        .exec(&lab, &staking_addr, &ExecuteMsg::Claim {}, &[])
        .unwrap();
    assert_eq!(suite.balance(&lab), balance + 30);
    assert!(suite.stake(&lab).claims.is_empty());
    assert_eq!(suite.stake(&lab).bonded, Uint128::new(270));
    suite.exec(&lab, &staking_addr, &unbond(10), &[]).unwrap();
}

#[test]
fn malformed_staking_messages_are_refused() {
    let mut suite = DaoSuite::new();
    let (lab, staking_addr) = (suite.lab.clone(), suite.staking.clone());
    let before = storage_snapshot(&suite.app, &staking_addr);
    let err = suite
        .exec(&lab, &staking_addr, &unbond(0), &[])
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::ZeroAmount
    );
    let err = suite
        .exec(&lab, &staking_addr, &unbond(301), &[])
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::InsufficientBond {
            requested: Uint128::new(301),
            bonded: Uint128::new(300)
        }
    );
    let err = suite
        .exec(&lab, &staking_addr, &ExecuteMsg::Bond {}, &[])
        .unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::Payment(_)
    ));
    let err = suite
        .exec(&lab, &staking_addr, &ExecuteMsg::WithdrawRewards {}, &[])
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::NoRewards
    );
    for ratio in [Decimal::zero(), Decimal::percent(101)] {
        let slash = ExecuteMsg::Slash {
            attester: lab.to_string(),
            ratio,
            reason: "r".into(),
        };
        let err = as_governance(&mut suite, &slash).unwrap_err();
        assert_eq!(
            contract_error::<ContractError>(err),
            ContractError::InvalidRatio(ratio)
        );
    }
    assert_eq!(storage_snapshot(&suite.app, &staking_addr), before);
}

#[test]
fn rewards_are_shared_pro_rata_without_loops() {
    let mut suite = DaoSuite::new();
    let (hospital, lab, clinic, latecomer) = (
        suite.hospital.clone(),
        suite.lab.clone(),
        suite.clinic.clone(),
        suite.latecomer.clone(),
    );
    let staking_addr = suite.staking.clone();
    suite
        .exec(
            &latecomer,
            &staking_addr,
            &ExecuteMsg::DistributeRewards {},
            &coins(1_000, DENOM),
        )
        .unwrap();
    // Bonding later earns nothing from the past distribution.
    suite.bond(&latecomer, 1_000).unwrap();
    assert_eq!(suite.stake(&hospital).pending_rewards, Uint128::new(600));
    assert_eq!(suite.stake(&lab).pending_rewards, Uint128::new(300));
    assert_eq!(suite.stake(&clinic).pending_rewards, Uint128::new(100));
    assert_eq!(suite.stake(&latecomer).pending_rewards, Uint128::zero());
    suite
        .exec(
            &latecomer,
            &staking_addr,
            &ExecuteMsg::DistributeRewards {},
            &coins(200, DENOM),
        )
        .unwrap();
    assert_eq!(suite.stake(&latecomer).pending_rewards, Uint128::new(100));
    let before = suite.balance(&lab);
    suite
        .exec(&lab, &staking_addr, &ExecuteMsg::WithdrawRewards {}, &[])
        .unwrap();
    assert_eq!(suite.balance(&lab), before + 330);
    assert_eq!(suite.stake(&lab).pending_rewards, Uint128::zero());
}

/// M-4: a custodian cannot unbond its way out of a slash. Every claim stays slashable until
/// it is released (matured), however long ago it was unbonded; a matured claim is the
/// custodian's, claimed or not.
#[test]
fn m4_claims_stay_slashable_until_release() {
    let mut suite = DaoSuite::new();
    let (hospital, staking_addr) = (suite.hospital.clone(), suite.staking.clone());
    suite
        .exec(&hospital, &staking_addr, &unbond(100), &[])
        .unwrap();
    // Past what used to be the slashing window, still a week before the first release.
    suite.next_block(SLASHING_WINDOW + 1);
    suite
        .exec(&hospital, &staking_addr, &unbond(100), &[])
        .unwrap();
    let slash = ExecuteMsg::Slash {
        attester: hospital.to_string(),
        ratio: Decimal::percent(50),
        reason: "fraud".into(),
    };
    let res = as_governance(&mut suite, &slash).unwrap();
    assert_eq!(
        event_attr(&res, "wasm-attester_slashed", "from_claims").as_deref(),
        Some("100"),
        "both pending claims lose half"
    );
    let amounts = |suite: &DaoSuite| -> Vec<u128> {
        let claims = suite.stake(&suite.hospital.clone()).claims;
        claims.iter().map(|c| c.amount.u128()).collect()
    };
    assert_eq!(amounts(&suite), vec![50, 50]);
    assert_eq!(suite.stake(&hospital).bonded, Uint128::new(200));

    // The first claim matures; left unclaimed, it is no longer slashable.
    suite.next_block(UNBONDING - SLASHING_WINDOW - 1);
    let res = as_governance(&mut suite, &slash).unwrap();
    assert_eq!(
        event_attr(&res, "wasm-attester_slashed", "from_claims").as_deref(),
        Some("25")
    );
    assert_eq!(amounts(&suite), vec![50, 25]);
    let before = suite.balance(&hospital);
    suite
        .exec(&hospital, &staking_addr, &ExecuteMsg::Claim {}, &[])
        .unwrap();
    assert_eq!(suite.balance(&hospital), before + 50);
}

/// A hook that always fails.
fn failing_hook() -> Box<dyn cw_multi_test::Contract<Empty>> {
    Box::new(ContractWrapper::new(
        |_, _, _, _: Empty| -> StdResult<Response> { Err(StdError::generic_err("hook says no")) },
        |_, _, _, _: Empty| -> StdResult<Response> { Ok(Response::new()) },
        |_, _, _: Empty| -> StdResult<cosmwasm_std::Binary> {
            Err(StdError::generic_err("no queries"))
        },
    ))
}

#[test]
fn a_failing_hook_cannot_block_unbonding() {
    let mut suite = DaoSuite::new();
    let code = suite.app.store_code(failing_hook());
    let deployer = suite.app.api().addr_make("deployer");
    let hook = suite
        .app
        .instantiate_contract(code, deployer, &Empty {}, &[], "hook", None)
        .unwrap();
    as_governance(
        &mut suite,
        &ExecuteMsg::AddHook {
            address: hook.to_string(),
        },
    )
    .unwrap();
    let (lab, staking_addr) = (suite.lab.clone(), suite.staking.clone());
    let res = suite.exec(&lab, &staking_addr, &unbond(50), &[]).unwrap();
    assert!(event_attr(&res, "wasm-hook_failed", "error")
        .unwrap()
        .contains("hook says no"));
    assert_eq!(suite.stake(&lab).bonded, Uint128::new(250));
    let err = as_governance(
        &mut suite,
        &ExecuteMsg::AddHook {
            address: hook.to_string(),
        },
    )
    .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::HookExists(hook.to_string())
    );
}

#[test]
fn a_pause_cannot_lock_claims_forever() {
    let mut suite = DaoSuite::new();
    let (lab, staking_addr) = (suite.lab.clone(), suite.staking.clone());
    suite.exec(&lab, &staking_addr, &unbond(100), &[]).unwrap();
    suite.next_block(UNBONDING / 2);
    as_governance(
        &mut suite,
        &ExecuteMsg::Pausable(PauseMsg::Pause {
            reason: "audit".into(),
        }),
    )
    .unwrap();
    suite.next_block(UNBONDING / 2);
    let err = suite
        .exec(&lab, &staking_addr, &ExecuteMsg::Claim {}, &[])
        .unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::Pause(PauseError::Paused { .. })
    ));
    // Nobody unpauses: the pause lapses after its maximum (14 days) and funds move again.
    suite.next_block(7 * DAY);
    let status: healthmesh_types::pause::PauseStatusResponse = suite
        .app
        .wrap()
        .query_wasm_smart(&staking_addr, &QueryMsg::PauseStatus {})
        .unwrap();
    assert!(status.paused.is_none());
    let before = suite.balance(&lab);
    suite
        .exec(&lab, &staking_addr, &ExecuteMsg::Claim {}, &[])
        .unwrap();
    assert_eq!(suite.balance(&lab), before + 100);
}

#[test]
fn stakers_list_is_paginated() {
    let suite = DaoSuite::new();
    let page = |start_after: Option<String>| -> Vec<Addr> {
        let res: staking::StakersResponse = suite
            .app
            .wrap()
            .query_wasm_smart(
                &suite.staking,
                &QueryMsg::Stakers {
                    start_after,
                    limit: Some(2),
                },
            )
            .unwrap();
        res.stakers.into_iter().map(|s| s.address).collect()
    };
    let first = page(None);
    assert_eq!(first.len(), 2);
    let rest = page(Some(first[1].to_string()));
    assert_eq!(rest.len(), 1);
    assert!(!first.contains(&rest[0]));
}

/// Quadratic power is ⌊√bond⌋ per staker; its total is kept with every bond change and
/// snapshotted per block like the stake, so a DAO voting by √stake reads both at a proposal's
/// start in O(1).
#[test]
fn quadratic_power_and_its_total_are_snapshotted_per_block() {
    let mut suite = DaoSuite::new();
    let power = |suite: &DaoSuite, q: QueryMsg| -> u128 {
        let res: staking::VotingPowerResponse = suite
            .app
            .wrap()
            .query_wasm_smart(&suite.staking, &q)
            .unwrap();
        res.power.u128()
    };
    let quadratic = |suite: &DaoSuite, who: &Addr, height: Option<u64>| {
        power(
            suite,
            QueryMsg::QuadraticPowerAtHeight {
                address: who.to_string(),
                height,
            },
        )
    };
    let total = |suite: &DaoSuite, height: Option<u64>| {
        power(suite, QueryMsg::QuadraticTotalAtHeight { height })
    };
    // hospital 600, lab 300, clinic 100: ⌊√⌋ = 24 + 17 + 10.
    let (hospital, lab) = (suite.hospital.clone(), suite.lab.clone());
    assert_eq!(quadratic(&suite, &hospital, None), 24);
    assert_eq!(total(&suite, None), 24 + 17 + 10);
    let before = suite.app.block_info().height;

    suite.bond(&hospital, 400).unwrap();
    let staking_addr = suite.staking.clone();
    suite.exec(&lab, &staking_addr, &unbond(300), &[]).unwrap();
    suite.next_block(5);
    // 1,000 → 31, lab 0 → 0, clinic 10.
    assert_eq!(quadratic(&suite, &hospital, None), 31);
    assert_eq!(quadratic(&suite, &lab, None), 0);
    assert_eq!(total(&suite, None), 31 + 10);
    // The past is unchanged.
    assert_eq!(total(&suite, Some(before)), 51);
    assert_eq!(quadratic(&suite, &hospital, Some(before)), 24);
}

/// A staking contract from before quadratic totals (no Σ⌊√bond⌋ stored) gets it computed once
/// by its migration; bonds change it from then on without drift.
#[test]
fn migration_backfills_the_quadratic_total() {
    let mut suite = DaoSuite::new();
    let staking_addr = suite.staking.clone();
    // Drop the total, as a contract stored before it existed would lack it.
    suite
        .app
        .contract_storage_mut(&staking_addr)
        .remove(b"total_sqrt_bonded");
    let code_id = suite
        .app
        .wrap()
        .query_wasm_contract_info(&staking_addr)
        .unwrap()
        .code_id;
    let governance = suite.governance.clone();
    suite
        .app
        .migrate_contract(governance, staking_addr, &staking::MigrateMsg {}, code_id)
        .unwrap();
    let total = |suite: &DaoSuite| -> u128 {
        let res: staking::VotingPowerResponse = suite
            .app
            .wrap()
            .query_wasm_smart(
                &suite.staking,
                &QueryMsg::QuadraticTotalAtHeight { height: None },
            )
            .unwrap();
        res.power.u128()
    };
    suite.next_block(5);
    assert_eq!(total(&suite), 24 + 17 + 10);
    let lab = suite.lab.clone();
    let staking_addr = suite.staking.clone();
    suite.exec(&lab, &staking_addr, &unbond(300), &[]).unwrap();
    suite.next_block(5);
    assert_eq!(total(&suite), 24 + 10);
}
