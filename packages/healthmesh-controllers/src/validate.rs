//! Validation of the identifiers and commitments that messages carry. Everything a contract
//! stores passes through here first, so malformed input is refused with a precise reason.

use cosmwasm_std::HexBinary;
use thiserror::Error;

/// Length of a commitment (a Poseidon hash / SHA-256 digest): 32 bytes.
pub const COMMITMENT_LEN: usize = 32;

#[derive(Error, Debug, PartialEq, Eq)]
pub enum ValidationError {
    #[error("{field} must be {min} to {max} characters long, got {len}")]
    Length {
        field: &'static str,
        min: usize,
        max: usize,
        len: usize,
    },

    #[error("{field} must start with a lowercase letter and contain only a-z, 0-9, '-', '_', '.', ':' (got {value:?})")]
    Charset { field: &'static str, value: String },

    #[error("{field} must be 32 bytes (64 hex characters), got {len} bytes")]
    CommitmentLength { field: &'static str, len: usize },

    #[error("{field} must not be all zeros")]
    ZeroCommitment { field: &'static str },

    #[error("{field} must list between 1 and {max} entries, got {len}")]
    ListLength {
        field: &'static str,
        max: usize,
        len: usize,
    },

    #[error("{field} lists {value:?} more than once")]
    Duplicate { field: &'static str, value: String },
}

/// A machine-readable identifier such as a purpose (`trial-eligibility`) or an attribute
/// code (`hba1c`, `genotype:brca1`): 1..=`max` characters of `[a-z0-9._:-]`, starting with
/// a letter, so it is safe in event attributes, storage keys and URLs.
pub fn identifier(field: &'static str, value: &str, max: usize) -> Result<(), ValidationError> {
    let len = value.chars().count();
    if len == 0 || len > max {
        return Err(ValidationError::Length {
            field,
            min: 1,
            max,
            len,
        });
    }
    let starts_with_letter = value.starts_with(|c: char| c.is_ascii_lowercase());
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.:".contains(c);
    if !starts_with_letter || !value.chars().all(allowed) {
        return Err(ValidationError::Charset {
            field,
            value: value.to_string(),
        });
    }
    Ok(())
}

/// A list of identifiers: non-empty, at most `max_items`, each valid, no duplicates.
pub fn identifier_set(
    field: &'static str,
    values: &[String],
    max_items: usize,
    max_len: usize,
) -> Result<(), ValidationError> {
    if values.is_empty() || values.len() > max_items {
        return Err(ValidationError::ListLength {
            field,
            max: max_items,
            len: values.len(),
        });
    }
    for (i, value) in values.iter().enumerate() {
        identifier(field, value, max_len)?;
        if values[..i].contains(value) {
            return Err(ValidationError::Duplicate {
                field,
                value: value.clone(),
            });
        }
    }
    Ok(())
}

/// A 32-byte commitment. All zeros is refused: it is what an unset field looks like.
pub fn commitment(field: &'static str, value: &HexBinary) -> Result<(), ValidationError> {
    if value.len() != COMMITMENT_LEN {
        return Err(ValidationError::CommitmentLength {
            field,
            len: value.len(),
        });
    }
    if value.iter().all(|b| *b == 0) {
        return Err(ValidationError::ZeroCommitment { field });
    }
    Ok(())
}

/// Free text (a reason, a reference): bounded length so events and storage stay small.
pub fn bounded_text(field: &'static str, value: &str, max: usize) -> Result<(), ValidationError> {
    let len = value.chars().count();
    if len > max {
        return Err(ValidationError::Length {
            field,
            min: 0,
            max,
            len,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(identifier("purpose", "trial-eligibility", 64).is_ok());
        assert!(identifier("attribute", "genotype:brca1", 32).is_ok());
        assert!(matches!(
            identifier("purpose", "", 64),
            Err(ValidationError::Length { len: 0, .. })
        ));
        assert!(matches!(
            identifier("purpose", "Trial", 64),
            Err(ValidationError::Charset { .. })
        ));
        assert!(matches!(
            identifier("purpose", "1abc", 64),
            Err(ValidationError::Charset { .. })
        ));
        assert!(matches!(
            identifier("purpose", "a b", 64),
            Err(ValidationError::Charset { .. })
        ));
        assert!(matches!(
            identifier("purpose", &"a".repeat(65), 64),
            Err(ValidationError::Length { len: 65, .. })
        ));
    }

    #[test]
    fn identifier_sets() {
        let ok = vec!["hba1c".to_string(), "age".to_string()];
        assert!(identifier_set("scope", &ok, 4, 32).is_ok());
        assert!(matches!(
            identifier_set("scope", &[], 4, 32),
            Err(ValidationError::ListLength { len: 0, .. })
        ));
        let dup = vec!["age".to_string(), "age".to_string()];
        assert_eq!(
            identifier_set("scope", &dup, 4, 32),
            Err(ValidationError::Duplicate {
                field: "scope",
                value: "age".into()
            })
        );
        let many: Vec<String> = (0..5).map(|i| format!("a{i}")).collect();
        assert!(matches!(
            identifier_set("scope", &many, 4, 32),
            Err(ValidationError::ListLength { len: 5, .. })
        ));
    }

    #[test]
    fn commitments() {
        assert!(commitment("dataset", &HexBinary::from(vec![7u8; 32])).is_ok());
        assert_eq!(
            commitment("dataset", &HexBinary::from(vec![7u8; 31])),
            Err(ValidationError::CommitmentLength {
                field: "dataset",
                len: 31
            })
        );
        assert_eq!(
            commitment("dataset", &HexBinary::from(vec![0u8; 32])),
            Err(ValidationError::ZeroCommitment { field: "dataset" })
        );
    }
}
