//! One chain over its CometBFT RPC: status, account lookup, simulation, contract queries,
//! broadcast and waiting for inclusion.

use std::time::{Duration, Instant};

use cosmrs::proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmrs::proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use cosmrs::proto::cosmwasm::wasm::v1::{
    QuerySmartContractStateRequest, QuerySmartContractStateResponse,
};
use cosmrs::proto::prost::Message;
use cosmrs::Any;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tendermint_rpc::{Client, HttpClient};

use crate::error::{ClientError, Result};
use crate::events::{from_abci, TxOutcome};
use crate::fees::{FeeSetting, GasSetting};
use crate::keys::Key;
use crate::tx::{sign, SignerData};

/// The contract's own words from a wasmd query error log
/// ("proposal 9 not found: query wasm contract failed: unknown request").
fn contract_message(log: &str) -> String {
    log.split(": query wasm contract failed")
        .next()
        .unwrap_or(log)
        .to_string()
}

/// The failing message's own error from a simulation log ("… message index: 0: already
/// voted …: execute wasm contract failed [keeper.go:452] with gas used …").
fn failure_reason(log: &str) -> String {
    let tail = log.split_once("message index: ").map_or(log, |(_, rest)| {
        rest.split_once(": ").map_or(rest, |(_, reason)| reason)
    });
    tail.split(": execute wasm contract failed")
        .next()
        .unwrap_or(tail)
        .to_string()
}

pub struct ChainClient {
    http: HttpClient,
    pub url: String,
    pub chain_id: String,
    pub prefix: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    pub chain_id: String,
    pub height: u64,
    pub block_time: String,
    pub catching_up: bool,
}

/// How to pay for and wait on a transaction.
#[derive(Debug, Clone)]
pub struct TxOptions {
    pub gas: GasSetting,
    pub fee: FeeSetting,
    pub memo: String,
    pub timeout: Duration,
}

