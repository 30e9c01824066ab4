//! The settlement market across chains: a researcher on billing-1 buys access to a patient's
//! offer on genomics-1; the purchase packet mints the consent token there and the ack splits
//! the payment, or an error ack / timeout refunds it. After every step the billing contract's
//! bank balance equals its open escrows plus unclaimed balances.

use std::sync::OnceLock;

use cosmwasm_std::{
    coin, from_json, to_json_binary, Addr, Api, Binary, HexBinary, IbcAcknowledgement, IbcEndpoint,
    IbcPacket, IbcPacketAckMsg, IbcPacketReceiveMsg, IbcTimeout, StdAck,
};
use cw_multi_test::Executor;
use healthmesh_billing::ContractError as BillingError;
use healthmesh_consent::ContractError as ConsentError;
use healthmesh_proofs::keys::setup_from_seed;
use healthmesh_testing::contract_error;
use healthmesh_testing::dao::DENOM;
use healthmesh_testing::ibc_harness::{Chain, Link, Relayed};
use healthmesh_testing::settle::{
    self, billing_of, buy, buy_msg, connect_settlement, council, deploy_billing, fund, offer_msg,
    publish, relay_purchases, treasury, PACKET_TIMEOUT, SPLIT,
};
use healthmesh_types::billing::{
    self, HistoryKind, HistoryResponse, PayoutRole, Purchase, PurchaseStatus, RevenueSplit,
};
use healthmesh_types::consent::{self, ConsentResponse, EffectiveStatus, Offer};
use healthmesh_types::pause::PauseMsg;
use healthmesh_types::settle::{PurchaseAck, PurchasePacket, SettlePacket};

fn verifying_key() -> &'static [u8] {
    static VK: OnceLock<Vec<u8>> = OnceLock::new();
    VK.get_or_init(|| {
        setup_from_seed(b"billing-tests")
            .unwrap()
            .verifying_key()
            .to_bytes()
    })
}

struct Market {
    billing: Chain,
    genomics: Chain,
    link: Link,
    dataset: HexBinary,
}

const PRICE: u128 = 1_001; // odd: every share but the patient's rounds down

fn market() -> Market {
    let mut billing = Chain::new("billing-1", verifying_key());
    let mut genomics = Chain::new("genomics-1", verifying_key());
    deploy_billing(&mut billing);
    let link = connect_settlement(&mut billing, &mut genomics, "channel-5", "channel-7");
    let dataset = HexBinary::from([0x42u8; 32]);
    genomics.designate_custodian(&dataset);
    Market {
        billing,
        genomics,
        link,
        dataset,
    }
}

impl Market {
    fn offer(&mut self, msg: &consent::ExecuteMsg) -> u64 {
        publish(&mut self.genomics, msg)
    }

    fn buy(&mut self, offer_id: u64, paid: u128) -> u64 {
        let researcher = self.billing.researcher.clone();
        let response = buy(
            &mut self.billing,
            &researcher,
            &buy_msg("genomics-1", offer_id),
            coin(paid, DENOM),
        )
        .unwrap();
        from_json(response.data.unwrap()).unwrap()
    }

    fn relay(&mut self) -> Vec<Relayed> {
        let outcomes = relay_purchases(&mut self.billing, &mut self.genomics, &self.link).unwrap();
        self.assert_books();
        outcomes
    }

    fn purchase(&self, id: u64) -> Purchase {
        self.billing
            .app
            .wrap()
            .query_wasm_smart(
                billing_of(&self.billing),
                &billing::QueryMsg::Purchase { purchase_id: id },
            )
            .unwrap()
    }

    fn billing_query<T: serde::de::DeserializeOwned>(&self, msg: &billing::QueryMsg) -> T {
        settle::billing_query(&self.billing, msg)
    }

    fn offer_state(&self, id: u64) -> Offer {
        self.genomics
            .app
            .wrap()
            .query_wasm_smart(
                &self.genomics.consent,
                &consent::QueryMsg::Offer { offer_id: id },
            )
            .unwrap()
    }

    fn unclaimed(&self, address: &Addr) -> u128 {
        settle::credited(&self.billing, address)
    }

    fn assert_books(&self) {
        settle::assert_books(&self.billing);
    }

