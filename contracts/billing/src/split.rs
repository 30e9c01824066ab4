//! The revenue split: each share but the patient's rounds down, the patient takes the rest, so
//! the shares always add up to the payment exactly.

use cosmwasm_std::Uint128;
use healthmesh_types::billing::{PayoutRole, RevenueSplit, BPS, MAX_PATIENT_BPS, MIN_PATIENT_BPS};

use crate::ContractError;

pub fn validate(split: &RevenueSplit) -> Result<(), ContractError> {
    if !(MIN_PATIENT_BPS..=MAX_PATIENT_BPS).contains(&split.patient_bps) {
        return Err(ContractError::InvalidSplit(format!(
            "the patient's share must be {MIN_PATIENT_BPS} to {MAX_PATIENT_BPS} bps, got {}",
            split.patient_bps
        )));
    }
    let total = [
        split.patient_bps,
        split.custodian_bps,
        split.treasury_bps,
        split.relayer_bps,
    ]
    .iter()
    .map(|bps| u32::from(*bps))
    .sum::<u32>();
    if total != u32::from(BPS) {
        return Err(ContractError::InvalidSplit(format!(
            "shares must add up to {BPS} bps, got {total}"
        )));
    }
    Ok(())
}

/// The four shares of `amount`. Without a custodian its share goes to the patient.
pub fn divide(
    amount: Uint128,
    split: &RevenueSplit,
    has_custodian: bool,
) -> [(PayoutRole, Uint128); 4] {
    let share = |bps: u16| amount.multiply_ratio(bps, BPS);
    let custodian = if has_custodian {
        share(split.custodian_bps)
    } else {
        Uint128::zero()
    };
    let treasury = share(split.treasury_bps);
    let relayer = share(split.relayer_bps);
    // No underflow: the three shares are each ≤ their bps of `amount`, together ≤ 30 %.
    let patient = amount - custodian - treasury - relayer;
    [
        (PayoutRole::Patient, patient),
        (PayoutRole::Custodian, custodian),
        (PayoutRole::Treasury, treasury),
        (PayoutRole::Relayer, relayer),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPLIT: RevenueSplit = RevenueSplit {
        patient_bps: 8_000,
        custodian_bps: 1_000,
        treasury_bps: 700,
        relayer_bps: 300,
    };

    #[test]
    fn shares_add_up_for_every_amount_and_the_patient_keeps_the_remainder() {
        let amounts = (0u128..2_000).chain([
            9_999,
            10_001,
            123_457,
            u64::MAX as u128,
            u128::MAX / 3,
            u128::MAX,
        ]);
        for amount in amounts {
            for has_custodian in [true, false] {
                let shares = divide(Uint128::new(amount), &SPLIT, has_custodian);
                let total: u128 = shares.iter().map(|(_, a)| a.u128()).sum();
                assert_eq!(total, amount, "amount {amount}");
                let patient = shares[0].1.u128();
                // At least the patient's basis points, never more than one coin per share over.
                assert!(
                    patient
                        >= Uint128::new(amount)
                            .multiply_ratio(8_000u128, 10_000u128)
                            .u128()
                );
            }
        }
    }

    #[test]
    fn odd_price_exact_amounts() {
        // 1,001 at 80/10/7/3: custodian 100, treasury 70, relayer 30, patient 801.
        let shares = divide(Uint128::new(1_001), &SPLIT, true);
        let amounts: Vec<u128> = shares.iter().map(|(_, a)| a.u128()).collect();
        assert_eq!(amounts, vec![801, 100, 70, 30]);
        // Without a custodian its share is the patient's.
        let shares = divide(Uint128::new(1_001), &SPLIT, false);
        let amounts: Vec<u128> = shares.iter().map(|(_, a)| a.u128()).collect();
        assert_eq!(amounts, vec![901, 0, 70, 30]);
    }

    #[test]
    fn splits_are_validated() {
        assert!(validate(&SPLIT).is_ok());
        let low = RevenueSplit {
            patient_bps: 6_999,
            custodian_bps: 2_001,
            ..SPLIT
        };
        assert!(matches!(
            validate(&low),
            Err(ContractError::InvalidSplit(_))
        ));
        let high = RevenueSplit {
            patient_bps: 9_001,
            custodian_bps: 0,
            treasury_bps: 699,
            relayer_bps: 300,
        };
        assert!(matches!(
            validate(&high),
            Err(ContractError::InvalidSplit(_))
        ));
        let not_whole = RevenueSplit {
            relayer_bps: 301,
            ..SPLIT
        };
        assert!(matches!(
            validate(&not_whole),
            Err(ContractError::InvalidSplit(_))
        ));
    }
}
