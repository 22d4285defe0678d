//! The tokenizer agrees with Python `tokenizers`/`transformers` (golden ids from
//! `scripts/tokens/make_golden.py`), loads OLMo-1's tokenizer, and trains deterministically.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use quarry_corpus::tokens::{train_bpe, TextTokenizer, TrainConfig};
use sha2::{Digest, Sha256};

const DOLMA: &str =
    "text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz";

fn data_dir() -> PathBuf {
    std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tokens")
        .join(name)
}

fn dolma_texts() -> Vec<String> {
    let f =
        std::fs::File::open(data_dir().join(DOLMA)).expect("dolma jsonl (set QUARRY_TEST_DATA)");
    BufReader::new(flate2::read::MultiGzDecoder::new(f))
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect()
}

fn ids_sha(ids: &[u32]) -> String {
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.to_le_bytes());
    }
    hex::encode(h.finalize())
}

fn file_sha(p: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(p).unwrap()))
}

#[test]
fn olmo1_tokenizer_loads_and_encodes() {
    let tok =
        TextTokenizer::load(&data_dir().join("tokenizer/olmo1-gpt-neox-20b-pii.tokenizer.json"))
            .unwrap();
    assert_eq!(tok.encode("Hello world").unwrap(), vec![12092, 1533]);
    assert_eq!(tok.eos_id(), 50279);
    assert_eq!(
        tok.encode_document("Hello world").unwrap(),
        vec![12092, 1533, 50279]
    );
}

#[test]
fn ids_match_python_tokenizers_golden() {
    let golden: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("golden_ids.json")).unwrap()).unwrap();
    let docs = dolma_texts();
    let shakespeare = std::fs::read_to_string(data_dir().join("text/tinyshakespeare.txt")).unwrap();
    let mut checked = 0;
    for t in golden["tokenizers"].as_array().unwrap() {
        let path = match t["name"].as_str().unwrap() {
            "olmo1" => data_dir().join("tokenizer/olmo1-gpt-neox-20b-pii.tokenizer.json"),
            "dolma2k" => fixture("dolma-2k.tokenizer.json"),
            other => panic!("unknown tokenizer {other} in golden"),
        };
        assert_eq!(
            file_sha(&path),
            t["file_sha256"].as_str().unwrap(),
            "{}: tokenizer file differs from the one the golden was made with; rerun make_golden.py",
            path.display()
        );
        let tok = TextTokenizer::load(&path).unwrap();
        assert_eq!(tok.eos_id() as u64, t["eos_id"].as_u64().unwrap());
        for case in t["cases"].as_array().unwrap() {
            let text: String = if let Some(i) = case.get("dolma_line") {
                docs[i.as_u64().unwrap() as usize].clone()
            } else if let Some(r) = case.get("shakespeare_chars") {
                let (a, b) = (
                    r[0].as_u64().unwrap() as usize,
                    r[1].as_u64().unwrap() as usize,
                );
                shakespeare.chars().skip(a).take(b - a).collect()
            } else {
                case["edge"].as_str().unwrap().to_string()
            };
            let ids = tok.encode(&text).unwrap();
            if let Some(want) = case.get("ids") {
                let want: Vec<u32> = serde_json::from_value(want.clone()).unwrap();
                assert_eq!(ids, want, "{}: {:?}", t["name"], case);
            }
            let head: Vec<u32> = serde_json::from_value(case["head"].clone()).unwrap();
            assert_eq!(
                &ids[..head.len()],
                &head[..],
                "{}: {:?}",
                t["name"],
                case["dolma_line"]
            );
            assert_eq!(
                ids.len() as u64,
                case["n"].as_u64().unwrap(),
                "{}: {case}",
                t["name"]
            );
            assert_eq!(
                ids_sha(&ids),
                case["sha256"].as_str().unwrap(),
                "{}",
                t["name"]
            );
            // Byte-level BPE is lossless up to the tokenizer's normalizer (NFC for OLMo-1).
            assert_eq!(
                tok.decode(&ids, false).unwrap(),
                tok.normalize(&text).unwrap()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 68);
}

fn fixture_config() -> TrainConfig {
    // What produced tests/data/tokens/dolma-2k.tokenizer.json (see scripts/tokens/make_golden.sh).
    TrainConfig {
        vocab_size: 2048,
        sample_bytes: 1_000_000,
        seed: 0,
        ..TrainConfig::default()
    }
}

#[test]
fn training_is_byte_identical_across_runs_threads_and_input_order() {
    let texts = dolma_texts();
    let want = std::fs::read_to_string(fixture("dolma-2k.tokenizer.json")).unwrap();
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let (tok, report) = pool
            .install(|| train_bpe(&texts, &fixture_config()))
            .unwrap();
        assert_eq!(report.documents_seen, 697);
        assert!(report.bytes_sampled <= 1_000_000 && report.documents_sampled > 100);
        assert_eq!(tok.vocab_size(), 2048);
        assert!(
            tok.to_json().unwrap() == want,
            "{threads} threads: tokenizer.json differs"
        );
    }
    let reversed: Vec<&String> = texts.iter().rev().collect();
    let (tok, _) = train_bpe(reversed, &fixture_config()).unwrap();
    assert!(
        tok.to_json().unwrap() == want,
        "reversed input: tokenizer.json differs"
    );
}

