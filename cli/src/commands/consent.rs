//! `hmesh consent …`: the consent contract.

use anyhow::{bail, Result};
use clap::Subcommand;
use cosmwasm_std::Timestamp;
use cw_utils::Expiration;
use healthmesh_client::market::describe_offer;
use healthmesh_types::consent::{
    CheckAccessResponse, ConsentResponse, ConsentsResponse, ExecuteMsg, Offer, OffersResponse,
    QueryMsg,
};

use super::parse_hex;
use crate::context::{Ctx, GlobalArgs};
use crate::output::{print_tx, print_value};

#[derive(Subcommand)]
pub enum ConsentCommand {
    /// Grant a grantee (researcher) access to a dataset for one purpose and scope. Signed by
    /// the patient; prints the new token id.
    Grant {
        /// Grantee address (or localnet role name).
        #[arg(long)]
        grantee: String,
        /// Dataset commitment, hex.
        #[arg(long)]
        dataset: String,
        #[arg(long)]
        purpose: String,
        /// Attribute codes covered, comma separated (e.g. hba1c,age).
        #[arg(long, value_delimiter = ',', required = true)]
        scope: Vec<String>,
        /// Expire this many seconds from now (default: never).
        #[arg(long, conflicts_with = "expires_at_height")]
        expires_in: Option<u64>,
        /// Expire at this block height.
        #[arg(long)]
        expires_at_height: Option<u64>,
    },
    /// Name the custodian (bonded attester) that holds a dataset of yours: only it may anchor
    /// the dataset's records and have attestations made over them. Signed by the patient.
    DesignateCustodian {
        /// Dataset commitment, hex.
        #[arg(long)]
        dataset: String,
        /// Custodian address (or localnet role name).
        #[arg(long, required_unless_present = "remove")]
        custodian: Option<String>,
        /// Withdraw the designation instead.
        #[arg(long, conflicts_with = "custodian")]
        remove: bool,
    },
    /// Revoke a consent token (the record is kept, marked revoked).
    Revoke {
        token_id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Record a use of a consent token (by its grantee).
    RecordAccess {
        token_id: String,
        #[arg(long)]
        attribute: String,
        #[arg(long)]
        reference: Option<String>,
    },
    /// List consent tokens by patient, grantee or dataset (default: patient = --from).
    List {
        #[arg(long, conflicts_with_all = ["grantee", "dataset"])]
        patient: Option<String>,
        #[arg(long, conflicts_with = "dataset")]
        grantee: Option<String>,
        #[arg(long)]
        dataset: Option<String>,
        #[arg(long)]
        start_after: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Ask the consent contract whether a grantee may use an attribute of a dataset.
    Check {
        #[arg(long)]
        grantee: String,
        #[arg(long)]
        dataset: String,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        attribute: String,
        #[arg(long)]
        token_id: Option<String>,
        #[arg(long)]
        patient: Option<String>,
    },
    /// Show one consent token.
    Show { token_id: String },
    /// Publish a standing offer: researchers buy access to a dataset of yours on the billing
    /// chain (`hmesh billing buy`), and you are paid there. Signed by the patient.
    Offer {
        /// Dataset commitment, hex.
        #[arg(long)]
        dataset: String,
        /// Purposes a buyer may choose from, comma separated.
        #[arg(long, value_delimiter = ',', required = true)]
        purposes: Vec<String>,
        /// Attribute codes a buyer may choose from, comma separated.
        #[arg(long, value_delimiter = ',', required = true)]
        scope: Vec<String>,
        /// Longest access one purchase buys, in days.
        #[arg(long)]
        max_days: u64,
        /// Price per purchase, paid on the billing chain.
        #[arg(long)]
        price: u128,
        /// Denom of the price (default: the chain's denom).
        #[arg(long)]
        denom: Option<String>,
        /// Your payout address on the billing chain (default: your own key there).
        #[arg(long)]
        payout: Option<String>,
        /// Only these grantees may buy (addresses or role names), comma separated.
        #[arg(long, value_delimiter = ',')]
        buyers: Option<Vec<String>>,
        /// Stop selling after this many sales.
        #[arg(long)]
        max_sales: Option<u32>,
    },
    /// Withdraw one of your offers; purchases still on their way are refused and refunded.
    WithdrawOffer { offer_id: u64 },
    /// List offers, newest first, in plain language (JSON with -o json).
    Offers {
        /// Only this patient's offers (address or role name).
        #[arg(long)]
        patient: Option<String>,
        /// Only offers still open.
        #[arg(long)]
        open: bool,
        #[arg(long)]
        start_before: Option<u64>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show one offer in plain language (JSON with -o json).
    ShowOffer { offer_id: u64 },
}

pub async fn run(g: &GlobalArgs, command: ConsentCommand) -> Result<()> {
    let ctx = Ctx::new(g)?;
    let consent = ctx.contract("consent")?;
    let msg = match command {
        ConsentCommand::Grant {
            grantee,
            dataset,
            purpose,
            scope,
            expires_in,
            expires_at_height,
        } => {
            let expires = match (expires_in, expires_at_height) {
                (Some(secs), _) => {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)?
                        .as_secs();
                    Expiration::AtTime(Timestamp::from_seconds(now.saturating_add(secs)))
                }
                (None, Some(height)) => Expiration::AtHeight(height),
                (None, None) => Expiration::Never {},
            };
            ExecuteMsg::GrantConsent {
                grantee: ctx.address(&grantee)?.to_string(),
                dataset: parse_hex("--dataset", &dataset)?,
                purpose,
                scope,
                expires,
            }
        }
        ConsentCommand::DesignateCustodian {
            dataset,
            custodian,
            remove: _,
        } => ExecuteMsg::DesignateCustodian {
            dataset: parse_hex("--dataset", &dataset)?,
            custodian: custodian
                .map(|c| ctx.address(&c).map(|a| a.to_string()))
                .transpose()?,
        },
        ConsentCommand::Revoke { token_id, reason } => {
            ExecuteMsg::RevokeConsent { token_id, reason }
        }
        ConsentCommand::RecordAccess {
            token_id,
            attribute,
            reference,
        } => ExecuteMsg::RecordAccess {
            token_id,
            attribute,
            reference,
        },
        ConsentCommand::List {
            patient,
            grantee,
            dataset,
            start_after,
            limit,
        } => {
            let q = match (patient, grantee, dataset) {
                (_, Some(g), _) => QueryMsg::GrantsByGrantee {
                    grantee: ctx.address(&g)?.to_string(),
                    start_after,
                    limit,
                },
                (_, _, Some(d)) => QueryMsg::GrantsByDataset {
                    dataset: parse_hex("--dataset", &d)?,
                    start_after,
                    limit,
                },
                (Some(p), _, _) => QueryMsg::GrantsByPatient {
                    patient: ctx.address(&p)?.to_string(),
                    start_after,
                    limit,
                },
                (None, None, None) => {
                    let Ok(key) = ctx.signer() else {
                        bail!("pass --patient, --grantee or --dataset (or --from to list your own grants)");
                    };
                    QueryMsg::GrantsByPatient {
                        patient: key.address(&ctx.info.bech32_prefix)?,
                        start_after,
                        limit,
                    }
                }
            };
            let page: ConsentsResponse = ctx.query(&consent, &q).await?;
            print_value(&page);
            return Ok(());
        }
        ConsentCommand::Check {
            grantee,
            dataset,
            purpose,
            attribute,
            token_id,
            patient,
        } => {
            let patient = patient
                .map(|p| ctx.address(&p).map(|a| a.to_string()))
                .transpose()?;
            let q = QueryMsg::CheckAccess {
                grantee: ctx.address(&grantee)?.to_string(),
                dataset: parse_hex("--dataset", &dataset)?,
                purpose,
                attribute,
                token_id,
                patient,
            };
            let answer: CheckAccessResponse = ctx.query(&consent, &q).await?;
            if ctx.json() {
                print_value(&answer);
            } else if answer.allowed {
                println!("allowed (token {})", answer.token_id.unwrap_or_default());
            } else {
                println!(
                    "denied: {}",
                    serde_json::to_value(&answer.reason)?
                        .as_str()
                        .unwrap_or("unknown")
                );
            }
            return Ok(());
        }
        ConsentCommand::Offer {
            dataset,
            purposes,
            scope,
            max_days,
            price,
            denom,
            payout,
            buyers,
            max_sales,
        } => {
            let buyers = buyers
                .map(|list| {
                    list.iter()
                        .map(|b| ctx.address(b).map(|a| a.to_string()))
                        .collect::<Result<Vec<_>>>()
                })
                .transpose()?;
            ExecuteMsg::PublishOffer {
                dataset: parse_hex("--dataset", &dataset)?,
                purposes,
                scope,
                max_duration_seconds: max_days.saturating_mul(86_400),
                price: cosmwasm_std::coin(price, denom.unwrap_or_else(|| ctx.info.denom.clone())),
                payout,
                buyers,
                max_sales,
            }
        }
        ConsentCommand::WithdrawOffer { offer_id } => ExecuteMsg::WithdrawOffer { offer_id },
        ConsentCommand::Offers {
            patient,
            open,
            start_before,
            limit,
        } => {
            let q = QueryMsg::Offers {
                patient: patient
                    .map(|p| ctx.address(&p).map(|a| a.to_string()))
                    .transpose()?,
                start_before,
                limit,
            };
            let mut page: OffersResponse = ctx.query(&consent, &q).await?;
            if open {
                page.offers
                    .retain(|o| o.status == healthmesh_types::consent::OfferStatus::Open);
            }
            if ctx.json() {
                print_value(&page);
            } else if page.offers.is_empty() {
                println!("no offers");
            } else {
                for offer in &page.offers {
                    println!("{}\n", describe_offer(offer));
                }
            }
            return Ok(());
        }
        ConsentCommand::ShowOffer { offer_id } => {
            let offer: Offer = ctx.query(&consent, &QueryMsg::Offer { offer_id }).await?;
            if ctx.json() {
                print_value(&offer);
            } else {
                println!("{}", describe_offer(&offer));
            }
            return Ok(());
        }
        ConsentCommand::Show { token_id } => {
            let c: ConsentResponse = ctx.query(&consent, &QueryMsg::Consent { token_id }).await?;
            print_value(&c);
            return Ok(());
        }
    };
    let outcome = ctx.execute(&consent, &msg, vec![]).await?;
    print_tx(&outcome, ctx.json());
    Ok(())
}
