//! End-to-end: `quarry build` ends with the dataset card; its numbers equal the manifests' and an
//! independent read of the shards; Croissant validates with mlcroissant (when installed); the card is
//! deterministic; `quarry lineage verify` catches a corrupted and a deleted file; a training run's
//! manifest joins the lineage.

mod util;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};
use util::{data_dir, quarry, shard_docs, TestDir};

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

fn sha(p: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(p).unwrap()))
}

fn card_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> =
        ["README.md", "croissant.json", "stats.json", "lineage.json"]
            .iter()
            .map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap()))
            .collect();
    v.extend(util::shard_bytes(&dir.join("plots")));
    v
}

fn verify(dir: &Path) -> (bool, String) {
    let out = quarry()
        .args(["lineage", "verify"])
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn python() -> Option<String> {
    let py = std::env::var("QUARRY_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args(["-c", "import mlcroissant, pyarrow"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    ok.then_some(py)
}

#[test]
fn build_writes_a_card_that_matches_the_data_and_verifies() {
    let d = TestDir::new();
    let q = d.path().join("qb");
    let out = quarry()
        .args(["build", "--out"])
        .arg(&q)
        .env("QUARRY_LID_MODEL", data_dir().join("lid/lid.176.ftz"))
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Counts: the card's statistics equal the manifests and an independent read of the shards.
    let stats = json(&q.join("stats.json"));
    let dm = json(&q.join("dedup/manifest.json"));
    let cm = json(&q.join("corpus/manifest.json"));
    let tm = json(&q.join("tokens/manifest.json"));
    let rows: u64 = dm["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(stats["documents"], rows);
    let docs = shard_docs(&q.join("dedup/shards"));
    assert_eq!(docs.len() as u64, rows);
    let chars: u64 = docs
        .iter()
        .map(|d| d["text"].as_str().unwrap().chars().count() as u64)
        .sum();
    assert_eq!(stats["chars"], chars);
    let mut langs: BTreeMap<String, u64> = BTreeMap::new();
    let mut licenses: BTreeMap<String, u64> = BTreeMap::new();
    for d in &docs {
        *langs
            .entry(d["metadata"]["language"].as_str().unwrap().into())
            .or_default() += 1;
        *licenses
            .entry(d["metadata"]["license"].as_str().unwrap_or("(none)").into())
            .or_default() += 1;
    }
    let got = |k: &str| -> BTreeMap<String, u64> {
        stats[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["value"].as_str().unwrap().to_string(),
                    v["documents"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(got("languages"), langs);
    assert_eq!(got("licenses"), licenses);
    assert_eq!(stats["tokens"]["tokens"], tm["stats"]["tokens"]);
    assert_eq!(stats["tokens"]["documents"], rows);
    // The funnel is the manifests' stages, in order, with their counts.
    let funnel = stats["funnel"].as_array().unwrap();
    let stages: Vec<&serde_json::Value> = cm["stages"]
        .as_array()
        .unwrap()
        .iter()
        .chain(dm["stages"].as_array().unwrap())
        .collect();
    let steps: Vec<&serde_json::Value> = funnel
        .iter()
        .filter(|f| f["step"] != "read" && f["step"] != "tokenize")
        .collect();
    assert_eq!(steps.len(), stages.len());
    for (f, s) in steps.iter().zip(&stages) {
        assert_eq!(f["step"], s["name"]);
        assert_eq!(
            (&f["in"], &f["kept"], &f["dropped"]),
            (&s["in"], &s["kept"], &s["dropped"])
        );
    }
    assert_eq!(funnel[0]["in"], cm["reader"]["records"]);
    let removed = std::fs::read_to_string(q.join("dedup/removed.txt"))
        .unwrap()
        .lines()
        .count() as u64;
    let dedup_removed: u64 = stats["dedup"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["removed"].as_u64().unwrap())
        .sum();
    assert_eq!(dedup_removed, removed);

    // README: HF YAML header and the datasheet sections, filled with these numbers.
    let readme = std::fs::read_to_string(q.join("README.md")).unwrap();
    assert!(
        readme.starts_with("---\npretty_name: \"quarry default build\"\n"),
        "{readme}"
    );
    for needle in [
        "language:\n- \"en\"\n",
        "size_categories:\n- n<1K\n",
        "task_categories:\n- text-generation\n",
        "    path: \"dedup/shards/*.parquet\"\n",
        &format!("    num_examples: {rows}\n"),
        "## Motivation",
        "## Composition",
        "## Collection process",
        "## Preprocessing",
        "## Uses",
        "## Distribution",
        "## Maintenance",
        "## Lineage",
        "```mermaid",
        "![Documents by language](plots/languages.png)",
        &format!("| `minhash_filter` | {} |", dm["stages"][1]["in"]),
        cm["recipe"]["text"]
            .as_str()
            .unwrap()
            .lines()
            .find(|l| l.starts_with("count_metadata"))
            .unwrap(),
    ] {
        assert!(readme.contains(needle), "README lacks {needle:?}");
    }
    for p in [
        "languages",
        "licenses",
        "length_chars",
        "length_tokens",
        "funnel",
        "score_language_score",
    ] {
        let png = std::fs::read(q.join(format!("plots/{p}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{p}");
        assert!(std::fs::read_to_string(q.join(format!("plots/{p}.svg")))
            .unwrap()
            .starts_with("<svg"));
    }

    // Croissant: every FileObject's sha256 is its file's; the record set is the Parquet schema.
    let cr = json(&q.join("croissant.json"));
    assert_eq!(cr["conformsTo"], "http://mlcommons.org/croissant/1.0");
    let dist = cr["distribution"].as_array().unwrap();
    let objects: Vec<&serde_json::Value> = dist
        .iter()
        .filter(|x| x["@type"] == "cr:FileObject")
        .collect();
    for o in &objects {
        assert_eq!(
            o["sha256"].as_str().unwrap(),
            sha(&q.join(o["contentUrl"].as_str().unwrap())),
            "{o}"
        );
    }
    for shard in dm["outputs"].as_array().unwrap() {
        let name = Path::new(shard["path"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            objects
                .iter()
                .any(|o| o["contentUrl"] == format!("dedup/shards/{name}")
                    && o["sha256"] == shard["sha256"]),
            "{name}"
        );
    }
    let fields: Vec<&str> = cr["recordSet"][0]["field"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "id",
            "text",
            "url",
            "source_file",
            "source_offset",
            "date",
            "crawl",
            "content_type",
            "charset",
            "metadata"
        ]
    );
    assert!(
        cr["rai:dataPreprocessingProtocol"]
            .as_array()
            .unwrap()
            .len()
            >= stages.len()
    );

    // mlcroissant validates the file and reads every record; pyarrow reads the shards.
    match python() {
        Some(py) => {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/card/validate_croissant.py");
            let out = Command::new(py).arg(script).arg(&q).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["records"], rows);
            assert_eq!(v["ids"], rows);
            assert_eq!(v["pyarrow_rows"], rows);
            assert_eq!(v["languages"]["en"], rows);
        }
        None => eprintln!("SKIPPED: python3 with mlcroissant and pyarrow not found (scripts/test.sh installs them)"),
    }

    // Deterministic: the card written again from the same inputs is byte-identical.
    let before = card_files(&q);
    let again = quarry()
        .args(["card", "--corpus"])
        .arg(q.join("dedup"))
        .arg("--tokens")
        .arg(q.join("tokens"))
        .arg("--out")
        .arg(&q)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(card_files(&q), before);

    // Lineage: raw WARCs → corpus manifest → shards → dedup → token shards, all verifiable.
    let lin = json(&q.join("lineage.json"));
    let roles: Vec<&str> = lin["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles.iter().filter(|r| **r == "raw_input").count(), 4);
    let kinds: Vec<&str> = lin["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["pipeline", "pipeline", "tokenize"]);
    let (ok, log) = verify(&q);
    assert!(ok && log.contains("OK:"), "{log}");

    // A training run's manifest (quarry-train/1) joins the lineage.
    let run = d.path().join("run");
    std::fs::create_dir_all(run.join("checkpoints")).unwrap();
    std::fs::write(
        run.join("checkpoints/step-000004.safetensors"),
        b"weights of step 4",
    )
    .unwrap();
    std::fs::write(
        run.join("metrics.jsonl"),
        "{\"step\":1,\"loss\":5.5}\n{\"step\":4,\"loss\":4.25}\n{\"step\":4,\"eval_loss\":4.5}\n",
    )
    .unwrap();
    let bin = std::fs::read_dir(q.join("tokens"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "bin"))
        .unwrap();
    let train_manifest = |ck_sha: &str| {
        serde_json::json!({
            "kind": "quarry-train/1",
            "config": "[model]\nd_model = 64\n",
            "tokenizer": {"path": q.join("tokenizer.json"), "sha256": sha(&q.join("tokenizer.json"))},
            "shards": [{"path": bin, "sha256": sha(&bin)}],
            "checkpoints": [{"step": 4, "path": "checkpoints/step-000004.safetensors", "sha256": ck_sha}],
            "metrics": "metrics.jsonl",
        })
    };
    let ck = sha(&run.join("checkpoints/step-000004.safetensors"));
    std::fs::write(run.join("manifest.json"), train_manifest(&ck).to_string()).unwrap();
    let card2 = d.path().join("release");
    let with_train = |out: &Path| {
        quarry()
            .args(["card", "--corpus"])
            .arg(q.join("dedup"))
            .arg("--tokens")
            .arg(q.join("tokens"))
            .arg("--train")
            .arg(&run)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    let o = with_train(&card2);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not below the card folder"),
        "warns about ../ paths"
    );
    let readme2 = std::fs::read_to_string(card2.join("README.md")).unwrap();
    assert!(readme2.contains("## Training runs"));
    assert!(
        readme2.contains("training loss 4.2500 at step 4, evaluation loss 4.5000 at step 4"),
        "{readme2}"
    );
    let lin2 = json(&card2.join("lineage.json"));
    assert_eq!(
        lin2["steps"].as_array().unwrap().last().unwrap()["kind"],
        "train"
    );
    assert!(lin2["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["role"] == "checkpoint" && f["sha256"] == ck));
    let (ok, log) = verify(&card2);
    assert!(ok, "{log}");
    // A checkpoint whose bytes differ from the training manifest is refused.
    std::fs::write(
        run.join("manifest.json"),
        train_manifest(&"0".repeat(64)).to_string(),
    )
    .unwrap();
    let o = with_train(&d.path().join("bad"));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("step-000004.safetensors"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // Corrupt one byte of a text shard: verify fails and names it.
    let shard = q.join(
        dm["outputs"][0]["path"]
            .as_str()
            .map(|p| Path::new(p).file_name().unwrap())
            .map(|n| Path::new("dedup/shards").join(n))
            .unwrap(),
    );
    let good = std::fs::read(&shard).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x01;
    std::fs::write(&shard, &bad).unwrap();
    let (ok, log) = verify(&q);
    let name = shard.file_name().unwrap().to_str().unwrap();
    assert!(!ok, "{log}");
    assert!(
        log.lines().any(|l| l.starts_with("FAIL dedup/shards/")
            && l.contains(name)
            && l.contains("sha256")),
        "{log}"
    );
    std::fs::write(&shard, &good).unwrap();
    assert!(verify(&q).0);
    // Delete the token shard: verify fails and names it.
    std::fs::remove_file(&bin).unwrap();
    let (ok, log) = verify(&q);
    assert!(!ok);
    let bin_name = bin.file_name().unwrap().to_str().unwrap();
    assert!(
        log.lines().any(|l| l.starts_with("FAIL tokens/")
            && l.contains(bin_name)
            && l.contains("missing")),
        "{log}"
    );
}
