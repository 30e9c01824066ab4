//! The HealthMesh contracts on each chain, deployed through `healthmesh-client` with the
//! contracts' own message types: store the four codes, instantiate governance (which
//! instantiates staking), consent and — at its predicted `instantiate2` address, already
//! bound to its counterparts' ports — attestation, then bond the DAO members and the custodian.

use std::collections::BTreeMap;

use anyhow::{ensure, Context, Result};
use cosmwasm_std::{Binary, Decimal, Uint128};
use healthmesh_client::deployment::contract;
use healthmesh_client::tx::{coin, instantiate2_address, Instantiation};
use healthmesh_client::{localnet_options, ChainInfo, Deployment, Wallet};
use healthmesh_types::{attestation, billing, consent, governance, staking, trials};
use sha2::{Digest, Sha256};

use crate::chains::client;
use crate::layout::{
    ports, roles, Layout, ATTESTATION_SALT, BILLING_CHAIN, BILLING_SALT, CHAINS, CONSENT_SALT,
    COUNCIL_SIZE, COUNCIL_THRESHOLD, DENOM, GOVERNANCE_SALT, GOV_DEPOSIT, PREFIX, PRICE_FLOOR,
    SPLIT, TRIALS_CHAIN, TRIALS_SALT, URGENT_FEE,
};
use crate::process::log;

const CONTRACTS: [&str; 6] = [
    contract::CONSENT,
    contract::STAKING,
    contract::GOVERNANCE,
    contract::ATTESTATION,
    contract::BILLING,
    contract::TRIALS,
];

/// Whether `name` is deployed on `chain` (billing and trials each live on one chain).
fn deployed_on(name: &str, chain: &str) -> bool {
    match name {
        contract::BILLING => chain == BILLING_CHAIN,
        contract::TRIALS => chain == TRIALS_CHAIN,
        _ => true,
    }
}
/// Voting power for the DAO members and an active attester (uSTAKE bonded).
const BONDS: [(&str, u128); 4] = [
    ("dao-1", 5_000_000),
    ("dao-2", 3_000_000),
    ("dao-3", 2_000_000),
    ("custodian", 2_000_000),
];

/// What every chain's deployment shares: the optimised wasm and the verifying key.
pub struct Artifacts {
    pub wasm: BTreeMap<&'static str, Vec<u8>>,
    pub verifying_key: Vec<u8>,
}

impl Artifacts {
    pub fn load(layout: &Layout, verifying_key: Vec<u8>) -> Result<Self> {
        let mut wasm = BTreeMap::new();
        for name in CONTRACTS {
            let path = layout.artifact(name);
            wasm.insert(
                name,
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
            );
        }
        Ok(Artifacts {
            wasm,
            verifying_key,
        })
    }

    fn checksum(&self, name: &str) -> Vec<u8> {
        Sha256::digest(&self.wasm[name]).to_vec()
    }
}

/// Every chain's address of the contract `name` (instantiated with `salt`) before it exists
/// (checksum, deployer, salt).
fn predicted(
    layout: &Layout,
    artifacts: &Artifacts,
    name: &str,
    salt: &[u8],
) -> Result<BTreeMap<String, String>> {
    let checksum = artifacts.checksum(name);
    CHAINS
        .iter()
        .map(|chain| {
            let info = chain_info(layout, chain);
            let deployer = info.test_key("validator")?.address(PREFIX)?;
            let deployer = healthmesh_client::tx::parse_address(&deployer, PREFIX)?;
            Ok((
                chain.to_string(),
                instantiate2_address(&checksum, &deployer, salt)?,
            ))
        })
        .collect()
}

/// The addresses each chain's deployment binds to before they exist.
struct Predicted {
    attestation: BTreeMap<String, String>,
    governance: BTreeMap<String, String>,
    consent: BTreeMap<String, String>,
    billing: String,
    trials: String,
}

impl Predicted {
    fn new(layout: &Layout, artifacts: &Artifacts) -> Result<Self> {
        let billing = predicted(layout, artifacts, contract::BILLING, BILLING_SALT)?;
        let trials = predicted(layout, artifacts, contract::TRIALS, TRIALS_SALT)?;
        Ok(Predicted {
            trials: trials[TRIALS_CHAIN].clone(),
            attestation: predicted(layout, artifacts, contract::ATTESTATION, ATTESTATION_SALT)?,
            governance: predicted(layout, artifacts, contract::GOVERNANCE, GOVERNANCE_SALT)?,
            consent: predicted(layout, artifacts, contract::CONSENT, CONSENT_SALT)?,
            billing: billing[BILLING_CHAIN].clone(),
        })
    }
}