#[test]
fn trained_tokenizer_saves_and_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let texts = dolma_texts();
    let (tok, _) = train_bpe(
        &texts[..50],
        &TrainConfig {
            vocab_size: 600,
            ..TrainConfig::default()
        },
    )
    .unwrap();
    quarry_corpus::tokens::save_tokenizer_dir(&tok, dir.path()).unwrap();
    let p = dir.path().join("tokenizer.json");
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("tokenizer_config.json")).unwrap())
            .unwrap();
    assert_eq!(cfg["eos_token"], "<|endoftext|>");
    assert_eq!(cfg["pad_token"], "<|padding|>");
    let back = TextTokenizer::load(&p).unwrap();
    assert_eq!(back.vocab_size(), 600);
    assert_eq!(back.eos_id(), 0);
    for t in &texts[50..60] {
        assert_eq!(back.encode(t).unwrap(), tok.encode(t).unwrap());
    }
    assert!(TextTokenizer::load(&dir.path().join("missing.json")).is_err());
    std::fs::write(dir.path().join("bad.json"), "{not json").unwrap();
    assert!(TextTokenizer::load(&dir.path().join("bad.json")).is_err());
}

#[test]
fn fast_path_equals_library_encode_on_real_multilingual_text() {
    let mut texts = dolma_texts();
    let tsv =
        std::fs::read_to_string(data_dir().join("text/tatoeba_long.cld2-sample.tsv")).unwrap();
    texts.extend(
        tsv.lines()
            .skip(1)
            .filter_map(|l| l.split('\t').nth(3))
            .map(str::to_string),
    );
    let shakespeare = std::fs::read_to_string(data_dir().join("text/tinyshakespeare.txt")).unwrap();
    texts.extend(shakespeare.split("\n\n").take(2000).map(str::to_string));
    // Decomposed accents (NFC changes them), added tokens in odd places, whitespace runs.
    texts.extend(
        [
            "Cafe\u{301} nai\u{308}ve",
            "<|endoftext|><|endoftext|>",
            "x<|padding|>",
            "                                       deep indent",
            "\t\t\t\n\n\n   \r\n",
            "<|endoftext",
        ]
        .map(str::to_string),
    );
    for path in [
        data_dir().join("tokenizer/olmo1-gpt-neox-20b-pii.tokenizer.json"),
        fixture("dolma-2k.tokenizer.json"),
    ] {
        let tok = TextTokenizer::load(&path).unwrap();
        assert!(tok.is_fast(), "{}", path.display());
        let mut n = 0;
        for t in &texts {
            assert_eq!(
                tok.encode(t).unwrap(),
                tok.encode_reference(t).unwrap(),
                "{}: {t:?}",
                path.display()
            );
            n += 1;
        }
        assert!(n > 3000);
    }
}
