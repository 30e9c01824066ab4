//! Hermes, the relayer of record: its config rendered from `relayer-config/`, checked by
//! `hermes config validate` and by the HealthMesh rules below, its keys, the connections and
//! the attestation and settlement channels it creates, and the running relayer.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use healthmesh_client::deployment::{contract, ChannelInfo, ConnectionInfo, RelayerInfo};
use healthmesh_client::keys::{Backend, Keyring};
use healthmesh_client::Deployment;
use healthmesh_types::attestation::Lane;
use healthmesh_types::network::GOVERNANCE_CHANNEL_VERSION;
use healthmesh_types::settle::SETTLE_CHANNEL_VERSION;
use healthmesh_types::trial_pay::TRIALS_CHANNEL_VERSION;
use serde_json::Value;

use crate::chains::pinned_binary;
use crate::layout::{pairs, ports, Layout, BILLING_CHAIN, CHAINS, DENOM, TRIALS_CHAIN};
use crate::process::{alive, log, run, spawn_daemon};

/// Gas of one packet's receive, with margin: a packet carries up to `MAX_BATCH` (32)
/// attestations re-verified together, ≈ 150k each on the localnet (`make e2e` measures a
/// batch of 30), so ≤ 6M; and of the client update Hermes puts in front of a batch.
pub const RECEIVE_GAS_BOUND: u64 = 6_000_000;
pub const CLIENT_UPDATE_GAS_BOUND: u64 = 300_000;

pub struct Hermes {
    pub bin: PathBuf,
    config: PathBuf,
    lane: Lane,
}

/// What a Hermes instance relays: (chain, port, channel or `*`) allow-list entries.
pub type Filter = Vec<(String, String, String)>;

fn contract_port(d: &Deployment, chain: &str, contract: &str) -> Option<String> {
    let address = d.chains.get(chain)?.contracts.get(contract)?;
    Some(format!("wasm.{address}"))
}

fn attestation_port(d: &Deployment, chain: &str) -> Option<String> {
    contract_port(d, chain, contract::ATTESTATION)
}

/// The settlement channel's port on `chain`: the billing contract on the billing chain, the
/// consent contract elsewhere.
fn settle_port(d: &Deployment, chain: &str) -> Option<String> {
    let name = if chain == BILLING_CHAIN {
        contract::BILLING
    } else {
        contract::CONSENT
    };
    contract_port(d, chain, name)
}

/// The milestone channel's port on `chain`: the billing contract on the billing chain, the
/// trials contract on the trials chain.
fn trials_port(d: &Deployment, chain: &str) -> Option<String> {
    match chain {
        BILLING_CHAIN => contract_port(d, chain, contract::BILLING),
        TRIALS_CHAIN => contract_port(d, chain, contract::TRIALS),
        _ => None,
    }
}

/// The port of a channel of `version` on `chain`.
fn port_for(d: &Deployment, chain: &str, version: &str) -> Option<String> {
    match version {
        SETTLE_CHANNEL_VERSION => settle_port(d, chain),
        TRIALS_CHANNEL_VERSION => trials_port(d, chain),
        GOVERNANCE_CHANNEL_VERSION => contract_port(d, chain, contract::GOVERNANCE),
        _ => attestation_port(d, chain),
    }
}

/// Every channel of each chain's attestation and settlement ports (`*`): the relayer that
/// opens the channels. Empty before deployment.
pub fn attestation_ports(d: &Deployment) -> Filter {
    let mut filter = vec![];
    for chain in CHAINS {
        let ports = [
            attestation_port(d, chain),
            settle_port(d, chain),
            (chain == TRIALS_CHAIN)
                .then(|| trials_port(d, chain))
                .flatten(),
            contract_port(d, chain, contract::GOVERNANCE),
        ];
        for port in ports.into_iter().flatten() {
            filter.push((chain.to_string(), port, "*".to_string()));
        }
    }
    filter
}

