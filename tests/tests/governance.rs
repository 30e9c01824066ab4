//! The DAO life cycle on multi-test: slashing by proposal, quorum, snapshots, timelock,
//! council pause and veto, and every unauthorized call refused without state change.

use cosmwasm_std::{coins, Addr, AnyMsg, Binary, CosmosMsg, Decimal, Uint128};
use cw_multi_test::Executor;
use healthmesh_governance::ContractError;
use healthmesh_testing::consent::{dataset, event_attr};
use healthmesh_testing::dao::{
    governance_code, governance_instantiate_msg, staking_code, staking_instantiate_msg, DaoSuite,
    DAY, DENOM, DEPOSIT, SLASHING_WINDOW, TIMELOCK, VOTING_PERIOD,
};
use healthmesh_testing::{contract_error, storage_snapshot};
use healthmesh_types::consent;
use healthmesh_types::governance::{self as gov, CouncilAction, Status, Vote};
use healthmesh_types::staking::{self, VotingPowerResponse};

fn slash_msg(suite: &DaoSuite, ratio: Decimal) -> cosmwasm_std::CosmosMsg {
    suite.staking_msg(&staking::ExecuteMsg::Slash {
        attester: suite.hospital.to_string(),
        ratio,
        reason: "attestation 12 proven false".into(),
    })
}

#[test]
fn slash_proposal_passes_with_quorum_and_shrinks_bond_and_claims() {
    let mut suite = DaoSuite::new();
    let (hospital, lab) = (suite.hospital.clone(), suite.lab.clone());
    // The hospital starts unbonding 100 before the proposal: its claim is in the window.
    let staking_addr = suite.staking.clone();
    suite
        .exec(
            &hospital,
            &staking_addr,
            &staking::ExecuteMsg::Unbond {
                amount: Uint128::new(100),
            },
            &[],
        )
        .unwrap();
    suite.next_block(5);

    // Governance needs a treasury to receive slashed funds: itself, set by proposal first.
    let set_treasury = suite.staking_msg(&staking::ExecuteMsg::UpdateConfig {
        min_bond: None,
        unbonding_period: None,
        slashing_window: None,
        max_claims: None,
        slash_destination: Some(staking::SlashDestination::Treasury {
            address: suite.governance.to_string(),
        }),
    });
    let msgs = vec![set_treasury, slash_msg(&suite, Decimal::percent(10))];
    let lab_before = suite.balance(&lab);
    let id = suite.propose(&lab, msgs).unwrap();
    assert_eq!(suite.balance(&lab), lab_before - DEPOSIT);
    // 900 bonded, less the hospital's 500: it cannot vote on its own slash.
    assert_eq!(suite.proposal(id).total_power, Uint128::new(400));
    suite.vote(&lab, id, Vote::Yes).unwrap();
    assert_eq!(suite.proposal(id).status, Status::Open);

    suite.next_block(3 * DAY);
    let passed = suite.proposal(id);
    assert_eq!(
        passed.status,
        Status::Passed,
        "300 of 400 cast (75% ≥ 40% quorum), all yes"
    );
    let err = suite.execute_proposal(id).unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::Timelocked { .. }
    ));

    suite.next_block(DAY);
    let gov_before = suite.balance(&suite.governance.clone());
    let res = suite.execute_proposal(id).unwrap();
    assert_eq!(
        event_attr(&res, "wasm-attester_slashed", "from_bond").as_deref(),
        Some("50")
    );
    assert_eq!(
        event_attr(&res, "wasm-attester_slashed", "from_claims").as_deref(),
        Some("10")
    );
    assert_eq!(suite.proposal(id).status, Status::Executed);
    let stake = suite.stake(&hospital);
    assert_eq!(stake.bonded, Uint128::new(450));
    assert_eq!(stake.claims[0].amount, Uint128::new(90));
    // Slashed funds reached the treasury; the deposit went back to the proposer.
    assert_eq!(
        suite.balance(&suite.governance.clone()),
        gov_before - DEPOSIT + 60
    );
    assert_eq!(suite.balance(&lab), lab_before);
    let slashes: staking::SlashesResponse = suite
        .app
        .wrap()
        .query_wasm_smart(
            &suite.staking,
            &staking::QueryMsg::Slashes {
                attester: hospital.to_string(),
                start_after: None,
                limit: None,
            },
        )
        .unwrap();
    assert_eq!(slashes.slashes[0].reason, "attestation 12 proven false");
}

