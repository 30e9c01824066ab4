//! One government for the network (issue 17): three chains' DAOs joined by governance
//! channels (`healthmesh-gov-1`) over the relay harness — the council's network pause and
//! unpause, its lapse, forged pause packets, proposal messages run on another chain, and
//! network votes decided on the home chain (including a missing tally and a chain that did
//! not open the vote).

use std::sync::OnceLock;

use cosmwasm_std::{
    to_json_binary, Addr, CosmosMsg, IbcEndpoint, IbcPacket, IbcPacketReceiveMsg, IbcTimeout,
    Uint128, WasmMsg,
};
use healthmesh_proofs::keys::{setup_from_seed, ProvingKey};
use healthmesh_testing::dao::{TIMELOCK, VOTING_PERIOD};
use healthmesh_testing::gov_net::{
    ack_error, deliver, deploy_dao, gov_end, link, paused, relay_gov, Dao,
};
use healthmesh_testing::ibc_harness::{packet_of, take_sent, Chain, Relayed};
use healthmesh_types::governance::{
    self as gov, ChainVoteStatus, CouncilAction, NetworkVote, RemoteResult, Status, TallyDelivery,
    Vote,
};
use healthmesh_types::network::{GovPacket, NETWORK_PACKET_TIMEOUT_SECONDS};
use healthmesh_types::pause::{PausableExecuteMsg, PauseMsg};

fn vk() -> &'static [u8] {
    static VK: OnceLock<Vec<u8>> = OnceLock::new();
    VK.get_or_init(|| {
        let keys: ProvingKey = setup_from_seed(b"network-governance").unwrap();
        keys.verifying_key().to_bytes()
    })
}

/// Governance channel ids: (genomics, trials, billing) ends of each pair.
const G_T: (&str, &str) = ("channel-10", "channel-10");
const G_B: (&str, &str) = ("channel-11", "channel-10");
const T_B: (&str, &str) = ("channel-11", "channel-11");

/// Voting weights: genomics 60 + 40, trials 100, billing 50 (network total 250).
struct Net {
    g: Chain,
    t: Chain,
    b: Chain,
    gd: Dao,
    td: Dao,
    bd: Dao,
}

fn net() -> Net {
    let mut g = Chain::new("genomics-1", vk());
    let mut t = Chain::new("trials-1", vk());
    let mut b = Chain::new("billing-1", vk());
    let gd = deploy_dao(&mut g, &[60, 40]);
    let td = deploy_dao(&mut t, &[100]);
    let bd = deploy_dao(&mut b, &[50]);
    link(&mut g, &gd, &mut t, &td, G_T.0, G_T.1);
    link(&mut g, &gd, &mut b, &bd, G_B.0, G_B.1);
    link(&mut t, &td, &mut b, &bd, T_B.0, T_B.1);
    Net {
        g,
        t,
        b,
        gd,
        td,
        bd,
    }
}

impl Net {
    /// Relay every governance packet in every direction; the outcomes by (from, to).
    fn relay_all(&mut self) -> Vec<(String, String, Relayed)> {
        let mut out = vec![];
        let mut pair = |a: &mut Chain, ad: &Dao, ach: &str, b: &mut Chain, bd: &Dao, bch: &str| {
            let (aid, bid) = (a.chain_id.clone(), b.chain_id.clone());
            let mut from = gov_end(a, ad, ach);
            let mut to = gov_end(b, bd, bch);
            for r in relay_gov(&mut from, &mut to).unwrap() {
                out.push((aid.clone(), bid.clone(), r));
            }
        };
        let Net {
            g,
            t,
            b,
            gd,
            td,
            bd,
        } = self;
        pair(g, gd, G_T.0, t, td, G_T.1);
        pair(t, td, G_T.1, g, gd, G_T.0);
        pair(g, gd, G_B.0, b, bd, G_B.1);
        pair(b, bd, G_B.1, g, gd, G_B.0);
        pair(t, td, T_B.0, b, bd, T_B.1);
        pair(b, bd, T_B.1, t, td, T_B.0);
        out
    }

    fn chains(&self) -> [&Chain; 3] {
        [&self.g, &self.t, &self.b]
    }

