//! What the card says, derived from the statistics and manifests: the shared context of `README.md`
//! ([`crate::readme`]) and `croissant.json` ([`crate::croissant`]). No sentence here is fixed text
//! with blanks for a name: each is computed from counts, recipes and digests, and omitted when the
//! data says nothing about it.

use crate::bundle::Bundle;
use crate::lineage::Lineage;
use crate::stats::{Stats, ValueCount};

/// Choices the data cannot make: names, the release license, where it is published.
#[derive(Debug, Clone, PartialEq)]
pub struct CardOptions {
    /// Human-readable name [default: the recipe's `name`].
    pub pretty_name: Option<String>,
    /// SPDX id of the release's license (e.g. `odc-by`); without it the card says the license is
    /// per document and shows the breakdown.
    pub license: Option<String>,
    /// Homepage of the release.
    pub url: Option<String>,
    /// Release version (semantic).
    pub version: String,
    /// Publication date, `YYYY-MM-DD` (never the wall clock: give it, or set `SOURCE_DATE_EPOCH`).
    pub date: Option<String>,
    /// Who publishes it.
    pub creator: String,
}

impl Default for CardOptions {
    fn default() -> Self {
        CardOptions {
            pretty_name: None,
            license: None,
            url: None,
            version: "1.0.0".into(),
            date: None,
            creator: "quarry".into(),
        }
    }
}

/// A plot the card embeds.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotRef {
    /// File stem under `plots/`.
    pub name: String,
    /// Caption.
    pub title: String,
}

/// Everything the card texts are computed from.
pub struct CardContext<'a> {
    /// Options.
    pub options: &'a CardOptions,
    /// The bundle.
    pub bundle: &'a Bundle,
    /// Its statistics.
    pub stats: &'a Stats,
    /// Its lineage (paths relative to the card folder).
    pub lineage: &'a Lineage,
    /// Name shown.
    pub pretty_name: String,
    /// Glob of the text shards relative to the card folder.
    pub shard_glob: String,
    /// Plots written.
    pub plots: Vec<PlotRef>,
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in binary units with one decimal.
pub fn human_bytes(b: u64) -> String {
    const U: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < U.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

/// `part / whole` as a percentage with one decimal.
pub fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "0.0 %".into()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / whole as f64)
    }
}

/// The Hugging Face `size_categories` bucket of a document count.
pub fn size_category(n: u64) -> &'static str {
    const C: [(u64, &str); 10] = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
        (100_000_000, "10M<n<100M"),
        (1_000_000_000, "100M<n<1B"),
        (10_000_000_000, "1B<n<10B"),
        (100_000_000_000, "10B<n<100B"),
        (1_000_000_000_000, "100B<n<1T"),
    ];
    C.iter()
        .find(|(max, _)| n < *max)
        .map_or("n>1T", |(_, c)| c)
}

fn listing(v: &[ValueCount], total: u64, k: usize) -> String {
    v.iter()
        .take(k)
        .map(|c| format!("{} ({})", c.value, pct(c.documents, total)))
        .collect::<Vec<_>>()
        .join(", ")
}

