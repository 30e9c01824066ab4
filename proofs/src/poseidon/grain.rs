//! Poseidon parameter generation with the Grain LFSR, as specified in appendix F of the
//! Poseidon paper (Grassi et al., "Poseidon: A New Hash Function for Zero-Knowledge Proof
//! Systems") and its reference script `generate_parameters_grain.sage`: round constants by
//! rejection sampling, then an MDS Cauchy matrix from the same stream.
//!
//! The checked-in tables in `constants.rs` were produced by this code; a test regenerates
//! them, and another checks the permutation against the reference test vector.

use alloc::vec::Vec;
use bls12_381::Scalar;

/// BLS12-381 scalar field modulus, big-endian.
const MODULUS_BE: [u8; 32] = [
    0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8, 0x08, 0x09, 0xa1, 0xd8, 0x05,
    0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
];
/// Bits of the modulus.
pub const FIELD_BITS: usize = 255;

pub struct Grain {
    state: [bool; 80],
}

impl Grain {
    /// The LFSR seeded with the instance: prime field, x^alpha S-box, field size, width and
    /// round numbers; the first 160 output bits are discarded.
    pub fn new(t: usize, full_rounds: usize, partial_rounds: usize) -> Self {
        let mut state = [true; 80];
        let fields: [(u64, usize); 6] = [
            (1, 2),                      // field: prime
            (0, 4),                      // S-box: x^alpha
            (FIELD_BITS as u64, 12),     // n
            (t as u64, 12),              // t
            (full_rounds as u64, 10),    // R_F
            (partial_rounds as u64, 10), // R_P
        ];
        let mut at = 0;
        for (value, width) in fields {
            for i in (0..width).rev() {
                state[at] = (value >> i) & 1 == 1;
                at += 1;
            }
        }
        // state[50..80] stay 1.
        let mut grain = Grain { state };
        for _ in 0..160 {
            grain.clock();
        }
        grain
    }

    fn clock(&mut self) -> bool {
        let s = &self.state;
        let bit = s[62] ^ s[51] ^ s[38] ^ s[23] ^ s[13] ^ s[0];
        self.state.copy_within(1.., 0);
        self.state[79] = bit;
        bit
    }

    /// Self-shrinking output: of each pair of bits, emit the second when the first is 1.
    fn next_bit(&mut self) -> bool {
        loop {
            let keep = self.clock();
            let bit = self.clock();
            if keep {
                return bit;
            }
        }
    }

    /// `FIELD_BITS` output bits as a big-endian integer (32 bytes, big-endian).
    fn next_bits_be(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        // 255 bits fill the 32-byte big-endian buffer from bit 254 down to 0.
        for i in (0..FIELD_BITS).rev() {
            if self.next_bit() {
                out[31 - i / 8] |= 1 << (i % 8);
            }
        }
        out
    }

    /// A uniformly random field element: resample until below the modulus.
    pub fn next_field_element(&mut self) -> Scalar {
        loop {
            let be = self.next_bits_be();
            if be < MODULUS_BE {
                return scalar_from_be(&be);
            }
        }
    }

    /// A field element from `FIELD_BITS` bits, reduced modulo p (used for the MDS matrix).
    pub fn next_reduced_element(&mut self) -> Scalar {
        scalar_from_be(&self.next_bits_be())
    }
}

/// A 32-byte big-endian integer, reduced modulo p.
fn scalar_from_be(be: &[u8; 32]) -> Scalar {
    let mut wide = [0u8; 64];
    for (i, b) in be.iter().rev().enumerate() {
        wide[i] = *b;
    }
    Scalar::from_bytes_wide(&wide)
}

/// Round constants (`t * (R_F + R_P)`, in round order) and the `t x t` MDS matrix.
pub fn generate(
    t: usize,
    full_rounds: usize,
    partial_rounds: usize,
) -> (Vec<Scalar>, Vec<Vec<Scalar>>) {
    let mut grain = Grain::new(t, full_rounds, partial_rounds);
    let constants = (0..t * (full_rounds + partial_rounds))
        .map(|_| grain.next_field_element())
        .collect();
    (constants, cauchy_mds(&mut grain, t))
}

/// `M[i][j] = 1 / (x_i + y_j)` for 2t distinct sampled elements with no zero sum.
fn cauchy_mds(grain: &mut Grain, t: usize) -> Vec<Vec<Scalar>> {
    loop {
        let samples: Vec<Scalar> = (0..2 * t).map(|_| grain.next_reduced_element()).collect();
        let distinct = samples
            .iter()
            .enumerate()
            .all(|(i, a)| samples[..i].iter().all(|b| a != b));
        if !distinct {
            continue;
        }
        let (xs, ys) = samples.split_at(t);
        let matrix: Option<Vec<Vec<Scalar>>> = xs
            .iter()
            .map(|x| ys.iter().map(|y| Option::from((*x + y).invert())).collect())
            .collect();
        if let Some(matrix) = matrix {
            return matrix;
        }
    }
}
