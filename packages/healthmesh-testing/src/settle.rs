//! Fixtures of the settlement market: a billing contract on one harness chain, settlement
//! channels from it to other chains' consent contracts, offers, purchases and relaying.

use cosmwasm_std::{coin, coins, Addr, Coin, Empty, HexBinary};
use cw_multi_test::{AppResponse, ContractWrapper, Executor};
use healthmesh_types::billing::{self, RevenueSplit};
use healthmesh_types::consent::{self, AllowedConnection};
use healthmesh_types::settle::SETTLE_CHANNEL_VERSION;

use crate::dao::DENOM;
use crate::ibc_harness::{
    handshake, relay_between, BillingApp, Chain, ConsentSettleApp, End, Link, Relayed,
};

/// 80 % patient, 10 % custodian, 7 % treasury, 3 % relayer.
pub const SPLIT: RevenueSplit = RevenueSplit {
    patient_bps: 8_000,
    custodian_bps: 1_000,
    treasury_bps: 700,
    relayer_bps: 300,
};
pub const PRICE_FLOOR: u128 = 100;
pub const PACKET_TIMEOUT: u64 = 600;

pub fn billing_code() -> Box<dyn cw_multi_test::Contract<Empty>> {
    use healthmesh_billing::contract::{execute, instantiate, migrate, query};
    Box::new(ContractWrapper::new(execute, instantiate, query).with_migrate(migrate))
}

/// Instantiate a billing contract on `chain` (its governance as admin, a council pauser).
pub fn deploy_billing(chain: &mut Chain) -> Addr {
    let code = chain.app.store_code(billing_code());
    let admin = chain.admin.clone();
    let msg = billing::InstantiateMsg {
        admin: admin.to_string(),
        pausers: vec![council(chain).to_string()],
        max_pause_seconds: None,
        split: SPLIT,
        treasury: treasury(chain).to_string(),
        price_floors: vec![coin(PRICE_FLOOR, DENOM)],
        allowed_connections: vec![],
        packet_timeout_seconds: Some(PACKET_TIMEOUT),
        trials_connections: vec![],
    };
    let billing = chain
        .app
        .instantiate_contract(code, admin, &msg, &[], "billing", None)
        .unwrap();
    chain.billing = Some(billing.clone());
    billing
}

/// A query of the billing contract on `chain`.
pub fn billing_query<T: serde::de::DeserializeOwned>(chain: &Chain, msg: &billing::QueryMsg) -> T {
    chain
        .app
        .wrap()
        .query_wasm_smart(billing_of(chain), msg)
        .unwrap()
}

/// What `address` may withdraw from the billing contract, in the harness denom.
pub fn credited(chain: &Chain, address: &Addr) -> u128 {
    let balance: billing::BalanceResponse = billing_query(
        chain,
        &billing::QueryMsg::Balance {
            address: address.to_string(),
        },
    );
    balance
        .balance
        .iter()
        .filter(|c| c.denom == DENOM)
        .map(|c| c.amount.u128())
        .sum()
}

/// The escrow invariant: the billing contract's bank balance equals its books (open escrows +
/// unclaimed balances + trial budgets).
pub fn assert_books(chain: &Chain) {
    let ledger: billing::LedgerResponse = billing_query(chain, &billing::QueryMsg::Ledger {});
    let books: u128 = ledger
        .totals
        .iter()
        .filter(|t| t.denom == DENOM)
        .map(|t| (t.open_escrow + t.unclaimed + t.trial_budgets).u128())
        .sum();
    let bank = chain.balance(&billing_of(chain));
    assert_eq!(bank, books, "bank balance vs books: {ledger:?}");
}

pub fn treasury(chain: &Chain) -> Addr {
    chain.app.api().addr_make("treasury")
}

pub fn council(chain: &Chain) -> Addr {
    chain.app.api().addr_make("council")
}

pub fn billing_of(chain: &Chain) -> Addr {
    chain.billing.clone().expect("deploy_billing first")
}

fn billing_end<'a>(chain: &'a mut Chain, channel: &str) -> End<'a> {
    let contract = billing_of(chain);
    End {
        chain,
        contract,
        app: &BillingApp,
        channel: channel.into(),
    }
}

fn consent_end<'a>(chain: &'a mut Chain, channel: &str) -> End<'a> {
    let contract = chain.consent.clone();
    End {
        chain,
        contract,
        app: &ConsentSettleApp,
        channel: channel.into(),
    }
}