impl ChainClient {
    pub fn new(url: &str, chain_id: &str, prefix: &str) -> Result<Self> {
        let http = HttpClient::new(url).map_err(|e| ClientError::Unreachable {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        Ok(ChainClient {
            http,
            url: url.to_string(),
            chain_id: chain_id.to_string(),
            prefix: prefix.to_string(),
        })
    }

    fn unreachable(&self, e: impl ToString) -> ClientError {
        ClientError::Unreachable {
            url: self.url.clone(),
            // tendermint-rpc's errors carry a trace when RUST_BACKTRACE is set: keep the words.
            reason: crate::error::words(e),
        }
    }

    pub async fn status(&self) -> Result<NodeStatus> {
        let status = self.http.status().await.map_err(|e| self.unreachable(e))?;
        Ok(NodeStatus {
            chain_id: status.node_info.network.to_string(),
            height: status.sync_info.latest_block_height.value(),
            block_time: status.sync_info.latest_block_time.to_rfc3339(),
            catching_up: status.sync_info.catching_up,
        })
    }

    /// Refuses to sign for a node that serves another chain than the one configured.
    pub async fn ensure_chain_id(&self) -> Result<()> {
        let actual = self.status().await?.chain_id;
        if actual != self.chain_id {
            return Err(ClientError::WrongChain {
                url: self.url.clone(),
                expected: self.chain_id.clone(),
                actual,
            });
        }
        Ok(())
    }

    async fn abci<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        req: &Req,
    ) -> Result<Resp> {
        let res = self
            .http
            .abci_query(Some(path.to_string()), req.encode_to_vec(), None, false)
            .await
            .map_err(|e| self.unreachable(e))?;
        if res.code.is_err() {
            return Err(ClientError::QueryFailed {
                path: path.to_string(),
                code: res.code.value(),
                log: res.log,
            });
        }
        Resp::decode(res.value.as_slice()).map_err(|e| ClientError::decode(path, e))
    }

    /// (account number, sequence) of `address`.
    pub async fn account(&self, address: &str) -> Result<(u64, u64)> {
        let req = QueryAccountRequest {
            address: address.to_string(),
        };
        let res: QueryAccountResponse =
            match self.abci("/cosmos.auth.v1beta1.Query/Account", &req).await {
                Err(ClientError::QueryFailed { log, .. }) if log.contains("not found") => {
                    return Err(ClientError::AccountNotFound(address.to_string()))
                }
                other => other?,
            };
        let any = res
            .account
            .ok_or_else(|| ClientError::AccountNotFound(address.to_string()))?;
        let base = BaseAccount::decode(any.value.as_slice())
            .map_err(|e| ClientError::decode("account", e))?;
        Ok((base.account_number, base.sequence))
    }

    /// Gas used by `tx_bytes` in a simulation.
    pub async fn simulate(&self, tx_bytes: Vec<u8>) -> Result<u64> {
        #[allow(deprecated)]
        let req = SimulateRequest { tx: None, tx_bytes };
        match self
            .abci::<_, SimulateResponse>("/cosmos.tx.v1beta1.Service/Simulate", &req)
            .await
        {
            Ok(res) => Ok(res.gas_info.map(|g| g.gas_used).unwrap_or_default()),
            Err(ClientError::QueryFailed { log, .. }) => {
                Err(ClientError::SimulationFailed(failure_reason(&log)))
            }
            Err(e) => Err(e),
        }
    }

    /// The `denom` balance of `address`.
    pub async fn balance(&self, address: &str, denom: &str) -> Result<u128> {
        use cosmrs::proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
        let req = QueryBalanceRequest {
            address: address.to_string(),
            denom: denom.to_string(),
        };
        let res: QueryBalanceResponse = self
            .abci("/cosmos.bank.v1beta1.Query/Balance", &req)
            .await?;
        let amount = res.balance.map(|c| c.amount).unwrap_or_default();
        if amount.is_empty() {
            return Ok(0);
        }
        amount
            .parse()
            .map_err(|e| ClientError::decode("bank balance", e))
    }

    /// Code ids pinned in wasmd's cache (first page, enough for a deployment's contracts).
    pub async fn pinned_codes(&self) -> Result<Vec<u64>> {
        use cosmrs::proto::cosmwasm::wasm::v1::{
            QueryPinnedCodesRequest, QueryPinnedCodesResponse,
        };
        let req = QueryPinnedCodesRequest { pagination: None };
        let res: QueryPinnedCodesResponse = self
            .abci("/cosmwasm.wasm.v1.Query/PinnedCodes", &req)
            .await?;
        Ok(res.code_ids)
    }

    /// A contract's smart query, with the contract's own message and response types.
    pub async fn smart<Q: Serialize, R: DeserializeOwned>(
        &self,
        contract: &str,
        msg: &Q,
    ) -> Result<R> {
        let req = QuerySmartContractStateRequest {
            address: contract.to_string(),
            query_data: serde_json::to_vec(msg).expect("query messages serialize"),
        };
        let res: QuerySmartContractStateResponse = match self
            .abci("/cosmwasm.wasm.v1.Query/SmartContractState", &req)
            .await
        {
            Err(ClientError::QueryFailed { log, .. }) => {
                return Err(ClientError::ContractQuery {
                    contract: contract.to_string(),
                    message: contract_message(&log),
                })
            }
            other => other?,
        };
        serde_json::from_slice(&res.data)
            .map_err(|e| ClientError::decode("contract query response", e))
    }

    /// Broadcasts (sync mode: CheckTx) and returns the hash.
    pub async fn broadcast(&self, tx_bytes: Vec<u8>) -> Result<String> {
        let res = self
            .http
            .broadcast_tx_sync(tx_bytes)
            .await
            .map_err(|e| self.unreachable(e))?;
        if res.code.is_err() {
            return Err(ClientError::CheckTxFailed {
                code: res.code.value(),
                codespace: res.codespace,
                log: res.log,
            });
        }
        Ok(res.hash.to_string())
    }

    /// Polls until the transaction is in a block; a failed DeliverTx is an error.
    pub async fn wait_for(&self, hash: &str, timeout: Duration) -> Result<TxOutcome> {
        let parsed = hash
            .parse()
            .map_err(|e| ClientError::decode("tx hash", e))?;
        let start = Instant::now();
        loop {
            if let Ok(res) = self.http.tx(parsed, false).await {
                let r = res.tx_result;
                if r.code.is_err() {
                    return Err(ClientError::DeliverTxFailed {
                        hash: hash.to_string(),
                        height: res.height.value(),
                        code: r.code.value(),
                        codespace: r.codespace,
                        log: r.log,
                    });
                }
                return Ok(TxOutcome {
                    hash: hash.to_string(),
                    height: res.height.value(),
                    gas_wanted: r.gas_wanted as u64,
                    gas_used: r.gas_used as u64,
                    events: from_abci(&r.events),
                });
            }
            if start.elapsed() > timeout {
                return Err(ClientError::InclusionTimeout(
                    hash.to_string(),
                    timeout.as_secs(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Account lookup, `--gas auto` simulation, signing, broadcast and wait. `progress` hears
    /// each step ("simulating", "broadcasting", "waiting for inclusion of HASH").
    pub async fn sign_and_broadcast(
        &self,
        key: &Key,
        msgs: Vec<Any>,
        options: &TxOptions,
        progress: &dyn Fn(&str),
    ) -> Result<TxOutcome> {
        let address = key.address(&self.prefix)?;
        let (account_number, sequence) = self.account(&address).await?;
        let signer = SignerData {
            chain_id: self.chain_id.clone(),
            account_number,
            sequence,
        };
        let simulated = match options.gas {
            GasSetting::Auto { .. } => {
                progress("simulating");
                let probe = sign(
                    key,
                    msgs.clone(),
                    &options.memo,
                    options.fee.fee(0)?,
                    &signer,
                )?;
                Some(self.simulate(probe.tx_bytes).await?)
            }
            GasSetting::Fixed(_) => None,
        };
        let gas_limit = options.gas.limit(simulated);
        let signed = sign(
            key,
            msgs,
            &options.memo,
            options.fee.fee(gas_limit)?,
            &signer,
        )?;
        progress("broadcasting");
        let hash = self.broadcast(signed.tx_bytes).await?;
        progress(&format!("waiting for inclusion of {hash}"));
        self.wait_for(&hash, options.timeout).await
    }

    /// Committed transactions with an event attribute `key` = `value`, e.g.
    /// (`wasm-attestation_received.consent_id`, `3`), oldest first (first 100).
    pub async fn search_txs(&self, key: &str, value: &str) -> Result<Vec<TxOutcome>> {
        // Built, not parsed: the query grammar of tendermint-rpc has no `-` in event types.
        let query = tendermint_rpc::query::Query::eq(key, value);
        let res = self
            .http
            .tx_search(query, false, 1, 100, tendermint_rpc::Order::Ascending)
            .await
            .map_err(|e| self.unreachable(e))?;
        Ok(res
            .txs
            .into_iter()
            .map(|tx| TxOutcome {
                hash: tx.hash.to_string(),
                height: tx.height.value(),
                gas_wanted: tx.tx_result.gas_wanted as u64,
                gas_used: tx.tx_result.gas_used as u64,
                events: from_abci(&tx.tx_result.events),
            })
            .collect())
    }

    /// Raw access for indexers.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_errors_are_reduced_to_the_contracts_words() {
        let sim = "rpc error: code = Unknown desc = failed to execute message; message index: 0: \
            already voted on proposal 3: execute wasm contract failed [keeper.go:452] with gas used: '1': unknown request";
        assert_eq!(failure_reason(sim), "already voted on proposal 3");
        assert_eq!(failure_reason("out of gas"), "out of gas");
        let query = "proposal 999 not found: query wasm contract failed: unknown request";
        assert_eq!(contract_message(query), "proposal 999 not found");
    }
}
