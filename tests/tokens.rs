//! `quarry tokenize` on real documents, checked by an independent reader written from the format
//! description (scripts/tokens/check_shards.py: numpy only, plus Python `tokenizers` to re-encode
//! every document and require identical ids). scripts/test.sh installs numpy and tokenizers.

mod util;

use std::process::Command;

use util::{data_dir, quarry, TestDir};

fn python_has(mods: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {mods}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn token_shards_pass_the_independent_numpy_reader() {
    if !python_has("numpy, tokenizers") {
        eprintln!(
            "SKIPPED: python3 with numpy and tokenizers not found (scripts/test.sh installs them)"
        );
        return;
    }
    let d = TestDir::new();
    let docs = data_dir()
        .join("text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz");
    let tok = data_dir().join("tokenizer/olmo1-gpt-neox-20b-pii.tokenizer.json");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/tokens/check_shards.py");
    for (format, shard_tokens) in [("megatron", "300000"), ("olmo", "500000")] {
        let out = d.path().join(format);
        let o = quarry()
            .args([
                "tokenize",
                "--format",
                format,
                "--shard-tokens",
                shard_tokens,
                "--tokenizer",
            ])
            .arg(&tok)
            .arg("--input")
            .arg(&docs)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let check = Command::new("python3")
            .arg(&script)
            .args(["--format", format, "--tokenizer"])
            .arg(&tok)
            .arg("--docs")
            .arg(&docs)
            .arg(&out)
            .output()
            .unwrap();
        let verdict = String::from_utf8_lossy(&check.stdout);
        assert!(
            check.status.success(),
            "{format}: {verdict}\n{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let v: serde_json::Value = serde_json::from_str(verdict.lines().last().unwrap()).unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(v["documents"], 670, "{verdict}");
        assert!(v["shards"].as_u64().unwrap() > 1, "{verdict}");
        // The manifest counts agree with the independent reader.
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(m["stats"]["tokens"], v["tokens"]);
        assert_eq!(m["stats"]["skipped_empty"], 27);
    }
}

/// A record that cannot be read is counted in the token manifest and fails the command, instead of
/// silently shrinking the corpus.
#[test]
fn tokenize_counts_unreadable_records_and_exits_non_zero() {
    let d = TestDir::new();
    let input = d.write("in.jsonl", "{\"id\": \"a\", \"text\": \"Hello world\"}\n{not json\n{\"id\": \"b\", \"text\": \"Bye\"}\n");
    let tok = data_dir().join("tokenizer/olmo1-gpt-neox-20b-pii.tokenizer.json");
    let out = d.path().join("tokens");
    let o = quarry()
        .args(["tokenize", "--tokenizer"])
        .arg(&tok)
        .arg("--input")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 input record(s) could not be read"));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["read_errors"], 1);
    assert_eq!(m["stats"]["documents"], 2);
}
