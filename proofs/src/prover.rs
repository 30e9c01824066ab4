//! Proving: check the opening and the predicate natively (so a false claim gets a clear
//! error instead of an invalid proof), then run the Groth16 prover.
//!
//! [`Prover`] computes what `groth16::create_proof` computes — for equal `r` and `s` the same
//! proof, byte for byte (see the tests) — but does per proof only what depends on the
//! witness. Once per proving key (the key keeps its prover) it records the circuit's
//! constraints, the FFT's twiddle factors, and fixed-base tables of the key's query points for
//! `blst`'s Pippenger multi-scalar multiplication (assembly field arithmetic). Per proof:
//! the witness (for the predicate circuit, its values without its linear combinations), the
//! constraint evaluations and the quotient polynomial h, and the multi-scalar
//! multiplications (most of the time), on all cores.
//!
//! With `groth16` (bellman's pure-Rust multiexp, the circuit's full synthesis and bellman's
//! FFT per proof) a proof took ~170 ms on two cores; see the README for the breakdown.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use bellman::{Circuit, ConstraintSystem, Index, LinearCombination, SynthesisError, Variable};
use bls12_381::{Bls12, G1Affine, G2Affine, Scalar};
use blst::{blst_p1, blst_p1_affine, blst_p2, blst_p2_affine, BLST_ERROR};
use ff::{Field, PrimeField};
use rand_core::Rng;
use rayon::prelude::*;

use crate::circuit::{Assignment, PredicateCircuit};
use crate::keys::ProvingKey;
use crate::statement::{commit, Statement};
use crate::verifier::{Proof, PROOF_LEN};
use crate::Error;

/// What only the prover knows: the committed value, its salt and the subject key.
#[derive(Clone, Debug)]
pub struct Opening {
    pub value: u64,
    pub salt: Scalar,
    pub subject: Scalar,
}

/// A 192-byte proof of `statement`, or why the opening cannot prove it.
///
/// The first proof with a key also builds the key's [`Prover`] (~0.4 s).
pub fn prove<R: Rng>(
    pk: &ProvingKey,
    statement: &Statement,
    opening: &Opening,
    rng: &mut R,
) -> Result<[u8; PROOF_LEN], Error> {
    statement.predicate.validate()?;
    if commit(
        &statement.attribute,
        opening.value,
        &opening.salt,
        &opening.subject,
    ) != statement.commitment
    {
        return Err(Error::CommitmentMismatch);
    }
    if !statement.predicate.holds(opening.value) {
        return Err(Error::Unsatisfied);
    }
    let circuit = PredicateCircuit {
        assignment: Some(Assignment::new(
            statement,
            opening.value,
            opening.salt,
            opening.subject,
        )),
    };
    let r = Scalar::random(&mut *rng);
    let s = Scalar::random(&mut *rng);
    Ok(create_proof(circuit, pk, r, s)?.to_bytes())
}

/// The Groth16 proof of `circuit` with the blinding factors `r` and `s`.
pub(crate) fn create_proof(
    circuit: PredicateCircuit,
    pk: &ProvingKey,
    r: Scalar,
    s: Scalar,
) -> Result<Proof, Error> {
    pk.prover()?.create_proof(circuit, r, s)
}

/// A circuit [`Prover`] can prove. Provers need only the witness of each proof (they have the
/// constraints): a circuit that can compute it without building its linear combinations
/// says so here; the default synthesises in full.
pub trait ProverCircuit: Circuit<Scalar> {
    /// Allocates the same variables as `synthesize`, in the same order and with the same
    /// values; the prover ignores `enforce`.
    fn synthesize_witness<CS: ConstraintSystem<Scalar>>(
        self,
        cs: &mut CS,
    ) -> Result<(), SynthesisError>
    where
        Self: Sized,
    {
        self.synthesize(cs)
    }
}

impl ProverCircuit for PredicateCircuit {
    fn synthesize_witness<CS: ConstraintSystem<Scalar>>(
        self,
        cs: &mut CS,
    ) -> Result<(), SynthesisError> {
        self.synthesize_values(cs)
    }
}

fn mismatch() -> SynthesisError {
    SynthesisError::IoError(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "the proving key does not match the circuit",
    ))
}