    fn refund_reason(&self, id: u64) -> String {
        match self.purchase(id).status {
            PurchaseStatus::Refunded { reason, .. } => reason,
            other => panic!("purchase {id} not refunded: {other:?}"),
        }
    }
}

fn relayer(chain: &Chain) -> Addr {
    chain.app.api().addr_make("relayer")
}

#[test]
fn a_purchase_mints_the_token_and_splits_an_odd_price_exactly() {
    let mut m = market();
    let offer = m.offer(&offer_msg(&m.dataset, PRICE));
    let researcher = m.billing.researcher.clone();
    let before = m.billing.balance(&researcher);
    let id = m.buy(offer, PRICE);
    m.assert_books();
    assert_eq!(m.billing.balance(&researcher), before - PRICE);
    assert_eq!(m.purchase(id).status, PurchaseStatus::Open);

    let outcomes = m.relay();
    let [Relayed::Acknowledged(ack)] = outcomes.as_slice() else {
        panic!("one ack expected: {outcomes:?}");
    };
    let StdAck::Success(data) = from_json::<StdAck>(ack).unwrap() else {
        panic!("success ack expected");
    };
    let ack: PurchaseAck = from_json(&data).unwrap();

    // The consent token exists on genomics-1, owned by the buyer's key, for the bought terms.
    let token: ConsentResponse = m
        .genomics
        .app
        .wrap()
        .query_wasm_smart(
            &m.genomics.consent,
            &consent::QueryMsg::Consent {
                token_id: ack.token_id.clone(),
            },
        )
        .unwrap();
    assert_eq!(token.effective_status, EffectiveStatus::Active);
    assert_eq!(token.record.grantee, m.genomics.researcher);
    assert_eq!(token.record.patient, m.genomics.patient);
    assert_eq!(token.record.scope, vec!["hba1c".to_string()]);
    assert_eq!(m.offer_state(offer).sales, 1);

    // 1,001 at 80/10/7/3: custodian 100, treasury 70, relayer 30, patient the rest (801).
    let PurchaseStatus::Settled {
        payouts, token_id, ..
    } = m.purchase(id).status
    else {
        panic!("settled expected");
    };
    assert_eq!(token_id, ack.token_id);
    let paid: Vec<(PayoutRole, Addr, u128)> = payouts
        .iter()
        .map(|p| (p.role, p.address.clone(), p.amount.amount.u128()))
        .collect();
    assert_eq!(
        paid,
        vec![
            (PayoutRole::Patient, m.billing.patient.clone(), 801),
            (PayoutRole::Custodian, m.billing.custodian.clone(), 100),
            (PayoutRole::Treasury, treasury(&m.billing), 70),
            (PayoutRole::Relayer, relayer(&m.billing), 30),
        ]
    );
    assert_eq!(m.unclaimed(&m.billing.patient.clone()), 801);

    // The patient withdraws; history shows the credit and the withdrawal.
    let patient = m.billing.patient.clone();
    let bank_before = m.billing.balance(&patient);
    m.billing
        .app
        .execute_contract(
            patient.clone(),
            billing_of(&m.billing),
            &billing::ExecuteMsg::Withdraw {},
            &[],
        )
        .unwrap();
    m.assert_books();
    assert_eq!(m.billing.balance(&patient), bank_before + 801);
    assert_eq!(m.unclaimed(&patient), 0);
    let history: HistoryResponse = m.billing_query(&billing::QueryMsg::History {
        address: patient.to_string(),
        start_before: None,
        limit: None,
    });
    let kinds: Vec<_> = history.entries.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            HistoryKind::Withdrawal {},
            HistoryKind::Credit {
                purchase_id: id,
                role: PayoutRole::Patient
            }
        ]
    );
    let again = m
        .billing
        .app
        .execute_contract(
            patient,
            billing_of(&m.billing),
            &billing::ExecuteMsg::Withdraw {},
            &[],
        )
        .unwrap_err();
    assert_eq!(
        contract_error::<BillingError>(again),
        BillingError::NothingToWithdraw
    );
}

