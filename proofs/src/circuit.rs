//! The predicate circuit: "I know (value, salt, subject) opening the commitment for this
//! attribute, and value satisfies OP against the public operands", with the whole statement
//! (operator, attribute, operands, commitment, context) compressed into one public input.
//!
//! One circuit serves every operator: all predicate results are computed and the operator
//! (a hashed public value) selects which one must be 1. Values are range-checked to 64 bits
//! so the comparisons are sound; operands are bound by the statement hash, which the
//! verifier recomputes from `u64`s.

use alloc::vec::Vec;
use bellman::gadgets::boolean::AllocatedBit;
use bellman::{Circuit, ConstraintSystem, Index, LinearCombination, SynthesisError, Variable};
use bls12_381::Scalar;
use core::cmp::Ordering;
use ff::{Field, PrimeField};

use crate::poseidon::{self, Domain, MDS, ROUND_CONSTANTS, WIDTH};
use crate::statement::{Operator, Statement, MAX_SET};

/// A linear combination with de-duplicated terms (bellman's own keeps appending, which
/// grows exponentially through Poseidon's partial rounds) and its value when known.
///
/// The terms are kept sorted by variable, in a `Vec`: Poseidon's partial rounds mix ever
/// longer combinations (synthesis is mostly this), and merging sorted vectors is several
/// times faster than a map. Like the map it replaces, a term whose coefficient cancels to
/// zero stays, so the constraints are the same, coefficient for coefficient.
///
/// `S` false: values only, no terms (see [`PredicateCircuit::synthesize_values`]).
#[derive(Clone)]
struct Lc<const S: bool> {
    terms: Vec<((bool, usize), Scalar)>,
    value: Option<Scalar>,
}

fn key(v: Variable) -> (bool, usize) {
    match v.get_unchecked() {
        Index::Input(i) => (true, i),
        Index::Aux(i) => (false, i),
    }
}

impl<const S: bool> Lc<S> {
    fn var(v: Variable, value: Option<Scalar>) -> Self {
        Lc {
            terms: if S {
                alloc::vec![(key(v), Scalar::ONE)]
            } else {
                Vec::new()
            },
            value,
        }
    }

    fn constant<CS: ConstraintSystem<Scalar>>(c: Scalar) -> Self {
        Lc {
            terms: if S {
                alloc::vec![(key(CS::one()), c)]
            } else {
                Vec::new()
            },
            value: Some(c),
        }
    }

    fn alloc<CS: ConstraintSystem<Scalar>>(
        cs: &mut CS,
        name: &str,
        value: Option<Scalar>,
    ) -> Result<Self, SynthesisError> {
        let v = cs.alloc(|| name, || value.ok_or(SynthesisError::AssignmentMissing))?;
        Ok(Lc::var(v, value))
    }

    /// `self + coeff * other`.
    fn scaled_add(self, coeff: Scalar, other: &Self) -> Self {
        let (one, minus_one) = (coeff == Scalar::ONE, coeff == -Scalar::ONE);
        let scale = |c: &Scalar| {
            if one {
                *c
            } else if minus_one {
                -c
            } else {
                coeff * c
            }
        };
        let (a, b) = (&self.terms, &other.terms);
        let mut terms = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                Ordering::Less => {
                    terms.push(a[i]);
                    i += 1;
                }
                Ordering::Greater => {
                    terms.push((b[j].0, scale(&b[j].1)));
                    j += 1;
                }
                Ordering::Equal => {
                    terms.push((a[i].0, a[i].1 + scale(&b[j].1)));
                    i += 1;
                    j += 1;
                }
            }
        }
        terms.extend_from_slice(&a[i..]);
        terms.extend(b[j..].iter().map(|(k, c)| (*k, scale(c))));
        Lc {
            terms,
            value: self.value.zip(other.value).map(|(a, b)| a + coeff * b),
        }
    }

    fn add(self, other: &Self) -> Self {
        self.scaled_add(Scalar::ONE, other)
    }

    fn sub(self, other: &Self) -> Self {
        self.scaled_add(-Scalar::ONE, other)
    }

    fn zero() -> Self {
        Lc {
            terms: Vec::new(),
            value: Some(Scalar::ZERO),
        }
    }

    fn bellman(&self) -> LinearCombination<Scalar> {
        self.terms
            .iter()
            .fold(LinearCombination::zero(), |lc, ((input, i), c)| {
                let index = if *input {
                    Index::Input(*i)
                } else {
                    Index::Aux(*i)
                };
                lc + (*c, Variable::new_unchecked(index))
            })
    }
}

