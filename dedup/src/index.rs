//! Incremental dedup: a persistent index of earlier crawls' kept documents, matched by stage 2 of a
//! later crawl's run.
//!
//! ```text
//! <index>/index.json                       methods (folder, fingerprint, buckets, key width, keys
//!                                          per bucket) and the dedup runs it was built from
//! <index>/minhash-5g14x8-s1-xxh3/003.bin   band 3: sorted, distinct keys (format kind 5)
//! <index>/exact-text-lnpwd-p16/007.bin     hash partition 7
//! ```
//!
//! [`build_index`] reads a finished dedup folder (the `work/` folder of `quarry dedup`, or a
//! [`run_local`](crate::run_local) output): per method and bucket it merges all tasks' sorted bucket
//! files, skips the documents the run removed (by any method), and writes the distinct keys of the
//! kept ones. Given an existing index it merges the old keys in as one more sorted input, so an index
//! extended crawl after crawl stays one sorted run per bucket. Memory is the merge's read buffers
//! plus the removed documents' (task, order) set.
//!
//! A dedup run with `index` set ([`DedupPlan::index`](crate::DedupPlan)) merges the index's file of a
//! bucket into stage 2 ([`crate::merge::find_pairs_with_index`]); a document whose key is in the index
//! joins the "earlier crawl" node, and its whole cluster is removed with the reason
//! `<reason>_of_index`. Each index file carries the method's settings fingerprint in its header, and
//! an index built under other settings (another folder name) is refused.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::DedupError;
use crate::exact::ExactConfig;
use crate::format::{write_atomic, AtomicWriter, BucketReader, BucketRecord, Header, Kind};
use crate::layout::Layout;
use crate::merge::{merge_readers, reduce_fan_in, MergeLimits};
use crate::minhash::minhash_dir;
use crate::staged::Method;
use crate::MinhashConfig;

/// One method of an index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexMethod {
    /// `exact` or `minhash`.
    pub method: Method,
    /// The method folder's name (its configuration tag), e.g. `minhash-5g14x8-s1-xxh3`.
    pub folder: String,
    /// Settings fingerprint (hex), also in every file header.
    pub fingerprint: String,
    /// Buckets (bands or hash partitions).
    pub buckets: usize,
    /// Key width in u64 words.
    pub width: usize,
    /// Distinct keys per bucket.
    pub keys: Vec<u64>,
}

/// One dedup run added to an index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexSource {
    /// The dedup folder it was read from.
    pub from: String,
    /// Documents the run's first method saw.
    pub docs: u64,
    /// Documents it kept (whose keys went into the index).
    pub kept: u64,
}

/// `index.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexManifest {
    /// Format version (1).
    pub version: u32,
    /// Methods, in dedup order (exact first).
    pub methods: Vec<IndexMethod>,
    /// Dedup runs folded in, oldest first.
    pub sources: Vec<IndexSource>,
}

/// The index file of one bucket of one method folder.
pub fn index_file(index: &Path, folder: &str, bucket: usize) -> PathBuf {
    index.join(folder).join(format!("{bucket:03}.bin"))
}

/// Reads `index.json`.
pub fn read_manifest(index: &Path) -> Result<IndexManifest, DedupError> {
    let p = index.join("index.json");
    let b = std::fs::read(&p).map_err(|e| {
        DedupError::io(
            &p,
            std::io::Error::new(
                e.kind(),
                format!("{e} (not a dedup index: build one with `quarry dedup index`)"),
            ),
        )
    })?;
    serde_json::from_slice(&b).map_err(|e| DedupError::Format {
        path: p,
        message: e.to_string(),
    })
}

/// The index files of `folder`'s bucket `bucket` in each of `indexes`; an error if an index has no
/// such folder (built under other settings, or without this method).
pub fn index_files(
    indexes: &[PathBuf],
    folder: &str,
    bucket: usize,
) -> Result<Vec<PathBuf>, DedupError> {
    let mut out = Vec::new();
    for idx in indexes {
        let m = read_manifest(idx)?;
        let Some(im) = m.methods.iter().find(|x| x.folder == folder) else {
            let have: Vec<&str> = m.methods.iter().map(|x| x.folder.as_str()).collect();
            return Err(DedupError::Config(format!(
                "index {} was built under other dedup settings: it has {have:?}, this run needs \
                 `{folder}` (same method and settings as the run that built it)",
                idx.display()
            )));
        };
        if bucket >= im.buckets {
            return Err(DedupError::Config(format!(
                "index {} has {} buckets for {folder}, bucket {bucket} asked",
                idx.display(),
                im.buckets
            )));
        }
        out.push(index_file(idx, folder, bucket));
    }
    Ok(out)
}

