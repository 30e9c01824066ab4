//! Pro-rata rewards with lazy accounting: a global index of rewards per bonded unit, and per
//! staker the index at its last settlement. Every bond change settles the staker first, so
//! no operation loops over stakers.

use cosmwasm_std::{Addr, Decimal256, StdResult, Storage, Uint128, Uint256};

use crate::state::{StakerRewards, REWARD_INDEX, STAKER_REWARDS};

pub fn index(storage: &dyn Storage) -> StdResult<Decimal256> {
    Ok(REWARD_INDEX.may_load(storage)?.unwrap_or_default())
}

/// The staker's rewards settled up to now for a bond of `bonded` since the last settlement.
pub fn settled(storage: &dyn Storage, staker: &Addr, bonded: Uint128) -> StdResult<StakerRewards> {
    let current = index(storage)?;
    let mut rewards = STAKER_REWARDS
        .may_load(storage, staker)?
        .unwrap_or_default();
    let accrued = Uint256::from(bonded).mul_floor(current - rewards.index);
    rewards.pending += Uint128::try_from(accrued)?;
    rewards.index = current;
    Ok(rewards)
}

/// Settle and store; call before changing the staker's bond.
pub fn settle(
    storage: &mut dyn Storage,
    staker: &Addr,
    bonded: Uint128,
) -> StdResult<StakerRewards> {
    let rewards = settled(storage, staker, bonded)?;
    STAKER_REWARDS.save(storage, staker, &rewards)?;
    Ok(rewards)
}

/// Add `amount` shared over `total_bonded` to the index.
pub fn distribute(
    storage: &mut dyn Storage,
    amount: Uint128,
    total_bonded: Uint128,
) -> StdResult<()> {
    let increment = Decimal256::from_ratio(amount, total_bonded);
    let updated = index(storage)? + increment;
    REWARD_INDEX.save(storage, &updated)
}