/// `a * b`, one constraint.
fn mul<CS: ConstraintSystem<Scalar>, const S: bool>(
    cs: &mut CS,
    a: &Lc<S>,
    b: &Lc<S>,
) -> Result<Lc<S>, SynthesisError> {
    let product = Lc::alloc(cs, "product", a.value.zip(b.value).map(|(a, b)| a * b))?;
    cs.enforce(
        || "a * b = product",
        |_| a.bellman(),
        |_| b.bellman(),
        |_| product.bellman(),
    );
    Ok(product)
}

/// `a = b`, one constraint.
fn enforce_equal<CS: ConstraintSystem<Scalar>, const S: bool>(
    cs: &mut CS,
    name: &str,
    a: &Lc<S>,
    b: &Lc<S>,
) {
    cs.enforce(
        || name,
        |_| a.bellman(),
        |lc| lc + CS::one(),
        |_| b.bellman(),
    );
}

fn sbox<CS: ConstraintSystem<Scalar>, const S: bool>(
    cs: &mut CS,
    x: &Lc<S>,
) -> Result<Lc<S>, SynthesisError> {
    let x2 = mul(&mut cs.namespace(|| "x2"), x, x)?;
    let x4 = mul(&mut cs.namespace(|| "x4"), &x2, &x2)?;
    mul(&mut cs.namespace(|| "x5"), &x4, x)
}

fn poseidon_permute<CS: ConstraintSystem<Scalar>, const S: bool>(
    cs: &mut CS,
    mut state: Vec<Lc<S>>,
) -> Result<Vec<Lc<S>>, SynthesisError> {
    for round in 0..poseidon::FULL_ROUNDS + poseidon::PARTIAL_ROUNDS {
        let mut cs = cs.namespace(|| alloc::format!("round {round}"));
        for (i, s) in state.iter_mut().enumerate() {
            *s = s
                .clone()
                .add(&Lc::constant::<CS>(ROUND_CONSTANTS[round * WIDTH + i]));
        }
        let sboxed = if poseidon::is_full_round(round) {
            WIDTH
        } else {
            1
        };
        for (i, s) in state.iter_mut().take(sboxed).enumerate() {
            *s = sbox(&mut cs.namespace(|| alloc::format!("sbox {i}")), s)?;
        }
        state = MDS
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&state)
                    .fold(Lc::zero(), |acc, (m, s)| acc.scaled_add(*m, s))
            })
            .collect();
    }
    Ok(state)
}

/// The in-circuit twin of [`poseidon::hash`].
fn poseidon_hash<CS: ConstraintSystem<Scalar>, const S: bool>(
    cs: &mut CS,
    domain: Domain,
    inputs: &[Lc<S>],
) -> Result<Lc<S>, SynthesisError> {
    let mut state: Vec<Lc<S>> = (0..WIDTH).map(|_| Lc::zero()).collect();
    state[0] = Lc::constant::<CS>(poseidon::capacity_iv(domain, inputs.len()));
    for (n, chunk) in inputs.chunks(poseidon::RATE).enumerate() {
        for (s, x) in state[1..].iter_mut().zip(chunk) {
            *s = s.clone().add(x);
        }
        state = poseidon_permute(&mut cs.namespace(|| alloc::format!("absorb {n}")), state)?;
    }
    Ok(state.swap_remove(1))
}

/// Decompose `x` (known to be `value`) into `n` bits, little-endian; enforces x < 2^n.
fn to_bits<CS: ConstraintSystem<Scalar>, const S: bool>(
    cs: &mut CS,
    x: &Lc<S>,
    value: Option<u128>,
    n: usize,
) -> Result<Vec<Lc<S>>, SynthesisError> {
    let mut packed = Lc::zero();
    let mut weight = Scalar::ONE;
    let mut bits = Vec::with_capacity(n);
    for i in 0..n {
        let bit = AllocatedBit::alloc(
            cs.namespace(|| alloc::format!("bit {i}")),
            value.map(|v| (v >> i) & 1 == 1),
        )?;
        let bit = Lc::var(
            bit.get_variable(),
            bit.get_value().map(|b| Scalar::from(b as u64)),
        );
        packed = packed.scaled_add(weight, &bit);
        weight = weight.double();
        bits.push(bit);
    }
    enforce_equal(cs, "pack bits", &packed, x);
    Ok(bits)
}