    /// Consent and attestation paused on every chain (`true`), or running on every chain.
    fn all_paused(&self, expected: bool) -> bool {
        self.chains()
            .iter()
            .all(|c| paused(c, &c.consent) == expected && paused(c, &c.attestation) == expected)
    }

    fn advance(&mut self, seconds: u64) {
        for chain in [&mut self.g, &mut self.t, &mut self.b] {
            chain.advance(seconds);
        }
    }
}

fn errors(outcomes: &[(String, String, Relayed)]) -> Vec<String> {
    outcomes
        .iter()
        .filter_map(|(_, _, r)| ack_error(r))
        .collect()
}

#[test]
fn network_pause_at_the_eighth_approval_and_unpause_from_another_chain() {
    let mut net = net();
    // Seven approvals do nothing anywhere.
    net.gd
        .council_act(
            &mut net.g,
            CouncilAction::NetworkPause {
                reason: "exploit in attestation".into(),
            },
            7,
        )
        .unwrap();
    assert!(net.relay_all().is_empty());
    assert!(net.all_paused(false));

    // The 8th approval pauses this chain at once and sends the pause to the other two.
    let res = net
        .gd
        .council_act(
            &mut net.g,
            CouncilAction::NetworkPause {
                reason: "exploit in attestation".into(),
            },
            8,
        )
        .unwrap();
    assert!(res.events.iter().any(|e| e.ty == "wasm-network_pause_sent"));
    assert!(paused(&net.g, &net.g.consent) && paused(&net.g, &net.g.attestation));
    assert!(!paused(&net.t, &net.t.consent) && !paused(&net.b, &net.b.consent));
    let outcomes = net.relay_all();
    assert_eq!(outcomes.len(), 2, "one pause packet to each other chain");
    assert!(errors(&outcomes).is_empty(), "{outcomes:?}");
    assert!(net.all_paused(true));

    // The origin records both answers; the others record where the pause came from.
    let record = net.gd.network(&net.g).last_network_pause.unwrap();
    assert!(record.pause);
    assert_eq!(record.answers.len(), 2);
    assert!(record.answers.iter().all(|a| a.result == Some(Ok(()))));
    let there = net.td.network(&net.t).last_network_pause.unwrap();
    assert_eq!(there.origin_chain, "genomics-1");
    assert_eq!(there.reason, "exploit in attestation");

    // The trials council lifts it network-wide.
    net.td
        .council_act(&mut net.t, CouncilAction::NetworkUnpause {}, 8)
        .unwrap();
    assert!(!paused(&net.t, &net.t.consent));
    let outcomes = net.relay_all();
    assert!(errors(&outcomes).is_empty(), "{outcomes:?}");
    assert!(net.all_paused(false));
}

#[test]
fn a_network_pause_lapses_everywhere_and_a_late_pause_times_out() {
    let mut net = net();
    let pause = CouncilAction::NetworkPause {
        reason: "drill".into(),
    };
    net.gd.council_act(&mut net.g, pause.clone(), 8).unwrap();
    net.relay_all();
    assert!(net.all_paused(true));
    // No pause lasts forever: each contract's pause lapses after its max pause (14 days).
    net.advance(14 * 24 * 3600);
    assert!(net.all_paused(false));

    // A pause packet held back past its timeout never pauses the late chain.
    net.gd.council_act(&mut net.g, pause, 8).unwrap();
    net.t.advance(NETWORK_PACKET_TIMEOUT_SECONDS + 1);
    net.b.advance(NETWORK_PACKET_TIMEOUT_SECONDS + 1);
    let outcomes = net.relay_all();
    assert_eq!(errors(&outcomes), vec!["timeout", "timeout"]);
    assert!(!paused(&net.t, &net.t.consent) && !paused(&net.b, &net.b.consent));
    let record = net.gd.network(&net.g).last_network_pause.unwrap();
    assert!(record
        .answers
        .iter()
        .all(|a| a.result == Some(Err("timeout".into()))));
}

