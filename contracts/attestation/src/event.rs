//! The event of a recorded attestation, the same whether it was verified here
//! (`attestation_recorded`) or received over IBC and re-verified (`attestation_received`).

use cosmwasm_std::Event;
use healthmesh_types::attestation::Attestation;

/// The attributes every attestation event carries (stable names, see README). No patient:
/// a predicate is never published next to a patient address.
pub fn attestation_event(kind: &str, a: &Attestation) -> Event {
    Event::new(kind)
        .add_attribute("attestation_id", a.id.to_string())
        .add_attribute("source_chain", &a.context.chain_id)
        .add_attribute("consent_id", &a.context.consent_id)
        .add_attribute("grantee", &a.context.grantee)
        .add_attribute("commitment", a.commitment.to_hex())
        .add_attribute("attribute", &a.attribute)
        .add_attribute("op", a.predicate.op.name())
        .add_attribute(
            "values",
            a.predicate
                .values
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(","),
        )
        .add_attribute("attester", &a.attester)
        .add_attribute("circuit_id", &a.circuit_id)
}
