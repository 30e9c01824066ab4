//! Step 7: the settlement market. A patient publishes an offer on genomics-1 with hmesh; a
//! researcher buys it on billing-1 with `hmesh billing buy`, several times; each purchase is
//! timed from its commit to the consent token being queryable on genomics-1 and to the payout
//! being visible on billing-1. Balances are checked before and after, to the coin; a purchase
//! of a withdrawn offer is refunded; the patient withdraws the earnings with the same key on
//! billing-1, and `hmesh billing history` reconstructs both sides from chain state.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use healthmesh_client::deployment::contract;
use healthmesh_client::market::Account;
use healthmesh_client::TxOutcome;
use healthmesh_types::billing::{
    self, LedgerResponse, PayoutRole, Purchase, PurchaseStatus, RevenueSplit,
};
use healthmesh_types::consent::{self, ConsentsResponse, Offer};
use healthmesh_types::events;

use super::burst::council;
use super::SOURCE;
use crate::evidence::Evidence;
use crate::net::Net;

pub const BILLING: &str = "billing-1";
/// An odd price: every share but the patient's rounds down.
const PRICE: u128 = 1_001;
const PURPOSE: &str = "diabetes-research";

/// The measured settlement times, in seconds from the purchase's commit.
pub struct Settlement {
    pub to_token: Vec<f64>,
    pub to_payout: Vec<f64>,
}

pub fn run(net: &mut Net, ev: &mut Evidence, purchases: usize) -> Result<Settlement> {
    println!("== 7. the market: an offer on {SOURCE}, {purchases} purchases on {BILLING}");
    // One key for the patient on both chains: the offer pays the patient's own key on billing-1.
    let patient = net.fresh_account_on(&[SOURCE, BILLING], "offer-patient")?;
    let buyer = net.fresh_account_on(&[BILLING], "buyer")?;
    let patient_address = net.account(SOURCE, &patient)?;
    let buyer_address = net.account(BILLING, &buyer)?;

    let (dataset, tx) = super::attest::designate_custodian(net, &patient)?;
    ev.see_tx(&tx);
    let offer_id = publish(net, ev, &patient, &dataset)?;
    let listed = net.hmesh(
        SOURCE,
        &["consent", "offers", "--patient", &patient_address],
    )?;
    let listed: consent::OffersResponse = serde_json::from_value(listed)?;
    ensure!(
        listed.offers.iter().any(|o| o.id == offer_id),
        "hmesh consent offers does not list offer {offer_id}"
    );

    let billing_contract = net.contract(BILLING, contract::BILLING)?;
    let market: billing::MarketResponse =
        net.query(BILLING, contract::BILLING, &billing::QueryMsg::Market {})?;
    let buyer_before = net.balance(BILLING, &buyer_address)?;
    let mut settlement = Settlement {
        to_token: vec![],
        to_payout: vec![],
    };
    let mut settled = vec![];
    for _ in 0..purchases {
        let (purchase, to_token, to_payout) = buy_and_time(net, ev, &buyer, offer_id)?;
        settlement.to_token.push(to_token);
        settlement.to_payout.push(to_payout);
        settled.push(purchase);
    }
    let spent = buyer_before - net.balance(BILLING, &buyer_address)?;
    ensure!(
        spent == PRICE * purchases as u128,
        "the buyer spent {spent}, expected {} (gas is free on the localnet)",
        PRICE * purchases as u128
    );
    let patient_share = check_splits(&settled, &market.split, &patient_address)?;
    check_books(net, &billing_contract)?;
    println!(
        "   {purchases} purchases of {PRICE} settled: patient {patient_share} each (with the rounding remainder), custodian, treasury and relayer paid; books balanced"
    );

    refund_of_withdrawn_offer(net, ev, &patient, &buyer, &dataset)?;
    paused_market_refuses_purchases(net, ev, &buyer, offer_id)?;
    withdraw_earnings(
        net,
        ev,
        &patient,
        &patient_address,
        patient_share * purchases as u128,
    )?;
    check_books(net, &billing_contract)?;
    let buyer_account: Account = serde_json::from_value(net.hmesh(
        BILLING,
        &["billing", "history", "--address", &buyer_address],
    )?)?;
    ensure!(
        buyer_account.spent.values().map(|a| a.u128()).sum::<u128>() == PRICE * purchases as u128
            && buyer_account
                .refunded
                .values()
                .map(|a| a.u128())
                .sum::<u128>()
                == PRICE,
        "hmesh billing history of the buyer: spent {:?}, refunded {:?}",
        buyer_account.spent,
        buyer_account.refunded
    );
    println!(
        "   hmesh billing history: the buyer spent {} and got {PRICE} refunded",
        PRICE * purchases as u128
    );
    settlement.to_token.sort_by(f64::total_cmp);
    settlement.to_payout.sort_by(f64::total_cmp);
    Ok(settlement)
}

