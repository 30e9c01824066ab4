//! `hmesh keys`: create, import, list, show, delete.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use clap::Subcommand;
use healthmesh_client::keys::{generate_mnemonic, Backend};
use serde_json::json;

use crate::context::GlobalArgs;
use crate::output::{print_json, Format};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key (a new 24-word mnemonic, printed once) or import one with --recover.
    Add {
        name: String,
        /// Import an existing BIP-39 mnemonic (from --mnemonic-file, else stdin or a prompt).
        #[arg(long)]
        recover: bool,
        /// File holding the mnemonic to import.
        #[arg(long, requires = "recover")]
        mnemonic_file: Option<PathBuf>,
    },
    /// List keys of the keyring (names and addresses, never secrets).
    List,
    /// Show a key's address, for any bech32 prefix.
    Show {
        name: String,
        /// Bech32 prefix of the address (default: the chain's, else `wasm`).
        #[arg(long = "bech32-prefix")]
        bech32_prefix: Option<String>,
    },
    /// Print a key's raw secp256k1 private key as hex, for clients in other languages (e.g.
    /// the Python research client). Anyone holding it controls the account.
    Export {
        name: String,
        /// Required: acknowledges that the secret is printed in the clear.
        #[arg(long)]
        unsafe_export_private_key: bool,
    },
    /// Delete a key file.
    Delete {
        name: String,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
}

pub fn run(g: &GlobalArgs, command: KeysCommand) -> Result<()> {
    let ring = g.keyring();
    let prefix = || {
        g.chain_info()
            .map(|c| c.bech32_prefix)
            .unwrap_or_else(|_| g.prefix.clone())
    };
    let json = g.output == Format::Json;
    match command {
        KeysCommand::Add {
            name,
            recover,
            mnemonic_file,
        } => {
            let phrase = if recover {
                read_mnemonic(mnemonic_file)?
            } else {
                generate_mnemonic()
            };
            let passphrase = match ring.backend {
                Backend::File => Some(g.passphrase(&format!("encrypt key '{name}'"))?),
                Backend::Test => None,
            };
            let info = ring.add(&name, &phrase, passphrase.as_deref(), &prefix())?;
            match (json, recover) {
                (true, false) => print_json(&json!({"key": info, "mnemonic": phrase})),
                (true, true) => print_json(&info),
                (false, _) => {
                    println!(
                        "{}\t{}\t(in {})",
                        info.name,
                        info.address,
                        ring.dir.display()
                    );
                    if !recover {
                        eprintln!("\nWrite this mnemonic down and keep it safe; it is the only way to recover the key:\n\n{phrase}\n");
                    }
                }
            }
        }
        KeysCommand::List => {
            let keys = ring.list()?;
            if json {
                print_json(&keys);
            } else {
                for k in keys {
                    println!(
                        "{}\t{}{}",
                        k.name,
                        k.address,
                        if k.encrypted {
                            ""
                        } else {
                            "\t(unencrypted test key)"
                        }
                    );
                }
            }
        }
        KeysCommand::Show {
            name,
            bech32_prefix,
        } => {
            let key = g.unlock(&name)?;
            let address = key.address(&bech32_prefix.unwrap_or_else(prefix))?;
            if json {
                let pubkey = hex::encode(key.public_key().to_bytes());
                print_json(&json!({"name": name, "address": address, "pubkey_hex": pubkey}));
            } else {
                println!("{address}");
            }
        }
        KeysCommand::Export {
            name,
            unsafe_export_private_key,
        } => {
            if !unsafe_export_private_key {
                bail!("exporting prints the private key in the clear: pass --unsafe-export-private-key to confirm");
            }
            let secret = g.unlock(&name)?.secret_hex();
            if json {
                print_json(&json!({"name": name, "private_key_hex": secret}));
            } else {
                println!("{secret}");
            }
        }
        KeysCommand::Delete { name, yes } => {
            if !yes {
                if !std::io::stdin().is_terminal() {
                    bail!("refusing to delete '{name}' without confirmation: pass --yes");
                }
                eprint!("Delete key '{name}' from {}? [y/N] ", ring.dir.display());
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if !answer.trim().eq_ignore_ascii_case("y") {
                    bail!("not deleted");
                }
            }
            ring.delete(&name)?;
            if !json {
                println!("deleted {name}");
            }
        }
    }
    Ok(())
}

fn read_mnemonic(file: Option<PathBuf>) -> Result<String> {
    if let Some(path) = file {
        return std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()));
    }
    if std::io::stdin().is_terminal() {
        return Ok(rpassword::prompt_password("Enter your BIP-39 mnemonic: ")?);
    }
    let mut phrase = String::new();
    std::io::stdin().read_to_string(&mut phrase)?;
    Ok(phrase)
}