#[test]
fn a_refused_purchase_is_refunded_in_full() {
    let mut m = market();
    // The researcher pays above the floor but not the offer's price: genomics refuses.
    let offer = m.offer(&offer_msg(&m.dataset, PRICE));
    let researcher = m.billing.researcher.clone();
    let before = m.billing.balance(&researcher);
    let id = m.buy(offer, PRICE - 1);
    let snapshot = m.genomics.app.dump_wasm_raw(&m.genomics.consent);
    let outcomes = m.relay();
    let [Relayed::Acknowledged(ack)] = outcomes.as_slice() else {
        panic!("one ack expected");
    };
    assert!(matches!(
        from_json::<StdAck>(ack).unwrap(),
        StdAck::Error(_)
    ));
    // Nothing was written on genomics-1 (no token, no sale) …
    assert_eq!(m.genomics.app.dump_wasm_raw(&m.genomics.consent), snapshot);
    // … and the researcher has every coin back.
    assert_eq!(m.billing.balance(&researcher), before);
    assert!(m.refund_reason(id).contains("the price is 1001"));
    let history: HistoryResponse = m.billing_query(&billing::QueryMsg::History {
        address: researcher.to_string(),
        start_before: None,
        limit: None,
    });
    assert!(matches!(
        &history.entries[0].kind,
        HistoryKind::Refund { purchase_id, .. } if *purchase_id == id
    ));
}

#[test]
fn a_timed_out_purchase_is_refunded() {
    let mut m = market();
    let offer = m.offer(&offer_msg(&m.dataset, PRICE));
    let researcher = m.billing.researcher.clone();
    let before = m.billing.balance(&researcher);
    let id = m.buy(offer, PRICE);
    m.genomics.advance(PACKET_TIMEOUT + 1);
    let outcomes = m.relay();
    assert!(matches!(outcomes.as_slice(), [Relayed::TimedOut]));
    assert_eq!(m.billing.balance(&researcher), before);
    assert_eq!(m.refund_reason(id), "timeout");
    assert_eq!(m.offer_state(offer).sales, 0);
}

#[test]
fn an_offer_withdrawn_while_the_packet_travels_refunds_and_sales_are_capped() {
    let mut m = market();
    let offer = m.offer(&offer_msg(&m.dataset, PRICE));
    let researcher = m.billing.researcher.clone();
    let before = m.billing.balance(&researcher);
    let id = m.buy(offer, PRICE);
    let (patient, consent) = (m.genomics.patient.clone(), m.genomics.consent.clone());
    // Withdrawing works even while the consent contract is paused.
    let admin = m.genomics.admin.clone();
    m.genomics
        .app
        .execute_contract(
            admin.clone(),
            consent.clone(),
            &consent::ExecuteMsg::Pausable(PauseMsg::Pause {
                reason: "drill".into(),
            }),
            &[],
        )
        .unwrap();
    m.genomics
        .app
        .execute_contract(
            patient,
            consent.clone(),
            &consent::ExecuteMsg::WithdrawOffer { offer_id: offer },
            &[],
        )
        .unwrap();
    m.genomics
        .app
        .execute_contract(
            admin,
            consent,
            &consent::ExecuteMsg::Pausable(PauseMsg::Unpause {}),
            &[],
        )
        .unwrap();
    m.relay();
    assert!(m.refund_reason(id).contains("withdrawn"));
    assert_eq!(m.billing.balance(&researcher), before);

    // A cap of one sale: the second purchase is refunded.
    let capped = m.offer(&consent::ExecuteMsg::PublishOffer {
        dataset: m.dataset.clone(),
        purposes: vec!["diabetes-research".into()],
        scope: vec!["hba1c".into()],
        max_duration_seconds: 30 * 86_400,
        price: coin(500, DENOM),
        payout: None,
        buyers: None,
        max_sales: Some(1),
    });
    let first = m.buy(capped, 500);
    let second = m.buy(capped, 500);
    m.relay();
    assert!(matches!(
        m.purchase(first).status,
        PurchaseStatus::Settled { .. }
    ));
    assert!(m.refund_reason(second).contains("sold out"));
    assert_eq!(m.offer_state(capped).sales, 1);
}

