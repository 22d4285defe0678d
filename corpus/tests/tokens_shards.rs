//! Token shards of real documents read back natively: sequence counts, lengths, pointers, EOS, decoding
//! gives back the documents' text, per-source stats, determinism, shuffle, size-based sharding.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use quarry_corpus::tokens::{
    tokenize_to_shards, MegatronDataset, OlmoDataset, OlmoDtype, ShardFormat, TextTokenizer,
    TokenizeConfig,
};
use quarry_corpus::{Document, Provenance};

const DOLMA: &str =
    "text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz";

fn data_dir() -> PathBuf {
    std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}

fn olmo_tok() -> TextTokenizer {
    TextTokenizer::load(&data_dir().join("tokenizer/olmo1-gpt-neox-20b-pii.tokenizer.json"))
        .unwrap()
}

fn dolma_docs() -> Vec<Document> {
    let path = data_dir().join(DOLMA);
    let f = std::fs::File::open(&path).expect("dolma jsonl (set QUARRY_TEST_DATA)");
    BufReader::new(flate2::read::MultiGzDecoder::new(f))
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
            let mut d = Document::new(v["id"].as_str().unwrap(), v["text"].as_str().unwrap());
            d.source = Provenance {
                file: DOLMA.to_string(),
                offset: i as u64,
            };
            d
        })
        .collect()
}

fn shard_prefixes(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| p.with_extension(""))
        .collect();
    v.sort();
    v
}

fn read_all(dir: &Path) -> Vec<u8> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in files {
        all.extend(f.file_name().unwrap().to_string_lossy().as_bytes());
        all.extend(std::fs::read(f).unwrap());
    }
    all
}

#[test]
fn megatron_shards_of_real_docs_read_back() {
    let tok = olmo_tok();
    let mut docs = dolma_docs();
    docs.insert(10, Document::new("empty-1", "")); // counted, not written
    let dir = tempfile::tempdir().unwrap();
    let cfg = TokenizeConfig {
        format: ShardFormat::Megatron,
        shard_tokens: 150_000,
        batch_docs: 64,
        ..TokenizeConfig::default()
    };
    let stats = tokenize_to_shards(&tok, docs.clone(), dir.path(), &cfg).unwrap();
    // The dolma sample has 27 documents with empty text; all 28 empties are counted, none written.
    assert_eq!(stats.documents_in, 698);
    assert_eq!(stats.skipped_empty, 28);
    assert_eq!(stats.documents, 670);
    assert_eq!(stats.dtype, "uint16");
    assert!(stats.shards.len() >= 3, "{} shards", stats.shards.len());
    assert_eq!(stats.per_source.len(), 1);
    assert_eq!(stats.per_source[DOLMA].documents, 670);
    assert_eq!(stats.per_source[DOLMA].tokens, stats.tokens);

    let docs: Vec<Document> = docs.into_iter().filter(|d| !d.text.is_empty()).collect();
    let prefixes = shard_prefixes(dir.path(), "idx");
    assert_eq!(prefixes.len(), stats.shards.len());
    let mut k = 0;
    let mut total = 0u64;
    for (prefix, shard) in prefixes.iter().zip(&stats.shards) {
        let ds = MegatronDataset::open(prefix).unwrap();
        assert_eq!(ds.num_documents() as u64, shard.documents);
        assert_eq!(ds.num_sequences(), ds.num_documents());
        assert!(ds.num_tokens() <= cfg.shard_tokens);
        assert_eq!(ds.num_tokens(), shard.tokens);
        let mut ptr = 0u64;
        for i in 0..ds.num_documents() {
            assert_eq!(ds.sequence_pointer(i), ptr);
            ptr += ds.sequence_length(i) as u64 * 2;
            let ids = ds.document(i);
            assert_eq!(*ids.last().unwrap(), 50279, "doc {k} ends with EOS");
            assert!(!ids[..ids.len() - 1].contains(&50279));
            // OLMo-1's tokenizer normalizes to NFC, so decoding gives back the NFC text.
            assert_eq!(
                tok.decode(&ids[..ids.len() - 1], false).unwrap(),
                tok.normalize(&docs[k].text).unwrap()
            );
            k += 1;
        }
        assert_eq!(
            ptr,
            std::fs::metadata(prefix.with_extension("bin"))
                .unwrap()
                .len()
        );
        total += ds.num_tokens();
    }
    assert_eq!(k, 670);
    assert_eq!(total, stats.tokens);
}

