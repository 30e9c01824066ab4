pub mod attest;
pub mod billing;
pub mod chain;
pub mod consent;
pub mod dao;
pub mod keys;
pub mod research;
pub mod stake;
pub mod trials;

use anyhow::{Context as _, Result};

/// Reads a file named on the command line, naming it in the error.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Parses hex (with or without 0x) given for `what`.
pub fn parse_hex(what: &str, text: &str) -> Result<cosmwasm_std::HexBinary> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    hex::decode(digits)
        .map(Into::into)
        .with_context(|| format!("{what} must be hex, got '{text}'"))
}
