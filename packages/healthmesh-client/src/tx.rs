//! Transaction building and SIGN_MODE_DIRECT signing with cosmrs, and the inverse check a
//! verifier runs: decode the bytes, rebuild the sign doc, verify the signature with the
//! signer's public key.

use cosmrs::cosmwasm::MsgExecuteContract;
use cosmrs::crypto::secp256k1::VerifyingKey;
use cosmrs::proto::cosmos::tx::v1beta1::{SignDoc as ProtoSignDoc, TxRaw};
use cosmrs::tx::{Body, Fee, Msg, SignDoc, SignerInfo};
pub use cosmrs::{AccountId, Any, Coin};
use serde::Serialize;

use crate::error::{ClientError, Result};
use crate::keys::Key;

/// The account data a signature commits to, besides the transaction itself.
#[derive(Debug, Clone)]
pub struct SignerData {
    pub chain_id: String,
    pub account_number: u64,
    pub sequence: u64,
}

/// A signed transaction: the bytes to broadcast and the bytes that were signed.
pub struct SignedTx {
    pub tx_bytes: Vec<u8>,
    pub sign_bytes: Vec<u8>,
}

pub fn parse_address(address: &str, prefix: &str) -> Result<AccountId> {
    let invalid = |reason: String| ClientError::InvalidAddress {
        address: address.to_string(),
        reason,
    };
    let id: AccountId = address
        .parse()
        .map_err(|e: cosmrs::ErrorReport| invalid(e.to_string()))?;
    if id.prefix() != prefix {
        return Err(invalid(format!(
            "expected the '{prefix}' prefix of this chain"
        )));
    }
    Ok(id)
}

/// A `MsgExecuteContract` carrying a contract's own message type as JSON.
pub fn execute_contract<M: Serialize>(
    sender: &AccountId,
    contract: &AccountId,
    msg: &M,
    funds: Vec<Coin>,
) -> Result<Any> {
    MsgExecuteContract {
        sender: sender.clone(),
        contract: contract.clone(),
        msg: serde_json::to_vec(msg).expect("contract messages serialize"),
        funds,
    }
    .to_any()
    .map_err(|e| ClientError::Signing(e.to_string()))
}

/// Builds and signs a transaction; deterministic (RFC 6979) for the same inputs.
pub fn sign(
    key: &Key,
    msgs: Vec<Any>,
    memo: &str,
    fee: Fee,
    signer: &SignerData,
) -> Result<SignedTx> {
    let err = |e: cosmrs::ErrorReport| ClientError::Signing(e.to_string());
    let body = Body::new(msgs, memo, 0u32);
    let auth_info =
        SignerInfo::single_direct(Some(key.public_key()), signer.sequence).auth_info(fee);
    let chain_id: cosmrs::tendermint::chain::Id = signer
        .chain_id
        .parse()
        .map_err(|e: cosmrs::tendermint::Error| ClientError::Signing(e.to_string()))?;
    let doc = SignDoc::new(&body, &auth_info, &chain_id, signer.account_number).map_err(err)?;
    let sign_bytes = doc.clone().into_bytes().map_err(err)?;
    let raw = doc.sign(&key.signing_key).map_err(err)?;
    Ok(SignedTx {
        tx_bytes: raw.to_bytes().map_err(err)?,
        sign_bytes,
    })
}

/// Verifies the single signature of `tx_bytes` against `public_key` (33-byte compressed).
pub fn verify(
    tx_bytes: &[u8],
    public_key: &[u8],
    chain_id: &str,
    account_number: u64,
) -> Result<()> {
    use cosmrs::proto::prost::Message;
    let raw = TxRaw::decode(tx_bytes).map_err(|e| ClientError::decode("tx bytes", e))?;
    let doc = ProtoSignDoc {
        body_bytes: raw.body_bytes,
        auth_info_bytes: raw.auth_info_bytes,
        chain_id: chain_id.to_string(),
        account_number,
    };
    let [signature] = raw.signatures.as_slice() else {
        return Err(ClientError::decode("tx signatures", "expected exactly one"));
    };
    let signature = cosmrs::crypto::secp256k1::Signature::from_slice(signature)
        .map_err(|e| ClientError::decode("signature", e))?;
    let key = VerifyingKey::from_sec1_bytes(public_key)
        .map_err(|e| ClientError::decode("public key", e))?;
    use k256::ecdsa::signature::Verifier;
    key.verify(&doc.encode_to_vec(), &signature)
        .map_err(|_| ClientError::Signing("signature does not verify".into()))
}

