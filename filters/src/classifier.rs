//! A model-based quality classifier, DCLM-style: a fastText supervised model trained to tell
//! high-quality reference text (`__label__hq`) from ordinary crawl text (`__label__lq`), and a stage
//! that scores documents with it and keeps those above a threshold, or the top fraction of a corpus.
//!
//! A top-fraction rule needs the score distribution before any document can be kept, so it runs in
//! two passes, as DCLM chose its threshold: [`calibrate`] scores a corpus (or a sample of it) once
//! and records the score above which the given fraction lies; every task of a distributed run then
//! applies that fixed threshold (`calibration = "calibration.json"` in the stage), so the verdict of
//! a document never depends on which task or batch it was in.
//!
//! Training data are written one document per line (newlines to spaces, as for prediction),
//! positives and negatives interleaved in a seeded order, and fastText trains on one thread so the
//! model is deterministic for the same inputs and settings.

use std::io::Write;
use std::path::Path;

use fasttext::{Args as FtArgs, FastText, LossName, ModelName};
use quarry_corpus::step::table_into;
use quarry_corpus::{Document, Step, StepError, Verdict};
use serde::{Deserialize, Serialize};

/// Training settings (fastText's supervised options).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainSettings {
    /// Epochs.
    pub epoch: i32,
    /// Learning rate.
    pub lr: f64,
    /// Word n-grams (2 as DCLM's fastText classifier).
    pub word_ngrams: i32,
    /// Vector size.
    pub dim: i32,
    /// Words seen fewer times are dropped.
    pub min_count: i32,
    /// Seed of the interleaving order.
    pub seed: u64,
    /// Longest text used per document, in characters (keeps huge pages from dominating).
    pub max_chars: usize,
    /// Hash buckets for word n-grams; the model holds `bucket × dim` floats (fastText's default of
    /// 2 M makes a 512 MB model at dim 64).
    pub bucket: i32,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            epoch: 5,
            lr: 0.1,
            word_ngrams: 2,
            dim: 64,
            min_count: 2,
            seed: 0,
            max_chars: 100_000,
            bucket: 200_000,
        }
    }
}

/// What training saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrainReport {
    /// Positive documents used.
    pub positives: u64,
    /// Negative documents used.
    pub negatives: u64,
}

fn one_line(text: &str, max_chars: usize) -> String {
    text.chars()
        .take(max_chars)
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\0' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Trains the classifier on positive and negative texts and saves it to `out` (`.bin`).
pub fn train_classifier<P, N>(
    positives: P,
    negatives: N,
    cfg: &TrainSettings,
    out: &Path,
) -> Result<TrainReport, String>
where
    P: IntoIterator<Item = String>,
    N: IntoIterator<Item = String>,
{
    let mut lines: Vec<(u64, String)> = Vec::new();
    let mut rep = TrainReport::default();
    for (i, t) in positives.into_iter().enumerate() {
        let t = one_line(&t, cfg.max_chars);
        if t.trim().is_empty() {
            continue;
        }
        rep.positives += 1;
        lines.push((mix(cfg.seed ^ (2 * i as u64)), format!("__label__hq {t}")));
    }
    for (i, t) in negatives.into_iter().enumerate() {
        let t = one_line(&t, cfg.max_chars);
        if t.trim().is_empty() {
            continue;
        }
        rep.negatives += 1;
        lines.push((
            mix(cfg.seed ^ (2 * i as u64 + 1)),
            format!("__label__lq {t}"),
        ));
    }
    if rep.positives == 0 || rep.negatives == 0 {
        return Err(format!(
            "need positive and negative documents with text (got {} and {})",
            rep.positives, rep.negatives
        ));
    }
    lines.sort();
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let train_file = dir.join(format!(
        ".{}.train.txt",
        out.file_name().and_then(|n| n.to_str()).unwrap_or("model")
    ));
    {
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(&train_file).map_err(|e| e.to_string())?);
        for (_, l) in &lines {
            writeln!(f, "{l}").map_err(|e| e.to_string())?;
        }
        f.flush().map_err(|e| e.to_string())?;
    }
    let mut args = FtArgs::new();
    args.set_input(&train_file.display().to_string())?;
    args.set_model(ModelName::SUP);
    args.set_loss(LossName::SOFTMAX);
    args.set_epoch(cfg.epoch);
    args.set_lr(cfg.lr);
    args.set_word_ngrams(cfg.word_ngrams);
    args.set_dim(cfg.dim);
    args.set_min_count(cfg.min_count);
    args.set_bucket(cfg.bucket);
    // One thread: fastText's training is deterministic only single-threaded.
    args.set_thread(1);
    args.set_verbose(0);
    let mut ft = FastText::new();
    let res = ft.train(&args);
    let _ = std::fs::remove_file(&train_file);
    res?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        out.file_name().and_then(|n| n.to_str()).unwrap_or("model")
    ));
    ft.save_model(&tmp.display().to_string())?;
    std::fs::rename(&tmp, out).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(rep)
}

