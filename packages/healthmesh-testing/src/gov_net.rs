//! The network of governance contracts over the relay harness: each [`Chain`] gets a DAO of
//! fixed members and a 12-member council (8 to act) that may pause the chain's consent and
//! attestation contracts; governance channels (`healthmesh-gov-1`) join the DAOs pairwise.
//!
//! A governance packet's receive dispatches its messages as wasmd does: a self-call run as a
//! sub-message, and `reply` on its error turns the ack into the error the contract sets.

use anyhow::bail;
use cosmwasm_std::{
    Addr, Binary, CosmosMsg, IbcAcknowledgement, IbcPacketAckMsg, IbcPacketReceiveMsg,
    IbcPacketTimeoutMsg, IbcReceiveResponse, Reply, ReplyOn, SubMsgResult, WasmMsg,
};
use cw_multi_test::{AppResponse, Executor};
use healthmesh_types::governance::{self as gov, CouncilAction, Member, VotingSource};
use healthmesh_types::network::GOVERNANCE_CHANNEL_VERSION;
use healthmesh_types::pause::{
    PausableExecuteMsg, PausableQueryMsg, PauseMsg, PauseStatusResponse,
};

use crate::dao::{governance_code, governance_instantiate_msg};
use crate::ibc_harness::{
    account, handshake, packet_of, take_sent, Chain, End, GovernanceApp, IbcApp, Relayed,
};

/// A chain's DAO: its address, voters and council.
pub struct Dao {
    pub address: Addr,
    pub voters: Vec<Addr>,
    pub council: Vec<Addr>,
}

/// Put a DAO on `chain` whose voters hold `weights` (named `<chain>-voter-<i>`), whose
/// council is 12 members acting at 8, and which may pause the consent and attestation
/// contracts (its pause targets).
pub fn deploy_dao(chain: &mut Chain, weights: &[u64]) -> Dao {
    let api = *chain.app.api();
    let voters: Vec<Addr> = (0..weights.len())
        .map(|i| account(&api, &format!("{}-voter-{i}", chain.chain_id)))
        .collect();
    let council: Vec<Addr> = (0..12)
        .map(|i| account(&api, &format!("{}-council-{i}", chain.chain_id)))
        .collect();
    let members = voters
        .iter()
        .zip(weights)
        .map(|(addr, weight)| Member {
            addr: addr.to_string(),
            weight: *weight,
        })
        .collect();
    let mut msg = governance_instantiate_msg(VotingSource::Members { members }, &council);
    msg.council.threshold = 8;
    msg.deposit = None;
    msg.network = Some(gov::NetworkConfig {
        connections: vec![],
        pause_targets: vec![chain.consent.to_string(), chain.attestation.to_string()],
    });
    let code = chain.app.store_code(governance_code());
    let admin = chain.admin.clone();
    let address = chain
        .app
        .instantiate_contract(code, admin.clone(), &msg, &[], "governance", None)
        .unwrap();
    for target in [chain.consent.clone(), chain.attestation.clone()] {
        let add = PausableExecuteMsg::Pausable(PauseMsg::UpdatePausers {
            add: vec![address.to_string()],
            remove: vec![],
        });
        chain
            .app
            .execute_contract(admin.clone(), target, &add, &[])
            .unwrap();
    }
    Dao {
        address,
        voters,
        council,
    }
}

impl Dao {
    /// Run `msg` as this DAO itself (what a passed proposal does).
    pub fn as_self(&self, chain: &mut Chain, msg: &gov::ExecuteMsg) -> anyhow::Result<AppResponse> {
        chain
            .app
            .execute_contract(self.address.clone(), self.address.clone(), msg, &[])
    }

    pub fn exec(
        &self,
        chain: &mut Chain,
        sender: &Addr,
        msg: &gov::ExecuteMsg,
    ) -> anyhow::Result<AppResponse> {
        chain
            .app
            .execute_contract(sender.clone(), self.address.clone(), msg, &[])
    }

