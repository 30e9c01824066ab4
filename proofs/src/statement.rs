//! What a proof says, in terms both the prover and the on-chain verifier compute natively:
//! attribute codes, commitments, the proof context and the predicate, compressed into the
//! circuit's single public input.
//!
//! Value encodings (all unsigned 64-bit integers): HbA1c in tenths of a percent (6.9 % → 69),
//! ages in whole years, dates as YYYYMMDD (2026-11-21 → 20261121), genotype and diagnosis
//! codes as small integers from a published code list, lab values in the unit's smallest
//! decimal step (e.g. LDL in mg/dL × 10).

use alloc::string::String;
use alloc::vec::Vec;
// What the JsonSchema derive expands to expects the std prelude; this crate is no_std.
#[cfg(feature = "schema")]
use alloc::{borrow::ToOwned, boxed::Box, vec};
use bls12_381::Scalar;
use ff::Field;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::poseidon::{self, Domain};
use crate::Error;

/// Most values an `IN` / `NIN` set may hold; also the number of value slots in a statement.
pub const MAX_SET: usize = 8;
/// Longest attribute code: it is packed into one field element.
pub const MAX_ATTRIBUTE_LEN: usize = 31;

/// The predicate operators of Polygon ID's query circuits, plus NONBETWEEN. The numbers are
/// part of the public statement and never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(cosmwasm_schema::schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(crate = "cosmwasm_schema::schemars"))]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum Operator {
    Eq = 0,
    Ne = 1,
    Lt = 2,
    Lte = 3,
    Gt = 4,
    Gte = 5,
    Between = 6,
    NonBetween = 7,
    In = 8,
    Nin = 9,
}

impl Operator {
    pub const ALL: [Operator; 10] = [
        Operator::Eq,
        Operator::Ne,
        Operator::Lt,
        Operator::Lte,
        Operator::Gt,
        Operator::Gte,
        Operator::Between,
        Operator::NonBetween,
        Operator::In,
        Operator::Nin,
    ];

    pub fn from_code(code: u8) -> Result<Self, Error> {
        Self::ALL
            .get(code as usize)
            .copied()
            .ok_or(Error::UnknownOperator(code))
    }

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn name(self) -> &'static str {
        match self {
            Operator::Eq => "eq",
            Operator::Ne => "ne",
            Operator::Lt => "lt",
            Operator::Lte => "lte",
            Operator::Gt => "gt",
            Operator::Gte => "gte",
            Operator::Between => "between",
            Operator::NonBetween => "nonbetween",
            Operator::In => "in",
            Operator::Nin => "nin",
        }
    }

    pub fn from_name(name: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|op| op.name() == name)
            .ok_or_else(|| Error::UnknownOperatorName(name.into()))
    }
}

/// An operator with its public operands: one bound, a `[lo, hi]` range, or a set. The one
/// shape of a predicate everywhere: in proofs, in the contracts' messages and records (as
/// `{"op": "lt", "values": [70]}`), in the CLI and the gateway. Deserializing does not check
/// the operand shape: call [`Predicate::validate`] (or build with [`Predicate::new`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(cosmwasm_schema::schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(crate = "cosmwasm_schema::schemars"))]
#[serde(deny_unknown_fields)]
pub struct Predicate {
    pub op: Operator,
    pub values: Vec<u64>,
}

impl Predicate {
    /// Checks the operand count and shape for the operator.
    pub fn new(op: Operator, values: Vec<u64>) -> Result<Self, Error> {
        let predicate = Predicate { op, values };
        predicate.validate()?;
        Ok(predicate)
    }

    pub fn validate(&self) -> Result<(), Error> {
        let n = self.values.len();
        match self.op {
            Operator::Between | Operator::NonBetween => {
                if n != 2 {
                    return Err(Error::OperandCount {
                        op: self.op.name(),
                        expected: "2",
                        got: n,
                    });
                }
                if self.values[0] > self.values[1] {
                    return Err(Error::EmptyRange {
                        lo: self.values[0],
                        hi: self.values[1],
                    });
                }
            }
            Operator::In | Operator::Nin => {
                if n == 0 || n > MAX_SET {
                    return Err(Error::OperandCount {
                        op: self.op.name(),
                        expected: "1 to 8",
                        got: n,
                    });
                }
                if let Some(dup) = self
                    .values
                    .iter()
                    .enumerate()
                    .find(|(i, v)| self.values[..*i].contains(v))
                {
                    return Err(Error::DuplicateSetValue(*dup.1));
                }
            }
            _ => {
                if n != 1 {
                    return Err(Error::OperandCount {
                        op: self.op.name(),
                        expected: "1",
                        got: n,
                    });
                }
            }
        }
        Ok(())
    }

