#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    Binary, Deps, DepsMut, Env, Event, IbcMsg, IbcTimeout, MessageInfo, Order, Response, Storage,
};
use healthmesh_controllers::validate;
use healthmesh_proofs::verifier::VerifyingKey;
use healthmesh_proto::attest::v2 as pb;
use healthmesh_types::attestation::{
    AllowedConnection, ConfigResponse, Delivery, DeliveryStatus, ExecuteMsg, InstantiateMsg,
    MigrateMsg, Origin, PredicatePolicy, QueryMsg, DEFAULT_TIMEOUT_SECONDS, MAX_COUNTERPARTIES,
    MAX_TIMEOUT_SECONDS,
};
use healthmesh_types::consent::MAX_ATTRIBUTE_LEN;

use crate::ibc::open_trusted_channel;
use crate::packet::{attestation_packet, encode};
use crate::state::{
    attestations, ADMIN, ALLOWED_CONNECTIONS, CONFIG, CONTRACT_NAME, CONTRACT_VERSION, DELIVERIES,
    HANDSHAKES, PAUSE, POLICIES, SENT_UNDER_CONSENT, STATE_LAYOUT, VERIFYING_KEYS,
};
use crate::submit::{
    assert_consent_not_paused, assert_exportable, load_consent, submit, Submission,
};
use crate::validity::{valid_at, Validity};
use crate::{anchor, policy, queries, revocation, ContractError};

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    nonpayable(&info)?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    healthmesh_controllers::migrate::set_state_layout(deps.storage, STATE_LAYOUT)?;
    let config = ConfigResponse {
        consent: deps.api.addr_validate(&msg.consent)?,
        staking: deps.api.addr_validate(&msg.staking)?,
    };
    CONFIG.save(deps.storage, &config)?;
    ADMIN.initialize_owner(deps.storage, deps.api, Some(&msg.admin))?;
    PAUSE.init(deps.storage, deps.api, &msg.pausers, msg.max_pause_seconds)?;
    let mut response = Response::new().add_attribute("action", "instantiate");
    for allowed in msg.allowed_connections {
        allow_connection(deps.storage, &env.block.chain_id, allowed)?;
    }
    for p in msg.predicate_policies {
        set_policy(deps.storage, &p.attribute, Some(p.policy))?;
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
fn add_verifying_key(storage: &mut dyn Storage, vk: &Binary) -> Result<String, ContractError> {
    let id = hex::encode(VerifyingKey::from_bytes(vk)?.id());
    VERIFYING_KEYS.save(storage, &id, vk)?;
    Ok(id)
}

/// Trust one connection, bound to its counterparty chain and attestation contract port.
fn allow_connection(
    storage: &mut dyn Storage,
    own_chain: &str,
    allowed: AllowedConnection,
) -> Result<(), ContractError> {
    validate::bounded_text("connection_id", &allowed.connection_id, 64)?;
    validate::bounded_text("chain_id", &allowed.chain_id, 64)?;
    // A counterparty named like this chain could tombstone this chain's own consents.
    if allowed.chain_id == own_chain {
        return Err(ContractError::OwnChain(allowed.chain_id));
    }
    validate::bounded_text("counterparty_port", &allowed.counterparty_port, 128)?;
    if !allowed.counterparty_port.starts_with("wasm.") {
        return Err(ContractError::UntrustedCounterparty {
            expected: "wasm.<attestation contract address>".into(),
            got: allowed.counterparty_port,
        });
    }
    let known = ALLOWED_CONNECTIONS.has(storage, &allowed.connection_id);
    let count = ALLOWED_CONNECTIONS
        .keys(storage, None, None, Order::Ascending)
        .take(MAX_COUNTERPARTIES + 1)
        .count();
    if !known && count >= MAX_COUNTERPARTIES {
        return Err(ContractError::TooManyConnections(MAX_COUNTERPARTIES));
    }
    ALLOWED_CONNECTIONS.save(storage, &allowed.connection_id.clone(), &allowed)?;
    Ok(())
}

fn set_policy(
    storage: &mut dyn Storage,
    attribute: &str,
    policy: Option<PredicatePolicy>,
) -> Result<(), ContractError> {
    validate::identifier("attribute", attribute, MAX_ATTRIBUTE_LEN)?;
    match policy {
        Some(policy) => {
            policy::validate(&policy)?;
            POLICIES.save(storage, attribute, &policy)?;
        }
        None => POLICIES.remove(storage, attribute),
    }
    Ok(())
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
        ExecuteMsg::InvalidateAttester { attester } => {
            revocation::invalidate_attester(deps, env, attester)
        }
        msg => admin_execute(deps, env, info, msg),
    }
}