    pub fn query<T: serde::de::DeserializeOwned>(&self, chain: &Chain, msg: &gov::QueryMsg) -> T {
        chain
            .app
            .wrap()
            .query_wasm_smart(&self.address, msg)
            .unwrap()
    }

    pub fn proposal(&self, chain: &Chain, id: u64) -> gov::Proposal {
        self.query::<gov::ProposalResponse>(chain, &gov::QueryMsg::Proposal { proposal_id: id })
            .proposal
    }

    pub fn network(&self, chain: &Chain) -> gov::NetworkResponse {
        self.query(chain, &gov::QueryMsg::Network {})
    }

    /// A message to this DAO (for a proposal).
    pub fn msg(&self, msg: &gov::ExecuteMsg) -> CosmosMsg {
        WasmMsg::Execute {
            contract_addr: self.address.to_string(),
            msg: cosmwasm_std::to_json_binary(msg).unwrap(),
            funds: vec![],
        }
        .into()
    }

    /// `n` council members act on `action` (the first proposes it).
    pub fn council_act(
        &self,
        chain: &mut Chain,
        action: CouncilAction,
        n: usize,
    ) -> anyhow::Result<AppResponse> {
        let first = self.exec(
            chain,
            &self.council[0],
            &gov::ExecuteMsg::CouncilPropose { action },
        )?;
        let id: u64 =
            crate::consent::event_attr(&first, "wasm-council_action_proposed", "action_id")
                .unwrap()
                .parse()
                .unwrap();
        let mut last = first;
        for member in &self.council[1..n] {
            last = self.exec(
                chain,
                member,
                &gov::ExecuteMsg::CouncilApprove { action_id: id },
            )?;
        }
        Ok(last)
    }

    /// The id of the newest proposal.
    pub fn last_proposal(&self, chain: &Chain) -> u64 {
        self.query::<gov::ProposalsResponse>(
            chain,
            &gov::QueryMsg::ListProposals {
                start_after: None,
                limit: Some(1),
                reverse: Some(true),
            },
        )
        .proposals[0]
            .id
    }

    /// `voters[i]` votes `vote` on proposal `id`.
    pub fn vote(&self, chain: &mut Chain, i: usize, id: u64, vote: gov::Vote) {
        let voter = self.voters[i].clone();
        self.exec(
            chain,
            &voter,
            &gov::ExecuteMsg::Vote {
                proposal_id: id,
                vote,
            },
        )
        .unwrap();
    }
}

/// Whether `contract` on `chain` is paused now.
pub fn paused(chain: &Chain, contract: &Addr) -> bool {
    let status: PauseStatusResponse = chain
        .app
        .wrap()
        .query_wasm_smart(contract, &PausableQueryMsg::PauseStatus {})
        .unwrap();
    status.paused.is_some()
}

/// The governance end of `channel` on `chain`.
pub fn gov_end<'a>(chain: &'a mut Chain, dao: &Dao, channel: &str) -> End<'a> {
    End {
        chain,
        contract: dao.address.clone(),
        app: &GovernanceApp,
        channel: channel.into(),
    }
}

/// Each DAO trusts the other's governance over a new connection (as a passed proposal
/// would), then the channel handshake runs.
pub fn link(a: &mut Chain, a_dao: &Dao, b: &mut Chain, b_dao: &Dao, a_ch: &str, b_ch: &str) {
    let connection = format!("connection-gov-{}-{}", a.chain_id, b.chain_id);
    let (a_id, b_id) = (a.chain_id.clone(), b.chain_id.clone());
    for (chain, dao, other, other_dao) in
        [(&mut *a, a_dao, b_id, b_dao), (&mut *b, b_dao, a_id, a_dao)]
    {
        dao.as_self(
            chain,
            &gov::ExecuteMsg::AllowConnection {
                connection_id: connection.clone(),
                chain_id: other,
                counterparty_port: format!("wasm.{}", other_dao.address),
            },
        )
        .unwrap();
    }
    let mut a_end = gov_end(a, a_dao, a_ch);
    let mut b_end = gov_end(b, b_dao, b_ch);
    handshake(
        &mut a_end,
        &mut b_end,
        &connection,
        GOVERNANCE_CHANNEL_VERSION,
    )
    .unwrap();
}