/// `a < b` for a, b < 2^64, as a boolean: bit 64 of `a + 2^64 − b` is 1 exactly when a ≥ b.
fn less_than<CS: ConstraintSystem<Scalar>, const S: bool>(
    cs: &mut CS,
    a: (&Lc<S>, Option<u64>),
    b: (&Lc<S>, Option<u64>),
) -> Result<Lc<S>, SynthesisError> {
    let two_64 = Scalar::from_u128(1u128 << 64);
    let shifted = a.0.clone().add(&Lc::constant::<CS>(two_64)).sub(b.0);
    let value =
        a.1.zip(b.1)
            .map(|(a, b)| a as u128 + (1u128 << 64) - b as u128);
    let bits = to_bits(cs, &shifted, value, 65)?;
    Ok(Lc::constant::<CS>(Scalar::ONE).sub(&bits[64]))
}

/// 1 if `x` = 0, else 0. Two constraints.
fn is_zero<CS: ConstraintSystem<Scalar>, const S: bool>(
    cs: &mut CS,
    x: &Lc<S>,
) -> Result<Lc<S>, SynthesisError> {
    let inverse = x
        .value
        .map(|v| Option::from(v.invert()).unwrap_or(Scalar::ZERO));
    let inv = Lc::<S>::alloc(cs, "inverse", inverse)?;
    let z = Lc::alloc(
        cs,
        "is zero",
        x.value
            .map(|v| Scalar::from(bool::from(v.is_zero()) as u64)),
    )?;
    let one_minus_z = Lc::constant::<CS>(Scalar::ONE).sub(&z);
    cs.enforce(
        || "x * inv = 1 - z",
        |_| x.bellman(),
        |_| inv.bellman(),
        |_| one_minus_z.bellman(),
    );
    cs.enforce(|| "x * z = 0", |_| x.bellman(), |_| z.bellman(), |lc| lc);
    Ok(z)
}

/// Every value the prover knows. Key generation synthesises the circuit without one.
#[derive(Clone, Debug)]
pub struct Assignment {
    pub attribute: Scalar,
    pub value: u64,
    pub salt: Scalar,
    pub subject: Scalar,
    pub op: u8,
    pub slots: [u64; MAX_SET],
    pub context: Scalar,
}

