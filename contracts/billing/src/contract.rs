#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    to_json_binary, BankMsg, Binary, Coin, Deps, DepsMut, Env, Event, IbcMsg, IbcTimeout,
    MessageInfo, Response,
};
use healthmesh_controllers::channels::{allowed_response, disallowed_response};
use healthmesh_controllers::validate;
use healthmesh_types::billing::{
    ExecuteMsg, HistoryKind, InstantiateMsg, MarketResponse, MigrateMsg, Purchase, PurchaseStatus,
    QueryMsg, RevenueSplit, DEFAULT_PACKET_TIMEOUT_SECONDS, MAX_ACCESS_SECONDS,
    MAX_PACKET_TIMEOUT_SECONDS, MAX_PRICE_FLOORS, MIN_PACKET_TIMEOUT_SECONDS,
};
use healthmesh_types::consent::{MAX_ATTRIBUTE_LEN, MAX_PURPOSE_LEN, MAX_SCOPE};
use healthmesh_types::events::{self, attr};
use healthmesh_types::settle::{PurchasePacket, SettlePacket, ACCOUNT_ADDRESS_LEN};

use crate::state::{
    next, purchases, ADMIN, CONTRACT_NAME, CONTRACT_VERSION, MARKET, MARKETS, OPEN_PURCHASES,
    PAUSE, PURCHASE_COUNT, STATE_LAYOUT, TRIAL_LINKS,
};
use crate::{budgets, ledger, queries, split, ContractError};

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info).map_err(|_| ContractError::FundsNotAccepted)?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    healthmesh_controllers::migrate::set_state_layout(deps.storage, STATE_LAYOUT)?;
    let admin = ADMIN.initialize_owner(deps.storage, deps.api, Some(&msg.admin))?;
    PAUSE.init(deps.storage, deps.api, &msg.pausers, msg.max_pause_seconds)?;
    let market = MarketResponse {
        split: msg.split,
        treasury: deps.api.addr_validate(&msg.treasury)?,
        price_floors: msg.price_floors,
        packet_timeout_seconds: msg
            .packet_timeout_seconds
            .unwrap_or(DEFAULT_PACKET_TIMEOUT_SECONDS),
    };
    validate_market(&market)?;
    MARKET.save(deps.storage, &market)?;
    OPEN_PURCHASES.save(deps.storage, &0)?;
    for allowed in &msg.allowed_connections {
        MARKETS.allow(deps.storage, allowed)?;
    }
    for allowed in &msg.trials_connections {
        TRIAL_LINKS.allow(deps.storage, allowed)?;
    }
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("admin", admin.owner.map(String::from).unwrap_or_default()))
}