fn to_any<M: cosmrs::tx::Msg>(msg: M) -> Result<Any> {
    msg.to_any()
        .map_err(|e| ClientError::Signing(e.to_string()))
}

fn contract_json<M: Serialize>(msg: &M) -> Vec<u8> {
    serde_json::to_vec(msg).expect("contract messages serialize")
}

/// A `MsgStoreCode` uploading a contract's wasm bytes.
pub fn store_code(sender: &AccountId, wasm: Vec<u8>) -> Result<Any> {
    to_any(cosmrs::cosmwasm::MsgStoreCode {
        sender: sender.clone(),
        wasm_byte_code: wasm,
        instantiate_permission: None,
    })
}

/// A bank `MsgSend` (e.g. funding a fresh account so it exists on chain).
pub fn bank_send(from: &AccountId, to: &AccountId, amount: Vec<Coin>) -> Result<Any> {
    to_any(cosmrs::bank::MsgSend {
        from_address: from.clone(),
        to_address: to.clone(),
        amount,
    })
}

/// What every instantiation names besides its message.
pub struct Instantiation<'a> {
    pub code_id: u64,
    pub label: &'a str,
    /// The contract's admin (may migrate it); `None` makes it immutable.
    pub admin: Option<&'a AccountId>,
}

/// A `MsgInstantiateContract` carrying a contract's own `InstantiateMsg`.
pub fn instantiate<M: Serialize>(sender: &AccountId, at: &Instantiation, msg: &M) -> Result<Any> {
    to_any(cosmrs::cosmwasm::MsgInstantiateContract {
        sender: sender.clone(),
        admin: at.admin.cloned(),
        code_id: at.code_id,
        label: Some(at.label.to_string()),
        msg: contract_json(msg),
        funds: vec![],
    })
}

/// A `MsgInstantiateContract2`: the address follows from (code checksum, sender, salt) only,
/// so it can be known before the contract exists (see [`instantiate2_address`]).
pub fn instantiate2<M: Serialize>(
    sender: &AccountId,
    at: &Instantiation,
    msg: &M,
    salt: &[u8],
) -> Result<Any> {
    use cosmrs::proto::cosmwasm::wasm::v1::MsgInstantiateContract2;
    use cosmrs::proto::prost::Message;
    let proto = MsgInstantiateContract2 {
        sender: sender.to_string(),
        admin: at.admin.map(ToString::to_string).unwrap_or_default(),
        code_id: at.code_id,
        label: at.label.to_string(),
        msg: contract_json(msg),
        funds: vec![],
        salt: salt.to_vec(),
        fix_msg: false,
    };
    Ok(Any {
        type_url: "/cosmwasm.wasm.v1.MsgInstantiateContract2".into(),
        value: proto.encode_to_vec(),
    })
}

/// The address `instantiate2` gives a contract of code `checksum` instantiated by `creator`
/// with `salt` (wasmd's predictable-address rule, as implemented by cosmwasm-std).
pub fn instantiate2_address(checksum: &[u8], creator: &AccountId, salt: &[u8]) -> Result<String> {
    let canonical = cosmwasm_std::CanonicalAddr::from(creator.to_bytes());
    let address = cosmwasm_std::instantiate2_address(checksum, &canonical, salt)
        .map_err(|e| ClientError::Signing(format!("instantiate2 address: {e}")))?;
    AccountId::new(creator.prefix(), address.as_slice())
        .map(|id| id.to_string())
        .map_err(|e| ClientError::Signing(e.to_string()))
}

/// `amount` of `denom` as a transaction coin.
pub fn coin(amount: u128, denom: &str) -> Result<Coin> {
    let denom = denom
        .parse()
        .map_err(|e: cosmrs::ErrorReport| ClientError::InvalidFee(denom.into(), e.to_string()))?;
    Ok(Coin { denom, amount })
}