#[test]
fn a_proposal_below_quorum_is_rejected_and_closed() {
    let mut suite = DaoSuite::new();
    let (lab, clinic) = (suite.lab.clone(), suite.clinic.clone());
    let id = suite
        .propose(&lab, vec![slash_msg(&suite, Decimal::percent(50))])
        .unwrap();
    suite.vote(&clinic, id, Vote::Yes).unwrap();
    suite.next_block(3 * DAY);
    assert_eq!(
        suite.proposal(id).status,
        Status::Rejected,
        "100 of 900 is below the 40% quorum"
    );
    let err = suite.execute_proposal(id).unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::NotPassed {
            status: Status::Rejected,
            ..
        }
    ));
    let governance = suite.governance.clone();
    let before = suite.balance(&lab);
    suite
        .exec(
            &clinic,
            &governance,
            &gov::ExecuteMsg::Close { proposal_id: id },
            &[],
        )
        .unwrap();
    assert_eq!(suite.proposal(id).status, Status::Closed);
    assert_eq!(
        suite.balance(&lab),
        before + DEPOSIT,
        "refund policy Always"
    );
    assert_eq!(
        suite.stake(&suite.hospital.clone()).bonded,
        Uint128::new(600)
    );
}

#[test]
fn stake_bought_after_the_proposal_starts_does_not_count() {
    let mut suite = DaoSuite::new();
    let lab = suite.lab.clone();
    let latecomer = suite.latecomer.clone();
    let id = suite.propose(&lab, vec![]).unwrap();
    let start = suite.proposal(id).start_height;
    suite.bond(&latecomer, 5_000).unwrap();
    suite.next_block(5);
    let err = suite.vote(&latecomer, id, Vote::Yes).unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::NoVotingPower(latecomer.to_string(), start)
    );
    let power: VotingPowerResponse = suite
        .app
        .wrap()
        .query_wasm_smart(
            &suite.governance,
            &gov::QueryMsg::VotingPowerAtHeight {
                address: latecomer.to_string(),
                height: Some(start),
            },
        )
        .unwrap();
    assert_eq!(power.power, Uint128::zero());
    let now: VotingPowerResponse = suite
        .app
        .wrap()
        .query_wasm_smart(
            &suite.governance,
            &gov::QueryMsg::VotingPowerAtHeight {
                address: latecomer.to_string(),
                height: None,
            },
        )
        .unwrap();
    assert_eq!(now.power, Uint128::new(5_000));
}

#[test]
fn the_council_pauses_consent_and_unpauses_it() {
    let mut suite = DaoSuite::new();
    let consent_addr = suite.consent.clone();
    let pause = CouncilAction::Pause {
        contract: consent_addr.to_string(),
        reason: "key leak at lab".into(),
    };
    // 7 of 12 approvals are not enough.
    let res = suite.council_act(pause.clone(), 7).unwrap();
    assert!(event_attr(&res, "wasm-council_action_executed", "pause").is_none());
    let res = suite.council_act(pause, 8).unwrap();
    assert_eq!(
        event_attr(&res, "wasm-council_action_executed", "pause"),
        Some(consent_addr.to_string())
    );

    let patient = suite.app.api().addr_make("patient");
    let grant = consent::ExecuteMsg::GrantConsent {
        grantee: suite.lab.to_string(),
        dataset: dataset(3),
        purpose: "trial-eligibility".into(),
        scope: vec!["age".into()],
        expires: cw_utils::Expiration::Never {},
    };
    let err = suite
        .exec(&patient, &consent_addr, &grant, &[])
        .unwrap_err();
    assert!(matches!(
        contract_error::<healthmesh_consent::ContractError>(err),
        healthmesh_consent::ContractError::Pause(
            healthmesh_controllers::pause::PauseError::Paused { .. }
        )
    ));
    suite
        .council_act(
            CouncilAction::Unpause {
                contract: consent_addr.to_string(),
            },
            8,
        )
        .unwrap();
    suite.exec(&patient, &consent_addr, &grant, &[]).unwrap();
}

