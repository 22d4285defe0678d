//! Bounded-memory summaries for one streaming pass: fixed-bucket histograms, exact value counts with a
//! documented cap, and a Space-Saving heavy-hitters table for unbounded keys (domains).
//!
//! Every summary is deterministic: the same values in the same order give the same summary, and
//! [`merge`](Histogram::merge) in a fixed order (shard order) gives the same result whatever the thread
//! timing. Bucket boundaries are integers or fixed decimal fractions, never the output of `log2`, so
//! they are the same on every platform.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

/// How a [`Histogram`] places values in buckets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scale", rename_all = "lowercase")]
pub enum Scale {
    /// `n` equal buckets over `[lo, hi]` (the last bucket includes `hi`); values outside are counted
    /// in `underflow` / `overflow`.
    Linear {
        /// Lower edge.
        lo: f64,
        /// Upper edge.
        hi: f64,
        /// Number of buckets.
        n: usize,
    },
    /// Log-linear buckets for non-negative integers: `0, 1, 2, 3`, then four buckets per power of two
    /// with edges `2^e · {1, 1.25, 1.5, 1.75}` (relative width ≤ 25 %). Negative values underflow.
    Log2,
}

/// A fixed-bucket histogram with exact count, sum, min and max.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Bucket layout.
    #[serde(flatten)]
    pub scale: Scale,
    /// Count per bucket (for `log2`, trailing empty buckets are not stored).
    pub counts: Vec<u64>,
    /// Values below the first bucket.
    pub underflow: u64,
    /// Values above the last bucket (linear only).
    pub overflow: u64,
    /// NaN values (not in any bucket, not in sum/min/max).
    pub nan: u64,
    /// Values seen (NaN excluded).
    pub count: u64,
    /// Exact sum of the values.
    pub sum: f64,
    /// Smallest value (`None` when empty).
    pub min: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
}

/// Bucket index of a non-negative integer on the [`Scale::Log2`] layout.
pub fn log2_index(v: u64) -> usize {
    if v < 4 {
        return v as usize;
    }
    let e = 63 - v.leading_zeros() as usize; // floor(log2 v) ≥ 2
    4 + (e - 2) * 4 + ((v >> (e - 2)) & 3) as usize
}

/// Lower edge of bucket `i` on the [`Scale::Log2`] layout (the upper edge is `log2_lower(i + 1)`).
pub fn log2_lower(i: usize) -> u64 {
    if i < 4 {
        return i as u64;
    }
    let e = (i - 4) / 4 + 2;
    let s = ((i - 4) % 4) as u128;
    u64::try_from((4 + s) << (e - 2)).unwrap_or(u64::MAX)
}

impl Histogram {
    /// An empty linear histogram.
    pub fn linear(lo: f64, hi: f64, n: usize) -> Self {
        Self::empty(Scale::Linear { lo, hi, n }, vec![0; n])
    }
    /// An empty log-linear histogram of non-negative integers.
    pub fn log2() -> Self {
        Self::empty(Scale::Log2, Vec::new())
    }
    fn empty(scale: Scale, counts: Vec<u64>) -> Self {
        Histogram {
            scale,
            counts,
            underflow: 0,
            overflow: 0,
            nan: 0,
            count: 0,
            sum: 0.0,
            min: None,
            max: None,
        }
    }

    /// Adds a value.
    pub fn add(&mut self, v: f64) {
        if v.is_nan() {
            self.nan += 1;
            return;
        }
        self.count += 1;
        self.sum += v;
        self.min = Some(self.min.map_or(v, |m| m.min(v)));
        self.max = Some(self.max.map_or(v, |m| m.max(v)));
        match self.scale {
            Scale::Linear { lo, hi, n } => {
                if v < lo {
                    self.underflow += 1;
                } else if v > hi {
                    self.overflow += 1;
                } else {
                    let i = (((v - lo) / (hi - lo)) * n as f64) as usize;
                    self.counts[i.min(n - 1)] += 1;
                }
            }
            Scale::Log2 => {
                if v < 0.0 {
                    self.underflow += 1;
                } else {
                    self.bump_log2(log2_index(v as u64), 1);
                }
            }
        }
    }

    /// Adds a non-negative integer (exact `sum` for integer data).
    pub fn add_u64(&mut self, v: u64) {
        self.add(v as f64);
    }