/// Deliver a governance packet's receive as wasmd does and return the acknowledgement:
/// the response's messages run as the contract; a failed sub-message with a reply on error
/// goes to `reply`, whose data (if any) replaces the ack; any other failure is an error ack.
pub fn deliver(to: &mut End, msg: IbcPacketReceiveMsg) -> Binary {
    let received: IbcReceiveResponse = to.chain.ibc_on(&to.contract.clone(), |deps, env| {
        GovernanceApp.receive(deps, env, msg)
    });
    let mut ack = received
        .acknowledgement
        .expect("synchronous acknowledgement");
    for sub in received.messages {
        let contract = to.contract.clone();
        match (
            to.chain.app.execute(contract.clone(), sub.msg),
            sub.reply_on,
        ) {
            (Ok(_), _) => {}
            (Err(error), ReplyOn::Error | ReplyOn::Always) => {
                let reply = Reply {
                    id: sub.id,
                    payload: Binary::default(),
                    gas_used: 0,
                    result: SubMsgResult::Err(error.root_cause().to_string()),
                };
                let response = to
                    .chain
                    .ibc_on(&contract, |deps, env| {
                        healthmesh_governance::contract::reply(deps, env, reply)
                    })
                    .unwrap();
                if let Some(data) = response.data {
                    ack = data;
                }
            }
            (Err(error), _) => {
                return cosmwasm_std::StdAck::error(format!("receive failed: {error}")).to_binary()
            }
        }
    }
    ack
}

/// Relay every governance packet `from` sent on its channel to `to` (or time it out if
/// `to`'s clock passed its timeout) and bring the answer back.
pub fn relay_gov(from: &mut End, to: &mut End) -> anyhow::Result<Vec<Relayed>> {
    let relayer = from.chain.app.api().addr_make("relayer");
    let mut outcomes = vec![];
    for sent in take_sent(from.chain, &from.channel) {
        if sent.sender != from.contract {
            bail!("packet from {} on a governance channel", sent.sender);
        }
        let timeout = sent.timeout.clone();
        let packet = packet_of(from, to, sent);
        let timed_out = timeout
            .timestamp()
            .is_some_and(|t| to.chain.app.block_info().time >= t);
        let contract = from.contract.clone();
        if timed_out {
            let msg = IbcPacketTimeoutMsg::new(packet, relayer.clone());
            from.chain.ibc_on(&contract, |deps, env| {
                healthmesh_governance::ibc::ibc_packet_timeout(deps, env, msg)
            })?;
            outcomes.push(Relayed::TimedOut);
            continue;
        }
        let ack = deliver(
            to,
            IbcPacketReceiveMsg::new(packet.clone(), relayer.clone()),
        );
        let msg = IbcPacketAckMsg::new(
            IbcAcknowledgement::new(ack.clone()),
            packet,
            relayer.clone(),
        );
        from.chain.ibc_on(&contract, |deps, env| {
            healthmesh_governance::ibc::ibc_packet_ack(deps, env, msg)
        })?;
        outcomes.push(Relayed::Acknowledged(ack));
    }
    Ok(outcomes)
}

/// The error of an error ack (`None` for a success).
pub fn ack_error(relayed: &Relayed) -> Option<String> {
    match relayed {
        Relayed::Acknowledged(ack) => match cosmwasm_std::from_json(ack).unwrap() {
            cosmwasm_std::StdAck::Success(_) => None,
            cosmwasm_std::StdAck::Error(e) => Some(e),
        },
        Relayed::TimedOut => Some("timeout".into()),
    }
}
