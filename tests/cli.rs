//! End-to-end tests: the real `quarry` binary on real data from `../shared/data`.

mod util;

use std::process::Command;

use util::{data_dir, quarry, shard_bytes, shard_docs, TestDir};

#[test]
fn inspect_reads_real_jsonl_and_reports_sha256() {
    let f = data_dir()
        .join("text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz");
    let out = quarry()
        .args(["inspect", "--limit", "1"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("697 documents"), "{err}");
    assert!(
        err.contains("13abf424b40c6f71f16fa618a1215f506a9ca57708f36521b7de7d3153e5005a"),
        "{err}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

#[test]
fn errors_are_clear_and_exit_non_zero() {
    let d = TestDir::new();
    let out = quarry()
        .args(["inspect", "/nonexistent/x.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));

    let r = d.write(
        "bad.toml",
        "[input]\npaths = ['x.jsonl']\n[output]\npath = 'o'\nformt = 'jsonl'\n",
    );
    let out = quarry().arg("run").arg(&r).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown field `formt`"), "{err}");

    let r = d.write(
        "nomatch.toml",
        "[input]\npaths = ['/nonexistent/*.warc.gz']\n[output]\npath = 'o'\n",
    );
    let out = quarry().arg("run").arg(&r).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no input matches"));

    let out = quarry()
        .args(["run", "/nonexistent/recipe.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reading recipe"));
}

/// Builds a JSONL input of `copies` × the 697 real documents with distinct ids.
fn big_jsonl(d: &TestDir, copies: usize) -> std::path::PathBuf {
    use std::io::{BufRead, Write};
    let src = data_dir()
        .join("text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz");
    let lines: Vec<String> = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(
        std::fs::File::open(src).unwrap(),
    ))
    .lines()
    .map(|l| l.unwrap())
    .collect();
    let p = d.path().join("big.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    for c in 0..copies {
        for l in &lines {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let id = format!("{}-{c}", v["id"].as_str().unwrap());
            v["id"] = id.into();
            writeln!(f, "{v}").unwrap();
        }
    }
    p
}

#[test]
fn sigkill_then_rerun_gives_byte_identical_shards() {
    let d = TestDir::new();
    let input = big_jsonl(&d, 12);
    let recipe = |out: &str| {
        format!(
            "[input]\npaths = [{:?}]\n[output]\npath = {:?}\nmax_shard_bytes = 400000\n[run]\nbatch_size = 32\n",
            input.display().to_string(),
            d.path().join(out).display().to_string()
        )
    };
    let full = d.write("full.toml", &recipe("full"));
    let killed = d.write("killed.toml", &recipe("killed"));

    let out = quarry().arg("run").arg(&full).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Start the same run and kill it hard as soon as its first shard is in place.
    let mut child = quarry().arg("run").arg(&killed).spawn().unwrap();
    let shards = d.path().join("killed/shards");
    let started = std::time::Instant::now();
    loop {
        let n = std::fs::read_dir(&shards)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().starts_with("part-"))
                    .count()
            })
            .unwrap_or(0);
        if n >= 1 {
            break;
        }
        assert!(started.elapsed().as_secs() < 120, "no shard appeared");
        if let Some(st) = child.try_wait().unwrap() {
            panic!("run finished before it could be killed ({st}); make the input bigger");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status();
    let st = child.wait().unwrap();
    assert!(!st.success(), "the run should have been killed");
    assert!(!d.path().join("killed/_markers/task-00000.done").exists());
    assert!(!d.path().join("killed/manifest.json").exists());

    let out = quarry().arg("run").arg(&killed).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = shard_bytes(&d.path().join("full/shards"));
    let b = shard_bytes(&d.path().join("killed/shards"));
    assert!(a.len() > 3, "expected several shards, got {}", a.len());
    assert_eq!(a, b, "rerun after SIGKILL must give byte-identical shards");
    // And the manifests agree on every output digest.
    let ma: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("full/manifest.json")).unwrap())
            .unwrap();
    let mb: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("killed/manifest.json")).unwrap())
            .unwrap();
    let digests = |m: &serde_json::Value| -> Vec<String> {
        m["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["sha256"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(digests(&ma), digests(&mb));
    assert_eq!(ma["stages"], mb["stages"]);
    assert_eq!(ma["reader"]["documents"], 697 * 12);
}

/// `quarry build` with no arguments: sample crawl → every default stage → dedup → tokenizer → token
/// shards; a second run in another folder gives byte-identical outputs, and training runs on them.
#[test]
fn build_with_no_arguments_runs_the_whole_default_pipeline_deterministically() {
    let d = TestDir::new();
    let lid = data_dir().join("lid/lid.176.ftz");
    let run = |dir: &std::path::Path| {
        std::fs::create_dir_all(dir).unwrap();
        let out = quarry()
            .current_dir(dir)
            .env("QUARRY_LID_MODEL", &lid)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let a = d.path().join("a");
    let b = d.path().join("b");
    let log = run(&a);
    run(&b);
    let qa = a.join("quarry-out");
    let qb = b.join("quarry-out");
    for sub in ["input", "corpus/shards", "dedup/shards", "tokens"] {
        let x: Vec<_> = shard_bytes(&qa.join(sub))
            .into_iter()
            .filter(|(n, _)| n != "manifest.json")
            .collect();
        let y: Vec<_> = shard_bytes(&qb.join(sub))
            .into_iter()
            .filter(|(n, _)| n != "manifest.json")
            .collect();
        assert!(!x.is_empty(), "{sub} is empty");
        assert_eq!(x, y, "{sub} differs between two runs");
    }
    assert_eq!(
        std::fs::read(qa.join("tokenizer.json")).unwrap(),
        std::fs::read(qb.join("tokenizer.json")).unwrap()
    );

    // The funnel adds up, every stage did real work, and dedup removed planted duplicates.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(qa.join("corpus/manifest.json")).unwrap()).unwrap();
    let names: Vec<&str> = m["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "license",
            "url_filter",
            "extract",
            "language_id",
            "gopher_repetition",
            "gopher_quality",
            "c4_quality",
            "fineweb_quality",
            "pii"
        ]
    );
    assert_eq!(m["inputs"].as_array().unwrap().len(), 4);
    let stage = |name: &str| {
        m["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
            .clone()
    };
    assert!(
        stage("language_id")["dropped"]["language"]
            .as_u64()
            .unwrap()
            > 100,
        "{log}"
    );
    assert!(
        stage("gopher_repetition")["dropped"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>()
            > 10
    );
    let dm: serde_json::Value =
        serde_json::from_slice(&std::fs::read(qa.join("dedup/manifest.json")).unwrap()).unwrap();
    assert_eq!(dm["stages"][0]["in"], stage("pii")["kept"]);

    // License tags on the kept documents agree with the sample's ground truth: every page whose
    // markup declares a CC license gets exactly that SPDX id, and no other page is classed open.
    let truth: std::collections::HashMap<String, serde_json::Value> =
        std::fs::read_to_string(qa.join("input/truth.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["url"].as_str().unwrap().to_string(), v)
            })
            .collect();
    let (mut cc, mut cc_ok, mut false_open) = (0, 0, 0);
    for d in shard_docs(&qa.join("corpus/shards")) {
        let md = &d["metadata"];
        let t = &truth[md["url"].as_str().unwrap()];
        match t["license"].as_str() {
            Some(l) if l.starts_with("CC") => {
                cc += 1;
                cc_ok += (md["license"].as_str() == Some(l)) as usize;
            }
            _ => false_open += (md["license_class"] == "open") as usize,
        }
    }
    assert!(cc > 50, "{cc} CC-licensed pages");
    // The manifest counts the written documents per license class and language.
    let written: u64 = stage("pii")["kept"].as_u64().unwrap();
    for key in ["language", "license_class"] {
        let sum: u64 = m["metadata_counts"][key]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(sum, written, "{key}");
    }
    assert_eq!(
        m["metadata_counts"]["language"]["en"].as_u64().unwrap(),
        written
    );
    let classes = &m["metadata_counts"]["license_class"];
    let cc_classes = classes["open"].as_u64().unwrap_or(0) + classes["nc-nd"].as_u64().unwrap_or(0);
    assert!(cc_classes >= cc as u64, "{classes}");
    assert_eq!(cc_ok, cc, "license tags vs ground truth");
    assert_eq!(false_open, 0);
    assert!(
        dm["stages"][1]["dropped"]["minhash_duplicate"]
            .as_u64()
            .unwrap()
            > 5
    );
    let removed = std::fs::read_to_string(qa.join("dedup/removed.txt")).unwrap();
    let dropped_total: u64 = dm["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["in"].as_u64().unwrap() - s["kept"].as_u64().unwrap())
        .sum();
    assert_eq!(removed.lines().count() as u64, dropped_total);
    let tm: serde_json::Value =
        serde_json::from_slice(&std::fs::read(qa.join("tokens/manifest.json")).unwrap()).unwrap();
    assert_eq!(tm["stats"]["documents"], dm["stages"][1]["kept"]);

    // A short training run on the build's token shards.
    let out = quarry()
        .current_dir(&a)
        .args([
            "train",
            "--data",
            "quarry-out/tokens",
            "--tokenizer",
            "quarry-out/tokenizer.json",
            "--steps",
            "4",
            "--out",
            "run",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["steps"], 4);
    assert!(summary["final_loss"].as_f64().unwrap().is_finite());
    let h = summary["unigram_entropy"].as_f64().unwrap();
    assert!(h > 1.0 && h < 10.0, "unigram entropy {h}");
    assert!(a.join("run/hf/config.json").exists());
    // The run manifest names every input and output by a digest that matches the file.
    let sha = |p: std::path::PathBuf| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(&p).unwrap()))
    };
    let rm: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("run/manifest.json")).unwrap()).unwrap();
    assert_eq!(rm["kind"], "quarry-train/1");
    assert_eq!(
        rm["config_sha256"].as_str().unwrap(),
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            rm["config"].as_str().unwrap().as_bytes()
        ))
    );
    assert_eq!(
        rm["tokenizer"]["sha256"].as_str().unwrap(),
        sha(a.join("quarry-out/tokenizer.json"))
    );
    let shards = rm["shards"].as_array().unwrap();
    assert!(!shards.is_empty());
    for s in shards {
        let p = a.join(s["path"].as_str().unwrap());
        assert_eq!(s["sha256"].as_str().unwrap(), sha(p.clone()));
        assert_eq!(
            s["bytes"].as_u64().unwrap(),
            std::fs::metadata(&p).unwrap().len()
        );
    }
    let cks = rm["checkpoints"].as_array().unwrap();
    let last = cks.last().unwrap();
    assert_eq!(last["step"], 4);
    assert_eq!(
        last["sha256"].as_str().unwrap(),
        sha(a
            .join("run")
            .join(last["path"].as_str().unwrap())
            .join("model.safetensors"))
    );
    assert_eq!(
        rm["metrics"]["sha256"].as_str().unwrap(),
        sha(a.join("run/metrics.jsonl"))
    );
    assert_eq!(rm["final"]["step"], 4);
    assert_eq!(rm["final"]["unigram_entropy"], summary["unigram_entropy"]);
    assert_eq!(rm["final"]["train_loss"], summary["final_loss"]);
    // The loss-curve plot, as SVG and PNG.
    let svg = std::fs::read_to_string(a.join("run/loss.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("</svg>"));
    let png = std::fs::read(a.join("run/loss.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    // The training run joins the release's lineage: the card names its checkpoints, and
    // `quarry lineage verify` re-hashes everything from the raw WARCs to the weights.
    let out = quarry()
        .current_dir(&a)
        .args([
            "card",
            "--corpus",
            "quarry-out/dedup",
            "--tokens",
            "quarry-out/tokens",
            "--train",
            "run",
            "--out",
            "quarry-out",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let card = std::fs::read_to_string(qa.join("README.md")).unwrap();
    assert!(card.contains("## Training runs"), "{card}");
    let lineage = std::fs::read_to_string(qa.join("lineage.json")).unwrap();
    assert!(lineage.contains(last["sha256"].as_str().unwrap()));
    let out = quarry()
        .args(["lineage", "verify"])
        .arg(&qa)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The checkpoint exported as a Hugging Face folder with the corpus tokenizer.
    let out = quarry()
        .current_dir(&a)
        .args([
            "export",
            "--checkpoint",
            "run/checkpoints",
            "--out",
            "hf",
            "--tokenizer",
            "quarry-out/tokenizer.json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("hf/config.json")).unwrap()).unwrap();
    assert_eq!(cfg["architectures"][0], "OlmoeForCausalLM");
    assert!(a.join("hf/model.safetensors").exists());
    // Lineage joins: the export names the checkpoint digest the run manifest lists.
    let q: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("hf/quarry.json")).unwrap()).unwrap();
    assert_eq!(q["checkpoint"]["sha256"], last["sha256"]);
    assert_eq!(q["checkpoint"]["step"], 4);
    assert_eq!(
        q["model_sha256"].as_str().unwrap(),
        sha(a.join("hf/model.safetensors"))
    );
    assert_eq!(
        std::fs::read(a.join("hf/tokenizer.json")).unwrap(),
        std::fs::read(a.join("quarry-out/tokenizer.json")).unwrap()
    );
}

/// `quarry filter` drops by default, and with --annotate keeps every document and records each
/// verdict; the two modes agree document by document.
#[test]
fn filter_drops_or_annotates_with_the_same_verdicts() {
    let d = TestDir::new();
    let docs = data_dir()
        .join("text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz");
    let run = |out: &str, extra: &[&str]| {
        let o = quarry()
            .args([
                "filter",
                "--filters",
                "gopher_quality",
                "--format",
                "jsonl",
                "-i",
            ])
            .arg(&docs)
            .arg("-o")
            .arg(d.path().join(out))
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(
            &std::fs::read(d.path().join(out).join("manifest.json")).unwrap(),
        )
        .unwrap()
    };
    let dropped = run("drop", &[]);
    let annotated = run("ann", &["--annotate"]);
    assert_eq!(annotated["stages"][0]["kept"], 697);
    let n_dropped = 697 - dropped["stages"][0]["kept"].as_u64().unwrap();
    assert!(n_dropped > 50, "{n_dropped}");
    let mut flagged = 0;
    for v in shard_docs(&d.path().join("ann/shards")) {
        if v["metadata"]["gopher_quality_keep"] == false {
            flagged += 1;
            assert!(v["metadata"]["gopher_quality_reason"]
                .as_str()
                .unwrap()
                .starts_with("gopher_"));
        }
    }
    assert_eq!(flagged, n_dropped);
}

/// `quarry classifier train` on real CC documents (positives) against the synthetic sample crawl
/// (negatives), then the `quality_classifier` stage on held-out documents of both kinds.
#[test]
fn quality_classifier_separates_held_out_documents() {
    use std::io::{BufRead, Write};
    let d = TestDir::new();
    let src = data_dir()
        .join("text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz");
    let lines: Vec<String> = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(
        std::fs::File::open(src).unwrap(),
    ))
    .lines()
    .map(|l| l.unwrap())
    .collect();
    for (name, part) in [
        ("pos-train.jsonl", &lines[..450]),
        ("pos-eval.jsonl", &lines[450..]),
    ] {
        let mut f = std::fs::File::create(d.path().join(name)).unwrap();
        for l in part {
            writeln!(f, "{l}").unwrap();
        }
    }
    for (seed, name) in [("1", "neg-train"), ("2", "neg-eval")] {
        let o = quarry()
            .args(["sample", "--docs", "400", "--seed", seed, "-o"])
            .arg(d.path().join(name))
            .output()
            .unwrap();
        assert!(o.status.success());
        let o = quarry()
            .args(["extract", "--no-progress", "-i"])
            .arg(d.path().join(name).join("sample-00000.warc.gz"))
            .arg("-o")
            .arg(d.path().join(format!("{name}-text")))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let model = d.path().join("quality.bin");
    let o = quarry()
        .args([
            "classifier",
            "train",
            "--epoch",
            "20",
            "--lr",
            "0.5",
            "--pos",
        ])
        .arg(d.path().join("pos-train.jsonl"))
        .arg("--neg")
        .arg(d.path().join("neg-train-text/shards"))
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let kept_with = |input: std::path::PathBuf, out: &str, rule: &str| -> (u64, u64) {
        let r = d.write(
            &format!("{out}.toml"),
            &format!(
                "[input]\npaths = [{:?}]\n[output]\npath = {:?}\nformat = \"null\"\n[[stages]]\ntype = \"quality_classifier\"\nmodel = {:?}\n{rule}\n",
                input.display().to_string(),
                d.path().join(out).display().to_string(),
                model.display().to_string()
            ),
        );
        let o = quarry().arg("run").arg(&r).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let m: serde_json::Value = serde_json::from_slice(
            &std::fs::read(d.path().join(out).join("manifest.json")).unwrap(),
        )
        .unwrap();
        (
            m["stages"][0]["kept"].as_u64().unwrap(),
            m["stages"][0]["in"].as_u64().unwrap(),
        )
    };
    let kept = |input, out: &str| kept_with(input, out, "threshold = 0.5");
    let (pk, pn) = kept(d.path().join("pos-eval.jsonl"), "pos-out");
    let (nk, nn) = kept(d.path().join("neg-eval-text/shards"), "neg-out");
    assert!(
        pk as f64 / pn as f64 > 0.9,
        "real documents kept: {pk}/{pn}"
    );
    assert!(
        (nk as f64 / nn as f64) < 0.1,
        "synthetic documents kept: {nk}/{nn}"
    );

    // Top-fraction rule: calibrate on the held-out synthetic documents, then the stage keeps that
    // fraction of them (the calibration's own count, exactly).
    let cal = d.path().join("calibration.json");
    let o = quarry()
        .args([
            "classifier",
            "calibrate",
            "--top-fraction",
            "0.3",
            "--model",
        ])
        .arg(&model)
        .arg("--input")
        .arg(d.path().join("neg-eval-text/shards"))
        .arg("--out")
        .arg(&cal)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c: serde_json::Value = serde_json::from_slice(&std::fs::read(&cal).unwrap()).unwrap();
    assert_eq!(c["documents"].as_u64().unwrap(), nn);
    let (tk, tn) = kept_with(
        d.path().join("neg-eval-text/shards"),
        "neg-top",
        &format!("calibration = {:?}", cal.display().to_string()),
    );
    assert_eq!(tn, nn);
    assert_eq!(tk, c["kept"].as_u64().unwrap());
    assert!(
        tk as f64 <= 0.3 * tn as f64 && tk as f64 >= 0.2 * tn as f64,
        "{tk}/{tn}"
    );
}
