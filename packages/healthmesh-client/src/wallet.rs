//! A signing key bound to one chain: the typed path by which tools (the localnet deployer, the
//! e2e) store, instantiate and execute the contracts with the contracts' own message types.

use std::time::Duration;

use cosmrs::{AccountId, Coin};
use serde::Serialize;

use crate::deployment::ChainInfo;
use crate::error::{ClientError, Result};
use crate::events::TxOutcome;
use crate::fees::{FeeSetting, GasSetting};
use crate::keys::{Backend, Key, Keyring};
use crate::rpc::{ChainClient, TxOptions};
use crate::tx::{self, Instantiation};

pub struct Wallet<'a> {
    pub client: &'a ChainClient,
    pub key: Key,
    pub address: AccountId,
    pub options: TxOptions,
}

/// Simulated gas × 1.5, zero fees (the localnet's minimum gas price), 60 s to inclusion.
pub fn localnet_options(denom: &str) -> TxOptions {
    TxOptions {
        gas: GasSetting::Auto { adjustment: 1.5 },
        fee: FeeSetting::Fees {
            amount: 0,
            denom: denom.to_string(),
        },
        memo: String::new(),
        timeout: Duration::from_secs(60),
    }
}

impl ChainInfo {
    /// A localnet role's key (`patient`, `dao-1`, …) from the chain's test keyring.
    pub fn test_key(&self, role: &str) -> Result<Key> {
        let home = self.home.as_ref().ok_or_else(|| {
            ClientError::Keystore(format!("{}: the deployment names no home", self.chain_id))
        })?;
        Keyring::new(home.join("keys"), Backend::Test).get(role, None)
    }
}

impl<'a> Wallet<'a> {
    pub fn new(client: &'a ChainClient, key: Key, options: TxOptions) -> Result<Self> {
        let address = tx::parse_address(&key.address(&client.prefix)?, &client.prefix)?;
        Ok(Wallet {
            client,
            key,
            address,
            options,
        })
    }

    pub async fn submit(&self, msgs: Vec<cosmrs::Any>) -> Result<TxOutcome> {
        self.client
            .sign_and_broadcast(&self.key, msgs, &self.options, &|_| {})
            .await
    }

    pub async fn execute<M: Serialize>(
        &self,
        contract: &str,
        msg: &M,
        funds: Vec<Coin>,
    ) -> Result<TxOutcome> {
        let contract = tx::parse_address(contract, &self.client.prefix)?;
        self.submit(vec![tx::execute_contract(
            &self.address,
            &contract,
            msg,
            funds,
        )?])
        .await
    }

    /// Uploads wasm bytes; returns the code id.
    pub async fn store_code(&self, wasm: Vec<u8>) -> Result<u64> {
        let outcome = self
            .submit(vec![tx::store_code(&self.address, wasm)?])
            .await?;
        outcome
            .attr("store_code", "code_id")
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| ClientError::decode("store_code event", "no code_id"))
    }

    /// Instantiates; returns the new contract's address.
    pub async fn instantiate<M: Serialize>(
        &self,
        at: &Instantiation<'_>,
        msg: &M,
    ) -> Result<String> {
        let outcome = self
            .submit(vec![tx::instantiate(&self.address, at, msg)?])
            .await?;
        contract_address(&outcome)
    }

    /// Instantiates at the predictable address of (checksum, this key, `salt`).
    pub async fn instantiate2<M: Serialize>(
        &self,
        at: &Instantiation<'_>,
        msg: &M,
        salt: &[u8],
    ) -> Result<String> {
        let outcome = self
            .submit(vec![tx::instantiate2(&self.address, at, msg, salt)?])
            .await?;
        contract_address(&outcome)
    }
}

fn contract_address(outcome: &TxOutcome) -> Result<String> {
    outcome
        .attr("instantiate", "_contract_address")
        .ok_or_else(|| ClientError::decode("instantiate event", "no _contract_address"))
}
