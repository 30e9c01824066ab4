//! The migration rule every HealthMesh contract applies: same contract, same or newer
//! version; then the stored cw2 version is updated.

use cosmwasm_std::{Response, StdError, Storage};
use cw_storage_plus::Item;
use thiserror::Error;

#[derive(Error, Debug, PartialEq)]
pub enum MigrateError {
    #[error("{0}")]
    Std(#[from] StdError),

    #[error("cannot migrate from contract {0}")]
    WrongContract(String),

    #[error("cannot migrate from version {stored} to older version {new}")]
    Downgrade { stored: String, new: String },

    #[error("invalid version {0:?}")]
    InvalidVersion(String),

    #[error("stored state has layout {found:?}, this code needs layout {expected}: it cannot be migrated in place; deploy a new contract")]
    IncompatibleState { found: Option<u16>, expected: u16 },
}

/// The storage layout a contract's state was written in; bumped when a change needs a
/// fresh deployment rather than an in-place migration.
const STATE_LAYOUT: Item<u16> = Item::new("state_layout");

/// Record the layout at instantiate.
pub fn set_state_layout(storage: &mut dyn Storage, layout: u16) -> Result<(), StdError> {
    STATE_LAYOUT.save(storage, &layout)
}

/// Refuse to migrate state written in another layout (state from before layouts were
/// recorded has none).
pub fn require_state_layout(storage: &dyn Storage, expected: u16) -> Result<(), MigrateError> {
    let found = STATE_LAYOUT.may_load(storage)?;
    if found != Some(expected) {
        return Err(MigrateError::IncompatibleState { found, expected });
    }
    Ok(())
}

/// Checks the stored cw2 version against `name`/`version` and records the new version.
/// Returns the version migrated from.
pub fn ensure_upgrade(
    storage: &mut dyn Storage,
    name: &str,
    version: &str,
) -> Result<String, MigrateError> {
    let stored = cw2::get_contract_version(storage)?;
    if stored.contract != name {
        return Err(MigrateError::WrongContract(stored.contract));
    }
    let parse =
        |v: &str| semver::Version::parse(v).map_err(|_| MigrateError::InvalidVersion(v.into()));
    if parse(&stored.version)? > parse(version)? {
        return Err(MigrateError::Downgrade {
            stored: stored.version,
            new: version.into(),
        });
    }
    cw2::set_contract_version(storage, name, version)?;
    Ok(stored.version)
}

/// The whole `migrate` entry point of a HealthMesh contract: [`ensure_upgrade`], then a
/// response naming both versions.
pub fn migrate(
    storage: &mut dyn Storage,
    name: &str,
    version: &str,
) -> Result<Response, MigrateError> {
    let from = ensure_upgrade(storage, name, version)?;
    Ok(Response::new()
        .add_attribute("action", "migrate")
        .add_attribute("from_version", from)
        .add_attribute("to_version", version))
}