#[test]
fn an_older_pause_overtaken_by_a_newer_unpause_is_refused() {
    let mut net = net();
    net.gd
        .council_act(
            &mut net.g,
            CouncilAction::NetworkPause {
                reason: "drill".into(),
            },
            8,
        )
        .unwrap();
    net.gd
        .council_act(&mut net.g, CouncilAction::NetworkUnpause {}, 8)
        .unwrap();
    assert!(!paused(&net.g, &net.g.consent));
    // The unordered channel delivers the unpause first.
    let mut sent = take_sent(&net.g, G_T.0);
    assert_eq!(sent.len(), 2);
    sent.reverse();
    let (gd, td) = (&net.gd, &net.td);
    let mut from = gov_end(&mut net.g, gd, G_T.0);
    let mut to = gov_end(&mut net.t, td, G_T.1);
    let mut answers = vec![];
    for packet in sent {
        let packet = packet_of(&mut from, &to, packet);
        let relayer = Addr::unchecked("relayer");
        let ack = deliver(&mut to, IbcPacketReceiveMsg::new(packet, relayer));
        answers.push(ack_error(&Relayed::Acknowledged(ack)));
    }
    assert_eq!(answers[0], None, "the newer unpause applies");
    assert!(answers[1].as_ref().unwrap().contains("stale network pause"));
    assert!(!paused(&net.t, &net.t.consent), "stale pause refused");
}

/// A pause packet on trials' governance channel from `src_port`, or on `channel`.
fn forged(net: &Net, src_port: &str, channel: &str) -> IbcPacket {
    IbcPacket::new(
        to_json_binary(&GovPacket::Pause {
            action_id: 99,
            seq: 99,
            at: net.t.app.block_info().time,
            reason: "forged".into(),
        })
        .unwrap(),
        IbcEndpoint {
            port_id: src_port.into(),
            channel_id: G_T.0.into(),
        },
        IbcEndpoint {
            port_id: format!("wasm.{}", net.td.address),
            channel_id: channel.into(),
        },
        1,
        IbcTimeout::with_timestamp(net.t.app.block_info().time.plus_seconds(60)),
    )
}

#[test]
fn a_pause_packet_from_anything_but_the_trusted_governance_is_refused() {
    let mut net = net();
    let before = net.t.app.dump_wasm_raw(&net.td.address);
    let genuine_port = format!("wasm.{}", net.gd.address);
    let impostor = format!("wasm.{}", net.g.attestation);
    let cases = [
        (
            forged(&net, &impostor, G_T.1),
            "untrusted counterparty port",
        ),
        (
            forged(&net, &genuine_port, "channel-99"),
            "channel-99 is not open",
        ),
    ];
    for (packet, expected) in cases {
        let td = &net.td;
        let mut to = gov_end(&mut net.t, td, G_T.1);
        let ack = deliver(
            &mut to,
            IbcPacketReceiveMsg::new(packet, Addr::unchecked("r")),
        );
        let error = ack_error(&Relayed::Acknowledged(ack)).expect("error ack");
        assert!(error.contains(expected), "{error}");
        assert_eq!(net.t.app.dump_wasm_raw(&net.td.address), before);
        assert!(!paused(&net.t, &net.t.consent));
    }
    // Garbage from the trusted port is refused too.
    let mut garbage = forged(&net, &genuine_port, G_T.1);
    garbage.data = b"{\"pause\":{}}".into();
    let td = &net.td;
    let mut to = gov_end(&mut net.t, td, G_T.1);
    let ack = deliver(
        &mut to,
        IbcPacketReceiveMsg::new(garbage, Addr::unchecked("r")),
    );
    assert!(ack_error(&Relayed::Acknowledged(ack))
        .unwrap()
        .contains("unreadable governance packet"));
    // Once trials' DAO stops trusting the connection, the genuine DAO is refused as well.
    let connection = net.td.network(&net.t).connections[0].connection_id.clone();
    net.td
        .as_self(
            &mut net.t,
            &gov::ExecuteMsg::DisallowConnection {
                connection_id: connection,
            },
        )
        .unwrap();
    let before = net.t.app.dump_wasm_raw(&net.td.address);
    let packet = forged(&net, &genuine_port, G_T.1);
    let td = &net.td;
    let mut to = gov_end(&mut net.t, td, G_T.1);
    let ack = deliver(
        &mut to,
        IbcPacketReceiveMsg::new(packet, Addr::unchecked("r")),
    );
    assert!(ack_error(&Relayed::Acknowledged(ack))
        .unwrap()
        .contains("not trusted"));
    assert_eq!(net.t.app.dump_wasm_raw(&net.td.address), before);
}

