//! Recognising one key across chains without naming it next to a health predicate.

use cosmwasm_std::HexBinary;
use sha2::{Digest, Sha256};

const DOMAIN: &[u8] = b"healthmesh-patient-tag-v1";

/// The tag of the patient of consent `consent_id` on `chain_id`, from the patient's canonical
/// address: SHA-256 over a domain and the length-prefixed fields. Whoever holds the key can
/// show it is theirs (the tag of their own canonical address); the tag names one consent, so
/// it links no more than the consent id already does.
pub fn patient_tag(patient_canonical: &[u8], chain_id: &str, consent_id: &str) -> HexBinary {
    let mut hash = Sha256::new();
    hash.update(DOMAIN);
    for field in [
        patient_canonical,
        chain_id.as_bytes(),
        consent_id.as_bytes(),
    ] {
        hash.update((field.len() as u64).to_be_bytes());
        hash.update(field);
    }
    HexBinary::from(hash.finalize().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_differ_by_patient_chain_and_consent_and_fields_do_not_run_together() {
        let base = patient_tag(&[1; 20], "genomics-1", "7");
        assert_eq!(base.len(), 32);
        assert_eq!(base, patient_tag(&[1; 20], "genomics-1", "7"));
        assert_ne!(base, patient_tag(&[2; 20], "genomics-1", "7"));
        assert_ne!(base, patient_tag(&[1; 20], "trials-1", "7"));
        assert_ne!(base, patient_tag(&[1; 20], "genomics-1", "8"));
        // Length prefixes: moving a character between fields changes the tag.
        assert_ne!(
            patient_tag(&[1; 20], "ab", "c"),
            patient_tag(&[1; 20], "a", "bc")
        );
    }
}
