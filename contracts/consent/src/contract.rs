#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    Addr, Binary, Deps, DepsMut, Env, Event, HexBinary, MessageInfo, Response, Storage,
};
use cw721::state::CollectionInfo;
use cw_utils::Expiration;
use healthmesh_controllers::channels::{allowed_response, disallowed_response};
use healthmesh_controllers::validate;
use healthmesh_types::consent::{
    ConsentRecord, ConsentStatus, ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg,
    MAX_ATTRIBUTE_LEN, MAX_NOTE_LEN, MAX_PURPOSE_LEN, MAX_SCOPE,
};
use healthmesh_types::events;

use crate::access::evaluate;
use crate::offers::{self, OfferTerms};
use crate::state::{
    consents, load_consent, next_token_id, ADMIN, COLLECTION, CONTRACT_NAME, CONTRACT_VERSION,
    CUSTODIANS, PAUSE, SETTLEMENT, STATE_LAYOUT,
};
use crate::{queries, ContractError};

const MAX_COLLECTION_TEXT: usize = 128;

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info).map_err(|_| ContractError::FundsNotAccepted)?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    healthmesh_controllers::migrate::set_state_layout(deps.storage, STATE_LAYOUT)?;
    for (field, text) in [("name", &msg.name), ("symbol", &msg.symbol)] {
        validate::bounded_text(field, text, MAX_COLLECTION_TEXT)?;
    }
    COLLECTION.save(
        deps.storage,
        &CollectionInfo {
            name: msg.name,
            symbol: msg.symbol,
            updated_at: env.block.time,
        },
    )?;
    let admin = ADMIN.initialize_owner(deps.storage, deps.api, Some(&msg.admin))?;
    let pausers = PAUSE.init(deps.storage, deps.api, &msg.pausers, msg.max_pause_seconds)?;
    for allowed in &msg.settlement_connections {
        SETTLEMENT.allow(deps.storage, allowed)?;
    }
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("admin", admin.owner.map(String::from).unwrap_or_default())
        .add_attribute("pausers", join(&pausers)))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info).map_err(|_| ContractError::FundsNotAccepted)?;
    match msg {
        ExecuteMsg::GrantConsent {
            grantee,
            dataset,
            purpose,
            scope,
            expires,
        } => {
            let grant = Grant {
                grantee,
                dataset,
                purpose,
                scope,
                expires,
            };
            execute_grant(deps, env, info, grant)
        }
        ExecuteMsg::DesignateCustodian { dataset, custodian } => {
            execute_designate(deps, env, info, dataset, custodian)
        }
        ExecuteMsg::RevokeConsent { token_id, reason } => {
            execute_revoke(deps, env, info, token_id, reason)
        }
        ExecuteMsg::RecordAccess {
            token_id,
            attribute,
            reference,
        } => execute_record_access(deps, env, info, token_id, attribute, reference),
        ExecuteMsg::PublishOffer {
            dataset,
            purposes,
            scope,
            max_duration_seconds,
            price,
            payout,
            buyers,
            max_sales,
        } => {
            let terms = OfferTerms {
                dataset,
                purposes,
                scope,
                max_duration_seconds,
                price,
                payout,
                buyers,
                max_sales,
            };
            offers::publish(deps, env, info, terms)
        }
        ExecuteMsg::WithdrawOffer { offer_id } => offers::withdraw(deps, env, info, offer_id),
        ExecuteMsg::AllowSettlement(allowed) => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            SETTLEMENT.allow(deps.storage, &allowed)?;
            Ok(allowed_response("allow_settlement", allowed))
        }
        ExecuteMsg::DisallowSettlement { connection_id } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            SETTLEMENT.disallow(deps.storage, &connection_id);
            Ok(disallowed_response("disallow_settlement", connection_id))
        }
        ExecuteMsg::Pausable(msg) => {
            let is_admin = ADMIN.is_owner(deps.storage, &info.sender)?;
            Ok(PAUSE.execute(deps, &env, &info.sender, is_admin, msg)?)
        }
        ExecuteMsg::UpdateCreatorOwnership(action) => {
            let ownership = ADMIN.update_ownership(deps, &env.block, &info.sender, action)?;
            Ok(Response::new()
                .add_attribute("action", "update_creator_ownership")
                .add_attributes(ownership.into_attributes()))
        }
        ExecuteMsg::TransferNft { .. } => Err(ContractError::NonTransferable("transfer_nft")),
        ExecuteMsg::SendNft { .. } => Err(ContractError::NonTransferable("send_nft")),
        ExecuteMsg::Approve { .. } => Err(ContractError::NonTransferable("approve")),
        ExecuteMsg::Revoke { .. } => Err(ContractError::NonTransferable("revoke (approval)")),
        ExecuteMsg::ApproveAll { .. } => Err(ContractError::NonTransferable("approve_all")),
        ExecuteMsg::RevokeAll { .. } => Err(ContractError::NonTransferable("revoke_all")),
        ExecuteMsg::Burn { .. } => Err(ContractError::BurnRefused),
    }
}