fn pause_msg(contract: &Addr, msg: PauseMsg) -> CosmosMsg {
    WasmMsg::Execute {
        contract_addr: contract.to_string(),
        msg: to_json_binary(&PausableExecuteMsg::Pausable(msg)).unwrap(),
        funds: vec![],
    }
    .into()
}

/// Genomics' DAO passes and executes `msgs` (both voters yes); returns the proposal id.
fn pass_on_genomics(net: &mut Net, msgs: Vec<CosmosMsg>) -> u64 {
    let proposer = net.gd.voters[0].clone();
    net.gd
        .exec(
            &mut net.g,
            &proposer,
            &gov::ExecuteMsg::Propose {
                title: "remote".into(),
                description: "runs on another chain".into(),
                msgs,
            },
        )
        .unwrap();
    let id = net.gd.last_proposal(&net.g);
    net.gd.vote(&mut net.g, 0, id, Vote::Yes);
    net.gd.vote(&mut net.g, 1, id, Vote::Yes);
    net.g.advance(TIMELOCK);
    let executor = net.gd.voters[1].clone();
    net.gd
        .exec(
            &mut net.g,
            &executor,
            &gov::ExecuteMsg::Execute { proposal_id: id },
        )
        .unwrap();
    id
}

fn send_remote(net: &Net, chain: &str, msgs: Vec<CosmosMsg>) -> CosmosMsg {
    net.gd.msg(&gov::ExecuteMsg::SendRemote {
        chain_id: chain.into(),
        msgs,
    })
}

#[test]
fn remote_execution_applies_atomically_and_the_proposal_records_the_result() {
    let mut net = net();
    // Success: trials' consent contract paused by trials' governance on genomics' proposal.
    let consent = net.t.consent.clone();
    let pause = pause_msg(
        &consent,
        PauseMsg::Pause {
            reason: "remote".into(),
        },
    );
    let msg = send_remote(&net, "trials-1", vec![pause]);
    let id = pass_on_genomics(&mut net, vec![msg]);
    assert_eq!(net.gd.proposal(&net.g, id).status, Status::Executed);
    assert_eq!(
        net.gd.proposal(&net.g, id).remote[0].result,
        RemoteResult::InFlight
    );
    assert!(errors(&net.relay_all()).is_empty());
    assert!(paused(&net.t, &consent));
    assert!(matches!(
        net.gd.proposal(&net.g, id).remote[0].result,
        RemoteResult::Executed { .. }
    ));

    // Failure: the second message fails (attestation is not paused), so the first (unpause
    // consent) does not apply either; the ack carries the error and the proposal records it.
    let attestation = net.t.attestation.clone();
    let msgs = vec![
        pause_msg(&consent, PauseMsg::Unpause {}),
        pause_msg(&attestation, PauseMsg::Unpause {}),
    ];
    let msg = send_remote(&net, "trials-1", msgs);
    let id = pass_on_genomics(&mut net, vec![msg]);
    let outcomes = net.relay_all();
    let errs = errors(&outcomes);
    assert_eq!(errs.len(), 1, "{outcomes:?}");
    assert!(
        errs[0].starts_with("remote execution failed"),
        "{}",
        errs[0]
    );
    assert!(
        paused(&net.t, &consent),
        "nothing of a failed remote execution applies"
    );
    let RemoteResult::Failed { error, .. } = &net.gd.proposal(&net.g, id).remote[0].result else {
        panic!("remote failure not recorded");
    };
    assert!(error.contains("remote execution failed"));

    // Refused before running: a council change for another chain.
    let council_change = net.td.msg(&gov::ExecuteMsg::UpdateCouncil {
        council: gov::CouncilConfig {
            members: vec![net.gd.voters[0].to_string()],
            threshold: 1,
        },
    });
    let msg = send_remote(&net, "trials-1", vec![council_change]);
    let id = pass_on_genomics(&mut net, vec![msg]);
    let errs = errors(&net.relay_all());
    assert!(errs[0].contains("a council change"), "{errs:?}");
    assert!(matches!(
        net.gd.proposal(&net.g, id).remote[0].result,
        RemoteResult::Failed { .. }
    ));
    let council: gov::CouncilResponse = net.td.query(&net.t, &gov::QueryMsg::Council {});
    assert_eq!(council.members.len(), 12);

    // No channel to the chain: the proposal's execution fails as a whole.
    let local = pause_msg(
        &net.g.consent.clone(),
        PauseMsg::Pause { reason: "x".into() },
    );
    let msg = send_remote(
        &net,
        "unknown-1",
        vec![pause_msg(&consent, PauseMsg::Unpause {})],
    );
    let id = pass_on_genomics(&mut net, vec![local, msg]);
    assert_eq!(net.gd.proposal(&net.g, id).status, Status::ExecutionFailed);
    assert!(!paused(&net.g, &net.g.consent));
}

