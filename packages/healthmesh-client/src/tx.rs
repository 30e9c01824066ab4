//! Transaction building and SIGN_MODE_DIRECT signing with cosmrs, and the inverse check a
//! verifier runs: decode the bytes, rebuild the sign doc, verify the signature with the
//! signer's public key.

use cosmrs::cosmwasm::MsgExecuteContract;
use cosmrs::crypto::secp256k1::VerifyingKey;
use cosmrs::proto::cosmos::tx::v1beta1::{SignDoc as ProtoSignDoc, TxRaw};
use cosmrs::tx::{Body, Fee, Msg, SignDoc, SignerInfo};
use cosmrs::{AccountId, Any, Coin};
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
