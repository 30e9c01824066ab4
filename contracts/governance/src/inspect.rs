//! Reading a proposal's messages before they run: what they ask of this DAO, and whom they
//! slash. Only `wasm` executions can be read, so a contract call wrapped in `Any` (or the
//! older `Stargate`) is refused: nothing reaches a contract unread.

use cosmwasm_std::{from_json, Addr, Api, Binary, CanonicalAddr, CosmosMsg, WasmMsg};
use healthmesh_types::governance::ExecuteMsg;
use healthmesh_types::staking::ExecuteMsg as StakingMsg;

use crate::ContractError;

/// Encoded messages this DAO cannot read through: wasmd's contract call (what
/// `WasmMsg::Execute` becomes, but opaque once encoded) and authz's `MsgExec`, which could
/// wrap a call to this DAO granted by itself.
const OPAQUE_CALLS: [&str; 2] = [
    "/cosmwasm.wasm.v1.MsgExecuteContract",
    "/cosmos.authz.v1beta1.MsgExec",
];

/// A raw IBC message other than a token transfer: a proposal could otherwise send packets
/// from this DAO's port, which the other chains' governance would take for its own.
fn raw_ibc(msg: &CosmosMsg) -> bool {
    matches!(msg, CosmosMsg::Ibc(ibc) if !matches!(ibc, cosmwasm_std::IbcMsg::Transfer { .. }))
}

/// The contract and JSON message of a `wasm` execute.
fn wasm_execute(msg: &CosmosMsg) -> Option<(&str, &Binary)> {
    match msg {
        CosmosMsg::Wasm(WasmMsg::Execute {
            contract_addr, msg, ..
        }) => Some((contract_addr, msg)),
        _ => None,
    }
}

/// The type URL of a protobuf-encoded message.
#[allow(deprecated)] // `Stargate` still reaches the chain as `Any` does.
fn type_url(msg: &CosmosMsg) -> Option<&str> {
    match msg {
        CosmosMsg::Any(any) => Some(&any.type_url),
        CosmosMsg::Stargate { type_url, .. } => Some(type_url),
        _ => None,
    }
}

/// What `msg` asks of this DAO, if it executes this DAO. Addresses are compared in canonical
/// form: the chain also accepts an upper-case bech32 address for the same contract. A message
/// that does not parse here would not parse in this DAO either.
fn self_call(api: &dyn Api, dao: &CanonicalAddr, msg: &CosmosMsg) -> Option<ExecuteMsg> {
    let (contract, json) = wasm_execute(msg)?;
    let target = api.addr_canonicalize(contract).ok()?;
    if target != *dao {
        return None;
    }
    from_json(json).ok()
}

/// Refuse what a proposal must not carry: the internal `ExecuteProposalMsgs` (it would run
/// an executed proposal's messages again), a contract call this DAO cannot read, and a
/// council change bundled with other messages (a council change cannot be vetoed, which
/// must not shelter anything else).
pub fn check_msgs(api: &dyn Api, dao: &Addr, msgs: &[CosmosMsg]) -> Result<(), ContractError> {
    let dao = api.addr_canonicalize(dao.as_str())?;
    let mut council_changes = 0;
    for (index, msg) in msgs.iter().enumerate() {
        if let Some(type_url) = type_url(msg).filter(|url| OPAQUE_CALLS.contains(url)) {
            return Err(ContractError::OpaqueContractCall {
                index,
                type_url: type_url.to_string(),
            });
        }
        if raw_ibc(msg) {
            return Err(ContractError::RawIbcMsg { index });
        }
        match self_call(api, &dao, msg) {
            // Running another proposal (or internal message) from inside one: its messages
            // would run again, or outside their own proposal's record.
            Some(
                ExecuteMsg::ExecuteProposalMsgs { .. }
                | ExecuteMsg::Execute { .. }
                | ExecuteMsg::ExecuteRemoteMsgs { .. }
                | ExecuteMsg::ApplyNetworkPause { .. },
            ) => return Err(ContractError::NestedExecution { index }),
            Some(ExecuteMsg::UpdateCouncil { .. }) => council_changes += 1,
            Some(ExecuteMsg::SendRemote { msgs, .. }) => {
                crate::network::check_remote_count(&msgs)?;
                // What the other chain would refuse anyway, refused before the vote.
                if let Some(inner) = msgs
                    .iter()
                    .position(|m| type_url(m).is_some() || raw_ibc(m))
                {
                    return Err(ContractError::RemoteMsgRefused {
                        index: inner,
                        reason: "an encoded or raw IBC message (use a wasm message)".into(),
                    });
                }
            }
            _ => {}
        }
    }
    if council_changes > 0 && council_changes < msgs.len() {
        return Err(ContractError::CouncilChangeNotAlone);
    }
    Ok(())
}

