//! [`MinhashConfig`]: every knob of MinHash-LSH dedup, with datatrove/FineWeb defaults, a validating
//! builder, and a short tag that names intermediate folders so runs with different settings never mix.

use serde::{Deserialize, Serialize};

use crate::error::DedupError;
use crate::normalize::{NormConfig, WordTokenizer};
use crate::signature::{HashScheme, MinHasher};

/// Whether candidate pairs from LSH are checked before they are merged into a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyMode {
    /// Merge every candidate pair (datatrove's behaviour).
    #[default]
    None,
    /// Merge only pairs whose full signatures agree on at least `verify_threshold` of positions.
    Estimated,
    /// Merge only pairs whose shingle sets have Jaccard similarity ≥ `verify_threshold`.
    Exact,
}

/// Which document of a cluster is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepRule {
    /// The first document in input order: smallest (task, document order within the task).
    #[default]
    First,
    /// datatrove's rule: union by size over pairs in band order, ties keep the earlier pair member.
    Datatrove,
}

/// MinHash-LSH settings. Defaults are datatrove's `MinhashConfig()` (FineWeb): 5-word shingles on
/// simplified text, 14 bands × 8 rows of 64-bit hashes, seed 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MinhashConfig {
    /// Words per shingle.
    pub n_grams: usize,
    /// LSH bands (datatrove: `num_buckets`).
    pub bands: usize,
    /// Hashes per band (datatrove: `hashes_per_bucket`).
    pub rows: usize,
    /// Seed of the permutation parameters; all tasks of a run must share it.
    pub seed: u64,
    /// Shingle hash and permutation family.
    pub scheme: HashScheme,
    /// Text normalisation before shingling.
    pub norm: NormConfig,
    /// Word splitting of the simplified text.
    pub tokenizer: WordTokenizer,
    /// Check candidate pairs before merging.
    pub verify: VerifyMode,
    /// Similarity a candidate pair needs when `verify` is on.
    pub verify_threshold: f64,
    /// Which cluster member is kept.
    pub keep: KeepRule,
}

impl Default for MinhashConfig {
    fn default() -> Self {
        MinhashConfig {
            n_grams: 5,
            bands: 14,
            rows: 8,
            seed: 1,
            scheme: HashScheme::default(),
            norm: NormConfig::default(),
            tokenizer: WordTokenizer::default(),
            verify: VerifyMode::None,
            verify_threshold: 0.7,
            keep: KeepRule::First,
        }
    }
}

impl MinhashConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> MinhashConfigBuilder {
        MinhashConfigBuilder(MinhashConfig::default())
    }

    /// datatrove's exact settings: its hash functions and its keep rule, so that the removed set can be
    /// compared document for document.
    pub fn datatrove() -> Self {
        MinhashConfig {
            scheme: HashScheme::Datatrove,
            keep: KeepRule::Datatrove,
            ..Default::default()
        }
    }

    /// Checks the values; every stage calls this before touching files.
    pub fn validate(&self) -> Result<(), DedupError> {
        let err = |m: String| Err(DedupError::Config(m));
        if self.n_grams == 0 || self.n_grams > 64 {
            return err(format!("n_grams must be in 1..=64, got {}", self.n_grams));
        }
        if self.bands == 0 || self.rows == 0 {
            return err(format!(
                "bands and rows must be ≥ 1, got {}×{}",
                self.bands, self.rows
            ));
        }
        if self.bands * self.rows > 1024 || self.bands > 1000 {
            return err(format!(
                "bands×rows must be ≤ 1024 and bands ≤ 1000, got {}×{}",
                self.bands, self.rows
            ));
        }
        if self.scheme == HashScheme::Datatrove && self.seed > u32::MAX as u64 {
            return err(format!(
                "the datatrove scheme needs a 32-bit seed (numpy), got {}",
                self.seed
            ));
        }
        if !(self.verify_threshold > 0.0 && self.verify_threshold <= 1.0) {
            return err(format!(
                "verify_threshold must be in (0, 1], got {}",
                self.verify_threshold
            ));
        }
        Ok(())
    }

    /// Number of hash functions: bands × rows.
    pub fn num_hashes(&self) -> usize {
        self.bands * self.rows
    }

    /// A short tag naming this configuration in intermediate paths, e.g. `5g14x8-s1-xxh3` or
    /// `5g28x4-s1-xxh3-est70`. Any field that changes signatures or clusters changes the tag.
    pub fn tag(&self) -> String {
        let mut t = format!(
            "{}g{}x{}-s{}",
            self.n_grams, self.bands, self.rows, self.seed
        );
        t.push_str(match self.scheme {
            HashScheme::Xxh3 => "-xxh3",
            HashScheme::Datatrove => "-dt",
        });
        if self.norm != NormConfig::default() {
            t.push_str("-n");
            t.push_str(&self.norm.code());
        }
        if self.tokenizer == WordTokenizer::Whitespace {
            t.push_str("-ws");
        }
        let pct = (self.verify_threshold * 100.0).round() as u32;
        match self.verify {
            VerifyMode::None => {}
            VerifyMode::Estimated => t.push_str(&format!("-est{pct}")),
            VerifyMode::Exact => t.push_str(&format!("-jac{pct}")),
        }
        if self.keep == KeepRule::Datatrove {
            t.push_str("-kdt");
        }
        t
    }

    /// The signature hasher for this configuration.
    pub fn hasher(&self) -> MinHasher {
        MinHasher::new(
            self.scheme,
            self.num_hashes(),
            self.seed,
            self.n_grams,
            self.norm,
            self.tokenizer,
        )
    }

    /// A 64-bit fingerprint of the settings, stored in every intermediate file header so that files from
    /// different configurations are never merged.
    pub fn fingerprint(&self) -> u64 {
        // "bands-v2": band files of the xxh3 scheme hold hashed rows; files of v1 must not be merged.
        xxhash_rust::xxh3::xxh3_64(format!("bands-v2:{}", self.tag()).as_bytes())
    }

    /// The probability that a pair with Jaccard similarity `s` becomes an LSH candidate:
    /// `1 − (1 − s^rows)^bands`.
    pub fn candidate_probability(&self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows as i32)).powi(self.bands as i32)
    }
}

