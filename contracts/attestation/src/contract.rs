#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{Binary, Deps, DepsMut, Env, Event, IbcMsg, IbcTimeout, MessageInfo, Response};
use healthmesh_proofs::verifier::VerifyingKey;
use healthmesh_types::attestation::{
    AttestationStatus, ChannelState, ConfigResponse, Delivery, DeliveryStatus, ExecuteMsg,
    InstantiateMsg, MigrateMsg, Origin, QueryMsg, DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS,
};
use healthmesh_types::validate;

use crate::packet::{attestation_packet, encode};
use crate::state::{
    attestations, ADMIN, ALLOWED_CONNECTIONS, CHANNELS, CONFIG, CONTRACT_NAME, CONTRACT_VERSION,
    DELIVERIES, PAUSE, VERIFYING_KEYS,
};
use crate::submit::{submit, Submission};
use crate::{anchor, queries, revocation, ContractError};

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    let config = ConfigResponse {
        consent: deps.api.addr_validate(&msg.consent)?,
        staking: deps.api.addr_validate(&msg.staking)?,
    };
    CONFIG.save(deps.storage, &config)?;
    ADMIN.initialize_owner(deps.storage, deps.api, Some(&msg.admin))?;
    PAUSE.init(deps.storage, deps.api, &msg.pausers, msg.max_pause_seconds)?;
    let mut response = Response::new().add_attribute("action", "instantiate");
    for allowed in msg.allowed_connections {
        validate::bounded_text("connection_id", &allowed.connection_id, 64)?;
        validate::bounded_text("chain_id", &allowed.chain_id, 64)?;
        ALLOWED_CONNECTIONS.save(deps.storage, &allowed.connection_id, &allowed.chain_id)?;
    }
    for vk in msg.verifying_keys {
        response = response.add_attribute("circuit_id", add_verifying_key(deps.storage, &vk)?);
    }
    Ok(response)
}

fn nonpayable(info: &MessageInfo) -> Result<(), ContractError> {
    cw_utils::nonpayable(info).map_err(|_| ContractError::FundsNotAccepted)
}

/// Store a verifying key under its id (hex SHA-256 of the encoding), after decoding it.
fn add_verifying_key(
    storage: &mut dyn cosmwasm_std::Storage,
    vk: &Binary,
) -> Result<String, ContractError> {
    let id = hex::encode(VerifyingKey::from_bytes(vk)?.id());
    VERIFYING_KEYS.save(storage, &id, vk)?;
    Ok(id)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    match msg {
        ExecuteMsg::Anchor {
            commitment,
            attribute,
            dataset,
            patient,
        } => anchor::anchor(deps, env, info, commitment, attribute, dataset, patient),
        ExecuteMsg::SubmitAttestation {
            circuit_id,
            attribute,
            predicate,
            commitment,
            consent_token_id,
            proof,
            expires_at,
        } => {
            let submission = Submission {
                circuit_id,
                attribute,
                predicate,
                commitment,
                consent_token_id,
                proof,
                expires_at,
            };
            submit(deps, env, info, submission)
        }
        ExecuteMsg::SendAttestation {
            attestation_id,
            channel_id,
            timeout_seconds,
        } => send(deps, env, attestation_id, channel_id, timeout_seconds),
        ExecuteMsg::PropagateRevocation { consent_token_id } => {
            revocation::propagate(deps, env, consent_token_id)
        }
        ExecuteMsg::SetVerifyingKey { vk } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            let id = add_verifying_key(deps.storage, &vk)?;
            Ok(Response::new()
                .add_attribute("action", "set_verifying_key")
                .add_attribute("circuit_id", id))
        }
        ExecuteMsg::RemoveVerifyingKey { circuit_id } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            if !VERIFYING_KEYS.has(deps.storage, &circuit_id) {
                return Err(ContractError::UnknownCircuit(circuit_id));
            }
            VERIFYING_KEYS.remove(deps.storage, &circuit_id);
            Ok(Response::new()
                .add_attribute("action", "remove_verifying_key")
                .add_attribute("circuit_id", circuit_id))
        }
        ExecuteMsg::AllowConnection {
            connection_id,
            chain_id,
        } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            validate::bounded_text("connection_id", &connection_id, 64)?;
            validate::bounded_text("chain_id", &chain_id, 64)?;
            ALLOWED_CONNECTIONS.save(deps.storage, &connection_id, &chain_id)?;
            Ok(Response::new()
                .add_attribute("action", "allow_connection")
                .add_attribute("connection_id", connection_id)
                .add_attribute("chain_id", chain_id))
        }
        ExecuteMsg::DisallowConnection { connection_id } => {
            ADMIN.assert_owner(deps.storage, &info.sender)?;
            ALLOWED_CONNECTIONS.remove(deps.storage, &connection_id);
            Ok(Response::new()
                .add_attribute("action", "disallow_connection")
                .add_attribute("connection_id", connection_id))
        }
        ExecuteMsg::Pausable(msg) => {
            let is_admin = ADMIN.is_owner(deps.storage, &info.sender)?;
            Ok(PAUSE.execute(deps, &env, &info.sender, is_admin, msg)?)
        }
        ExecuteMsg::UpdateOwnership(action) => {
            let ownership = ADMIN.update_ownership(deps, &env.block, &info.sender, action)?;
            Ok(Response::new()
                .add_attribute("action", "update_ownership")
                .add_attributes(ownership.into_attributes()))
        }
    }
}

