//! `hmesh research …`: a client of the research gateway, signing every request with the
//! researcher's chain key (the scheme in `healthmesh_research::auth`).

use anyhow::{Context as _, Result};
use clap::Subcommand;
use healthmesh_research::auth::{self, RequestSigner};
use healthmesh_research::pb;
use healthmesh_research::pb::research_service_client::ResearchServiceClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use crate::context::GlobalArgs;
use crate::output::{print_json, Format};

const SERVICE: &str = "/healthmesh.research.v1.ResearchService/";

#[derive(Subcommand)]
pub enum ResearchCommand {
    /// Count distinct patients with a valid attestation of a predicate under your consent
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
    /// Your attestations (streamed): validity and provenance, without their statements.
    List {
        #[arg(long, value_delimiter = ',')]
        chains: Vec<String>,
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

/// Where to send requests and whom to sign them for.
pub struct Target {
    /// `http://host:port` or `https://host:port`.
    pub url: String,
    /// The gateway's audience; default: host:port of the URL.
    pub audience: Option<String>,
    /// CA certificate (PEM) to trust for an https gateway, instead of the system's roots.
    pub tls_ca: Option<std::path::PathBuf>,
}

async fn connect(target: &Target) -> Result<Channel> {
    let gateway = &target.url;
    let mut endpoint = Channel::from_shared(gateway.clone())
        .context("--gateway must be a URL like http://127.0.0.1:9390")?;
    if gateway.starts_with("https://") {
        let mut tls = ClientTlsConfig::new();
        tls = match &target.tls_ca {
            Some(file) => {
                let pem = std::fs::read(file)
                    .with_context(|| format!("reading --tls-ca {}", file.display()))?;
                tls.ca_certificate(Certificate::from_pem(pem))
            }
            None => tls.with_native_roots(),
        };
        endpoint = endpoint
            .tls_config(tls)
            .context("configuring TLS for the gateway")?;
    } else if target.tls_ca.is_some() {
        anyhow::bail!("--tls-ca is for https:// gateways; --gateway is {gateway}");
    }
    endpoint
        .connect()
        .await
        .with_context(|| format!("cannot reach the gateway at {gateway}"))
}

pub async fn run(g: &GlobalArgs, target: &Target, command: ResearchCommand) -> Result<()> {
    let audience = match &target.audience {
        Some(a) => a.clone(),
        None => auth::default_audience(&target.url).with_context(|| {
            format!(
                "cannot tell the gateway's audience from --gateway {}: give --audience",
                target.url
            )
        })?,
    };
    let signer = RequestSigner::new(g.signer()?.signing_key, audience)
        .map_err(|e| anyhow::anyhow!("--audience: {e}"))?;
    let channel = connect(target).await?;
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
                println!("fewer than {} patients (suppressed)", res.k);
            } else {
                println!("{} patients", res.count);
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
            consent_id,
            include_invalid,
            page_size,
        } => {
            let req = pb::ListAttestationsRequest {
                chains,
                attribute: String::new(),
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
    serde_json::json!({"chain_id": key.chain_id, "id": key.id, "consent_id": a.consent_id, "purpose": a.purpose, "attester": a.attester, "circuit_id": a.circuit_id,
        "validity": pb::Validity::try_from(a.validity).map(|v| v.as_str_name()).unwrap_or("?"),
        "recorded_at": a.recorded_at, "expires_at": a.expires_at,
        "provenance": provenance_json(&a.provenance.clone().unwrap_or_default())})
}
