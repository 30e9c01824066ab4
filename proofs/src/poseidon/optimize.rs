//! Derives the constants of the optimized permutation (Grassi et al., "Poseidon",
//! Appendix B) from the plain round constants and MDS matrix. Used by the test that keeps
//! `optimized_constants.rs` current; not needed at run time.
//!
//! Round `r` of the plain permutation is `x ← M · S_r(x + c_r)`, where `S_r` raises every
//! element to the 5th power in a full round and only `x[0]` in a partial round. Two
//! equivalent rewritings of the partial rounds `R_F/2 .. R_F/2 + R_P`:
//!
//! 1. Constants forward. In a partial round, `c_r = c_r[0]·e_0 + (0, c_r[1..])` and the
//!    second part passes the S-box unchanged, so `M · S_r(x + c_r)` equals
//!    `M · S_r(x + c_r[0]·e_0) + M · (0, c_r[1..])`: the vector `M · (0, c_r[1..])` joins
//!    the next round's constants. Carried through every partial round, each partial round
//!    adds one scalar to `x[0]` and the remainder lands in the first full round after them.
//! 2. Sparse matrices. Write a matrix `N = [[n00, v^T], [w, N̂]]` (`N̂` is 4×4). Then
//!    `N = N'' · P` with `P = diag(1, N̂)` and `N'' = [[n00, v^T · N̂^{-1}], [w, I]]`, which
//!    costs 2t − 1 multiplications. `P` leaves `x[0]` alone, so it commutes with a partial
//!    S-box and with adding a scalar to `x[0]`: it moves into the previous round's matrix,
//!    `N ← P · M`, which is factored in turn. Starting from the last partial round, each
//!    partial round keeps its sparse `N''` and the last full round before them gets the
//!    dense matrix `P · M`.

use alloc::vec::Vec;

use bls12_381::Scalar;
use ff::Field;

use super::{SparseMatrix, FULL_ROUNDS, PARTIAL_ROUNDS, RATE, WIDTH};

pub type Matrix = [[Scalar; WIDTH]; WIDTH];
type SubMatrix = [[Scalar; RATE]; RATE];

/// Everything the optimized permutation needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Optimized {
    /// `WIDTH` constants per full round, in order (the first full round after the partial
    /// rounds carries the partial rounds' remainder).
    pub full_constants: Vec<Scalar>,
    /// One constant per partial round, added to `x[0]` before its S-box.
    pub partial_constants: Vec<Scalar>,
    /// The matrix of the last full round before the partial rounds: `P · M`.
    pub pre_partial_mds: Matrix,
    /// One sparse matrix per partial round, in order.
    pub sparse: Vec<SparseMatrix>,
}

fn mat_vec(m: &Matrix, v: &[Scalar; WIDTH]) -> [Scalar; WIDTH] {
    m.map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum())
}

fn mat_mul(a: &Matrix, b: &Matrix) -> Matrix {
    let mut out = [[Scalar::ZERO; WIDTH]; WIDTH];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = (0..WIDTH).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

/// Gauss–Jordan inversion; panics if `m` is singular (every square submatrix of an MDS
/// matrix is invertible, and products of them too).
fn invert(m: &SubMatrix) -> SubMatrix {
    let mut a = *m;
    let mut inv = [[Scalar::ZERO; RATE]; RATE];
    for (i, row) in inv.iter_mut().enumerate() {
        row[i] = Scalar::ONE;
    }
    for col in 0..RATE {
        let pivot = (col..RATE)
            .find(|&r| !bool::from(a[r][col].is_zero()))
            .expect("singular matrix");
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let f = a[col][col].invert().expect("nonzero pivot");
        for j in 0..RATE {
            a[col][j] *= f;
            inv[col][j] *= f;
        }
        for r in 0..RATE {
            if r != col {
                let g = a[r][col];
                for j in 0..RATE {
                    let (ac, ic) = (a[col][j], inv[col][j]);
                    a[r][j] -= g * ac;
                    inv[r][j] -= g * ic;
                }
            }
        }
    }
    inv
}

/// Splits `n` into `(N'', P)` with `n = N'' · P` (see the module docs); returns `N''` and
/// the 4×4 block of `P`.
fn factor(n: &Matrix) -> (SparseMatrix, SubMatrix) {
    let mut block = [[Scalar::ZERO; RATE]; RATE];
    for (i, row) in block.iter_mut().enumerate() {
        row.copy_from_slice(&n[i + 1][1..]);
    }
    let block_inv = invert(&block);
    let mut row = [Scalar::ZERO; WIDTH];
    row[0] = n[0][0];
    for (j, x) in row[1..].iter_mut().enumerate() {
        *x = (0..RATE).map(|i| n[0][i + 1] * block_inv[i][j]).sum();
    }
    let col = core::array::from_fn(|i| n[i + 1][0]);
    (SparseMatrix { row, col }, block)
}

fn embed(block: &SubMatrix) -> Matrix {
    let mut p = [[Scalar::ZERO; WIDTH]; WIDTH];
    p[0][0] = Scalar::ONE;
    for (i, row) in block.iter().enumerate() {
        p[i + 1][1..].copy_from_slice(row);
    }
    p
}

/// The optimized constants for round constants `rc` (`WIDTH` per round) and matrix `mds`.
pub fn generate(rc: &[Scalar], mds: &Matrix) -> Optimized {
    assert_eq!(rc.len(), WIDTH * (FULL_ROUNDS + PARTIAL_ROUNDS));
    let half = FULL_ROUNDS / 2;
    let round = |r: usize| -> [Scalar; WIDTH] { rc[r * WIDTH..][..WIDTH].try_into().unwrap() };

    // 1. Constants forward.
    let mut partial_constants = Vec::with_capacity(PARTIAL_ROUNDS);
    let mut carry = [Scalar::ZERO; WIDTH];
    for r in half..half + PARTIAL_ROUNDS {
        let mut c = round(r);
        for (x, y) in c.iter_mut().zip(&carry) {
            *x += y;
        }
        partial_constants.push(c[0]);
        c[0] = Scalar::ZERO;
        carry = mat_vec(mds, &c);
    }
    let mut full_constants = Vec::with_capacity(WIDTH * FULL_ROUNDS);
    for r in (0..half).chain(half + PARTIAL_ROUNDS..FULL_ROUNDS + PARTIAL_ROUNDS) {
        let mut c = round(r);
        if r == half + PARTIAL_ROUNDS {
            for (x, y) in c.iter_mut().zip(&carry) {
                *x += y;
            }
        }
        full_constants.extend_from_slice(&c);
    }

    // 2. Sparse matrices, from the last partial round back.
    let mut sparse = Vec::with_capacity(PARTIAL_ROUNDS);
    let mut n = *mds;
    for _ in 0..PARTIAL_ROUNDS {
        let (s, block) = factor(&n);
        sparse.push(s);
        n = mat_mul(&embed(&block), mds);
    }
    sparse.reverse();

    Optimized {
        full_constants,
        partial_constants,
        pre_partial_mds: n,
        sparse,
    }
}
