#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    Addr, BankMsg, Binary, Coin, Decimal, Deps, DepsMut, Env, Event, Isqrt, MessageInfo, Reply,
    Response, StdError, Storage, Uint128,
};
use healthmesh_controllers::validate;
use healthmesh_types::events;
use healthmesh_types::staking::{
    Claim, Config, ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg, SlashDestination, SlashRecord,
    StoredSlashDestination, MAX_CLAIMS_CAP, MAX_HOOKS,
};

use crate::state::{
    ADMIN, BONDS, CLAIMS, CONFIG, CONTRACT_NAME, CONTRACT_VERSION, HOOKS, PAUSE, SLASHES,
    SLASH_COUNT, STAKER_REWARDS, TOTAL_BONDED, TOTAL_SQRT_BONDED,
};
use crate::{hooks, queries, rewards, ContractError};

const MAX_SLASH_REASON: usize = 256;

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    // Native denoms may be IBC hashes (`ibc/…`): only bound the length here.
    validate::bounded_text("denom", &msg.denom, 128)?;
    let config = Config {
        denom: msg.denom,
        min_bond: msg.min_bond,
        unbonding_period: msg.unbonding_period,
        slashing_window: msg.slashing_window,
        max_claims: msg.max_claims,
        slash_destination: slash_destination(deps.as_ref(), msg.slash_destination)?,
    };
    validate_config(&config)?;
    CONFIG.save(deps.storage, &config)?;
    ADMIN.initialize_owner(deps.storage, deps.api, Some(&msg.admin))?;
    PAUSE.init(deps.storage, deps.api, &msg.pausers, msg.max_pause_seconds)?;
    TOTAL_BONDED.save(deps.storage, &Uint128::zero(), env.block.height)?;
    TOTAL_SQRT_BONDED.save(deps.storage, &Uint128::zero(), env.block.height)?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("admin", msg.admin))
}

fn slash_destination(
    deps: Deps,
    dest: SlashDestination,
) -> Result<StoredSlashDestination, ContractError> {
    Ok(match dest {
        SlashDestination::Treasury { address } => StoredSlashDestination::Treasury {
            address: deps.api.addr_validate(&address)?,
        },
        SlashDestination::Burn {} => StoredSlashDestination::Burn {},
    })
}

