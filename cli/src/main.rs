//! `hmesh`: the HealthMesh command-line tool. Signs and broadcasts real transactions to the
//! HealthMesh chains (cosmrs, SIGN_MODE_DIRECT, tendermint-rpc) and queries their contracts,
//! with the contracts' own message types from `healthmesh-types`.

mod commands;
mod context;
mod output;

use clap::{CommandFactory, Parser, Subcommand};

use commands::{attest, billing, chain, consent, dao, keys, research, stake, trials};
use context::GlobalArgs;

/// HealthMesh: consent, staking, governance and attestations across the HealthMesh chains.
///
/// With a localnet running (`make localnet`), `--chain genomics|trials|billing` reads nodes,
/// chain ids, contract addresses and role keys from `.localnet/deployment.json`, e.g.
/// `hmesh --chain genomics --keyring-backend test --from dao-1 dao vote 1 yes`.
#[derive(Parser)]
#[command(
    name = "hmesh",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage keys: create, import (BIP-39), list, show, delete.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// DAO proposals: propose, vote, execute, close, list, show, votes, power.
    #[command(subcommand)]
    Dao(dao::DaoCommand),
    /// Security council: pause, unpause, veto (8 of 12 approvals act).
    #[command(subcommand)]
    Council(dao::CouncilCommand),
    /// Patient consent tokens and offers: grant, revoke, list, check, record-access, show,
    /// offer, offers, withdraw-offer.
    #[command(subcommand)]
    Consent(consent::ConsentCommand),
    /// The market on the billing chain: buy, purchase(s), history, balance, withdraw, market.
    #[command(subcommand)]
    Billing(billing::BillingCommand),
    /// Clinical trials on the trials chain: register, show, list, enroll, withdraw,
    /// participant(s), sites.
    #[command(subcommand)]
    Trials(trials::TrialsCommand),
    /// Custodian stake: bond, unbond, claim, show, rewards.
    #[command(subcommand)]
    Stake(stake::StakeCommand),
    /// Attestations: commit, anchor, prove, submit, send, list, show.
    #[command(subcommand)]
    Attest(attest::AttestCommand),
    /// Chain information: status of the configured chains.
    #[command(subcommand)]
    Chain(chain::ChainCommand),
    /// Researcher queries to the research gateway, signed with your key: count, get, list,
    /// verify, check.
    Research {
        /// Gateway URL.
        #[arg(
            long,
            env = "HMESH_GATEWAY",
            default_value = "http://127.0.0.1:9390",
            global = true
        )]
        gateway: String,
        /// The gateway's audience, which requests are signed for (its --audience). Default:
        /// host:port of --gateway.
        #[arg(long, env = "HMESH_GATEWAY_AUDIENCE", global = true)]
        audience: Option<String>,
        /// For an https:// gateway: trust this CA certificate (PEM) instead of the system's
        /// roots, e.g. a self-signed gateway certificate.
        #[arg(long, env = "HMESH_GATEWAY_TLS_CA", global = true)]
        tls_ca: Option<std::path::PathBuf>,
        #[command(subcommand)]
        command: research::ResearchCommand,
    },
    /// Print shell completions, e.g. `hmesh completions bash > /etc/bash_completion.d/hmesh`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

fn main() {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let json = cli.global.output == output::Format::Json;
    if let Err(err) = runtime.block_on(run(cli)) {
        output::print_error(&err, json);
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let g = cli.global;
    match cli.command {
        Command::Keys(c) => keys::run(&g, c),
        Command::Dao(c) => dao::run(&g, c).await,
        Command::Council(c) => dao::run_council(&g, c).await,
        Command::Consent(c) => consent::run(&g, c).await,
        Command::Billing(c) => billing::run(&g, c).await,
        Command::Stake(c) => stake::run(&g, c).await,
        Command::Trials(c) => trials::run(&g, c).await,
        Command::Attest(c) => attest::run(&g, c).await,
        Command::Chain(c) => chain::run(&g, c).await,
        Command::Research {
            gateway,
            audience,
            tls_ca,
            command,
        } => {
            let target = research::Target {
                url: gateway,
                audience,
                tls_ca,
            };
            research::run(&g, &target, command).await
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "hmesh", &mut std::io::stdout());
            Ok(())
        }
    }
}