/// The fields of a `GrantConsent` message.
struct Grant {
    grantee: String,
    dataset: HexBinary,
    purpose: String,
    scope: Vec<String>,
    expires: Expiration,
}

fn execute_grant(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    grant: Grant,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let grantee = deps.api.addr_validate(&grant.grantee)?;
    if grantee == info.sender {
        return Err(ContractError::SelfGrant);
    }
    validate::commitment("dataset", &grant.dataset)?;
    validate::identifier("purpose", &grant.purpose, MAX_PURPOSE_LEN)?;
    validate::identifier_set("scope", &grant.scope, MAX_SCOPE, MAX_ATTRIBUTE_LEN)?;
    if grant.expires.is_expired(&env.block) {
        return Err(ContractError::AlreadyExpired(grant.expires.to_string()));
    }

    let record = ConsentRecord {
        patient: info.sender,
        grantee,
        dataset: grant.dataset,
        purpose: grant.purpose,
        scope: grant.scope,
        issued_at: env.block.time,
        issued_height: env.block.height,
        expires: grant.expires,
        status: ConsentStatus::Active,
        uses: 0,
        last_used_at: None,
    };
    let (token_id, event) = mint(deps.storage, &record)?;
    // cw721 indexers recognise a mint by these attributes.
    Ok(Response::new()
        .add_attribute("action", "mint")
        .add_attribute("token_id", &token_id)
        .add_attribute("minter", &record.patient)
        .add_attribute("owner", &record.grantee)
        .add_event(event))
}

/// Store a new consent record: its token id and `consent_granted` event.
pub(crate) fn mint(
    storage: &mut dyn Storage,
    record: &ConsentRecord,
) -> Result<(String, Event), ContractError> {
    let id = next_token_id(storage)?;
    consents().save(storage, id, record)?;
    let token_id = id.to_string();
    let event = consent_event(events::CONSENT_GRANTED, &token_id, record)
        .add_attribute("scope", record.scope.join(","))
        .add_attribute("expires", record.expires.to_string());
    Ok((token_id, event))
}

fn execute_revoke(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    token_id: String,
    reason: Option<String>,
) -> Result<Response, ContractError> {
    // No pause check: a patient can always withdraw consent, whatever else is stopped.
    if let Some(reason) = &reason {
        validate::bounded_text("reason", reason, MAX_NOTE_LEN)?;
    }
    let (id, mut record) = load_consent(deps.storage, &token_id)?;
    let is_admin = ADMIN.is_owner(deps.storage, &info.sender)?;
    if info.sender != record.patient && !is_admin {
        return Err(ContractError::NotIssuer {
            token_id,
            sender: info.sender,
        });
    }
    if let ConsentStatus::Revoked { .. } = record.status {
        return Err(ContractError::AlreadyRevoked(token_id));
    }
    record.status = ConsentStatus::Revoked {
        at: env.block.time,
        height: env.block.height,
        by: info.sender.clone(),
        reason: reason.clone(),
    };
    consents().save(deps.storage, id, &record)?;

    let event = consent_event(events::CONSENT_REVOKED, &token_id, &record)
        .add_attribute("revoked_by", &info.sender)
        .add_attribute("reason", reason.unwrap_or_default());
    Ok(Response::new()
        .add_attribute("action", "revoke_consent")
        .add_attribute("token_id", &token_id)
        .add_event(event))
}

