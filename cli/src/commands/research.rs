//! `hmesh research …`: a client of the research gateway, signing every request with the
//! researcher's chain key (the scheme in `healthmesh_research::auth`).

use anyhow::{Context as _, Result};
use clap::Subcommand;
use healthmesh_research::auth::RequestSigner;
use healthmesh_research::pb;
use healthmesh_research::pb::research_service_client::ResearchServiceClient;
use tonic::transport::Channel;

use crate::context::GlobalArgs;
use crate::output::{print_json, Format};

const SERVICE: &str = "/healthmesh.research.v1.ResearchService/";

#[derive(Subcommand)]
pub enum ResearchCommand {
    /// Count distinct subjects with a valid attestation of a predicate under your consent
    /// grants for a purpose (suppressed below the gateway's k).
    Count {
        #[arg(long)]
        attribute: String,
        #[arg(long)]
        op: String,
        #[arg(long, value_delimiter = ',', required = true)]
        values: Vec<u64>,
        #[arg(long)]
        purpose: String,
        /// Chain ids to count on (default: all indexed).
        #[arg(long, value_delimiter = ',')]
        chains: Vec<String>,
    },
    /// One attestation visible to you.
    Get { chain_id: String, id: u64 },
    /// Your attestations (streamed).
    List {
        #[arg(long, value_delimiter = ',')]
        chains: Vec<String>,
        #[arg(long, default_value = "")]
        attribute: String,
        #[arg(long, default_value = "")]
        consent_id: String,
        #[arg(long)]
        include_invalid: bool,
        #[arg(long, default_value_t = 100)]
        page_size: u32,
    },
    /// Have the gateway re-verify an attestation's proof and report its provenance.
    Verify { chain_id: String, id: u64 },
    /// Ask the consent contract (through the gateway) whether you may use an attribute.
    Check {
        #[arg(long = "on")]
        chain_id: String,
        #[arg(long)]
        dataset: String,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        attribute: String,
        #[arg(long, default_value = "")]
        token_id: String,
    },
}

fn status_error(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("gateway answered {:?}: {}", status.code(), status.message())
}

pub async fn run(g: &GlobalArgs, gateway: &str, command: ResearchCommand) -> Result<()> {
    let signer = RequestSigner::new(g.signer()?.signing_key);
    let channel = Channel::from_shared(gateway.to_string())
        .context("--gateway must be a URL like http://127.0.0.1:9390")?
        .connect()
        .await
        .with_context(|| format!("cannot reach the gateway at {gateway}"))?;
    let mut client = ResearchServiceClient::new(channel);
    let json = g.output == Format::Json;
    match command {
        ResearchCommand::Count {
            attribute,
            op,
            values,
            purpose,
            chains,
        } => {
            let req = pb::CountCohortRequest {
                chains,
                attribute,
                predicate: Some(pb::Predicate { op, values }),
                purpose,
            };
            let res = client
                .count_cohort(signer.request(&format!("{SERVICE}CountCohort"), req))
                .await
                .map_err(status_error)?
                .into_inner();
            if json {
                print_json(
                    &serde_json::json!({"count": res.count, "suppressed": res.suppressed, "k": res.k,
                    "indexed_heights": res.indexed_heights}),
                );
            } else if res.suppressed {
                println!("fewer than {} subjects (suppressed)", res.k);
            } else {
                println!("{} subjects", res.count);
            }
        }
        ResearchCommand::Get { chain_id, id } => {
            let req = pb::GetAttestationRequest {
                key: Some(pb::AttestationKey { chain_id, id }),
            };
            let res = client
                .get_attestation(signer.request(&format!("{SERVICE}GetAttestation"), req))
                .await
                .map_err(status_error)?;
            print_json(&attestation_json(&res.into_inner()));
        }
        ResearchCommand::List {
            chains,
            attribute,
            consent_id,
            include_invalid,
            page_size,
        } => {
            let req = pb::ListAttestationsRequest {
                chains,
                attribute,
                consent_id,
                commitment: String::new(),
                include_invalid,
                start_after: None,
                page_size,
            };
            let mut stream = client
                .list_attestations(signer.request(&format!("{SERVICE}ListAttestations"), req))
                .await
                .map_err(status_error)?
                .into_inner();
            let mut items = vec![];
            while let Some(item) = stream.message().await.map_err(status_error)? {
                items.push(attestation_json(&item));
            }
            if json {
                print_json(&items);
            } else {
                items.iter().for_each(print_json);
            }
        }
        ResearchCommand::Verify { chain_id, id } => {
            let req = pb::VerifyAttestationRequest {
                key: Some(pb::AttestationKey { chain_id, id }),
            };
            let res = client
                .verify_attestation(signer.request(&format!("{SERVICE}VerifyAttestation"), req))
                .await
                .map_err(status_error)?
                .into_inner();
            let p = res.provenance.unwrap_or_default();
            print_json(
                &serde_json::json!({"proof_valid": res.proof_valid, "reason": res.reason,
                "validity": pb::Validity::try_from(res.validity).map(|v| v.as_str_name()).unwrap_or("?"),
                "circuit_id": res.circuit_id, "provenance": provenance_json(&p)}),
            );
        }
        ResearchCommand::Check {
            chain_id,
            dataset,
            purpose,
            attribute,
            token_id,
        } => {
            let req = pb::CheckAccessRequest {
                chain_id,
                dataset,
                purpose,
                attribute,
                token_id,
            };
            let res = client
                .check_access(signer.request(&format!("{SERVICE}CheckAccess"), req))
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(
                &serde_json::json!({"allowed": res.allowed, "token_id": res.token_id, "reason": res.reason,
                "height": res.height}),
            );
        }
    }
    Ok(())
}

fn provenance_json(p: &pb::Provenance) -> serde_json::Value {
    serde_json::json!({"source_chain": p.source_chain, "source_id": p.source_id, "channel_id": p.channel_id,
        "sequence": p.sequence, "relayer": p.relayer, "height": p.height, "tx_hash": p.tx_hash})
}

fn attestation_json(a: &pb::Attestation) -> serde_json::Value {
    let key = a.key.clone().unwrap_or_default();
    let predicate = a.predicate.clone().unwrap_or_default();
    serde_json::json!({"chain_id": key.chain_id, "id": key.id, "attribute": a.attribute,
        "predicate": {"op": predicate.op, "values": predicate.values}, "commitment": a.commitment,
        "consent_id": a.consent_id, "purpose": a.purpose, "attester": a.attester, "circuit_id": a.circuit_id,
        "validity": pb::Validity::try_from(a.validity).map(|v| v.as_str_name()).unwrap_or("?"),
        "recorded_at": a.recorded_at, "expires_at": a.expires_at,
        "provenance": provenance_json(&a.provenance.clone().unwrap_or_default())})
}
