//! Keys: BIP-39 mnemonics derived on the Cosmos HD path (m/44'/118'/0'/0/0) to secp256k1
//! signing keys, kept in a keyring directory of one JSON file per key.
//!
//! Two backends, as in the Cosmos SDK:
//! - `file`: the mnemonic is encrypted with XChaCha20-Poly1305 under a key stretched from the
//!   passphrase with Argon2id (random salt and nonce per file);
//! - `test`: the mnemonic is stored in the clear, in the same file shape `wasmd keys add
//!   --output json` prints (`name`, `address`, `mnemonic`), so the localnet's role keys under
//!   `.localnet/<chain>/keys/` are usable as they are. Never for real funds.

use std::path::{Path, PathBuf};

use argon2::Argon2;
use bip32::{Language, Mnemonic};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::crypto::PublicKey;
use rand_core_06::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::error::{ClientError, Result};

pub const HD_PATH: &str = "m/44'/118'/0'/0/0";
const KDF: &str = "argon2id-v19-m19456-t2-p1";

/// A signing key with the name it is stored under.
pub struct Key {
    pub name: String,
    pub signing_key: SigningKey,
    secret: [u8; 32],
}

impl Key {
    pub fn from_mnemonic(name: &str, phrase: &str) -> Result<Self> {
        let mnemonic = parse_mnemonic(phrase)?;
        let seed = mnemonic.to_seed("");
        let path = HD_PATH.parse().expect("constant HD path");
        let xprv = bip32::XPrv::derive_from_path(seed, &path)
            .map_err(|e| ClientError::InvalidMnemonic(e.to_string()))?;
        let secret: [u8; 32] = xprv.private_key().to_bytes().into();
        let signing_key = SigningKey::from_slice(&secret)
            .map_err(|e| ClientError::InvalidMnemonic(e.to_string()))?;
        Ok(Key {
            name: name.to_string(),
            signing_key,
            secret,
        })
    }

    /// The raw secp256k1 private key, for `hmesh keys export --unsafe` (clients in other
    /// languages, e.g. the Python research client). Never printed otherwise.
    pub fn secret_hex(&self) -> String {
        hex::encode(self.secret)
    }

    pub fn public_key(&self) -> PublicKey {
        self.signing_key.public_key()
    }

    /// The account address for any bech32 prefix (`wasm`, `cosmos`, …).
    pub fn address(&self, prefix: &str) -> Result<String> {
        self.public_key()
            .account_id(prefix)
            .map(|id| id.to_string())
            .map_err(|e| ClientError::InvalidAddress {
                address: prefix.to_string(),
                reason: e.to_string(),
            })
    }
}

fn parse_mnemonic(phrase: &str) -> Result<Mnemonic> {
    let normalized = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
    Mnemonic::new(normalized, Language::English)
        .map_err(|_| ClientError::InvalidMnemonic("not a valid BIP-39 English phrase".into()))
}

/// A fresh 24-word mnemonic from the operating system's randomness.
pub fn generate_mnemonic() -> String {
    Mnemonic::random(OsRng, Language::English)
        .phrase()
        .to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    File,
    Test,
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mnemonic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crypto: Option<Sealed>,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    kdf: String,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// A directory of key files of one backend.
pub struct Keyring {
    pub dir: PathBuf,
    pub backend: Backend,
}

/// What `keys list` shows: never the secret.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub name: String,
    pub address: String,
    pub encrypted: bool,
}

