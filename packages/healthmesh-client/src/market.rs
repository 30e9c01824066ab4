//! The settlement market read from chain state alone: every page of an address's purchases and
//! history from the billing contract, summed into what a patient earned and a researcher
//! spent, and offers described in plain language.

use std::collections::BTreeMap;

use cosmwasm_std::{Coin, Uint128};
use healthmesh_types::billing::{
    HistoryEntry, HistoryKind, HistoryResponse, Purchase, PurchaseStatus, PurchasesResponse,
    QueryMsg,
};
use healthmesh_types::consent::{Offer, OfferStatus};
use serde::{Deserialize, Serialize};

use crate::rpc::ChainClient;
use crate::ClientError;

/// Most pages one reconstruction reads (30 entries each): a bound, and said when reached.
const MAX_PAGES: usize = 1_000;

/// Totals per denom.
pub type Totals = BTreeMap<String, Uint128>;

/// An address's account of the market, from the billing contract's state.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub address: String,
    /// Shares of settled purchases (as patient, custodian, treasury or relayer) and milestone
    /// payouts (as participant or site) credited to the address, by role and denom.
    pub earned: BTreeMap<String, Totals>,
    pub withdrawn: Totals,
    pub unclaimed: Totals,
    /// Paid for purchases that were settled (the address as buyer).
    pub spent: Totals,
    pub refunded: Totals,
    pub in_escrow: Totals,
    /// Put into trial budgets as a sponsor, and taken back after the trials' ends.
    #[serde(default)]
    pub trial_funding: Totals,
    #[serde(default)]
    pub trial_reclaimed: Totals,
    pub purchases: Vec<Purchase>,
    pub history: Vec<HistoryEntry>,
}

fn add(totals: &mut Totals, coin: &Coin) {
    *totals.entry(coin.denom.clone()).or_default() += coin.amount;
}

impl Account {
    /// Sum an address's purchases (as buyer) and history entries.
    pub fn from_records(
        address: &str,
        purchases: Vec<Purchase>,
        history: Vec<HistoryEntry>,
    ) -> Self {
        let mut account = Account {
            address: address.into(),
            ..Account::default()
        };
        for entry in &history {
            for coin in &entry.amount {
                match &entry.kind {
                    HistoryKind::Credit { role, .. } | HistoryKind::Milestone { role, .. } => {
                        let role = format!("{role:?}").to_lowercase();
                        add(account.earned.entry(role).or_default(), coin);
                    }
                    HistoryKind::Withdrawal {} => add(&mut account.withdrawn, coin),
                    HistoryKind::Refund { .. } => add(&mut account.refunded, coin),
                    HistoryKind::TrialFunding { .. } => add(&mut account.trial_funding, coin),
                    HistoryKind::TrialReclaim { .. } => add(&mut account.trial_reclaimed, coin),
                }
            }
        }
        for purchase in &purchases {
            match purchase.status {
                PurchaseStatus::Open | PurchaseStatus::Disputed { .. } => {
                    add(&mut account.in_escrow, &purchase.paid)
                }
                PurchaseStatus::Settled { .. } => add(&mut account.spent, &purchase.paid),
                PurchaseStatus::Refunded { .. } => {}
            }
        }
        // Unclaimed = credited − withdrawn, per denom.
        for totals in account.earned.values() {
            for (denom, amount) in totals {
                *account.unclaimed.entry(denom.clone()).or_default() += *amount;
            }
        }
        for (denom, amount) in &account.withdrawn {
            let left = account.unclaimed.entry(denom.clone()).or_default();
            *left = left.saturating_sub(*amount);
        }
        account.unclaimed.retain(|_, a| !a.is_zero());
        account.purchases = purchases;
        account.history = history;
        account
    }

    /// Every page of `address`'s purchases and history on the billing contract.
    pub async fn load(
        client: &ChainClient,
        billing: &str,
        address: &str,
    ) -> Result<Self, ClientError> {
        let mut purchases = Vec::new();
        let mut before = None;
        for _ in 0..MAX_PAGES {
            let query = QueryMsg::PurchasesByBuyer {
                buyer: address.into(),
                start_before: before,
                limit: Some(30),
            };
            let page: PurchasesResponse = client.smart(billing, &query).await?;
            let Some(last) = page.purchases.last() else {
                break;
            };
            before = Some(last.id);
            purchases.extend(page.purchases);
        }
        let mut history = Vec::new();
        let mut before = None;
        for _ in 0..MAX_PAGES {
            let query = QueryMsg::History {
                address: address.into(),
                start_before: before,
                limit: Some(30),
            };
            let page: HistoryResponse = client.smart(billing, &query).await?;
            let Some(last) = page.entries.last() else {
                break;
            };
            before = Some(last.id);
            history.extend(page.entries);
        }
        Ok(Account::from_records(address, purchases, history))
    }
}