fn publish(net: &Net, ev: &mut Evidence, patient: &str, dataset: &str) -> Result<u64> {
    let price = PRICE.to_string();
    let offer = [
        "consent",
        "offer",
        "--dataset",
        dataset,
        "--purposes",
        PURPOSE,
        "--scope",
        "hba1c,age",
        "--max-days",
        "30",
        "--price",
        &price,
    ];
    let tx = net.hmesh_tx(SOURCE, patient, &offer)?;
    ev.measure("publish_offer (hmesh)", &tx);
    tx.attr(events::tx::OFFER_PUBLISHED, events::attr::OFFER_ID)
        .and_then(|id| id.parse().ok())
        .context("offer id")
}

/// One `hmesh billing buy`; seconds from its commit to the token on genomics-1 and to the
/// payout on billing-1. The commit time of the purchase's block H is read from the chain: block
/// H+1's header time is the BFT time of H's precommits, i.e. when H was committed (hmesh returns
/// up to one poll, 250 ms, later).
fn buy_and_time(
    net: &Net,
    ev: &mut Evidence,
    buyer: &str,
    offer_id: u64,
) -> Result<(Purchase, f64, f64)> {
    let buyer_address = net.account(BILLING, buyer)?;
    let tokens_before = tokens_of(net, &buyer_address)?;
    let tx = buy(net, buyer, offer_id, &[])?;
    let returned = Instant::now();
    ev.measure("buy (hmesh)", &tx);
    let id: u64 = tx
        .attr(events::tx::PURCHASE_CREATED, events::attr::PURCHASE_ID)
        .and_then(|id| id.parse().ok())
        .context("purchase id")?;
    let deadline = Duration::from_secs(60);
    let mut token_seen = None;
    let purchase = loop {
        if token_seen.is_none() && tokens_of(net, &buyer_address)? > tokens_before {
            token_seen = Some(now());
        }
        let purchase: Purchase = net.query(
            BILLING,
            contract::BILLING,
            &billing::QueryMsg::Purchase { purchase_id: id },
        )?;
        match &purchase.status {
            PurchaseStatus::Settled { .. } => break purchase,
            PurchaseStatus::Open => {}
            other => bail!("purchase {id} was not settled: {other:?}"),
        }
        ensure!(
            returned.elapsed() < deadline,
            "purchase {id} still open after {} s",
            deadline.as_secs()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let paid_seen = now();
    // The token was queryable no later than its settlement's ack.
    let token_seen = token_seen.unwrap_or(paid_seen);
    let committed = commit_time(net, tx.height)?;
    ev.see(&purchase);
    Ok((purchase, token_seen - committed, paid_seen - committed))
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// When billing-1 committed block `height`: the header time of the next block.
fn commit_time(net: &Net, height: u64) -> Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match net.block_time(BILLING, height + 1) {
            Ok(time) => return Ok(time),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// How many consent tokens `grantee` holds on genomics-1 (the newest page is enough: each
/// purchase adds one).
fn tokens_of(net: &Net, grantee: &str) -> Result<usize> {
    let page: ConsentsResponse = net.query(
        SOURCE,
        contract::CONSENT,
        &consent::QueryMsg::GrantsByGrantee {
            grantee: grantee.into(),
            start_after: None,
            limit: Some(30),
        },
    )?;
    Ok(page.consents.len())
}

/// Every settled purchase paid exactly the split of its price; returns the patient's share.
fn check_splits(settled: &[Purchase], split: &RevenueSplit, patient: &str) -> Result<u128> {
    let share = |bps: u16| PRICE * u128::from(bps) / 10_000;
    let expected_patient =
        PRICE - share(split.custodian_bps) - share(split.treasury_bps) - share(split.relayer_bps);
    for p in settled {
        let PurchaseStatus::Settled { payouts, .. } = &p.status else {
            bail!("purchase {} not settled", p.id);
        };
        let total: u128 = payouts.iter().map(|p| p.amount.amount.u128()).sum();
        ensure!(total == PRICE, "purchase {}: payouts sum to {total}", p.id);
        let of = |role: PayoutRole| {
            payouts
                .iter()
                .find(|p| p.role == role)
                .map(|p| (p.address.to_string(), p.amount.amount.u128()))
        };
        ensure!(
            of(PayoutRole::Patient) == Some((patient.to_string(), expected_patient)),
            "purchase {}: patient payout {:?}, expected {expected_patient} to {patient}",
            p.id,
            of(PayoutRole::Patient)
        );
        for (role, bps) in [
            (PayoutRole::Custodian, split.custodian_bps),
            (PayoutRole::Treasury, split.treasury_bps),
            (PayoutRole::Relayer, split.relayer_bps),
        ] {
            ensure!(
                of(role).map(|(_, a)| a) == Some(share(bps)),
                "purchase {}: {role:?} payout {:?}, expected {}",
                p.id,
                of(role),
                share(bps)
            );
        }
    }
    Ok(expected_patient)
}

/// The escrow invariant on the real chain: bank balance = open escrows + unclaimed balances
/// + trial budgets.
pub fn check_books(net: &Net, billing_contract: &str) -> Result<()> {
    let ledger: LedgerResponse =
        net.query(BILLING, contract::BILLING, &billing::QueryMsg::Ledger {})?;
    let denom = &net.info(BILLING)?.denom;
    let books: u128 = ledger
        .totals
        .iter()
        .filter(|t| &t.denom == denom)
        .map(|t| (t.open_escrow + t.unclaimed + t.trial_budgets).u128())
        .sum();
    let bank = net.balance(BILLING, billing_contract)?;
    ensure!(
        bank == books,
        "billing contract holds {bank} but its books say {books}: {ledger:?}"
    );
    Ok(())
}

/// A purchase of an offer the patient withdrew meanwhile: refused on genomics-1, refunded in
/// full on billing-1.
fn refund_of_withdrawn_offer(
    net: &Net,
    ev: &mut Evidence,
    patient: &str,
    buyer: &str,
    dataset: &str,
) -> Result<()> {
    let offer_id = publish(net, ev, patient, dataset)?;
    let withdraw = ["consent", "withdraw-offer", &offer_id.to_string()];
    ev.see_tx(&net.hmesh_tx(SOURCE, patient, &withdraw)?);
    let offer: Offer = net.query(
        SOURCE,
        contract::CONSENT,
        &consent::QueryMsg::Offer { offer_id },
    )?;
    ensure!(
        offer.status != consent::OfferStatus::Open,
        "offer {offer_id} still open"
    );
    let price = PRICE.to_string();
    assert_refused_purchase(
        net,
        buyer,
        offer_id,
        &["--price", &price, "--wait"],
        "refunded in full",
    )?;
    println!("   a purchase of withdrawn offer {offer_id}: refused on {SOURCE}, {PRICE} refunded in full");
    Ok(())
}

/// billing-1's security council pauses the billing contract (8 hmesh transactions): a
/// purchase is refused before any coin moves; unpaused, the market reopens.
fn paused_market_refuses_purchases(
    net: &Net,
    ev: &mut Evidence,
    buyer: &str,
    offer_id: u64,
) -> Result<()> {
    let pause = [
        "council",
        "pause",
        "billing",
        "--reason",
        "e2e: a paused market",
    ];
    council(net, ev, BILLING, contract::BILLING, &pause, true)?;
    let price = PRICE.to_string();
    assert_refused_purchase(net, buyer, offer_id, &["--price", &price], "paused")?;
    council(
        net,
        ev,
        BILLING,
        contract::BILLING,
        &["council", "unpause", "billing"],
        false,
    )?;
    println!("   billing-1's council paused the market (8 hmesh transactions): a purchase was refused, no coin moved; unpaused");
    Ok(())
}

/// The patient's key on billing-1 withdraws everything it earned.
fn withdraw_earnings(
    net: &Net,
    ev: &mut Evidence,
    patient: &str,
    patient_address: &str,
    earned: u128,
) -> Result<()> {
    let history: Account = serde_json::from_value(net.hmesh(
        BILLING,
        &["billing", "history", "--address", patient_address],
    )?)?;
    let unclaimed: u128 = history.unclaimed.values().map(|a| a.u128()).sum();
    ensure!(
        unclaimed == earned,
        "hmesh billing history: the patient has {unclaimed} unclaimed, earned {earned}"
    );
    let before = net.balance(BILLING, patient_address)?;
    ev.measure(
        "withdraw (hmesh)",
        &net.hmesh_tx(BILLING, patient, &["billing", "withdraw"])?,
    );
    let after = net.balance(BILLING, patient_address)?;
    ensure!(
        after == before + earned,
        "the patient's bank balance went from {before} to {after}, expected +{earned}"
    );
    println!(
        "   the patient withdrew {earned} on {BILLING} with the same key that published the offer"
    );
    Ok(())
}

/// `hmesh billing buy` of `offer_id` (the run's purpose, scope `hba1c`, 7 days) by `buyer`,
/// with `extra` flags.
fn buy(net: &Net, buyer: &str, offer_id: u64, extra: &[&str]) -> Result<TxOutcome> {
    let offer = offer_id.to_string();
    let mut args = vec![
        "billing",
        "buy",
        "--offer-chain",
        SOURCE,
        "--offer",
        &offer,
        "--purpose",
        PURPOSE,
        "--scope",
        "hba1c",
        "--days",
        "7",
    ];
    args.extend_from_slice(extra);
    net.hmesh_tx(BILLING, buyer, &args)
}

/// A purchase that must fail with `expected` in its error and leave the buyer's balance as it
/// was (refused before any coin moved, or refunded in full).
fn assert_refused_purchase(
    net: &Net,
    buyer: &str,
    offer_id: u64,
    extra: &[&str],
    expected: &str,
) -> Result<()> {
    let address = net.account(BILLING, buyer)?;
    let before = net.balance(BILLING, &address)?;
    match buy(net, buyer, offer_id, extra) {
        Err(e) if e.to_string().contains(expected) => {}
        Err(e) => return Err(e),
        Ok(_) => bail!("a purchase of offer {offer_id} was not refused ({expected})"),
    }
    let after = net.balance(BILLING, &address)?;
    ensure!(
        after == before,
        "the buyer had {before}, has {after} after a refused purchase"
    );
    Ok(())
}
