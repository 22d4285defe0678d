//! The `license` stage on real WARC responses, through the step registry as a recipe builds it.

use std::path::PathBuf;

use quarry_corpus::warc::{read_documents, WarcOptions};
use quarry_corpus::{MetaValue, ReadItem, StepRegistry, Verdict};

fn data_dir() -> PathBuf {
    std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}

#[test]
fn keep_open_on_real_warcs() {
    let mut reg = StepRegistry::new();
    quarry_filters::register(&mut reg);
    let table: toml::Table = toml::from_str("keep = [\"open\"]\ndrop_opted_out = true").unwrap();
    let step = reg.build("license", &table).unwrap();
    let mut kept = Vec::new();
    let mut dropped = 0;
    for warc in [
        "warc/commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.gz",
        "warc/other/dolma_sample-0000.warc.gz",
        "warc/other/dolma_sample-0001.warc.gz",
    ] {
        let f = std::fs::File::open(data_dir().join(warc)).expect(warc);
        for item in read_documents(Box::new(f), warc, &WarcOptions::default()) {
            let ReadItem::Doc(mut doc) = item else {
                continue;
            };
            if doc.raw.is_none() || !doc.content_type.as_deref().unwrap_or("").contains("html") {
                continue;
            }
            let verdict = step.process(&mut doc);
            assert!(matches!(
                doc.meta("license_findings"),
                Some(MetaValue::List(_))
            ));
            assert_eq!(doc.meta("opt_out").and_then(|v| v.as_bool()), Some(false));
            match verdict {
                Verdict::Keep => kept.push((
                    doc.url.clone().unwrap_or_default(),
                    doc.meta("license")
                        .and_then(|v| v.as_str())
                        .unwrap()
                        .to_string(),
                )),
                Verdict::Drop(r) => {
                    assert_eq!(r, "license_not_allowed");
                    dropped += 1;
                }
            }
        }
    }
    kept.sort();
    let want = [
        ("https://an.wikipedia.org/wiki/Escopete", "CC-BY-SA-4.0"),
        ("https://creativecommons.org/", "CC-BY-4.0"),
        (
            "https://creativecommons.org/2024/03/28/cc-joins-civil-society-letter-urging-u-s-to-support-openness-and-transparency-in-ai/",
            "CC-BY-4.0",
        ),
        (
            "https://creativecommons.org/2024/04/23/cc-at-wipo-slow-progress-on-copyright-exceptions-for-cultural-heritage-institutions/",
            "CC-BY-4.0",
        ),
        ("https://creativecommons.org/mission/", "CC-BY-4.0"),
        ("https://soldaini.net/", "CC-BY-4.0"),
    ];
    let got: Vec<(&str, &str)> = kept.iter().map(|(u, l)| (u.as_str(), l.as_str())).collect();
    assert_eq!(got, want);
    assert!(dropped > 30, "dropped {dropped}");
}
