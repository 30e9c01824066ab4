//! Fixtures of milestone payouts: a trials contract on one harness chain, the milestone
//! channel from it to a billing contract on another, and relaying.

use cosmwasm_std::{Addr, Empty};
use cw_multi_test::{ContractWrapper, Executor};
use healthmesh_types::billing;
use healthmesh_types::ibc::AllowedConnection;
use healthmesh_types::trial_pay::TRIALS_CHANNEL_VERSION;
use healthmesh_types::trials;

use crate::ibc_harness::{
    handshake, relay_between, BillingApp, Chain, End, Link, Relayed, TrialsApp,
};
use crate::settle::billing_of;

pub fn trials_code() -> Box<dyn cw_multi_test::Contract<Empty>> {
    use healthmesh_trials::contract::{execute, instantiate, migrate, query};
    Box::new(ContractWrapper::new(execute, instantiate, query).with_migrate(migrate))
}

/// Instantiate a trials contract on `chain` reading its attestation contract, with `sites`
/// approved from the start.
pub fn deploy_trials(chain: &mut Chain, sites: &[&Addr]) -> Addr {
    let code = chain.app.store_code(trials_code());
    let admin = chain.admin.clone();
    let msg = trials::InstantiateMsg {
        admin: admin.to_string(),
        attestation: chain.attestation.to_string(),
        sites: sites.iter().map(|s| s.to_string()).collect(),
        pausers: vec![],
        max_pause_seconds: None,
        billing_connections: vec![],
        packet_timeout_seconds: None,
    };
    chain
        .app
        .instantiate_contract(code, admin, &msg, &[], "trials", None)
        .unwrap()
}

fn ends<'a>(
    billing_chain: &'a mut Chain,
    trials_chain: &'a mut Chain,
    trials: &Addr,
    link: &Link,
) -> (End<'a>, End<'a>) {
    let billing = billing_of(billing_chain);
    let b = End {
        chain: billing_chain,
        contract: billing,
        app: &BillingApp,
        channel: link.a_channel.clone(),
    };
    let t = End {
        chain: trials_chain,
        contract: trials.clone(),
        app: &TrialsApp,
        channel: link.b_channel.clone(),
    };
    (b, t)
}

/// Each side's governance trusts the other contract, then the milestone channel opens
/// (billing-1 initiates: its chain id is the smaller).
pub fn connect_milestones(
    billing_chain: &mut Chain,
    trials_chain: &mut Chain,
    trials: &Addr,
    channels: (&str, &str),
) -> Link {
    let connection = format!("connection-{}-{}", channels.0, channels.1);
    let billing = billing_of(billing_chain);
    let allow_trials = billing::ExecuteMsg::AllowTrials(AllowedConnection {
        connection_id: connection.clone(),
        chain_id: trials_chain.chain_id.clone(),
        counterparty_port: format!("wasm.{trials}"),
    });
    let admin = billing_chain.admin.clone();
    billing_chain
        .app
        .execute_contract(admin, billing.clone(), &allow_trials, &[])
        .unwrap();
    let allow_billing = trials::ExecuteMsg::AllowBilling(AllowedConnection {
        connection_id: connection.clone(),
        chain_id: billing_chain.chain_id.clone(),
        counterparty_port: format!("wasm.{billing}"),
    });
    let admin = trials_chain.admin.clone();
    trials_chain
        .app
        .execute_contract(admin, trials.clone(), &allow_billing, &[])
        .unwrap();
    let link = Link {
        a_channel: channels.0.into(),
        b_channel: channels.1.into(),
        connection: connection.clone(),
    };
    let (mut b, mut t) = ends(billing_chain, trials_chain, trials, &link);
    handshake(&mut b, &mut t, &connection, TRIALS_CHANNEL_VERSION).unwrap();
    link
}

/// Relay the trials contract's packets on `link` to billing and their acks back.
pub fn relay_milestones(
    billing_chain: &mut Chain,
    trials_chain: &mut Chain,
    trials: &Addr,
    link: &Link,
) -> anyhow::Result<Vec<Relayed>> {
    let (mut b, mut t) = ends(billing_chain, trials_chain, trials, link);
    relay_between(&mut t, &mut b)
}
