//! The pausable interface every HealthMesh contract exposes. Governance (the contract admin)
//! and a short list of pausers (the security council) can pause; both can unpause. A pause
//! also lapses by itself after the contract's `max_pause` (set at instantiate), so no pause —
//! even one whose unpauser is gone — locks the contract or its funds forever; pausing again
//! after it lapses takes a new decision. While paused, a contract refuses its
//! state-changing messages with `PauseError::Paused` (the mechanism is
//! `healthmesh_controllers::pause::Pausable`).

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Timestamp};

/// The pause messages, nested in each contract's `ExecuteMsg::Pausable`, so governance can
/// build them once for any HealthMesh contract: `{"pausable":{"pause":{"reason":"…"}}}`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum PauseMsg {
    /// Refuse state-changing messages until unpaused. Admin or pauser.
    Pause { reason: String },
    /// Lift the pause. Admin or pauser.
    Unpause {},
    /// Change who may pause. Admin only.
    UpdatePausers {
        add: Vec<String>,
        remove: Vec<String>,
    },
}

/// A wrapper with the same JSON shape as a contract's `ExecuteMsg::Pausable`, for callers
/// (governance, CLI) that pause a contract without depending on its full message type.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum PausableExecuteMsg {
    Pausable(PauseMsg),
}

/// The query every pausable contract answers with the same JSON (`{"pause_status":{}}`), for
/// callers that read any contract's pause without its full query type.
#[cw_serde]
pub enum PausableQueryMsg {
    PauseStatus {},
}

#[cw_serde]
pub struct PauseInfo {
    pub paused_by: Addr,
    pub reason: String,
    pub since: Timestamp,
    pub since_height: u64,
    /// The pause lapses at this time unless lifted earlier.
    pub until: Timestamp,
}

#[cw_serde]
pub struct PauseStatusResponse {
    /// `None` while the contract runs normally (or the last pause lapsed).
    pub paused: Option<PauseInfo>,
    pub pausers: Vec<Addr>,
    pub max_pause_seconds: u64,
}
