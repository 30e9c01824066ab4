//! Request signing: every call carries the researcher's secp256k1 public key, a timestamp, a
//! nonce and a signature in its metadata.
//!
//! ```text
//! payload   = "healthmesh-research-v1\n" + METHOD + "\n" + hex(SHA-256(REQUEST)) + "\n"
//!             + TIMESTAMP_MS + "\n" + NONCE
//! signature = ECDSA-secp256k1(SHA-256(payload)), 64 bytes r‖s, low-s
//! metadata  x-hm-pubkey     base64 of the 33-byte compressed public key
//!           x-hm-timestamp  unix milliseconds, decimal
//!           x-hm-nonce      16–64 characters [0-9a-zA-Z_-], unique per request
//!           x-hm-signature  base64 of the signature
//! ```
//!
//! METHOD is the gRPC path (`/healthmesh.research.v1.ResearchService/CountCohort`), REQUEST
//! the protobuf encoding of the request message (fields in field-number order, as every
//! protobuf library writes them). The gateway derives the caller's bech32 address from the
//! public key exactly as the chain does (RIPEMD-160 of SHA-256), so the key that holds consent
//! grants is the key that authenticates.

use base64::prelude::{Engine, BASE64_STANDARD};
use cosmrs::crypto::secp256k1::SigningKey;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use thiserror::Error;
use tonic::metadata::{MetadataMap, MetadataValue};

pub const DOMAIN: &str = "healthmesh-research-v1";
pub const PUBKEY: &str = "x-hm-pubkey";
pub const TIMESTAMP: &str = "x-hm-timestamp";
pub const NONCE: &str = "x-hm-nonce";
pub const SIGNATURE: &str = "x-hm-signature";