#[test]
fn the_council_vetoes_a_passed_proposal_during_its_timelock() {
    let mut suite = DaoSuite::new();
    let (hospital, lab) = (suite.hospital.clone(), suite.lab.clone());
    let id = suite
        .propose(&lab, vec![slash_msg(&suite, Decimal::percent(100))])
        .unwrap();
    // Veto before it passed is refused.
    let err = suite
        .council_act(CouncilAction::Veto { proposal_id: id }, 8)
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::NotInTimelock(id)
    );
    // 300 of the 400 that may vote (the hospital may not): passed when the vote ends.
    suite.vote(&lab, id, Vote::Yes).unwrap();
    suite.next_block(3 * DAY);
    assert_eq!(suite.proposal(id).status, Status::Passed);
    suite
        .council_act(CouncilAction::Veto { proposal_id: id }, 8)
        .unwrap();
    assert_eq!(suite.proposal(id).status, Status::Vetoed);
    suite.next_block(DAY);
    let err = suite.execute_proposal(id).unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::NotPassed {
            status: Status::Vetoed,
            ..
        }
    ));
    assert_eq!(suite.stake(&hospital).bonded, Uint128::new(600));
}

#[test]
fn a_failing_proposal_is_marked_and_changes_nothing() {
    let mut suite = DaoSuite::new();
    let (lab, clinic) = (suite.lab.clone(), suite.clinic.clone());
    // Slashing someone with no stake fails inside the staking contract.
    let bad = suite.staking_msg(&staking::ExecuteMsg::Slash {
        attester: suite.latecomer.to_string(),
        ratio: Decimal::percent(10),
        reason: "nothing".into(),
    });
    let id = suite
        .propose(&lab, vec![slash_msg(&suite, Decimal::percent(10)), bad])
        .unwrap();
    suite.vote(&lab, id, Vote::Yes).unwrap();
    suite.vote(&clinic, id, Vote::Yes).unwrap();
    suite.next_block(4 * DAY);
    let staking_before = storage_snapshot(&suite.app, &suite.staking);
    let res = suite.execute_proposal(id).unwrap();
    assert!(event_attr(&res, "wasm-proposal_execution_failed", "error")
        .unwrap()
        .contains("nothing to slash"));
    assert_eq!(suite.proposal(id).status, Status::ExecutionFailed);
    assert_eq!(
        storage_snapshot(&suite.app, &suite.staking),
        staking_before,
        "the first slash was undone too"
    );
}

