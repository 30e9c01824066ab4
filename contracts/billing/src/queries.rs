//! Billing queries: the market, purchases, each address's history and balance, the ledger.

use cosmwasm_std::{to_json_binary, Binary, Deps, Env, Order, StdResult, Uint128};
use cw_storage_plus::Bound;
use healthmesh_controllers::pagination::clamp_limit;
use healthmesh_types::billing::{
    BalanceResponse, DenomTotals, HistoryResponse, LedgerResponse, PurchasesResponse, QueryMsg,
};
use std::collections::BTreeMap;

use crate::state::{
    purchases, ADMIN, BUDGETED, BUDGETS, HISTORY, MARKET, MARKETS, MILESTONES_PAID, OPEN_ESCROW,
    OPEN_PURCHASES, PAUSE, TRIAL_LINKS, UNCLAIMED,
};
use crate::{ledger, ContractError};

/// Most denoms the ledger reports (accepted denoms are at most 8 at a time).
const MAX_LEDGER_DENOMS: usize = 64;

pub fn dispatch(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    let binary = match msg {
        QueryMsg::Market {} => to_json_binary(&MARKET.load(deps.storage)?)?,
        QueryMsg::Purchase { purchase_id } => to_json_binary(
            &purchases()
                .may_load(deps.storage, purchase_id)?
                .ok_or(ContractError::PurchaseNotFound(purchase_id))?,
        )?,
        QueryMsg::PurchasesByBuyer {
            buyer,
            start_before,
            limit,
        } => {
            let buyer = deps.api.addr_validate(&buyer)?;
            let page = purchases()
                .idx
                .buyer
                .prefix(buyer)
                .range(
                    deps.storage,
                    None,
                    start_before.map(Bound::exclusive),
                    Order::Descending,
                )
                .take(clamp_limit(limit))
                .map(|item| item.map(|(_, p)| p))
                .collect::<StdResult<Vec<_>>>()?;
            to_json_binary(&PurchasesResponse { purchases: page })?
        }
        QueryMsg::History {
            address,
            start_before,
            limit,
        } => {
            let address = deps.api.addr_validate(&address)?;
            let entries = HISTORY
                .prefix(&address)
                .range(
                    deps.storage,
                    None,
                    start_before.map(Bound::exclusive),
                    Order::Descending,
                )
                .take(clamp_limit(limit))
                .map(|item| item.map(|(_, e)| e))
                .collect::<StdResult<Vec<_>>>()?;
            to_json_binary(&HistoryResponse { entries })?
        }
        QueryMsg::Balance { address } => {
            let address = deps.api.addr_validate(&address)?;
            to_json_binary(&BalanceResponse {
                balance: ledger::balance(deps.storage, &address)?,
            })?
        }
        QueryMsg::Ledger {} => to_json_binary(&ledger_totals(deps)?)?,
        QueryMsg::Channels {} => to_json_binary(&MARKETS.channels(deps.storage)?)?,
        QueryMsg::AllowedConnections {} => {
            to_json_binary(&MARKETS.allowed_connections(deps.storage)?)?
        }
        QueryMsg::TrialBudget { chain_id, trial_id } => to_json_binary(
            &BUDGETS
                .may_load(deps.storage, (&chain_id, trial_id))?
                .ok_or(ContractError::NoBudget { chain_id, trial_id })?,
        )?,
        QueryMsg::MilestonePaid {
            chain_id,
            trial_id,
            milestone,
            participant,
        } => {
            let participant = deps.api.addr_canonicalize(&participant)?;
            let key = (
                (chain_id.as_str(), trial_id),
                milestone.as_str(),
                participant.as_slice(),
            );
            to_json_binary(&MILESTONES_PAID.may_load(deps.storage, key)?)?
        }
        QueryMsg::TrialsChannels {} => to_json_binary(&TRIAL_LINKS.channels(deps.storage)?)?,
        QueryMsg::TrialsConnections {} => {
            to_json_binary(&TRIAL_LINKS.allowed_connections(deps.storage)?)?
        }
        QueryMsg::PauseStatus {} => to_json_binary(&PAUSE.status(deps.storage, &env.block)?)?,
        QueryMsg::Ownership {} => to_json_binary(&ADMIN.get_ownership(deps.storage)?)?,
    };
    Ok(binary)
}

fn ledger_totals(deps: Deps) -> StdResult<LedgerResponse> {
    let mut totals: BTreeMap<String, [Uint128; 3]> = BTreeMap::new();
    for (column, map) in [OPEN_ESCROW, UNCLAIMED, BUDGETED].iter().enumerate() {
        for item in map
            .range(deps.storage, None, None, Order::Ascending)
            .take(MAX_LEDGER_DENOMS)
        {
            let (denom, amount) = item?;
            totals.entry(denom).or_default()[column] = amount;
        }
    }
    Ok(LedgerResponse {
        totals: totals
            .into_iter()
            .map(
                |(denom, [open_escrow, unclaimed, trial_budgets])| DenomTotals {
                    denom,
                    open_escrow,
                    unclaimed,
                    trial_budgets,
                },
            )
            .collect(),
        open_purchases: OPEN_PURCHASES.may_load(deps.storage)?.unwrap_or_default(),
    })
}