/// Exactly the channels of `lane`, on both ends: each relayer sees only its lane. The bulk
/// relayer also carries the settlement and milestone channels; the urgent one the
/// governance channels (a network pause is urgent).
pub fn lane_channels(d: &Deployment, lane: Lane) -> Filter {
    let mut filter = vec![];
    for c in d
        .channels
        .iter()
        .filter(|c| lane_of(&c.version) == Some(lane))
    {
        for (chain, channel) in [(&c.a_chain, &c.a_channel), (&c.b_chain, &c.b_channel)] {
            if let Some(port) = port_for(d, chain, &c.version) {
                filter.push((chain.clone(), port, channel.clone()));
            }
        }
    }
    filter
}

/// The relayer lane that carries channels of `version`: the bulk relayer also carries the
/// settlement and milestone channels, the urgent one the governance channels.
fn lane_of(version: &str) -> Option<Lane> {
    match version {
        v if v == Lane::Bulk.version() || v.is_empty() => Some(Lane::Bulk),
        SETTLE_CHANNEL_VERSION | TRIALS_CHANNEL_VERSION => Some(Lane::Bulk),
        v if v == Lane::Urgent.version() => Some(Lane::Urgent),
        GOVERNANCE_CHANNEL_VERSION => Some(Lane::Urgent),
        _ => None,
    }
}

/// How each lane's relayer is tuned (relayer-config/README.md has the reasoning).
struct Tuning {
    key_name: &'static str,
    /// How often Hermes pulls new blocks' events.
    pull_interval: &'static str,
    /// Whether this instance refreshes the light clients (one instance is enough).
    refresh_clients: bool,
    /// Where its Prometheus telemetry is served (`make localnet-status` reads the backlog).
    telemetry_port: u16,
}

/// The telemetry port of `lane`'s relayer.
pub fn telemetry_port(lane: Lane) -> u16 {
    tuning(lane).telemetry_port
}

fn tuning(lane: Lane) -> Tuning {
    match lane {
        Lane::Bulk => Tuning {
            key_name: "relayer",
            pull_interval: "500ms",
            refresh_clients: true,
            telemetry_port: 3001,
        },
        Lane::Urgent => Tuning {
            key_name: "relayer-urgent",
            pull_interval: "200ms",
            refresh_clients: false,
            telemetry_port: 3002,
        },
    }
}

/// `relayer-config/*.template.toml` filled in for the localnet and one lane's relayer.
pub fn render(layout: &Layout, lane: Lane, filter: &Filter) -> Result<String> {
    let read = |name: &str| {
        let path = layout.root.join("relayer-config").join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let chain_template = read("chain.template.toml")?;
    let key_store = layout.hermes_dir().join("keys");
    let tuning = tuning(lane);
    let mut chains = String::new();
    for chain in CHAINS {
        let p = ports(chain);
        let entries: Vec<String> = filter
            .iter()
            .filter(|(c, _, _)| c == chain)
            .map(|(_, port, channel)| format!("['{port}', '{channel}']"))
            .collect();
        chains += &substitute(
            &chain_template,
            &[
                ("chain_id", chain.to_string()),
                ("rpc_port", p.rpc.to_string()),
                ("grpc_port", p.grpc.to_string()),
                ("denom", DENOM.to_string()),
                ("key_store", key_store.display().to_string()),
                ("key_name", tuning.key_name.to_string()),
                ("pull_interval", tuning.pull_interval.to_string()),
                ("packet_filter", entries.join(", ")),
            ],
        )?;
    }
    substitute(
        &read("hermes.template.toml")?,
        &[
            ("refresh_clients", tuning.refresh_clients.to_string()),
            ("telemetry_port", tuning.telemetry_port.to_string()),
            ("chains", chains),
        ],
    )
}

fn substitute(template: &str, values: &[(&str, String)]) -> Result<String> {
    let mut text = template.to_string();
    for (name, v) in values {
        let placeholder = format!("${name}");
        ensure!(text.contains(&placeholder), "template has no {placeholder}");
        text = text.replace(&placeholder, v);
    }
    let leftover = text
        .lines()
        .find(|l| !l.trim_start().starts_with('#') && l.contains('$'));
    ensure!(
        leftover.is_none(),
        "unfilled placeholder: {}",
        leftover.unwrap_or_default()
    );
    Ok(text)
}

/// The `result` of a Hermes command run with `--json`, or its failure.
fn result_of(cmd: &mut Command, what: &str) -> Result<Value> {
    let out = run(cmd)?;
    for line in out.lines().rev() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if let Some(result) = msg.get("result") {
            ensure!(msg["status"] == "success", "hermes {what}: {result}");
            return Ok(result.clone());
        }
    }
    bail!("hermes {what} printed no result")
}