/// Does the proposal change the council?
pub fn changes_council(api: &dyn Api, dao: &Addr, msgs: &[CosmosMsg]) -> bool {
    let Ok(dao) = api.addr_canonicalize(dao.as_str()) else {
        return false;
    };
    msgs.iter().any(|msg| {
        matches!(
            self_call(api, &dao, msg),
            Some(ExecuteMsg::UpdateCouncil { .. })
        )
    })
}

/// The attesters the proposal slashes, once each. Any contract call that parses as a staking
/// `Slash` counts, whichever contract it goes to; an attester that is not a valid address
/// is left out (the staking contract refuses it too).
pub fn slash_targets(api: &dyn Api, msgs: &[CosmosMsg]) -> Vec<Addr> {
    let mut targets: Vec<Addr> = vec![];
    for (_, json) in msgs.iter().filter_map(wasm_execute) {
        let Ok(StakingMsg::Slash { attester, .. }) = from_json(json) else {
            continue;
        };
        if let Ok(attester) = api.addr_validate(&attester) {
            if !targets.contains(&attester) {
                targets.push(attester);
            }
        }
    }
    targets
}

/// The messages of the `SendRemote`s among `msgs` (to run on other chains).
pub fn remote_msgs(api: &dyn Api, dao: &Addr, msgs: &[CosmosMsg]) -> Vec<CosmosMsg> {
    let Ok(dao) = api.addr_canonicalize(dao.as_str()) else {
        return vec![];
    };
    msgs.iter()
        .filter_map(|msg| match self_call(api, &dao, msg) {
            Some(ExecuteMsg::SendRemote { msgs, .. }) => Some(msgs),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Refuse what another chain's proposal must not run here: anything a local proposal may not
/// carry, a council change and a change of network trust or pause targets (each chain's own
/// DAO decides those), any network message (a remote execution does not start further ones
/// without a vote), and any encoded or raw IBC message.
pub fn check_remote_msgs(
    api: &dyn Api,
    dao: &Addr,
    msgs: &[CosmosMsg],
) -> Result<(), ContractError> {
    let canonical = api.addr_canonicalize(dao.as_str())?;
    for (index, msg) in msgs.iter().enumerate() {
        if type_url(msg).is_some() || raw_ibc(msg) {
            return Err(ContractError::RemoteMsgRefused {
                index,
                reason: "an encoded or raw IBC message (use a wasm message)".into(),
            });
        }
        if matches!(
            msg,
            CosmosMsg::Wasm(
                WasmMsg::Migrate { .. } | WasmMsg::UpdateAdmin { .. } | WasmMsg::ClearAdmin { .. }
            )
        ) {
            return Err(ContractError::RemoteMsgRefused {
                index,
                reason: "a contract migration or admin change".into(),
            });
        }
        let refused = match self_call(api, &canonical, msg) {
            Some(ExecuteMsg::UpdateCouncil { .. }) => "a council change",
            Some(
                ExecuteMsg::AllowConnection { .. }
                | ExecuteMsg::DisallowConnection { .. }
                | ExecuteMsg::SetPauseTargets { .. },
            ) => "a change of this chain's network trust or pause targets",
            // Who votes here, and how, is this chain's own DAO's decision: a remote one could
            // otherwise make itself this DAO and then change the council.
            Some(
                ExecuteMsg::IssueMembership { .. }
                | ExecuteMsg::RevokeMembership { .. }
                | ExecuteMsg::UpdateConfig { .. },
            ) => "a change of this DAO's members or configuration",
            Some(ExecuteMsg::SendRemote { .. } | ExecuteMsg::NetworkPropose { .. }) => {
                "a network message"
            }
            Some(
                ExecuteMsg::ExecuteProposalMsgs { .. }
                | ExecuteMsg::ExecuteRemoteMsgs { .. }
                | ExecuteMsg::ApplyNetworkPause { .. },
            ) => "an internal message",
            _ => continue,
        };
        return Err(ContractError::RemoteMsgRefused {
            index,
            reason: refused.into(),
        });
    }
    check_msgs(api, dao, msgs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockApi;
    use cosmwasm_std::{to_json_binary, AnyMsg, IbcMsg, IbcTimeout, Timestamp};

    fn to_dao(dao: &Addr, msg: &ExecuteMsg) -> CosmosMsg {
        WasmMsg::Execute {
            contract_addr: dao.to_string(),
            msg: to_json_binary(msg).unwrap(),
            funds: vec![],
        }
        .into()
    }

    fn packet() -> CosmosMsg {
        CosmosMsg::Ibc(IbcMsg::SendPacket {
            channel_id: "channel-0".into(),
            data: b"{}".into(),
            timeout: IbcTimeout::with_timestamp(Timestamp::from_seconds(1)),
        })
    }

    #[test]
    fn proposals_refuse_raw_packets_authz_and_nested_execution() {
        let api = MockApi::default();
        let dao = api.addr_make("dao");
        let authz = CosmosMsg::Any(AnyMsg {
            type_url: "/cosmos.authz.v1beta1.MsgExec".into(),
            value: b"".into(),
        });
        assert_eq!(
            check_msgs(&api, &dao, &[packet()]),
            Err(ContractError::RawIbcMsg { index: 0 })
        );
        assert!(matches!(
            check_msgs(&api, &dao, &[authz]),
            Err(ContractError::OpaqueContractCall { index: 0, .. })
        ));
        let execute = to_dao(&dao, &ExecuteMsg::Execute { proposal_id: 1 });
        assert_eq!(
            check_msgs(&api, &dao, &[execute]),
            Err(ContractError::NestedExecution { index: 0 })
        );
        // A raw packet inside a remote execution is refused before the vote.
        let remote = to_dao(
            &dao,
            &ExecuteMsg::SendRemote {
                chain_id: "trials-1".into(),
                msgs: vec![packet()],
            },
        );
        assert!(matches!(
            check_msgs(&api, &dao, &[remote]),
            Err(ContractError::RemoteMsgRefused { index: 0, .. })
        ));
        // A token transfer is an ordinary treasury message.
        let transfer = CosmosMsg::Ibc(IbcMsg::Transfer {
            channel_id: "channel-0".into(),
            to_address: "x".into(),
            amount: cosmwasm_std::coin(1, "ustake"),
            timeout: IbcTimeout::with_timestamp(Timestamp::from_seconds(1)),
            memo: None,
        });
        assert_eq!(check_msgs(&api, &dao, &[transfer]), Ok(()));
    }

    #[test]
    fn remote_messages_cannot_change_council_trust_or_start_network_messages() {
        let api = MockApi::default();
        let dao = api.addr_make("dao");
        let refused = [
            ExecuteMsg::UpdateCouncil {
                council: healthmesh_types::governance::CouncilConfig {
                    members: vec![],
                    threshold: 1,
                },
            },
            ExecuteMsg::AllowConnection {
                connection_id: "connection-9".into(),
                chain_id: "x-1".into(),
                counterparty_port: "wasm.x".into(),
            },
            ExecuteMsg::SetPauseTargets { contracts: vec![] },
            ExecuteMsg::SendRemote {
                chain_id: "x-1".into(),
                msgs: vec![],
            },
            ExecuteMsg::ApplyNetworkPause {
                pause: false,
                reason: "".into(),
            },
        ];
        for msg in refused {
            let msgs = [to_dao(&dao, &msg)];
            assert!(
                matches!(
                    check_remote_msgs(&api, &dao, &msgs),
                    Err(ContractError::RemoteMsgRefused { index: 0, .. })
                ),
                "{msg:?}"
            );
        }
        for msg in [
            to_dao(
                &dao,
                &ExecuteMsg::IssueMembership {
                    address: api.addr_make("m").to_string(),
                },
            ),
            CosmosMsg::Wasm(WasmMsg::Migrate {
                contract_addr: api.addr_make("staking").to_string(),
                new_code_id: 9,
                msg: b"{}".into(),
            }),
        ] {
            assert!(matches!(
                check_remote_msgs(&api, &dao, &[msg]),
                Err(ContractError::RemoteMsgRefused { index: 0, .. })
            ));
        }
        // An ordinary call to another contract runs.
        let pause = WasmMsg::Execute {
            contract_addr: api.addr_make("consent").to_string(),
            msg: b"{}".into(),
            funds: vec![],
        };
        assert_eq!(check_remote_msgs(&api, &dao, &[pause.into()]), Ok(()));
    }
}