fn validate_market(market: &MarketResponse) -> Result<(), ContractError> {
    split::validate(&market.split)?;
    let floors = &market.price_floors;
    if floors.is_empty() || floors.len() > MAX_PRICE_FLOORS {
        return Err(ContractError::InvalidMarket(format!(
            "price_floors must list 1 to {MAX_PRICE_FLOORS} denoms"
        )));
    }
    for (i, floor) in floors.iter().enumerate() {
        validate::bounded_text("price_floors.denom", &floor.denom, 128)?;
        if floors[..i].iter().any(|f| f.denom == floor.denom) {
            return Err(ContractError::InvalidMarket(format!(
                "{} is listed twice",
                floor.denom
            )));
        }
    }
    let timeout = market.packet_timeout_seconds;
    if !(MIN_PACKET_TIMEOUT_SECONDS..=MAX_PACKET_TIMEOUT_SECONDS).contains(&timeout) {
        return Err(ContractError::InvalidMarket(format!(
            "packet_timeout_seconds must be {MIN_PACKET_TIMEOUT_SECONDS} to {MAX_PACKET_TIMEOUT_SECONDS}"
        )));
    }
    Ok(())
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    if !matches!(msg, ExecuteMsg::Buy { .. } | ExecuteMsg::FundTrial { .. }) {
        cw_utils::nonpayable(&info).map_err(|_| ContractError::FundsNotAccepted)?;
    }
    match msg {
        ExecuteMsg::Buy {
            chain_id,
            offer_id,
            purpose,
            scope,
            duration_seconds,
        } => {
            let order = Order {
                chain_id,
                offer_id,
                purpose,
                scope,
                duration_seconds,
            };
            execute_buy(deps, env, info, order)
        }
        ExecuteMsg::Withdraw {} => execute_withdraw(deps, env, info),
        ExecuteMsg::UpdateMarket {
            split,
            treasury,
            price_floors,
            packet_timeout_seconds,
        } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            let mut market = MARKET.load(deps.storage)?;
            market.split = split.unwrap_or(market.split);
            if let Some(treasury) = treasury {
                market.treasury = deps.api.addr_validate(&treasury)?;
            }
            market.price_floors = price_floors.unwrap_or(market.price_floors);
            market.packet_timeout_seconds =
                packet_timeout_seconds.unwrap_or(market.packet_timeout_seconds);
            validate_market(&market)?;
            MARKET.save(deps.storage, &market)?;
            Ok(Response::new()
                .add_attribute("action", "update_market")
                .add_event(market_event(&market)))
        }
        ExecuteMsg::AllowConnection(allowed) => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            MARKETS.allow(deps.storage, &allowed)?;
            Ok(allowed_response("allow_connection", allowed))
        }
        ExecuteMsg::DisallowConnection { connection_id } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            MARKETS.disallow(deps.storage, &connection_id);
            Ok(disallowed_response("disallow_connection", connection_id))
        }
        ExecuteMsg::FundTrial { chain_id, trial_id } => {
            budgets::fund(deps, env, info, chain_id, trial_id)
        }
        ExecuteMsg::ReclaimTrialBudget { chain_id, trial_id } => {
            budgets::reclaim(deps, env, info, chain_id, trial_id)
        }
        ExecuteMsg::AllowTrials(allowed) => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            TRIAL_LINKS.allow(deps.storage, &allowed)?;
            Ok(allowed_response("allow_trials", allowed))
        }
        ExecuteMsg::DisallowTrials { connection_id } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            TRIAL_LINKS.disallow(deps.storage, &connection_id);
            Ok(disallowed_response("disallow_trials", connection_id))
        }
        ExecuteMsg::ResolveDispute { purchase_id } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            let purchase = purchases()
                .may_load(deps.storage, purchase_id)?
                .ok_or(ContractError::PurchaseNotFound(purchase_id))?;
            let PurchaseStatus::Disputed { reason, .. } = &purchase.status else {
                return Err(ContractError::NotDisputed(purchase_id));
            };
            let reason = format!("dispute resolved by governance: {reason}");
            let (send, event) = crate::ibc::refund(deps.storage, &env, purchase, reason)?;
            Ok(Response::new()
                .add_attribute("action", "resolve_dispute")
                .add_message(send)
                .add_event(event))
        }
        ExecuteMsg::Pausable(msg) => {
            let is_admin = ADMIN.is_owner(deps.storage, &info.sender)?;
            Ok(PAUSE.execute(deps, &env, &info.sender, is_admin, msg)?)
        }
        ExecuteMsg::UpdateOwnership(action) => {
            let ownership = ADMIN.update_ownership(deps, &env.block, &info.sender, action)?;
            Ok(Response::new()
                .add_attribute("action", "update_ownership")
                .add_attributes(ownership.into_attributes()))
        }
    }
}

fn market_event(market: &MarketResponse) -> Event {
    let RevenueSplit {
        patient_bps,
        custodian_bps,
        treasury_bps,
        relayer_bps,
    } = market.split;
    let floors: Vec<String> = market.price_floors.iter().map(Coin::to_string).collect();
    Event::new("billing_market_updated")
        .add_attribute("patient_bps", patient_bps.to_string())
        .add_attribute("custodian_bps", custodian_bps.to_string())
        .add_attribute("treasury_bps", treasury_bps.to_string())
        .add_attribute("relayer_bps", relayer_bps.to_string())
        .add_attribute("treasury", &market.treasury)
        .add_attribute("price_floors", floors.join(","))
        .add_attribute(
            "packet_timeout_seconds",
            market.packet_timeout_seconds.to_string(),
        )
}

/// The fields of a `Buy` message.
struct Order {
    chain_id: String,
    offer_id: u64,
    purpose: String,
    scope: Vec<String>,
    duration_seconds: u64,
}