/// The slashing window is a guarantee about claims (slashable at least that long, in fact
/// until released), so it cannot exceed the unbonding period. That it covers governance's
/// voting period plus timelock is governance's check: it knows them, staking does not.
fn validate_config(config: &Config) -> Result<(), ContractError> {
    if config.denom.is_empty() {
        return Err(ContractError::Std(StdError::generic_err(
            "denom must not be empty",
        )));
    }
    if config.max_claims == 0 || config.max_claims > MAX_CLAIMS_CAP {
        return Err(ContractError::InvalidMaxClaims {
            max: MAX_CLAIMS_CAP,
            got: config.max_claims,
        });
    }
    if config.unbonding_period == 0 || config.slashing_window > config.unbonding_period {
        return Err(ContractError::InvalidPeriods);
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
    match msg {
        ExecuteMsg::Bond {} => execute_bond(deps, env, info),
        ExecuteMsg::Unbond { amount } => execute_unbond(deps, env, info, amount),
        ExecuteMsg::Claim {} => execute_claim(deps, env, info),
        ExecuteMsg::DistributeRewards {} => execute_distribute(deps, env, info),
        ExecuteMsg::WithdrawRewards {} => execute_withdraw_rewards(deps, env, info),
        ExecuteMsg::Slash {
            attester,
            ratio,
            reason,
        } => {
            cw_utils::nonpayable(&info)?;
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            let attester = deps.api.addr_validate(&attester)?;
            execute_slash(deps, env, attester, ratio, reason)
        }
        ExecuteMsg::UpdateConfig {
            min_bond,
            unbonding_period,
            slashing_window,
            max_claims,
            slash_destination: dest,
        } => {
            cw_utils::nonpayable(&info)?;
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            let mut config = CONFIG.load(deps.storage)?;
            config.min_bond = min_bond.unwrap_or(config.min_bond);
            config.unbonding_period = unbonding_period.unwrap_or(config.unbonding_period);
            config.slashing_window = slashing_window.unwrap_or(config.slashing_window);
            config.max_claims = max_claims.unwrap_or(config.max_claims);
            if let Some(dest) = dest {
                config.slash_destination = slash_destination(deps.as_ref(), dest)?;
            }
            validate_config(&config)?;
            CONFIG.save(deps.storage, &config)?;
            Ok(Response::new().add_attribute("action", "update_config"))
        }
        ExecuteMsg::AddHook { address } => update_hooks(deps, info, address, true),
        ExecuteMsg::RemoveHook { address } => update_hooks(deps, info, address, false),
        ExecuteMsg::Pausable(msg) => {
            cw_utils::nonpayable(&info)?;
            let is_admin = ADMIN.is_owner(deps.storage, &info.sender)?;
            Ok(PAUSE.execute(deps, &env, &info.sender, is_admin, msg)?)
        }
        ExecuteMsg::UpdateOwnership(action) => {
            cw_utils::nonpayable(&info)?;
            let ownership = ADMIN.update_ownership(deps, &env.block, &info.sender, action)?;
            Ok(Response::new()
                .add_attribute("action", "update_ownership")
                .add_attributes(ownership.into_attributes()))
        }
    }
}

fn bonded(storage: &dyn Storage, address: &Addr) -> Result<Uint128, ContractError> {
    Ok(BONDS.may_load(storage, address)?.unwrap_or_default())
}

/// Store a new bond for `address` (rewards settled first) and adjust the total.
fn set_bond(
    storage: &mut dyn Storage,
    height: u64,
    address: &Addr,
    old: Uint128,
    new: Uint128,
) -> Result<(), ContractError> {
    rewards::settle(storage, address, old)?;
    BONDS.save(storage, address, &new, height)?;
    let total = TOTAL_BONDED.may_load(storage)?.unwrap_or_default();
    TOTAL_BONDED.save(storage, &(total + new - old), height)?;
    let sqrt_total = TOTAL_SQRT_BONDED.may_load(storage)?.unwrap_or_default();
    let sqrt_total = sqrt_total
        .checked_add(new.isqrt())
        .and_then(|t| t.checked_sub(old.isqrt()))
        .map_err(StdError::from)?;
    TOTAL_SQRT_BONDED.save(storage, &sqrt_total, height)?;
    Ok(())
}

fn stake_event(
    kind: &str,
    address: &Addr,
    amount: Uint128,
    bonded: Uint128,
    config: &Config,
) -> Event {
    Event::new(kind)
        .add_attribute("address", address)
        .add_attribute("amount", amount)
        .add_attribute("bonded", bonded)
        .add_attribute(
            "active_attester",
            config.is_active_attester(bonded).to_string(),
        )
}

fn execute_bond(deps: DepsMut, env: Env, info: MessageInfo) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let config = CONFIG.load(deps.storage)?;
    let amount = cw_utils::must_pay(&info, &config.denom)?;
    let old = bonded(deps.storage, &info.sender)?;
    let new = old + amount;
    set_bond(deps.storage, env.block.height, &info.sender, old, new)?;
    Ok(Response::new()
        .add_attribute("action", "bond")
        .add_event(stake_event(
            events::BONDED,
            &info.sender,
            amount,
            new,
            &config,
        ))
        .add_submessages(hooks::notify(deps.storage, &info.sender, new, "bond")?))
}

fn execute_unbond(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    amount: Uint128,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    if amount.is_zero() {
        return Err(ContractError::ZeroAmount);
    }
    let old = bonded(deps.storage, &info.sender)?;
    if amount > old {
        return Err(ContractError::InsufficientBond {
            requested: amount,
            bonded: old,
        });
    }
    let mut claims = CLAIMS
        .may_load(deps.storage, &info.sender)?
        .unwrap_or_default();
    if claims.len() >= config.max_claims as usize {
        return Err(ContractError::TooManyClaims {
            max: config.max_claims,
        });
    }
    let release_at = env.block.time.plus_seconds(config.unbonding_period);
    claims.push(Claim {
        amount,
        unbonded_at: env.block.time,
        release_at,
    });
    CLAIMS.save(deps.storage, &info.sender, &claims)?;
    let new = old - amount;
    set_bond(deps.storage, env.block.height, &info.sender, old, new)?;
    let event = stake_event("unbonded", &info.sender, amount, new, &config)
        .add_attribute("release_at", release_at.seconds().to_string());
    Ok(Response::new()
        .add_attribute("action", "unbond")
        .add_event(event)
        .add_submessages(hooks::notify(deps.storage, &info.sender, new, "unbond")?))
}