#[test]
fn unauthorized_and_out_of_order_calls_are_refused_without_state_change() {
    let mut suite = DaoSuite::new();
    let (hospital, lab, clinic, latecomer) = (
        suite.hospital.clone(),
        suite.lab.clone(),
        suite.clinic.clone(),
        suite.latecomer.clone(),
    );
    let (governance, staking_addr) = (suite.governance.clone(), suite.staking.clone());

    // Slash from a non-governance address.
    let before = storage_snapshot(&suite.app, &staking_addr);
    let slash = staking::ExecuteMsg::Slash {
        attester: hospital.to_string(),
        ratio: Decimal::percent(50),
        reason: "x".into(),
    };
    let err = suite.exec(&lab, &staking_addr, &slash, &[]).unwrap_err();
    assert!(matches!(
        contract_error::<healthmesh_staking::ContractError>(err),
        healthmesh_staking::ContractError::Ownership(_)
    ));
    assert_eq!(storage_snapshot(&suite.app, &staking_addr), before);

    let id = suite.propose(&lab, vec![]).unwrap();
    suite.vote(&lab, id, Vote::Yes).unwrap();
    let before = storage_snapshot(&suite.app, &governance);
    let cases: Vec<(cosmwasm_std::Addr, gov::ExecuteMsg, ContractError)> = vec![
        (
            lab.clone(),
            gov::ExecuteMsg::Vote {
                proposal_id: id,
                vote: Vote::No,
            },
            ContractError::AlreadyVoted(id),
        ),
        (
            latecomer.clone(),
            gov::ExecuteMsg::Vote {
                proposal_id: id,
                vote: Vote::Yes,
            },
            ContractError::NoVotingPower(latecomer.to_string(), suite.proposal(id).start_height),
        ),
        (
            lab.clone(),
            gov::ExecuteMsg::Execute { proposal_id: id },
            ContractError::NotPassed {
                id,
                status: Status::Open,
            },
        ),
        (
            lab.clone(),
            gov::ExecuteMsg::Close { proposal_id: id },
            ContractError::NotClosable {
                id,
                status: Status::Open,
            },
        ),
        (
            lab.clone(),
            gov::ExecuteMsg::Vote {
                proposal_id: 99,
                vote: Vote::Yes,
            },
            ContractError::ProposalNotFound(99),
        ),
        (
            lab.clone(),
            gov::ExecuteMsg::ExecuteProposalMsgs { proposal_id: id },
            ContractError::NotSelf,
        ),
        (
            lab.clone(),
            gov::ExecuteMsg::UpdateConfig {
                threshold: None,
                voting_period: Some(1),
                timelock: None,
                allow_revote: None,
                voting_rule: None,
            },
            ContractError::NotSelf,
        ),
        (
            lab.clone(),
            gov::ExecuteMsg::CouncilPropose {
                action: CouncilAction::Unpause {
                    contract: staking_addr.to_string(),
                },
            },
            ContractError::NotCouncilMember(lab.to_string()),
        ),
        (
            latecomer.clone(),
            gov::ExecuteMsg::Propose {
                title: "t".into(),
                description: "d".into(),
                msgs: vec![],
            },
            ContractError::WrongDeposit(cosmwasm_std::Coin::new(DEPOSIT, DENOM)),
        ),
    ];
    for (sender, msg, expected) in cases {
        let err = suite.exec(&sender, &governance, &msg, &[]).unwrap_err();
        assert_eq!(contract_error::<ContractError>(err), expected, "{msg:?}");
    }
    // A proposer without voting power, even with the deposit.
    let err = suite
        .exec(
            &latecomer,
            &governance,
            &gov::ExecuteMsg::Propose {
                title: "t".into(),
                description: "d".into(),
                msgs: vec![],
            },
            &coins(DEPOSIT, DENOM),
        )
        .unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::NoVotingPower(..)
    ));
    assert_eq!(storage_snapshot(&suite.app, &governance), before);

    // Vote after expiry.
    suite.next_block(3 * DAY);
    let err = suite.vote(&clinic, id, Vote::Yes).unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::VotingClosed { .. }
    ));
}

