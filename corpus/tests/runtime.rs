//! The runtime on real JSONL input: task splitting, counts, determinism across thread counts and
//! task counts, reruns.

use std::path::{Path, PathBuf};

use quarry_corpus::manifest::BuildInfo;
use quarry_corpus::step::{table_get, StepRegistry};
use quarry_corpus::{Document, Pipeline, RunOptions, Step, StepError, Verdict};

fn data_dir() -> PathBuf {
    std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}

/// Drops documents shorter than `min_chars`; tags the rest with their length.
struct MinChars(usize);
impl Step for MinChars {
    fn name(&self) -> &str {
        "min_chars"
    }
    fn process(&self, doc: &mut Document) -> Verdict {
        let n = doc.text.chars().count();
        if n < self.0 {
            return Verdict::drop("too_short");
        }
        doc.set_meta("chars", n);
        Verdict::Keep
    }
}

fn registry() -> StepRegistry {
    let mut r = StepRegistry::new();
    r.register("min_chars", "drop short docs", |t| {
        Ok(Box::new(MinChars(
            table_get::<usize>("min_chars", t, "min")?.ok_or_else(|| StepError::Config {
                step: "min_chars".into(),
                message: "`min` is required".into(),
            })?,
        )))
    });
    r
}

fn recipe(out: &Path, tasks: usize, inputs: &[PathBuf]) -> String {
    let paths: Vec<String> = inputs
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    format!(
        "[input]\npaths = [{}]\n[output]\npath = {:?}\nmax_shard_bytes = 200000\n[run]\ntasks = {tasks}\nbatch_size = 64\n[[stages]]\ntype = \"min_chars\"\nmin = 2000\n",
        paths.join(", "),
        out.display().to_string()
    )
}

fn shard_bytes(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(out.join("shards"))
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Splits the real 697-document dolma file into three inputs (one of them zstd) so tasks have work.
fn split_inputs(dir: &Path) -> Vec<PathBuf> {
    use std::io::{BufRead, Write};
    let src = data_dir()
        .join("text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz");
    let f = std::fs::File::open(src).unwrap();
    let lines: Vec<String> = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f))
        .lines()
        .map(|l| l.unwrap())
        .collect();
    assert_eq!(lines.len(), 697);
    let mut paths = Vec::new();
    for (i, chunk) in lines.chunks(250).enumerate() {
        let body = chunk.join("\n") + "\n";
        let p = if i == 1 {
            let p = dir.join(format!("in-{i}.jsonl.zst"));
            std::fs::write(&p, zstd::encode_all(body.as_bytes(), 3).unwrap()).unwrap();
            p
        } else {
            let p = dir.join(format!("in-{i}.jsonl.gz"));
            let mut e = flate2::write::GzEncoder::new(
                std::fs::File::create(&p).unwrap(),
                flate2::Compression::default(),
            );
            e.write_all(body.as_bytes()).unwrap();
            e.finish().unwrap();
            p
        };
        paths.push(p);
    }
    // A line of garbage makes one counted error.
    let bad = dir.join("in-3.jsonl");
    std::fs::write(&bad, "{\"id\": \"x\", \"text\": \"short\"}\n{broken\n").unwrap();
    paths.push(bad);
    paths
}

#[test]
fn counts_add_up_and_output_is_independent_of_threads_and_reruns() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = split_inputs(tmp.path());
    let build = BuildInfo {
        version: "test".into(),
        git_commit: "test".into(),
    };

    let out1 = tmp.path().join("out1");
    let p = Pipeline::new(&recipe(&out1, 2, &inputs), registry(), build.clone()).unwrap();
    let o = p.run(&RunOptions::default()).unwrap();
    assert_eq!(o.ran, vec![0, 1]);
    let m = o.merged.expect("all tasks done");
    m.check().unwrap();
    assert_eq!(m.reader.records, 699);
    assert_eq!(m.reader.documents, 698);
    assert_eq!(m.reader.errors, 1);
    assert!(
        m.reader.error_samples[0].contains("in-3.jsonl"),
        "{:?}",
        m.reader.error_samples
    );
    assert_eq!(m.stages[0].input, 698);
    assert!(m.stages[0].kept > 100 && m.stages[0].dropped["too_short"] > 100);
    assert_eq!(m.inputs.len(), 4);
    assert!(m.inputs.iter().all(|i| i.sha256.len() == 64));

    // Same recipe on one thread: identical shards.
    let out2 = tmp.path().join("out2");
    let p2 = Pipeline::new(&recipe(&out2, 2, &inputs), registry(), build.clone()).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| p2.run(&RunOptions::default()).unwrap());
    assert_eq!(shard_bytes(&out1), shard_bytes(&out2));

    // Rerun skips finished tasks; a removed marker redoes that task with identical bytes.
    let o = p.run(&RunOptions::default()).unwrap();
    assert_eq!(o.skipped, vec![0, 1]);
    std::fs::remove_file(out1.join("_markers/task-00001.done")).unwrap();
    let before = shard_bytes(&out1);
    let o = p
        .run(&RunOptions {
            task: Some(1),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(o.ran, vec![1]);
    assert_eq!(shard_bytes(&out1), before);

    // A different recipe into the same folder is refused.
    let other = recipe(&out1, 2, &inputs).replace("min = 2000", "min = 10");
    let e = Pipeline::new(&other, registry(), build)
        .unwrap()
        .run(&RunOptions::default())
        .unwrap_err();
    assert!(e.to_string().contains("different recipe"), "{e}");
}

#[test]
fn bad_recipes_fail_before_work() {
    let e = Pipeline::new(
        "[input]\npaths=['x']\n[output]\npath='o'\n[[stages]]\ntype='nope'\n",
        registry(),
        BuildInfo::default(),
    )
    .err()
    .unwrap();
    assert!(
        e.to_string()
            .contains("unknown stage type `nope`; known types: min_chars"),
        "{e}"
    );
    let e = Pipeline::new(
        "[input]\npaths=['x']\n[output]\npath='o'\n[[stages]]\ntype='min_chars'\n",
        registry(),
        BuildInfo::default(),
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("`min` is required"), "{e}");
}
