//! What the run saw and measured: every transaction and answer (for the privacy scan of the
//! last step), the synthetic secrets that must never appear in them, and gas per label.

use std::collections::BTreeMap;

use healthmesh_client::TxOutcome;

#[derive(Default)]
pub struct Evidence {
    gas: Vec<(String, u64)>,
    /// Serialized transactions, messages and answers, as JSON text.
    pub seen: Vec<String>,
    /// Synthetic record values and salts.
    pub secrets: Vec<String>,
}

impl Evidence {
    /// A transaction, its gas counted under `label`.
    pub fn measure(&mut self, label: &str, tx: &TxOutcome) {
        self.gas.push((label.to_string(), tx.gas_used));
        self.see_tx(tx);
    }

    /// A transaction kept for the privacy scan only.
    pub fn see_tx(&mut self, tx: &TxOutcome) {
        self.seen
            .push(serde_json::to_string(tx).expect("a tx outcome serializes"));
    }

    /// A message sent or an answer received.
    pub fn see<T: serde::Serialize>(&mut self, value: &T) {
        self.seen
            .push(serde_json::to_string(value).expect("serializes"));
    }

    /// The mean gas per label, as a Markdown table.
    pub fn gas_table(&self) -> String {
        let mut by_label = BTreeMap::<&str, Vec<u64>>::new();
        for (label, gas) in &self.gas {
            by_label.entry(label).or_default().push(*gas);
        }
        let mut table = "| transaction | gas used |\n|---|---|\n".to_string();
        for (label, gases) in by_label {
            let mean = gases.iter().sum::<u64>() / gases.len() as u64;
            table += &format!("| {label} | {mean} (n={}) |\n", gases.len());
        }
        table
    }
}
