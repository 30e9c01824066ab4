//! Poseidon over the BLS12-381 scalar field: width 5 (rate 4, capacity 1), x^5 S-box,
//! 8 full and 60 partial rounds — the reference instance `poseidonperm_x5_255_5` of the
//! Poseidon authors, with constants from the Grain LFSR (see `grain.rs`).

#[cfg(any(test, feature = "std"))]
pub mod grain;
#[cfg(any(test, feature = "std"))]
pub mod optimize;

use bls12_381::Scalar;
use ff::Field;

pub const WIDTH: usize = 5;
pub const RATE: usize = WIDTH - 1;
pub const FULL_ROUNDS: usize = 8;
pub const PARTIAL_ROUNDS: usize = 60;

mod constants;
mod optimized_constants;

pub use constants::{MDS, ROUND_CONSTANTS};
use optimized_constants::{FULL_CONSTANTS, PARTIAL_CONSTANTS, PRE_PARTIAL_MDS, SPARSE};

/// The linear layer of one partial round of the optimized permutation: first row `row`,
/// first column `[row[0], col..]`, identity elsewhere (2·WIDTH − 1 multiplications).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SparseMatrix {
    pub row: [Scalar; WIDTH],
    pub col: [Scalar; RATE],
}

/// Domain tags: what a hash is for, in the capacity element, so a commitment can never be
/// read as a statement hash or a context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Domain {
    Commitment = 1,
    Statement = 2,
}

fn sbox(x: Scalar) -> Scalar {
    x.square().square() * x
}

/// Whether `round` is a full round (S-box on every element) or a partial one.
pub const fn is_full_round(round: usize) -> bool {
    round < FULL_ROUNDS / 2 || round >= FULL_ROUNDS / 2 + PARTIAL_ROUNDS
}

/// The Poseidon permutation, with the partial rounds of Appendix B of the Poseidon paper
/// (constants from `optimize.rs`): a partial round adds one constant to `state[0]` and
/// multiplies by a sparse matrix. Same output as `permute_reference`; 1040 field
/// multiplications instead of 2000.
pub fn permute(state: &mut [Scalar; WIDTH]) {
    let half = FULL_ROUNDS / 2;
    let mut full = FULL_CONSTANTS.chunks_exact(WIDTH);
    for round in 0..half {
        let mds = if round + 1 == half {
            &PRE_PARTIAL_MDS
        } else {
            &MDS
        };
        full_round(state, full.next().unwrap(), mds);
    }
    for (c, m) in PARTIAL_CONSTANTS.iter().zip(SPARSE.iter()) {
        let s0 = sbox(state[0] + c);
        let mut first = m.row[0] * s0;
        for ((s, r), w) in state[1..].iter_mut().zip(&m.row[1..]).zip(&m.col) {
            first += r * *s;
            *s += w * s0;
        }
        state[0] = first;
    }
    for c in full {
        full_round(state, c, &MDS);
    }
}

fn full_round(state: &mut [Scalar; WIDTH], constants: &[Scalar], mds: &[[Scalar; WIDTH]; WIDTH]) {
    for (s, c) in state.iter_mut().zip(constants) {
        *s = sbox(*s + c);
    }
    let old = *state;
    for (out, row) in state.iter_mut().zip(mds.iter()) {
        *out = row.iter().zip(old.iter()).map(|(m, s)| m * s).sum();
    }
}

/// The Poseidon permutation as specified: round constants on every element and the dense
/// MDS matrix in every round. The reference for [`permute`].
#[cfg(any(test, feature = "std"))]
pub fn permute_reference(state: &mut [Scalar; WIDTH]) {
    for round in 0..FULL_ROUNDS + PARTIAL_ROUNDS {
        for (i, s) in state.iter_mut().enumerate() {
            *s += ROUND_CONSTANTS[round * WIDTH + i];
        }
        if is_full_round(round) {
            state.iter_mut().for_each(|s| *s = sbox(*s));
        } else {
            state[0] = sbox(state[0]);
        }
        let old = *state;
        for (out, row) in state.iter_mut().zip(MDS.iter()) {
            *out = row.iter().zip(old.iter()).map(|(m, s)| m * s).sum();
        }
    }
}

/// The initial capacity element: domain and input length, so inputs of different lengths
/// or purposes never collide.
pub fn capacity_iv(domain: Domain, len: usize) -> Scalar {
    Scalar::from_raw([len as u64, domain as u64, 0, 0])
}

