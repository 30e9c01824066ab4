//! The pausable interface every HealthMesh contract exposes. Governance (the contract admin)
//! and a short list of pausers (the security council) can pause; both can unpause, so a
//! pause never outlives the admin's ability to lift it. While paused, a contract refuses its
//! state-changing messages with [`PauseError::Paused`].

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Api, BlockInfo, StdError, Storage, Timestamp};
use cw_storage_plus::Item;
use thiserror::Error;

use crate::validate::{self, ValidationError};

/// At most this many pausers: a council multisig or two, not a crowd.
pub const MAX_PAUSERS: usize = 8;
/// Longest pause reason stored and emitted.
pub const MAX_REASON_LEN: usize = 256;

/// The pause messages, nested in each contract's `ExecuteMsg::Pausable`, so governance can
/// build them once for any HealthMesh contract: `{"pausable":{"pause":{"reason":"…"}}}`.
#[cw_serde]
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
pub enum PausableExecuteMsg {
    Pausable(PauseMsg),
}

#[cw_serde]
pub struct PauseInfo {
    pub paused_by: Addr,
    pub reason: String,
    pub since: Timestamp,
    pub since_height: u64,
}

#[cw_serde]
pub struct PauseStatusResponse {
    /// `None` while the contract runs normally.
    pub paused: Option<PauseInfo>,
    pub pausers: Vec<Addr>,
}

