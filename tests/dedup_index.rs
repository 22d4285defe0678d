//! Incremental dedup through the real CLI: dedup crawl A, `quarry dedup index`, dedup crawl B (real
//! documents plus planted copies and near-copies of A's documents and of each other) against the
//! index: exactly the planted cross-crawl copies go with the `*_of_index` reasons, B's own duplicates
//! are still handled, and an index extended with B keeps none of B again.

mod util;

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use util::{data_dir, quarry, TestDir};

/// (id, text) of the real CC documents with at least 100 words.
fn real_docs() -> Vec<(String, String)> {
    let src = data_dir()
        .join("text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz");
    std::io::BufReader::new(flate2::read::MultiGzDecoder::new(
        std::fs::File::open(src).unwrap(),
    ))
    .lines()
    .map(|l| serde_json::from_str::<serde_json::Value>(&l.unwrap()).unwrap())
    .map(|v| {
        (
            v["id"].as_str().unwrap().to_string(),
            v["text"].as_str().unwrap().to_string(),
        )
    })
    .filter(|(_, t)| t.split_whitespace().count() >= 100)
    .collect()
}

fn write_shard(dir: &Path, name: &str, docs: &[(String, String)]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    for (id, text) in docs {
        writeln!(f, "{}", serde_json::json!({"id": id, "text": text})).unwrap();
    }
    p
}

