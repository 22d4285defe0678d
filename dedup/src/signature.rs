//! MinHash signatures: shingle hashing and the seed-derived family of hash permutations.
//!
//! Two schemes (see [`HashScheme`]):
//! - `xxh3` (default): each shingle is hashed with xxh3-64, then permuted by 112 (bands × rows)
//!   multiply-add-shift functions `h_i(x) = ((A_i·x + B_i) mod 2^128) >> 64` with 128-bit `A_i`, `B_i`
//!   drawn from a splitmix64 stream seeded by `seed` (Dietzfelbinger's 2-independent family; one
//!   64×128-bit multiply per hash).
//! - `datatrove`: datatrove's exact functions, for bit-identical signatures: xxh64 of the shingle, then
//!   `(a_i·x + b_i mod 2^64) mod (2^61 − 1)` with `a_i`, `b_i` drawn by numpy's legacy
//!   `RandomState(seed).randint` (MT19937, masked rejection sampling), reproduced in [`NumpyRandomState`].

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;
use xxhash_rust::xxh64::xxh64;

use crate::normalize::{NormConfig, Shingler, WordTokenizer};

/// How shingles are hashed and permuted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashScheme {
    /// xxh3-64 shingle hash + 128-bit multiply-add-shift permutations (fast; our default).
    #[default]
    Xxh3,
    /// datatrove's xxh64 + `(a·x+b) mod 2^61−1` with numpy-derived parameters (bit-identical signatures).
    Datatrove,
}

const MERSENNE_61: u64 = (1 << 61) - 1;

/// numpy's legacy `RandomState` (MT19937 with `init_genrand` seeding), enough of it to reproduce
/// `randint(low, high, dtype=uint64)` for ranges wider than 32 bits.
pub struct NumpyRandomState {
    mt: [u32; 624],
    pos: usize,
}