/// The address of the x/gov module account, the authority of `MsgPinCodes`.
pub fn gov_module_address(prefix: &str) -> Result<AccountId> {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(b"gov");
    AccountId::new(prefix, &hash[..20]).map_err(|e| ClientError::Signing(e.to_string()))
}

/// A gov v1 proposal (by `proposer`, with `deposit`) to pin `code_ids` in wasmd's cache:
/// a pinned contract loads for ≈ 2k gas instead of 60k, on every execute and every query
/// another contract makes of it.
pub fn propose_pin_codes(proposer: &AccountId, code_ids: Vec<u64>, deposit: Coin) -> Result<Any> {
    use cosmrs::proto::cosmos::gov::v1::MsgSubmitProposal;
    use cosmrs::proto::cosmwasm::wasm::v1::MsgPinCodes;
    use cosmrs::proto::prost::Message;
    let pin = MsgPinCodes {
        authority: gov_module_address(proposer.prefix())?.to_string(),
        code_ids,
    };
    let proposal = MsgSubmitProposal {
        messages: vec![Any {
            type_url: "/cosmwasm.wasm.v1.MsgPinCodes".into(),
            value: pin.encode_to_vec(),
        }],
        initial_deposit: vec![deposit.into()],
        proposer: proposer.to_string(),
        metadata: String::new(),
        title: "Pin the HealthMesh contracts".into(),
        summary: "Keep the HealthMesh contracts in wasmd's in-memory cache.".into(),
        expedited: false,
    };
    Ok(Any {
        type_url: "/cosmos.gov.v1.MsgSubmitProposal".into(),
        value: proposal.encode_to_vec(),
    })
}

/// A gov v1 `yes` vote by `voter` on proposal `proposal_id`.
pub fn vote_yes(voter: &AccountId, proposal_id: u64) -> Any {
    use cosmrs::proto::cosmos::gov::v1::{MsgVote, VoteOption};
    use cosmrs::proto::prost::Message;
    let vote = MsgVote {
        proposal_id,
        voter: voter.to_string(),
        option: VoteOption::Yes as i32,
        metadata: String::new(),
    };
    Any {
        type_url: "/cosmos.gov.v1.MsgVote".into(),
        value: vote.encode_to_vec(),
    }
}

#[cfg(test)]
mod instantiate2_tests {
    use super::*;

    #[test]
    fn predicted_address_depends_on_checksum_creator_and_salt() {
        let creator = AccountId::new("wasm", &[7u8; 20]).unwrap();
        let other = AccountId::new("wasm", &[8u8; 20]).unwrap();
        let checksum = [1u8; 32];
        let a = instantiate2_address(&checksum, &creator, b"salt").unwrap();
        assert!(a.starts_with("wasm1") && a.len() == 63, "{a}");
        assert_eq!(
            a,
            instantiate2_address(&checksum, &creator, b"salt").unwrap()
        );
        assert_ne!(a, instantiate2_address(&checksum, &other, b"salt").unwrap());
        assert_ne!(
            a,
            instantiate2_address(&[2u8; 32], &creator, b"salt").unwrap()
        );
        assert_ne!(
            a,
            instantiate2_address(&checksum, &creator, b"salz").unwrap()
        );
    }

    #[test]
    fn instantiate2_message_carries_the_salt_and_the_json() {
        use cosmrs::proto::cosmwasm::wasm::v1::MsgInstantiateContract2;
        use cosmrs::proto::prost::Message;
        let creator = AccountId::new("wasm", &[7u8; 20]).unwrap();
        let at = Instantiation {
            code_id: 4,
            label: "l",
            admin: Some(&creator),
        };
        let any = instantiate2(&creator, &at, &serde_json::json!({"a": 1}), b"s").unwrap();
        assert_eq!(any.type_url, "/cosmwasm.wasm.v1.MsgInstantiateContract2");
        let back = MsgInstantiateContract2::decode(any.value.as_slice()).unwrap();
        assert_eq!((back.code_id, back.salt.as_slice()), (4, &b"s"[..]));
        assert_eq!(back.msg, br#"{"a":1}"#);
        assert_eq!(back.admin, creator.to_string());
    }
}
