//! The contract's books: open escrows, unclaimed balances and trial budgets per denom (whose
//! sum is the bank balance), each payee's balance, and each address's history.

use cosmwasm_std::{Addr, Coin, Order, StdResult, Storage, Timestamp, Uint128};
use cw_storage_plus::Map;
use healthmesh_types::billing::{HistoryEntry, HistoryKind};

use crate::state::{next, BALANCES, BUDGETED, HISTORY, HISTORY_COUNT, OPEN_ESCROW, UNCLAIMED};

/// Most denoms one address holds a balance in (accepted denoms are at most 8 at a time).
const MAX_BALANCE_DENOMS: usize = 32;

fn add(storage: &mut dyn Storage, map: &Map<&str, Uint128>, coin: &Coin) -> StdResult<()> {
    map.update(storage, &coin.denom, |total| -> StdResult<_> {
        Ok(total.unwrap_or_default().checked_add(coin.amount)?)
    })?;
    Ok(())
}

fn sub(storage: &mut dyn Storage, map: &Map<&str, Uint128>, coin: &Coin) -> StdResult<()> {
    let left = map
        .may_load(storage, &coin.denom)?
        .unwrap_or_default()
        .checked_sub(coin.amount)?;
    if left.is_zero() {
        map.remove(storage, &coin.denom);
        return Ok(());
    }
    map.save(storage, &coin.denom, &left)
}

pub fn escrow(storage: &mut dyn Storage, coin: &Coin) -> StdResult<()> {
    add(storage, &OPEN_ESCROW, coin)
}

/// An escrow leaves the books (refunded, or moved to unclaimed balances by `credit`).
pub fn release_escrow(storage: &mut dyn Storage, coin: &Coin) -> StdResult<()> {
    sub(storage, &OPEN_ESCROW, coin)
}

/// A sponsor's coin enters a trial budget.
pub fn fund_budget(storage: &mut dyn Storage, coin: &Coin) -> StdResult<()> {
    add(storage, &BUDGETED, coin)
}

/// A coin leaves the trial budgets (credited to a payee by `credit`, or reclaimed).
pub fn spend_budget(storage: &mut dyn Storage, coin: &Coin) -> StdResult<()> {
    sub(storage, &BUDGETED, coin)
}

/// Credit `coin` to `payee`'s unclaimed balance.
pub fn credit(storage: &mut dyn Storage, payee: &Addr, coin: &Coin) -> StdResult<()> {
    BALANCES.update(storage, (payee, &coin.denom), |b| -> StdResult<_> {
        Ok(b.unwrap_or_default().checked_add(coin.amount)?)
    })?;
    add(storage, &UNCLAIMED, coin)
}

/// Take `address`'s whole unclaimed balance off the books.
pub fn take_balance(storage: &mut dyn Storage, address: &Addr) -> StdResult<Vec<Coin>> {
    let coins = balance(storage, address)?;
    for coin in &coins {
        BALANCES.remove(storage, (address, &coin.denom));
        sub(storage, &UNCLAIMED, coin)?;
    }
    Ok(coins)
}

pub fn balance(storage: &dyn Storage, address: &Addr) -> StdResult<Vec<Coin>> {
    BALANCES
        .prefix(address)
        .range(storage, None, None, Order::Ascending)
        .take(MAX_BALANCE_DENOMS)
        .filter(|item| item.as_ref().map_or(true, |(_, amount)| !amount.is_zero()))
        .map(|item| item.map(|(denom, amount)| Coin { denom, amount }))
        .collect()
}

pub fn record(
    storage: &mut dyn Storage,
    address: &Addr,
    kind: HistoryKind,
    amount: Vec<Coin>,
    at: Timestamp,
) -> StdResult<()> {
    let id = next(storage, &HISTORY_COUNT)?;
    let entry = HistoryEntry {
        id,
        kind,
        amount,
        at,
    };
    HISTORY.save(storage, (address, id), &entry)
}