fn execute_claim(deps: DepsMut, env: Env, info: MessageInfo) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let claims = CLAIMS
        .may_load(deps.storage, &info.sender)?
        .unwrap_or_default();
    let (matured, pending): (Vec<Claim>, Vec<Claim>) = claims
        .into_iter()
        .partition(|c| c.release_at <= env.block.time);
    let amount: Uint128 = matured.iter().map(|c| c.amount).sum();
    if amount.is_zero() {
        let next = pending
            .iter()
            .map(|c| c.release_at)
            .min()
            .map_or("none pending".to_string(), |t| t.seconds().to_string());
        return Err(ContractError::NothingToClaim { next });
    }
    CLAIMS.save(deps.storage, &info.sender, &pending)?;
    Ok(Response::new()
        .add_attribute("action", "claim")
        .add_event(
            Event::new("claimed")
                .add_attribute("address", &info.sender)
                .add_attribute("amount", amount),
        )
        .add_message(BankMsg::Send {
            to_address: info.sender.into_string(),
            amount: vec![Coin::new(amount, config.denom)],
        }))
}

fn execute_distribute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let config = CONFIG.load(deps.storage)?;
    let amount = cw_utils::must_pay(&info, &config.denom)?;
    let total = TOTAL_BONDED.may_load(deps.storage)?.unwrap_or_default();
    if total.is_zero() {
        return Err(ContractError::NothingBonded);
    }
    rewards::distribute(deps.storage, amount, total)?;
    Ok(Response::new()
        .add_attribute("action", "distribute_rewards")
        .add_event(
            Event::new("rewards_distributed")
                .add_attribute("from", &info.sender)
                .add_attribute("amount", amount)
                .add_attribute("total_bonded", total),
        ))
}

fn execute_withdraw_rewards(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let bond = bonded(deps.storage, &info.sender)?;
    let mut settled = rewards::settled(deps.storage, &info.sender, bond)?;
    if settled.pending.is_zero() {
        return Err(ContractError::NoRewards);
    }
    let amount = std::mem::take(&mut settled.pending);
    STAKER_REWARDS.save(deps.storage, &info.sender, &settled)?;
    Ok(Response::new()
        .add_attribute("action", "withdraw_rewards")
        .add_event(
            Event::new("rewards_withdrawn")
                .add_attribute("address", &info.sender)
                .add_attribute("amount", amount),
        )
        .add_message(BankMsg::Send {
            to_address: info.sender.into_string(),
            amount: vec![Coin::new(amount, config.denom)],
        }))
}