fn prove_with<C: ProverCircuit>(
    circuit: C,
    prover: &Prover,
    r: Scalar,
    s: Scalar,
) -> Result<Proof, SynthesisError> {
    let Prover {
        shape,
        domain,
        a: a_table,
        c: c_table,
        h_len,
        b_g2: b2_table,
    } = prover;
    let mut witness = Values {
        inputs: vec![Scalar::ONE],
        aux: Vec::with_capacity(shape.aux),
    };
    circuit.synthesize_witness(&mut witness)?;
    let Values { inputs, aux } = witness;
    if inputs.len() != shape.inputs || aux.len() != shape.aux {
        return Err(mismatch());
    }
    let (inputs_bytes, aux_bytes) = (to_bytes(&inputs), to_bytes(&aux));
    let (r_bytes, s_bytes, one) = (r.to_repr(), s.to_repr(), Scalar::ONE.to_repr());

    // G1, the A query (every input, then the aux variables that occur in A), delta, alpha:
    // g_a = alpha + r delta + sum a_i A_i.
    let mut a_scalars: Vec<[u8; 32]> = inputs_bytes
        .iter()
        .chain(select(&aux_bytes, &shape.a_aux_density))
        .copied()
        .collect();
    a_scalars.extend([r_bytes, one]);
    // The B query: the inputs and aux variables that occur in B.
    let b_values: Vec<Scalar> = select(&inputs, &shape.b_input_density)
        .chain(select(&aux, &shape.b_aux_density))
        .copied()
        .collect();
    // G2, the B query, delta, beta: g_b = beta + s delta + sum b_i B_i.
    let mut b2_scalars = to_bytes(&b_values);
    b2_scalars.extend([s_bytes, one]);
    // G1, C without its s g_a term: L (all aux), the B query times r, beta times r; then H.
    let rb: Vec<Scalar> = b_values.iter().map(|b| b * r).collect();
    let mut c_scalars = aux_bytes;
    c_scalars.extend(to_bytes(&rb));
    c_scalars.push(r_bytes);
    let h_first = c_scalars.len();
    if a_scalars.len() != a_table.bases
        || b2_scalars.len() != b2_table.bases
        || h_first + h_len != c_table.bases
    {
        return Err(mismatch());
    }

    // Five jobs for the cores: h (constraint evaluations, FFTs) then its H term — the
    // longest chain, so it starts first —, the rest of C, A, and G2's B in two halves.
    let b2_half = b2_scalars.len() / 2;
    let ((c_h, c_rest), (g_a, (b2_lo, b2_hi))) = rayon::join(
        || {
            rayon::join(
                || {
                    let h = domain.quotient(shape, &inputs, &aux);
                    c_table.msm(h_first, &to_bytes(&h[..*h_len]))
                },
                || c_table.msm(0, &c_scalars),
            )
        },
        || {
            rayon::join(
                || a_table.msm(0, &a_scalars),
                || {
                    rayon::join(
                        || b2_table.msm(0, &b2_scalars[..b2_half]),
                        || b2_table.msm(b2_half, &b2_scalars[b2_half..]),
                    )
                },
            )
        },
    );
    // g_c = s g_a + (L + r B + r beta) + H.
    let g_c = G1::add(&G1::add(&G1::mul(&g_a, &s_bytes), &c_rest), &c_h);
    let g_b = G2::add(&b2_lo, &b2_hi);
    Ok(Proof {
        a: g1_to_affine(&g_a)?,
        b: g2_to_affine(&g_b)?,
        c: g1_to_affine(&g_c)?,
    })
}

fn to_bytes(scalars: &[Scalar]) -> Vec<[u8; 32]> {
    scalars.iter().map(|s| s.to_repr()).collect()
}

fn select<'a, T>(values: &'a [T], density: &'a [bool]) -> impl Iterator<Item = &'a T> {
    values
        .iter()
        .zip(density)
        .filter_map(|(v, dense)| dense.then_some(v))
}

/// A Groth16 prover for one circuit and its parameters, with everything that does not
/// depend on the witness precomputed: the constraints, the FFT domain, and fixed-base tables
/// of the query points (~17 MB for the predicate circuit). Build it once, prove many times.
pub struct Prover {
    shape: Shape,
    domain: FftDomain,
    /// `A` query (inputs, then aux), `delta_g1`, `alpha_g1`.
    a: Table<G1>,
    /// `L`, `B` in G1, `beta_g1`, then `H` (the last `h_len`).
    c: Table<G1>,
    h_len: usize,
    /// `B` in G2, `delta_g2`, `beta_g2`.
    b_g2: Table<G2>,
}

/// Window of the G1 tables, in bits: 2^(w-1) buckets of 192 bytes.
const G1_WINDOW: usize = 12;
/// Window of the G2 table (its multiplication runs as two halves of ~500 bases).
const G2_WINDOW: usize = 11;