impl Keyring {
    pub fn new(dir: impl Into<PathBuf>, backend: Backend) -> Self {
        Keyring {
            dir: dir.into(),
            backend,
        }
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(ClientError::InvalidKeyName(name.to_string()));
        }
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// Stores `phrase` under `name`; `passphrase` is required by the `file` backend.
    pub fn add(
        &self,
        name: &str,
        phrase: &str,
        passphrase: Option<&str>,
        prefix: &str,
    ) -> Result<KeyInfo> {
        let path = self.path(name)?;
        if path.exists() {
            return Err(ClientError::KeyExists(name.to_string()));
        }
        let key = Key::from_mnemonic(name, phrase)?;
        let address = key.address(prefix)?;
        let phrase = parse_mnemonic(phrase)?.phrase().to_string();
        let file = match self.backend {
            Backend::Test => KeyFile {
                name: name.into(),
                address: address.clone(),
                mnemonic: Some(phrase),
                crypto: None,
            },
            Backend::File => {
                let passphrase = passphrase.ok_or_else(|| {
                    ClientError::Keystore("the file backend needs a passphrase".into())
                })?;
                KeyFile {
                    name: name.into(),
                    address: address.clone(),
                    mnemonic: None,
                    crypto: Some(seal(phrase.as_bytes(), passphrase)?),
                }
            }
        };
        std::fs::create_dir_all(&self.dir).map_err(|source| io(&self.dir, source))?;
        write_private(
            &path,
            &serde_json::to_vec_pretty(&file).expect("serializable"),
        )?;
        Ok(KeyInfo {
            name: name.into(),
            address,
            encrypted: self.backend == Backend::File,
        })
    }

    /// The stored phrase of an unencrypted (`test` backend) key, for localnet tooling that
    /// hands a role's key to another program (Hermes's keyring).
    pub fn test_mnemonic(&self, name: &str) -> Result<String> {
        self.read(name)?.mnemonic.ok_or_else(|| {
            ClientError::Keystore(format!("key '{name}' is encrypted: no plain phrase"))
        })
    }

    /// Loads and, for the `file` backend, decrypts the key `name`.
    pub fn get(&self, name: &str, passphrase: Option<&str>) -> Result<Key> {
        let file = self.read(name)?;
        let phrase = match (file.mnemonic, file.crypto) {
            (Some(phrase), _) => phrase,
            (None, Some(sealed)) => {
                let passphrase = passphrase.ok_or_else(|| {
                    ClientError::Keystore(format!(
                        "key '{name}' is encrypted: a passphrase is needed"
                    ))
                })?;
                open(&sealed, passphrase).map_err(|_| ClientError::WrongPassphrase(name.into()))?
            }
            (None, None) => {
                return Err(ClientError::Keystore(format!(
                    "key file of '{name}' holds no key"
                )))
            }
        };
        Key::from_mnemonic(name, &phrase)
    }

    /// Whether using `name` needs a passphrase (an encrypted file).
    pub fn needs_passphrase(&self, name: &str) -> Result<bool> {
        Ok(self.read(name)?.mnemonic.is_none())
    }

    fn read(&self, name: &str) -> Result<KeyFile> {
        let path = self.path(name)?;
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                ClientError::KeyNotFound(name.into(), self.dir.display().to_string())
            }
            _ => io(&path, e),
        })?;
        serde_json::from_str(&text).map_err(|source| ClientError::Json {
            what: format!("key file {}", path.display()),
            source,
        })
    }

    pub fn list(&self) -> Result<Vec<KeyInfo>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(io(&self.dir, e)),
        };
        let mut keys = vec![];
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(name) = name.strip_suffix(".json") else {
                continue;
            };
            if let Ok(file) = self.read(name) {
                keys.push(KeyInfo {
                    name: name.to_string(),
                    address: file.address,
                    encrypted: file.crypto.is_some(),
                });
            }
        }
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(keys)
    }

    pub fn delete(&self, name: &str) -> Result<()> {
        self.read(name)?;
        let path = self.path(name)?;
        std::fs::remove_file(&path).map_err(|source| io(&path, source))
    }
}

fn io(path: &Path, source: std::io::Error) -> ClientError {
    ClientError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|source| io(path, source))?;
    file.write_all(bytes).map_err(|source| io(path, source))
}

fn stretch(passphrase: &str, salt: &[u8]) -> Result<[u8; 32]> {
    let mut key = [0u8; 32];
    Argon2::default()
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|e| ClientError::Keystore(e.to_string()))?;
    Ok(key)
}

fn seal(secret: &[u8], passphrase: &str) -> Result<Sealed> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut nonce);
    let cipher = XChaCha20Poly1305::new(&stretch(passphrase, &salt)?.into());
    let ciphertext = cipher
        .encrypt(&XNonce::from(nonce), secret)
        .map_err(|e| ClientError::Keystore(e.to_string()))?;
    Ok(Sealed {
        kdf: KDF.into(),
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    })
}

