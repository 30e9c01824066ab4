//! `hm-relayer-config-validate CONFIG CHAIN=PORT...`: parse a Hermes config with the
//! ibc-relayer crate Hermes itself uses, run its validation, and check the HealthMesh rules:
//! every expected chain is present, uses the pull event source, relays its attestation port
//! and nothing else (e.g. not `transfer`). Exits non-zero with the reason otherwise.

use std::process::ExitCode;
use std::str::FromStr;

use ibc_relayer::chain::cosmos::config::CosmosSdkConfig;
use ibc_relayer::config::{self, ChainConfig, EventSourceMode};
use ibc_relayer_types::core::ics24_host::identifier::{ChainId, ChannelId, PortId};

fn check(path: &str, expected: &[(String, String)]) -> Result<usize, String> {
    let config = config::load(path).map_err(|e| format!("{path}: {e}"))?;
    config.validate_config().map_err(|e| format!("{path}: {e:?}"))?;
    for (chain, port) in expected {
        let id = ChainId::from_str(chain).map_err(|e| format!("{chain}: {e}"))?;
        let ChainConfig::CosmosSdk(CosmosSdkConfig { event_source, .. }) =
            config.find_chain(&id).ok_or_else(|| format!("chain {chain} is not configured"))?;
        if !matches!(event_source, EventSourceMode::Pull { .. }) {
            return Err(format!("{chain}: event_source must be pull (push misses contract packets)"));
        }
        let port = PortId::from_str(port).map_err(|e| format!("{port}: {e}"))?;
        let channel = ChannelId::new(0);
        if !config.packets_on_channel_allowed(&id, &port, &channel) {
            return Err(format!("{chain}: the packet filter does not relay {port}"));
        }
        let transfer = PortId::transfer();
        if config.packets_on_channel_allowed(&id, &transfer, &channel) {
            return Err(format!("{chain}: the packet filter also relays {transfer}"));
        }
    }
    Ok(config.chains.len())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((path, rest)) = args.split_first() else {
        eprintln!("usage: hm-relayer-config-validate CONFIG CHAIN=PORT...");
        return ExitCode::from(2);
    };
    let expected: Vec<(String, String)> = rest
        .iter()
        .filter_map(|a| a.split_once('=').map(|(c, p)| (c.to_string(), p.to_string())))
        .collect();
    match check(path, &expected) {
        Ok(n) => {
            println!("{path}: valid ({n} chains, attestation ports only)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("invalid relayer config: {e}");
            ExitCode::FAILURE
        }
    }
}