/// The HealthMesh rules for a Hermes config: every chain present; the pull event source
/// (push misses contract packets); the packet filter relays exactly the given attestation
/// channels (nothing else, e.g. not `transfer`, nor the other lane's); and a full batch stays under `max_gas`
/// (Hermes splits batches by message count only, so an oversized batch is refused at every
/// retry and the channel stalls).
pub fn check(config: &str, relayed: &Filter) -> Result<()> {
    let config: toml::Value = toml::from_str(config).context("the rendered config is not TOML")?;
    let chains = config
        .get("chains")
        .and_then(|c| c.as_array())
        .context("no [[chains]]")?;
    let id = |c: &toml::Value| {
        c.get("id")
            .and_then(|i| i.as_str())
            .unwrap_or("")
            .to_string()
    };
    if let Some(extra) = chains
        .iter()
        .map(id)
        .find(|i| !CHAINS.contains(&i.as_str()))
    {
        bail!("chain '{extra}' is not a localnet chain");
    }
    for chain in CHAINS {
        let c = chains
            .iter()
            .find(|c| id(c) == chain)
            .with_context(|| format!("chain {chain} is not configured"))?;
        let mode = c
            .get("event_source")
            .and_then(|e| e.get("mode"))
            .and_then(|m| m.as_str());
        ensure!(
            mode == Some("pull"),
            "{chain}: event_source must be pull (push misses contract packets)"
        );
        let filter = c
            .get("packet_filter")
            .with_context(|| format!("{chain}: no packet_filter"))?;
        ensure!(
            filter.get("policy").and_then(|p| p.as_str()) == Some("allow"),
            "{chain}: the packet filter must be an allow list"
        );
        let entry =
            |e: &toml::Value, i: usize| e.get(i).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let listed: Vec<(String, String)> = filter
            .get("list")
            .and_then(|l| l.as_array())
            .with_context(|| format!("{chain}: packet_filter.list"))?
            .iter()
            .map(|e| (entry(e, 0), entry(e, 1)))
            .collect();
        let expected: Vec<(String, String)> = relayed
            .iter()
            .filter(|(c, _, _)| c == chain)
            .map(|(_, port, channel)| (port.clone(), channel.clone()))
            .collect();
        ensure!(
            listed == expected,
            "{chain}: the packet filter relays {listed:?}, expected only the attestation channels {expected:?}"
        );
        let int = |key: &str| {
            c.get(key)
                .and_then(|v| v.as_integer())
                .and_then(|v| u64::try_from(v).ok())
        };
        let (Some(max_msg), Some(max_gas)) = (int("max_msg_num"), int("max_gas")) else {
            bail!("{chain}: max_msg_num and max_gas must be set (non-negative)");
        };
        let batch = max_msg
            .checked_mul(RECEIVE_GAS_BOUND)
            .and_then(|g| g.checked_add(CLIENT_UPDATE_GAS_BOUND))
            .unwrap_or(u64::MAX);
        ensure!(
            batch <= max_gas,
            "{chain}: a batch of {max_msg} receives needs up to {batch} gas, over max_gas {max_gas}: lower max_msg_num"
        );
    }
    Ok(())
}

impl Hermes {
    /// The relayer of `lane` (the bulk one also opens connections and channels).
    pub fn new(layout: &Layout, lane: Lane) -> Result<Self> {
        Ok(Hermes {
            bin: pinned_binary(layout, "build-hermes.sh")?,
            config: layout.hermes_config(lane),
            lane,
        })
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--config").arg(&self.config).arg("--json");
        cmd
    }

    /// Runs a Hermes command and returns its `result` (Hermes prints JSON log lines first).
    fn result(&self, args: &[&str]) -> Result<Value> {
        result_of(
            self.command().args(args),
            &args[..args.len().min(3)].join(" "),
        )
    }