/// The `quality_classifier` stage's options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierConfig {
    /// The model trained by `quarry classifier train`.
    pub model: String,
    /// Keep documents whose high-quality probability is at least this; absent: score only.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// A calibration file written by `quarry classifier calibrate` (top-fraction rule): keep the
    /// documents at or above its threshold. Excludes `threshold`; its model digest must match.
    #[serde(default)]
    pub calibration: Option<String>,
    /// Metadata key for the score.
    #[serde(default = "default_key")]
    pub key: String,
}

fn default_key() -> String {
    "quality_score".to_string()
}

/// Scores documents with the classifier; drops `quality_below_threshold` under the threshold.
pub struct QualityClassifier {
    cfg: ClassifierConfig,
    model: FastText,
    threshold: Option<f64>,
}

/// Bins of the calibration histogram over [0, 1]: resolution ~1e-6 in 8 MiB whatever the corpus
/// size, finer than fastText's float32 probabilities are meaningful.
const CALIBRATION_BINS: usize = 1 << 20;

/// The result of [`calibrate`]: the threshold that keeps the top fraction of the scored documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// sha256 of the model file the scores came from.
    pub model_sha256: String,
    /// The fraction of documents asked for.
    pub top_fraction: f64,
    /// Documents scored.
    pub documents: u64,
    /// Documents at or above `threshold` among them (at most `top_fraction` of them, short of it
    /// only by the documents tied within one histogram bin at the boundary).
    pub kept: u64,
    /// Keep documents whose score is at least this.
    pub threshold: f64,
}

/// Scores `texts` and finds the threshold that keeps at most `top_fraction` of them, with memory
/// bounded by a fixed histogram (the scores are never all held).
pub fn calibrate(
    clf: &QualityClassifier,
    model_sha256: &str,
    texts: impl Iterator<Item = String>,
    top_fraction: f64,
) -> Result<Calibration, String> {
    if !(top_fraction > 0.0 && top_fraction <= 1.0) {
        return Err(format!("top fraction {top_fraction} is not in (0, 1]"));
    }
    let mut hist = vec![0u64; CALIBRATION_BINS];
    let mut n = 0u64;
    for t in texts {
        let s = clf.score(&t)?;
        let bin = ((s * CALIBRATION_BINS as f64) as usize).min(CALIBRATION_BINS - 1);
        hist[bin] += 1;
        n += 1;
    }
    if n == 0 {
        return Err("no documents to calibrate on".into());
    }
    let budget = (top_fraction * n as f64).floor() as u64;
    // Walk down from the highest bin while the whole bin still fits in the budget.
    let mut kept = 0u64;
    let mut lowest = CALIBRATION_BINS;
    for bin in (0..CALIBRATION_BINS).rev() {
        if kept + hist[bin] > budget {
            break;
        }
        kept += hist[bin];
        lowest = bin;
    }
    let threshold = if lowest == 0 {
        0.0
    } else {
        lowest as f64 / CALIBRATION_BINS as f64
    };
    Ok(Calibration {
        model_sha256: model_sha256.to_string(),
        top_fraction,
        documents: n,
        kept,
        // Nothing fits (the top bin alone is over budget): a threshold above every score.
        threshold: if lowest == CALIBRATION_BINS {
            1.0 + f64::EPSILON
        } else {
            threshold
        },
    })
}