    /// Does `value` satisfy the predicate? The circuit enforces exactly this.
    pub fn holds(&self, value: u64) -> bool {
        let v = &self.values;
        match self.op {
            Operator::Eq => value == v[0],
            Operator::Ne => value != v[0],
            Operator::Lt => value < v[0],
            Operator::Lte => value <= v[0],
            Operator::Gt => value > v[0],
            Operator::Gte => value >= v[0],
            Operator::Between => v[0] <= value && value <= v[1],
            Operator::NonBetween => !(v[0] <= value && value <= v[1]),
            Operator::In => v.contains(&value),
            Operator::Nin => !v.contains(&value),
        }
    }

    /// The operands as the circuit's fixed `MAX_SET` slots: unused slots are 0, except for
    /// sets, which repeat their first value (a repeat never changes membership).
    pub fn slots(&self) -> [u64; MAX_SET] {
        let pad = match self.op {
            Operator::In | Operator::Nin => self.values[0],
            _ => 0,
        };
        let mut slots = [pad; MAX_SET];
        slots[..self.values.len()].copy_from_slice(&self.values);
        slots
    }
}

/// An attribute code such as `hba1c` or `genotype:brca1`, the same identifiers the consent
/// contract's scopes use, packed little-endian into one field element (injective for up to
/// 31 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeCode(String);

impl AttributeCode {
    pub fn new(code: &str) -> Result<Self, Error> {
        let valid_char =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.:".contains(c);
        if code.is_empty()
            || code.len() > MAX_ATTRIBUTE_LEN
            || !code.starts_with(|c: char| c.is_ascii_lowercase())
            || !code.chars().all(valid_char)
        {
            return Err(Error::InvalidAttribute(code.into()));
        }
        Ok(AttributeCode(code.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn to_scalar(&self) -> Scalar {
        let mut bytes = [0u8; 32];
        bytes[..self.0.len()].copy_from_slice(self.0.as_bytes());
        // Below 2^248 < p: always canonical.
        Scalar::from_bytes(&bytes).unwrap()
    }
}

/// 32 bytes → field element, refusing non-canonical encodings (≥ p).
pub fn scalar_from_bytes(field: &'static str, bytes: &[u8]) -> Result<Scalar, Error> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| Error::Length {
        field,
        expected: 32,
        got: bytes.len(),
    })?;
    Option::from(Scalar::from_bytes(&arr)).ok_or(Error::NonCanonicalScalar(field))
}

/// SHA-256 of length-prefixed parts under a domain label, truncated to 31 bytes so the
/// result is a canonical field element.
fn hash_to_scalar(label: &str, parts: &[&[u8]]) -> Scalar {
    let mut hasher = Sha256::new();
    for part in core::iter::once(label.as_bytes()).chain(parts.iter().copied()) {
        hasher.update((part.len() as u32).to_be_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 32];
    bytes[..31].copy_from_slice(&digest[..31]);
    Scalar::from_bytes(&bytes).unwrap()
}

/// The subject key a commitment is bound to: derived from the patient's chain address, so a
/// commitment for one patient cannot be presented as another's.
pub fn subject_key(patient_address: &str) -> Scalar {
    hash_to_scalar("healthmesh.subject.v1", &[patient_address.as_bytes()])
}

/// Where a proof may be used: chain, consent contract, consent token and grantee. A proof
/// made for one context fails under any other, so it cannot be replayed on another chain,
/// another deployment of the consent contract on the same chain, or another consent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub chain_id: String,
    pub consent_contract: String,
    pub consent_id: String,
    pub grantee: String,
}

impl Context {
    pub fn to_scalar(&self) -> Scalar {
        hash_to_scalar(
            "healthmesh.context.v2",
            &[
                self.chain_id.as_bytes(),
                self.consent_contract.as_bytes(),
                self.consent_id.as_bytes(),
                self.grantee.as_bytes(),
            ],
        )
    }
}

/// `C = Poseidon(Commitment; attribute, value, salt, subject)`, 32 bytes little-endian.
pub fn commit(attribute: &AttributeCode, value: u64, salt: &Scalar, subject: &Scalar) -> [u8; 32] {
    poseidon::hash(
        Domain::Commitment,
        &[attribute.to_scalar(), Scalar::from(value), *salt, *subject],
    )
    .to_bytes()
}

/// The public statement of one proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub attribute: AttributeCode,
    pub predicate: Predicate,
    /// The record commitment (32 bytes little-endian field element, hex in JSON).
    #[serde(with = "hex::serde")]
    pub commitment: [u8; 32],
    pub context: Context,
}