#[test]
fn only_listed_buyers_and_offered_terms_are_sold() {
    let mut m = market();
    let stranger = m.genomics.app.api().addr_make("someone-else");
    let mut listed = offer_msg(&m.dataset, PRICE);
    if let consent::ExecuteMsg::PublishOffer { buyers, .. } = &mut listed {
        *buyers = Some(vec![stranger.to_string()]);
    }
    let offer = m.offer(&listed);
    let id = m.buy(offer, PRICE);
    m.relay();
    assert!(m.refund_reason(id).contains("not among the offer's buyers"));

    // A purpose the offer does not allow.
    let open = m.offer(&offer_msg(&m.dataset, PRICE));
    let researcher = m.billing.researcher.clone();
    let response = buy(
        &mut m.billing,
        &researcher,
        &billing::ExecuteMsg::Buy {
            chain_id: "genomics-1".into(),
            offer_id: open,
            purpose: "marketing".into(),
            scope: vec!["hba1c".into()],
            duration_seconds: 86_400,
        },
        coin(PRICE, DENOM),
    )
    .unwrap();
    let id: u64 = from_json(response.data.unwrap()).unwrap();
    m.relay();
    assert!(m
        .refund_reason(id)
        .contains("purpose marketing is not offered"));
}

#[test]
fn payments_below_the_floor_or_in_other_denoms_or_to_unknown_chains_are_refused() {
    let mut m = market();
    let researcher = m.billing.researcher.clone();
    let billing = billing_of(&m.billing);
    let snapshot = m.billing.app.dump_wasm_raw(&billing);
    let err = buy(
        &mut m.billing,
        &researcher,
        &buy_msg("genomics-1", 1),
        coin(99, DENOM),
    )
    .unwrap_err();
    assert!(matches!(
        contract_error::<BillingError>(err),
        BillingError::BelowFloor { .. }
    ));
    fund(&mut m.billing, &researcher, 0);
    m.billing.app.init_modules(|router, _, storage| {
        router
            .bank
            .init_balance(
                storage,
                &researcher,
                vec![coin(10_000, DENOM), coin(10_000, "uatom")],
            )
            .unwrap();
    });
    let err = buy(
        &mut m.billing,
        &researcher,
        &buy_msg("genomics-1", 1),
        coin(5_000, "uatom"),
    )
    .unwrap_err();
    assert!(matches!(
        contract_error::<BillingError>(err),
        BillingError::DenomNotAccepted { .. }
    ));
    let err = buy(
        &mut m.billing,
        &researcher,
        &buy_msg("trials-1", 1),
        coin(PRICE, DENOM),
    )
    .unwrap_err();
    assert!(matches!(
        contract_error::<BillingError>(err),
        BillingError::Channel(_)
    ));
    // A contract (32-byte address) cannot buy: its bytes name someone else on genomics-1.
    let lab_dao = m.billing.app.api().addr_make("lab-dao");
    fund(&mut m.billing, &lab_dao, 5_000);
    let err = buy(
        &mut m.billing,
        &lab_dao,
        &buy_msg("genomics-1", 1),
        coin(PRICE, DENOM),
    )
    .unwrap_err();
    assert!(matches!(
        contract_error::<BillingError>(err),
        BillingError::NotKeyAccount(_)
    ));
    assert_eq!(m.billing.app.dump_wasm_raw(&billing), snapshot);
}

