//! hmesh's transaction building and signing against a vector produced by `wasmd tx sign`
//! (see the fixture's `_comment`): same bytes, and a signature that verifies.

use base64::prelude::{Engine, BASE64_STANDARD};
use cosmrs::proto::cosmos::tx::v1beta1::TxRaw;
use cosmrs::proto::prost::Message;
use healthmesh_client::fees::FeeSetting;
use healthmesh_client::tx::{execute_contract, parse_address, sign, verify, SignerData};
use healthmesh_client::Key;
use healthmesh_types::consent::ExecuteMsg;
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/wasmd_signed_execute.json")).unwrap()
}

fn b64(v: &Value) -> Vec<u8> {
    BASE64_STANDARD.decode(v.as_str().unwrap()).unwrap()
}

fn signed_by_hmesh(fx: &Value, sequence: u64) -> healthmesh_client::tx::SignedTx {
    let key = Key::from_mnemonic("fixture", fx["mnemonic"].as_str().unwrap()).unwrap();
    let sender = parse_address(fx["sender"].as_str().unwrap(), "wasm").unwrap();
    let contract = parse_address(fx["contract"].as_str().unwrap(), "wasm").unwrap();
    // The contract's own message type, not hand-written JSON.
    let msg: ExecuteMsg = serde_json::from_value(fx["msg"].clone()).unwrap();
    let any = execute_contract(&sender, &contract, &msg, vec![]).unwrap();
    let fee = FeeSetting::parse_fees(fx["fees"].as_str().unwrap())
        .unwrap()
        .fee(fx["gas_limit"].as_u64().unwrap())
        .unwrap();
    let signer = SignerData {
        chain_id: fx["chain_id"].as_str().unwrap().into(),
        account_number: fx["account_number"].as_u64().unwrap(),
        sequence,
    };
    sign(&key, vec![any], fx["memo"].as_str().unwrap(), fee, &signer).unwrap()
}

#[test]
fn tx_bytes_match_wasmd_tx_sign() {
    let fx = fixture();
    let ours = signed_by_hmesh(&fx, fx["sequence"].as_u64().unwrap());
    let theirs = b64(&fx["tx_base64"]);
    assert_eq!(ours.tx_bytes, theirs, "tx bytes differ from wasmd's");
    let raw = TxRaw::decode(theirs.as_slice()).unwrap();
    assert_eq!(raw.signatures[0], b64(&fx["signature_base64"]));
}

#[test]
fn sign_bytes_are_the_direct_sign_doc_of_wasmds_tx() {
    let fx = fixture();
    let ours = signed_by_hmesh(&fx, fx["sequence"].as_u64().unwrap());
    let raw = TxRaw::decode(b64(&fx["tx_base64"]).as_slice()).unwrap();
    let doc = cosmrs::proto::cosmos::tx::v1beta1::SignDoc {
        body_bytes: raw.body_bytes,
        auth_info_bytes: raw.auth_info_bytes,
        chain_id: fx["chain_id"].as_str().unwrap().into(),
        account_number: fx["account_number"].as_u64().unwrap(),
    };
    assert_eq!(ours.sign_bytes, doc.encode_to_vec());
}

#[test]
fn signature_verifies_with_the_public_key_and_fails_on_tampering() {
    let fx = fixture();
    let pk = b64(&fx["public_key_base64"]);
    let account = fx["account_number"].as_u64().unwrap();
    let ours = signed_by_hmesh(&fx, 4);
    verify(&ours.tx_bytes, &pk, "genomics-1", account).unwrap();
    // The signature commits to chain id and account number…
    assert!(verify(&ours.tx_bytes, &pk, "trials-1", account).is_err());
    assert!(verify(&ours.tx_bytes, &pk, "genomics-1", account + 1).is_err());
    // …and to every body byte.
    let mut raw = TxRaw::decode(ours.tx_bytes.as_slice()).unwrap();
    let last = raw.body_bytes.len() - 1;
    raw.body_bytes[last] ^= 1;
    assert!(verify(&raw.encode_to_vec(), &pk, "genomics-1", account).is_err());
    // Another key does not verify it.
    let other = Key::from_mnemonic("o", &healthmesh_client::keys::generate_mnemonic()).unwrap();
    assert!(verify(
        &ours.tx_bytes,
        &other.public_key().to_bytes(),
        "genomics-1",
        account
    )
    .is_err());
}

#[test]
fn addresses_of_another_chain_or_malformed_are_refused() {
    let err = parse_address("cosmos1r5v5srda7xfth3hn2s26txvrcrntldjumt8mhl", "wasm").unwrap_err();
    assert!(
        err.to_string().contains("expected the 'wasm' prefix"),
        "{err}"
    );
    assert!(parse_address("wasm1notbech32", "wasm").is_err());
}