impl Prover {
    /// The prover of `params`, made for the circuit `blank` (synthesised without a witness,
    /// as for key generation). About 0.4 s on two cores for the predicate circuit.
    pub fn new<C: Circuit<Scalar>>(
        params: &groth16::Parameters<Bls12>,
        blank: C,
    ) -> Result<Self, Error> {
        let vk = &params.vk;
        if bool::from(vk.delta_g1.is_identity() | vk.delta_g2.is_identity()) {
            // A subversion-CRS attack (as `groth16` checks).
            return Err(Error::Proving(
                "the proving key's delta is the identity".into(),
            ));
        }
        let shape = Shape::record(blank).map_err(|e| Error::Proving(format!("{e}")))?;
        let b_dense = shape.b_input_density.iter().filter(|d| **d).count()
            + shape.b_aux_density.iter().filter(|d| **d).count();
        let a_dense = shape.inputs + shape.a_aux_density.iter().filter(|d| **d).count();
        let domain = FftDomain::new(shape.a.rows())?;
        if params.l.len() != shape.aux
            || params.a.len() != a_dense
            || params.b_g1.len() != b_dense
            || params.b_g2.len() != b_dense
            || params.h.len() != domain.size - 1
            || vk.ic.len() != shape.inputs
        {
            return Err(Error::Proving(
                "the proving key does not match the circuit".into(),
            ));
        }
        let a: Vec<G1Affine> = params
            .a
            .iter()
            .chain([&vk.delta_g1, &vk.alpha_g1])
            .copied()
            .collect();
        let c: Vec<G1Affine> = params
            .l
            .iter()
            .chain(params.b_g1.iter())
            .chain([&vk.beta_g1])
            .chain(params.h.iter())
            .copied()
            .collect();
        let b_g2: Vec<G2Affine> = params
            .b_g2
            .iter()
            .chain([&vk.delta_g2, &vk.beta_g2])
            .copied()
            .collect();
        let (a, (c, b_g2)) = rayon::join(
            || Table::<G1>::new(&a, G1_WINDOW),
            || {
                rayon::join(
                    || Table::<G1>::new(&c, G1_WINDOW),
                    || Table::<G2>::new(&b_g2, G2_WINDOW),
                )
            },
        );
        Ok(Prover {
            shape,
            domain,
            a: a?,
            c: c?,
            h_len: params.h.len(),
            b_g2: b_g2?,
        })
    }

    /// The proof of `circuit` (the circuit this prover was made for, with a witness) with
    /// the blinding factors `r` and `s`.
    pub fn create_proof<C: ProverCircuit>(
        &self,
        circuit: C,
        r: Scalar,
        s: Scalar,
    ) -> Result<Proof, Error> {
        prove_with(circuit, self, r, s).map_err(|e| Error::Proving(format!("{e}")))
    }

    /// [`Self::create_proof`] with random blinding factors.
    pub fn create_random_proof<C: ProverCircuit, R: Rng>(
        &self,
        circuit: C,
        rng: &mut R,
    ) -> Result<Proof, Error> {
        let r = Scalar::random(&mut *rng);
        let s = Scalar::random(&mut *rng);
        self.create_proof(circuit, r, s)
    }
}

/// The witness, from [`ProverCircuit::synthesize_witness`]: `enforce` is not evaluated.
struct Values {
    inputs: Vec<Scalar>,
    aux: Vec<Scalar>,
}

impl ConstraintSystem<Scalar> for Values {
    type Root = Self;

    fn alloc<F, A, AR>(&mut self, _: A, f: F) -> Result<Variable, SynthesisError>
    where
        F: FnOnce() -> Result<Scalar, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<alloc::string::String>,
    {
        self.aux.push(f()?);
        Ok(Variable::new_unchecked(Index::Aux(self.aux.len() - 1)))
    }

    fn alloc_input<F, A, AR>(&mut self, _: A, f: F) -> Result<Variable, SynthesisError>
    where
        F: FnOnce() -> Result<Scalar, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<alloc::string::String>,
    {
        self.inputs.push(f()?);
        Ok(Variable::new_unchecked(Index::Input(self.inputs.len() - 1)))
    }

    fn enforce<A, AR, LA, LB, LC>(&mut self, _: A, _: LA, _: LB, _: LC)
    where
        A: FnOnce() -> AR,
        AR: Into<alloc::string::String>,
        LA: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
        LB: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
        LC: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
    {
    }

    fn push_namespace<NR, N>(&mut self, _: N)
    where
        NR: Into<alloc::string::String>,
        N: FnOnce() -> NR,
    {
    }

    fn pop_namespace(&mut self) {}

    fn get_root(&mut self) -> &mut Self::Root {
        self
    }
}

/// A circuit's constraints as the prover uses them: the circuit's, then
/// `input_i * 0 = 0` for every public input (as `groth16` adds them), with the density of
/// the A and B queries (which variables occur with a nonzero coefficient; inputs are all in
/// A), as `groth16`'s prover tracks it.
struct Shape {
    inputs: usize,
    aux: usize,
    a: Sparse,
    b: Sparse,
    c: Sparse,
    a_aux_density: Vec<bool>,
    b_input_density: Vec<bool>,
    b_aux_density: Vec<bool>,
}

