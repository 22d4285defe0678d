//! `README.md`: a Hugging Face dataset card (YAML header) whose body follows "Datasheets for
//! Datasets" (Gebru et al.): motivation, composition, collection, preprocessing, uses, distribution,
//! maintenance, then the lineage and training runs.

use std::fmt::Write;

use arrow_schema::Schema;

use crate::card::{human_bytes, pct, size_category, thousands, CardContext};
use crate::sketch::Histogram;
use crate::stats::ValueCount;

/// Rows shown in long tables before pointing at `stats.json` / `lineage.json`.
pub const TABLE_ROWS: usize = 25;

fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

fn hf_dtype(t: &arrow_schema::DataType) -> &'static str {
    use arrow_schema::DataType as D;
    match t {
        D::UInt64 => "uint64",
        D::Int64 => "int64",
        D::UInt32 => "uint32",
        D::Int32 => "int32",
        D::Float64 => "float64",
        D::Float32 => "float32",
        D::Boolean => "bool",
        _ => "string",
    }
}

fn header(cx: &CardContext, schema: &Schema) -> String {
    let s = cx.stats;
    let mut y = String::from("---\n");
    let _ = writeln!(y, "pretty_name: {}", yaml_str(&cx.pretty_name));
    match &cx.options.license {
        Some(l) => {
            let _ = writeln!(y, "license: {}", l.to_ascii_lowercase());
        }
        None => {
            y.push_str("license: other\n");
            y.push_str("license_name: per-document\n");
            y.push_str("license_link: stats.json\n");
        }
    }
    let langs = cx.language_codes();
    if !langs.is_empty() {
        y.push_str("language:\n");
        for l in &langs {
            let _ = writeln!(y, "- {}", yaml_str(l));
        }
    }
    let _ = writeln!(y, "size_categories:\n- {}", size_category(s.documents));
    y.push_str("task_categories:\n- text-generation\ntask_ids:\n- language-modeling\n");
    y.push_str("source_datasets:\n- original\n");
    y.push_str("tags:\n- pretraining\n- web\n- common-crawl\n- quarry\n");
    y.push_str("configs:\n- config_name: default\n  data_files:\n  - split: train\n");
    let _ = writeln!(y, "    path: {}", yaml_str(&cx.shard_glob));
    y.push_str("dataset_info:\n  features:\n");
    for f in schema.fields() {
        let _ = writeln!(
            y,
            "  - name: {}\n    dtype: {}",
            f.name(),
            hf_dtype(f.data_type())
        );
    }
    let _ = writeln!(
        y,
        "  splits:\n  - name: train\n    num_bytes: {}\n    num_examples: {}",
        s.text_bytes, s.documents
    );
    let _ = writeln!(y, "  dataset_size: {}", s.shard_bytes);
    y.push_str("---\n\n");
    y
}

fn table(out: &mut String, head: &[&str], rows: Vec<Vec<String>>) {
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | ").replace('\n', " "));
    }
    out.push('\n');
}

fn counts_table(out: &mut String, what: &str, v: &[ValueCount], total: u64, chars: bool) {
    let mut head = vec![what, "documents", "share"];
    if chars {
        head.push("characters");
    }
    let mut rows: Vec<Vec<String>> = v
        .iter()
        .take(TABLE_ROWS)
        .map(|c| {
            let mut r = vec![
                format!("`{}`", c.value),
                thousands(c.documents),
                pct(c.documents, total),
            ];
            if chars {
                r.push(c.chars.map(thousands).unwrap_or_default());
            }
            r
        })
        .collect();
    if v.len() > TABLE_ROWS {
        let rest: u64 = v[TABLE_ROWS..].iter().map(|c| c.documents).sum();
        let mut r = vec![
            format!("{} more (stats.json)", v.len() - TABLE_ROWS),
            thousands(rest),
            pct(rest, total),
        ];
        if chars {
            r.push(String::new());
        }
        rows.push(r);
    }
    table(out, &head, rows);
}

fn plot(out: &mut String, cx: &CardContext, name: &str) {
    if let Some(p) = cx.plots.iter().find(|p| p.name == name) {
        let _ = writeln!(
            out,
            "![{}](plots/{}.png)\n\n([SVG](plots/{}.svg))\n",
            p.title, p.name, p.name
        );
    }
}