#[test]
fn proposals_and_votes_paginate_newest_first_on_request() {
    let mut suite = DaoSuite::new();
    let lab = suite.lab.clone();
    let ids: Vec<u64> = (0..4)
        .map(|_| suite.propose(&lab, vec![]).unwrap())
        .collect();
    let list = |suite: &DaoSuite, start_after, reverse| -> Vec<u64> {
        let res: gov::ProposalsResponse = suite
            .app
            .wrap()
            .query_wasm_smart(
                &suite.governance,
                &gov::QueryMsg::ListProposals {
                    start_after,
                    limit: Some(2),
                    reverse,
                },
            )
            .unwrap();
        res.proposals.into_iter().map(|p| p.id).collect()
    };
    assert_eq!(list(&suite, None, None), vec![ids[0], ids[1]]);
    assert_eq!(list(&suite, Some(ids[1]), None), vec![ids[2], ids[3]]);
    assert_eq!(list(&suite, None, Some(true)), vec![ids[3], ids[2]]);
    assert_eq!(list(&suite, Some(ids[2]), Some(true)), vec![ids[1], ids[0]]);
    for voter in [
        suite.hospital.clone(),
        suite.lab.clone(),
        suite.clinic.clone(),
    ] {
        suite.vote(&voter, ids[0], Vote::Abstain).unwrap();
    }
    let votes: gov::VotesResponse = suite
        .app
        .wrap()
        .query_wasm_smart(
            &suite.governance,
            &gov::QueryMsg::Votes {
                proposal_id: ids[0],
                start_after: None,
                limit: Some(2),
            },
        )
        .unwrap();
    assert_eq!(votes.votes.len(), 2);
    // Everyone voted: decided at once, and all-abstain fails the threshold.
    assert_eq!(suite.proposal(ids[0]).status, Status::Rejected);
}

/// Instantiates a DAO on `suite`'s chain voting with `voting`; the suite's council.
fn instantiate_dao(suite: &mut DaoSuite, voting: gov::VotingSource) -> anyhow::Result<Addr> {
    let code = suite.app.store_code(governance_code());
    let deployer = suite.app.api().addr_make("deployer");
    let msg = governance_instantiate_msg(voting, &suite.council);
    suite
        .app
        .instantiate_contract(code, deployer, &msg, &[], "dao", None)
}

/// M-4: the staking contract's slashing window must cover a slash proposal's voting period
/// and timelock, whether the DAO instantiates staking or votes with an existing one.
#[test]
fn m4_governance_refuses_a_slashing_window_shorter_than_vote_and_timelock() {
    let mut suite = DaoSuite::new();
    let staking_id = suite.app.store_code(staking_code());
    let deployer = suite.app.api().addr_make("deployer");
    let required = VOTING_PERIOD + TIMELOCK;
    let mut short = staking_instantiate_msg(&deployer);
    short.slashing_window = required - 1;
    let err = instantiate_dao(
        &mut suite,
        gov::VotingSource::InstantiateStaking {
            code_id: staking_id,
            msg: short.clone(),
            label: "staking".into(),
        },
    )
    .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::SlashingWindowTooShort {
            window: required - 1,
            required
        }
    );

    let existing = suite
        .app
        .instantiate_contract(staking_id, deployer.clone(), &short, &[], "short", None)
        .unwrap();
    let err = instantiate_dao(
        &mut suite,
        gov::VotingSource::Staking {
            contract: existing.to_string(),
        },
    )
    .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::SlashingWindowTooShort {
            window: required - 1,
            required
        }
    );

    // Exactly the voting period plus the timelock is enough.
    let mut exact = staking_instantiate_msg(&deployer);
    exact.slashing_window = required;
    instantiate_dao(
        &mut suite,
        gov::VotingSource::InstantiateStaking {
            code_id: staking_id,
            msg: exact,
            label: "staking".into(),
        },
    )
    .unwrap();
}

