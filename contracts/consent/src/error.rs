use cosmwasm_std::{Addr, StdError};
use cw_ownable::OwnershipError;
use healthmesh_controllers::migrate::MigrateError;
use healthmesh_controllers::pause::PauseError;
use healthmesh_controllers::validate::ValidationError;
use thiserror::Error;

#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    #[error("{0}")]
    Std(#[from] StdError),

    #[error("{0}")]
    Validation(#[from] ValidationError),

    #[error("{0}")]
    Pause(#[from] PauseError),

    #[error("admin: {0}")]
    Ownership(#[from] OwnershipError),

    #[error("consent tokens are non-transferable: {0} is not supported")]
    NonTransferable(&'static str),

    #[error("consent records are never deleted: use revoke_consent")]
    BurnRefused,

    #[error("token id must be a decimal number, got {0:?}")]
    InvalidTokenId(String),

    #[error("consent {0} not found")]
    ConsentNotFound(String),

    #[error("a patient cannot grant consent to themselves")]
    SelfGrant,

    #[error("a patient cannot be the custodian of their own dataset")]
    SelfCustody,

    #[error("expiry {0} is already past")]
    AlreadyExpired(String),

    #[error(
        "only the issuing patient or the admin may revoke consent {token_id}; {sender} is neither"
    )]
    NotIssuer { token_id: String, sender: Addr },

    #[error("consent {0} is already revoked")]
    AlreadyRevoked(String),

    #[error("only the grantee of consent {token_id} may record access; {sender} is not")]
    NotGrantee { token_id: String, sender: Addr },

    #[error("consent {token_id} does not allow this access: {reason}")]
    AccessDenied { token_id: String, reason: String },

    #[error("{0}")]
    Migrate(#[from] MigrateError),

    #[error("funds are not accepted")]
    FundsNotAccepted,

    #[error("{0}")]
    Channel(#[from] healthmesh_controllers::channels::ChannelError),

    #[error("invalid offer: {0}")]
    InvalidOffer(String),

    #[error("offer {0} not found")]
    OfferNotFound(u64),

    #[error("offer {0} has been withdrawn")]
    OfferWithdrawn(u64),

    #[error("only the patient who published offer {offer_id} may withdraw it; {sender} did not")]
    NotOfferPatient { offer_id: u64, sender: Addr },

    #[error("offer {offer_id} does not sell this purchase: {reason}")]
    PurchaseRefused { offer_id: u64, reason: String },

    #[error("offer {0} is sold out")]
    SoldOut(u64),

    #[error("purchase {purchase_id} from {chain} was already served (token {token_id})")]
    DuplicatePurchase {
        chain: String,
        purchase_id: u64,
        token_id: String,
    },

    #[error("malformed settlement packet: {0}")]
    MalformedPacket(String),
}
