//! `--gas`, `--gas-adjustment`, `--fees` and `--gas-prices`, with wasmd's meanings.

use cosmrs::tx::Fee;
use cosmrs::{Coin, Denom};

use crate::error::{ClientError, Result};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GasSetting {
    /// Simulate and multiply the estimate.
    Auto {
        adjustment: f64,
    },
    Fixed(u64),
}

impl GasSetting {
    /// `auto` or a number, as `--gas` takes it.
    pub fn parse(gas: &str, adjustment: f64) -> Result<Self> {
        if !(adjustment.is_finite() && (1.0..=10.0).contains(&adjustment)) {
            return Err(ClientError::InvalidFee(
                adjustment.to_string(),
                "gas adjustment must be between 1.0 and 10.0".into(),
            ));
        }
        match gas {
            "auto" => Ok(GasSetting::Auto { adjustment }),
            n => n
                .parse::<u64>()
                .ok()
                .filter(|g| *g > 0)
                .map(GasSetting::Fixed)
                .ok_or_else(|| {
                    ClientError::InvalidFee(n.into(), "use 'auto' or a positive gas limit".into())
                }),
        }
    }

    pub fn limit(&self, simulated: Option<u64>) -> u64 {
        match (self, simulated) {
            (GasSetting::Fixed(gas), _) => *gas,
            (GasSetting::Auto { adjustment }, Some(sim)) => (sim as f64 * adjustment).ceil() as u64,
            (GasSetting::Auto { .. }, None) => 200_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum FeeSetting {
    /// A fixed fee, e.g. `5000ustake`.
    Fees { amount: u128, denom: String },
    /// A price per unit of gas, e.g. `0.025ustake`; the fee is rounded up.
    GasPrices { price: f64, denom: String },
}

impl FeeSetting {
    pub fn parse_fees(text: &str) -> Result<Self> {
        let (amount, denom) = split_coin(text)?;
        let amount = amount.parse::<u128>().map_err(|_| {
            ClientError::InvalidFee(text.into(), "the amount must be an integer".into())
        })?;
        Ok(FeeSetting::Fees { amount, denom })
    }

    pub fn parse_gas_prices(text: &str) -> Result<Self> {
        let (price, denom) = split_coin(text)?;
        let price = price
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite() && *p >= 0.0)
            .ok_or_else(|| {
                ClientError::InvalidFee(
                    text.into(),
                    "the price must be a non-negative decimal".into(),
                )
            })?;
        Ok(FeeSetting::GasPrices { price, denom })
    }

    pub fn fee(&self, gas_limit: u64) -> Result<Fee> {
        let (amount, denom) = match self {
            FeeSetting::Fees { amount, denom } => (*amount, denom),
            FeeSetting::GasPrices { price, denom } => {
                ((price * gas_limit as f64).ceil() as u128, denom)
            }
        };
        let denom: Denom = denom.parse().map_err(|e: cosmrs::ErrorReport| {
            ClientError::InvalidFee(denom.clone(), e.to_string())
        })?;
        Ok(Fee::from_amount_and_gas(Coin { denom, amount }, gas_limit))
    }
}

fn split_coin(text: &str) -> Result<(String, String)> {
    let at = text
        .find(|c: char| c.is_ascii_alphabetic())
        .filter(|i| *i > 0)
        .ok_or_else(|| {
            ClientError::InvalidFee(
                text.into(),
                "expected an amount followed by a denom, e.g. 10ustake".into(),
            )
        })?;
    Ok((text[..at].to_string(), text[at..].to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gas_prices_round_up_and_fees_are_fixed() {
        let fee = FeeSetting::parse_gas_prices("0.025ustake")
            .unwrap()
            .fee(200_001)
            .unwrap();
        assert_eq!(fee.amount[0].amount, 5001);
        assert_eq!(fee.gas_limit, 200_001);
        let fee = FeeSetting::parse_fees("7ustake").unwrap().fee(100).unwrap();
        assert_eq!(
            (fee.amount[0].amount, fee.amount[0].denom.to_string()),
            (7, "ustake".into())
        );
    }

    #[test]
    fn gas_auto_applies_the_adjustment() {
        assert_eq!(
            GasSetting::parse("auto", 1.5).unwrap().limit(Some(100_000)),
            150_000
        );
        assert_eq!(
            GasSetting::parse("300000", 1.3).unwrap().limit(Some(1)),
            300_000
        );
    }

    #[test]
    fn malformed_settings_are_refused() {
        for bad in ["ustake", "10", "1.5ustake", "-1ustake", ""] {
            assert!(FeeSetting::parse_fees(bad).is_err(), "{bad}");
        }
        assert!(FeeSetting::parse_gas_prices("abc").is_err());
        assert!(GasSetting::parse("lots", 1.3).is_err());
        assert!(GasSetting::parse("0", 1.3).is_err());
        assert!(GasSetting::parse("auto", 0.5).is_err());
    }
}