/// M-4: no proposal can leave the rule broken: not by lengthening the vote or the timelock,
/// not by shortening the staking contract's window. Both fail as a whole, changing nothing;
/// raising the window first and then the voting period in one proposal works.
#[test]
fn m4_a_proposal_cannot_break_the_slashing_window_rule() {
    let mut suite = DaoSuite::new();
    let longer_vote = suite.governance_msg(&gov::ExecuteMsg::UpdateConfig {
        threshold: None,
        voting_period: Some(SLASHING_WINDOW),
        timelock: None,
        allow_revote: None,
        voting_rule: None,
    });
    let shorter_window = suite.staking_msg(&staking::ExecuteMsg::UpdateConfig {
        min_bond: None,
        unbonding_period: None,
        slashing_window: Some(VOTING_PERIOD + TIMELOCK - 1),
        max_claims: None,
        slash_destination: None,
    });
    for msgs in [vec![longer_vote.clone()], vec![shorter_window]] {
        let (governance, staking_addr) = (suite.governance.clone(), suite.staking.clone());
        let gov_config = suite
            .app
            .wrap()
            .query_wasm_smart::<gov::ConfigResponse>(&governance, &gov::QueryMsg::Config {});
        let staking_config = suite
            .app
            .wrap()
            .query_wasm_smart::<staking::ConfigResponse>(
                &staking_addr,
                &staking::QueryMsg::Config {},
            );
        let id = suite.pass(msgs).unwrap();
        suite.next_block(TIMELOCK);
        let res = suite.execute_proposal(id).unwrap();
        let error = event_attr(&res, "wasm-proposal_execution_failed", "error").unwrap();
        assert!(error.contains("slashing window"), "{error}");
        assert_eq!(suite.proposal(id).status, Status::ExecutionFailed);
        assert_eq!(
            suite
                .app
                .wrap()
                .query_wasm_smart::<gov::ConfigResponse>(&governance, &gov::QueryMsg::Config {}),
            gov_config
        );
        assert_eq!(
            suite
                .app
                .wrap()
                .query_wasm_smart::<staking::ConfigResponse>(
                    &staking_addr,
                    &staking::QueryMsg::Config {}
                ),
            staking_config
        );
    }
    let wider_window = suite.staking_msg(&staking::ExecuteMsg::UpdateConfig {
        min_bond: None,
        unbonding_period: None,
        slashing_window: Some(SLASHING_WINDOW + TIMELOCK),
        max_claims: None,
        slash_destination: None,
    });
    let id = suite
        .pass_and_execute(vec![wider_window, longer_vote])
        .unwrap();
    assert_eq!(suite.proposal(id).status, Status::Executed);
}

/// L-4: approvals given before the council changed do not count for the new council.
#[test]
fn l4_approvals_of_removed_members_no_longer_count() {
    let mut suite = DaoSuite::new();
    let pause = CouncilAction::Pause {
        contract: suite.consent.to_string(),
        reason: "key leak".into(),
    };
    // Members 0–6 approve: one short of 8.
    let res = suite.council_act(pause, 7).unwrap();
    let action_id: u64 = event_attr(&res, "wasm-council_action_approved", "action_id")
        .unwrap()
        .parse()
        .unwrap();
    // The DAO replaces members 0–6.
    let mut council: Vec<Addr> = (0..7)
        .map(|i| suite.app.api().addr_make(&format!("new-council-{i}")))
        .collect();
    council.extend_from_slice(&suite.council[7..]);
    let update = suite.governance_msg(&gov::ExecuteMsg::UpdateCouncil {
        council: gov::CouncilConfig {
            members: council.iter().map(|a| a.to_string()).collect(),
            threshold: 8,
        },
    });
    suite.pass_and_execute(vec![update]).unwrap();

    // A remaining member's approval would be the 8th, but the 7 others left the council.
    let governance = suite.governance.clone();
    let member = suite.council[7].clone();
    let before = storage_snapshot(&suite.app, &governance);
    let err = suite
        .exec(
            &member,
            &governance,
            &gov::ExecuteMsg::CouncilApprove { action_id },
            &[],
        )
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::CouncilActionStale {
            id: action_id,
            epoch: 0,
            current: 1
        }
    );
    assert_eq!(storage_snapshot(&suite.app, &governance), before);

    // The new council acts with approvals of its own.
    suite.council = council;
    let res = suite
        .council_act(
            CouncilAction::Pause {
                contract: suite.consent.to_string(),
                reason: "key leak".into(),
            },
            8,
        )
        .unwrap();
    assert!(event_attr(&res, "wasm-council_action_executed", "pause").is_some());
}