/// Governance's messages (and the pausers' for `Pausable`).
fn admin_execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::Pausable(msg) => {
            let is_admin = ADMIN.is_owner(deps.storage, &info.sender)?;
            return Ok(PAUSE.execute(deps, &env, &info.sender, is_admin, msg)?);
        }
        ExecuteMsg::UpdateOwnership(action) => {
            let ownership = ADMIN.update_ownership(deps, &env.block, &info.sender, action)?;
            return Ok(Response::new()
                .add_attribute("action", "update_ownership")
                .add_attributes(ownership.into_attributes()));
        }
        _ => ADMIN.assert_owner(deps.storage, &info.sender)?,
    }
    let response = match msg {
        ExecuteMsg::SetVerifyingKey { vk } => {
            let id = add_verifying_key(deps.storage, &vk)?;
            Response::new()
                .add_attribute("action", "set_verifying_key")
                .add_attribute("circuit_id", id)
        }
        ExecuteMsg::RemoveVerifyingKey { circuit_id } => {
            if !VERIFYING_KEYS.has(deps.storage, &circuit_id) {
                return Err(ContractError::UnknownCircuit(circuit_id));
            }
            VERIFYING_KEYS.remove(deps.storage, &circuit_id);
            Response::new()
                .add_attribute("action", "remove_verifying_key")
                .add_attribute("circuit_id", circuit_id)
        }
        ExecuteMsg::AllowConnection {
            connection_id,
            chain_id,
            counterparty_port,
        } => {
            let allowed = AllowedConnection {
                connection_id,
                chain_id,
                counterparty_port,
            };
            allow_connection(deps.storage, &env.block.chain_id, allowed.clone())?;
            // Re-allowing is also how governance clears a handshake left hanging.
            HANDSHAKES.remove(deps.storage, &allowed.chain_id);
            Response::new()
                .add_attribute("action", "allow_connection")
                .add_attribute("connection_id", allowed.connection_id)
                .add_attribute("chain_id", allowed.chain_id)
                .add_attribute("counterparty_port", allowed.counterparty_port)
        }
        ExecuteMsg::DisallowConnection { connection_id } => {
            // Its channel stops at once: every send and receive re-checks the binding.
            ALLOWED_CONNECTIONS.remove(deps.storage, &connection_id);
            Response::new()
                .add_attribute("action", "disallow_connection")
                .add_attribute("connection_id", connection_id)
        }
        ExecuteMsg::RemoveAnchor {
            commitment,
            custodian,
        } => anchor::remove(deps, commitment, custodian)?,
        ExecuteMsg::SetPredicatePolicy { attribute, policy } => {
            set_policy(deps.storage, &attribute, policy)?;
            Response::new()
                .add_attribute("action", "set_predicate_policy")
                .add_attribute("attribute", attribute)
        }
        // `execute` routes only the messages above here.
        other => {
            let error = format!("not a governance message: {other:?}");
            return Err(cosmwasm_std::StdError::generic_err(error).into());
        }
    };
    Ok(response)
}

/// Forward a local, currently valid attestation; allowed again after a failure or timeout.
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
    // M-2: the consent is read again now: revoked, expired or height-bound ones stay home.
    let consent_contract = CONFIG.load(deps.storage)?.consent;
    assert_consent_not_paused(deps.as_ref(), &consent_contract)?;
    let record = load_consent(
        deps.as_ref(),
        &consent_contract,
        &attestation.context.consent_id,
    )?;
    assert_exportable(&record.expires)?;
    let status = Validity::new(deps.as_ref(), &env.block).status(&attestation)?;
    if !valid_at(&attestation, &status, env.block.time) {
        return Err(ContractError::AttestationNotValid(id));
    }
    let channel = open_trusted_channel(deps.storage, &channel_id)?;
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
    // Revocation news goes to every chain that was sent something under the consent.
    SENT_UNDER_CONSENT.save(
        deps.storage,
        (&attestation.context.consent_id, &channel.counterparty_chain),
        &(),
    )?;
    let data = encode(pb::packet::Body::Attestation(attestation_packet(
        &attestation,
    )?));
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
                .add_attribute("counterparty_chain", channel.counterparty_chain)
                .add_attribute("attempt", delivery.attempts.to_string()),
        ))
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
