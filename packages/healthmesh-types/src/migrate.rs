//! The migration rule every HealthMesh contract applies: same contract, same or newer
//! version; then the stored cw2 version is updated.

use cosmwasm_std::{Response, StdError, Storage};
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