#[test]
fn olmo_shards_of_real_docs_read_back_with_metadata() {
    let tok = TextTokenizer::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tokens/dolma-2k.tokenizer.json"),
    )
    .unwrap();
    let all = dolma_docs();
    let dir = tempfile::tempdir().unwrap();
    let cfg = TokenizeConfig {
        format: ShardFormat::Olmo,
        shard_tokens: 400_000,
        ..TokenizeConfig::default()
    };
    let stats = tokenize_to_shards(&tok, all.clone(), dir.path(), &cfg).unwrap();
    assert_eq!(stats.documents, 670);
    // Keep each document's line number: `loc` must name it.
    let docs: Vec<(usize, &Document)> = all
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.text.is_empty())
        .collect();
    let mut k = 0;
    for npy in shard_prefixes(dir.path(), "npy") {
        let ds = OlmoDataset::open(&npy.with_extension("npy")).unwrap();
        assert_eq!(ds.dtype(), OlmoDtype::U16);
        for (i, meta) in ds.documents().iter().enumerate() {
            let (line, d) = docs[k];
            assert_eq!(meta.id, d.id);
            assert_eq!(meta.src, DOLMA);
            assert_eq!(meta.loc, line as u64);
            let ids = ds.document(i);
            assert_eq!(ids.last(), Some(&0));
            assert_eq!(tok.decode(&ids[..ids.len() - 1], false).unwrap(), d.text);
            k += 1;
        }
    }
    assert_eq!(k, 670);
}

#[test]
fn output_is_deterministic_across_thread_counts_and_shuffle_is_seeded() {
    let tok = olmo_tok();
    let docs: Vec<Document> = dolma_docs().into_iter().take(200).collect();
    let run = |threads: usize, shuffle: Option<u64>, format: ShardFormat| {
        let dir = tempfile::tempdir().unwrap();
        let cfg = TokenizeConfig {
            format,
            shard_tokens: 50_000,
            batch_docs: 37,
            threads: Some(threads),
            shuffle_seed: shuffle,
            ..TokenizeConfig::default()
        };
        let stats = tokenize_to_shards(&tok, docs.clone(), dir.path(), &cfg).unwrap();
        (read_all(dir.path()), stats.tokens, dir)
    };
    for format in [ShardFormat::Megatron, ShardFormat::Olmo] {
        let (a, ta, _) = run(1, None, format);
        let (b, tb, _) = run(2, None, format);
        assert!(a == b, "{format:?}: 1 vs 2 threads differ");
        let (c, tc, _) = run(2, Some(7), format);
        let (d, _, _) = run(1, Some(7), format);
        assert!(c == d, "{format:?}: seeded shuffle differs across runs");
        assert!(a != c, "{format:?}: shuffle changed nothing");
        assert_eq!(ta, tb);
        assert_eq!(ta, tc);
    }
    // The shuffled OLMo output holds the same documents, in another order.
    let (_, _, dir) = run(2, Some(7), ShardFormat::Olmo);
    let mut ids: Vec<String> = shard_prefixes(dir.path(), "npy")
        .iter()
        .flat_map(|p| {
            OlmoDataset::open(&p.with_extension("npy"))
                .unwrap()
                .documents()
                .iter()
                .map(|m| m.id.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    let in_order: Vec<String> = docs
        .iter()
        .filter(|d| !d.text.is_empty())
        .map(|d| d.id.clone())
        .collect();
    assert_ne!(ids, in_order);
    ids.sort();
    let mut want = in_order;
    want.sort();
    assert_eq!(ids, want);
}

#[test]
fn oversized_document_gets_its_own_shard_and_nothing_is_lost() {
    let tok = olmo_tok();
    let docs = vec![
        Document::new("a", "short one"),
        Document::new("b", "word ".repeat(500)),
        Document::new("c", "short two"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let cfg = TokenizeConfig {
        shard_tokens: 100,
        ..TokenizeConfig::default()
    };
    let stats = tokenize_to_shards(&tok, docs, dir.path(), &cfg).unwrap();
    let per: Vec<u64> = stats.shards.iter().map(|s| s.documents).collect();
    assert_eq!(per, vec![1, 1, 1]);
    assert!(stats.shards[1].tokens > 100);
    assert_eq!(stats.documents, 3);
    assert!(tokenize_to_shards(
        &tok,
        Vec::new(),
        dir.path(),
        &TokenizeConfig {
            shard_tokens: 0,
            ..TokenizeConfig::default()
        }
    )
    .is_err());
}
