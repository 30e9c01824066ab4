//! Request signing: every call carries the researcher's secp256k1 public key, the gateway it
//! is addressed to, a timestamp, a nonce and a signature in its metadata.
//!
//! ```text
//! payload   = "healthmesh-research-v2\n" + AUDIENCE + "\n" + METHOD + "\n"
//!             + hex(SHA-256(REQUEST)) + "\n" + TIMESTAMP_MS + "\n" + NONCE
//! signature = ECDSA-secp256k1(SHA-256(payload)), 64 bytes r‖s, low-s
//! metadata  x-hm-pubkey     base64 of the 33-byte compressed public key
//!           x-hm-audience   AUDIENCE
//!           x-hm-timestamp  unix milliseconds, decimal
//!           x-hm-nonce      16–64 characters [0-9a-zA-Z_-], unique per request
//!           x-hm-signature  base64 of the signature
//! ```
//!
//! AUDIENCE names the gateway the request is for (its `--audience`, by default the
//! `host:port` it listens on; clients default to the `host:port` of the URL they dial), so a
//! request signed for one gateway is refused by every other. METHOD is the gRPC path
//! (`/healthmesh.research.v1.ResearchService/CountCohort`), REQUEST the protobuf encoding of
//! the request message (fields in field-number order, as every protobuf library writes them).
//! The gateway derives the caller's bech32 address from the public key exactly as the chain
//! does (RIPEMD-160 of SHA-256), so the key that holds consent grants is the key that
//! authenticates.

use base64::prelude::{Engine, BASE64_STANDARD};
use cosmrs::crypto::secp256k1::SigningKey;
use rand_core_06::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use thiserror::Error;
use tonic::metadata::{MetadataMap, MetadataValue};

pub const DOMAIN: &str = "healthmesh-research-v2";
pub const PUBKEY: &str = "x-hm-pubkey";
pub const AUDIENCE: &str = "x-hm-audience";
pub const TIMESTAMP: &str = "x-hm-timestamp";
pub const NONCE: &str = "x-hm-nonce";
pub const SIGNATURE: &str = "x-hm-signature";
/// Longest audience (a DNS name with a port fits).
pub const MAX_AUDIENCE_LEN: usize = 255;

#[derive(Debug, Error, PartialEq)]
pub enum AuthError {
    #[error(
        "missing {0} metadata: sign every request (see the README's research gateway section)"
    )]
    Missing(&'static str),
    #[error("malformed {0} metadata: {1}")]
    Malformed(&'static str, String),
    #[error("wrong audience: the request is signed for gateway {got:?}, this gateway is {expected:?}; sign with the audience of the gateway you call")]
    WrongAudience { got: String, expected: String },
    #[error("stale request: timestamp is {skew_ms} ms behind the gateway's clock (limit {limit_ms} ms); check your clock")]
    Stale { skew_ms: u64, limit_ms: u64 },
    #[error("request from the future: timestamp is {ahead_ms} ms ahead of the gateway's clock (limit {limit_ms} ms); check your clock")]
    Future { ahead_ms: u64, limit_ms: u64 },
    #[error("request signed before this gateway started (timestamp {timestamp_ms} < {not_before_ms}): requests from before a restart are refused; sign a fresh one")]
    BeforeStart {
        timestamp_ms: u64,
        not_before_ms: u64,
    },
    #[error("signature does not verify for this public key, audience, method and request")]
    BadSignature,
}

/// An audience is 1 to 255 visible ASCII characters (no spaces, no line breaks: it is one line
/// of the payload and one metadata value).
pub fn check_audience(audience: &str) -> Result<(), AuthError> {
    let ok = (1..=MAX_AUDIENCE_LEN).contains(&audience.len())
        && audience.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(AuthError::Malformed(
            AUDIENCE,
            format!("use 1-{MAX_AUDIENCE_LEN} visible ASCII characters, e.g. 127.0.0.1:9390"),
        ))
    }
}

/// The bytes that are signed.
pub fn payload(
    audience: &str,
    method: &str,
    request: &[u8],
    timestamp_ms: u64,
    nonce: &str,
) -> Vec<u8> {
    let digest = hex::encode(Sha256::digest(request));
    format!("{DOMAIN}\n{audience}\n{method}\n{digest}\n{timestamp_ms}\n{nonce}").into_bytes()
}