/// L-4: a proposal that changes the council cannot be vetoed by the council it replaces,
/// and carries nothing else (which the veto exemption would otherwise shelter).
#[test]
fn l4_the_council_cannot_veto_its_own_replacement() {
    let mut suite = DaoSuite::new();
    let council: Vec<Addr> = (0..3)
        .map(|i| suite.app.api().addr_make(&format!("new-council-{i}")))
        .collect();
    let update = suite.governance_msg(&gov::ExecuteMsg::UpdateCouncil {
        council: gov::CouncilConfig {
            members: council.iter().map(|a| a.to_string()).collect(),
            threshold: 2,
        },
    });
    // Bundled with another message: refused.
    let lab = suite.lab.clone();
    let err = suite
        .propose(
            &lab,
            vec![update.clone(), slash_msg(&suite, Decimal::percent(10))],
        )
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::CouncilChangeNotAlone
    );

    let id = suite.pass(vec![update]).unwrap();
    assert_eq!(suite.proposal(id).status, Status::Passed);
    let err = suite
        .council_act(CouncilAction::Veto { proposal_id: id }, 8)
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::CouncilChangeNotVetoable(id)
    );
    assert_eq!(suite.proposal(id).status, Status::Passed);
    suite.next_block(TIMELOCK);
    suite.execute_proposal(id).unwrap();
    let members: gov::CouncilResponse = suite
        .app
        .wrap()
        .query_wasm_smart(&suite.governance, &gov::QueryMsg::Council {})
        .unwrap();
    assert_eq!(members.members, council);
}

/// L-5: a proposal's timelock is fixed before it is decided: a timelock change executed
/// after the proposal's vote ended (but before anyone touched it) does not move its
/// `executable_at`.
#[test]
fn l5_a_later_timelock_change_does_not_shorten_a_decided_proposal() {
    let mut suite = DaoSuite::new();
    let (lab, clinic) = (suite.lab.clone(), suite.clinic.clone());
    let no_timelock = suite.governance_msg(&gov::ExecuteMsg::UpdateConfig {
        threshold: None,
        voting_period: None,
        timelock: Some(0),
        allow_revote: None,
        voting_rule: None,
    });
    let b = suite.propose(&lab, vec![no_timelock]).unwrap();
    suite.next_block(3_600);
    let a = suite.propose(&lab, vec![]).unwrap();
    for id in [a, b] {
        suite.vote(&lab, id, Vote::Yes).unwrap();
        suite.vote(&clinic, id, Vote::Yes).unwrap();
    }
    suite.next_block(VOTING_PERIOD - 3_600 + TIMELOCK);
    // A's vote ended an hour before B runs; nothing stored A's outcome yet.
    let a_expires = suite.proposal(a).expires;
    suite.execute_proposal(b).unwrap();
    assert_eq!(suite.proposal(b).status, Status::Executed);
    let proposal = suite.proposal(a);
    assert_eq!(proposal.status, Status::Passed);
    assert_eq!(
        proposal.executable_at,
        Some(a_expires.plus_seconds(TIMELOCK))
    );
    let err = suite.execute_proposal(a).unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::Timelocked {
            id: a,
            until: a_expires.plus_seconds(TIMELOCK)
        }
    );
}