/// Plain text of totals, e.g. `1,001 ustake` or `nothing`.
pub fn totals_text(totals: &Totals) -> String {
    if totals.is_empty() {
        return "nothing".into();
    }
    totals
        .iter()
        .map(|(denom, amount)| format!("{amount} {denom}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn duration_text(seconds: u64) -> String {
    match seconds {
        s if s % 86_400 == 0 => plural(s / 86_400, "day"),
        s if s % 3_600 == 0 => plural(s / 3_600, "hour"),
        s => plural(s, "second"),
    }
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

fn list_text(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// An offer as the patient and a buyer read it.
pub fn describe_offer(offer: &Offer) -> String {
    let status = match &offer.status {
        OfferStatus::Open => "open".to_string(),
        OfferStatus::Withdrawn { at } => format!("withdrawn at {} s", at.seconds()),
    };
    let buyers = match &offer.buyers {
        None => "Anyone may buy it.".to_string(),
        Some(list) => {
            let names: Vec<String> = list.iter().map(|a| a.to_string()).collect();
            format!("Only {} may buy it.", list_text(&names))
        }
    };
    let sales = match offer.max_sales {
        Some(max) => format!("{} of at most {max} sold.", offer.sales),
        None => format!("{} sold.", offer.sales),
    };
    let payout = offer
        .payout
        .clone()
        .unwrap_or_else(|| "your own key's address".into());
    format!(
        "Offer {id} ({status}): access to dataset {dataset} for {purposes}, covering {scope}, \
         for up to {duration}, at {price} paid on the billing chain to {payout}. {buyers} {sales}",
        id = offer.id,
        dataset = offer.dataset.to_hex(),
        purposes = list_text(&offer.purposes),
        scope = list_text(&offer.scope),
        duration = duration_text(offer.max_duration_seconds),
        price = offer.price,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::{coin, Addr, HexBinary, Timestamp};
    use healthmesh_types::billing::{Payout, PayoutRole, RevenueSplit};

    fn purchase(id: u64, amount: u128, status: PurchaseStatus) -> Purchase {
        Purchase {
            id,
            buyer: Addr::unchecked("researcher"),
            chain_id: "genomics-1".into(),
            channel_id: "channel-4".into(),
            offer_id: 1,
            purpose: "diabetes-research".into(),
            scope: vec!["hba1c".into()],
            duration_seconds: 86_400,
            paid: coin(amount, "ustake"),
            split: RevenueSplit {
                patient_bps: 8_000,
                custodian_bps: 1_000,
                treasury_bps: 700,
                relayer_bps: 300,
            },
            created_at: Timestamp::from_seconds(1),
            status,
        }
    }

    fn entry(id: u64, kind: HistoryKind, amount: u128) -> HistoryEntry {
        HistoryEntry {
            id,
            kind,
            amount: vec![coin(amount, "ustake")],
            at: Timestamp::from_seconds(id),
        }
    }

    #[test]
    fn an_account_sums_spending_refunds_earnings_and_withdrawals() {
        let settled = PurchaseStatus::Settled {
            token_id: "7".into(),
            grantee: "researcher".into(),
            at: Timestamp::from_seconds(2),
            payouts: vec![Payout {
                role: PayoutRole::Patient,
                address: Addr::unchecked("patient"),
                amount: coin(801, "ustake"),
            }],
        };
        let refunded = PurchaseStatus::Refunded {
            reason: "timeout".into(),
            at: Timestamp::from_seconds(3),
        };
        let purchases = vec![
            purchase(3, 2_000, PurchaseStatus::Open),
            purchase(2, 1_500, refunded),
            purchase(1, 1_001, settled),
        ];
        let credit = |role| HistoryKind::Credit {
            purchase_id: 1,
            role,
        };
        let history = vec![
            entry(4, HistoryKind::Withdrawal {}, 500),
            entry(3, credit(PayoutRole::Relayer), 30),
            entry(2, credit(PayoutRole::Patient), 801),
            entry(
                1,
                HistoryKind::Refund {
                    purchase_id: 2,
                    reason: "timeout".into(),
                },
                1_500,
            ),
        ];
        let a = Account::from_records("someone", purchases, history);
        let one = |n: u128| Totals::from([("ustake".to_string(), Uint128::new(n))]);
        assert_eq!(a.spent, one(1_001));
        assert_eq!(a.refunded, one(1_500));
        assert_eq!(a.in_escrow, one(2_000));
        assert_eq!(a.earned["patient"], one(801));
        assert_eq!(a.earned["relayer"], one(30));
        assert_eq!(a.withdrawn, one(500));
        assert_eq!(a.unclaimed, one(331));
        assert_eq!(totals_text(&a.unclaimed), "331 ustake");
        assert_eq!(totals_text(&Totals::new()), "nothing");
    }

    #[test]
    fn offers_read_as_plain_language() {
        let offer = Offer {
            id: 3,
            patient: Addr::unchecked("patient"),
            dataset: HexBinary::from([0xab; 32]),
            purposes: vec!["diabetes-research".into(), "trial:7".into()],
            scope: vec!["hba1c".into(), "age".into(), "bmi".into()],
            max_duration_seconds: 30 * 86_400,
            price: coin(1_500, "ustake"),
            payout: None,
            buyers: Some(vec![Addr::unchecked("lab-a")]),
            max_sales: Some(5),
            sales: 2,
            created_at: Timestamp::from_seconds(1),
            status: OfferStatus::Open,
        };
        let text = describe_offer(&offer);
        assert!(
            text.starts_with("Offer 3 (open): access to dataset abab"),
            "{text}"
        );
        assert!(text.contains("for diabetes-research and trial:7, covering hba1c, age and bmi"));
        assert!(text.contains("for up to 30 days, at 1500ustake"));
        assert!(
            text.contains("to your own key's address. Only lab-a may buy it. 2 of at most 5 sold.")
        );
        assert_eq!(duration_text(3_600), "1 hour");
        assert_eq!(duration_text(90), "90 seconds");
    }
}