/// Rows of a constraint matrix: row `i` is `terms[starts[i]..starts[i + 1]]`, without the
/// zero coefficients.
#[derive(Default)]
struct Sparse {
    starts: Vec<usize>,
    terms: Vec<(Index, Scalar)>,
}

impl Sparse {
    fn push(&mut self, lc: &LinearCombination<Scalar>) {
        if self.starts.is_empty() {
            self.starts.push(0);
        }
        self.terms.extend(
            lc.as_ref()
                .iter()
                .filter(|(_, c)| !c.is_zero_vartime())
                .map(|(v, c)| (v.get_unchecked(), *c)),
        );
        self.starts.push(self.terms.len());
    }

    fn rows(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Every row at the witness, as `groth16` evaluates them.
    fn evaluate(&self, inputs: &[Scalar], aux: &[Scalar]) -> Vec<Scalar> {
        self.starts
            .windows(2)
            .map(|w| {
                let mut acc = Scalar::ZERO;
                for (index, coeff) in &self.terms[w[0]..w[1]] {
                    let value = match index {
                        Index::Input(i) => inputs[*i],
                        Index::Aux(i) => aux[*i],
                    };
                    acc += if *coeff == Scalar::ONE {
                        value
                    } else {
                        value * coeff
                    };
                }
                acc
            })
            .collect()
    }
}

impl Shape {
    /// Synthesises `blank` (without a witness), recording the constraints.
    fn record<C: Circuit<Scalar>>(blank: C) -> Result<Self, SynthesisError> {
        let mut shape = Shape {
            inputs: 0,
            aux: 0,
            a: Sparse::default(),
            b: Sparse::default(),
            c: Sparse::default(),
            a_aux_density: Vec::new(),
            b_input_density: Vec::new(),
            b_aux_density: Vec::new(),
        };
        shape.alloc_input(|| "", || Ok(Scalar::ONE))?;
        blank.synthesize(&mut shape)?;
        for i in 0..shape.inputs {
            shape.enforce(
                || "",
                |lc| lc + Variable::new_unchecked(Index::Input(i)),
                |lc| lc,
                |lc| lc,
            );
        }
        Ok(shape)
    }
}

impl ConstraintSystem<Scalar> for Shape {
    type Root = Self;

    fn alloc<F, A, AR>(&mut self, _: A, _: F) -> Result<Variable, SynthesisError>
    where
        F: FnOnce() -> Result<Scalar, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<alloc::string::String>,
    {
        self.aux += 1;
        self.a_aux_density.push(false);
        self.b_aux_density.push(false);
        Ok(Variable::new_unchecked(Index::Aux(self.aux - 1)))
    }

    fn alloc_input<F, A, AR>(&mut self, _: A, _: F) -> Result<Variable, SynthesisError>
    where
        F: FnOnce() -> Result<Scalar, SynthesisError>,
        A: FnOnce() -> AR,
        AR: Into<alloc::string::String>,
    {
        self.inputs += 1;
        self.b_input_density.push(false);
        Ok(Variable::new_unchecked(Index::Input(self.inputs - 1)))
    }

    fn enforce<A, AR, LA, LB, LC>(&mut self, _: A, a: LA, b: LB, c: LC)
    where
        A: FnOnce() -> AR,
        AR: Into<alloc::string::String>,
        LA: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
        LB: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
        LC: FnOnce(LinearCombination<Scalar>) -> LinearCombination<Scalar>,
    {
        let a = a(LinearCombination::zero());
        let b = b(LinearCombination::zero());
        let c = c(LinearCombination::zero());
        for (v, coeff) in a.as_ref() {
            if let (Index::Aux(i), false) = (v.get_unchecked(), coeff.is_zero_vartime()) {
                self.a_aux_density[i] = true;
            }
        }
        for (v, coeff) in b.as_ref() {
            if !coeff.is_zero_vartime() {
                match v.get_unchecked() {
                    Index::Input(i) => self.b_input_density[i] = true,
                    Index::Aux(i) => self.b_aux_density[i] = true,
                }
            }
        }
        self.a.push(&a);
        self.b.push(&b);
        self.c.push(&c);
    }

    fn push_namespace<NR, N>(&mut self, _: N)
    where
        NR: Into<alloc::string::String>,
        N: FnOnce() -> NR,
    {
    }

    fn pop_namespace(&mut self) {}