/// L-6: a veto below quorum neither rejects as a veto nor forfeits the deposit; with quorum
/// it still does.
#[test]
fn l6_a_veto_without_quorum_does_not_forfeit_the_deposit() {
    let mut suite = DaoSuite::new();
    let (hospital, lab, clinic) = (
        suite.hospital.clone(),
        suite.lab.clone(),
        suite.clinic.clone(),
    );
    let governance = suite.governance.clone();
    let close = |suite: &mut DaoSuite, id| {
        suite
            .exec(
                &clinic,
                &governance,
                &gov::ExecuteMsg::Close { proposal_id: id },
                &[],
            )
            .unwrap();
    };
    let lonely = suite.propose(&lab, vec![]).unwrap();
    let vetoed = suite.propose(&lab, vec![]).unwrap();
    // 100 of 1000 (10 %, quorum 40 %) veto the first; 600 veto the second.
    suite.vote(&clinic, lonely, Vote::Veto).unwrap();
    suite.vote(&hospital, vetoed, Vote::Veto).unwrap();
    suite.next_block(VOTING_PERIOD);
    assert_eq!(suite.proposal(lonely).status, Status::Rejected);
    assert_eq!(suite.proposal(vetoed).status, Status::Vetoed);
    let before = suite.balance(&lab);
    close(&mut suite, lonely);
    assert_eq!(suite.balance(&lab), before + DEPOSIT, "refunded");
    close(&mut suite, vetoed);
    assert_eq!(suite.balance(&lab), before + DEPOSIT, "forfeited");
}

/// A proposal cannot carry the DAO's internal `ExecuteProposalMsgs`, which would run an
/// executed proposal's messages again — neither as a `wasm` message nor wrapped in `Any`.
#[test]
fn self_call_a_proposal_cannot_run_another_proposals_messages() {
    let mut suite = DaoSuite::new();
    let lab = suite.lab.clone();
    let raise_min_bond = suite.staking_msg(&staking::ExecuteMsg::UpdateConfig {
        min_bond: Some(Uint128::new(300)),
        unbonding_period: None,
        slashing_window: None,
        max_claims: None,
        slash_destination: None,
    });
    let done = suite
        .pass_and_execute(vec![raise_min_bond.clone()])
        .unwrap();
    let nested = suite.governance_msg(&gov::ExecuteMsg::ExecuteProposalMsgs { proposal_id: done });
    let governance = suite.governance.clone();
    let before = storage_snapshot(&suite.app, &governance);
    let err = suite.propose(&lab, vec![nested]).unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::NestedExecution { index: 0 }
    );
    // The same call encoded as wasmd's MsgExecuteContract cannot be read: refused as such.
    let type_url = "/cosmwasm.wasm.v1.MsgExecuteContract".to_string();
    let wrapped = CosmosMsg::Any(AnyMsg {
        type_url: type_url.clone(),
        value: Binary::from(b"opaque".as_slice()),
    });
    let err = suite
        .propose(&lab, vec![raise_min_bond, wrapped])
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::OpaqueContractCall { index: 1, type_url }
    );
    assert_eq!(storage_snapshot(&suite.app, &governance), before);
}

/// The custodian a proposal would slash cannot vote on it, and its power does not count
/// towards the proposal's total (else staying away would still weigh as a no).
#[test]
fn slash_target_cannot_vote_on_its_own_slash() {
    let mut suite = DaoSuite::new();
    let (hospital, lab) = (suite.hospital.clone(), suite.lab.clone());
    let id = suite
        .propose(&lab, vec![slash_msg(&suite, Decimal::percent(10))])
        .unwrap();
    let governance = suite.governance.clone();
    let before = storage_snapshot(&suite.app, &governance);
    for vote in [Vote::No, Vote::Yes, Vote::Veto] {
        let err = suite.vote(&hospital, id, vote).unwrap_err();
        assert_eq!(
            contract_error::<ContractError>(err),
            ContractError::SlashTargetCannotVote {
                voter: hospital.to_string(),
                id
            }
        );
    }
    assert_eq!(storage_snapshot(&suite.app, &governance), before);
    // 1000 bonded minus the hospital's 600.
    assert_eq!(suite.proposal(id).total_power, Uint128::new(400));
    // A proposal that does not slash the hospital: it votes as usual.
    let other = suite.propose(&lab, vec![]).unwrap();
    suite.vote(&hospital, other, Vote::No).unwrap();
}
