//! `hmesh billing …`: the billing contract on the billing chain (`--chain billing`).

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use clap::Subcommand;
use healthmesh_client::market::{describe_offer, totals_text, Account};
use healthmesh_client::ChainClient;
use healthmesh_types::billing::{
    BalanceResponse, ExecuteMsg, MarketResponse, Purchase, PurchaseStatus, PurchasesResponse,
    QueryMsg,
};
use healthmesh_types::consent::{self, Offer};
use healthmesh_types::events::{self, attr};

use crate::context::{Ctx, GlobalArgs};
use crate::output::{print_json, print_tx, print_value, Progress};

#[derive(Subcommand)]
pub enum BillingCommand {
    /// Buy access to a patient's offer on another chain: the payment is escrowed here, the
    /// consent token is minted to your key on the offer's chain, and the payment is split
    /// (or refunded in full if the offer refuses or the packet times out).
    Buy {
        /// The chain holding the offer (a deployment name such as `genomics`, or a chain id).
        #[arg(long)]
        offer_chain: String,
        /// The offer's id there (`hmesh --chain genomics consent offers`).
        #[arg(long)]
        offer: u64,
        /// One of the offer's purposes.
        #[arg(long)]
        purpose: String,
        /// Attribute codes wanted (a subset of the offer's scope), comma separated.
        #[arg(long, value_delimiter = ',', required = true)]
        scope: Vec<String>,
        /// Length of access in days (at most the offer's maximum).
        #[arg(long)]
        days: u64,
        /// The price to pay (default: read from the offer on its chain).
        #[arg(long)]
        price: Option<u128>,
        /// Wait until the purchase is settled or refunded, and say which.
        #[arg(long)]
        wait: bool,
    },
    /// Show one purchase.
    Purchase { purchase_id: u64 },
    /// A buyer's purchases, newest first (default: --from).
    Purchases {
        #[arg(long)]
        buyer: Option<String>,
        #[arg(long)]
        start_before: Option<u64>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// An address's earnings and spending, reconstructed from the billing contract's state:
    /// shares earned by role, withdrawn, unclaimed; spent, refunded, in escrow.
    History {
        /// Address or role name (default: --from).
        #[arg(long)]
        address: Option<String>,
    },
    /// What an address may withdraw now (default: --from).
    Balance {
        #[arg(long)]
        address: Option<String>,
    },
    /// Pay out your unclaimed balance.
    Withdraw,
    /// The market's rules: revenue split, treasury, price floors, packet timeout.
    Market,
}

pub async fn run(g: &GlobalArgs, command: BillingCommand) -> Result<()> {
    let ctx = Ctx::new(g)?;
    let billing = ctx.contract("billing")?;
    let msg = match command {
        BillingCommand::Buy {
            offer_chain,
            offer,
            purpose,
            scope,
            days,
            price,
            wait,
        } => {
            let (chain_id, price) = match price {
                Some(price) => (offer_chain_id(g, &offer_chain), price),
                None => {
                    let offer = read_offer(g, &offer_chain, offer).await?;
                    eprintln!("{}", describe_offer(&offer.1));
                    (offer.0, offer.1.price.amount.u128())
                }
            };
            let msg = ExecuteMsg::Buy {
                chain_id,
                offer_id: offer,
                purpose,
                scope,
                duration_seconds: days.saturating_mul(86_400),
            };
            let outcome = ctx.execute(&billing, &msg, vec![ctx.coin(price)?]).await?;
            if !wait {
                print_tx(&outcome, ctx.json());
                return Ok(());
            }
            if !ctx.json() {
                print_tx(&outcome, false);
            }
            let id = outcome
                .attr(events::tx::PURCHASE_CREATED, attr::PURCHASE_ID)
                .and_then(|id| id.parse().ok())
                .context("the purchase id is not in the transaction's events")?;
            let purchase = wait_settled(&ctx, billing.as_ref(), id).await?;
            if ctx.json() {
                // One JSON document: the transaction and the purchase it settled into.
                print_json(&serde_json::json!({ "tx": outcome, "purchase": purchase }));
            }
            return report(&purchase, ctx.json());
        }
        BillingCommand::Purchase { purchase_id } => {
            let p: Purchase = ctx
                .query(&billing, &QueryMsg::Purchase { purchase_id })
                .await?;
            print_value(&p);
            return Ok(());
        }
        BillingCommand::Purchases {
            buyer,
            start_before,
            limit,
        } => {
            let q = QueryMsg::PurchasesByBuyer {
                buyer: subject(&ctx, buyer)?,
                start_before,
                limit,
            };
            let page: PurchasesResponse = ctx.query(&billing, &q).await?;
            print_value(&page);
            return Ok(());
        }
        BillingCommand::History { address } => {
            let address = subject(&ctx, address)?;
            let account = Account::load(&ctx.client, billing.as_ref(), &address).await?;
            if ctx.json() {
                print_json(&account);
            } else {
                print_account(&account);
            }
            return Ok(());
        }
        BillingCommand::Balance { address } => {
            let q = QueryMsg::Balance {
                address: subject(&ctx, address)?,
            };
            let balance: BalanceResponse = ctx.query(&billing, &q).await?;
            print_value(&balance);
            return Ok(());
        }
        BillingCommand::Withdraw => ExecuteMsg::Withdraw {},
        BillingCommand::Market => {
            let market: MarketResponse = ctx.query(&billing, &QueryMsg::Market {}).await?;
            print_value(&market);
            return Ok(());
        }
    };
    let outcome = ctx.execute(&billing, &msg, vec![]).await?;
    print_tx(&outcome, ctx.json());
    Ok(())
}

/// The address named, or `--from`'s.
fn subject(ctx: &Ctx, named: Option<String>) -> Result<String> {
    match named {
        Some(name) => Ok(ctx.address(&name)?.to_string()),
        None => {
            let key = ctx
                .signer()
                .map_err(|_| anyhow!("pass --address (or --from for your own)"))?;
            Ok(key.address(&ctx.info.bech32_prefix)?)
        }
    }
}

/// A deployment chain name resolves to its chain id; anything else is taken as a chain id.
fn offer_chain_id(g: &GlobalArgs, name: &str) -> String {
    g.deployment()
        .ok()
        .and_then(|d| d.chain(name).ok().map(|c| c.chain_id.clone()))
        .unwrap_or_else(|| name.to_string())
}

/// The offer on its chain (needs the deployment to find that chain's consent contract).
async fn read_offer(g: &GlobalArgs, chain: &str, offer_id: u64) -> Result<(String, Offer)> {
    let d = g
        .deployment()
        .context("reading the offer's price needs a deployment; or pass --price")?;
    let info = d.chain(chain)?;
    let consent = info
        .contracts
        .get("consent")
        .with_context(|| format!("no consent contract on {}", info.chain_id))?;
    let client = ChainClient::new(&info.rpc, &info.chain_id, &info.bech32_prefix)?;
    let offer: Offer = client
        .smart(consent, &consent::QueryMsg::Offer { offer_id })
        .await
        .with_context(|| format!("offer {offer_id} on {}", info.chain_id))?;
    Ok((info.chain_id.clone(), offer))
}

async fn wait_settled(ctx: &Ctx<'_>, billing: &str, id: u64) -> Result<Purchase> {
    let progress = Progress::new(
        ctx.json(),
        &format!("purchase {id}: waiting for settlement"),
    );
    let started = Instant::now();
    let limit = Duration::from_secs(ctx.args.timeout.max(120));
    let result = loop {
        let p: Purchase = ctx
            .client
            .smart(billing, &QueryMsg::Purchase { purchase_id: id })
            .await?;
        if p.status != PurchaseStatus::Open {
            break Ok(p);
        }
        if started.elapsed() > limit {
            break Err(anyhow!(
                "purchase {id} still open after {} s: is the relayer running? It settles or is refunded when the packet is acknowledged or times out",
                limit.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    progress.finish();
    result
}

fn report(p: &Purchase, json: bool) -> Result<()> {
    match &p.status {
        PurchaseStatus::Settled {
            token_id,
            grantee,
            payouts,
            ..
        } => {
            if !json {
                println!(
                    "settled: consent token {token_id} on {} to {grantee}",
                    p.chain_id
                );
                for payout in payouts {
                    println!(
                        "  {:?}: {} to {}",
                        payout.role, payout.amount, payout.address
                    );
                }
            }
            Ok(())
        }
        PurchaseStatus::Refunded { reason, .. } => {
            bail!("purchase {} refunded in full: {reason}", p.id)
        }
        PurchaseStatus::Disputed { reason, .. } => bail!(
            "purchase {} is disputed (its escrow waits for governance's resolve_dispute): {reason}",
            p.id
        ),
        PurchaseStatus::Open => bail!("purchase {} is still open", p.id),
    }
}

fn print_account(a: &Account) {
    println!("address: {}", a.address);
    if a.earned.is_empty() {
        println!("earned: nothing");
    }
    for (role, totals) in &a.earned {
        println!("earned as {role}: {}", totals_text(totals));
    }
    println!("withdrawn: {}", totals_text(&a.withdrawn));
    println!("unclaimed: {}", totals_text(&a.unclaimed));
    println!(
        "spent on {} purchase(s): {}",
        a.purchases.len(),
        totals_text(&a.spent)
    );
    println!("refunded: {}", totals_text(&a.refunded));
    println!("in escrow: {}", totals_text(&a.in_escrow));
}