fn dist_line(h: &Histogram, unit: &str) -> String {
    let q = |x: f64| {
        h.quantile_bucket(x)
            .map(|(a, b)| format!("{a:.0}–{b:.0}"))
            .unwrap_or_else(|| "–".into())
    };
    format!(
        "mean {:.1} {unit}, min {:.0}, max {:.0}; median in [{}), 90th percentile in [{}), 99th in [{})",
        h.mean().unwrap_or(0.0),
        h.min.unwrap_or(0.0),
        h.max.unwrap_or(0.0),
        q(0.5),
        q(0.9),
        q(0.99)
    )
}

fn score_line(h: &Histogram) -> Vec<String> {
    let q = |x: f64| {
        h.quantile_bucket(x)
            .map(|(a, b)| format!("{a:.2}–{b:.2}"))
            .unwrap_or_else(|| "–".into())
    };
    vec![
        thousands(h.count),
        format!("{:.3}", h.mean().unwrap_or(0.0)),
        format!("{:.3}", h.min.unwrap_or(0.0)),
        q(0.1),
        q(0.5),
        q(0.9),
        format!("{:.3}", h.max.unwrap_or(0.0)),
    ]
}

/// Renders `README.md`.
pub fn readme(cx: &CardContext, schema: &Schema) -> String {
    let s = cx.stats;
    let mut o = header(cx, schema);
    let _ = writeln!(o, "# {}\n\n{}\n", cx.pretty_name, cx.summary());
    let mut facts = vec![
        vec!["Documents".into(), thousands(s.documents)],
        vec!["Characters".into(), thousands(s.chars)],
        vec!["Words (whitespace-separated)".into(), thousands(s.words)],
        vec!["Text (UTF-8)".into(), human_bytes(s.text_bytes)],
        vec![
            "Text shards".into(),
            format!("{} Parquet files, {}", s.shards, human_bytes(s.shard_bytes)),
        ],
    ];
    if let Some(t) = &s.tokens {
        facts.push(vec![
            "Tokens".into(),
            format!(
                "{} ({} shards, {}, vocabulary {})",
                thousands(t.tokens),
                t.shards,
                t.format,
                t.vocab_size.map(thousands).unwrap_or_default()
            ),
        ]);
    }
    if let Some((a, b)) = &s.date_range {
        facts.push(vec!["Captured".into(), format!("{a} – {b}")]);
    }
    table(&mut o, &["", "value"], facts);

    // Motivation
    o.push_str("## Motivation\n\n");
    let recipe_names: Vec<String> = cx.bundle.runs.iter().map(crate::stats::run_label).collect();
    let _ = writeln!(
        o,
        "This corpus was built for pretraining language models with a fully published lineage: every \
         document can be traced to a raw crawl record by digest, and every step's recipe and counts are \
         in its manifest. It was produced by the recipe(s) {}.{}\n",
        recipe_names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", "),
        cx.language_filter()
            .map(|l| format!(" The pipeline keeps documents in: {l}."))
            .unwrap_or_default()
    );

    // Composition
    o.push_str("## Composition\n\n");
    let _ = writeln!(
        o,
        "Each instance is one web page's extracted main text with its URL, crawl, capture date and the \
         metadata the pipeline stages attached. There is one split (`train`), {} documents.\n",
        thousands(s.documents)
    );
    o.push_str("### Languages\n\n");
    counts_table(&mut o, "language", &s.languages, s.documents, true);
    plot(&mut o, cx, "languages");
    o.push_str("### Document length\n\n");
    let _ = writeln!(
        o,
        "- characters: {}",
        dist_line(&s.chars_per_doc, "characters")
    );
    let _ = writeln!(o, "- words: {}", dist_line(&s.words_per_doc, "words"));
    if let Some(t) = &s.tokens {
        let _ = writeln!(o, "- tokens: {}", dist_line(&t.tokens_per_doc, "tokens"));
    }
    o.push_str("\nPercentiles are exact to within one histogram bucket (buckets are 25 % wide on a log scale).\n\n");
    plot(&mut o, cx, "length_chars");
    plot(&mut o, cx, "length_tokens");
    o.push_str("### Licenses and opt-outs\n\n");
    o.push_str("The license stage reads license markup (rel=license links, meta tags, JSON-LD, Creative Commons badges) and opt-out signals from each page; a page's license is what it declares.\n\n");
    counts_table(&mut o, "license (SPDX)", &s.licenses, s.documents, false);
    plot(&mut o, cx, "licenses");
    counts_table(
        &mut o,
        "license class",
        &s.license_classes,
        s.documents,
        false,
    );
    if !s.opt_out.is_empty() {
        counts_table(&mut o, "AI/TDM opt-out", &s.opt_out, s.documents, false);
    }
    o.push_str("### Sources\n\n");
    counts_table(&mut o, "crawl", &s.crawls, s.documents, false);
    if !s.sources.is_empty() {
        counts_table(&mut o, "source", &s.sources, s.documents, false);
    }
    counts_table(&mut o, "capture month", &s.months, s.documents, false);
    let _ = writeln!(
        o,
        "Top domains ({} documents with a URL, {} without; {} distinct domains{}):\n",
        thousands(s.domains.documents),
        thousands(s.domains.no_url),
        thousands(s.domains.distinct_held as u64),
        if s.domains.exact {
            ", exact counts"
        } else {
            " tracked; counts are upper bounds with the error bound shown"
        }
    );
    table(
        &mut o,
        &["domain", "documents", "share", "error bound"],
        s.domains
            .top
            .iter()
            .take(20)
            .map(|h| {
                vec![
                    format!("`{}`", h.key),
                    thousands(h.count),
                    pct(h.count, s.domains.documents),
                    thousands(h.error),
                ]
            })
            .collect(),
    );
    counts_table(&mut o, "content type", &s.content_types, s.documents, false);
    counts_table(&mut o, "charset", &s.charsets, s.documents, false);
    if !s.quality_scores.is_empty() {
        o.push_str("### Quality signals\n\n");
        table(
            &mut o,
            &[
                "score",
                "documents",
                "mean",
                "min",
                "10th pct",
                "median",
                "90th pct",
                "max",
            ],
            s.quality_scores
                .iter()
                .map(|(k, h)| {
                    let mut r = vec![format!("`{k}`")];
                    r.extend(score_line(h));
                    r
                })
                .collect(),
        );
        for k in s.quality_scores.keys() {
            plot(&mut o, cx, &format!("score_{k}"));
        }
    }
    o.push_str(
        "### Metadata fields\n\nEvery key of the `metadata` column, as the stages wrote it:\n\n",
    );
    let rows = s
        .metadata
        .iter()
        .map(|(k, m)| {
            let summary = if let Some([f, t]) = m.bools {
                format!("true {}, false {}", thousands(t), thousands(f))
            } else if let Some(h) = &m.numbers {
                format!(
                    "numeric: mean {:.3}, min {:.3}, max {:.3}",
                    h.mean().unwrap_or(0.0),
                    h.min.unwrap_or(0.0),
                    h.max.unwrap_or(0.0)
                )
            } else if let Some(c) = &m.strings {
                let top = c
                    .top(3)
                    .into_iter()
                    .map(|(v, n)| {
                        format!(
                            "{} ({})",
                            v.chars().take(40).collect::<String>(),
                            thousands(n)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "{}{} distinct: {top}",
                    if c.capped { "≥ " } else { "" },
                    thousands(c.values.len() as u64)
                )
            } else {
                "lists / objects".into()
            };
            vec![
                format!("`{k}`"),
                thousands(m.present),
                summary.replace('|', "\\|"),
            ]
        })
        .collect();
    table(&mut o, &["key", "documents", "values"], rows);

    // Collection
    o.push_str("## Collection process\n\n");
    let _ = writeln!(
        o,
        "{}\n\n{}\n",
        cx.collection_text(),
        cx.missing_data_text()
    );
    let raw = cx.raw_inputs();
    table(
        &mut o,
        &["raw input", "bytes", "sha256"],
        raw.iter()
            .take(TABLE_ROWS)
            .map(|f| {
                vec![
                    format!("`{}`", f.path),
                    thousands(f.bytes),
                    format!("`{}`", f.sha256),
                ]
            })
            .collect(),
    );
    if raw.len() > TABLE_ROWS {
        let _ = writeln!(
            o,
            "… and {} more raw inputs in lineage.json.\n",
            raw.len() - TABLE_ROWS
        );
    }

    // Preprocessing
    o.push_str("## Preprocessing\n\nEvery document that entered a step left it kept or dropped with a named reason; the counts below are the manifests' (they add up exactly).\n\n");
    let rows = s
        .funnel
        .iter()
        .map(|f| {
            let reasons = f
                .dropped
                .iter()
                .map(|(k, v)| format!("{k}: {}", thousands(*v)))
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                f.run.clone(),
                format!("`{}`", f.step),
                thousands(f.input),
                thousands(f.kept),
                thousands(f.input - f.kept),
                reasons,
            ]
        })
        .collect();
    table(
        &mut o,
        &["run", "step", "in", "kept", "dropped", "dropped by reason"],
        rows,
    );
    plot(&mut o, cx, "funnel");
    if let Some(d) = &s.dedup {
        let _ = writeln!(
            o,
            "### Deduplication\n\n{} documents in, {} kept. Clusters (documents that are duplicates of each other; one per cluster is kept):\n",
            thousands(d.documents),
            thousands(d.kept)
        );
        table(
            &mut o,
            &[
                "method",
                "clusters",
                "documents in clusters",
                "removed",
                "largest cluster",
                "median cluster size",
            ],
            d.methods
                .iter()
                .map(|c| {
                    vec![
                        c.method.clone(),
                        thousands(c.clusters),
                        thousands(c.documents),
                        thousands(c.removed),
                        thousands(c.largest),
                        c.sizes
                            .quantile_bucket(0.5)
                            .map(|(a, b)| format!("[{a:.0}, {b:.0})"))
                            .unwrap_or_default(),
                    ]
                })
                .collect(),
        );
    }
    for r in &cx.bundle.runs {
        let _ = writeln!(
            o,
            "### Recipe: {}\n\nsha256 `{}`, run by quarry {} ({}) as {} task(s):\n\n```toml\n{}\n```\n",
            crate::stats::run_label(r),
            r.manifest.recipe.sha256,
            r.manifest.build.version,
            r.manifest.build.git_commit,
            r.manifest.tasks,
            r.manifest.recipe.text.trim_end()
        );
    }
    if let Some(t) = &cx.bundle.tokens {
        let tk = s.tokens.as_ref().expect("token stats with a tokenize run");
        let _ = writeln!(
            o,
            "### Tokenization\n\nTokenizer `{}` (sha256 `{}`, vocabulary {}, EOS id {}); {} documents → {} tokens ({:.2} bytes of text per token), {} {} shard(s), dtype {}; {} empty document(s) skipped. Settings:\n\n```json\n{}\n```\n",
            t.tokenizer.name(),
            t.tokenizer.sha256,
            tk.vocab_size.map(thousands).unwrap_or_default(),
            t.manifest.tokenizer.eos_id.map(|e| e.to_string()).unwrap_or_default(),
            thousands(tk.documents),
            thousands(tk.tokens),
            tk.text_bytes as f64 / tk.tokens.max(1) as f64,
            tk.shards,
            tk.format,
            tk.dtype,
            tk.skipped_empty,
            serde_json::to_string_pretty(&t.manifest.config).unwrap_or_default()
        );
    }

    // Uses
    o.push_str("## Uses\n\n");
    let _ = writeln!(
        o,
        "Intended for pretraining and evaluating language models (text generation). The `metadata` column keeps each stage's signals ({}), so subsets can be re-selected without re-running the pipeline. Not suited to uses that need verified facts, balanced demographics or legally cleared licenses per document.\n",
        s.metadata.keys().take(12).map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
    );
    for b in cx.bias_lines() {
        let _ = writeln!(o, "- {b}");
    }
    for l in cx.limitation_lines() {
        let _ = writeln!(o, "- {l}");
    }
    if let Some(p) = cx.pii_text() {
        let _ = writeln!(o, "- Personal information: {p}");
    }
    o.push('\n');

    // Distribution
    o.push_str("## Distribution\n\n");
    let _ = writeln!(
        o,
        "Parquet shards (`{}`; zstd; schema `quarry-text/1`), described for machines in `croissant.json` (MLCommons Croissant 1.0 with RAI fields; every file with its sha256), statistics in `stats.json`, lineage in `lineage.json`. License: {}.\n",
        cx.shard_glob,
        cx.options.license.clone().unwrap_or_else(|| "per document (see Licenses and opt-outs)".into())
    );
    table(
        &mut o,
        &["column", "type"],
        schema
            .fields()
            .iter()
            .map(|f| vec![format!("`{}`", f.name()), format!("{}", f.data_type())])
            .collect(),
    );
    let _ = writeln!(
        o,
        "```python\nimport pyarrow.dataset as ds\ntable = ds.dataset(\"{}\", format=\"parquet\").to_table()\n```\n",
        cx.shard_glob.trim_end_matches("*.parquet")
    );

    // Maintenance
    let _ = writeln!(o, "## Maintenance\n\n{}\n", cx.maintenance_text());

    // Lineage
    o.push_str("## Lineage\n\n```mermaid\nflowchart LR\n");
    let raw_n = raw.len();
    if raw_n > 0 {
        let _ = writeln!(o, "  raw[\"{} raw input file(s)\"]", raw_n);
    }
    for (i, st) in cx.lineage.steps.iter().enumerate() {
        let _ = writeln!(o, "  s{i}[\"{}: {}\"]", st.kind, st.name.replace('"', "'"));
        let _ = writeln!(o, "  o{i}[(\"{} output file(s)\")]", st.outputs.len());
        let _ = writeln!(o, "  s{i} --> o{i}");
        // Edges from the producers of this step's inputs.
        let mut from: Vec<String> = Vec::new();
        for inp in &st.inputs {
            let src = cx.lineage.steps[..i]
                .iter()
                .rposition(|p| p.outputs.contains(inp))
                .map(|j| format!("o{j}"))
                .unwrap_or_else(|| {
                    if cx.lineage.file(inp).is_some_and(|f| f.role == "raw_input") {
                        "raw".into()
                    } else {
                        String::new()
                    }
                });
            if !src.is_empty() && !from.contains(&src) {
                from.push(src);
            }
        }
        for f in from {
            let _ = writeln!(o, "  {f} --> s{i}");
        }
    }
    o.push_str("```\n\n");
    table(
        &mut o,
        &["step", "manifest", "recipe sha256", "inputs", "outputs"],
        cx.lineage
            .steps
            .iter()
            .map(|st| {
                let msha = cx
                    .lineage
                    .file(&st.manifest)
                    .map(|f| f.card_digest().to_string())
                    .unwrap_or_default();
                vec![
                    format!("{}: {}", st.kind, st.name),
                    format!("`{}` (content sha256 `{}`)", st.manifest, msha),
                    st.recipe_sha256
                        .clone()
                        .map(|r| format!("`{r}`"))
                        .unwrap_or_default(),
                    st.inputs.len().to_string(),
                    st.outputs.len().to_string(),
                ]
            })
            .collect(),
    );
    let files = &cx.lineage.files;
    let _ = writeln!(
        o,
        "Files ({} in all; every one with its sha256 in `lineage.json`):\n",
        files.len()
    );
    table(
        &mut o,
        &["file", "role", "bytes", "sha256"],
        files
            .iter()
            .filter(|f| f.role != "raw_input")
            .take(TABLE_ROWS * 2)
            .map(|f| {
                if f.is_run_record() {
                    vec![
                        format!("`{}`", f.path),
                        f.role.clone(),
                        "run record".into(),
                        format!("content `{}`", f.card_digest()),
                    ]
                } else {
                    vec![
                        format!("`{}`", f.path),
                        f.role.clone(),
                        thousands(f.bytes),
                        format!("`{}`", f.sha256),
                    ]
                }
            })
            .collect(),
    );
    o.push_str(
        "Run records (manifests, the dedup report) also hold wall times and memory peaks, which differ \
         from run to run; they are named here by the sha256 of their content without those measurements \
         (`quarry_corpus::manifest::content_sha256`), so that a rerun of the same recipe on the same \
         inputs gives this card byte for byte. `lineage.json` records their file digests as well.\n\n",
    );
    o.push_str("`quarry lineage verify <this folder>` re-hashes every file named here and in `croissant.json`.\n");

    // Training
    if !cx.bundle.train.is_empty() {
        o.push_str("\n## Training runs\n\n");
        for t in &cx.bundle.train {
            let _ = writeln!(
                o,
                "### {}\n\nTokenizer `{}` (sha256 `{}`), {} token shard(s), manifest `{}`.\n",
                t.dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                t.tokenizer.name(),
                t.tokenizer.sha256,
                t.shards.len(),
                t.manifest_file.name()
            );
            table(
                &mut o,
                &["step", "checkpoint", "sha256"],
                t.checkpoints
                    .iter()
                    .map(|(st, f)| {
                        vec![
                            st.to_string(),
                            format!("`{}`", f.name()),
                            format!("`{}`", f.sha256),
                        ]
                    })
                    .collect(),
            );
            if let Some(m) = &t.metrics {
                if let Some(line) = crate::final_metrics(m) {
                    let _ = writeln!(o, "Final metrics: {line}\n");
                }
            }
            if !t.manifest.config.is_empty() {
                let _ = writeln!(o, "```toml\n{}\n```\n", t.manifest.config.trim_end());
            }
        }
    }
    o
}