/// Sponge hash of a fixed-length input: absorb `RATE` elements per permutation into
/// state[1..], squeeze state[1].
pub fn hash(domain: Domain, inputs: &[Scalar]) -> Scalar {
    sponge(domain, inputs, permute)
}

fn sponge(domain: Domain, inputs: &[Scalar], permute: impl Fn(&mut [Scalar; WIDTH])) -> Scalar {
    let mut state = [Scalar::ZERO; WIDTH];
    state[0] = capacity_iv(domain, inputs.len());
    if inputs.is_empty() {
        permute(&mut state);
    }
    for chunk in inputs.chunks(RATE) {
        for (s, x) in state[1..].iter_mut().zip(chunk) {
            *s += x;
        }
        permute(&mut state);
    }
    state[1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn from_be_hex(s: &str) -> Scalar {
        let mut be = [0u8; 32];
        hex::decode_to_slice(s, &mut be).unwrap();
        be.reverse();
        Scalar::from_bytes(&be).unwrap()
    }

    /// `poseidonperm_x5_255_5` from the Poseidon authors' reference implementation
    /// (hadeshash, `test_vectors.txt`): permutation of [0, 1, 2, 3, 4].
    #[test]
    fn permutation_matches_reference_vector() {
        let expected = [
            "2a918b9c9f9bd7bb509331c81e297b5707f6fc7393dcee1b13901a0b22202e18",
            "65ebf8671739eeb11fb217f2d5c5bf4a0c3f210e3f3cd3b08b5db75675d797f7",
            "2cc176fc26bc70737a696a9dfd1b636ce360ee76926d182390cdb7459cf585ce",
            "4dc4e29d283afd2a491fe6aef122b9a968e74eff05341f3cc23fda1781dcb566",
            "03ff622da276830b9451b88b85e6184fd6ae15c8ab3ee25a5667be8592cce3b1",
        ]
        .map(from_be_hex);
        for permutation in [permute, permute_reference] {
            let mut state = [0u64, 1, 2, 3, 4].map(Scalar::from);
            permutation(&mut state);
            assert_eq!(state, expected);
        }
    }

    /// The optimized permutation is the specified one, on random states.
    #[test]
    fn optimized_permutation_matches_reference_on_random_states() {
        let mut rng = StdRng::seed_from_u64(0x5eed_9053_1d0e);
        for _ in 0..256 {
            let input: [Scalar; WIDTH] = core::array::from_fn(|_| Scalar::random(&mut rng));
            let (mut fast, mut slow) = (input, input);
            permute(&mut fast);
            permute_reference(&mut slow);
            assert_eq!(fast, slow, "input {input:?}");
        }
    }

    #[test]
    fn hash_matches_reference_for_every_length_up_to_12() {
        let mut rng = StdRng::seed_from_u64(12);
        let inputs: Vec<Scalar> = (0..12).map(|_| Scalar::random(&mut rng)).collect();
        for len in 0..=12 {
            for domain in [Domain::Commitment, Domain::Statement] {
                assert_eq!(
                    hash(domain, &inputs[..len]),
                    sponge(domain, &inputs[..len], permute_reference),
                    "{domain:?}, length {len}"
                );
            }
        }
    }

    fn limbs(s: &Scalar) -> String {
        let b = s.to_bytes();
        let l: Vec<String> = b
            .chunks(8)
            .map(|c| format!("0x{:016x}", u64::from_le_bytes(c.try_into().unwrap())))
            .collect();
        format!("Scalar::from_raw([{}])", l.join(", "))
    }

    fn render_constants() -> String {
        let (rc, mds) = grain::generate(WIDTH, FULL_ROUNDS, PARTIAL_ROUNDS);
        let mut out = String::from(
            "//! Generated by `grain.rs` (Grain LFSR, x5_255_5: t=5, R_F=8, R_P=60).\n\
             //! Regenerate: `HM_WRITE_POSEIDON_CONSTANTS=1 cargo test -p healthmesh-proofs constants`.\n\n\
             use super::{FULL_ROUNDS, PARTIAL_ROUNDS, WIDTH};\nuse bls12_381::Scalar;\n\n",
        );
        out += "#[rustfmt::skip]\npub const ROUND_CONSTANTS: [Scalar; WIDTH * (FULL_ROUNDS + PARTIAL_ROUNDS)] = [\n";
        for c in &rc {
            out += &format!("    {},\n", limbs(c));
        }
        out += "];\n\n#[rustfmt::skip]\npub const MDS: [[Scalar; WIDTH]; WIDTH] = [\n";
        for row in &mds {
            out += "    [\n";
            for c in row {
                out += &format!("        {},\n", limbs(c));
            }
            out += "    ],\n";
        }
        out + "];\n"
    }

    /// The checked-in tables are exactly what the Grain LFSR generates.
    #[test]
    fn checked_in_constants_match_grain_generation() {
        let rendered = render_constants();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/poseidon/constants.rs");
        if std::env::var_os("HM_WRITE_POSEIDON_CONSTANTS").is_some() {
            std::fs::write(path, &rendered).unwrap();
        }
        let (rc, mds) = grain::generate(WIDTH, FULL_ROUNDS, PARTIAL_ROUNDS);
        assert_eq!(&rc[..], &ROUND_CONSTANTS[..]);
        for (row, table_row) in mds.iter().zip(MDS.iter()) {
            assert_eq!(&row[..], &table_row[..]);
        }
    }

    fn render_optimized_constants() -> String {
        let opt = optimize::generate(&ROUND_CONSTANTS, &MDS);
        let mut out = String::from(
            "//! Generated by `optimize.rs` from `constants.rs`: the optimized partial rounds of\n\
             //! Poseidon (Grassi et al., Appendix B).\n\
             //! Regenerate: `HM_WRITE_POSEIDON_CONSTANTS=1 cargo test -p healthmesh-proofs constants`.\n\n\
             use super::{SparseMatrix, FULL_ROUNDS, PARTIAL_ROUNDS, WIDTH};\nuse bls12_381::Scalar;\n\n",
        );
        let list = |out: &mut String, xs: &[Scalar], indent: &str| {
            for x in xs {
                *out += &format!("{indent}{},\n", limbs(x));
            }
        };
        out += "/// Per full round; the first after the partial rounds carries their remainder.\n\
                #[rustfmt::skip]\npub static FULL_CONSTANTS: [Scalar; WIDTH * FULL_ROUNDS] = [\n";
        list(&mut out, &opt.full_constants, "    ");
        out += "];\n\n/// Per partial round, added to `state[0]` before its S-box.\n\
                #[rustfmt::skip]\npub static PARTIAL_CONSTANTS: [Scalar; PARTIAL_ROUNDS] = [\n";
        list(&mut out, &opt.partial_constants, "    ");
        out += "];\n\n/// The matrix of the last full round before the partial rounds.\n\
                #[rustfmt::skip]\npub static PRE_PARTIAL_MDS: [[Scalar; WIDTH]; WIDTH] = [\n";
        for row in &opt.pre_partial_mds {
            out += "    [\n";
            list(&mut out, row, "        ");
            out += "    ],\n";
        }
        out += "];\n\n/// Per partial round, in order.\n\
                #[rustfmt::skip]\npub static SPARSE: [SparseMatrix; PARTIAL_ROUNDS] = [\n";
        for m in &opt.sparse {
            out += "    SparseMatrix {\n        row: [\n";
            list(&mut out, &m.row, "            ");
            out += "        ],\n        col: [\n";
            list(&mut out, &m.col, "            ");
            out += "        ],\n    },\n";
        }
        out + "];\n"
    }

    /// The checked-in optimized tables are exactly what `optimize.rs` derives from the
    /// checked-in plain ones.
    #[test]
    fn checked_in_optimized_constants_match_generator() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/poseidon/optimized_constants.rs"
        );
        if std::env::var_os("HM_WRITE_POSEIDON_CONSTANTS").is_some() {
            std::fs::write(path, render_optimized_constants()).unwrap();
        }
        let opt = optimize::generate(&ROUND_CONSTANTS, &MDS);
        assert_eq!(&opt.full_constants[..], &FULL_CONSTANTS[..]);
        assert_eq!(&opt.partial_constants[..], &PARTIAL_CONSTANTS[..]);
        assert_eq!(opt.pre_partial_mds, PRE_PARTIAL_MDS);
        assert_eq!(&opt.sparse[..], &SPARSE[..]);
    }

    #[test]
    fn hash_separates_domains_and_lengths() {
        let x = [Scalar::from(7u64), Scalar::from(8u64)];
        assert_ne!(hash(Domain::Commitment, &x), hash(Domain::Statement, &x));
        assert_ne!(
            hash(Domain::Commitment, &x),
            hash(Domain::Commitment, &x[..1])
        );
        let padded = [x[0], x[1], Scalar::ZERO];
        assert_ne!(
            hash(Domain::Commitment, &x),
            hash(Domain::Commitment, &padded)
        );
    }
}