/// The audience a client uses by default for a gateway URL: its `host:port`, with the
/// scheme's default port (80 for http, 443 for https) written out when the URL has none.
pub fn default_audience(url: &str) -> Option<String> {
    let uri: tonic::codegen::http::Uri = url.parse().ok()?;
    let host = uri.host()?;
    let port = uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    })?;
    Some(format!("{host}:{port}"))
}

/// Signs requests for one researcher key, addressed to one gateway.
pub struct RequestSigner {
    key: SigningKey,
    audience: String,
}

impl RequestSigner {
    /// `audience`: the gateway's audience (see [`default_audience`]).
    pub fn new(key: SigningKey, audience: impl Into<String>) -> Result<Self, AuthError> {
        let audience = audience.into();
        check_audience(&audience)?;
        Ok(RequestSigner { key, audience })
    }

    pub fn audience(&self) -> &str {
        &self.audience
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
            .sign(&payload(
                &self.audience,
                method,
                request,
                timestamp_ms,
                nonce,
            ))
            .expect("secp256k1 signing");
        let mut map = MetadataMap::new();
        let ascii = |s: String| MetadataValue::try_from(s).expect("ascii metadata");
        map.insert(PUBKEY, ascii(BASE64_STANDARD.encode(self.public_key())));
        // Checked visible ASCII in `new`.
        map.insert(AUDIENCE, ascii(self.audience.clone()));
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

/// What the gateway accepts of a request's timestamp, all in unix milliseconds: from
/// `now_ms - max_past_ms` to `now_ms + max_future_ms`, and not before `not_before_ms` (the
/// gateway's start plus `max_future_ms`, so no request signed before a restart is accepted
/// after it: nonces are remembered in memory only).
#[derive(Debug, Clone, Copy)]
pub struct Freshness {
    pub now_ms: u64,
    pub max_past_ms: u64,
    pub max_future_ms: u64,
    pub not_before_ms: u64,
}

impl Freshness {
    fn check(&self, timestamp_ms: u64) -> Result<(), AuthError> {
        if timestamp_ms > self.now_ms.saturating_add(self.max_future_ms) {
            return Err(AuthError::Future {
                ahead_ms: timestamp_ms - self.now_ms,
                limit_ms: self.max_future_ms,
            });
        }
        let behind = self.now_ms.saturating_sub(timestamp_ms);
        if behind > self.max_past_ms {
            return Err(AuthError::Stale {
                skew_ms: behind,
                limit_ms: self.max_past_ms,
            });
        }
        if timestamp_ms < self.not_before_ms {
            return Err(AuthError::BeforeStart {
                timestamp_ms,
                not_before_ms: self.not_before_ms,
            });
        }
        Ok(())
    }
}

/// The one value of a signed entry: given twice, which one was signed is ambiguous.
fn text<'a>(metadata: &'a MetadataMap, key: &'static str) -> Result<&'a str, AuthError> {
    let mut values = metadata.get_all(key).iter();
    let value = values.next().ok_or(AuthError::Missing(key))?;
    if values.next().is_some() {
        return Err(AuthError::Malformed(key, "given more than once".into()));
    }
    value
        .to_str()
        .map_err(|_| AuthError::Malformed(key, "not ASCII".into()))
}

/// Unix milliseconds written the one way clients write them: decimal digits, no sign, no
/// leading zero. (`u64::from_str` also takes "+17" and "017": metadata that differs from what
/// was signed must not verify.)
fn canonical_ms(text: &str) -> Option<u64> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let canonical = digits && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// Checks the audience, freshness and the signature; the caller checks the nonce for replay.
/// `audience` is this gateway's own: the signature is checked over it, not over the metadata.
pub fn verify(
    metadata: &MetadataMap,
    audience: &str,
    method: &str,
    request: &[u8],
    freshness: &Freshness,
    prefix: &str,
) -> Result<Caller, AuthError> {
    let pubkey = BASE64_STANDARD
        .decode(text(metadata, PUBKEY)?)
        .map_err(|e| AuthError::Malformed(PUBKEY, e.to_string()))?;
    // Compressed only, as clients send it: the uncompressed and hybrid forms of the same key
    // would verify too, and metadata that differs from what clients send must not.
    if pubkey.len() != 33 {
        return Err(AuthError::Malformed(
            PUBKEY,
            format!(
                "a compressed secp256k1 key is 33 bytes, got {}",
                pubkey.len()
            ),
        ));
    }
    let key = secp256k1::PublicKey::from_slice(&pubkey)
        .map_err(|_| AuthError::Malformed(PUBKEY, "not a secp256k1 public key".into()))?;
    let claimed = text(metadata, AUDIENCE)?;
    check_audience(claimed)?;
    if claimed != audience {
        return Err(AuthError::WrongAudience {
            got: claimed.to_string(),
            expected: audience.to_string(),
        });
    }
    let timestamp_ms = canonical_ms(text(metadata, TIMESTAMP)?)
        .ok_or_else(|| AuthError::Malformed(TIMESTAMP, "not unix milliseconds".into()))?;
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
    freshness.check(timestamp_ms)?;
    // libsecp256k1 accepts only low-s signatures, as the Cosmos SDK does.
    let digest: [u8; 32] =
        Sha256::digest(payload(audience, method, request, timestamp_ms, nonce)).into();
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
    const GW: &str = "127.0.0.1:9390";

    fn signer(byte: u8) -> RequestSigner {
        RequestSigner::new(SigningKey::from_slice(&[byte; 32]).unwrap(), GW).unwrap()
    }

    fn at(now_ms: u64) -> Freshness {
        Freshness {
            now_ms,
            max_past_ms: 30_000,
            max_future_ms: 2_000,
            not_before_ms: 0,
        }
    }

    #[test]
    fn a_timestamp_written_another_way_than_signed_is_refused() {
        // Found by gateway/tests/fuzz.rs: "0<ts>" and "+<ts>" parsed to the signed number.
        let s = signer(7);
        let mut md = s.metadata(METHOD, b"request", 1_000_000, "0123456789abcdef");
        for other in [
            "01000000",
            "+1000000",
            " 1000000",
            "1000000 ",
            "1_000_000",
            "",
        ] {
            md.insert(TIMESTAMP, MetadataValue::try_from(other).unwrap());
            let err = verify(&md, GW, METHOD, b"request", &at(1_000_500), "wasm").unwrap_err();
            assert!(
                matches!(err, AuthError::Malformed(TIMESTAMP, _)),
                "{other:?}: {err}"
            );
        }
        assert_eq!(canonical_ms("0"), Some(0));
        assert_eq!(canonical_ms("1000000"), Some(1_000_000));
        assert_eq!(canonical_ms("18446744073709551615"), Some(u64::MAX));
        assert_eq!(canonical_ms("18446744073709551616"), None);
    }

    #[test]
    fn the_key_uncompressed_or_an_entry_given_twice_is_refused() {
        // Found in review of the gateway fuzzer: the uncompressed form of the signer's key
        // verified the same signature.
        let s = signer(7);
        let md = s.metadata(METHOD, b"request", 1_000_000, "0123456789abcdef");
        let fresh = at(1_000_500);
        let uncompressed = secp256k1::PublicKey::from_slice(&s.public_key())
            .unwrap()
            .serialize_uncompressed();
        let mut other = md.clone();
        let value = BASE64_STANDARD.encode(uncompressed);
        other.insert(PUBKEY, MetadataValue::try_from(value).unwrap());
        let err = verify(&other, GW, METHOD, b"request", &fresh, "wasm").unwrap_err();
        assert!(matches!(err, AuthError::Malformed(PUBKEY, _)), "{err}");
        for key in [PUBKEY, AUDIENCE, TIMESTAMP, NONCE, SIGNATURE] {
            let mut twice = md.clone();
            let first = twice.get(key).unwrap().clone();
            twice.append(key, first);
            let err = verify(&twice, GW, METHOD, b"request", &fresh, "wasm").unwrap_err();
            assert_eq!(
                err,
                AuthError::Malformed(key, "given more than once".into()),
                "{key}"
            );
        }
        assert!(verify(&md, GW, METHOD, b"request", &fresh, "wasm").is_ok());
    }

    #[test]
    fn a_signed_request_verifies_and_names_the_callers_address() {
        let s = signer(7);
        let md = s.metadata(METHOD, b"request", 1_000_000, "0123456789abcdef");
        let caller = verify(&md, GW, METHOD, b"request", &at(1_000_500), "wasm").unwrap();
        assert_eq!(caller.address, s.address("wasm"));
        assert_eq!(caller.nonce, "0123456789abcdef");
    }

    #[test]
    fn l7_the_payload_names_the_audience_as_documented() {
        // Byte for byte what the README specifies, so other languages can sign.
        assert_eq!(
            String::from_utf8(payload(GW, "/m", b"", 17, "n")).unwrap(),
            "healthmesh-research-v2\n127.0.0.1:9390\n/m\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n17\nn"
        );
    }

    #[test]
    fn any_change_or_a_stale_clock_is_refused() {
        let s = signer(7);
        let md = s.metadata(METHOD, b"request", 1_000_000, "0123456789abcdef");
        assert_eq!(
            verify(&md, GW, METHOD, b"requesT", &at(1_000_000), "wasm"),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify(&md, GW, "/other/Method", b"request", &at(1_000_000), "wasm"),
            Err(AuthError::BadSignature)
        );
        assert!(matches!(
            verify(&md, GW, METHOD, b"request", &at(1_040_001), "wasm"),
            Err(AuthError::Stale { .. })
        ));
        assert!(matches!(
            verify(&md, GW, METHOD, b"request", &at(997_999), "wasm"),
            Err(AuthError::Future { .. })
        ));
        // Another key's public key with this signature.
        let mut swapped = md.clone();
        let other = signer(8).metadata(METHOD, b"request", 1_000_000, "0123456789abcdef");
        swapped.insert(PUBKEY, other.get(PUBKEY).unwrap().clone());
        assert_eq!(
            verify(&swapped, GW, METHOD, b"request", &at(1_000_000), "wasm"),
            Err(AuthError::BadSignature)
        );
        let mut missing = md.clone();
        missing.remove(SIGNATURE);
        assert_eq!(
            verify(&missing, GW, METHOD, b"request", &at(1_000_000), "wasm"),
            Err(AuthError::Missing(SIGNATURE))
        );
        let mut short_nonce = md;
        short_nonce.insert(NONCE, MetadataValue::from_static("abc"));
        assert!(matches!(
            verify(&short_nonce, GW, METHOD, b"request", &at(1_000_000), "wasm"),
            Err(AuthError::Malformed(NONCE, _))
        ));
    }

    #[test]
    fn l7_a_request_for_another_gateway_is_refused() {
        let md = signer(7).metadata(METHOD, b"request", 1_000_000, "0123456789abcdef");
        // Presented to another gateway as it is: the metadata names the first one.
        assert_eq!(
            verify(&md, "gw-b:9390", METHOD, b"request", &at(1_000_000), "wasm"),
            Err(AuthError::WrongAudience {
                got: GW.into(),
                expected: "gw-b:9390".into()
            })
        );
        // With the metadata rewritten to the second gateway: the signature covers the
        // audience, so it no longer verifies.
        let mut relabelled = md;
        relabelled.insert(AUDIENCE, MetadataValue::from_static("gw-b:9390"));
        assert_eq!(
            verify(
                &relabelled,
                "gw-b:9390",
                METHOD,
                b"request",
                &at(1_000_000),
                "wasm"
            ),
            Err(AuthError::BadSignature)
        );
        assert!(RequestSigner::new(SigningKey::from_slice(&[7; 32]).unwrap(), "a\nb").is_err());
        assert!(RequestSigner::new(SigningKey::from_slice(&[7; 32]).unwrap(), "").is_err());
    }

    #[test]
    fn l7_a_request_signed_before_the_start_is_refused() {
        let md = signer(7).metadata(METHOD, b"request", 1_000_000, "0123456789abcdef");
        let mut after_restart = at(1_001_000);
        after_restart.not_before_ms = 1_000_001;
        assert!(matches!(
            verify(&md, GW, METHOD, b"request", &after_restart, "wasm"),
            Err(AuthError::BeforeStart { .. })
        ));
    }

    #[test]
    fn default_audiences_are_host_and_port() {
        assert_eq!(
            default_audience("http://127.0.0.1:9390").as_deref(),
            Some("127.0.0.1:9390")
        );
        assert_eq!(
            default_audience("https://gw.example.org").as_deref(),
            Some("gw.example.org:443")
        );
        assert_eq!(
            default_audience("http://localhost/").as_deref(),
            Some("localhost:80")
        );
        assert_eq!(default_audience("not a url"), None);
    }
}