/// What [`build_index`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexReport {
    /// Documents of the added run (first method).
    pub docs: u64,
    /// Of them, kept (indexed).
    pub kept: u64,
    /// Distinct keys per method folder after the merge.
    pub keys: Vec<(String, u64)>,
}

struct Found {
    method: Method,
    folder: String,
    fingerprint: u64,
    buckets: usize,
}

fn method_folders(work: &Path) -> Result<Vec<Found>, DedupError> {
    let mut out = Vec::new();
    let rd = std::fs::read_dir(work).map_err(|e| DedupError::io(work, e))?;
    let mut names: Vec<String> = rd
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let cfg_path = work.join(&name).join("config.json");
        if !cfg_path.exists() {
            continue;
        }
        let bytes = std::fs::read(&cfg_path).map_err(|e| DedupError::io(&cfg_path, e))?;
        let bad = |e: serde_json::Error| DedupError::Format {
            path: cfg_path.clone(),
            message: e.to_string(),
        };
        let found = if name.starts_with("exact-") {
            let c: ExactConfig = serde_json::from_slice(&bytes).map_err(bad)?;
            Found {
                method: Method::Exact,
                folder: crate::exact::exact_dir(Path::new(""), &c)
                    .display()
                    .to_string(),
                fingerprint: c.fingerprint(),
                buckets: c.partitions,
            }
        } else if name.starts_with("minhash-") {
            let c: MinhashConfig = serde_json::from_slice(&bytes).map_err(bad)?;
            Found {
                method: Method::Minhash,
                folder: minhash_dir(Path::new(""), &c).display().to_string(),
                fingerprint: c.fingerprint(),
                buckets: c.bands,
            }
        } else {
            continue;
        };
        if found.folder != name {
            return Err(DedupError::Format {
                path: cfg_path,
                message: format!("config.json describes `{}`, not this folder", found.folder),
            });
        }
        out.push(found);
    }
    // exact first, as the dedup runs them
    out.sort_by_key(|f| f.method != Method::Exact);
    if out.is_empty() {
        return Err(DedupError::Input(format!(
            "{} holds no dedup method folder (exact-*/minhash-* with config.json): give the \
             `work` folder of a finished `quarry dedup` run",
            work.display()
        )));
    }
    Ok(out)
}

/// `(task << 32) | order` of every document the run removed, per method folder (each numbers its
/// own documents), and the run's document counts.
fn removed_nodes(work: &Path, found: &[Found]) -> Result<(Vec<Vec<u64>>, u64, u64), DedupError> {
    // ids removed by any method, per task
    let mut removed_ids: Vec<HashSet<String>> = Vec::new();
    for f in found {
        let layout = Layout::new(work.join(&f.folder));
        for task in layout.tasks()? {
            let p = layout.task_clusters(task);
            let s = std::fs::read_to_string(&p).map_err(|e| {
                DedupError::io(
                    &p,
                    std::io::Error::new(
                        e.kind(),
                        format!("{e} (the dedup run's clustering is not finished)"),
                    ),
                )
            })?;
            if removed_ids.len() <= task {
                removed_ids.resize_with(task + 1, HashSet::new);
            }
            for (i, line) in s.lines().enumerate() {
                let m: crate::cluster::Membership =
                    serde_json::from_str(line).map_err(|e| DedupError::Format {
                        path: p.clone(),
                        message: format!("line {}: {e}", i + 1),
                    })?;
                if !m.keep {
                    removed_ids[task].insert(m.id);
                }
            }
        }
    }
    let mut per_method = Vec::new();
    let (mut docs, mut removed) = (0u64, 0u64);
    for (k, f) in found.iter().enumerate() {
        let layout = Layout::new(work.join(&f.folder));
        let mut nodes = Vec::new();
        for task in layout.tasks()? {
            let ids = layout.read_ids(task)?;
            if k == 0 {
                docs += ids.len() as u64;
            }
            let Some(r) = removed_ids.get(task) else {
                continue;
            };
            if k == 0 {
                removed += r.len() as u64;
            }
            for (ord, id) in ids.iter().enumerate() {
                if r.contains(id) {
                    nodes.push(((task as u64) << 32) | ord as u64);
                }
            }
        }
        nodes.sort_unstable();
        per_method.push(nodes);
    }
    Ok((per_method, docs, docs - removed.min(docs)))
}

