//! Text or JSON output, progress spinners on a terminal, and error reporting.

use std::io::IsTerminal;
use std::time::Duration;

use clap::ValueEnum;
use healthmesh_client::TxOutcome;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// A spinner on stderr while a long step runs; silent in `-o json` or off a terminal.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn new(json: bool, message: &str) -> Self {
        if json || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("template"),
        );
        bar.set_message(message.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress(Some(bar))
    }

    pub fn set(&self, message: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.to_string());
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

pub fn print_json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("serializable output")
    );
}

/// A query answer: JSON either way (the contracts' own response shapes).
pub fn print_value<T: Serialize>(value: &T) {
    print_json(value)
}

/// The result of a transaction: hash, height, gas and the contracts' events.
pub fn print_tx(outcome: &TxOutcome, json: bool) {
    if json {
        return print_json(outcome);
    }
    println!("txhash: {}", outcome.hash);
    println!("height: {}", outcome.height);
    println!("gas used: {} / {}", outcome.gas_used, outcome.gas_wanted);
    for event in outcome.contract_events() {
        let attrs: Vec<String> = event
            .attributes
            .iter()
            .filter(|a| a.key != "_contract_address" && a.key != "msg_index")
            .map(|a| format!("{}={}", a.key, a.value))
            .collect();
        println!("event {}: {}", event.kind, attrs.join(" "));
    }
}

pub fn print_error(err: &anyhow::Error, json: bool) {
    if json {
        let chain: Vec<String> = err.chain().skip(1).map(|c| c.to_string()).collect();
        eprintln!(
            "{}",
            serde_json::json!({"error": err.to_string(), "causes": chain})
        );
    } else {
        eprintln!("Error: {err:#}");
    }
}
