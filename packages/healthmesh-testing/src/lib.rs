//! Shared fixtures for the cw-multi-test tests: each contract's own tests (in its crate)
//! and the cross-contract and cross-chain flows in `tests/`.

pub mod consent;
pub mod dao;
pub mod gov_net;
pub mod ibc_harness;
pub mod settle;
pub mod trial_pay;

use anyhow::Error as AnyError;
use cosmwasm_std::Record;
use cw_multi_test::App;

/// The contract error behind a failed multi-test call; panics (failing the test) if the
/// failure was of another type, e.g. a JSON parse error before the contract ran.
pub fn contract_error<E>(err: AnyError) -> E
where
    E: std::fmt::Display + std::fmt::Debug + Send + Sync + 'static,
{
    match err.downcast::<E>() {
        Ok(e) => e,
        Err(other) => panic!(
            "expected a {} error, got: {other:?}",
            std::any::type_name::<E>()
        ),
    }
}

/// The whole raw storage of a contract, to assert that a refused message changed nothing.
pub fn storage_snapshot(app: &App, contract: &cosmwasm_std::Addr) -> Vec<Record> {
    app.dump_wasm_raw(contract)
}