/// Writes the index file of bucket `b` of method `f`: the distinct keys of the run's kept documents,
/// merged with the old file when `extend`; returns (keys, key width).
fn index_bucket(
    layout: &Layout,
    f: &Found,
    b: usize,
    out: &Path,
    extend: bool,
    removed: &[u64],
    limits: &MergeLimits,
) -> Result<(u64, usize), DedupError> {
    let mut files = Vec::new();
    for t in layout.tasks()? {
        let p = layout.bucket(b, t);
        if !p.exists() {
            return Err(DedupError::Input(format!(
                "{}: missing (stage 1 of this dedup run is not finished)",
                p.display()
            )));
        }
        files.push(p);
    }
    let width = match files.first() {
        Some(p) => BucketReader::open(p, f.fingerprint, 4096)?.width(),
        None => 0,
    };
    let target = index_file(out, &f.folder, b);
    let mut readers = Vec::new();
    if extend {
        readers.push(BucketReader::open_index(&target, f.fingerprint, 1 << 20)?);
    }
    let width = if width == 0 {
        readers.first().map(|r| r.width()).unwrap_or(0)
    } else {
        width
    };
    let run_dir = out.join(&f.folder).join(format!("runs-{b:03}"));
    let mut runs = 0;
    let files = reduce_fan_in(files, &run_dir, width, f.fingerprint, limits, &mut runs)?;
    let buf = (limits.memory_budget / (files.len() + 1)).clamp(4096, 1 << 20);
    for p in &files {
        readers.push(BucketReader::open(p, f.fingerprint, buf)?);
    }
    let n_old = usize::from(extend);
    let mut w = AtomicWriter::with_header(
        &target,
        Header {
            kind: Kind::Index,
            width: width as u32,
            fingerprint: f.fingerprint,
        },
    )?;
    let mut last: Option<Vec<u64>> = None;
    let mut n = 0u64;
    let mut bytes = Vec::with_capacity(width * 8);
    merge_readers(readers, |r: &BucketRecord, src| {
        if src >= n_old {
            let node = ((r.task as u64) << 32) | r.ord as u64;
            if removed.binary_search(&node).is_ok() {
                return Ok(());
            }
        }
        if last.as_deref() == Some(r.key.as_slice()) {
            return Ok(());
        }
        bytes.clear();
        for k in &r.key {
            bytes.extend_from_slice(&k.to_le_bytes());
        }
        n += 1;
        match &mut last {
            Some(l) => l.clone_from(&r.key),
            None => last = Some(r.key.clone()),
        }
        w.write(&bytes)
    })?;
    w.finish()?;
    if run_dir.exists() {
        let _ = std::fs::remove_dir_all(&run_dir);
    }
    Ok((n, width))
}

