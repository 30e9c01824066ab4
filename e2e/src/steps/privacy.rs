//! Step 7: no synthetic record value or salt in any transaction, message, state read or
//! gateway answer of the run, and no patient address next to a predicate.

use anyhow::{ensure, Result};
use serde_json::{Map, Value};

use super::attest::attestations_under;
use super::{REMOTE, SOURCE};
use crate::evidence::Evidence;
use crate::net::Net;

pub fn run(net: &Net, ev: &mut Evidence, token: &str) -> Result<()> {
    println!("== 9. no synthetic record value or salt on chain or from the gateway");
    // Every record under the burst's consent, on both chains.
    for chain in [SOURCE, REMOTE] {
        ev.see(&attestations_under(net, chain, token)?);
    }
    let checked = no_patient_next_to_predicate(&net.account(SOURCE, &net.patient)?, ev)?;
    for secret in &ev.secrets {
        for text in &ev.seen {
            ensure!(
                !contains_token(text, secret),
                "synthetic record data {secret} found on chain"
            );
        }
    }
    println!(
        "   {checked} predicate-bearing events/records carry no patient address; {} secrets checked against {} transactions/messages/answers: none found",
        ev.secrets.len(),
        ev.seen.len()
    );
    Ok(())
}

/// Whole-token occurrences only: a value's digits inside a longer number do not count.
fn contains_token(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(i, _)| {
        let before = haystack[..i].chars().last();
        let after = haystack[i + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// Does this JSON object state a predicate: a `predicate`/`op` field, or an event carrying an
/// `op` attribute?
fn states_predicate(object: &Map<String, Value>) -> bool {
    object.contains_key("predicate")
        || object.contains_key("op")
        || object
            .get("attributes")
            .and_then(|a| a.as_array())
            .is_some_and(|attrs| attrs.iter().any(|a| a["key"] == "op"))
}

/// Every JSON object in `value` that states a predicate, with its text.
fn predicate_objects(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if states_predicate(object) {
                out.push(value.to_string());
            }
            object.values().for_each(|v| predicate_objects(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| predicate_objects(v, out)),
        _ => {}
    }
}

/// H-4: no patient address in any event, message or answer that states a predicate.
fn no_patient_next_to_predicate(patient: &str, ev: &Evidence) -> Result<usize> {
    let mut objects = vec![];
    for text in &ev.seen {
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            predicate_objects(&value, &mut objects);
        }
    }
    ensure!(
        !objects.is_empty(),
        "no predicate found to check: the scan is blind"
    );
    for object in &objects {
        ensure!(
            !object.contains(patient),
            "patient address next to a predicate: {object}"
        );
    }
    Ok(objects.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_whole_numbers_only() {
        assert!(contains_token(r#"{"v":"64137"}"#, "64137"));
        assert!(!contains_token(r#"{"v":"164137"}"#, "64137"));
        assert!(!contains_token("641370", "64137"));
    }

    #[test]
    fn predicates_are_found_in_messages_and_events_and_patients_next_to_them_fail() {
        let mut ev = Evidence::default();
        ev.seen.push(r#"{"events":[{"type":"wasm-x","attributes":[{"key":"op","value":"lt"},{"key":"grantee","value":"wasm1r"}]}]}"#.into());
        assert_eq!(no_patient_next_to_predicate("wasm1p", &ev).unwrap(), 1);
        ev.seen
            .push(r#"{"submit":{"predicate":{"op":"lt"},"patient":"wasm1p"}}"#.into());
        assert!(no_patient_next_to_predicate("wasm1p", &ev).is_err());
        assert!(no_patient_next_to_predicate("wasm1p", &Evidence::default()).is_err());
    }
}