/// A settlement packet on a channel genomics did not bind to the billing contract, or from
/// another port, gets an error ack and changes nothing; a duplicate delivery is refused.
#[test]
fn untrusted_channels_forged_acks_and_double_delivery_are_refused_without_state_change() {
    let mut m = market();
    let offer = m.offer(&offer_msg(&m.dataset, PRICE));
    let researcher = m.billing.researcher.clone();
    let buyer = m
        .billing
        .app
        .api()
        .addr_canonicalize(researcher.as_str())
        .unwrap();
    let packet_data = to_json_binary(&SettlePacket::Purchase(PurchasePacket {
        purchase_id: 77,
        offer_id: offer,
        buyer: buyer.into(),
        paid: coin(PRICE, DENOM),
        purpose: "diabetes-research".into(),
        scope: vec!["hba1c".into()],
        duration_seconds: 86_400,
    }))
    .unwrap();
    let consent_port = format!("wasm.{}", m.genomics.consent);
    let timeout = IbcTimeout::with_timestamp(m.genomics.app.block_info().time.plus_seconds(60));
    let packet = |src_port: String, dest_channel: &str| {
        IbcPacket::new(
            packet_data.clone(),
            IbcEndpoint {
                port_id: src_port,
                channel_id: "channel-5".into(),
            },
            IbcEndpoint {
                port_id: consent_port.clone(),
                channel_id: dest_channel.into(),
            },
            1,
            timeout.clone(),
        )
    };
    let billing_port = format!("wasm.{}", billing_of(&m.billing));
    let relayer_addr = relayer(&m.genomics);
    let consent = m.genomics.consent.clone();
    let receive = |m: &mut Market, p: IbcPacket| -> StdAck {
        let msg = IbcPacketReceiveMsg::new(p, relayer_addr.clone());
        let response = m
            .genomics
            .ibc_on(&consent, |deps, env| {
                healthmesh_consent::settle::ibc_packet_receive(deps, env, msg)
            })
            .unwrap();
        from_json(response.acknowledgement.unwrap()).unwrap()
    };
    let snapshot = m.genomics.app.dump_wasm_raw(&consent);
    for forged in [
        packet(billing_port.clone(), "channel-99"), // a channel never bound
        packet("wasm.impostor".into(), "channel-7"), // the bound channel, another port
    ] {
        let ack = receive(&mut m, forged);
        assert!(matches!(ack, StdAck::Error(_)), "{ack:?}");
        assert_eq!(m.genomics.app.dump_wasm_raw(&consent), snapshot);
    }
    // Genuine delivery, then the same purchase again: refused, nothing more minted.
    assert!(matches!(
        receive(&mut m, packet(billing_port.clone(), "channel-7")),
        StdAck::Success(_)
    ));
    let after_first = m.genomics.app.dump_wasm_raw(&consent);
    let StdAck::Error(duplicate) = receive(&mut m, packet(billing_port, "channel-7")) else {
        panic!("duplicate accepted");
    };
    assert!(duplicate.contains("already served"), "{duplicate}");
    assert_eq!(m.genomics.app.dump_wasm_raw(&consent), after_first);

    // On billing: an ack for a purchase it never made, or made on another channel, or a second
    // ack of a settled purchase, is refused and changes nothing.
    let id = m.buy(offer, PRICE);
    let billing = billing_of(&m.billing);
    let sent = healthmesh_testing::ibc_harness::take_sent(&m.billing, &m.link.a_channel);
    let original = sent[0].clone();
    let returned = |data: Binary, channel: &str| {
        IbcPacket::new(
            data,
            IbcEndpoint {
                port_id: format!("wasm.{billing}"),
                channel_id: channel.into(),
            },
            IbcEndpoint {
                port_id: consent_port.clone(),
                channel_id: "channel-7".into(),
            },
            2,
            original.timeout.clone(),
        )
    };
    let success = |purchase_id: u64| {
        StdAck::success(
            to_json_binary(&PurchaseAck {
                purchase_id,
                token_id: "1".into(),
                grantee: researcher.to_string(),
                patient_payout: None,
                patient_account: Binary::from(vec![1u8; 20]),
                custodian: None,
                relayer: Binary::from(vec![2u8; 20]),
            })
            .unwrap(),
        )
    };
    let ack_on = |m: &mut Market, p: IbcPacket, ack: StdAck| {
        let msg = IbcPacketAckMsg::new(
            IbcAcknowledgement::new(to_json_binary(&ack).unwrap()),
            p,
            relayer(&m.billing),
        );
        m.billing.ibc_on(&billing, |deps, env| {
            healthmesh_billing::ibc::ibc_packet_ack(deps, env, msg)
        })
    };
    let snapshot = m.billing.app.dump_wasm_raw(&billing);
    let unknown = to_json_binary(&SettlePacket::Purchase(PurchasePacket {
        purchase_id: 999,
        ..from_json::<SettlePacket>(&original.data)
            .map(|SettlePacket::Purchase(p)| p)
            .unwrap()
    }))
    .unwrap();
    assert_eq!(
        ack_on(&mut m, returned(unknown, "channel-5"), success(999)).unwrap_err(),
        BillingError::PurchaseNotFound(999)
    );
    assert_eq!(
        ack_on(
            &mut m,
            returned(original.data.clone(), "channel-6"),
            success(id)
        )
        .unwrap_err(),
        BillingError::PurchaseNotOpen(id)
    );
    assert!(matches!(
        ack_on(
            &mut m,
            returned(b"not json".into(), "channel-5"),
            success(id)
        )
        .unwrap_err(),
        BillingError::ForeignPacket(_)
    ));
    assert_eq!(m.billing.app.dump_wasm_raw(&billing), snapshot);
    // The genuine ack settles once; a replay of it is refused.
    let response = ack_on(
        &mut m,
        returned(original.data.clone(), "channel-5"),
        success(id),
    )
    .unwrap();
    m.billing.dispatch_as(&billing, response);
    m.assert_books();
    let settled = m.billing.app.dump_wasm_raw(&billing);
    assert_eq!(
        ack_on(&mut m, returned(original.data, "channel-5"), success(id)).unwrap_err(),
        BillingError::PurchaseNotOpen(id)
    );
    assert_eq!(m.billing.app.dump_wasm_raw(&billing), settled);
    // The unresolvable patient account of this hand-made ack fell back (nothing lost).
    m.assert_books();

    // An ack naming another purchase (or unreadable) cannot say whether a token was minted:
    // the escrow is held, not paid nor refunded, and only governance releases it.
    let before = m.billing.balance(&researcher);
    let disputed = m.buy(offer, PRICE);
    let sent = healthmesh_testing::ibc_harness::take_sent(&m.billing, &m.link.a_channel);
    let response = ack_on(
        &mut m,
        returned(sent[0].data.clone(), "channel-5"),
        success(disputed + 1),
    )
    .unwrap();
    m.billing.dispatch_as(&billing, response);
    assert!(matches!(
        m.purchase(disputed).status,
        PurchaseStatus::Disputed { .. }
    ));
    m.assert_books();
    let resolve = billing::ExecuteMsg::ResolveDispute {
        purchase_id: disputed,
    };
    let err = m
        .billing
        .app
        .execute_contract(researcher.clone(), billing.clone(), &resolve, &[])
        .unwrap_err();
    assert!(matches!(
        contract_error::<BillingError>(err),
        BillingError::Ownership(_)
    ));
    let admin = m.billing.admin.clone();
    m.billing
        .app
        .execute_contract(admin, billing.clone(), &resolve, &[])
        .unwrap();
    assert!(m.refund_reason(disputed).contains("dispute resolved"));
    assert_eq!(m.billing.balance(&researcher), before);
    m.assert_books();
}