/// Builds an index at `out` from the finished dedup folder `work`, or adds `work`'s kept documents
/// to the index already at `out` (which must have been built under the same settings).
pub fn build_index(
    work: &Path,
    out: &Path,
    limits: &MergeLimits,
) -> Result<IndexReport, DedupError> {
    let found = method_folders(work)?;
    let old = if out.join("index.json").exists() {
        Some(read_manifest(out)?)
    } else {
        None
    };
    if let Some(old) = &old {
        let have: Vec<&str> = old.methods.iter().map(|m| m.folder.as_str()).collect();
        let new: Vec<&str> = found.iter().map(|f| f.folder.as_str()).collect();
        if have != new {
            return Err(DedupError::Config(format!(
                "index {} was built under other dedup settings ({have:?}); {} has {new:?}",
                out.display(),
                work.display()
            )));
        }
    }
    let (removed, docs, kept) = removed_nodes(work, &found)?;
    let mut report = IndexReport {
        docs,
        kept,
        keys: Vec::new(),
    };
    let mut methods = Vec::new();
    for (f, removed) in found.iter().zip(&removed) {
        let layout = Layout::new(work.join(&f.folder));
        // buckets are independent: one merge per bucket, in parallel
        let per_bucket = (0..f.buckets)
            .into_par_iter()
            .map(|b| index_bucket(&layout, f, b, out, old.is_some(), removed, limits))
            .collect::<Result<Vec<(u64, usize)>, DedupError>>()?;
        let keys: Vec<u64> = per_bucket.iter().map(|k| k.0).collect();
        let width_all = per_bucket.iter().map(|k| k.1).max().unwrap_or(0);
        report
            .keys
            .push((f.folder.clone(), keys.iter().sum::<u64>()));
        methods.push(IndexMethod {
            method: f.method,
            folder: f.folder.clone(),
            fingerprint: format!("{:016x}", f.fingerprint),
            buckets: f.buckets,
            width: width_all,
            keys,
        });
    }
    let mut sources = old.map(|o| o.sources).unwrap_or_default();
    sources.push(IndexSource {
        from: work.display().to_string(),
        docs,
        kept,
    });
    let manifest = IndexManifest {
        version: 1,
        methods,
        sources,
    };
    write_atomic(
        &out.join("index.json"),
        &serde_json::to_vec_pretty(&manifest).expect("manifest serialises"),
    )?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_text::text;
    use crate::{run_local, DedupPlan, ExactConfig, MinhashConfig};
    use quarry_corpus::{Document, Step, Verdict};

    fn doc(id: &str, text: String, off: u64) -> Document {
        let mut d = Document::new(id, text);
        d.source.offset = off;
        d
    }

    fn plan(index: Vec<PathBuf>) -> DedupPlan {
        DedupPlan {
            exact: Some(ExactConfig::default()),
            minhash: Some(MinhashConfig::default()),
            index,
            ..Default::default()
        }
    }

    fn run(docs: &[Vec<Document>], dir: &Path, index: Vec<PathBuf>) -> crate::LocalReport {
        run_local(
            &plan(index),
            docs.len(),
            |t| Ok(docs[t].clone().into_iter()),
            dir,
        )
        .unwrap()
    }

    /// Every document's verdict after both filters.
    fn verdicts(docs: &[Vec<Document>], dir: &Path) -> Vec<(String, Verdict)> {
        let p = plan(Vec::new());
        let mut out = Vec::new();
        for (t, task) in docs.iter().enumerate() {
            let mut e = crate::exact_filter(dir, p.exact.as_ref().unwrap()).unwrap();
            let mut m = crate::minhash_filter(dir, p.minhash.as_ref().unwrap()).unwrap();
            e.load_task(t).unwrap();
            m.load_task(t).unwrap();
            for d in task {
                let mut d = d.clone();
                let v = match e.process(&mut d) {
                    Verdict::Keep => m.process(&mut d),
                    v => v,
                };
                out.push((d.id.clone(), v));
            }
        }
        out
    }

    #[test]
    fn a_later_crawl_loses_exactly_its_copies_of_indexed_documents() {
        // crawl A: 6 documents, one intra-A near copy (a5 of a0)
        let a = vec![
            vec![
                doc("a0", text(0), 0),
                doc("a1", text(1), 1),
                doc("a2", text(2), 2),
            ],
            vec![
                doc("a3", text(3), 0),
                doc("a4", text(4), 1),
                doc("a5", format!("{} tail", text(0)), 2),
            ],
        ];
        let dir = tempfile::tempdir().unwrap();
        let (wa, idx) = (dir.path().join("a"), dir.path().join("index"));
        let ra = run(&a, &wa, Vec::new());
        assert_eq!((ra.exact_removed, ra.minhash_removed), (0, 1));
        let rep = build_index(&wa, &idx, &MergeLimits::default()).unwrap();
        assert_eq!((rep.docs, rep.kept), (6, 5));
        let m = read_manifest(&idx).unwrap();
        assert_eq!(m.methods.len(), 2);
        assert_eq!(m.methods[1].keys, vec![5; 14], "5 kept documents per band");

        // crawl B: exact copy of a1 (upper-cased), near copy of a2, near copy of the removed a5
        // (still near a0), its own near pair b3/b4, and new b5.
        let b = vec![
            vec![
                doc("b0", text(1).to_uppercase(), 0),
                doc("b1", format!("{} extra words", text(2)), 1),
                doc("b2", format!("{} tail more", text(0)), 2),
            ],
            vec![
                doc("b3", text(10), 0),
                doc("b4", format!("{} x", text(10)), 1),
                doc("b5", text(11), 2),
            ],
        ];
        let wb = dir.path().join("b");
        let rb = run(&b, &wb, vec![idx.clone()]);
        assert_eq!(
            (rb.exact_removed, rb.minhash_removed, rb.kept),
            (1, 3, 2),
            "{rb:?}"
        );
        let v = verdicts(&b, &wb);
        assert_eq!(
            v,
            vec![
                ("b0".into(), Verdict::drop("exact_duplicate_of_index")),
                ("b1".into(), Verdict::drop("minhash_duplicate_of_index")),
                ("b2".into(), Verdict::drop("minhash_duplicate_of_index")),
                ("b3".into(), Verdict::Keep),
                ("b4".into(), Verdict::drop("minhash_duplicate")),
                ("b5".into(), Verdict::Keep),
            ]
        );
        let clusters = std::fs::read_to_string(wb.join("clusters.jsonl")).unwrap();
        assert!(clusters.contains(r#""index":true"#), "{clusters}");
        // without the index, B alone keeps its copies of A
        let wb2 = dir.path().join("b2");
        let rb2 = run(&b, &wb2, Vec::new());
        assert_eq!((rb2.exact_removed, rb2.minhash_removed), (0, 1));

        // extend the index with B's kept documents; crawl C repeats b5 and a4
        let rep = build_index(&wb, &idx, &MergeLimits::default()).unwrap();
        assert_eq!((rep.docs, rep.kept), (6, 2));
        let m = read_manifest(&idx).unwrap();
        assert_eq!(m.sources.len(), 2);
        assert_eq!(m.methods[1].keys, vec![7; 14]);
        let c = vec![vec![
            doc("c0", text(11), 0),
            doc("c1", format!("{} again", text(4)), 1),
            doc("c2", text(12), 2),
        ]];
        let wc = dir.path().join("c");
        let rc = run(&c, &wc, vec![idx.clone()]);
        assert_eq!((rc.exact_removed, rc.minhash_removed, rc.kept), (1, 1, 1));
        // the index files stay sorted and distinct (the merge checks the order when read)
        let wc2 = dir.path().join("c2");
        run(&c, &wc2, vec![idx.clone(), idx.clone()]);

        // other settings are refused, not silently matched
        let other = DedupPlan {
            minhash: Some(MinhashConfig::builder().bands(20, 5).build().unwrap()),
            ..Default::default()
        };
        let wx = dir.path().join("x");
        run_local(&other, 1, |t| Ok(c[t].clone().into_iter()), &wx).unwrap();
        let e = build_index(&wx, &idx, &MergeLimits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("other dedup settings"), "{e}");
        let other = DedupPlan {
            index: vec![idx.clone()],
            ..other
        };
        let e = run_local(&other, 1, |t| Ok(c[t].clone().into_iter()), &wx)
            .unwrap_err()
            .to_string();
        assert!(e.contains("other dedup settings"), "{e}");
        // a tampered header (fingerprint) is refused when read
        let f = index_file(&idx, &m.methods[1].folder, 0);
        let mut bytes = std::fs::read(&f).unwrap();
        bytes[24] ^= 1;
        std::fs::write(&f, bytes).unwrap();
        let e = run_local(
            &plan(vec![idx.clone()]),
            1,
            |t| Ok(c[t].clone().into_iter()),
            &wc,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("other dedup settings"), "{e}");
    }

    /// Stage by stage (as the `quarry dedup signatures|buckets|cluster` subcommands run it) with an
    /// index gives the same removals as `run_local`.
    #[test]
    fn staged_run_with_an_index_equals_run_local() {
        let a = vec![vec![doc("a0", text(0), 0), doc("a1", text(1), 1)]];
        let b = vec![
            vec![
                doc("b0", text(1), 0),
                doc("b1", format!("{} more", text(0)), 1),
            ],
            vec![
                doc("b2", text(5), 0),
                doc("b3", format!("{} x", text(5)), 1),
            ],
        ];
        let dir = tempfile::tempdir().unwrap();
        let idx = dir.path().join("index");
        run(&a, &dir.path().join("a"), Vec::new());
        build_index(&dir.path().join("a"), &idx, &MergeLimits::default()).unwrap();
        let local = dir.path().join("local");
        let rep = run(&b, &local, vec![idx.clone()]);
        assert_eq!((rep.exact_removed, rep.minhash_removed), (1, 2));
        let staged_dir = dir.path().join("staged");
        let s = crate::Staged::new(plan(vec![idx.clone()]), &staged_dir).unwrap();
        for m in s.methods() {
            for t in 0..b.len() {
                s.signatures(m, t, b.len(), b[t].clone().into_iter())
                    .unwrap();
            }
            for k in 0..s.buckets(m).unwrap() {
                s.bucket(m, k).unwrap();
            }
            s.cluster(m).unwrap();
        }
        s.finish().unwrap();
        for f in ["removed.txt", "clusters.jsonl"] {
            assert_eq!(
                std::fs::read_to_string(staged_dir.join(f)).unwrap(),
                std::fs::read_to_string(local.join(f)).unwrap(),
                "{f}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(local.join("removed.txt")).unwrap(),
            "b0\nb1\nb3\n"
        );
    }

    #[test]
    fn verification_with_an_index_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = DedupPlan {
            minhash: Some(
                MinhashConfig::builder()
                    .verify(crate::VerifyMode::Exact, 0.5)
                    .build()
                    .unwrap(),
            ),
            index: vec![dir.path().join("idx")],
            ..Default::default()
        };
        let docs = [vec![doc("a", text(1), 0)]];
        let e = run_local(&p, 1, |t| Ok(docs[t].clone().into_iter()), dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("verif"), "{e}");
    }
}