fn open(sealed: &Sealed, passphrase: &str) -> Result<String> {
    let bad = |_| ClientError::Keystore("damaged keystore file".into());
    if sealed.kdf != KDF {
        return Err(ClientError::Keystore(format!(
            "unsupported kdf '{}'",
            sealed.kdf
        )));
    }
    let salt = hex::decode(&sealed.salt).map_err(bad)?;
    let nonce = hex::decode(&sealed.nonce).map_err(bad)?;
    let ciphertext = hex::decode(&sealed.ciphertext).map_err(bad)?;
    let nonce: [u8; 24] = nonce
        .try_into()
        .map_err(|_| ClientError::Keystore("damaged keystore file".into()))?;
    let cipher = XChaCha20Poly1305::new(&stretch(passphrase, &salt)?.into());
    let plain = cipher
        .decrypt(&XNonce::from(nonce), ciphertext.as_slice())
        .map_err(|_| ClientError::Keystore("decryption failed".into()))?;
    String::from_utf8(plain).map_err(|_| ClientError::Keystore("damaged keystore file".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Synthetic test mnemonic (the BIP-39 "abandon … art" vector), never holds funds.
    pub const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon \
        abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
        abandon abandon abandon abandon abandon art";

    #[test]
    fn derives_the_cosmos_hd_address() {
        let key = Key::from_mnemonic("k", ABANDON).unwrap();
        // The well-known cosmos address of this vector on m/44'/118'/0'/0/0.
        assert_eq!(
            key.address("cosmos").unwrap(),
            "cosmos1r5v5srda7xfth3hn2s26txvrcrntldjumt8mhl"
        );
        assert!(key.address("wasm").unwrap().starts_with("wasm1"));
    }

    #[test]
    fn file_backend_encrypts_and_needs_the_right_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let ring = Keyring::new(dir.path(), Backend::File);
        let info = ring
            .add("alice", ABANDON, Some("correct horse"), "wasm")
            .unwrap();
        assert!(info.encrypted);
        let text = std::fs::read_to_string(dir.path().join("alice.json")).unwrap();
        assert!(!text.contains("abandon"), "mnemonic stored in the clear");
        assert!(matches!(
            ring.get("alice", Some("wrong")),
            Err(ClientError::WrongPassphrase(_))
        ));
        let key = ring.get("alice", Some("correct horse")).unwrap();
        assert_eq!(key.address("wasm").unwrap(), info.address);
        assert!(matches!(
            ring.add("alice", ABANDON, Some("x"), "wasm"),
            Err(ClientError::KeyExists(_))
        ));
        ring.delete("alice").unwrap();
        assert!(matches!(
            ring.get("alice", None),
            Err(ClientError::KeyNotFound(..))
        ));
    }

    #[test]
    fn test_backend_reads_wasmd_key_files() {
        let dir = tempfile::tempdir().unwrap();
        let wasmd_json = format!(
            r#"{{"name":"patient","type":"local","address":"x","pubkey":"{{}}","mnemonic":"{ABANDON}"}}"#
        );
        std::fs::write(dir.path().join("patient.json"), wasmd_json).unwrap();
        let ring = Keyring::new(dir.path(), Backend::Test);
        let key = ring.get("patient", None).unwrap();
        assert_eq!(
            key.address("cosmos").unwrap(),
            "cosmos1r5v5srda7xfth3hn2s26txvrcrntldjumt8mhl"
        );
        assert_eq!(ring.list().unwrap().len(), 1);
    }

    #[test]
    fn rejects_bad_mnemonics_and_names() {
        let ring = Keyring::new("/nonexistent", Backend::Test);
        assert!(matches!(
            Key::from_mnemonic("k", "abandon abandon abandon"),
            Err(ClientError::InvalidMnemonic(_))
        ));
        assert!(matches!(
            ring.get("../etc/passwd", None),
            Err(ClientError::InvalidKeyName(_))
        ));
        assert_eq!(generate_mnemonic().split(' ').count(), 24);
    }
}