#[test]
fn a_pause_stops_purchases_but_never_settlements_refunds_or_withdrawals() {
    let mut m = market();
    let offer = m.offer(&offer_msg(&m.dataset, PRICE));
    let first = m.buy(offer, PRICE);
    let second = m.buy(offer, PRICE);
    let billing = billing_of(&m.billing);
    let council = council(&m.billing);
    m.billing
        .app
        .execute_contract(
            council,
            billing.clone(),
            &billing::ExecuteMsg::Pausable(PauseMsg::Pause {
                reason: "incident".into(),
            }),
            &[],
        )
        .unwrap();
    let researcher = m.billing.researcher.clone();
    let err = buy(
        &mut m.billing,
        &researcher,
        &buy_msg("genomics-1", offer),
        coin(PRICE, DENOM),
    )
    .unwrap_err();
    assert!(matches!(
        contract_error::<BillingError>(err),
        BillingError::Pause(_)
    ));
    // In flight: the first settles, the second times out and is refunded, while paused.
    let sent = healthmesh_testing::ibc_harness::take_sent(&m.billing, &m.link.a_channel);
    m.billing.recorder.sent.borrow_mut().push(sent[0].clone());
    m.relay();
    m.billing.recorder.sent.borrow_mut().push(sent[1].clone());
    m.genomics.advance(PACKET_TIMEOUT + 1);
    m.relay();
    assert!(matches!(
        m.purchase(first).status,
        PurchaseStatus::Settled { .. }
    ));
    assert_eq!(m.refund_reason(second), "timeout");
    let patient = m.billing.patient.clone();
    m.billing
        .app
        .execute_contract(patient, billing, &billing::ExecuteMsg::Withdraw {}, &[])
        .unwrap();
    m.assert_books();

    // A paused consent contract refuses sales: the buyer is refunded.
    let mut m = market();
    let offer = m.offer(&offer_msg(&m.dataset, PRICE));
    let id = m.buy(offer, PRICE);
    let (admin, consent) = (m.genomics.admin.clone(), m.genomics.consent.clone());
    m.genomics
        .app
        .execute_contract(
            admin,
            consent,
            &consent::ExecuteMsg::Pausable(PauseMsg::Pause {
                reason: "incident".into(),
            }),
            &[],
        )
        .unwrap();
    m.relay();
    assert!(m.refund_reason(id).contains("paused"));
}