    fn bump_log2(&mut self, i: usize, n: u64) {
        if self.counts.len() <= i {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += n;
    }

    /// Adds another histogram of the same layout.
    pub fn merge(&mut self, o: &Histogram) {
        debug_assert_eq!(self.scale, o.scale);
        if self.counts.len() < o.counts.len() {
            self.counts.resize(o.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
        self.underflow += o.underflow;
        self.overflow += o.overflow;
        self.nan += o.nan;
        self.count += o.count;
        self.sum += o.sum;
        self.min = match (self.min, o.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, o.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// The edges `[lo_0, lo_1, …, hi_last]` of the stored buckets (`counts.len() + 1` values).
    pub fn edges(&self) -> Vec<f64> {
        match self.scale {
            Scale::Linear { lo, hi, n } => (0..=n)
                .map(|i| lo + (hi - lo) * i as f64 / n as f64)
                .collect(),
            Scale::Log2 => (0..=self.counts.len())
                .map(|i| log2_lower(i) as f64)
                .collect(),
        }
    }

    /// Mean of the values (`None` when empty).
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    /// The bucket `[lo, hi)` holding the `q`-quantile (0 ≤ q ≤ 1) of the bucketed values: the
    /// quantile is exact to within that bucket. `None` when no value is in a bucket.
    pub fn quantile_bucket(&self, q: f64) -> Option<(f64, f64)> {
        let in_buckets: u64 = self.counts.iter().sum();
        if in_buckets == 0 {
            return None;
        }
        let target = ((q * in_buckets as f64).ceil() as u64).clamp(1, in_buckets);
        let edges = self.edges();
        let mut acc = 0;
        for (i, c) in self.counts.iter().enumerate() {
            acc += c;
            if acc >= target {
                return Some((edges[i], edges[i + 1]));
            }
        }
        None
    }
}

/// Exact counts of string values, up to `cap` distinct values; later *new* values are counted
/// together in `other` and `capped` is set (values already present keep counting exactly).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CappedCounts {
    /// Most distinct values kept.
    pub cap: usize,
    /// Count per value.
    pub values: BTreeMap<String, u64>,
    /// Occurrences of values that arrived after the cap was reached.
    pub other: u64,
    /// Whether the cap was reached (then `values` is exact only for the values it holds).
    pub capped: bool,
}

impl CappedCounts {
    /// Empty, with a cap on distinct values.
    pub fn new(cap: usize) -> Self {
        CappedCounts {
            cap,
            values: BTreeMap::new(),
            other: 0,
            capped: false,
        }
    }
    /// Counts `n` occurrences of `v`.
    pub fn add(&mut self, v: &str, n: u64) {
        if let Some(c) = self.values.get_mut(v) {
            *c += n;
        } else if self.values.len() < self.cap {
            self.values.insert(v.to_string(), n);
        } else {
            self.capped = true;
            self.other += n;
        }
    }
    /// Adds another summary (in a fixed order, so the kept values are deterministic).
    pub fn merge(&mut self, o: &CappedCounts) {
        for (k, n) in &o.values {
            self.add(k, *n);
        }
        self.other += o.other;
        self.capped |= o.capped;
    }
    /// Total occurrences.
    pub fn total(&self) -> u64 {
        self.values.values().sum::<u64>() + self.other
    }
    /// Values by count, largest first (ties by value), at most `k`.
    pub fn top(&self, k: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self.values.iter().map(|(a, b)| (a.clone(), *b)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(k);
        v
    }
}

/// One heavy hitter: `count - error ≤ true count ≤ count`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeavyHitter {
    /// The key.
    pub key: String,
    /// Estimated count (an upper bound).
    pub count: u64,
    /// Most by which `count` may overstate the true count (0 = exact).
    pub error: u64,
}

/// Space-Saving (Metwally et al. 2005) over at most `cap` keys. While fewer than `cap` distinct keys
/// have been seen every count is exact; after that, a new key replaces the key with the smallest count
/// (ties: the smallest key), inheriting its count as error bound. Any key with true frequency above
/// `total / cap` is guaranteed to be in the table.
#[derive(Debug, Clone)]
pub struct TopK {
    cap: usize,
    counts: HashMap<String, (u64, u64)>,
    order: BTreeSet<(u64, String)>,
    total: u64,
    evictions: u64,
}

impl TopK {
    /// Empty, holding at most `cap` keys.
    pub fn new(cap: usize) -> Self {
        TopK {
            cap: cap.max(1),
            counts: HashMap::new(),
            order: BTreeSet::new(),
            total: 0,
            evictions: 0,
        }
    }

    /// Counts `n` occurrences of `key`.
    pub fn add(&mut self, key: &str, n: u64) {
        self.total += n;
        if let Some((c, _)) = self.counts.get_mut(key) {
            self.order.remove(&(*c, key.to_string()));
            *c += n;
            self.order.insert((*c, key.to_string()));
            return;
        }
        if self.counts.len() < self.cap {
            self.counts.insert(key.to_string(), (n, 0));
            self.order.insert((n, key.to_string()));
            return;
        }
        let (min, victim) = self.order.pop_first().expect("full table is not empty");
        self.counts.remove(&victim);
        self.evictions += 1;
        self.counts.insert(key.to_string(), (min + n, min));
        self.order.insert((min + n, key.to_string()));
    }

    /// Adds another summary. Keys missing from a full summary may have had up to its minimum count
    /// there, so that minimum is added to their count and error (the standard mergeable bound).
    pub fn merge(&mut self, o: &TopK) {
        let floor = |t: &TopK| {
            if t.counts.len() >= t.cap && t.evictions > 0 {
                t.order.first().map_or(0, |(c, _)| *c)
            } else {
                0
            }
        };
        let (fa, fb) = (floor(self), floor(o));
        let mut all: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (k, &(c, e)) in &self.counts {
            all.insert(k.clone(), (c + fb, e + fb));
        }
        for (k, &(c, e)) in &o.counts {
            let ent = all.entry(k.clone()).or_insert((fa, fa));
            if self.counts.contains_key(k) {
                ent.0 = ent.0 - fb + c;
                ent.1 = ent.1 - fb + e;
            } else {
                ent.0 += c;
                ent.1 += e;
            }
        }
        let mut v: Vec<(String, (u64, u64))> = all.into_iter().collect();
        v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(&b.0)));
        let dropped = v.len() > self.cap;
        v.truncate(self.cap);
        self.total += o.total;
        self.evictions += o.evictions + u64::from(dropped);
        self.counts = v.iter().cloned().collect();
        self.order = v.into_iter().map(|(k, (c, _))| (c, k)).collect();
    }

    /// Total occurrences counted.
    pub fn total(&self) -> u64 {
        self.total
    }
    /// Whether every count is exact (no key was ever evicted).
    pub fn exact(&self) -> bool {
        self.evictions == 0
    }
    /// Distinct keys held.
    pub fn len(&self) -> usize {
        self.counts.len()
    }
    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
    /// The `k` largest, by count (ties by key).
    pub fn top(&self, k: usize) -> Vec<HeavyHitter> {
        let mut v: Vec<HeavyHitter> = self
            .counts
            .iter()
            .map(|(key, &(count, error))| HeavyHitter {
                key: key.clone(),
                count,
                error,
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        v.truncate(k);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_buckets_are_contiguous_and_contain_their_values() {
        for i in 0..200 {
            assert!(log2_lower(i) < log2_lower(i + 1), "bucket {i}");
        }
        for v in (0..5000u64).chain([1 << 20, (1 << 40) + 12345, u64::MAX / 3]) {
            let i = log2_index(v);
            assert!(
                log2_lower(i) <= v && v < log2_lower(i + 1),
                "{v} in bucket {i}"
            );
        }
        assert_eq!(log2_lower(8), 8);
        assert_eq!(log2_lower(9), 10);
        assert_eq!(log2_index(1000), log2_index(1023));
    }

    #[test]
    fn linear_histogram_counts_edges_and_outliers() {
        let mut h = Histogram::linear(0.0, 1.0, 10);
        for v in [0.0, 0.05, 0.1, 0.95, 1.0, -0.1, 1.5, f64::NAN] {
            h.add(v);
        }
        assert_eq!(h.counts[0], 2);
        assert_eq!(h.counts[1], 1);
        assert_eq!(h.counts[9], 2, "1.0 belongs to the last bucket");
        assert_eq!((h.underflow, h.overflow, h.nan, h.count), (1, 1, 1, 7));
        assert_eq!(h.min, Some(-0.1));
        assert_eq!(h.max, Some(1.5));
        assert_eq!(h.edges().len(), 11);
        assert_eq!(
            h.quantile_bucket(0.5),
            Some((0.1, 0.2)),
            "3rd of 5 bucketed values"
        );
    }

    #[test]
    fn log2_histogram_merge_equals_one_pass() {
        let vals: Vec<u64> = (0..1000).map(|i| (i * i * 7919) % 100_000).collect();
        let mut one = Histogram::log2();
        vals.iter().for_each(|&v| one.add_u64(v));
        let (mut a, mut b) = (Histogram::log2(), Histogram::log2());
        vals[..400].iter().for_each(|&v| a.add_u64(v));
        vals[400..].iter().for_each(|&v| b.add_u64(v));
        a.merge(&b);
        assert_eq!(a, one);
        assert_eq!(one.count, 1000);
        assert_eq!(one.sum, vals.iter().sum::<u64>() as f64);
        let (lo, hi) = one.quantile_bucket(0.5).unwrap();
        let mut sorted = vals.clone();
        sorted.sort();
        let median = sorted[499] as f64;
        assert!(lo <= median && median < hi, "{lo} <= {median} < {hi}");
    }

    #[test]
    fn capped_counts_are_exact_below_the_cap() {
        let mut c = CappedCounts::new(2);
        for v in ["en", "de", "en", "fr", "de", "fr", "en"] {
            c.add(v, 1);
        }
        assert_eq!(c.values["en"], 3);
        assert_eq!(c.values["de"], 2);
        assert_eq!((c.other, c.capped, c.total()), (2, true, 7));
        assert_eq!(c.top(1), vec![("en".to_string(), 3)]);
    }

    #[test]
    fn topk_is_exact_until_full_and_keeps_heavy_hitters() {
        let mut t = TopK::new(10);
        for i in 0..9 {
            t.add(&format!("k{i}"), i + 1);
        }
        assert!(t.exact());
        assert_eq!(
            t.top(1)[0],
            HeavyHitter {
                key: "k8".into(),
                count: 9,
                error: 0
            }
        );
        // A stream with 3 heavy keys among many rare ones: the heavy keys survive with bounds.
        let mut t = TopK::new(16);
        let mut truth: HashMap<String, u64> = HashMap::new();
        for i in 0..20_000u64 {
            let key = match i % 10 {
                0..=2 => "heavy-a".to_string(),
                3 | 4 => "heavy-b".to_string(),
                5 => "heavy-c".to_string(),
                _ => format!("rare-{}", (i * 2654435761) % 5000),
            };
            *truth.entry(key.clone()).or_default() += 1;
            t.add(&key, 1);
        }
        assert!(!t.exact());
        let top = t.top(3);
        let keys: Vec<&str> = top.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys, ["heavy-a", "heavy-b", "heavy-c"]);
        for h in &t.top(16) {
            let real = truth[&h.key];
            assert!(
                h.count - h.error <= real && real <= h.count,
                "{h:?} true {real}"
            );
        }
        assert_eq!(t.total(), 20_000);
    }

    #[test]
    fn topk_merge_keeps_bounds() {
        let keys: Vec<String> = (0..5000u64)
            .map(|i| match i % 4 {
                0 => "a".to_string(),
                1 => "b".to_string(),
                _ => format!("r{}", i % 997),
            })
            .collect();
        let mut truth: HashMap<&str, u64> = HashMap::new();
        keys.iter().for_each(|k| *truth.entry(k).or_default() += 1);
        let (mut x, mut y) = (TopK::new(8), TopK::new(8));
        keys[..2500].iter().for_each(|k| x.add(k, 1));
        keys[2500..].iter().for_each(|k| y.add(k, 1));
        x.merge(&y);
        assert_eq!(x.total(), 5000);
        assert_eq!(
            x.top(2).iter().map(|h| h.key.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        for h in x.top(8) {
            let real = truth[h.key.as_str()];
            assert!(
                h.count - h.error <= real && real <= h.count,
                "{h:?} true {real}"
            );
        }
        // Merging small exact tables stays exact.
        let (mut p, mut q) = (TopK::new(8), TopK::new(8));
        p.add("x", 2);
        q.add("x", 3);
        q.add("y", 1);
        p.merge(&q);
        assert!(p.exact());
        assert_eq!(
            p.top(2)[0],
            HeavyHitter {
                key: "x".into(),
                count: 5,
                error: 0
            }
        );
    }
}