#[derive(Debug, Error, PartialEq)]
pub enum AuthError {
    #[error(
        "missing {0} metadata: sign every request (see the README's research gateway section)"
    )]
    Missing(&'static str),
    #[error("malformed {0} metadata: {1}")]
    Malformed(&'static str, String),
    #[error("stale request: timestamp is {skew_ms} ms away from the gateway's clock (limit {limit_ms} ms); check your clock")]
    Stale { skew_ms: u64, limit_ms: u64 },
    #[error("signature does not verify for this public key, method and request")]
    BadSignature,
}

/// The bytes that are signed.
pub fn payload(method: &str, request: &[u8], timestamp_ms: u64, nonce: &str) -> Vec<u8> {
    let digest = hex::encode(Sha256::digest(request));
    format!("{DOMAIN}\n{method}\n{digest}\n{timestamp_ms}\n{nonce}").into_bytes()
}

/// Signs requests for one researcher key.
pub struct RequestSigner {
    key: SigningKey,
}

impl RequestSigner {
    pub fn new(key: SigningKey) -> Self {
        RequestSigner { key }
    }

    pub fn public_key(&self) -> Vec<u8> {
        self.key.public_key().to_bytes()
    }

    pub fn address(&self, prefix: &str) -> String {
        self.key
            .public_key()
            .account_id(prefix)
            .expect("valid prefix")
            .to_string()
    }

    /// Metadata for one call with an explicit clock and nonce (tests, other clients).
    pub fn metadata(
        &self,
        method: &str,
        request: &[u8],
        timestamp_ms: u64,
        nonce: &str,
    ) -> MetadataMap {
        let signature = self
            .key
            .sign(&payload(method, request, timestamp_ms, nonce))
            .expect("secp256k1 signing");
        let mut map = MetadataMap::new();
        let ascii = |s: String| MetadataValue::try_from(s).expect("ascii metadata");
        map.insert(PUBKEY, ascii(BASE64_STANDARD.encode(self.public_key())));
        map.insert(TIMESTAMP, ascii(timestamp_ms.to_string()));
        map.insert(NONCE, ascii(nonce.to_string()));
        map.insert(
            SIGNATURE,
            ascii(BASE64_STANDARD.encode(signature.to_bytes())),
        );
        map
    }

    /// A signed `tonic::Request` for `method`, stamped now with a random nonce.
    pub fn request<T: prost::Message>(&self, method: &str, message: T) -> tonic::Request<T> {
        let bytes = message.encode_to_vec();
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = self.metadata(method, &bytes, now_ms(), &random_nonce());
        request
    }
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

pub fn random_nonce() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A request whose signature verified: who sent it, and the nonce to check for replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub address: String,
    pub nonce: String,
    pub timestamp_ms: u64,
}

fn text<'a>(metadata: &'a MetadataMap, key: &'static str) -> Result<&'a str, AuthError> {
    metadata
        .get(key)
        .ok_or(AuthError::Missing(key))?
        .to_str()
        .map_err(|_| AuthError::Malformed(key, "not ASCII".into()))
}

/// Checks freshness and the signature; the caller checks the nonce for replay.
pub fn verify(
    metadata: &MetadataMap,
    method: &str,
    request: &[u8],
    now_ms: u64,
    max_skew_ms: u64,
    prefix: &str,
) -> Result<Caller, AuthError> {
    let pubkey = BASE64_STANDARD
        .decode(text(metadata, PUBKEY)?)
        .map_err(|e| AuthError::Malformed(PUBKEY, e.to_string()))?;
    let key = secp256k1::PublicKey::from_slice(&pubkey)
        .map_err(|_| AuthError::Malformed(PUBKEY, "not a secp256k1 public key".into()))?;
    let timestamp_ms: u64 = text(metadata, TIMESTAMP)?
        .parse()
        .map_err(|_| AuthError::Malformed(TIMESTAMP, "not unix milliseconds".into()))?;
    let nonce = text(metadata, NONCE)?;
    let nonce_ok = (16..=64).contains(&nonce.len())
        && nonce
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !nonce_ok {
        return Err(AuthError::Malformed(
            NONCE,
            "use 16-64 characters [0-9a-zA-Z_-]".into(),
        ));
    }
    let signature = BASE64_STANDARD
        .decode(text(metadata, SIGNATURE)?)
        .ok()
        .and_then(|b| secp256k1::ecdsa::Signature::from_compact(&b).ok())
        .ok_or_else(|| AuthError::Malformed(SIGNATURE, "not a 64-byte base64 signature".into()))?;
    let skew_ms = now_ms.abs_diff(timestamp_ms);
    if skew_ms > max_skew_ms {
        return Err(AuthError::Stale {
            skew_ms,
            limit_ms: max_skew_ms,
        });
    }
    // libsecp256k1 accepts only low-s signatures, as the Cosmos SDK does.
    let digest: [u8; 32] = Sha256::digest(payload(method, request, timestamp_ms, nonce)).into();
    secp256k1::SECP256K1
        .verify_ecdsa(&secp256k1::Message::from_digest(digest), &signature, &key)
        .map_err(|_| AuthError::BadSignature)?;
    // The chain's address rule for secp256k1 keys: RIPEMD-160(SHA-256(compressed key)).
    let compressed = key.serialize();
    let hash = <ripemd::Ripemd160 as Digest>::digest(Sha256::digest(compressed));
    let address = cosmrs::AccountId::new(prefix, &hash)
        .map_err(|_| AuthError::Malformed(PUBKEY, "cannot derive an address".into()))?;
    Ok(Caller {
        address: address.to_string(),
        nonce: nonce.to_string(),
        timestamp_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const METHOD: &str = "/healthmesh.research.v1.ResearchService/CountCohort";

    fn signer(byte: u8) -> RequestSigner {
        RequestSigner::new(SigningKey::from_slice(&[byte; 32]).unwrap())
    }

    #[test]
    fn a_signed_request_verifies_and_names_the_callers_address() {
        let s = signer(7);
        let md = s.metadata(METHOD, b"request", 1_000_000, "0123456789abcdef");
        let caller = verify(&md, METHOD, b"request", 1_000_500, 30_000, "wasm").unwrap();
        assert_eq!(caller.address, s.address("wasm"));
        assert_eq!(caller.nonce, "0123456789abcdef");
    }

    #[test]
    fn any_change_or_a_stale_clock_is_refused() {
        let s = signer(7);
        let md = s.metadata(METHOD, b"request", 1_000_000, "0123456789abcdef");
        assert_eq!(
            verify(&md, METHOD, b"requesT", 1_000_000, 30_000, "wasm"),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify(&md, "/other/Method", b"request", 1_000_000, 30_000, "wasm"),
            Err(AuthError::BadSignature)
        );
        assert!(matches!(
            verify(&md, METHOD, b"request", 1_040_001, 30_000, "wasm"),
            Err(AuthError::Stale { .. })
        ));
        // Another key's public key with this signature.
        let mut swapped = md.clone();
        let other = signer(8).metadata(METHOD, b"request", 1_000_000, "0123456789abcdef");
        swapped.insert(PUBKEY, other.get(PUBKEY).unwrap().clone());
        assert_eq!(
            verify(&swapped, METHOD, b"request", 1_000_000, 30_000, "wasm"),
            Err(AuthError::BadSignature)
        );
        let mut missing = md.clone();
        missing.remove(SIGNATURE);
        assert_eq!(
            verify(&missing, METHOD, b"request", 1_000_000, 30_000, "wasm"),
            Err(AuthError::Missing(SIGNATURE))
        );
        let mut short_nonce = md;
        short_nonce.insert(NONCE, MetadataValue::from_static("abc"));
        assert!(matches!(
            verify(&short_nonce, METHOD, b"request", 1_000_000, 30_000, "wasm"),
            Err(AuthError::Malformed(NONCE, _))
        ));
    }
}