#[test]
fn governance_sets_the_market_and_a_new_split_applies_to_new_purchases() {
    let mut m = market();
    let billing = billing_of(&m.billing);
    let stranger = m.billing.researcher.clone();
    let update = |split| billing::ExecuteMsg::UpdateMarket {
        split: Some(split),
        treasury: None,
        price_floors: None,
        packet_timeout_seconds: None,
    };
    let new_split = RevenueSplit {
        patient_bps: 9_000,
        custodian_bps: 500,
        treasury_bps: 300,
        relayer_bps: 200,
    };
    let err = m
        .billing
        .app
        .execute_contract(stranger, billing.clone(), &update(new_split), &[])
        .unwrap_err();
    assert!(matches!(
        contract_error::<BillingError>(err),
        BillingError::Ownership(_)
    ));
    let admin = m.billing.admin.clone();
    let greedy = RevenueSplit {
        patient_bps: 6_000,
        custodian_bps: 2_000,
        ..new_split
    };
    let err = m
        .billing
        .app
        .execute_contract(admin.clone(), billing.clone(), &update(greedy), &[])
        .unwrap_err();
    assert!(matches!(
        contract_error::<BillingError>(err),
        BillingError::InvalidSplit(_)
    ));

    let offer = m.offer(&offer_msg(&m.dataset, PRICE));
    let before_change = m.buy(offer, PRICE);
    m.billing
        .app
        .execute_contract(admin, billing, &update(new_split), &[])
        .unwrap();
    let after_change = m.buy(offer, PRICE);
    m.relay();
    let patient_share = |id| match m.purchase(id).status {
        PurchaseStatus::Settled { payouts, .. } => payouts[0].amount.amount.u128(),
        other => panic!("{other:?}"),
    };
    assert_eq!(patient_share(before_change), 801); // 80 % + remainder
    assert_eq!(patient_share(after_change), 1_001 - 50 - 30 - 20); // 90 %
    assert_eq!(m.purchase(before_change).split, SPLIT);
}

#[test]
fn the_offer_lifecycle_is_the_patients_alone() {
    let mut m = market();
    let offer = m.offer(&offer_msg(&m.dataset, PRICE));
    let consent = m.genomics.consent.clone();
    let stranger = m.genomics.researcher.clone();
    let err = m
        .genomics
        .app
        .execute_contract(
            stranger,
            consent.clone(),
            &consent::ExecuteMsg::WithdrawOffer { offer_id: offer },
            &[],
        )
        .unwrap_err();
    assert!(matches!(
        contract_error::<ConsentError>(err),
        ConsentError::NotOfferPatient { .. }
    ));
    // Malformed offers are refused with a reason.
    let patient = m.genomics.patient.clone();
    for (bad, expected) in [
        (offer_msg(&HexBinary::from(vec![0u8; 3]), PRICE), "32 bytes"),
        (offer_msg(&m.dataset, 0), "more than 0"),
    ] {
        let err = m
            .genomics
            .app
            .execute_contract(patient.clone(), consent.clone(), &bad, &[])
            .unwrap_err();
        let err = contract_error::<ConsentError>(err).to_string();
        assert!(err.contains(expected), "{err}");
    }
    let listed: consent::OffersResponse = m
        .genomics
        .app
        .wrap()
        .query_wasm_smart(
            &consent,
            &consent::QueryMsg::Offers {
                patient: Some(patient.to_string()),
                start_before: None,
                limit: None,
            },
        )
        .unwrap();
    assert_eq!(listed.offers.len(), 1);
    assert_eq!(listed.offers[0].id, offer);
}