    fn get_root(&mut self) -> &mut Self::Root {
        self
    }
}

/// The radix-2 domain of the constraints (as bellman's `EvaluationDomain` picks it), with
/// its twiddle factors and coset scalings precomputed.
struct FftDomain {
    size: usize,
    /// `omega^i` and `omega^-i` for `i < size / 2`.
    twiddles: Vec<Scalar>,
    inverse_twiddles: Vec<Scalar>,
    /// `g^i / size` (inverse FFT, then onto the coset `g H`, `g` the multiplicative
    /// generator), and `g^-i / (size z(g))` (inverse FFT on the coset, divided by the
    /// vanishing polynomial, constant there).
    to_coset: Vec<Scalar>,
    from_coset: Vec<Scalar>,
}

impl FftDomain {
    fn new(rows: usize) -> Result<Self, Error> {
        let size = rows.next_power_of_two().max(2);
        let log = size.trailing_zeros();
        if log >= Scalar::S {
            return Err(Error::Proving("polynomial degree too large".into()));
        }
        let mut omega = Scalar::ROOT_OF_UNITY;
        for _ in log..Scalar::S {
            omega = omega.square();
        }
        let powers = |x: Scalar, n: usize, scale: Scalar| {
            core::iter::successors(Some(scale), move |p| Some(p * x))
                .take(n)
                .collect::<Vec<_>>()
        };
        let inverse = |x: Scalar| Option::<Scalar>::from(x.invert()).expect("nonzero");
        let g = Scalar::MULTIPLICATIVE_GENERATOR;
        let size_inv = inverse(Scalar::from(size as u64));
        let z_inv = inverse(Field::pow_vartime(&g, [size as u64]) - Scalar::ONE);
        Ok(FftDomain {
            size,
            twiddles: powers(omega, size / 2, Scalar::ONE),
            inverse_twiddles: powers(inverse(omega), size / 2, Scalar::ONE),
            to_coset: powers(g, size, size_inv),
            from_coset: powers(inverse(g), size, size_inv * z_inv),
        })
    }

    /// In-place radix-2 FFT with the given twiddles (natural order in and out).
    fn fft(&self, a: &mut [Scalar], twiddles: &[Scalar]) {
        let n = a.len();
        let log = n.trailing_zeros();
        for k in 0..n {
            let rk = k.reverse_bits() >> (usize::BITS - log);
            if k < rk {
                a.swap(k, rk);
            }
        }
        for pair in a.chunks_exact_mut(2) {
            let t = pair[1];
            pair[1] = pair[0] - t;
            pair[0] += t;
        }
        let mut half = 2;
        while half < n {
            let stride = n / (2 * half);
            for block in a.chunks_exact_mut(2 * half) {
                let (lo, hi) = block.split_at_mut(half);
                for (j, (x, y)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
                    let t = *y * twiddles[j * stride];
                    *y = *x - t;
                    *x += t;
                }
            }
            half *= 2;
        }
    }

    /// Evaluations on the coset `g H` of the polynomial with `values` on `H`.
    fn to_coset(&self, mut values: Vec<Scalar>) -> Vec<Scalar> {
        values.resize(self.size, Scalar::ZERO);
        self.fft(&mut values, &self.inverse_twiddles);
        for (v, s) in values.iter_mut().zip(&self.to_coset) {
            *v *= s;
        }
        self.fft(&mut values, &self.twiddles);
        values
    }

    /// The coefficients of h = (a b - c) / z (the last one, always zero, included).
    fn quotient(&self, shape: &Shape, inputs: &[Scalar], aux: &[Scalar]) -> Vec<Scalar> {
        let ((mut a, b), c) = rayon::join(
            || {
                rayon::join(
                    || self.to_coset(shape.a.evaluate(inputs, aux)),
                    || self.to_coset(shape.b.evaluate(inputs, aux)),
                )
            },
            || self.to_coset(shape.c.evaluate(inputs, aux)),
        );
        for ((a, b), c) in a.iter_mut().zip(&b).zip(&c) {
            *a = *a * b - c;
        }
        self.fft(&mut a, &self.inverse_twiddles);
        for (v, s) in a.iter_mut().zip(&self.from_coset) {
            *v *= s;
        }
        a
    }
}

/// `points[i * windows + j] = 2^(window j) bases[i]`, with `window * windows >= 256`.
struct Table<G: BlstGroup> {
    window: usize,
    windows: usize,
    bases: usize,
    points: Vec<G::Affine>,
}

impl<G: BlstGroup> Table<G> {
    fn new(bases: &[G::Bls], window: usize) -> Result<Self, Error> {
        // Digits of w + 1 bits in two bytes; at least two windows (a tile reads one point
        // ahead, so it needs two).
        assert!((2..=15).contains(&window));
        let windows = 256usize.div_ceil(window);
        let points = bases
            .par_chunks(64)
            .map(|chunk| -> Result<Vec<G::Affine>, Error> {
                let mut multiples = Vec::with_capacity(chunk.len() * windows);
                for base in chunk {
                    let mut p = G::from_affine(&G::convert(base)?);
                    multiples.push(p);
                    for _ in 1..windows {
                        for _ in 0..window {
                            p = G::double(&p);
                        }
                        multiples.push(p);
                    }
                }
                Ok(G::to_affines(&multiples))
            })
            .collect::<Result<Vec<_>, _>>()?
            .concat();
        Ok(Table {
            window,
            windows,
            bases: bases.len(),
            points,
        })
    }