fn execute_buy(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    order: Order,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let paid = cw_utils::one_coin(&info)?;
    let market = MARKET.load(deps.storage)?;
    check_price(&market, &paid)?;
    validate::bounded_text("chain_id", &order.chain_id, 64)?;
    validate::identifier("purpose", &order.purpose, MAX_PURPOSE_LEN)?;
    validate::identifier_set("scope", &order.scope, MAX_SCOPE, MAX_ATTRIBUTE_LEN)?;
    if !(1..=MAX_ACCESS_SECONDS).contains(&order.duration_seconds) {
        return Err(ContractError::InvalidMarket(format!(
            "duration_seconds must be 1 to {MAX_ACCESS_SECONDS}"
        )));
    }
    let channel = MARKETS.channel_to(deps.storage, &order.chain_id)?;
    let buyer = deps.api.addr_canonicalize(info.sender.as_str())?;
    if buyer.len() != ACCOUNT_ADDRESS_LEN {
        return Err(ContractError::NotKeyAccount(info.sender.to_string()));
    }

    let id = next(deps.storage, &PURCHASE_COUNT)?;
    let packet = SettlePacket::Purchase(PurchasePacket {
        purchase_id: id,
        offer_id: order.offer_id,
        buyer: buyer.into(),
        paid: paid.clone(),
        purpose: order.purpose.clone(),
        scope: order.scope.clone(),
        duration_seconds: order.duration_seconds,
    });
    let purchase = Purchase {
        id,
        buyer: info.sender,
        chain_id: order.chain_id,
        channel_id: channel.channel_id.clone(),
        offer_id: order.offer_id,
        purpose: order.purpose,
        scope: order.scope,
        duration_seconds: order.duration_seconds,
        paid: paid.clone(),
        split: market.split,
        created_at: env.block.time,
        status: PurchaseStatus::Open,
    };
    purchases().save(deps.storage, id, &purchase)?;
    ledger::escrow(deps.storage, &paid)?;
    OPEN_PURCHASES.update(deps.storage, |n| -> Result<_, ContractError> { Ok(n + 1) })?;

    let timeout = env.block.time.plus_seconds(market.packet_timeout_seconds);
    let send = IbcMsg::SendPacket {
        channel_id: channel.channel_id.clone(),
        data: to_json_binary(&packet)?,
        timeout: IbcTimeout::with_timestamp(timeout),
    };
    let event = Event::new(events::PURCHASE_CREATED)
        .add_attribute(attr::PURCHASE_ID, id.to_string())
        .add_attribute("buyer", &purchase.buyer)
        .add_attribute("chain_id", &purchase.chain_id)
        .add_attribute(attr::OFFER_ID, purchase.offer_id.to_string())
        .add_attribute(attr::CHANNEL_ID, &channel.channel_id)
        .add_attribute("paid", paid.to_string())
        .add_attribute("timeout", timeout.seconds().to_string());
    Ok(Response::new()
        .add_attribute("action", "buy")
        .add_attribute(attr::PURCHASE_ID, id.to_string())
        .set_data(to_json_binary(&id)?)
        .add_message(send)
        .add_event(event))
}

/// The market's floor for `denom`, or why the denom is not accepted.
pub(crate) fn floor_of<'a>(
    market: &'a MarketResponse,
    denom: &str,
) -> Result<&'a Coin, ContractError> {
    market
        .price_floors
        .iter()
        .find(|f| f.denom == denom)
        .ok_or_else(|| ContractError::DenomNotAccepted {
            denom: denom.into(),
            accepted: market
                .price_floors
                .iter()
                .map(|f| f.denom.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

fn check_price(market: &MarketResponse, paid: &Coin) -> Result<(), ContractError> {
    let floor = floor_of(market, &paid.denom)?;
    if paid.amount < floor.amount {
        return Err(ContractError::BelowFloor {
            paid: paid.clone(),
            floor: floor.clone(),
        });
    }
    Ok(())
}

/// Never paused: earned money can always be taken out.
fn execute_withdraw(deps: DepsMut, env: Env, info: MessageInfo) -> Result<Response, ContractError> {
    let coins = ledger::take_balance(deps.storage, &info.sender)?;
    if coins.is_empty() {
        return Err(ContractError::NothingToWithdraw);
    }
    ledger::record(
        deps.storage,
        &info.sender,
        HistoryKind::Withdrawal {},
        coins.clone(),
        env.block.time,
    )?;
    let event = Event::new(events::WITHDRAWAL)
        .add_attribute("address", &info.sender)
        .add_attribute("amount", coins_text(&coins));
    Ok(Response::new()
        .add_attribute("action", "withdraw")
        .add_message(BankMsg::Send {
            to_address: info.sender.to_string(),
            amount: coins,
        })
        .add_event(event))
}

pub(crate) fn coins_text(coins: &[Coin]) -> String {
    coins
        .iter()
        .map(Coin::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    queries::dispatch(deps, env, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    let response =
        healthmesh_controllers::migrate::migrate(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    healthmesh_controllers::migrate::require_state_layout(deps.storage, STATE_LAYOUT)?;
    Ok(response)
}
