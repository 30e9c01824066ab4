//! The `keygen`, `commit`, `prove` and `verify` commands, as a clap subcommand family that
//! the `hm-proofs` binary runs and the `hmesh` CLI can embed.

use std::fs;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;
use std::{eprintln, format, println};

use anyhow::{bail, Context as _, Result};
use bls12_381::Scalar;
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};

use crate::keys::{setup_from_seed, ProvingKey, SETUP_WARNING};
use crate::prover::{prove, Opening};
use crate::statement::{
    commit, salt_from_wide_bytes, scalar_from_bytes, subject_key, AttributeCode, Context, Operator,
    Predicate, Statement,
};
use crate::verifier::{verify_statement, NativePairing, VerifyingKey};

pub const PK_FILE: &str = "predicate.pk";
pub const VK_FILE: &str = "predicate.vk";

/// Arguments of `commit` (shared with `hmesh attest commit`).
#[derive(Args, Debug)]
pub struct CommitArgs {
    #[arg(long)]
    pub attribute: String,
    #[arg(long)]
    pub value: u64,
    /// The patient's chain address (the commitment is bound to it).
    #[arg(long)]
    pub patient: String,
    /// Hex salt (32 bytes, little-endian field element); random if omitted.
    #[arg(long)]
    pub salt: Option<String>,
}

/// The opening, predicate and consent of a proof (shared with `hmesh attest prove`, which
/// supplies the chain id and the proving key itself).
#[derive(Args, Debug)]
pub struct ClaimArgs {
    #[arg(long)]
    pub attribute: String,
    #[arg(long)]
    pub value: u64,
    #[arg(long)]
    pub salt: String,
    #[arg(long)]
    pub patient: String,
    /// eq, ne, lt, lte, gt, gte, between, nonbetween, in, nin
    #[arg(long)]
    pub op: String,
    /// Comma-separated operands, e.g. `70` or `65,69` or `1,2,3`.
    #[arg(long, value_delimiter = ',', num_args = 1.., required = true)]
    pub values: Vec<u64>,
    #[arg(long)]
    pub consent_id: String,
    #[arg(long)]
    pub grantee: String,
}

#[derive(Subcommand, Debug)]
pub enum ProofsCommand {
    /// Derive the proving and verifying keys from a seed (tests and localnet only).
    Keygen {
        #[arg(long)]
        seed: String,
        /// Directory for predicate.pk and predicate.vk.
        #[arg(long)]
        out: PathBuf,
    },
    /// Commit to an attribute value for a patient; prints the commitment and the secret salt.
    Commit(CommitArgs),
    /// Prove that a committed value satisfies a predicate in a context.
    Prove {
        #[arg(long)]
        pk: PathBuf,
        #[arg(long)]
        chain_id: String,
        /// Address of the consent contract the consent lives in (part of the proof's context).
        #[arg(long)]
        consent_contract: String,
        #[command(flatten)]
        claim: ClaimArgs,
        /// Write the proof JSON here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify a proof file against a verifying key; exits non-zero if invalid.
    Verify {
        #[arg(long)]
        vk: PathBuf,
        #[arg(long)]
        proof: PathBuf,
    },
}

/// A proof with its statement, as written by `prove` and read by `verify` and the CLI.
#[derive(Serialize, Deserialize, Debug)]
pub struct ProofFile {
    pub version: u8,
    /// SHA-256 of the verifying key the proof was made for.
    pub vk_id: String,
    pub statement: Statement,
    /// 192 bytes, hex.
    pub proof: String,
}

#[derive(Serialize)]
struct CommitOutput {
    attribute: String,
    commitment: String,
    /// Secret: whoever holds it with the value can prove about the commitment.
    salt: String,
    subject: String,
}

pub fn run(command: ProofsCommand) -> Result<()> {
    match command {
        ProofsCommand::Keygen { seed, out } => keygen(&seed, &out),
        ProofsCommand::Commit(CommitArgs {
            attribute,
            value,
            patient,
            salt,
        }) => {
            let attribute = AttributeCode::new(&attribute)?;
            let salt = match salt {
                Some(hex) => parse_scalar("salt", &hex)?,
                None => random_salt(),
            };
            let subject = subject_key(&patient);
            let commitment = commit(&attribute, value, &salt, &subject);
            print_json(&CommitOutput {
                attribute: attribute.as_str().to_string(),
                commitment: hex::encode(commitment),
                salt: hex::encode(salt.to_bytes()),
                subject: hex::encode(subject.to_bytes()),
            })
        }
        ProofsCommand::Prove {
            pk,
            chain_id,
            consent_contract,
            claim:
                ClaimArgs {
                    attribute,
                    value,
                    salt,
                    patient,
                    op,
                    values,
                    consent_id,
                    grantee,
                },
            out,
        } => {
            let pk = ProvingKey::from_bytes(&read(&pk)?).context("reading the proving key")?;
            let attribute = AttributeCode::new(&attribute)?;
            let opening = Opening {
                value,
                salt: parse_scalar("salt", &salt)?,
                subject: subject_key(&patient),
            };
            let statement = Statement {
                commitment: commit(&attribute, value, &opening.salt, &opening.subject),
                attribute,
                predicate: Predicate::new(Operator::from_name(&op)?, values)?,
                context: Context {
                    chain_id,
                    consent_contract,
                    consent_id,
                    grantee,
                },
            };
            let proof = prove(&pk, &statement, &opening, &mut rand::rng())?;
            let file = ProofFile {
                version: 1,
                vk_id: hex::encode(pk.verifying_key().id()),
                statement,
                proof: hex::encode(proof),
            };
            let json = serde_json::to_string_pretty(&file)?;
            match out {
                Some(path) => {
                    fs::write(&path, json).with_context(|| format!("writing {}", path.display()))
                }
                None => {
                    println!("{json}");
                    Ok(())
                }
            }
        }
        ProofsCommand::Verify { vk, proof } => {
            let vk = VerifyingKey::from_bytes(&read(&vk)?).context("reading the verifying key")?;
            let file: ProofFile = serde_json::from_slice(&read(&proof)?)
                .with_context(|| format!("{} is not a proof file", proof.display()))?;
            if file.version != 1 {
                bail!("unsupported proof file version {}", file.version);
            }
            let bytes = hex::decode(&file.proof).context("proof is not hex")?;
            verify_statement(&NativePairing, &vk, &bytes, &file.statement)?;
            println!(
                "valid: {} {} {:?}",
                file.statement.attribute.as_str(),
                file.statement.predicate.op.name(),
                file.statement.predicate.values
            );
            Ok(())
        }
    }
}

fn keygen(seed: &str, out: &Path) -> Result<()> {
    eprintln!("{SETUP_WARNING}");
    let pk = setup_from_seed(seed.as_bytes())?;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let vk = pk.verifying_key();
    fs::write(out.join(PK_FILE), pk.to_bytes())?;
    fs::write(out.join(VK_FILE), vk.to_bytes())?;
    print_json(&serde_json::json!({
        "proving_key": out.join(PK_FILE),
        "verifying_key": out.join(VK_FILE),
        "vk_id": hex::encode(vk.id()),
    }))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn parse_scalar(field: &'static str, text: &str) -> Result<Scalar> {
    let bytes = hex::decode(text).with_context(|| format!("{field} is not hex"))?;
    Ok(scalar_from_bytes(field, &bytes)?)
}

fn random_salt() -> Scalar {
    let mut wide = [0u8; 64];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut wide);
    salt_from_wide_bytes(&wide)
}

fn print_json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