    /// Renders, checks our rules, writes, and has Hermes itself validate the config.
    pub fn write_config(&self, layout: &Layout, filter: &Filter) -> Result<()> {
        let text = render(layout, self.lane, filter)?;
        check(&text, filter)?;
        std::fs::create_dir_all(layout.hermes_dir())?;
        // Checked as a candidate first: a config Hermes refuses never replaces the last good one.
        let candidate = self.config.with_extension("toml.candidate");
        std::fs::write(&candidate, text)?;
        let mut validate = Command::new(&self.bin);
        validate.arg("--config").arg(&candidate).arg("--json");
        let verdict = result_of(validate.args(["config", "validate"]), "config validate");
        if verdict.is_err() {
            let _ = std::fs::remove_file(&candidate);
        }
        let verdict = verdict?;
        std::fs::rename(&candidate, &self.config)?;
        log(format!(
            "relayer config {}: {verdict}, pull mode, {} port/channel entries relayed, batches within max_gas",
            self.config.display(),
            filter.len()
        ));
        Ok(())
    }

    /// The relayer roles' keys (one per lane) of each chain, imported into Hermes's keyring
    /// once.
    pub fn add_keys(&self, layout: &Layout) -> Result<()> {
        let names = [Lane::Bulk, Lane::Urgent].map(|l| tuning(l).key_name);
        for (chain, key_name) in CHAINS.iter().flat_map(|c| names.map(|k| (*c, k))) {
            let imported = layout
                .hermes_dir()
                .join("keys")
                .join(chain)
                .join("keyring-test")
                .join(format!("{key_name}.json"));
            if imported.exists() {
                continue;
            }
            let phrase = Keyring::new(layout.chain_home(chain).join("keys"), Backend::Test)
                .test_mnemonic(key_name)?;
            let mnemonic_file = layout
                .hermes_dir()
                .join(format!("{chain}-{key_name}.mnemonic"));
            std::fs::create_dir_all(layout.hermes_dir())?;
            crate::process::write_private(&mnemonic_file, phrase.as_bytes())?;
            let file = mnemonic_file.display().to_string();
            let added = self.result(&[
                "keys",
                "add",
                "--chain",
                chain,
                "--key-name",
                key_name,
                "--mnemonic-file",
                &file,
                "--overwrite",
            ]);
            // The phrase leaves the disk whether or not Hermes took it.
            std::fs::remove_file(&mnemonic_file)?;
            added?;
        }
        Ok(())
    }

    /// One connection per chain pair, recorded as soon as it exists.
    pub fn connect(&self, layout: &Layout, d: &mut Deployment) -> Result<()> {
        for (a, b) in pairs() {
            if d.connection(a, b).is_some() {
                continue;
            }
            log(format!(
                "connection {a} <-> {b}: creating clients and the handshake (about 30 s)"
            ));
            let res = self.result(&["create", "connection", "--a-chain", a, "--b-chain", b])?;
            let id = |side: &str| {
                res[side]["connection_id"]
                    .as_str()
                    .map(str::to_string)
                    .context("connection id")
            };
            let c = ConnectionInfo {
                a_chain: a.into(),
                b_chain: b.into(),
                a_connection: id("a_side")?,
                b_connection: id("b_side")?,
            };
            log(format!(
                "connection {a} {} <-> {b} {}",
                c.a_connection, c.b_connection
            ));
            d.connections.push(c);
            d.save(&layout.deployment())?;
        }
        Ok(())
    }

    /// Two attestation channels and a governance channel per chain pair, a settlement channel from the
    /// billing chain to each other chain and the milestone channel between the billing and
    /// trials chains; each opened from the smaller chain id.
    pub fn open_channels(&self, layout: &Layout, d: &mut Deployment) -> Result<()> {
        for (a, b) in pairs() {
            let mut versions = vec![
                Lane::Bulk.version(),
                Lane::Urgent.version(),
                GOVERNANCE_CHANNEL_VERSION,
            ];
            if a == BILLING_CHAIN || b == BILLING_CHAIN {
                versions.push(SETTLE_CHANNEL_VERSION);
            }
            if [a, b].contains(&BILLING_CHAIN) && [a, b].contains(&TRIALS_CHAIN) {
                versions.push(TRIALS_CHANNEL_VERSION);
            }
            for version in versions {
                self.open_channel(layout, d, (a, b), version)?;
            }
        }
        Ok(())
    }

