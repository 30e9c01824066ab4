use thiserror::Error;

/// Everything that can go wrong between a tool and a chain, phrased for the person at the
/// terminal: what failed and, where it helps, what to do.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{what} is not valid JSON: {source}")]
    Json {
        what: String,
        source: serde_json::Error,
    },
    #[error("unknown chain '{0}' (the deployment has: {1})")]
    UnknownChain(String, String),
    #[error("invalid address '{address}': {reason}")]
    InvalidAddress { address: String, reason: String },
    #[error("key '{0}' not found in {1}")]
    KeyNotFound(String, String),
    #[error("key '{0}' already exists (delete it first)")]
    KeyExists(String),
    #[error("invalid key name '{0}': use letters, digits, '-' and '_'")]
    InvalidKeyName(String),
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(String),
    #[error("wrong passphrase for key '{0}' (or the keystore file is damaged)")]
    WrongPassphrase(String),
    #[error("keystore: {0}")]
    Keystore(String),
    #[error("invalid fee or gas setting '{0}': {1}")]
    InvalidFee(String, String),
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("account {0} does not exist on chain yet (fund it first)")]
    AccountNotFound(String),
    #[error("query {path} failed (code {code}): {log}")]
    QueryFailed {
        path: String,
        code: u32,
        log: String,
    },
    #[error("contract {contract} refused the query: {message}")]
    ContractQuery { contract: String, message: String },
    #[error("simulation failed: {0}")]
    SimulationFailed(String),
    #[error("transaction rejected before inclusion (code {code}, codespace '{codespace}'): {log}")]
    CheckTxFailed {
        code: u32,
        codespace: String,
        log: String,
    },
    #[error("transaction {hash} failed at height {height} (code {code}, codespace '{codespace}'): {log}")]
    DeliverTxFailed {
        hash: String,
        height: u64,
        code: u32,
        codespace: String,
        log: String,
    },
    #[error("transaction {0} was not included within {1} s")]
    InclusionTimeout(String, u64),
    #[error("chain id mismatch: node {url} serves '{actual}', expected '{expected}'")]
    WrongChain {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("cannot decode {what}: {reason}")]
    Decode { what: String, reason: String },
    #[error("signing failed: {0}")]
    Signing(String),
}

pub type Result<T> = std::result::Result<T, ClientError>;

impl ClientError {
    pub(crate) fn decode(what: &str, reason: impl ToString) -> Self {
        ClientError::Decode {
            what: what.to_string(),
            reason: words(reason),
        }
    }
}

/// An error's message without the trace tendermint-rpc's errors carry when RUST_BACKTRACE
/// is set.
pub(crate) fn words(e: impl ToString) -> String {
    let text = e.to_string();
    text.split("\nLocation:")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}
