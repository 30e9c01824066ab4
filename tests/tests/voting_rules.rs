//! Sybil- and whale-resistant voting (issue 17, item 5): the same stake distribution counted
//! by each voting rule — stake, its square root, one member one vote — and the membership
//! token: issued and revoked only by proposal, soulbound, snapshotted like stake.

use cosmwasm_std::{Addr, Decimal, Uint128};
use healthmesh_governance::ContractError;
use healthmesh_testing::contract_error;
use healthmesh_testing::dao::{DaoSuite, DENOM, TIMELOCK, VOTING_PERIOD};
use healthmesh_types::governance::{self as gov, Status, VotingRule};
use healthmesh_types::staking::VotingPowerResponse;

/// The whale bonds 9,000 next to the suite's hospital 600, lab 300, clinic 100.
const WHALE_STAKE: u128 = 9_000;

fn power(suite: &DaoSuite, q: &gov::QueryMsg) -> u128 {
    let res: VotingPowerResponse = suite
        .app
        .wrap()
        .query_wasm_smart(&suite.governance, q)
        .unwrap();
    res.power.u128()
}

/// `who`'s share of the DAO's total voting power now.
fn share(suite: &DaoSuite, who: &Addr) -> Decimal {
    let mine = power(
        suite,
        &gov::QueryMsg::VotingPowerAtHeight {
            address: who.to_string(),
            height: None,
        },
    );
    let total = power(suite, &gov::QueryMsg::TotalPowerAtHeight { height: None });
    Decimal::from_ratio(mine, total)
}

/// Propose `msgs` (by `proposer`), `yes` vote yes, `no` vote no; the proposal's status after
/// the vote and, if it passed, after its execution.
fn decide(
    suite: &mut DaoSuite,
    proposer: &Addr,
    msgs: Vec<cosmwasm_std::CosmosMsg>,
    yes: &[&Addr],
    no: &[&Addr],
) -> Status {
    let id = suite.propose(proposer, msgs).unwrap();
    for voter in yes {
        suite.vote(voter, id, gov::Vote::Yes).unwrap();
    }
    for voter in no {
        suite.vote(voter, id, gov::Vote::No).unwrap();
    }
    suite.next_block(VOTING_PERIOD + 1);
    if suite.proposal(id).status == Status::Passed {
        suite.next_block(TIMELOCK);
        suite.execute_proposal(id).unwrap();
    }
    suite.next_block(5);
    suite.proposal(id).status
}

fn set_rule(suite: &DaoSuite, rule: VotingRule) -> cosmwasm_std::CosmosMsg {
    suite.governance_msg(&gov::ExecuteMsg::UpdateConfig {
        threshold: None,
        voting_period: None,
        timelock: None,
        allow_revote: None,
        voting_rule: Some(rule),
    })
}

fn issue(suite: &DaoSuite, who: &Addr) -> cosmwasm_std::CosmosMsg {
    suite.governance_msg(&gov::ExecuteMsg::IssueMembership {
        address: who.to_string(),
    })
}

#[test]
fn a_whales_share_of_the_vote_under_each_rule() {
    let mut suite = DaoSuite::new();
    let whale = suite.latecomer.clone();
    suite.bond(&whale, WHALE_STAKE).unwrap();
    suite.next_block(5);
    let (hospital, lab, clinic) = (
        suite.hospital.clone(),
        suite.lab.clone(),
        suite.clinic.clone(),
    );
    // Everyone becomes a member (under the stake rule the whale alone decides).
    let msgs = [&hospital, &lab, &clinic, &whale]
        .iter()
        .map(|who| issue(&suite, who))
        .collect();
    assert_eq!(
        decide(&mut suite, &whale, msgs, &[&whale], &[]),
        Status::Executed
    );

    // The same stake (whale 9,000; 600, 300, 100), counted three ways.
    let stake_share = share(&suite, &whale);
    let msgs = vec![set_rule(&suite, VotingRule::Quadratic)];
    assert_eq!(
        decide(&mut suite, &whale, msgs, &[&whale], &[]),
        Status::Executed
    );
    let quadratic_share = share(&suite, &whale);
    // √9000 = 94 against 24 + 17 + 10: the whale still outweighs the rest together.
    let msgs = vec![set_rule(&suite, VotingRule::Membership)];
    assert_eq!(
        decide(
            &mut suite,
            &whale,
            msgs,
            &[&whale],
            &[&hospital, &lab, &clinic]
        ),
        Status::Executed
    );
    let membership_share = share(&suite, &whale);

    println!("| rule | whale's share (stake 9,000 of 10,000) |");
    println!("|---|---|");
    for (rule, s) in [
        ("stake", stake_share),
        ("quadratic", quadratic_share),
        ("membership", membership_share),
    ] {
        let percent: f64 = (s * Decimal::percent(10_000)).to_string().parse().unwrap();
        println!("| {rule} | {percent:.1} % |");
    }
    assert_eq!(stake_share, Decimal::from_ratio(9_000u128, 10_000u128));
    assert_eq!(
        quadratic_share,
        Decimal::from_ratio(94u128, 94u128 + 24 + 17 + 10)
    );
    assert_eq!(membership_share, Decimal::from_ratio(1u128, 4u128));

    // One member, one vote: the whale alone now loses against the three others.
    let msgs = vec![set_rule(&suite, VotingRule::Stake)];
    assert_eq!(
        decide(
            &mut suite,
            &whale,
            msgs,
            &[&whale],
            &[&hospital, &lab, &clinic]
        ),
        Status::Rejected
    );
}