/// Builds a [`MinhashConfig`]; [`MinhashConfigBuilder::build`] validates.
#[derive(Debug, Clone)]
pub struct MinhashConfigBuilder(MinhashConfig);

impl MinhashConfigBuilder {
    /// Words per shingle.
    pub fn n_grams(mut self, n: usize) -> Self {
        self.0.n_grams = n;
        self
    }
    /// Bands and rows per band.
    pub fn bands(mut self, bands: usize, rows: usize) -> Self {
        self.0.bands = bands;
        self.0.rows = rows;
        self
    }
    /// Permutation seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }
    /// Hash scheme.
    pub fn scheme(mut self, scheme: HashScheme) -> Self {
        self.0.scheme = scheme;
        self
    }
    /// Normalisation.
    pub fn norm(mut self, norm: NormConfig) -> Self {
        self.0.norm = norm;
        self
    }
    /// Word tokenizer.
    pub fn tokenizer(mut self, tok: WordTokenizer) -> Self {
        self.0.tokenizer = tok;
        self
    }
    /// Verify candidate pairs with `mode` at `threshold`.
    pub fn verify(mut self, mode: VerifyMode, threshold: f64) -> Self {
        self.0.verify = mode;
        self.0.verify_threshold = threshold;
        self
    }
    /// Keep rule.
    pub fn keep(mut self, keep: KeepRule) -> Self {
        self.0.keep = keep;
        self
    }
    /// Validates and returns the config.
    pub fn build(self) -> Result<MinhashConfig, DedupError> {
        self.0.validate()?;
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_datatrove_and_tags_differ() {
        let c = MinhashConfig::default();
        assert_eq!((c.n_grams, c.bands, c.rows, c.seed), (5, 14, 8, 1));
        assert_eq!(c.tag(), "5g14x8-s1-xxh3");
        assert_eq!(MinhashConfig::datatrove().tag(), "5g14x8-s1-dt-kdt");
        let v = MinhashConfig::builder()
            .bands(28, 4)
            .verify(VerifyMode::Estimated, 0.7)
            .build()
            .unwrap();
        assert_eq!(v.tag(), "5g28x4-s1-xxh3-est70");
        assert_ne!(v.fingerprint(), c.fingerprint());
        // FineWeb's note: P(candidate | s = 0.8) ≈ 0.924 for 14×8.
        assert!((c.candidate_probability(0.8) - 0.924).abs() < 0.001);
    }

    #[test]
    fn builder_rejects_bad_values() {
        assert!(MinhashConfig::builder().bands(0, 8).build().is_err());
        assert!(MinhashConfig::builder().n_grams(0).build().is_err());
        assert!(MinhashConfig::builder()
            .verify(VerifyMode::Exact, 1.5)
            .build()
            .is_err());
        assert!(MinhashConfig::builder()
            .scheme(HashScheme::Datatrove)
            .seed(1 << 40)
            .build()
            .is_err());
        let t: MinhashConfig = toml::from_str("bands = 20\nrows = 5\nverify = \"exact\"").unwrap();
        assert_eq!((t.bands, t.rows, t.verify), (20, 5, VerifyMode::Exact));
        assert!(toml::from_str::<MinhashConfig>("band = 20").is_err());
    }
}