    /// `sum scalars[k] * bases[first + k]` (little-endian canonical scalars).
    fn msm(&self, first: usize, scalars: &[[u8; 32]]) -> G::Point {
        let (w, windows) = (self.window, self.windows);
        let rows = &self.points[first * windows..(first + scalars.len()) * windows];
        if rows.is_empty() {
            return G::Point::default();
        }
        // Window j of a scalar as blst's tile reads it: bits [w j - 1, w j + w) (w + 1 bits,
        // the lowest being the carry of the Booth recoding), as a 2-byte scalar read from
        // bit 0. The digits of a scalar telescope to it because its bit 255 is zero.
        let mask = (1u32 << (w + 1)) - 1;
        let mut digits = Vec::with_capacity(rows.len() * 2);
        for scalar in scalars {
            let mut bytes = [0u8; 36];
            bytes[..32].copy_from_slice(scalar);
            for j in 0..windows {
                let digit = if j == 0 {
                    (u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) << 1) & mask
                } else {
                    let off = w * j - 1;
                    let at = off / 8;
                    let word = u32::from_le_bytes([
                        bytes[at],
                        bytes[at + 1],
                        bytes[at + 2],
                        bytes[at + 3],
                    ]);
                    (word >> (off % 8)) & mask
                };
                digits.extend_from_slice(&(digit as u16).to_le_bytes());
            }
        }
        let mut buckets = vec![0u64; (G::bucket_size() / 8) << (w - 1)];
        let points = [rows.as_ptr(), core::ptr::null()];
        let scalars = [digits.as_ptr(), core::ptr::null()];
        let mut out = G::Point::default();
        // SAFETY: `points` and `scalars` are blst's "contiguous array" form (a first pointer
        // and a null): `rows.len()` >= 2 points, and as many 2-byte scalars of w + 1 <= 16 bits;
        // `buckets` holds the 2^(w-1) zeroed buckets the tile uses. With bit0 = 1 and
        // nbits = w + 1, the tile reads bits [0, w] of each scalar as one Booth window.
        unsafe {
            G::tile(
                &mut out,
                points.as_ptr(),
                rows.len(),
                scalars.as_ptr(),
                w + 1,
                buckets.as_mut_ptr(),
                1,
                w,
            )
        };
        out
    }
}

/// What the tables need of a `blst` group.
trait BlstGroup {
    type Bls: Sync;
    type Affine: Copy + Default + Send + Sync;
    type Point: Copy + Default + Send;
    fn convert(p: &Self::Bls) -> Result<Self::Affine, Error>;
    /// On the curve (checked by the conversion) and in the prime-order subgroup.
    fn in_group(p: &Self::Bls) -> bool;
    fn from_affine(p: &Self::Affine) -> Self::Point;
    fn double(p: &Self::Point) -> Self::Point;
    fn add(a: &Self::Point, b: &Self::Point) -> Self::Point;
    fn to_affines(points: &[Self::Point]) -> Vec<Self::Affine>;
    /// `sizeof` one Pippenger bucket.
    fn bucket_size() -> usize;
    /// `blst_p*s_tile_pippenger`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile(
        out: &mut Self::Point,
        points: *const *const Self::Affine,
        npoints: usize,
        scalars: *const *const u8,
        nbits: usize,
        scratch: *mut u64,
        bit0: usize,
        window: usize,
    );
}

fn blst_error(e: BLST_ERROR) -> Error {
    Error::Backend(format!("converting a proving-key point for blst: {e:?}"))
}

struct G1;
struct G2;