impl CardContext<'_> {
    /// Dataset id: the pretty name, lower-case, `-` between words.
    pub fn slug(&self) -> String {
        let s: String = self
            .pretty_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        s.split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// Homepage, or the local README.
    pub fn url(&self) -> String {
        self.options
            .url
            .clone()
            .unwrap_or_else(|| "README.md".into())
    }

    /// License as a URL (SPDX page) or a sentence.
    pub fn license_url(&self) -> String {
        match &self.options.license {
            Some(l) => format!("https://spdx.org/licenses/{l}.html"),
            None => format!(
                "Per document, as found by the license audit: {}. See README.md, Licenses.",
                listing(&self.stats.licenses, self.stats.documents, 5)
            ),
        }
    }

    /// Language codes present (without `(none)`).
    pub fn language_codes(&self) -> Vec<String> {
        self.stats
            .languages
            .iter()
            .filter(|l| !l.value.starts_with('('))
            .map(|l| l.value.clone())
            .collect()
    }

    /// One paragraph saying what the release is.
    pub fn summary(&self) -> String {
        let s = &self.stats;
        let mut t = format!(
            "{} documents ({} characters) of web text",
            thousands(s.documents),
            thousands(s.chars)
        );
        if !s.crawls.is_empty() {
            t.push_str(&format!(
                " from {}",
                s.crawls
                    .iter()
                    .map(|c| c.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some((a, b)) = &s.date_range {
            t.push_str(&format!(
                " captured {} to {}",
                &a[..a.len().min(10)],
                &b[..b.len().min(10)]
            ));
        }
        t.push_str(&format!(
            ", extracted and filtered by {} run(s) of quarry ({} stages in all)",
            self.bundle.runs.len(),
            self.bundle
                .runs
                .iter()
                .map(|r| r.manifest.stages.len())
                .sum::<usize>()
        ));
        if let Some(tk) = &s.tokens {
            t.push_str(&format!(
                ", and tokenized into {} tokens",
                thousands(tk.tokens)
            ));
        }
        t.push_str(&format!(
            ". Languages: {}.",
            listing(&s.languages, s.documents, 5)
        ));
        t
    }

    /// A BibTeX entry.
    pub fn bibtex(&self) -> String {
        format!(
            "@misc{{{},\n  title = {{{}}},\n  author = {{{}}},\n  version = {{{}}},\n  howpublished = {{{}}},\n  note = {{Built with quarry}}\n}}",
            self.slug().replace('-', "_"),
            self.pretty_name,
            self.options.creator,
            self.options.version,
            self.url()
        )
    }

    /// The raw inputs (first run's raw inputs over all runs).
    pub fn raw_inputs(&self) -> Vec<&crate::lineage::LineageFile> {
        self.lineage
            .files
            .iter()
            .filter(|f| f.role == "raw_input")
            .collect()
    }

    /// How the data was collected.
    pub fn collection_text(&self) -> String {
        let first = &self.bundle.runs[0].manifest;
        let raw = self.raw_inputs();
        let bytes: u64 = raw.iter().map(|f| f.bytes).sum();
        format!(
            "{} raw input file(s) ({}), read by quarry {} ({}): {} records, of which {} became documents, \
             {} were skipped ({}) and {} could not be read.",
            raw.len(),
            human_bytes(bytes),
            first.build.version,
            first.build.git_commit,
            thousands(first.reader.records),
            thousands(first.reader.documents),
            thousands(first.reader.skipped.values().sum()),
            first
                .reader
                .skipped
                .iter()
                .map(|(k, v)| format!("{k}: {}", thousands(*v)))
                .collect::<Vec<_>>()
                .join(", "),
            thousands(first.reader.errors)
        )
    }

    /// The raw data, named by digest.
    pub fn raw_data_text(&self) -> String {
        let raw = self.raw_inputs();
        let mut t = format!("{} file(s): ", raw.len());
        t.push_str(
            &raw.iter()
                .take(10)
                .map(|f| format!("{} (sha256 {})", f.recorded, f.sha256))
                .collect::<Vec<_>>()
                .join("; "),
        );
        if raw.len() > 10 {
            t.push_str(&format!("; and {} more in lineage.json", raw.len() - 10));
        }
        t
    }

    /// Records that did not make it, by reason: the reader's skips and errors.
    pub fn missing_data_text(&self) -> String {
        let r = &self.bundle.runs[0].manifest.reader;
        let mut t = format!(
            "{} of {} input records are not documents: skipped by type ({}) or unreadable ({}).",
            thousands(r.records - r.documents),
            thousands(r.records),
            r.skipped
                .iter()
                .map(|(k, v)| format!("{k} {}", thousands(*v)))
                .collect::<Vec<_>>()
                .join(", "),
            thousands(r.errors)
        );
        if !r.error_samples.is_empty() {
            t.push_str(&format!(" First read error: {}.", r.error_samples[0]));
        }
        t
    }

    /// One line per stage: what it did, with counts.
    pub fn preprocessing_lines(&self) -> Vec<String> {
        self.stats
            .funnel
            .iter()
            .map(|f| {
                let drops = f
                    .dropped
                    .iter()
                    .map(|(k, v)| format!("{k} {}", thousands(*v)))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "{} / {}: {} in, {} kept{}",
                    f.run,
                    f.step,
                    thousands(f.input),
                    thousands(f.kept),
                    if drops.is_empty() {
                        String::new()
                    } else {
                        format!(", dropped: {drops}")
                    }
                )
            })
            .collect()
    }

    /// What the PII stage did, when the recipe has one.
    pub fn pii_text(&self) -> Option<String> {
        let has = self
            .bundle
            .runs
            .iter()
            .any(|r| r.manifest.stages.iter().any(|s| s.name == "pii"));
        if !has {
            return None;
        }
        let docs_with = |k: &str| {
            self.stats
                .metadata
                .get(k)
                .and_then(|m| m.numbers.as_ref())
                .map_or(0, |h| h.count - h.counts.first().copied().unwrap_or(0))
        };
        let total = |k: &str| {
            self.stats
                .metadata
                .get(k)
                .and_then(|m| m.numbers.as_ref())
                .map_or(0, |h| h.sum as u64)
        };
        Some(format!(
            "The pii stage replaced e-mail addresses and public IP addresses with placeholders \
             (FineWeb's PII formatter): {} e-mail address(es) in {} document(s) and {} IP address(es) \
             in {} document(s) of this release. Names, phone numbers and other personal data are not \
             detected.",
            thousands(total("pii_emails")),
            thousands(docs_with("pii_emails")),
            thousands(total("pii_ips")),
            thousands(docs_with("pii_ips"))
        ))
    }

    /// Skews the statistics show.
    pub fn bias_lines(&self) -> Vec<String> {
        let s = &self.stats;
        let mut v = Vec::new();
        if let Some(l) = s.languages.first() {
            v.push(format!(
                "Language: {} of documents are `{}`{}.",
                pct(l.documents, s.documents),
                l.value,
                self.language_filter()
                    .map(|f| format!(" (the language_id stage keeps only {f})"))
                    .unwrap_or_default()
            ));
        }
        let top10: u64 = s.domains.top.iter().take(10).map(|h| h.count).sum();
        if s.domains.documents > 0 {
            v.push(format!(
                "Sources: the 10 most frequent domains hold {} of documents with a URL ({} domains seen{}).",
                pct(top10, s.domains.documents),
                thousands(s.domains.distinct_held as u64),
                if s.domains.exact { "" } else { ", approximate" }
            ));
        }
        if let Some((a, b)) = &s.date_range {
            v.push(format!(
                "Time: every page was captured between {a} and {b}."
            ));
        }
        let filters: Vec<&str> = self
            .bundle
            .runs
            .iter()
            .flat_map(|r| r.manifest.stages.iter().map(|s| s.name.as_str()))
            .filter(|n| n.contains("quality") || n.contains("gopher"))
            .collect();
        if !filters.is_empty() {
            v.push(format!(
                "Heuristic quality filters ({}) favour long, prose-like text and remove lists, code and \
                 short pages disproportionately.",
                filters.join(", ")
            ));
        }
        v
    }

    /// The `languages` option of the first language_id stage.
    pub fn language_filter(&self) -> Option<String> {
        for r in &self.bundle.runs {
            let Ok(recipe) = quarry_corpus::recipe::Recipe::parse(&r.manifest.recipe.text) else {
                continue;
            };
            for st in &recipe.stages {
                if st.get("type").and_then(|t| t.as_str()) == Some("language_id") {
                    return st.get("languages").and_then(|l| l.as_array()).map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    });
                }
            }
        }
        None
    }

    /// Limitations the statistics show.
    pub fn limitation_lines(&self) -> Vec<String> {
        let s = &self.stats;
        let mut v = Vec::new();
        let unknown: u64 = s
            .license_classes
            .iter()
            .filter(|c| c.value == "unknown" || c.value == "(none)")
            .map(|c| c.documents)
            .sum();
        v.push(format!(
            "Licenses: {} of documents carry no machine-readable license ({}); a page's license \
             is what its markup declares, not a legal determination.",
            pct(unknown, s.documents),
            listing(&s.license_classes, s.documents, 5)
        ));
        if let Some(o) = s.opt_out.iter().find(|o| o.value == "true") {
            v.push(format!(
                "Opt-outs: {} document(s) ({}) carry an AI/TDM opt-out signal (robots noai, X-Robots-Tag, TDMRep) and are still in this release.",
                thousands(o.documents),
                pct(o.documents, s.documents)
            ));
        }
        if !s.domains.exact {
            v.push(format!(
                "Domain counts are Space-Saving estimates over {} tracked domains (each with an error bound in stats.json).",
                crate::scan::DOMAIN_CAP
            ));
        }
        v.push(
            "Text extraction is heuristic: some boilerplate remains and some main text is lost."
                .into(),
        );
        v
    }

    /// How the release is maintained.
    pub fn maintenance_text(&self) -> String {
        let b = &self.bundle.runs.last().expect("a run").manifest.build;
        format!(
            "Built by quarry {} (commit {}). Same inputs and recipes give byte-identical shards: rebuild \
             from the raw inputs named in lineage.json, and check any copy with `quarry lineage verify` \
             (re-hashes every file this card names). Version {}.",
            b.version, b.git_commit, self.options.version
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(100), "100");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
        assert_eq!(pct(1, 3), "33.3 %");
        assert_eq!(size_category(999), "n<1K");
        assert_eq!(size_category(440), "n<1K");
        assert_eq!(size_category(5_000_000), "1M<n<10M");
    }
}
