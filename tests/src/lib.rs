//! Cross-contract and cross-chain flows (`tests/tests/*.rs`): governance driving staking and
//! consent, and the attestation IBC app between three chains over the relay harness. A single
//! contract's tests live in that contract's crate; shared fixtures in `healthmesh-testing`.