fn execute_slash(
    deps: DepsMut,
    env: Env,
    attester: Addr,
    ratio: Decimal,
    reason: String,
) -> Result<Response, ContractError> {
    if ratio.is_zero() || ratio > Decimal::one() {
        return Err(ContractError::InvalidRatio(ratio));
    }
    validate::bounded_text("reason", &reason, MAX_SLASH_REASON)?;
    let config = CONFIG.load(deps.storage)?;
    let old = bonded(deps.storage, &attester)?;
    let from_bond = old.mul_floor(ratio);

    // Claims not yet released lose the same ratio, however long ago they were unbonded:
    // unbonding must not outrun a slash. Matured claims are the custodian's, claimed or not.
    let mut claims = CLAIMS
        .may_load(deps.storage, &attester)?
        .unwrap_or_default();
    let mut from_claims = Uint128::zero();
    for claim in claims.iter_mut().filter(|c| c.release_at > env.block.time) {
        let cut = claim.amount.mul_floor(ratio);
        claim.amount -= cut;
        from_claims += cut;
    }
    let total = from_bond + from_claims;
    if total.is_zero() {
        return Err(ContractError::NothingToSlash(attester.into_string()));
    }
    claims.retain(|c| !c.amount.is_zero());
    CLAIMS.save(deps.storage, &attester, &claims)?;
    let new = old - from_bond;
    set_bond(deps.storage, env.block.height, &attester, old, new)?;

    let id = SLASH_COUNT.may_load(deps.storage)?.unwrap_or_default() + 1;
    SLASH_COUNT.save(deps.storage, &id)?;
    let record = SlashRecord {
        id,
        attester: attester.clone(),
        ratio,
        reason,
        from_bond,
        from_claims,
        height: env.block.height,
        time: env.block.time,
    };
    SLASHES.save(deps.storage, (&attester, id), &record)?;

    let funds = vec![Coin::new(total, config.denom.clone())];
    let (payout, destination) = match config.slash_destination {
        StoredSlashDestination::Treasury { ref address } => (
            BankMsg::Send {
                to_address: address.to_string(),
                amount: funds,
            },
            address.to_string(),
        ),
        StoredSlashDestination::Burn {} => (BankMsg::Burn { amount: funds }, "burn".to_string()),
    };
    let event = stake_event(events::ATTESTER_SLASHED, &attester, total, new, &config)
        .add_attribute("slash_id", id.to_string())
        .add_attribute("ratio", ratio.to_string())
        .add_attribute("from_bond", from_bond)
        .add_attribute("from_claims", from_claims)
        .add_attribute("destination", destination)
        .add_attribute("reason", &record.reason);
    Ok(Response::new()
        .add_attribute("action", "slash")
        .add_event(event)
        .add_message(payout)
        .add_submessages(hooks::notify(deps.storage, &attester, new, "slash")?))
}

fn update_hooks(
    deps: DepsMut,
    info: MessageInfo,
    address: String,
    add: bool,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    ADMIN.assert_owner(deps.storage, &info.sender)?;
    let hook = deps.api.addr_validate(&address)?;
    let mut hooks = HOOKS.may_load(deps.storage)?.unwrap_or_default();
    let exists = hooks.contains(&hook);
    match (add, exists) {
        (true, true) => return Err(ContractError::HookExists(address)),
        (false, false) => return Err(ContractError::HookNotFound(address)),
        (true, false) if hooks.len() >= MAX_HOOKS => {
            return Err(ContractError::TooManyHooks(MAX_HOOKS))
        }
        (true, false) => hooks.push(hook),
        (false, true) => hooks.retain(|h| *h != hook),
    }
    HOOKS.save(deps.storage, &hooks)?;
    Ok(Response::new()
        .add_attribute("action", if add { "add_hook" } else { "remove_hook" })
        .add_attribute("hook", address))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn reply(_deps: DepsMut, _env: Env, reply: Reply) -> Result<Response, ContractError> {
    match reply.id {
        hooks::HOOK_REPLY_ID => Ok(hooks::on_failure(reply)),
        id => Err(ContractError::Std(StdError::generic_err(format!(
            "unknown reply id {id}"
        )))),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    queries::dispatch(deps, env, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    let response =
        healthmesh_controllers::migrate::migrate(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    backfill_sqrt_total(deps.storage, env.block.height)?;
    Ok(response)
}

/// A contract from before quadratic totals: Σ⌊√bond⌋ over every staker, once. One pass
/// over the stakers in the migration (governance's own transaction), never again: every
/// later bond change keeps it.
fn backfill_sqrt_total(storage: &mut dyn Storage, height: u64) -> Result<(), ContractError> {
    if TOTAL_SQRT_BONDED.may_load(storage)?.is_some() {
        return Ok(());
    }
    let mut total = Uint128::zero();
    for item in BONDS.range(storage, None, None, cosmwasm_std::Order::Ascending) {
        let (_, bond) = item?;
        total = total.checked_add(bond.isqrt()).map_err(StdError::from)?;
    }
    TOTAL_SQRT_BONDED.save(storage, &total, height)?;
    Ok(())
}
