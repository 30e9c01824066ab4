//! The pausable mechanism behind the interface of `healthmesh_types::pause`: the pause state
//! and pausers in storage, the checks every state-changing message runs, and the pause lapse.

use cosmwasm_std::{
    Addr, Api, BlockInfo, DepsMut, Env, Event, Response, StdError, Storage, Timestamp,
};
use cw_storage_plus::Item;
use healthmesh_types::pause::{PauseInfo, PauseMsg, PauseStatusResponse};
use thiserror::Error;

use crate::validate::{self, ValidationError};

/// At most this many pausers: a council multisig or two, not a crowd.
pub const MAX_PAUSERS: usize = 8;
/// Longest pause reason stored and emitted.
pub const MAX_REASON_LEN: usize = 256;
/// Default longest pause: 14 days.
pub const DEFAULT_MAX_PAUSE_SECONDS: u64 = 14 * 24 * 3600;

#[derive(Error, Debug, PartialEq)]
pub enum PauseError {
    #[error("{0}")]
    Std(#[from] StdError),

    #[error("{0}")]
    Validation(#[from] ValidationError),

    #[error("contract is paused since {since} by {by} (lapses at {until}): {reason}")]
    Paused {
        by: Addr,
        since: Timestamp,
        until: Timestamp,
        reason: String,
    },

    #[error("only the admin may change pausers")]
    NotAdmin,

    #[error("max pause must be between 1 hour and 365 days, got {0} s")]
    InvalidMaxPause(u64),

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
    max_pause: Item<u64>,
}

impl Pausable {
    pub const fn new(
        pausers_key: &'static str,
        paused_key: &'static str,
        max_pause_key: &'static str,
    ) -> Self {
        Self {
            pausers: Item::new(pausers_key),
            paused: Item::new(paused_key),
            max_pause: Item::new(max_pause_key),
        }
    }

    /// Store the initial pausers and the longest pause (at instantiate).
    pub fn init(
        &self,
        storage: &mut dyn Storage,
        api: &dyn Api,
        pausers: &[String],
        max_pause_seconds: Option<u64>,
    ) -> Result<Vec<Addr>, PauseError> {
        let max = max_pause_seconds.unwrap_or(DEFAULT_MAX_PAUSE_SECONDS);
        if !(3600..=365 * 24 * 3600).contains(&max) {
            return Err(PauseError::InvalidMaxPause(max));
        }
        self.max_pause.save(storage, &max)?;
        self.update_pausers(storage, api, pausers, &[])
    }

    /// The pause in force at `block`, if any (a lapsed pause is none).
    pub fn current(
        &self,
        storage: &dyn Storage,
        block: &BlockInfo,
    ) -> Result<Option<PauseInfo>, StdError> {
        Ok(self
            .paused
            .may_load(storage)?
            .filter(|p| block.time < p.until))
    }

    /// `Ok` unless the contract is paused at `block`.
    pub fn assert_not_paused(
        &self,
        storage: &dyn Storage,
        block: &BlockInfo,
    ) -> Result<(), PauseError> {
        match self.current(storage, block)? {
            None => Ok(()),
            Some(info) => Err(PauseError::Paused {
                by: info.paused_by,
                since: info.since,
                until: info.until,
                reason: info.reason,
            }),
        }
    }

    /// Handle a [`PauseMsg`] and build the response with its event (`contract_paused`,
    /// `contract_unpaused`) — the whole pausable interface of a contract.
    pub fn execute(
        &self,
        deps: DepsMut,
        env: &Env,
        sender: &Addr,
        sender_is_admin: bool,
        msg: PauseMsg,
    ) -> Result<Response, PauseError> {
        let response = match msg {
            PauseMsg::Pause { reason } => {
                let info = self.pause(deps.storage, &env.block, sender, sender_is_admin, reason)?;
                Response::new().add_event(
                    Event::new("contract_paused")
                        .add_attribute("by", sender)
                        .add_attribute("reason", info.reason)
                        .add_attribute("until", info.until.seconds().to_string()),
                )
            }
            PauseMsg::Unpause {} => {
                self.unpause(deps.storage, &env.block, sender, sender_is_admin)?;
                Response::new()
                    .add_event(Event::new("contract_unpaused").add_attribute("by", sender))
            }
            PauseMsg::UpdatePausers { add, remove } => {
                if !sender_is_admin {
                    return Err(PauseError::NotAdmin);
                }
                let pausers = self.update_pausers(deps.storage, deps.api, &add, &remove)?;
                let list: Vec<&str> = pausers.iter().map(Addr::as_str).collect();
                Response::new().add_attribute("pausers", list.join(","))
            }
        };
        Ok(response.add_attribute("action", "pausable"))
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
        if self.current(storage, block)?.is_some() {
            return Err(PauseError::AlreadyPaused);
        }
        let info = PauseInfo {
            paused_by: sender.clone(),
            reason,
            since: block.time,
            since_height: block.height,
            until: block.time.plus_seconds(self.max_pause.load(storage)?),
        };
        self.paused.save(storage, &info)?;
        Ok(info)
    }

    pub fn unpause(
        &self,
        storage: &mut dyn Storage,
        block: &BlockInfo,
        sender: &Addr,
        sender_is_admin: bool,
    ) -> Result<(), PauseError> {
        self.assert_may_pause(storage, sender, sender_is_admin)?;
        if self.current(storage, block)?.is_none() {
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

    pub fn status(
        &self,
        storage: &dyn Storage,
        block: &BlockInfo,
    ) -> Result<PauseStatusResponse, StdError> {
        Ok(PauseStatusResponse {
            paused: self.current(storage, block)?,
            pausers: self.pausers.may_load(storage)?.unwrap_or_default(),
            max_pause_seconds: self
                .max_pause
                .may_load(storage)?
                .unwrap_or(DEFAULT_MAX_PAUSE_SECONDS),
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

    const PAUSE: Pausable = Pausable::new("pausers", "paused", "max_pause");

    #[test]
    fn pauser_pauses_and_admin_unpauses() {
        let api = MockApi::default();
        let mut store = MockStorage::new();
        let council = api.addr_make("council");
        let admin = api.addr_make("admin");
        PAUSE
            .init(&mut store, &api, &[council.to_string()], None)
            .unwrap();
        let block = mock_env().block;

        PAUSE.assert_not_paused(&store, &block).unwrap();
        PAUSE
            .pause(&mut store, &block, &council, false, "incident".into())
            .unwrap();
        assert!(matches!(
            PAUSE.assert_not_paused(&store, &block),
            Err(PauseError::Paused { reason, .. }) if reason == "incident"
        ));
        assert_eq!(
            PAUSE.pause(&mut store, &block, &council, false, "again".into()),
            Err(PauseError::AlreadyPaused)
        );
        PAUSE.unpause(&mut store, &block, &admin, true).unwrap();
        PAUSE.assert_not_paused(&store, &block).unwrap();
        assert_eq!(
            PAUSE.unpause(&mut store, &block, &admin, true),
            Err(PauseError::NotPaused)
        );
    }

    #[test]
    fn strangers_cannot_pause_and_pausers_are_capped() {
        let api = MockApi::default();
        let mut store = MockStorage::new();
        PAUSE.init(&mut store, &api, &[], None).unwrap();
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
        assert!(PAUSE
            .status(&store, &mock_env().block)
            .unwrap()
            .pausers
            .is_empty());
    }

    #[test]
    fn a_pause_lapses_after_max_pause() {
        let api = MockApi::default();
        let mut store = MockStorage::new();
        let council = api.addr_make("council");
        PAUSE
            .init(&mut store, &api, &[council.to_string()], Some(7200))
            .unwrap();
        let mut block = mock_env().block;
        PAUSE
            .pause(&mut store, &block, &council, false, "x".into())
            .unwrap();
        block.time = block.time.plus_seconds(7199);
        assert!(PAUSE.assert_not_paused(&store, &block).is_err());
        block.time = block.time.plus_seconds(1);
        PAUSE.assert_not_paused(&store, &block).unwrap();
        assert_eq!(PAUSE.status(&store, &block).unwrap().paused, None);
        // A lapsed pause cannot be "unpaused", but a new pause is a new decision.
        assert_eq!(
            PAUSE.unpause(&mut store, &block, &council, false),
            Err(PauseError::NotPaused)
        );
        PAUSE
            .pause(&mut store, &block, &council, false, "again".into())
            .unwrap();
        assert_eq!(
            PAUSE.init(&mut store, &api, &[], Some(60)),
            Err(PauseError::InvalidMaxPause(60))
        );
    }
}