/// Genomics opens a network proposal carrying `msgs`; the other chains open their mirrors.
fn network_propose(net: &mut Net, msgs: Vec<CosmosMsg>) -> (u64, u64, u64) {
    let proposer = net.gd.voters[0].clone();
    net.gd
        .exec(
            &mut net.g,
            &proposer,
            &gov::ExecuteMsg::NetworkPropose {
                title: "network".into(),
                description: "decided by all three chains".into(),
                msgs,
            },
        )
        .unwrap();
    let id = net.gd.last_proposal(&net.g);
    assert!(errors(&net.relay_all()).is_empty());
    let (tm, bm) = (net.td.last_proposal(&net.t), net.bd.last_proposal(&net.b));
    (id, tm, bm)
}

fn send_tally(dao: &Dao, chain: &mut Chain, id: u64) {
    let anyone = Addr::unchecked("anyone");
    dao.exec(
        chain,
        &anyone,
        &gov::ExecuteMsg::SendTally { proposal_id: id },
    )
    .unwrap();
}

#[test]
fn a_local_majority_loses_the_network_vote_and_a_network_majority_executes() {
    let mut net = net();
    let (id, tm, bm) = network_propose(&mut net, vec![]);
    let home = net.gd.proposal(&net.g, id);
    let Some(NetworkVote::Home { chains, .. }) = &home.network else {
        panic!("not a home proposal");
    };
    let totals: Vec<_> = chains
        .iter()
        .map(|c| match &c.status {
            ChainVoteStatus::Open { total_power, .. } => total_power.u128(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(totals, vec![50, 100]); // billing-1, trials-1
    assert_eq!(net.td.proposal(&net.t, tm).total_power, Uint128::new(100));

    // Genomics votes 60 yes / 40 no: a local majority, and still open (not decided early).
    net.gd.vote(&mut net.g, 0, id, Vote::Yes);
    net.gd.vote(&mut net.g, 1, id, Vote::No);
    assert_eq!(net.gd.proposal(&net.g, id).status, Status::Open);
    net.td.vote(&mut net.t, 0, tm, Vote::No);
    net.bd.vote(&mut net.b, 0, bm, Vote::No);
    // Tallies cannot be sent before the end.
    let anyone = Addr::unchecked("anyone");
    assert!(net
        .td
        .exec(
            &mut net.t,
            &anyone,
            &gov::ExecuteMsg::SendTally { proposal_id: tm }
        )
        .is_err());
    net.advance(VOTING_PERIOD);
    assert_eq!(net.gd.proposal(&net.g, id).status, Status::Tallying);
    send_tally(&net.td, &mut net.t, tm);
    send_tally(&net.bd, &mut net.b, bm);
    assert!(errors(&net.relay_all()).is_empty());
    assert_eq!(net.td.proposal(&net.t, tm).status, Status::Counted);
    // Network: 60 yes of 250 cast → rejected, though genomics alone voted 60 % yes.
    assert_eq!(net.gd.proposal(&net.g, id).status, Status::Rejected);

    // A network majority passes and its message runs on billing-1.
    let consent = net.b.consent.clone();
    let msg = send_remote(
        &net,
        "billing-1",
        vec![pause_msg(
            &consent,
            PauseMsg::Pause {
                reason: "network vote".into(),
            },
        )],
    );
    let (id, tm, bm) = network_propose(&mut net, vec![msg]);
    net.gd.vote(&mut net.g, 1, id, Vote::No);
    net.td.vote(&mut net.t, 0, tm, Vote::Yes);
    net.bd.vote(&mut net.b, 0, bm, Vote::Yes);
    net.advance(VOTING_PERIOD);
    send_tally(&net.td, &mut net.t, tm);
    send_tally(&net.bd, &mut net.b, bm);
    net.relay_all();
    let passed = net.gd.proposal(&net.g, id);
    assert_eq!(passed.status, Status::Passed, "150 yes / 40 no of 250");
    net.g.advance(TIMELOCK);
    let anyone = Addr::unchecked("anyone");
    net.gd
        .exec(
            &mut net.g,
            &anyone,
            &gov::ExecuteMsg::Execute { proposal_id: id },
        )
        .unwrap();
    assert!(errors(&net.relay_all()).is_empty());
    assert!(paused(&net.b, &consent));
}

#[test]
fn a_missing_tally_counts_as_power_that_did_not_vote() {
    let mut net = net();
    let (id, tm, bm) = network_propose(&mut net, vec![]);
    // Only genomics' 60 votes yes; billing's tally arrives empty; trials' never in time.
    net.gd.vote(&mut net.g, 0, id, Vote::Yes);
    net.advance(VOTING_PERIOD);
    send_tally(&net.bd, &mut net.b, bm);
    assert!(errors(&net.relay_all()).is_empty());
    send_tally(&net.td, &mut net.t, tm);
    // Trials' tally packet is held until it times out: the mirror records it and may resend.
    net.g.advance(NETWORK_PACKET_TIMEOUT_SECONDS + 1);
    let outcomes = net.relay_all();
    assert_eq!(errors(&outcomes), vec!["timeout"]);
    let Some(NetworkVote::Mirror { tally, .. }) = net.td.proposal(&net.t, tm).network else {
        panic!("not a mirror");
    };
    assert_eq!(
        tally,
        TallyDelivery::Refused {
            reason: "timeout".into()
        }
    );
    assert_eq!(net.gd.proposal(&net.g, id).status, Status::Tallying);
    net.t.advance(NETWORK_PACKET_TIMEOUT_SECONDS + 1); // clocks in step again
    net.b.advance(NETWORK_PACKET_TIMEOUT_SECONDS + 1);

    // After the deadline (one more voting period) the home decides without it; a late
    // resend is refused.
    net.advance(VOTING_PERIOD);
    send_tally(&net.td, &mut net.t, tm);
    let errs = errors(&net.relay_all());
    assert!(errs[0].contains("deadline has passed"), "{errs:?}");
    // 60 cast of 250 (trials' 100 stays in the total) misses the 40 % quorum; leaving the
    // missing chain out (60 of 150) would have passed it.
    assert_eq!(net.gd.proposal(&net.g, id).status, Status::Rejected);
}

#[test]
fn a_chain_that_did_not_open_the_vote_rejects_it() {
    let mut net = net();
    // Billing's DAO stops trusting genomics before the opening arrives.
    let connection = net
        .bd
        .network(&net.b)
        .connections
        .iter()
        .find(|c| c.chain_id == "genomics-1")
        .unwrap()
        .connection_id
        .clone();
    net.bd
        .as_self(
            &mut net.b,
            &gov::ExecuteMsg::DisallowConnection {
                connection_id: connection,
            },
        )
        .unwrap();
    let proposer = net.gd.voters[0].clone();
    net.gd
        .exec(
            &mut net.g,
            &proposer,
            &gov::ExecuteMsg::NetworkPropose {
                title: "network".into(),
                description: "billing will not open it".into(),
                msgs: vec![],
            },
        )
        .unwrap();
    let id = net.gd.last_proposal(&net.g);
    let errs = errors(&net.relay_all());
    assert_eq!(errs.len(), 1, "{errs:?}");
    for i in 0..2 {
        net.gd.vote(&mut net.g, i, id, Vote::Yes);
    }
    let tm = net.td.last_proposal(&net.t);
    net.td.vote(&mut net.t, 0, tm, Vote::Yes);
    net.advance(VOTING_PERIOD);
    send_tally(&net.td, &mut net.t, tm);
    net.relay_all();
    // Every vote cast was yes, but billing-1's voters never had the vote: rejected.
    assert_eq!(net.gd.proposal(&net.g, id).status, Status::Rejected);
}

#[test]
fn a_network_unpause_lifts_only_what_the_network_paused_and_a_refusing_target_stops_nothing() {
    let mut net = net();
    // Trials' council paused its consent contract locally before the network pause.
    let consent = net.t.consent.clone();
    net.td
        .council_act(
            &mut net.t,
            CouncilAction::Pause {
                contract: consent.to_string(),
                reason: "local incident".into(),
            },
            8,
        )
        .unwrap();
    // Billing's DAO lists a target it cannot pause (its staking contract is administered
    // by someone else): that target fails, the others pause.
    let targets = vec![
        net.b.staking.to_string(),
        net.b.consent.to_string(),
        net.b.attestation.to_string(),
    ];
    net.bd
        .as_self(
            &mut net.b,
            &gov::ExecuteMsg::SetPauseTargets { contracts: targets },
        )
        .unwrap();
    net.gd
        .council_act(
            &mut net.g,
            CouncilAction::NetworkPause {
                reason: "drill".into(),
            },
            8,
        )
        .unwrap();
    assert!(errors(&net.relay_all()).is_empty());
    assert!(net.all_paused(true));
    assert!(
        !paused(&net.b, &net.b.staking),
        "the refusing target is reported, not fatal"
    );
    // The network unpause lifts the network's pauses, not trials' own.
    net.gd
        .council_act(&mut net.g, CouncilAction::NetworkUnpause {}, 8)
        .unwrap();
    assert!(errors(&net.relay_all()).is_empty());
    assert!(paused(&net.t, &consent), "the local pause stays");
    assert!(!paused(&net.t, &net.t.attestation));
    assert!(!paused(&net.b, &net.b.consent) && !paused(&net.g, &net.g.consent));
}

#[test]
fn proposals_cannot_speak_for_governance_over_raw_ibc_or_rebind_another_chain() {
    let mut net = net();
    // A raw packet from the DAO's port would be taken for its governance: refused.
    let forged = CosmosMsg::Ibc(cosmwasm_std::IbcMsg::SendPacket {
        channel_id: G_T.0.into(),
        data: to_json_binary(&GovPacket::Unpause {
            action_id: 1,
            seq: 99,
            at: net.g.app.block_info().time,
        })
        .unwrap(),
        timeout: IbcTimeout::with_timestamp(net.g.app.block_info().time.plus_seconds(60)),
    });
    for msgs in [
        vec![forged.clone()],
        vec![send_remote(&net, "trials-1", vec![forged])],
    ] {
        let proposer = net.gd.voters[0].clone();
        let err = net
            .gd
            .exec(
                &mut net.g,
                &proposer,
                &gov::ExecuteMsg::Propose {
                    title: "forge".into(),
                    description: "a raw packet".into(),
                    msgs,
                },
            )
            .unwrap_err();
        assert!(
            format!("{:#}", err).to_lowercase().contains("raw ibc"),
            "{err:#}"
        );
    }
    // A remote proposal cannot change whom trials' governance trusts.
    let rebind = net.td.msg(&gov::ExecuteMsg::AllowConnection {
        connection_id: "connection-9".into(),
        chain_id: "attacker-1".into(),
        counterparty_port: "wasm.attacker".into(),
    });
    let msg = send_remote(&net, "trials-1", vec![rebind]);
    pass_on_genomics(&mut net, vec![msg]);
    let errs = errors(&net.relay_all());
    assert!(errs[0].contains("network trust"), "{errs:?}");
    assert_eq!(net.td.network(&net.t).connections.len(), 2);
    // A network proposal cannot slash (the stake is on one chain only).
    let slash = WasmMsg::Execute {
        contract_addr: net.g.staking.to_string(),
        msg: to_json_binary(&healthmesh_types::staking::ExecuteMsg::Slash {
            attester: net.g.custodian.to_string(),
            ratio: cosmwasm_std::Decimal::percent(10),
            reason: "x".into(),
        })
        .unwrap(),
        funds: vec![],
    };
    let proposer = net.gd.voters[0].clone();
    let err = net
        .gd
        .exec(
            &mut net.g,
            &proposer,
            &gov::ExecuteMsg::NetworkPropose {
                title: "slash".into(),
                description: "".into(),
                msgs: vec![slash.into()],
            },
        )
        .unwrap_err();
    assert!(format!("{err:#}").contains("cannot slash"), "{err:#}");
}

#[test]
fn a_delayed_unpause_cannot_lift_a_newer_pause_nor_a_local_re_pause() {
    let mut net = net();
    // Trials' council unpauses the network (nothing paused); its packets are held back.
    net.td
        .council_act(&mut net.t, CouncilAction::NetworkUnpause {}, 8)
        .unwrap();
    net.advance(10);
    // Ten seconds later genomics' council pauses the network; delivered first.
    net.gd
        .council_act(
            &mut net.g,
            CouncilAction::NetworkPause {
                reason: "new incident".into(),
            },
            8,
        )
        .unwrap();
    let (gd, bd, td) = (&net.gd, &net.bd, &net.td);
    let mut from = gov_end(&mut net.g, gd, G_B.0);
    let mut to = gov_end(&mut net.b, bd, G_B.1);
    assert!(relay_gov(&mut from, &mut to)
        .unwrap()
        .iter()
        .all(|r| ack_error(r).is_none()));
    // The older unpause from trials arrives late: refused, billing stays paused.
    let mut from = gov_end(&mut net.t, td, T_B.0);
    let mut to = gov_end(&mut net.b, bd, T_B.1);
    let late = relay_gov(&mut from, &mut to).unwrap();
    assert!(ack_error(&late[0]).unwrap().contains("older network pause"));
    assert!(paused(&net.b, &net.b.consent));
    assert!(errors(&net.relay_all())
        .iter()
        .all(|e| e.contains("older network pause")));
    assert!(net.all_paused(true));

    // Trials' council lifts its consent's network pause locally, then pauses it again
    // locally: the next network unpause leaves that local pause alone.
    let consent = net.t.consent.clone();
    net.td
        .council_act(
            &mut net.t,
            CouncilAction::Unpause {
                contract: consent.to_string(),
            },
            8,
        )
        .unwrap();
    net.advance(5);
    net.td
        .council_act(
            &mut net.t,
            CouncilAction::Pause {
                contract: consent.to_string(),
                reason: "local".into(),
            },
            8,
        )
        .unwrap();
    net.advance(5);
    net.gd
        .council_act(&mut net.g, CouncilAction::NetworkUnpause {}, 8)
        .unwrap();
    assert!(errors(&net.relay_all()).is_empty());
    assert!(
        paused(&net.t, &consent),
        "a local re-pause is not the network's"
    );
    assert!(!paused(&net.t, &net.t.attestation) && !paused(&net.b, &net.b.consent));

    // A network proposal cannot slash through a remote execution either.
    let slash = WasmMsg::Execute {
        contract_addr: net.t.staking.to_string(),
        msg: to_json_binary(&healthmesh_types::staking::ExecuteMsg::Slash {
            attester: net.t.custodian.to_string(),
            ratio: cosmwasm_std::Decimal::percent(10),
            reason: "x".into(),
        })
        .unwrap(),
        funds: vec![],
    };
    let msg = send_remote(&net, "trials-1", vec![slash.into()]);
    let proposer = net.gd.voters[0].clone();
    let err = net
        .gd
        .exec(
            &mut net.g,
            &proposer,
            &gov::ExecuteMsg::NetworkPropose {
                title: "slash".into(),
                description: "".into(),
                msgs: vec![msg],
            },
        )
        .unwrap_err();
    assert!(format!("{err:#}").contains("cannot slash"), "{err:#}");
}
