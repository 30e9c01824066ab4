//! The DAO life cycle on multi-test: slashing by proposal, quorum, snapshots, timelock,
//! council pause and veto, and every unauthorized call refused without state change.

use cosmwasm_std::{coins, Decimal, Uint128};
use healthmesh_governance::ContractError;
use healthmesh_integration_tests::consent::{dataset, event_attr};
use healthmesh_integration_tests::dao::{DaoSuite, DAY, DENOM, DEPOSIT};
use healthmesh_integration_tests::{contract_error, storage_snapshot};
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
    let (hospital, lab, clinic) = (
        suite.hospital.clone(),
        suite.lab.clone(),
        suite.clinic.clone(),
    );
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
    assert_eq!(suite.proposal(id).total_power, Uint128::new(900));
    suite.vote(&lab, id, Vote::Yes).unwrap();
    suite.vote(&clinic, id, Vote::Yes).unwrap();
    assert_eq!(suite.proposal(id).status, Status::Open);

    suite.next_block(3 * DAY);
    let passed = suite.proposal(id);
    assert_eq!(
        passed.status,
        Status::Passed,
        "400 of 900 cast (44% ≥ 40% quorum), all yes"
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
            healthmesh_types::pause::PauseError::Paused { .. }
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
    suite.vote(&lab, id, Vote::Yes).unwrap();
    suite.vote(&suite.clinic.clone(), id, Vote::Yes).unwrap();
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