/// The patient binds a dataset to the custodian that holds it (or, with `None`, unbinds it;
/// unbinding is never paused, like revocation).
fn execute_designate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    dataset: HexBinary,
    custodian: Option<String>,
) -> Result<Response, ContractError> {
    validate::commitment("dataset", &dataset)?;
    let key = (&info.sender, dataset.as_slice());
    let event = Event::new(events::CUSTODIAN_DESIGNATED)
        .add_attribute("patient", &info.sender)
        .add_attribute("dataset", dataset.to_hex());
    let event = match custodian {
        Some(custodian) => {
            PAUSE.assert_not_paused(deps.storage, &env.block)?;
            let custodian = deps.api.addr_validate(&custodian)?;
            if custodian == info.sender {
                return Err(ContractError::SelfCustody);
            }
            CUSTODIANS.save(deps.storage, key, &custodian)?;
            event.add_attribute("custodian", custodian)
        }
        None => {
            CUSTODIANS.remove(deps.storage, key);
            event.add_attribute("custodian", "")
        }
    };
    Ok(Response::new()
        .add_attribute("action", "designate_custodian")
        .add_event(event))
}

fn execute_record_access(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    token_id: String,
    attribute: String,
    reference: Option<String>,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    validate::identifier("attribute", &attribute, MAX_ATTRIBUTE_LEN)?;
    if let Some(reference) = &reference {
        validate::bounded_text("reference", reference, MAX_NOTE_LEN)?;
    }
    let (id, mut record) = load_consent(deps.storage, &token_id)?;
    if info.sender != record.grantee {
        return Err(ContractError::NotGrantee {
            token_id,
            sender: info.sender,
        });
    }
    let purpose = record.purpose.clone();
    if let Err(reason) = evaluate(&record, &env.block, &purpose, &attribute) {
        return Err(ContractError::AccessDenied {
            token_id,
            reason: format!("{reason:?}"),
        });
    }
    record.uses += 1;
    record.last_used_at = Some(env.block.time);
    consents().save(deps.storage, id, &record)?;

    let event = consent_event(events::CONSENT_USED, &token_id, &record)
        .add_attribute("attribute", attribute)
        .add_attribute("reference", reference.unwrap_or_default())
        .add_attribute("use_count", record.uses.to_string());
    Ok(Response::new()
        .add_attribute("action", "record_access")
        .add_attribute("token_id", &token_id)
        .add_event(event))
}

/// The attributes every consent event carries, under stable names (see README).
pub(crate) fn consent_event(kind: &str, token_id: &str, record: &ConsentRecord) -> Event {
    Event::new(kind)
        .add_attribute("token_id", token_id)
        .add_attribute("patient", &record.patient)
        .add_attribute("grantee", &record.grantee)
        .add_attribute("dataset", record.dataset.to_hex())
        .add_attribute("purpose", &record.purpose)
}

fn join(addrs: &[Addr]) -> String {
    addrs.iter().map(Addr::as_str).collect::<Vec<_>>().join(",")
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    queries::dispatch(deps, env, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    let response =
        healthmesh_controllers::migrate::migrate(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    // Any failure reverts the whole migration, the cw2 update included.
    healthmesh_controllers::migrate::require_state_layout(deps.storage, STATE_LAYOUT)?;
    Ok(response)
}