/// Each side's governance trusts the other contract, then the settlement channel opens.
pub fn connect_settlement(
    billing_chain: &mut Chain,
    offer_chain: &mut Chain,
    billing_channel: &str,
    consent_channel: &str,
) -> Link {
    let connection = format!("connection-{billing_channel}-{consent_channel}");
    let billing = billing_of(billing_chain);
    let allow_billing = billing::ExecuteMsg::AllowConnection(AllowedConnection {
        connection_id: connection.clone(),
        chain_id: offer_chain.chain_id.clone(),
        counterparty_port: format!("wasm.{}", offer_chain.consent),
    });
    let admin = billing_chain.admin.clone();
    billing_chain
        .app
        .execute_contract(admin, billing.clone(), &allow_billing, &[])
        .unwrap();
    let allow_consent = consent::ExecuteMsg::AllowSettlement(AllowedConnection {
        connection_id: connection.clone(),
        chain_id: billing_chain.chain_id.clone(),
        counterparty_port: format!("wasm.{billing}"),
    });
    let (admin, consent) = (offer_chain.admin.clone(), offer_chain.consent.clone());
    offer_chain
        .app
        .execute_contract(admin, consent, &allow_consent, &[])
        .unwrap();
    let mut b = billing_end(billing_chain, billing_channel);
    let mut c = consent_end(offer_chain, consent_channel);
    handshake(&mut b, &mut c, &connection, SETTLE_CHANNEL_VERSION).unwrap();
    Link {
        a_channel: billing_channel.into(),
        b_channel: consent_channel.into(),
        connection,
    }
}

/// Relay the billing chain's purchase packets on `link` and their acks back.
pub fn relay_purchases(
    billing_chain: &mut Chain,
    offer_chain: &mut Chain,
    link: &Link,
) -> anyhow::Result<Vec<Relayed>> {
    let mut b = billing_end(billing_chain, &link.a_channel);
    let mut c = consent_end(offer_chain, &link.b_channel);
    relay_between(&mut b, &mut c)
}

/// The terms of a typical offer: 1,001 (an odd price) for up to 30 days of `hba1c`, `age`.
pub fn offer_msg(dataset: &HexBinary, price: u128) -> consent::ExecuteMsg {
    consent::ExecuteMsg::PublishOffer {
        dataset: dataset.clone(),
        purposes: vec!["diabetes-research".into()],
        scope: vec!["hba1c".into(), "age".into()],
        max_duration_seconds: 30 * 86_400,
        price: coin(price, DENOM),
        payout: None,
        buyers: None,
        max_sales: None,
    }
}

/// The patient of `chain` publishes `msg`; returns the offer id.
pub fn publish(chain: &mut Chain, msg: &consent::ExecuteMsg) -> u64 {
    let (patient, consent) = (chain.patient.clone(), chain.consent.clone());
    let response = chain
        .app
        .execute_contract(patient, consent, msg, &[])
        .unwrap();
    crate::consent::event_attr(&response, "wasm-offer_published", "offer_id")
        .unwrap()
        .parse()
        .unwrap()
}

/// The buy message for `offer_id` on `chain_id` with the offered purpose and scope.
pub fn buy_msg(chain_id: &str, offer_id: u64) -> billing::ExecuteMsg {
    billing::ExecuteMsg::Buy {
        chain_id: chain_id.into(),
        offer_id,
        purpose: "diabetes-research".into(),
        scope: vec!["hba1c".into()],
        duration_seconds: 7 * 86_400,
    }
}

/// `buyer` buys on the billing chain, paying `paid`.
pub fn buy(
    chain: &mut Chain,
    buyer: &Addr,
    msg: &billing::ExecuteMsg,
    paid: Coin,
) -> anyhow::Result<AppResponse> {
    let billing = billing_of(chain);
    chain
        .app
        .execute_contract(buyer.clone(), billing, msg, &[paid])
}

/// Fund `address` on `chain` with `amount` of the harness denom.
pub fn fund(chain: &mut Chain, address: &Addr, amount: u128) {
    let before = chain.balance(address);
    chain.app.init_modules(|router, _, storage| {
        router
            .bank
            .init_balance(storage, address, coins(before + amount, DENOM))
            .unwrap();
    });
}
