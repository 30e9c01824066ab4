//! The e2e's steps, in the order `main` runs them; each prints what it proved and its figures.

pub mod attest;
pub mod burst;
pub mod dao;
pub mod market;
pub mod network;
pub mod privacy;
pub mod research;
pub mod revoke;
pub mod trials;

/// Attestations go from here …
pub const SOURCE: &str = "genomics-1";
/// … to here.
pub const REMOTE: &str = "trials-1";
/// The purpose every consent of the run is granted for.
pub const PURPOSE: &str = "trial-eligibility";
