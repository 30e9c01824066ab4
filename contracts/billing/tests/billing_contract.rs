//! The billing contract on its own chain (no channel): instantiation rules, what is refused
//! before any packet is sent, and that a refusal changes nothing.

use cosmwasm_std::{coin, coins, Addr};
use cw_multi_test::{App, ContractWrapper, Executor};
use healthmesh_billing::ContractError;
use healthmesh_types::billing::{
    ExecuteMsg, InstantiateMsg, LedgerResponse, MarketResponse, QueryMsg, RevenueSplit,
};

const DENOM: &str = "ustake";

fn split() -> RevenueSplit {
    RevenueSplit {
        patient_bps: 8_000,
        custodian_bps: 1_000,
        treasury_bps: 700,
        relayer_bps: 300,
    }
}

fn msg(app: &App) -> InstantiateMsg {
    InstantiateMsg {
        admin: app.api().addr_make("dao").to_string(),
        pausers: vec![],
        max_pause_seconds: None,
        split: split(),
        treasury: app.api().addr_make("treasury").to_string(),
        price_floors: vec![coin(100, DENOM)],
        allowed_connections: vec![],
        packet_timeout_seconds: None,
        trials_connections: vec![],
    }
}

fn setup() -> (App, Addr, u64) {
    let mut app = App::default();
    let code = app.store_code(Box::new(ContractWrapper::new(
        healthmesh_billing::contract::execute,
        healthmesh_billing::contract::instantiate,
        healthmesh_billing::contract::query,
    )));
    let admin = app.api().addr_make("dao");
    let m = msg(&app);
    let billing = app
        .instantiate_contract(code, admin, &m, &[], "billing", None)
        .unwrap();
    (app, billing, code)
}

fn error(err: anyhow::Error) -> ContractError {
    err.downcast().unwrap()
}

#[test]
fn instantiation_refuses_bad_markets() {
    let (mut app, _, code) = setup();
    let admin = app.api().addr_make("dao");
    let cases: Vec<(InstantiateMsg, &str)> = vec![
        (
            InstantiateMsg {
                split: RevenueSplit {
                    patient_bps: 9_500,
                    custodian_bps: 500,
                    treasury_bps: 0,
                    relayer_bps: 0,
                },
                ..msg(&app)
            },
            "7000 to 9000",
        ),
        (
            InstantiateMsg {
                price_floors: vec![],
                ..msg(&app)
            },
            "price_floors",
        ),
        (
            InstantiateMsg {
                price_floors: vec![coin(1, DENOM), coin(2, DENOM)],
                ..msg(&app)
            },
            "listed twice",
        ),
        (
            InstantiateMsg {
                packet_timeout_seconds: Some(1),
                ..msg(&app)
            },
            "packet_timeout_seconds",
        ),
    ];
    for (bad, words) in cases {
        let err = app
            .instantiate_contract(code, admin.clone(), &bad, &[], "bad", None)
            .unwrap_err();
        let text = error(err).to_string();
        assert!(text.contains(words), "{text}");
    }
}

#[test]
fn nothing_is_escrowed_without_a_channel_or_with_bad_payment() {
    let (mut app, billing, _) = setup();
    let buyer = app.api().addr_make("buyer");
    app.init_modules(|router, _, storage| {
        router
            .bank
            .init_balance(storage, &buyer, coins(10_000, DENOM))
            .unwrap()
    });
    let before = app.dump_wasm_raw(&billing);
    let buy = ExecuteMsg::Buy {
        chain_id: "genomics-1".into(),
        offer_id: 1,
        purpose: "diabetes-research".into(),
        scope: vec!["hba1c".into()],
        duration_seconds: 86_400,
    };
    let refusals = [
        (vec![], "payment"),
        (coins(50, DENOM), "below the market's floor"),
        (coins(500, DENOM), "no open channel to chain genomics-1"),
    ];
    for (funds, words) in refusals {
        let err = app
            .execute_contract(buyer.clone(), billing.clone(), &buy, &funds)
            .unwrap_err();
        let text = error(err).to_string();
        assert!(text.contains(words), "{text}");
    }
    assert_eq!(app.dump_wasm_raw(&billing), before);
    assert_eq!(
        app.wrap()
            .query_balance(&buyer, DENOM)
            .unwrap()
            .amount
            .u128(),
        10_000
    );
    let err = app
        .execute_contract(
            buyer.clone(),
            billing.clone(),
            &ExecuteMsg::Withdraw {},
            &[],
        )
        .unwrap_err();
    assert_eq!(error(err), ContractError::NothingToWithdraw);
    let err = app
        .execute_contract(
            buyer,
            billing.clone(),
            &ExecuteMsg::ResolveDispute { purchase_id: 1 },
            &[],
        )
        .unwrap_err();
    assert!(matches!(error(err), ContractError::Ownership(_)));
    let ledger: LedgerResponse = app
        .wrap()
        .query_wasm_smart(&billing, &QueryMsg::Ledger {})
        .unwrap();
    assert!(ledger.totals.is_empty());
    assert_eq!(ledger.open_purchases, 0);
}

#[test]
fn only_governance_sets_the_market() {
    let (mut app, billing, _) = setup();
    let update = ExecuteMsg::UpdateMarket {
        split: None,
        treasury: None,
        price_floors: Some(vec![coin(2_000, DENOM), coin(5, "uatom")]),
        packet_timeout_seconds: Some(120),
    };
    let stranger = app.api().addr_make("stranger");
    let err = app
        .execute_contract(stranger, billing.clone(), &update, &[])
        .unwrap_err();
    assert!(matches!(error(err), ContractError::Ownership(_)));
    let dao = app.api().addr_make("dao");
    app.execute_contract(dao, billing.clone(), &update, &[])
        .unwrap();
    let market: MarketResponse = app
        .wrap()
        .query_wasm_smart(&billing, &QueryMsg::Market {})
        .unwrap();
    assert_eq!(
        market.price_floors,
        vec![coin(2_000, DENOM), coin(5, "uatom")]
    );
    assert_eq!(market.packet_timeout_seconds, 120);
    assert_eq!(market.split, split());
}