impl NumpyRandomState {
    /// Seeds like `np.random.RandomState(seed)` with an integer seed.
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        NumpyRandomState { mt, pos: 624 }
    }

    fn twist(&mut self) {
        for i in 0..624 {
            let y = (self.mt[i] & 0x8000_0000) | (self.mt[(i + 1) % 624] & 0x7fff_ffff);
            let mut v = self.mt[(i + 397) % 624] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= 0x9908_b0df;
            }
            self.mt[i] = v;
        }
        self.pos = 0;
    }

    /// The next 32-bit output (`genrand_int32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.pos >= 624 {
            self.twist();
        }
        let mut y = self.mt[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn next_u64(&mut self) -> u64 {
        let hi = self.next_u32() as u64;
        let lo = self.next_u32() as u64;
        (hi << 32) | lo
    }

    /// `randint(low, high, dtype=np.uint64)` (high exclusive) for `high - low > 2^32`: masked rejection.
    pub fn randint_u64(&mut self, low: u64, high: u64) -> u64 {
        let rng = high - 1 - low;
        debug_assert!(rng > u32::MAX as u64);
        let mask = u64::MAX >> rng.leading_zeros();
        loop {
            let v = self.next_u64() & mask;
            if v <= rng {
                return low + v;
            }
        }
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Computes MinHash signatures for one configuration. Cheap to share between threads (read-only).
#[derive(Debug, Clone)]
pub struct MinHasher {
    scheme: HashScheme,
    n_grams: usize,
    norm: NormConfig,
    tokenizer: WordTokenizer,
    /// datatrove: `a_i`, `b_i` < 2^61−1. xxh3: low and high halves of `A_i` and `B_i`.
    a: Vec<u64>,
    b: Vec<u64>,
    a_hi: Vec<u64>,
    b_hi: Vec<u64>,
}

impl MinHasher {
    /// A hasher with `num_hashes` permutations derived from `seed`.
    pub fn new(
        scheme: HashScheme,
        num_hashes: usize,
        seed: u64,
        n_grams: usize,
        norm: NormConfig,
        tokenizer: WordTokenizer,
    ) -> Self {
        let (mut a, mut b, mut a_hi, mut b_hi) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        match scheme {
            HashScheme::Datatrove => {
                // numpy seeds must fit in 32 bits; the config validation enforces it.
                let mut rs = NumpyRandomState::new(seed as u32);
                a = (0..num_hashes)
                    .map(|_| rs.randint_u64(1, MERSENNE_61))
                    .collect();
                b = (0..num_hashes)
                    .map(|_| rs.randint_u64(0, MERSENNE_61))
                    .collect();
            }
            HashScheme::Xxh3 => {
                let mut st = seed ^ 0x5175_6172_7279_4d48; // "QuarryMH"
                for _ in 0..num_hashes {
                    a.push(splitmix64(&mut st));
                    a_hi.push(splitmix64(&mut st));
                    b.push(splitmix64(&mut st));
                    b_hi.push(splitmix64(&mut st));
                }
            }
        }
        MinHasher {
            scheme,
            n_grams,
            norm,
            tokenizer,
            a,
            b,
            a_hi,
            b_hi,
        }
    }

    /// Number of hash functions (signature length).
    pub fn num_hashes(&self) -> usize {
        self.a.len()
    }

    /// The hash of one shingle (its joined bytes).
    #[inline]
    pub fn shingle_hash(&self, shingle: &[u8]) -> u64 {
        match self.scheme {
            HashScheme::Xxh3 => xxh3_64(shingle),
            HashScheme::Datatrove => xxh64(shingle, 0),
        }
    }

    /// Distinct shingle hashes of a text, sorted (used by the signature and by exact-Jaccard checks).
    pub fn shingle_hashes(&self, text: &str, shingler: &mut Shingler) -> Vec<u64> {
        let mut hs = Vec::new();
        shingler.for_each_shingle(text, &self.norm, self.tokenizer, self.n_grams, |s| {
            hs.push(self.shingle_hash(s))
        });
        hs.sort_unstable();
        hs.dedup();
        hs
    }

    /// The signature of a set of shingle hashes into `sig` (length [`Self::num_hashes`]); `false` if
    /// there are no shingles (the document is then never a duplicate candidate, as in datatrove).
    pub fn signature_of(&self, shingles: &[u64], sig: &mut Vec<u64>) -> bool {
        sig.clear();
        sig.resize(self.num_hashes(), u64::MAX);
        if shingles.is_empty() {
            return false;
        }
        // Four shingles per pass over the permutations: each permutation's parameters and minimum are
        // loaded once per four shingles instead of once per shingle (the loop is load-bound), and the
        // minimum of the four is the same whatever the order.
        let blocks = shingles.chunks_exact(4);
        let rest = blocks.remainder();
        match self.scheme {
            HashScheme::Datatrove => {
                // y mod (2^61 − 1) as (y >> 61) + (y & M), less M once if needed: the same value as `%`
                // (tested against it) without a division-by-constant sequence.
                let perm = |a: u64, b: u64, x: u64| {
                    let y = x.wrapping_mul(a).wrapping_add(b);
                    let v = (y >> 61) + (y & MERSENNE_61);
                    if v >= MERSENNE_61 {
                        v - MERSENNE_61
                    } else {
                        v
                    }
                };
                for q in blocks {
                    for ((s, &a), &b) in sig.iter_mut().zip(&self.a).zip(&self.b) {
                        let v = perm(a, b, q[0])
                            .min(perm(a, b, q[1]))
                            .min(perm(a, b, q[2]).min(perm(a, b, q[3])));
                        if v < *s {
                            *s = v;
                        }
                    }
                }
                for &x in rest {
                    for ((s, &a), &b) in sig.iter_mut().zip(&self.a).zip(&self.b) {
                        let v = perm(a, b, x);
                        if v < *s {
                            *s = v;
                        }
                    }
                }
            }
            HashScheme::Xxh3 => {
                // (A·x + B) mod 2^128 >> 64, with A = a_hi:a, B = b_hi:b.
                let perm = |a: u64, b: u64, ah: u64, bh: u64, x: u64| {
                    let lo = (a as u128) * (x as u128) + (b as u128);
                    ((lo >> 64) as u64)
                        .wrapping_add(ah.wrapping_mul(x))
                        .wrapping_add(bh)
                };
                let params = self
                    .a
                    .iter()
                    .zip(&self.b)
                    .zip(self.a_hi.iter().zip(&self.b_hi));
                for q in blocks {
                    for (s, ((&a, &b), (&ah, &bh))) in sig.iter_mut().zip(params.clone()) {
                        let v = perm(a, b, ah, bh, q[0])
                            .min(perm(a, b, ah, bh, q[1]))
                            .min(perm(a, b, ah, bh, q[2]).min(perm(a, b, ah, bh, q[3])));
                        if v < *s {
                            *s = v;
                        }
                    }
                }
                for &x in rest {
                    for (s, ((&a, &b), (&ah, &bh))) in sig.iter_mut().zip(params.clone()) {
                        let v = perm(a, b, ah, bh, x);
                        if v < *s {
                            *s = v;
                        }
                    }
                }
            }
        }
        true
    }

    /// Shingles then signature of a text; `false` if it has fewer words than the n-gram size.
    pub fn signature(&self, text: &str, shingler: &mut Shingler, sig: &mut Vec<u64>) -> bool {
        let hs = self.shingle_hashes(text, shingler);
        self.signature_of(&hs, sig)
    }
}

/// Jaccard similarity of two sorted, deduplicated hash sets.
pub fn jaccard_sorted(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    inter as f64 / (a.len() + b.len() - inter) as f64
}

/// Estimated Jaccard similarity: the fraction of equal signature positions.
pub fn estimated_jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() {
        return 0.0;
    }
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The permutation loop one shingle at a time, as first written: the blocked loop must agree.
    fn reference_signature(h: &MinHasher, shingles: &[u64]) -> Vec<u64> {
        let mut sig = vec![u64::MAX; h.num_hashes()];
        for &x in shingles {
            for (i, s) in sig.iter_mut().enumerate() {
                let v = match h.scheme {
                    HashScheme::Datatrove => {
                        x.wrapping_mul(h.a[i]).wrapping_add(h.b[i]) % MERSENNE_61
                    }
                    HashScheme::Xxh3 => {
                        let lo = (h.a[i] as u128) * (x as u128) + (h.b[i] as u128);
                        ((lo >> 64) as u64)
                            .wrapping_add(h.a_hi[i].wrapping_mul(x))
                            .wrapping_add(h.b_hi[i])
                    }
                };
                if v < *s {
                    *s = v;
                }
            }
        }
        sig
    }

    #[test]
    fn blocked_signature_equals_the_reference_loop() {
        let mut st = 42u64;
        for cfg in [
            crate::MinhashConfig::default(),
            crate::MinhashConfig::datatrove(),
        ] {
            let h = cfg.hasher();
            for n in 1..40 {
                let mut xs: Vec<u64> = (0..n).map(|_| splitmix64(&mut st)).collect();
                // values whose product lands near multiples of 2^61 − 1 exercise the reduction
                xs.push(MERSENNE_61);
                xs.push(u64::MAX - n);
                xs.push(0);
                xs.dedup();
                xs.sort_unstable();
                let mut sig = Vec::new();
                assert!(h.signature_of(&xs, &mut sig));
                assert_eq!(sig, reference_signature(&h, &xs), "{n} shingles");
            }
        }
    }

    #[test]
    fn numpy_random_state_matches_numpy() {
        // np.random.RandomState(1).randint(0, 2**32, dtype=np.uint64, size=2) uses next_u32 directly.
        let mut rs = NumpyRandomState::new(1);
        assert_eq!([rs.next_u32(), rs.next_u32()], [1791095845, 4282876139]);
        // datatrove's MinhashDedupSignature.parameters for seed 1, 112 hashes (values printed by numpy).
        let h = MinHasher::new(
            HashScheme::Datatrove,
            112,
            1,
            5,
            NormConfig::default(),
            WordTokenizer::Datatrove,
        );
        assert_eq!(
            &h.a[..3],
            &[775169054918279404, 1758426461858698313, 2109959069025162]
        );
        assert_eq!(h.a[111], 223865076026037746);
        assert_eq!(
            &h.b[..3],
            &[
                1062448801025099917,
                1324811268927594100,
                1217488311597731462
            ]
        );
        assert_eq!(h.b[111], 1097409548522419201);
    }

    #[test]
    fn similar_texts_have_similar_signatures() {
        let base: Vec<String> = (0..200)
            .map(|i| format!("word{}", i % 97 * 7 + i))
            .collect();
        let t1 = base.join(" ");
        let mut v = base.clone();
        v[100] = "changed".into();
        let t2 = v.join(" ");
        for scheme in [HashScheme::Xxh3, HashScheme::Datatrove] {
            let h = MinHasher::new(
                scheme,
                112,
                1,
                5,
                NormConfig::default(),
                WordTokenizer::Datatrove,
            );
            let mut sh = Shingler::default();
            let (s1, s2) = (
                h.shingle_hashes(&t1, &mut sh),
                h.shingle_hashes(&t2, &mut sh),
            );
            let exact = jaccard_sorted(&s1, &s2);
            let (mut g1, mut g2) = (Vec::new(), Vec::new());
            assert!(h.signature_of(&s1, &mut g1) && h.signature_of(&s2, &mut g2));
            let est = estimated_jaccard(&g1, &g2);
            assert!(
                (exact - est).abs() < 0.15,
                "{scheme:?}: exact {exact} est {est}"
            );
            let other = MinHasher::new(
                scheme,
                112,
                2,
                5,
                NormConfig::default(),
                WordTokenizer::Datatrove,
            );
            let mut g3 = Vec::new();
            other.signature_of(&s1, &mut g3);
            assert_ne!(g1, g3, "the seed changes the permutations");
        }
    }

    /// Full 112-value signatures of 40 real documents as datatrove computes them
    /// (scripts/dedup/datatrove_golden.py): the `datatrove` scheme must reproduce them bit for bit.
    #[test]
    fn datatrove_scheme_reproduces_datatrove_signatures() {
        let data = crate::benchmark::test_data_dir();
        let p = data.join(
            "text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz",
        );
        let f = std::fs::File::open(&p)
            .unwrap_or_else(|e| panic!("{}: {e} (set QUARRY_TEST_DATA)", p.display()));
        use std::io::BufRead;
        let texts: Vec<String> = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f))
            .lines()
            .take(40)
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
                v["text"].as_str().unwrap().chars().take(3000).collect()
            })
            .collect();
        let h = MinHasher::new(
            HashScheme::Datatrove,
            112,
            1,
            5,
            NormConfig::default(),
            WordTokenizer::Datatrove,
        );
        let mut sh = Shingler::default();
        let (mut same, mut total) = (0, 0);
        for line in include_str!("../data/datatrove_golden.jsonl").lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let Some(i) = v["doc"].as_u64() else { continue };
            let want: Vec<u64> = v["sig"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect();
            let mut sig = Vec::new();
            let has = h.signature(&texts[i as usize], &mut sh, &mut sig);
            total += 1;
            if (has && sig == want) || (!has && want.is_empty()) {
                same += 1;
            }
        }
        assert_eq!(total, 40);
        assert_eq!(
            same, 40,
            "signatures equal to datatrove's for {same}/40 documents"
        );
    }
}