impl Statement {
    /// The circuit's only public input:
    /// `Poseidon(Statement; op, attribute, slot_0..slot_7, commitment, context)`.
    /// One input keeps the verifier at one G1 scalar multiplication.
    pub fn public_input(&self) -> Result<Scalar, Error> {
        self.predicate.validate()?;
        Ok(statement_hash(
            Scalar::from(self.predicate.op.code() as u64),
            self.attribute.to_scalar(),
            self.predicate.slots().map(Scalar::from),
            scalar_from_bytes("commitment", &self.commitment)?,
            self.context.to_scalar(),
        ))
    }
}

/// The statement hash from its field elements (shared with the circuit's witness path).
pub fn statement_hash(
    op: Scalar,
    attribute: Scalar,
    slots: [Scalar; MAX_SET],
    commitment: Scalar,
    context: Scalar,
) -> Scalar {
    let mut inputs = Vec::with_capacity(MAX_SET + 4);
    inputs.push(op);
    inputs.push(attribute);
    inputs.extend_from_slice(&slots);
    inputs.push(commitment);
    inputs.push(context);
    poseidon::hash(Domain::Statement, &inputs)
}

/// A uniformly random salt from 64 random bytes.
pub fn salt_from_wide_bytes(bytes: &[u8; 64]) -> Scalar {
    let s = Scalar::from_bytes_wide(bytes);
    if s.is_zero_vartime() {
        Scalar::ONE
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn predicates_validate_their_operands() {
        assert!(Predicate::new(Operator::Lt, vec![70]).is_ok());
        assert!(matches!(
            Predicate::new(Operator::Lt, vec![]),
            Err(Error::OperandCount { .. })
        ));
        assert!(matches!(
            Predicate::new(Operator::Between, vec![5]),
            Err(Error::OperandCount { .. })
        ));
        assert_eq!(
            Predicate::new(Operator::Between, vec![9, 5]),
            Err(Error::EmptyRange { lo: 9, hi: 5 })
        );
        assert!(matches!(
            Predicate::new(Operator::In, vec![0; 9]),
            Err(Error::OperandCount { .. })
        ));
        assert_eq!(
            Predicate::new(Operator::Nin, vec![1, 2, 1]),
            Err(Error::DuplicateSetValue(1))
        );
    }

    #[test]
    fn set_slots_repeat_the_first_value() {
        let p = Predicate::new(Operator::In, vec![5, 7]).unwrap();
        assert_eq!(p.slots(), [5, 7, 5, 5, 5, 5, 5, 5]);
        let b = Predicate::new(Operator::Between, vec![1, 9]).unwrap();
        assert_eq!(b.slots(), [1, 9, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn operators_round_trip_by_code_and_name() {
        for op in Operator::ALL {
            assert_eq!(Operator::from_code(op.code()), Ok(op));
            assert_eq!(Operator::from_name(op.name()), Ok(op));
        }
        assert_eq!(Operator::from_code(10), Err(Error::UnknownOperator(10)));
    }

    #[test]
    fn attribute_codes_are_validated_and_injective() {
        assert!(AttributeCode::new("hba1c").is_ok());
        assert!(AttributeCode::new(&"a".repeat(32)).is_err());
        assert!(AttributeCode::new("HbA1c").is_err());
        let a = AttributeCode::new("age").unwrap().to_scalar();
        let b = AttributeCode::new("age0").unwrap().to_scalar();
        assert_ne!(a, b);
    }

    #[test]
    fn non_canonical_scalars_are_refused() {
        assert_eq!(
            scalar_from_bytes("commitment", &[0xff; 32]),
            Err(Error::NonCanonicalScalar("commitment"))
        );
        assert!(matches!(
            scalar_from_bytes("commitment", &[0; 31]),
            Err(Error::Length { got: 31, .. })
        ));
    }
}