#[test]
fn membership_is_soulbound_and_issued_or_revoked_only_by_proposal() {
    let mut suite = DaoSuite::new();
    let (hospital, lab, clinic, outsider) = (
        suite.hospital.clone(),
        suite.lab.clone(),
        suite.clinic.clone(),
        suite.latecomer.clone(),
    );
    let governance = suite.governance.clone();
    let gov_error = |e: anyhow::Error| contract_error::<ContractError>(e);
    // Membership rule with no members: refused (nobody could propose).
    let msgs = vec![set_rule(&suite, VotingRule::Membership)];
    assert_eq!(
        decide(&mut suite, &lab, msgs, &[&hospital, &lab, &clinic], &[]),
        Status::ExecutionFailed
    );
    // Only a proposal issues: a direct call is refused.
    let direct = gov::ExecuteMsg::IssueMembership {
        address: lab.to_string(),
    };
    let err = suite.exec(&lab, &governance, &direct, &[]).unwrap_err();
    assert_eq!(gov_error(err), ContractError::NotSelf);
    let msgs = vec![
        issue(&suite, &hospital),
        issue(&suite, &lab),
        set_rule(&suite, VotingRule::Membership),
    ];
    assert_eq!(
        decide(&mut suite, &lab, msgs, &[&hospital, &lab, &clinic], &[]),
        Status::Executed
    );
    // The token never moves.
    let transfer = gov::ExecuteMsg::TransferMembership {
        recipient: outsider.to_string(),
    };
    let err = suite.exec(&lab, &governance, &transfer, &[]).unwrap_err();
    assert_eq!(gov_error(err), ContractError::MembershipSoulbound);
    // Stake no longer votes: the clinic (bonded, no token) cannot propose.
    let err = suite.propose(&clinic, vec![]).unwrap_err();
    assert!(matches!(gov_error(err), ContractError::NoVotingPower(..)));

    // Issued during a vote, a member does not vote in it (power at the proposal's start).
    let admit_clinic = suite.propose(&lab, vec![issue(&suite, &clinic)]).unwrap();
    suite.vote(&hospital, admit_clinic, gov::Vote::Yes).unwrap();
    suite.vote(&lab, admit_clinic, gov::Vote::Yes).unwrap();
    let open_vote = suite.propose(&hospital, vec![]).unwrap();
    suite.next_block(TIMELOCK);
    suite.execute_proposal(admit_clinic).unwrap();
    suite.next_block(5);
    let err = suite.vote(&clinic, open_vote, gov::Vote::No).unwrap_err();
    assert!(matches!(gov_error(err), ContractError::NoVotingPower(..)));
    let next_vote = suite.propose(&lab, vec![]).unwrap();
    suite.vote(&clinic, next_vote, gov::Vote::No).unwrap();
    let member: gov::MembershipResponse = suite
        .app
        .wrap()
        .query_wasm_smart(
            &governance,
            &gov::QueryMsg::Membership {
                address: clinic.to_string(),
            },
        )
        .unwrap();
    assert!(member.member);

    // Revoked by proposal; the last member's token cannot be revoked.
    let msgs = vec![suite.governance_msg(&gov::ExecuteMsg::RevokeMembership {
        address: clinic.to_string(),
    })];
    assert_eq!(
        decide(&mut suite, &lab, msgs, &[&hospital, &lab], &[]),
        Status::Executed
    );
    let list: gov::MembershipsResponse = suite
        .app
        .wrap()
        .query_wasm_smart(
            &governance,
            &gov::QueryMsg::Memberships {
                start_after: None,
                limit: None,
            },
        )
        .unwrap();
    let mut expected = vec![hospital.clone(), lab.clone()];
    expected.sort();
    assert_eq!(list.members, expected);
    let total = power(&suite, &gov::QueryMsg::TotalPowerAtHeight { height: None });
    assert_eq!(Uint128::new(total), Uint128::new(2));
    // Revoking every member would leave nobody to propose: the proposal fails whole.
    let msgs = [&lab, &hospital]
        .iter()
        .map(|who| {
            suite.governance_msg(&gov::ExecuteMsg::RevokeMembership {
                address: who.to_string(),
            })
        })
        .collect();
    assert_eq!(
        decide(&mut suite, &lab, msgs, &[&hospital, &lab], &[]),
        Status::ExecutionFailed
    );
    let total = power(&suite, &gov::QueryMsg::TotalPowerAtHeight { height: None });
    assert_eq!(total, 2);
}