fn chain_info(layout: &Layout, chain: &str) -> ChainInfo {
    let p = ports(chain);
    ChainInfo {
        chain_id: chain.into(),
        rpc: format!("http://127.0.0.1:{}", p.rpc),
        grpc: format!("http://127.0.0.1:{}", p.grpc),
        api: format!("http://127.0.0.1:{}", p.api),
        denom: DENOM.into(),
        bech32_prefix: PREFIX.into(),
        home: Some(layout.chain_home(chain)),
        accounts: BTreeMap::new(),
        code_ids: BTreeMap::new(),
        contracts: BTreeMap::new(),
    }
}

/// Deploys on every chain that has no contracts yet, the chains in parallel; records each
/// chain in the deployment as soon as it is done.
pub async fn deploy_all(layout: &Layout, d: &mut Deployment, artifacts: &Artifacts) -> Result<()> {
    let predicted = Predicted::new(layout, artifacts)?;
    let pending: Vec<&str> = CHAINS
        .into_iter()
        .filter(|c| d.chains.get(*c).is_none_or(|i| i.contracts.is_empty()))
        .collect();
    for chain in CHAINS.iter().filter(|c| !pending.contains(c)) {
        log(format!("{chain}: contracts already deployed"));
    }
    use futures::stream::{FuturesUnordered, StreamExt};
    d.circuit_id = Some(hex::encode(Sha256::digest(&artifacts.verifying_key)));
    let connections = d.clone();
    let mut deployments: FuturesUnordered<_> = pending
        .iter()
        .map(|chain| deploy_chain(layout, &connections, artifacts, chain, &predicted))
        .collect();
    // Each chain is recorded the moment it is done, before any other finishes or fails: a
    // rerun must not deploy it again (its attestation address is taken).
    let mut failure = None;
    while let Some(result) = deployments.next().await {
        match result {
            Ok(info) => {
                d.chains.insert(info.chain_id.clone(), info);
                d.save(&layout.deployment())?;
            }
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    failure.map_or(Ok(()), Err)
}

async fn deploy_chain(
    layout: &Layout,
    d: &Deployment,
    artifacts: &Artifacts,
    chain: &str,
    predicted: &Predicted,
) -> Result<ChainInfo> {
    let mut info = chain_info(layout, chain);
    let client = client(chain)?;
    // An earlier run that died after instantiating a contract left it at its predicted
    // address, which no second instantiate2 can take: say so plainly.
    let mut taken = vec![
        (
            predicted.attestation[chain].clone(),
            serde_json::to_value(attestation::QueryMsg::Config {})?,
        ),
        (
            predicted.consent[chain].clone(),
            serde_json::to_value(consent::QueryMsg::NumTokens {})?,
        ),
        (
            predicted.governance[chain].clone(),
            serde_json::to_value(governance::QueryMsg::Config {})?,
        ),
    ];
    if chain == BILLING_CHAIN {
        let query = serde_json::to_value(billing::QueryMsg::Market {})?;
        taken.push((predicted.billing.clone(), query));
    }
    if chain == TRIALS_CHAIN {
        let query = serde_json::to_value(trials::QueryMsg::BillingConnections {})?;
        taken.push((predicted.trials.clone(), query));
    }
    for (address, query) in taken {
        let leftover: Result<serde_json::Value, _> = client.smart(&address, &query).await;
        ensure!(
            leftover.is_err(),
            "{chain}: an interrupted earlier deployment already instantiated a contract at {address}; \
             run `make localnet-reset` and `make localnet` again"
        );
    }
    let keys = info.clone();
    let wallet = |role: &str| -> Result<Wallet<'_>> {
        Ok(Wallet::new(
            &client,
            keys.test_key(role)?,
            localnet_options(DENOM),
        )?)
    };
    for role in roles() {
        let address = info.test_key(&role)?.address(PREFIX)?;
        info.accounts.insert(role, address);
    }
    let deployer = wallet("validator")?;
    let here = CONTRACTS
        .into_iter()
        .filter(|name| deployed_on(name, chain));
    for name in here {
        log(format!(
            "{chain}: storing {name} ({} KB)",
            artifacts.wasm[name].len() / 1024
        ));
        let id = deployer
            .store_code(artifacts.wasm[name].clone())
            .await
            .with_context(|| format!("{chain}: storing {name}"))?;
        info.code_ids.insert(name.to_string(), id);
    }
    let code = |name: &str| info.code_ids[name];
    let voters = (1..crate::validators::count())
        .map(|i| wallet(&crate::validators::operator(i)))
        .collect::<Result<Vec<_>>>()?;
    let pinning = propose_pinning(
        chain,
        &deployer,
        &voters,
        info.code_ids.values().copied().collect(),
    )
    .await?;

    let council: Vec<String> = (1..=COUNCIL_SIZE)
        .map(|i| info.accounts[&format!("council-{i}")].clone())
        .collect();
    let governance_msg = governance::InstantiateMsg {
        voting: governance::VotingSource::InstantiateStaking {
            code_id: code(contract::STAKING),
            label: "healthmesh-staking".into(),
            msg: staking::InstantiateMsg {
                denom: DENOM.into(),
                min_bond: Uint128::new(1_000_000),
                unbonding_period: 600,
                slashing_window: 300,
                max_claims: 16,
                slash_destination: staking::SlashDestination::Burn {},
                admin: info.accounts["validator"].clone(),
                pausers: vec![],
                max_pause_seconds: None,
            },
        },
        threshold: governance::Threshold::ThresholdQuorum {
            threshold: Decimal::percent(50),
            quorum: Decimal::percent(33),
        },
        voting_period: 30,
        timelock: 5,
        allow_revote: false,
        veto_threshold: None,
        deposit: None,
        council: governance::CouncilConfig {
            members: council,
            threshold: COUNCIL_THRESHOLD,
        },
        voting_rule: governance::VotingRule::Stake,
        initial_members: vec![],
        network: Some(network_config(d, chain, predicted)?),
    };
    let immutable = Instantiation {
        code_id: code(contract::GOVERNANCE),
        label: "healthmesh-governance",
        admin: None,
    };
    let governance_addr = deployer
        .instantiate2(&immutable, &governance_msg, GOVERNANCE_SALT)
        .await
        .with_context(|| format!("{chain}: governance"))?;
    ensure!(
        governance_addr == predicted.governance[chain],
        "{chain}: governance contract at {governance_addr}, predicted {}",
        predicted.governance[chain]
    );
    let config: governance::ConfigResponse = client
        .smart(&governance_addr, &governance::QueryMsg::Config {})
        .await?;
    let governance::StoredVotingSource::Staking {
        contract: staking_addr,
    } = config.voting
    else {
        anyhow::bail!("{chain}: governance instantiated no staking contract");
    };
    let admin = healthmesh_client::tx::parse_address(&governance_addr, PREFIX)?;

    // The consent contracts off the billing chain sell their offers through its billing contract.
    let settlement_connections = if chain == BILLING_CHAIN {
        vec![]
    } else {
        vec![consent::AllowedConnection {
            connection_id: d
                .connection(chain, BILLING_CHAIN)
                .with_context(|| format!("no connection {chain} -> {BILLING_CHAIN}"))?,
            chain_id: BILLING_CHAIN.into(),
            counterparty_port: format!("wasm.{}", predicted.billing),
        }]
    };
    let consent_msg = consent::InstantiateMsg {
        name: format!("HealthMesh Consent ({chain})"),
        symbol: "HMCONSENT".into(),
        admin: governance_addr.clone(),
        pausers: vec![],
        max_pause_seconds: None,
        settlement_connections,
    };
    let at = Instantiation {
        code_id: code(contract::CONSENT),
        label: "healthmesh-consent",
        admin: Some(&admin),
    };
    let consent_addr = deployer
        .instantiate2(&at, &consent_msg, CONSENT_SALT)
        .await
        .with_context(|| format!("{chain}: consent"))?;
    ensure!(
        consent_addr == predicted.consent[chain],
        "{chain}: consent contract at {consent_addr}, predicted {}",
        predicted.consent[chain]
    );

    let allowed_connections = CHAINS
        .iter()
        .filter(|other| **other != chain)
        .map(|other| {
            Ok(attestation::AllowedConnection {
                connection_id: d
                    .connection(chain, other)
                    .with_context(|| format!("no connection {chain} -> {other}"))?,
                chain_id: other.to_string(),
                counterparty_port: format!("wasm.{}", predicted.attestation[*other]),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let attestation_msg = attestation::InstantiateMsg {
        consent: consent_addr.clone(),
        staking: staking_addr.to_string(),
        admin: governance_addr.clone(),
        verifying_keys: vec![Binary::from(artifacts.verifying_key.clone())],
        allowed_connections,
        predicate_policies: vec![],
        pausers: vec![],
        max_pause_seconds: None,
        urgent_fee: Some(cosmwasm_std::coin(URGENT_FEE, DENOM)),
    };
    let at = Instantiation {
        code_id: code(contract::ATTESTATION),
        label: "healthmesh-attestation",
        admin: Some(&admin),
    };
    let attestation_addr = deployer
        .instantiate2(&at, &attestation_msg, ATTESTATION_SALT)
        .await
        .with_context(|| format!("{chain}: attestation"))?;
    ensure!(
        attestation_addr == predicted.attestation[chain],
        "{chain}: attestation contract at {attestation_addr}, predicted {}",
        predicted.attestation[chain]
    );
    let billing_addr = if chain == BILLING_CHAIN {
        let msg = billing_msg(d, &governance_addr, predicted)?;
        let at = Instantiation {
            code_id: code(contract::BILLING),
            label: "healthmesh-billing",
            admin: Some(&admin),
        };
        let address = deployer
            .instantiate2(&at, &msg, BILLING_SALT)
            .await
            .with_context(|| format!("{chain}: billing"))?;
        ensure!(
            address == predicted.billing,
            "{chain}: billing contract at {address}, predicted {}",
            predicted.billing
        );
        Some(address)
    } else {
        None
    };

    // Bonds come from four accounts: one block for all of them.
    let bonds = BONDS.iter().map(|(role, amount)| {
        let staking = staking_addr.to_string();
        let wallet = wallet(role);
        async move {
            let funds = vec![coin(*amount, DENOM)?];
            wallet?
                .execute(&staking, &staking::ExecuteMsg::Bond {}, funds)
                .await
                .with_context(|| format!("{chain}: bond of {role}"))
        }
    });
    for bonded in futures::future::join_all(bonds).await {
        bonded?;
    }
    wait_pinned(chain, &client, &pinning).await?;
    let trials_addr = if chain == TRIALS_CHAIN {
        let msg = trials::InstantiateMsg {
            admin: governance_addr.clone(),
            attestation: attestation_addr.clone(),
            // The chain's custodian runs the localnet's trials (a hospital site).
            sites: vec![info.accounts["custodian"].clone()],
            pausers: vec![],
            max_pause_seconds: None,
            // Milestones are paid by billing-1's billing contract.
            billing_connections: vec![trials::AllowedConnection {
                connection_id: d
                    .connection(TRIALS_CHAIN, BILLING_CHAIN)
                    .with_context(|| format!("no connection {TRIALS_CHAIN} -> {BILLING_CHAIN}"))?,
                chain_id: BILLING_CHAIN.into(),
                counterparty_port: format!("wasm.{}", predicted.billing),
            }],
            packet_timeout_seconds: None,
        };
        let at = Instantiation {
            code_id: code(contract::TRIALS),
            label: "healthmesh-trials",
            admin: Some(&admin),
        };
        let address = deployer
            .instantiate2(&at, &msg, TRIALS_SALT)
            .await
            .with_context(|| format!("{chain}: trials"))?;
        ensure!(
            address == predicted.trials,
            "{chain}: trials contract at {address}, predicted {}",
            predicted.trials
        );
        Some(address)
    } else {
        None
    };
    info.contracts = BTreeMap::from([
        (contract::GOVERNANCE.to_string(), governance_addr),
        (contract::STAKING.to_string(), staking_addr.to_string()),
        (contract::CONSENT.to_string(), consent_addr),
        (contract::ATTESTATION.to_string(), attestation_addr),
    ]);
    for (name, address) in [
        (contract::BILLING, billing_addr),
        (contract::TRIALS, trials_addr),
    ] {
        if let Some(address) = address {
            info.contracts.insert(name.to_string(), address);
        }
    }
    log(format!(
        "{chain}: deployed {}",
        info.contracts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(info)
}

/// The billing contract: governed by the billing chain's DAO, which is also its treasury;
/// trusts the consent contract of every other chain.
fn billing_msg(
    d: &Deployment,
    governance: &str,
    predicted: &Predicted,
) -> Result<billing::InstantiateMsg> {
    let allowed_connections = CHAINS
        .iter()
        .filter(|other| **other != BILLING_CHAIN)
        .map(|other| {
            Ok(billing::AllowedConnection {
                connection_id: d
                    .connection(BILLING_CHAIN, other)
                    .with_context(|| format!("no connection {BILLING_CHAIN} -> {other}"))?,
                chain_id: other.to_string(),
                counterparty_port: format!("wasm.{}", predicted.consent[*other]),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(billing::InstantiateMsg {
        admin: governance.into(),
        pausers: vec![],
        max_pause_seconds: None,
        split: SPLIT,
        treasury: governance.into(),
        price_floors: vec![cosmwasm_std::coin(PRICE_FLOOR, DENOM)],
        allowed_connections,
        packet_timeout_seconds: None,
        trials_connections: vec![billing::AllowedConnection {
            connection_id: d
                .connection(BILLING_CHAIN, TRIALS_CHAIN)
                .with_context(|| format!("no connection {BILLING_CHAIN} -> {TRIALS_CHAIN}"))?,
            chain_id: TRIALS_CHAIN.into(),
            counterparty_port: format!("wasm.{}", predicted.trials),
        }],
    })
}

/// Governance (x/gov, voting period of a few seconds on the localnet) pins every HealthMesh
/// code in wasmd's cache: each load of a pinned contract — every execute, and every query
/// one contract makes of another — costs ≈ 2k gas instead of 60k. The validator proposes
/// and every validator votes; the proposal passes while the contracts are instantiated.
async fn propose_pinning(
    chain: &str,
    deployer: &Wallet<'_>,
    validators: &[Wallet<'_>],
    code_ids: Vec<u64>,
) -> Result<Vec<u64>> {
    let proposal = healthmesh_client::tx::propose_pin_codes(
        &deployer.address,
        code_ids.clone(),
        coin(GOV_DEPOSIT, DENOM)?,
    )?;
    let outcome = deployer
        .submit(vec![proposal])
        .await
        .with_context(|| format!("{chain}: proposing to pin the contracts"))?;
    let id: u64 = outcome
        .attr("submit_proposal", "proposal_id")
        .and_then(|id| id.parse().ok())
        .with_context(|| format!("{chain}: the pin proposal's id is not in its events"))?;
    // Every validator votes (with several, one holds too little power to pass it alone).
    for voter in std::iter::once(deployer).chain(validators) {
        voter
            .submit(vec![healthmesh_client::tx::vote_yes(&voter.address, id)])
            .await
            .with_context(|| format!("{chain}: voting on proposal {id}"))?;
    }
    log(format!(
        "{chain}: proposal {id} to pin codes {code_ids:?} voted"
    ));
    Ok(code_ids)
}

async fn wait_pinned(
    chain: &str,
    client: &healthmesh_client::ChainClient,
    code_ids: &[u64],
) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let pinned = client.pinned_codes().await?;
        if code_ids.iter().all(|id| pinned.contains(id)) {
            log(format!("{chain}: codes {code_ids:?} pinned"));
            return Ok(());
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "{chain}: codes {code_ids:?} not pinned 60 s after the proposal (pinned: {pinned:?}); \
             see the chain's log for the proposal's outcome"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// The governance network of `chain`: the other chains' governance contracts over their
/// connections, and the contracts of this chain a network pause stops.
fn network_config(
    d: &Deployment,
    chain: &str,
    predicted: &Predicted,
) -> Result<governance::NetworkConfig> {
    let connections = CHAINS
        .iter()
        .filter(|other| **other != chain)
        .map(|other| {
            Ok(healthmesh_types::ibc::AllowedConnection {
                connection_id: d
                    .connection(chain, other)
                    .with_context(|| format!("no connection {chain} -> {other}"))?,
                chain_id: other.to_string(),
                counterparty_port: format!("wasm.{}", predicted.governance[*other]),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut pause_targets = vec![
        predicted.consent[chain].clone(),
        predicted.attestation[chain].clone(),
    ];
    if chain == BILLING_CHAIN {
        pause_targets.push(predicted.billing.clone());
    }
    if chain == TRIALS_CHAIN {
        pause_targets.push(predicted.trials.clone());
    }
    Ok(governance::NetworkConfig {
        connections,
        pause_targets,
    })
}
