//! # quarry-dedup
//!
//! Exact and MinHash-LSH near-duplicate removal, staged like datatrove so that every stage can run as
//! independent tasks that read and write intermediate files:
//!
//! | stage | MinHash | exact |
//! |---|---|---|
//! | 1, per input task | [`MinhashSignatures`] step `minhash_signatures` | [`ExactSignatures`] step `exact_dedup_signatures` |
//! | 2, per bucket | [`minhash_pairs`] (per band) | [`exact_pairs`] (per hash partition) |
//! | 3, once | [`minhash_cluster`] | [`exact_cluster`] |
//! | 4, per input task | step `minhash_filter` | step `exact_dedup_filter` |
//!
//! [`run_local`] runs them all on one machine; [`Staged`] runs one task of one stage at a time, with
//! completion markers, for schedulers (`quarry dedup signatures|buckets|cluster|filter`,
//! `quarry launch`). Defaults follow datatrove/FineWeb (5-word shingles of simplified text, 14 bands
//! × 8 rows, 64-bit hashes, seed 1); see [`MinhashConfig`].
//!
//! ```
//! use quarry_dedup::{run_local, DedupPlan, MinhashConfig};
//! use quarry_corpus::Document;
//! let text = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat";
//! let tasks = vec![
//!     vec![Document::new("a", text), Document::new("b", "something else entirely, nothing alike at all here")],
//!     vec![Document::new("c", format!("{text}!"))],
//! ];
//! let out = tempfile::tempdir().unwrap();
//! let plan = DedupPlan { minhash: Some(MinhashConfig::default()), ..Default::default() };
//! let rep = run_local(&plan, tasks.len(), |t| Ok(tasks[t].clone().into_iter()), out.path()).unwrap();
//! assert_eq!(rep.minhash_removed, 1);
//! assert_eq!(std::fs::read_to_string(out.path().join("removed.txt")).unwrap(), "c\n");
//! ```
#![warn(missing_docs)]

pub mod benchmark;
pub mod cluster;
pub mod collect;
pub mod config;
pub mod error;
pub mod exact;
pub mod filter;
pub mod format;
pub mod index;
pub mod layout;
pub mod local;
pub mod merge;
pub mod minhash;
pub mod normalize;
pub mod signature;
pub mod spill;
pub mod staged;
#[cfg(test)]
mod test_text;

pub use cluster::{ClusterStats, Membership};
pub use config::{KeepRule, MinhashConfig, MinhashConfigBuilder, VerifyMode};
pub use error::DedupError;
pub use exact::{exact_cluster, exact_filter, exact_pairs, ExactConfig, ExactKey, ExactSignatures};
pub use index::{build_index, IndexManifest, IndexReport};
pub use local::{run_local, DedupPlan, LocalReport};
pub use merge::MergeLimits;
pub use minhash::{minhash_cluster, minhash_dir, minhash_filter, minhash_pairs, MinhashSignatures};
pub use normalize::{NormConfig, WordTokenizer};
pub use signature::{HashScheme, MinHasher};
pub use staged::{Method, Staged};

use quarry_corpus::StepRegistry;

/// Registers this crate's recipe stages.
pub fn register(reg: &mut StepRegistry) {
    reg.register(
        "minhash_signatures",
        "MinHash dedup stage 1: per-task band signature files (keys: dir + MinhashConfig)",
        minhash::signatures_factory,
    );
    reg.register(
        "minhash_filter",
        "MinHash dedup stage 4: drop near-duplicates found by clustering (reason minhash_duplicate)",
        minhash::filter_factory,
    );
    reg.register(
        "exact_dedup_signatures",
        "Exact dedup stage 1: per-task hash-partition files of normalised text or URL hashes",
        exact::signatures_factory,
    );
    reg.register(
        "exact_dedup_filter",
        "Exact dedup stage 4: drop exact duplicates (reason exact_duplicate / url_duplicate)",
        exact::filter_factory,
    );
}