    fn open_channel(
        &self,
        layout: &Layout,
        d: &mut Deployment,
        (a, b): (&str, &str),
        version: &str,
    ) -> Result<()> {
        let open = d.channels.iter().any(|c| {
            c.a_chain == a
                && c.b_chain == b
                && (c.version == version
                    || (c.version.is_empty() && version == Lane::Bulk.version()))
        });
        if open {
            return Ok(());
        }
        let connection = d.connection(a, b).context("no connection")?;
        let port = |chain: &str| port_for(d, chain, version).context("not deployed");
        let (port_a, port_b) = (port(a)?, port(b)?);
        log(format!(
            "channel {a} <-> {b} ({version}): opening (about 20 s)"
        ));
        let res = self.result(&[
            "create",
            "channel",
            "--a-chain",
            a,
            "--a-connection",
            &connection,
            "--a-port",
            &port_a,
            "--b-port",
            &port_b,
            "--order",
            "unordered",
            "--channel-version",
            version,
            "--yes",
        ])?;
        let id = |side: &str| {
            res[side]["channel_id"]
                .as_str()
                .map(str::to_string)
                .context("channel id")
        };
        let c = ChannelInfo {
            a_chain: a.into(),
            b_chain: b.into(),
            a_channel: id("a_side")?,
            b_channel: id("b_side")?,
            version: version.into(),
        };
        log(format!(
            "channel {a} {} <-> {b} {} ({version})",
            c.a_channel, c.b_channel
        ));
        d.channels.push(c);
        d.save(&layout.deployment())?;
        Ok(())
    }

    /// Relay what was sent while this lane's relayer was down. Hermes 1.10.5 spawns no packet
    /// worker at startup for an allow-listed channel (it skips the scan), so packets sent while
    /// it was down would wait for the next packet on their channel, or time out; `clear
    /// packets` (both directions: packets, acks, timeouts) relays them first.
    fn clear_lane(&self, d: &Deployment) -> Result<()> {
        for c in d
            .channels
            .iter()
            .filter(|c| lane_of(&c.version) == Some(self.lane))
        {
            let Some(port) = port_for(d, &c.a_chain, &c.version) else {
                continue;
            };
            log(format!(
                "relayer restart: clearing {} {} ({})",
                c.a_chain, c.a_channel, c.version
            ));
            self.result(&[
                "clear",
                "packets",
                "--chain",
                &c.a_chain,
                "--port",
                &port,
                "--channel",
                &c.a_channel,
            ])?;
        }
        Ok(())
    }