impl QualityClassifier {
    /// Loads the model.
    pub fn new(cfg: ClassifierConfig) -> Result<Self, StepError> {
        if !Path::new(&cfg.model).exists() {
            return Err(StepError::Config {
                step: "quality_classifier".into(),
                message: format!(
                    "model {} not found (train one with `quarry classifier train`)",
                    cfg.model
                ),
            });
        }
        let mut model = FastText::new();
        model.load_model(&cfg.model).map_err(|e| StepError::Other {
            step: "quality_classifier".into(),
            message: format!("loading {}: {e}", cfg.model),
        })?;
        let threshold = match (&cfg.calibration, cfg.threshold) {
            (Some(_), Some(_)) => {
                return Err(StepError::Config {
                    step: "quality_classifier".into(),
                    message: "give `threshold` or `calibration`, not both".into(),
                })
            }
            (Some(path), None) => Some(load_calibration(path, &cfg.model)?.threshold),
            (None, t) => t,
        };
        Ok(QualityClassifier {
            cfg,
            model,
            threshold,
        })
    }

    /// The threshold in force (from `threshold` or the calibration file).
    pub fn threshold(&self) -> Option<f64> {
        self.threshold
    }

    /// Probability that the text is high quality.
    pub fn score(&self, text: &str) -> Result<f64, String> {
        let mut line = one_line(text, usize::MAX);
        line.push('\n');
        let preds = self.model.predict(&line, -1, 0.0)?;
        Ok(preds
            .iter()
            .find(|p| p.label == "__label__hq")
            .map(|p| p.prob as f64)
            .unwrap_or(0.0)
            .clamp(0.0, 1.0))
    }
}

impl Step for QualityClassifier {
    fn name(&self) -> &str {
        "quality_classifier"
    }

    fn process(&self, doc: &mut Document) -> Verdict {
        let s = match self.score(&doc.text) {
            Ok(s) => s,
            Err(_) => return Verdict::drop("quality_classifier_error"),
        };
        doc.set_meta(self.cfg.key.clone(), s);
        match self.threshold {
            Some(t) if s < t => Verdict::drop("quality_below_threshold"),
            _ => Verdict::Keep,
        }
    }
}

/// Reads a calibration file and checks that it was made with this model.
fn load_calibration(path: &str, model: &str) -> Result<Calibration, StepError> {
    let err = |message: String| StepError::Config {
        step: "quality_classifier".into(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        err(format!(
            "calibration {path}: {e} (write one with `quarry classifier calibrate`)"
        ))
    })?;
    let cal: Calibration =
        serde_json::from_str(&text).map_err(|e| err(format!("calibration {path}: {e}")))?;
    let (sha, _) = quarry_corpus::storage::sha256_file(Path::new(model))
        .map_err(|e| err(format!("hashing {model}: {e}")))?;
    if sha != cal.model_sha256 {
        return Err(err(format!(
            "calibration {path} was made with a model of sha256 {}, but {model} has {sha}: recalibrate",
            cal.model_sha256
        )));
    }
    Ok(cal)
}