impl Assignment {
    /// The assignment for a statement and its opening.
    pub fn new(statement: &Statement, value: u64, salt: Scalar, subject: Scalar) -> Self {
        Assignment {
            attribute: statement.attribute.to_scalar(),
            value,
            salt,
            subject,
            op: statement.predicate.op.code(),
            slots: statement.predicate.slots(),
            context: statement.context.to_scalar(),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct PredicateCircuit {
    pub assignment: Option<Assignment>,
}

impl Circuit<Scalar> for PredicateCircuit {
    fn synthesize<CS: ConstraintSystem<Scalar>>(self, cs: &mut CS) -> Result<(), SynthesisError> {
        self.synthesize_with::<CS, true>(cs)
    }
}

impl PredicateCircuit {
    /// The witness only: the same variables, allocated in the same order with the same
    /// values, but no linear combinations are built (`enforce` gets closures that return
    /// empty ones). For a prover that already has the constraints: building the
    /// combinations is most of the work of synthesis.
    pub(crate) fn synthesize_values<CS: ConstraintSystem<Scalar>>(
        self,
        cs: &mut CS,
    ) -> Result<(), SynthesisError> {
        self.synthesize_with::<CS, false>(cs)
    }

    fn synthesize_with<CS: ConstraintSystem<Scalar>, const S: bool>(
        self,
        cs: &mut CS,
    ) -> Result<(), SynthesisError> {
        let a = self.assignment.as_ref();
        let attribute = Lc::<S>::alloc(cs, "attribute", a.map(|a| a.attribute))?;
        let value_u64 = a.map(|a| a.value);
        let value = Lc::<S>::alloc(cs, "value", value_u64.map(Scalar::from))?;
        to_bits(
            &mut cs.namespace(|| "value range"),
            &value,
            value_u64.map(u128::from),
            64,
        )?;
        let salt = Lc::alloc(cs, "salt", a.map(|a| a.salt))?;
        let subject = Lc::alloc(cs, "subject", a.map(|a| a.subject))?;
        let commitment = poseidon_hash(
            &mut cs.namespace(|| "commitment"),
            Domain::Commitment,
            &[attribute.clone(), value.clone(), salt, subject],
        )?;

        let op = Lc::alloc(cs, "op", a.map(|a| Scalar::from(a.op as u64)))?;
        let slot_values: [Option<u64>; MAX_SET] = core::array::from_fn(|i| a.map(|a| a.slots[i]));
        let slots: Vec<Lc<S>> = slot_values
            .iter()
            .enumerate()
            .map(|(i, s)| Lc::alloc(cs, &alloc::format!("slot {i}"), s.map(Scalar::from)))
            .collect::<Result<_, _>>()?;
        let context = Lc::alloc(cs, "context", a.map(|a| a.context))?;

        let mut statement_inputs = alloc::vec![op.clone(), attribute];
        statement_inputs.extend(slots.iter().cloned());
        statement_inputs.push(commitment);
        statement_inputs.push(context);
        let statement_hash = poseidon_hash(
            &mut cs.namespace(|| "statement"),
            Domain::Statement,
            &statement_inputs,
        )?;
        let public = cs.alloc_input(
            || "statement hash",
            || {
                statement_hash
                    .value
                    .ok_or(SynthesisError::AssignmentMissing)
            },
        )?;
        enforce_equal(
            cs,
            "public input",
            &statement_hash,
            &Lc::var(public, statement_hash.value),
        );

        let results = predicate_results(
            &mut cs.namespace(|| "predicates"),
            (&value, value_u64),
            &slots,
            &slot_values,
        )?;
        select_true(&mut cs.namespace(|| "select"), &op, &results)
    }
}

/// The truth value of every operator, indexed by operator code.
fn predicate_results<CS: ConstraintSystem<Scalar>, const S: bool>(
    cs: &mut CS,
    value: (&Lc<S>, Option<u64>),
    slots: &[Lc<S>],
    slot_values: &[Option<u64>; MAX_SET],
) -> Result<[Lc<S>; 10], SynthesisError> {
    let one = Lc::constant::<CS>(Scalar::ONE);
    let not = |x: &Lc<S>| one.clone().sub(x);
    let lo = (&slots[0], slot_values[0]);
    let hi = (&slots[1], slot_values[1]);

    let eq = is_zero(&mut cs.namespace(|| "eq"), &value.0.clone().sub(lo.0))?;
    let lt = less_than(&mut cs.namespace(|| "lt"), value, lo)?;
    let above_hi = less_than(&mut cs.namespace(|| "gt hi"), hi, value)?;
    let between = mul(&mut cs.namespace(|| "between"), &not(&lt), &not(&above_hi))?;
    let mut product = value.0.clone().sub(&slots[0]);
    for (i, slot) in slots.iter().enumerate().skip(1) {
        let mut cs = cs.namespace(|| alloc::format!("set member {i}"));
        product = mul(&mut cs, &product, &value.0.clone().sub(slot))?;
    }
    let member = is_zero(&mut cs.namespace(|| "in"), &product)?;

    let lte = lt.clone().add(&eq);
    let results = [
        eq.clone(),      // EQ
        not(&eq),        // NE
        lt.clone(),      // LT
        lte.clone(),     // LTE
        not(&lte),       // GT
        not(&lt),        // GTE
        between.clone(), // BETWEEN
        not(&between),   // NONBETWEEN
        member.clone(),  // IN
        not(&member),    // NIN
    ];
    debug_assert_eq!(results.len(), Operator::ALL.len());
    Ok(results)
}

/// Enforce that `op` is one of the operator codes and that its result is 1.
fn select_true<CS: ConstraintSystem<Scalar>, const S: bool>(
    cs: &mut CS,
    op: &Lc<S>,
    results: &[Lc<S>; 10],
) -> Result<(), SynthesisError> {
    let mut selector_sum = Lc::zero();
    let mut selected = Lc::zero();
    for (code, result) in results.iter().enumerate() {
        let mut cs = cs.namespace(|| alloc::format!("op {code}"));
        let is_op = is_zero(
            &mut cs,
            &op.clone()
                .sub(&Lc::constant::<CS>(Scalar::from(code as u64))),
        )?;
        selector_sum = selector_sum.add(&is_op);
        selected = selected.add(&mul(&mut cs, &is_op, result)?);
    }
    let one = Lc::constant::<CS>(Scalar::ONE);
    enforce_equal(cs, "op is an operator code", &selector_sum, &one);
    enforce_equal(cs, "its predicate holds", &selected, &one);
    Ok(())
}
