#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{Binary, Coin, Deps, DepsMut, Env, MessageInfo, Order, Response, Storage};
use healthmesh_controllers::validate;
use healthmesh_proofs::verifier::{PairingKey, VerifyingKey};
use healthmesh_types::attestation::{
    AllowedConnection, ConfigResponse, ExecuteMsg, InstantiateMsg, MigrateMsg, PredicatePolicy,
    QueryMsg, MAX_COUNTERPARTIES,
};
use healthmesh_types::consent::MAX_ATTRIBUTE_LEN;

use crate::send::{self, Outgoing};
use crate::state::{
    ADMIN, ALLOWED_CONNECTIONS, CONFIG, CONTRACT_NAME, CONTRACT_VERSION, HANDSHAKES, PAIRING_KEYS,
    PAUSE, POLICIES, STATE_LAYOUT, VERIFYING_KEYS,
};
use crate::submit::{submit, submit_batch, Submission};
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
        urgent_fee: validate_urgent_fee(msg.urgent_fee)?,
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

/// An urgent fee is a positive amount of a denom (bounded text).
fn validate_urgent_fee(fee: Option<Coin>) -> Result<Option<Coin>, ContractError> {
    if let Some(c) = &fee {
        validate::bounded_text("urgent_fee.denom", &c.denom, 128)?;
        if c.amount.is_zero() || c.denom.is_empty() {
            return Err(ContractError::InvalidRelayerFee(c.to_string()));
        }
    }
    Ok(fee)
}

fn nonpayable(info: &MessageInfo) -> Result<(), ContractError> {
    cw_utils::nonpayable(info).map_err(|_| ContractError::FundsNotAccepted)
}

/// Store a verifying key under its id (hex SHA-256 of the encoding), after decoding (and so
/// checking) it, with its prepared form for verification.
fn add_verifying_key(storage: &mut dyn Storage, vk: &Binary) -> Result<String, ContractError> {
    let key = VerifyingKey::from_bytes(vk)?;
    let id = hex::encode(key.id());
    VERIFYING_KEYS.save(storage, &id, vk)?;
    PAIRING_KEYS.save(storage, &id, &PairingKey::new(&key).to_bytes().into())?;
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
    // Sends carry the packet's relayer fee; nothing else takes funds.
    match msg {
        ExecuteMsg::SendAttestation {
            attestation_id,
            channel_id,
            timeout_seconds,
        } => {
            let packet = Outgoing {
                ids: vec![attestation_id],
                channel_id,
                timeout_seconds,
                batch: false,
            };
            return send::send(deps, env, info, packet);
        }
        ExecuteMsg::SendAttestations {
            attestation_ids,
            channel_id,
            timeout_seconds,
        } => {
            let packet = Outgoing {
                ids: attestation_ids,
                channel_id,
                timeout_seconds,
                batch: true,
            };
            return send::send(deps, env, info, packet);
        }
        _ => nonpayable(&info)?,
    }
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
        ExecuteMsg::SubmitAttestations {
            circuit_id,
            attestations,
        } => submit_batch(deps, env, info, circuit_id, attestations),
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
            PAIRING_KEYS.remove(deps.storage, &circuit_id);
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
        ExecuteMsg::SetUrgentFee { fee } => {
            let fee = validate_urgent_fee(fee)?;
            let mut config = CONFIG.load(deps.storage)?;
            config.urgent_fee = fee.clone();
            CONFIG.save(deps.storage, &config)?;
            Response::new()
                .add_attribute("action", "set_urgent_fee")
                .add_attribute("urgent_fee", fee.map_or("none".into(), |c| c.to_string()))
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