/// Builds the stage from its recipe table.
pub fn build(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    Ok(Box::new(QualityClassifier::new(table_into(
        "quality_classifier",
        table,
    )?)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(prefix: &str, n: usize, words: &[&str]) -> Vec<String> {
        (0..n)
            .map(|i| {
                (0..40)
                    .map(|j| words[(i * 7 + j * 3) % words.len()])
                    .collect::<Vec<_>>()
                    .join(" ")
                    + &format!(" {prefix}{i}")
            })
            .collect()
    }

    #[test]
    fn learns_to_separate_two_registers_and_is_deterministic() {
        let good = [
            "the", "study", "results", "show", "that", "analysis", "method", "evidence", "data",
            "research",
        ];
        let bad = [
            "buy", "cheap", "click", "now", "free", "deal", "casino", "win", "offer", "best",
        ];
        let d = tempfile::tempdir().unwrap();
        let cfg = TrainSettings {
            min_count: 1,
            epoch: 10,
            ..Default::default()
        };
        for name in ["a.bin", "b.bin"] {
            let r = train_classifier(
                docs("g", 200, &good),
                docs("b", 200, &bad),
                &cfg,
                &d.path().join(name),
            )
            .unwrap();
            assert_eq!((r.positives, r.negatives), (200, 200));
        }
        assert_eq!(
            std::fs::read(d.path().join("a.bin")).unwrap(),
            std::fs::read(d.path().join("b.bin")).unwrap()
        );
        let step = QualityClassifier::new(ClassifierConfig {
            model: d.path().join("a.bin").display().to_string(),
            threshold: Some(0.5),
            calibration: None,
            key: default_key(),
        })
        .unwrap();
        let mut g = Document::new(
            "g",
            "the research method and the evidence show results of the study",
        );
        let mut b = Document::new("b", "click now for a cheap casino deal and win free offer");
        assert_eq!(step.process(&mut g), Verdict::Keep);
        assert_eq!(
            step.process(&mut b),
            Verdict::drop("quality_below_threshold")
        );
        assert!(g.meta("quality_score").unwrap().as_f64().unwrap() > 0.5);

        // Top fraction: calibrate on a mixed corpus, then the stage keeps that fraction of it.
        let model = d.path().join("a.bin");
        let (sha, _) = quarry_corpus::storage::sha256_file(&model).unwrap();
        let corpus: Vec<String> = docs("g", 30, &good)
            .into_iter()
            .chain(docs("b", 70, &bad))
            .collect();
        let cal = calibrate(&step, &sha, corpus.iter().cloned(), 0.25).unwrap();
        assert_eq!(cal.documents, 100);
        assert!(cal.kept <= 25 && cal.kept >= 20, "{cal:?}");
        let cal_path = d.path().join("cal.json");
        std::fs::write(&cal_path, serde_json::to_string(&cal).unwrap()).unwrap();
        let top = QualityClassifier::new(ClassifierConfig {
            model: model.display().to_string(),
            threshold: None,
            calibration: Some(cal_path.display().to_string()),
            key: default_key(),
        })
        .unwrap();
        let kept = corpus
            .iter()
            .filter(|t| top.process(&mut Document::new("x", t.as_str())) == Verdict::Keep)
            .count() as u64;
        assert_eq!(kept, cal.kept);
        assert!(calibrate(&step, &sha, corpus.iter().cloned(), 0.0).is_err());
        // A calibration made with another model is refused.
        let other = d.path().join("cal-other.json");
        let mut wrong = cal.clone();
        wrong.model_sha256 = "0".repeat(64);
        std::fs::write(&other, serde_json::to_string(&wrong).unwrap()).unwrap();
        let err = QualityClassifier::new(ClassifierConfig {
            model: model.display().to_string(),
            threshold: None,
            calibration: Some(other.display().to_string()),
            key: default_key(),
        })
        .err()
        .unwrap();
        assert!(err.to_string().contains("recalibrate"), "{err}");

        assert!(train_classifier(
            Vec::<String>::new(),
            docs("b", 3, &bad),
            &cfg,
            &d.path().join("c.bin")
        )
        .is_err());
    }
}