#[derive(Error, Debug, PartialEq)]
pub enum PauseError {
    #[error("{0}")]
    Std(#[from] StdError),

    #[error("{0}")]
    Validation(#[from] ValidationError),

    #[error("contract is paused since {since} by {by}: {reason}")]
    Paused {
        by: Addr,
        since: Timestamp,
        reason: String,
    },

    #[error("contract is already paused")]
    AlreadyPaused,

    #[error("contract is not paused")]
    NotPaused,

    #[error("{0} is neither the admin nor a pauser")]
    NotPauser(Addr),

    #[error("at most {max} pausers are allowed, the update would leave {len}")]
    TooManyPausers { max: usize, len: usize },
}

/// Storage of the pause state and the pausers; a contract declares one as a `const`.
pub struct Pausable {
    pausers: Item<Vec<Addr>>,
    paused: Item<PauseInfo>,
}

impl Pausable {
    pub const fn new(pausers_key: &'static str, paused_key: &'static str) -> Self {
        Self {
            pausers: Item::new(pausers_key),
            paused: Item::new(paused_key),
        }
    }

    /// Store the initial pausers (at instantiate).
    pub fn init(
        &self,
        storage: &mut dyn Storage,
        api: &dyn Api,
        pausers: &[String],
    ) -> Result<Vec<Addr>, PauseError> {
        self.update_pausers(storage, api, pausers, &[])
    }

    /// `Ok` unless the contract is paused.
    pub fn assert_not_paused(&self, storage: &dyn Storage) -> Result<(), PauseError> {
        match self.paused.may_load(storage)? {
            None => Ok(()),
            Some(info) => Err(PauseError::Paused {
                by: info.paused_by,
                since: info.since,
                reason: info.reason,
            }),
        }
    }

    pub fn pause(
        &self,
        storage: &mut dyn Storage,
        block: &BlockInfo,
        sender: &Addr,
        sender_is_admin: bool,
        reason: String,
    ) -> Result<PauseInfo, PauseError> {
        self.assert_may_pause(storage, sender, sender_is_admin)?;
        validate::bounded_text("reason", &reason, MAX_REASON_LEN)?;
        if self.paused.exists(storage) {
            return Err(PauseError::AlreadyPaused);
        }
        let info = PauseInfo {
            paused_by: sender.clone(),
            reason,
            since: block.time,
            since_height: block.height,
        };
        self.paused.save(storage, &info)?;
        Ok(info)
    }

    pub fn unpause(
        &self,
        storage: &mut dyn Storage,
        sender: &Addr,
        sender_is_admin: bool,
    ) -> Result<(), PauseError> {
        self.assert_may_pause(storage, sender, sender_is_admin)?;
        if !self.paused.exists(storage) {
            return Err(PauseError::NotPaused);
        }
        self.paused.remove(storage);
        Ok(())
    }

    /// Add and remove pausers; the caller checks that the sender is the admin.
    pub fn update_pausers(
        &self,
        storage: &mut dyn Storage,
        api: &dyn Api,
        add: &[String],
        remove: &[String],
    ) -> Result<Vec<Addr>, PauseError> {
        let mut pausers = self.pausers.may_load(storage)?.unwrap_or_default();
        for addr in remove {
            let addr = api.addr_validate(addr)?;
            pausers.retain(|p| *p != addr);
        }
        for addr in add {
            let addr = api.addr_validate(addr)?;
            if !pausers.contains(&addr) {
                pausers.push(addr);
            }
        }
        if pausers.len() > MAX_PAUSERS {
            return Err(PauseError::TooManyPausers {
                max: MAX_PAUSERS,
                len: pausers.len(),
            });
        }
        self.pausers.save(storage, &pausers)?;
        Ok(pausers)
    }

    pub fn status(&self, storage: &dyn Storage) -> Result<PauseStatusResponse, StdError> {
        Ok(PauseStatusResponse {
            paused: self.paused.may_load(storage)?,
            pausers: self.pausers.may_load(storage)?.unwrap_or_default(),
        })
    }

    fn assert_may_pause(
        &self,
        storage: &dyn Storage,
        sender: &Addr,
        sender_is_admin: bool,
    ) -> Result<(), PauseError> {
        let is_pauser = self
            .pausers
            .may_load(storage)?
            .is_some_and(|p| p.contains(sender));
        if sender_is_admin || is_pauser {
            Ok(())
        } else {
            Err(PauseError::NotPauser(sender.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::{mock_env, MockApi, MockStorage};

    const PAUSE: Pausable = Pausable::new("pausers", "paused");

    #[test]
    fn pauser_pauses_and_admin_unpauses() {
        let api = MockApi::default();
        let mut store = MockStorage::new();
        let council = api.addr_make("council");
        let admin = api.addr_make("admin");
        PAUSE
            .init(&mut store, &api, &[council.to_string()])
            .unwrap();
        let block = mock_env().block;

        PAUSE.assert_not_paused(&store).unwrap();
        PAUSE
            .pause(&mut store, &block, &council, false, "incident".into())
            .unwrap();
        assert!(matches!(
            PAUSE.assert_not_paused(&store),
            Err(PauseError::Paused { reason, .. }) if reason == "incident"
        ));
        assert_eq!(
            PAUSE.pause(&mut store, &block, &council, false, "again".into()),
            Err(PauseError::AlreadyPaused)
        );
        PAUSE.unpause(&mut store, &admin, true).unwrap();
        PAUSE.assert_not_paused(&store).unwrap();
        assert_eq!(
            PAUSE.unpause(&mut store, &admin, true),
            Err(PauseError::NotPaused)
        );
    }

    #[test]
    fn strangers_cannot_pause_and_pausers_are_capped() {
        let api = MockApi::default();
        let mut store = MockStorage::new();
        PAUSE.init(&mut store, &api, &[]).unwrap();
        let mallory = api.addr_make("mallory");
        assert_eq!(
            PAUSE.pause(&mut store, &mock_env().block, &mallory, false, "x".into()),
            Err(PauseError::NotPauser(mallory.clone()))
        );
        let many: Vec<String> = (0..=MAX_PAUSERS)
            .map(|i| api.addr_make(&format!("p{i}")).to_string())
            .collect();
        assert!(matches!(
            PAUSE.update_pausers(&mut store, &api, &many, &[]),
            Err(PauseError::TooManyPausers { .. })
        ));
        assert!(PAUSE.status(&store).unwrap().pausers.is_empty());
    }
}