macro_rules! blst_group {
    ($group:ident, $bls:ty, $affine:ty, $point:ty, $deserialize:ident, $in_group:ident,
     $from_affine:ident, $double:ident, $add:ident, $to_affines:ident, $sizeof:ident,
     $tile:ident) => {
        impl BlstGroup for $group {
            type Bls = $bls;
            type Affine = $affine;
            type Point = $point;

            fn convert(p: &$bls) -> Result<$affine, Error> {
                let mut out = <$affine>::default();
                let bytes = p.to_uncompressed();
                // SAFETY: `bytes` is the uncompressed encoding blst reads (same format).
                match unsafe { blst::$deserialize(&mut out, bytes.as_ref().as_ptr()) } {
                    BLST_ERROR::BLST_SUCCESS => Ok(out),
                    e => Err(blst_error(e)),
                }
            }

            fn in_group(p: &$bls) -> bool {
                // SAFETY: a plain value in.
                Self::convert(p).is_ok_and(|p| unsafe { blst::$in_group(&p) })
            }

            fn from_affine(p: &$affine) -> $point {
                let mut out = <$point>::default();
                // SAFETY: plain value in, plain value out.
                unsafe { blst::$from_affine(&mut out, p) };
                out
            }

            fn double(p: &$point) -> $point {
                let mut out = <$point>::default();
                // SAFETY: as above.
                unsafe { blst::$double(&mut out, p) };
                out
            }

            fn add(a: &$point, b: &$point) -> $point {
                let mut out = <$point>::default();
                // SAFETY: as above.
                unsafe { blst::$add(&mut out, a, b) };
                out
            }

            fn to_affines(points: &[$point]) -> Vec<$affine> {
                let mut out = vec![<$affine>::default(); points.len()];
                let input = [points.as_ptr(), core::ptr::null()];
                // SAFETY: `input` is blst's contiguous form for `points.len()` points, `out`
                // has room for as many.
                unsafe { blst::$to_affines(out.as_mut_ptr(), input.as_ptr(), points.len()) };
                out
            }

            fn bucket_size() -> usize {
                // SAFETY: a pure function; for 0 points it is the size of one bucket.
                unsafe { blst::$sizeof(0) }
            }

            unsafe fn tile(
                out: &mut $point,
                points: *const *const $affine,
                npoints: usize,
                scalars: *const *const u8,
                nbits: usize,
                scratch: *mut u64,
                bit0: usize,
                window: usize,
            ) {
                // SAFETY: the caller's.
                unsafe { blst::$tile(out, points, npoints, scalars, nbits, scratch, bit0, window) }
            }
        }
    };
}

blst_group!(
    G1,
    G1Affine,
    blst_p1_affine,
    blst_p1,
    blst_p1_deserialize,
    blst_p1_affine_in_g1,
    blst_p1_from_affine,
    blst_p1_double,
    blst_p1_add_or_double,
    blst_p1s_to_affine,
    blst_p1s_mult_pippenger_scratch_sizeof,
    blst_p1s_tile_pippenger
);
blst_group!(
    G2,
    G2Affine,
    blst_p2_affine,
    blst_p2,
    blst_p2_deserialize,
    blst_p2_affine_in_g2,
    blst_p2_from_affine,
    blst_p2_double,
    blst_p2_add_or_double,
    blst_p2s_to_affine,
    blst_p2s_mult_pippenger_scratch_sizeof,
    blst_p2s_tile_pippenger
);

/// Whether every query point of `params` (not the verifying key's) is on the curve and in
/// the prime-order subgroup: blst's checks, on all cores, several times faster than
/// `groth16`'s checked read.
pub(crate) fn query_points_valid(params: &groth16::Parameters<Bls12>) -> bool {
    [&params.h, &params.l, &params.a, &params.b_g1]
        .iter()
        .all(|points| points.par_iter().all(G1::in_group))
        && params.b_g2.par_iter().all(G2::in_group)
}

impl G1 {
    /// `scalar * p` (little-endian canonical scalar).
    fn mul(p: &blst_p1, scalar: &[u8; 32]) -> blst_p1 {
        let mut out = blst_p1::default();
        // SAFETY: `scalar` holds the 255 bits read.
        unsafe { blst::blst_p1_mult(&mut out, p, scalar.as_ptr(), 255) };
        out
    }
}

fn bad_point() -> SynthesisError {
    SynthesisError::IoError(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "blst returned a point bls12_381 cannot read",
    ))
}

fn g1_to_affine(p: &blst_p1) -> Result<G1Affine, SynthesisError> {
    let mut bytes = [0u8; 96];
    // SAFETY: blst_p1_serialize writes 96 bytes (uncompressed, the encoding bls12_381 reads).
    unsafe { blst::blst_p1_serialize(bytes.as_mut_ptr(), p) };
    Option::from(G1Affine::from_uncompressed_unchecked(&bytes)).ok_or_else(bad_point)
}

