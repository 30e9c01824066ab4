//! `hmesh attest …`: commitments and proofs (with the proofs crate's own commands) and the
//! attestation contract.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context as _, Result};
use clap::Subcommand;
use cosmwasm_std::{Binary, HexBinary, Timestamp};
use healthmesh_proofs::cli::{ClaimArgs, CommitArgs, ProofFile, ProofsCommand};
use healthmesh_types::attestation::{
    Attestation, AttestationsResponse, ConfigResponse, ExecuteMsg, QueryMsg,
};

use super::{parse_hex, read_file};
use crate::context::{Ctx, GlobalArgs};
use crate::output::{print_tx, print_value, Progress};

#[derive(Subcommand)]
pub enum AttestCommand {
    /// Commit to a record value (custodian side, offline): prints commitment and the secret salt.
    /// `--patient` may be a localnet role name.
    Commit(CommitArgs),
    /// Anchor a commitment on chain (bonded custodians only).
    Anchor {
        #[arg(long)]
        commitment: String,
        #[arg(long)]
        attribute: String,
        /// Dataset commitment the record belongs to, hex.
        #[arg(long)]
        dataset: String,
        #[arg(long)]
        patient: String,
    },
    /// Prove a predicate over a committed value (offline, Groth16), bound to this chain, a
    /// consent token and its grantee.
    Prove {
        /// Proving key (default: the localnet's proof-keys/predicate.pk).
        #[arg(long)]
        pk: Option<PathBuf>,
        /// `--patient` and `--grantee` may be localnet role names.
        #[command(flatten)]
        claim: ClaimArgs,
        /// Write the proof file here (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Submit a proof file for on-chain verification under its consent token.
    Submit {
        #[arg(long)]
        proof: PathBuf,
        /// Expiry of the attestation, unix seconds.
        #[arg(long)]
        expires_at: Option<u64>,
    },
    /// Send an attestation over IBC to another chain's attestation contract.
    Send {
        attestation_id: u64,
        /// Destination chain of the deployment (channel looked up), or use --channel.
        #[arg(long, required_unless_present = "channel")]
        to: Option<String>,
        #[arg(long)]
        channel: Option<String>,
        #[arg(long)]
        timeout_seconds: Option<u64>,
        /// Send on the urgent lane (its own channel and relayer): pays at least the urgent
        /// fee governance set, which is attached unless --fee says more.
        #[arg(long, conflicts_with = "channel")]
        urgent: bool,
        /// Relayer fee in the chain's denom, paid to the relayer that delivers the packet
        /// (refunded on an error ack or timeout).
        #[arg(long)]
        fee: Option<u128>,
    },
    /// After the patient revoked a consent: tombstone it and tell every chain that was sent an
    /// attestation under it (anyone may run it; re-running retries chains not yet told).
    PropagateRevocation { consent_token_id: String },
    /// After governance slashed an attester: tombstone it here and on every counterparty
    /// chain, so its anchors and attestations stop being valid (anyone may run it).
    InvalidateAttester { attester: String },
    /// List attestations by grantee, commitment or consent token.
    List {
        #[arg(long, conflicts_with_all = ["commitment", "consent"])]
        grantee: Option<String>,
        #[arg(long, conflicts_with = "consent")]
        commitment: Option<String>,
        /// Consent token id (with --source-chain, default: this chain).
        #[arg(long)]
        consent: Option<String>,
        #[arg(long)]
        source_chain: Option<String>,
        #[arg(long)]
        start_after: Option<u64>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show one attestation with its provenance.
    Show { id: u64 },
}

pub async fn run(g: &GlobalArgs, command: AttestCommand) -> Result<()> {
    // Offline commands first: they need no chain unless a role name is resolved.
    match command {
        AttestCommand::Commit(mut args) => {
            args.patient = resolve_offline(g, &args.patient)?;
            healthmesh_proofs::cli::run(ProofsCommand::Commit(args))
        }
        AttestCommand::Prove { pk, mut claim, out } => {
            let info = g.chain_info()?;
            let consent_contract = info.contracts.get("consent").cloned().ok_or_else(|| {
                anyhow::anyhow!(
                    "the deployment names no consent contract for {}: the proof binds it",
                    info.chain_id
                )
            })?;
            let chain_id = info.chain_id.clone();
            let pk = match pk {
                Some(pk) => pk,
                None => default_proving_key(g)?,
            };
            claim.patient = resolve_offline(g, &claim.patient)?;
            claim.grantee = resolve_offline(g, &claim.grantee)?;
            let command = ProofsCommand::Prove {
                pk,
                chain_id,
                consent_contract,
                claim,
                out,
            };
            let progress = Progress::new(
                g.output == crate::output::Format::Json,
                "proving (Groth16, BLS12-381)",
            );
            let result = healthmesh_proofs::cli::run(command);
            progress.finish();
            result
        }
        other => run_on_chain(g, other).await,
    }
}

async fn run_on_chain(g: &GlobalArgs, command: AttestCommand) -> Result<()> {
    let ctx = Ctx::new(g)?;
    let attestation = ctx.contract("attestation")?;
    let mut funds = vec![];
    let msg = match command {
        AttestCommand::Anchor {
            commitment,
            attribute,
            dataset,
            patient,
        } => ExecuteMsg::Anchor {
            commitment: parse_hex("--commitment", &commitment)?,
            attribute,
            dataset: parse_hex("--dataset", &dataset)?,
            patient: ctx.address(&patient)?.to_string(),
        },
        AttestCommand::Submit { proof, expires_at } => {
            let file = read_proof_file(&proof)?;
            let context = &file.statement.context;
            if context.chain_id != ctx.info.chain_id {
                bail!(
                    "{} was proved for chain {}, not {}: it would not verify here",
                    proof.display(),
                    context.chain_id,
                    ctx.info.chain_id
                );
            }
            if let Some(consent) = ctx.info.contracts.get("consent") {
                if context.consent_contract != *consent {
                    bail!(
                        "{} was proved for consent contract {}, not this chain's {consent}: it would not verify here",
                        proof.display(),
                        context.consent_contract
                    );
                }
            }
            ExecuteMsg::SubmitAttestation {
                circuit_id: file.vk_id.clone(),
                attribute: file.statement.attribute.as_str().to_string(),
                predicate: file.statement.predicate.clone(),
                commitment: HexBinary::from(file.statement.commitment.as_slice()),
                consent_token_id: context.consent_id.clone(),
                proof: Binary::new(
                    hex::decode(&file.proof).context("the proof file's proof is not hex")?,
                ),
                expires_at: expires_at.map(Timestamp::from_seconds),
            }
        }
        AttestCommand::Send {
            attestation_id,
            to,
            channel,
            timeout_seconds,
            urgent,
            fee,
        } => {
            let channel_id = match (channel, to) {
                (Some(c), _) => c,
                (None, Some(to)) => {
                    let d = g.deployment()?;
                    let dest = d.chain(&to)?.chain_id.clone();
                    let (lane, found) = if urgent {
                        ("urgent", d.urgent_channel(&ctx.info.chain_id, &dest))
                    } else {
                        ("bulk", d.channel(&ctx.info.chain_id, &dest))
                    };
                    found.ok_or_else(|| {
                        anyhow!(
                            "no {lane} attestation channel from {} to {dest} in the deployment",
                            ctx.info.chain_id
                        )
                    })?
                }
                (None, None) => bail!("pass --to CHAIN or --channel ID"),
            };
            let fee = match (fee, urgent) {
                (Some(fee), _) => Some(fee),
                (None, true) => {
                    let config: ConfigResponse =
                        ctx.query(&attestation, &QueryMsg::Config {}).await?;
                    let least = config.urgent_fee.ok_or_else(|| {
                        anyhow!("governance has set no urgent fee: the urgent lane is closed")
                    })?;
                    if least.denom != ctx.info.denom {
                        bail!(
                            "the urgent fee is in {}, pass --fee in {}",
                            least.denom,
                            ctx.info.denom
                        );
                    }
                    Some(least.amount.u128())
                }
                (None, false) => None,
            };
            if let Some(fee) = fee.filter(|f| *f > 0) {
                funds.push(healthmesh_client::tx::coin(fee, &ctx.info.denom)?);
            }
            ExecuteMsg::SendAttestation {
                attestation_id,
                channel_id,
                timeout_seconds,
            }
        }
        AttestCommand::PropagateRevocation { consent_token_id } => {
            ExecuteMsg::PropagateRevocation { consent_token_id }
        }
        AttestCommand::InvalidateAttester { attester } => ExecuteMsg::InvalidateAttester {
            attester: ctx.address(&attester)?.to_string(),
        },
        AttestCommand::List {
            grantee,
            commitment,
            consent,
            source_chain,
            start_after,
            limit,
        } => {
            let q = match (grantee, commitment, consent) {
                (Some(g), _, _) => QueryMsg::AttestationsByGrantee {
                    grantee: ctx.address(&g)?.to_string(),
                    start_after,
                    limit,
                },
                (_, Some(c), _) => QueryMsg::AttestationsByCommitment {
                    commitment: parse_hex("--commitment", &c)?,
                    start_after,
                    limit,
                },
                (_, _, Some(consent_id)) => QueryMsg::AttestationsByConsent {
                    source_chain: source_chain.unwrap_or_else(|| ctx.info.chain_id.clone()),
                    consent_id,
                    start_after,
                    limit,
                },
                _ => bail!("pass --grantee, --commitment or --consent"),
            };
            let page: AttestationsResponse = ctx.query(&attestation, &q).await?;
            print_value(&page);
            return Ok(());
        }
        AttestCommand::Show { id } => {
            let a: Attestation = ctx
                .query(&attestation, &QueryMsg::Attestation { id })
                .await?;
            print_value(&a);
            return Ok(());
        }
        AttestCommand::Commit(_) | AttestCommand::Prove { .. } => {
            unreachable!("handled offline")
        }
    };
    let outcome = ctx.execute(&attestation, &msg, funds).await?;
    print_tx(&outcome, ctx.json());
    Ok(())
}

/// Role names resolve through the deployment when a chain is selected; addresses pass.
fn resolve_offline(g: &GlobalArgs, name: &str) -> Result<String> {
    Ok(match g.chain_info() {
        Ok(info) => info.account(name),
        Err(_) => name.to_string(),
    })
}

fn default_proving_key(g: &GlobalArgs) -> Result<PathBuf> {
    let deployment = g
        .deployment
        .clone()
        .unwrap_or_else(healthmesh_client::Deployment::default_path);
    let pk = deployment
        .parent()
        .map(|dir| dir.join("proof-keys").join(healthmesh_proofs::cli::PK_FILE))
        .filter(|p| p.exists())
        .ok_or_else(|| {
            anyhow!("no proving key: pass --pk FILE (or run `make localnet`, which makes one)")
        })?;
    Ok(pk)
}

fn read_proof_file(path: &std::path::Path) -> Result<ProofFile> {
    let file: ProofFile = serde_json::from_slice(&read_file(path)?).with_context(|| {
        format!(
            "{} is not a proof file (from `hmesh attest prove`)",
            path.display()
        )
    })?;
    if file.version != 1 {
        bail!(
            "{}: unsupported proof file version {}",
            path.display(),
            file.version
        );
    }
    Ok(file)
}