    pub fn start(&self, layout: &Layout, d: &mut Deployment) -> Result<()> {
        let info = RelayerInfo {
            binary: self.bin.clone(),
            config: self.config.clone(),
            log: layout.hermes_log(self.lane),
        };
        match self.lane {
            Lane::Bulk => d.relayer = Some(info),
            Lane::Urgent => d.urgent_relayer = Some(info),
        }
        d.save(&layout.deployment())?;
        let (pidfile, logfile) = (layout.hermes_pid(self.lane), layout.hermes_log(self.lane));
        let name = match self.lane {
            Lane::Bulk => "hermes (bulk lane)",
            Lane::Urgent => "hermes (urgent lane)",
        };
        if let Some(pid) = alive(&pidfile) {
            log(format!("{name}: already running (pid {pid})"));
            return Ok(());
        }
        // A pid file without its process: the relayer died (`down` removes the file).
        if pidfile.exists() {
            self.clear_lane(d)?;
        }
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--config").arg(&self.config).arg("start");
        let mut child = spawn_daemon(&mut cmd, &logfile, &pidfile)?;
        std::thread::sleep(Duration::from_secs(2));
        if child.try_wait()?.is_some() {
            bail!("{name} exited; see {}", logfile.display());
        }
        log(format!("{name}: started (pid {})", child.id()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout {
            root: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."),
            home: PathBuf::from("/tmp/hm-localnet-test"),
        }
    }

    fn ports() -> Filter {
        CHAINS
            .iter()
            .map(|c| (c.to_string(), format!("wasm.{c}-contract"), "*".to_string()))
            .collect()
    }

    #[test]
    fn rendered_config_passes_the_rules_before_and_after_deployment() {
        let l = layout();
        check(&render(&l, Lane::Bulk, &vec![]).unwrap(), &vec![]).unwrap();
        let p = ports();
        let text = render(&l, Lane::Bulk, &p).unwrap();
        check(&text, &p).unwrap();
        assert!(text.contains("['wasm.trials-1-contract', '*']"));
    }

    #[test]
    fn each_lane_relays_only_its_channels_with_its_own_key() {
        let l = layout();
        let mut d = Deployment::default();
        for chain in CHAINS {
            let mut info: healthmesh_client::ChainInfo =
                serde_json::from_value(serde_json::json!({
                    "chain_id": chain, "rpc": "http://127.0.0.1:1", "denom": DENOM,
                    "bech32_prefix": "wasm"
                }))
                .unwrap();
            info.contracts
                .insert("attestation".into(), format!("{chain}-contract"));
            d.chains.insert(chain.to_string(), info);
        }
        for (lane, a, b) in [
            (Lane::Bulk, "channel-0", "channel-1"),
            (Lane::Urgent, "channel-2", "channel-3"),
        ] {
            d.channels.push(ChannelInfo {
                a_chain: "genomics-1".into(),
                b_chain: "trials-1".into(),
                a_channel: a.into(),
                b_channel: b.into(),
                version: lane.version().into(),
            });
        }
        let bulk = lane_channels(&d, Lane::Bulk);
        let urgent = lane_channels(&d, Lane::Urgent);
        assert_eq!(urgent.len(), 2);
        let bulk_text = render(&l, Lane::Bulk, &bulk).unwrap();
        let urgent_text = render(&l, Lane::Urgent, &urgent).unwrap();
        check(&bulk_text, &bulk).unwrap();
        check(&urgent_text, &urgent).unwrap();
        assert!(urgent_text.contains("['wasm.trials-1-contract', 'channel-3']"));
        assert!(!urgent_text.contains("'channel-1'"), "not the bulk lane");
        assert!(urgent_text.contains("key_name = 'relayer-urgent'"));
        assert!(bulk_text.contains("key_name = 'relayer'"));
        assert!(
            check(&bulk_text, &urgent).is_err(),
            "a config relaying the other lane is refused"
        );
    }

    #[test]
    fn rules_refuse_push_mode_extra_ports_and_oversized_batches() {
        let l = layout();
        let p = ports();
        let text = render(&l, Lane::Bulk, &p).unwrap();
        let push = text.replacen("mode = 'pull'", "mode = 'push'", 1);
        assert!(check(&push, &p).unwrap_err().to_string().contains("pull"));
        let transfer = text.replacen("'*']]", "'*'], ['transfer', '*']]", 1);
        assert!(check(&transfer, &p)
            .unwrap_err()
            .to_string()
            .contains("expected only"));
        let big = text.replacen("max_msg_num = 3", "max_msg_num = 4", 1);
        assert!(check(&big, &p)
            .unwrap_err()
            .to_string()
            .contains("over max_gas"));
        let other_port = vec![(p[0].0.clone(), "wasm.other".to_string(), "*".to_string())];
        assert!(check(&text, &other_port).is_err());
        let extra = format!("{text}\n[[chains]]\nid = 'rogue-1'\n");
        assert!(check(&extra, &p)
            .unwrap_err()
            .to_string()
            .contains("rogue-1"));
        assert!(
            check("[global]\nlog_level = 'info'\n", &p).is_err(),
            "no chains: an error, not a panic"
        );
        let huge = text.replacen("max_msg_num = 3", "max_msg_num = 9223372036854775807", 1);
        assert!(check(&huge, &p)
            .unwrap_err()
            .to_string()
            .contains("over max_gas"));
    }

    #[test]
    fn unfilled_placeholders_are_refused() {
        assert!(substitute("a = '$x'\nb = '$y'", &[("x", "1".into())]).is_err());
        assert!(substitute("a = '$x'", &[("z", "1".into())]).is_err());
        assert_eq!(
            substitute("# $note\na = '$x'", &[("x", "1".into())]).unwrap(),
            "# $note\na = '1'"
        );
    }
}