fn g2_to_affine(p: &blst_p2) -> Result<G2Affine, SynthesisError> {
    let mut bytes = [0u8; 192];
    // SAFETY: blst_p2_serialize writes 192 bytes (uncompressed, the encoding bls12_381 reads).
    unsafe { blst::blst_p2_serialize(bytes.as_mut_ptr(), p) };
    Option::from(G2Affine::from_uncompressed_unchecked(&bytes)).ok_or_else(bad_point)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::setup_from_seed;
    use crate::statement::{subject_key, AttributeCode, Context, Operator, Predicate};

    fn case(op: Operator, values: alloc::vec::Vec<u64>) -> PredicateCircuit {
        let attribute = AttributeCode::new("hba1c").unwrap();
        let (salt, subject) = (Scalar::from(99u64), subject_key("wasm1patient"));
        let statement = Statement {
            commitment: commit(&attribute, 69, &salt, &subject),
            attribute,
            predicate: Predicate::new(op, values).unwrap(),
            context: Context {
                chain_id: "trials-1".into(),
                consent_contract: "wasm1c".into(),
                consent_id: "1".into(),
                grantee: "wasm1r".into(),
            },
        };
        PredicateCircuit {
            assignment: Some(Assignment::new(&statement, 69, salt, subject)),
        }
    }

    /// The same proof, byte for byte, as the `groth16` crate's prover for equal `r` and `s`.
    #[test]
    fn matches_groth16_create_proof() {
        let pk = setup_from_seed(b"prover-equivalence").unwrap();
        let r = Scalar::from(0x1234_5678u64).square();
        let s = -Scalar::from(42u64).invert().unwrap();
        for (op, values) in [
            (Operator::Lt, alloc::vec![70]),
            (Operator::In, alloc::vec![1, 2, 69]),
            (Operator::NonBetween, alloc::vec![70, 90]),
        ] {
            let ours = create_proof(case(op, values.clone()), &pk, r, s).unwrap();
            let theirs =
                groth16::create_proof::<Bls12, _, _>(case(op, values), pk.params(), r, s).unwrap();
            assert_eq!(ours.a, theirs.a, "{op:?}");
            assert_eq!(ours.b, theirs.b, "{op:?}");
            assert_eq!(ours.c, theirs.c, "{op:?}");
        }
    }

    /// `x^(2^n)` as a public input, with witnesses 0, 1 and random; two public inputs.
    #[derive(Clone)]
    struct Squarings {
        n: usize,
        x: Option<Scalar>,
    }

    impl Circuit<Scalar> for Squarings {
        fn synthesize<CS: ConstraintSystem<Scalar>>(
            self,
            cs: &mut CS,
        ) -> Result<(), SynthesisError> {
            let extra = cs.alloc_input(|| "extra", || Ok(Scalar::from(5u64)))?;
            cs.enforce(
                || "extra",
                |lc| lc + extra,
                |lc| lc + CS::one(),
                |lc| lc + extra,
            );
            let mut value = self.x;
            let mut var = cs.alloc(|| "x", || value.ok_or(SynthesisError::AssignmentMissing))?;
            for i in 0..self.n {
                let next_value = value.map(|v| v.square());
                let next = cs.alloc(
                    || alloc::format!("x{i}"),
                    || next_value.ok_or(SynthesisError::AssignmentMissing),
                )?;
                cs.enforce(|| "square", |lc| lc + var, |lc| lc + var, |lc| lc + next);
                var = next;
                value = next_value;
            }
            let out =
                cs.alloc_input(|| "out", || value.ok_or(SynthesisError::AssignmentMissing))?;
            cs.enforce(|| "out", |lc| lc + var, |lc| lc + CS::one(), |lc| lc + out);
            Ok(())
        }
    }

    impl ProverCircuit for Squarings {}

    /// Any circuit (here one synthesised in full for its witness), and witnesses whose
    /// scalars are 0, 1 or random.
    #[test]
    fn generic_circuit_matches_groth16() {
        let mut rng = rand::rng();
        for n in [1, 40] {
            let params = groth16::generate_random_parameters::<Bls12, _, _>(
                Squarings { n, x: None },
                &mut rng,
            )
            .unwrap();
            let prover = Prover::new(&params, Squarings { n, x: None }).unwrap();
            for x in [Scalar::ZERO, Scalar::ONE, Scalar::random(&mut rng)] {
                let (r, s) = (Scalar::random(&mut rng), Scalar::random(&mut rng));
                let circuit = Squarings { n, x: Some(x) };
                let ours = prover.create_proof(circuit.clone(), r, s).unwrap();
                let theirs = groth16::create_proof::<Bls12, _, _>(circuit, &params, r, s).unwrap();
                assert_eq!((ours.a, ours.b, ours.c), (theirs.a, theirs.b, theirs.c));
            }
        }
    }

    /// A prover refuses parameters of another circuit.
    #[test]
    fn rejects_parameters_of_another_circuit() {
        let params = groth16::generate_random_parameters::<Bls12, _, _>(
            Squarings { n: 3, x: None },
            &mut rand::rng(),
        )
        .unwrap();
        assert!(Prover::new(&params, Squarings { n: 4, x: None }).is_err());
    }
}