fn run(args: &[&str], paths: &[&Path]) -> String {
    let mut c = quarry();
    c.arg("dedup");
    c.args(args);
    let mut cmd_args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    for p in paths {
        c.arg(p);
        cmd_args.push(p.display().to_string());
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "quarry dedup {cmd_args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `quarry dedup --exact --minhash` over a shard folder, with the given indexes.
fn dedup(input: &Path, out: &Path, index: &[&Path]) {
    let mut c = quarry();
    c.args(["dedup", "--exact", "--minhash", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out);
    for i in index {
        c.arg("--index").arg(i);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn removed(out: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(out.join("removed.txt"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// (method, index?) → removed ids, from clusters.jsonl.
fn removed_by(out: &Path, method: &str, index: bool) -> BTreeSet<String> {
    let mut s = BTreeSet::new();
    for l in std::fs::read_to_string(out.join("clusters.jsonl"))
        .unwrap()
        .lines()
    {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        if v["method"] == method && v["index"].as_bool().unwrap_or(false) == index {
            for r in v["removed"].as_array().unwrap() {
                s.insert(r.as_str().unwrap().to_string());
            }
        }
    }
    s
}

fn dropped(out: &Path, reason: &str) -> u64 {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    m["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["dropped"][reason].as_u64().unwrap_or(0))
        .sum()
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_new_crawl_is_deduplicated_against_the_index_of_an_earlier_one() {
    let d = TestDir::new();
    let docs = real_docs();
    assert!(docs.len() > 300, "{} real documents", docs.len());
    let (a_docs, b_fresh) = docs.split_at(docs.len() / 2);

    // crawl A, then its index
    let a_in = d.path().join("a-in");
    write_shard(&a_in, "a-0.jsonl", &a_docs[..a_docs.len() / 2]);
    write_shard(&a_in, "a-1.jsonl", &a_docs[a_docs.len() / 2..]);
    let (a_out, idx) = (d.path().join("a-out"), d.path().join("index"));
    dedup(&a_in, &a_out, &[]);
    let msg = run(&["index", "--from"], &[&a_out, Path::new("--out"), &idx]);
    assert!(msg.contains("indexed"), "{msg}");
    let a_removed = removed(&a_out);
    let a_kept: Vec<&(String, String)> = a_docs
        .iter()
        .filter(|(id, _)| !a_removed.contains(id))
        .collect();

    // B's real documents alone against the index: what (if anything) they already share with A
    let fresh_in = d.path().join("fresh-in");
    write_shard(&fresh_in, "b-0.jsonl", b_fresh);
    let fresh_out = d.path().join("fresh-out");
    dedup(&fresh_in, &fresh_out, &[&idx]);
    let natural_exact = removed_by(&fresh_out, "exact", true);
    let natural_minhash = removed_by(&fresh_out, "minhash", true);
    let fresh_removed = removed(&fresh_out);
    let b_kept: Vec<&(String, String)> = b_fresh
        .iter()
        .filter(|(id, _)| !fresh_removed.contains(id))
        .collect();

    // crawl B: its real documents plus planted copies
    let mut planted = Vec::new();
    let (mut cross_exact, mut cross_near, mut intra_exact, mut intra_near) =
        (vec![], vec![], vec![], vec![]);
    for (i, (_, text)) in a_kept.iter().take(8).enumerate() {
        let id = format!("b-copy-of-a-{i}");
        planted.push((id.clone(), format!("{text}\n")));
        cross_exact.push(id);
    }
    for (i, (_, text)) in a_kept.iter().skip(8).take(8).enumerate() {
        let id = format!("b-near-a-{i}");
        planted.push((
            id.clone(),
            format!("{text} Updated recently with one more line."),
        ));
        cross_near.push(id);
    }
    for (i, (_, text)) in b_kept.iter().take(4).enumerate() {
        let id = format!("b-copy-of-b-{i}");
        planted.push((id.clone(), text.clone()));
        intra_exact.push(id);
    }
    for (i, (_, text)) in b_kept.iter().skip(4).take(4).enumerate() {
        let id = format!("b-near-b-{i}");
        planted.push((
            id.clone(),
            format!("{text} Updated recently with one more line."),
        ));
        intra_near.push(id);
    }
    let b_in = d.path().join("b-in");
    write_shard(&b_in, "b-0.jsonl", b_fresh);
    write_shard(&b_in, "b-1.jsonl", &planted);
    let b_out = d.path().join("b-out");
    dedup(&b_in, &b_out, &[&idx]);

    let mut want_exact = set(&cross_exact.iter().collect::<Vec<_>>());
    want_exact.extend(natural_exact.iter().cloned());
    let mut want_minhash = set(&cross_near.iter().collect::<Vec<_>>());
    want_minhash.extend(natural_minhash.iter().cloned());
    assert_eq!(removed_by(&b_out, "exact", true), want_exact);
    assert_eq!(removed_by(&b_out, "minhash", true), want_minhash);
    // B's own duplicates: removed, not as index matches, their originals kept
    let own_exact = removed_by(&b_out, "exact", false);
    let own_minhash = removed_by(&b_out, "minhash", false);
    for id in &intra_exact {
        assert!(own_exact.contains(id), "{id} not removed as a duplicate");
    }
    for id in &intra_near {
        assert!(
            own_minhash.contains(id),
            "{id} not removed as a near-duplicate"
        );
    }
    let b_removed = removed(&b_out);
    for (id, _) in b_kept.iter().take(8) {
        assert!(
            !b_removed.contains(id),
            "{id}: an original of B was removed"
        );
    }
    // the shards' manifest counts the same drops under the index reasons
    assert_eq!(
        dropped(&b_out, "exact_duplicate_of_index"),
        want_exact.len() as u64
    );
    assert_eq!(
        dropped(&b_out, "minhash_duplicate_of_index"),
        want_minhash.len() as u64
    );
    assert_eq!(
        dropped(&b_out, "exact_duplicate") + dropped(&b_out, "minhash_duplicate"),
        (own_exact.len() + own_minhash.len()) as u64
    );

    // extend the index with B: B against it again keeps nothing (all of B is now indexed)
    let msg = run(&["index", "--from"], &[&b_out, Path::new("--out"), &idx]);
    assert!(msg.contains("added"), "{msg}");
    let again = d.path().join("b-again");
    dedup(&b_in, &again, &[&idx]);
    assert_eq!(
        removed(&again).len(),
        b_fresh.len() + planted.len(),
        "every document of B is in the extended index"
    );

    // an index built under other settings is refused
    let o = quarry()
        .args([
            "dedup",
            "--minhash",
            "--bands",
            "20",
            "--rows",
            "5",
            "--input",
        ])
        .arg(&b_in)
        .arg("--out")
        .arg(d.path().join("other"))
        .arg("--index")
        .arg(&idx)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("other dedup settings"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