/// Forward a local attestation; allowed again after a failure or timeout.
fn send(
    deps: DepsMut,
    env: Env,
    id: u64,
    channel_id: String,
    timeout_seconds: Option<u64>,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let timeout = timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    if timeout == 0 || timeout > MAX_TIMEOUT_SECONDS {
        return Err(ContractError::InvalidTimeout {
            max: MAX_TIMEOUT_SECONDS,
            got: timeout,
        });
    }
    let attestation = attestations()
        .may_load(deps.storage, id)?
        .ok_or(ContractError::AttestationNotFound(id))?;
    if !matches!(attestation.origin, Origin::Local { .. }) {
        return Err(ContractError::NotLocal);
    }
    let expired = attestation.expires_at.is_some_and(|t| t <= env.block.time);
    if attestation.status != AttestationStatus::Valid || expired {
        return Err(ContractError::AttestationNotValid(id));
    }
    let open = CHANNELS
        .may_load(deps.storage, &channel_id)?
        .is_some_and(|c| c.state == ChannelState::Open);
    if !open {
        return Err(ContractError::ChannelNotOpen(channel_id));
    }
    let previous = DELIVERIES.may_load(deps.storage, (id, &channel_id))?;
    if let Some(d) = previous.as_ref().filter(|d| {
        matches!(
            d.status,
            DeliveryStatus::Pending | DeliveryStatus::Delivered { .. }
        )
    }) {
        return Err(ContractError::AlreadySent {
            id,
            channel: channel_id,
            state: format!("{:?}", d.status),
        });
    }
    let delivery = Delivery {
        channel_id: channel_id.clone(),
        status: DeliveryStatus::Pending,
        attempts: previous.map_or(1, |d| d.attempts + 1),
        updated_at: env.block.time,
    };
    DELIVERIES.save(deps.storage, (id, &channel_id), &delivery)?;
    let data = encode(healthmesh_proto::attest::v1::packet::Body::Attestation(
        attestation_packet(&attestation)?,
    ));
    Ok(Response::new()
        .add_attribute("action", "send_attestation")
        .add_message(IbcMsg::SendPacket {
            channel_id: channel_id.clone(),
            data,
            timeout: IbcTimeout::with_timestamp(env.block.time.plus_seconds(timeout)),
        })
        .add_event(
            Event::new("attestation_sent")
                .add_attribute("attestation_id", id.to_string())
                .add_attribute("channel_id", channel_id)
                .add_attribute("attempt", delivery.attempts.to_string()),
        ))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    queries::dispatch(deps, env, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    Ok(healthmesh_types::migrate::migrate(
        deps.storage,
        CONTRACT_NAME,
        CONTRACT_VERSION,
    )?)
}