/// Quadratic voting is only as sybil-resistant as addresses are: the same 9,000 split over
/// nine addresses outweighs everyone again. Membership is not fooled by splitting.
#[test]
fn splitting_stake_defeats_quadratic_voting_but_not_membership() {
    let mut suite = DaoSuite::new();
    let parts: Vec<Addr> = (0..9)
        .map(|i| suite.app.api().addr_make(&format!("whale-{i}")))
        .collect();
    suite.app.init_modules(|router, _, storage| {
        for part in &parts {
            router
                .bank
                .init_balance(storage, part, cosmwasm_std::coins(2_000, DENOM))
                .unwrap();
        }
    });
    for part in &parts {
        suite.bond(part, 1_000).unwrap();
    }
    suite.next_block(5);
    let yes: Vec<&Addr> = parts.iter().collect();
    let msgs = vec![
        issue(&suite, &suite.hospital.clone()),
        set_rule(&suite, VotingRule::Quadratic),
    ];
    assert_eq!(
        decide(&mut suite, &parts[0], msgs, &yes, &[]),
        Status::Executed
    );
    let split_power: u128 = parts
        .iter()
        .map(|p| {
            power(
                &suite,
                &gov::QueryMsg::VotingPowerAtHeight {
                    address: p.to_string(),
                    height: None,
                },
            )
        })
        .sum();
    let total = power(&suite, &gov::QueryMsg::TotalPowerAtHeight { height: None });
    // 9 × ⌊√1000⌋ = 279 against 24 + 17 + 10: 84.5 %, more than the undivided whale's 64.8 %.
    assert_eq!((split_power, total), (279, 279 + 51));
    assert!(Decimal::from_ratio(split_power, total) > Decimal::from_ratio(94u128, 145u128));

    let msgs = vec![set_rule(&suite, VotingRule::Membership)];
    assert_eq!(
        decide(&mut suite, &parts[0], msgs, &yes, &[]),
        Status::Executed
    );
    // None of the nine holds a token: splitting buys nothing.
    assert_eq!(share(&suite, &parts[0]), Decimal::zero());
    let err = suite.propose(&parts[0], vec![]).unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::NoVotingPower(..)
    ));
}

/// A proposal's votes are counted by the rule its total was counted by: a rule switch while
/// it is open neither lets one staker decide it against a membership total nor strands it.
/// An `absolute_count` threshold the new rule's total cannot reach is refused.
#[test]
fn a_rule_switch_neither_hijacks_nor_strands_open_proposals() {
    let mut suite = DaoSuite::new();
    let (hospital, lab, clinic) = (
        suite.hospital.clone(),
        suite.lab.clone(),
        suite.clinic.clone(),
    );
    let msgs = vec![issue(&suite, &hospital), issue(&suite, &lab)];
    assert_eq!(
        decide(&mut suite, &lab, msgs, &[&hospital, &lab, &clinic], &[]),
        Status::Executed
    );
    // Open under stake (total 1,000); then membership becomes the rule.
    let open = suite.propose(&lab, vec![]).unwrap();
    let switch = suite
        .propose(&lab, vec![set_rule(&suite, VotingRule::Membership)])
        .unwrap();
    for voter in [&hospital, &lab, &clinic] {
        suite.vote(voter, switch, gov::Vote::Yes).unwrap();
    }
    suite.next_block(TIMELOCK);
    suite.execute_proposal(switch).unwrap();
    suite.next_block(5);
    // The clinic (no token) still votes on the stake proposal, with its stake.
    suite.vote(&clinic, open, gov::Vote::Yes).unwrap();
    let votes: gov::VoteResponse = suite
        .app
        .wrap()
        .query_wasm_smart(
            &suite.governance,
            &gov::QueryMsg::Vote {
                proposal_id: open,
                voter: clinic.to_string(),
            },
        )
        .unwrap();
    assert_eq!(votes.vote.unwrap().power, Uint128::new(100));
    assert_eq!(suite.proposal(open).status, Status::Open);

    // absolute_count 5 cannot be reached by 2 members: refused whole; 2 is accepted.
    let msgs = vec![absolute(&suite, 5)];
    assert_eq!(
        decide(&mut suite, &lab, msgs, &[&hospital, &lab], &[]),
        Status::ExecutionFailed
    );
    let msgs = vec![absolute(&suite, 2)];
    assert_eq!(
        decide(&mut suite, &lab, msgs, &[&hospital, &lab], &[]),
        Status::Executed
    );
    // Revoking a member would leave the threshold out of reach: refused whole.
    let msgs = vec![suite.governance_msg(&gov::ExecuteMsg::RevokeMembership {
        address: lab.to_string(),
    })];
    assert_eq!(
        decide(&mut suite, &lab, msgs, &[&hospital, &lab], &[]),
        Status::ExecutionFailed
    );
}

fn absolute(suite: &DaoSuite, weight: u128) -> cosmwasm_std::CosmosMsg {
    suite.governance_msg(&gov::ExecuteMsg::UpdateConfig {
        threshold: Some(gov::Threshold::AbsoluteCount {
            weight: Uint128::new(weight),
        }),
        voting_period: None,
        timelock: None,
        allow_revote: None,
        voting_rule: None,
    })
}
