//! Agreement of `language_id` with Python fastText (fasttext-wheel 0.9.2) on the Tatoeba sample.
//!
//! `tests/data/fasttext_lid176_tatoeba.tsv` was written by `scripts/filters/fasttext_reference.py`.
//! Fails unless the top label is identical for at least 99.5% of sentences and every score of an
//! identical label is within 1e-4.

mod support;

use quarry_filters::{LanguageId, LanguageIdConfig};

#[test]
fn top_label_and_score_match_python_fasttext() {
    let data = support::docs::data_dir();
    let lid = LanguageId::new(LanguageIdConfig {
        model: Some(data.join("lid/lid.176.ftz").to_string_lossy().into_owned()),
        ..Default::default()
    })
    .unwrap();
    let tsv = std::fs::read_to_string(data.join("text/tatoeba_long.cld2-sample.tsv")).unwrap();
    let sentences: Vec<&str> = tsv
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(3).unwrap())
        .collect();
    let reference = include_str!("data/fasttext_lid176_tatoeba.tsv");
    let (mut n, mut same, mut max_diff) = (0usize, 0usize, 0f64);
    for row in reference.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let line: usize = cols[0].parse().unwrap();
        let score: f64 = cols[2].parse().unwrap();
        let ours = &lid.predict(sentences[line - 1], 1).unwrap()[0];
        n += 1;
        if ours.label == cols[1] {
            same += 1;
            max_diff = max_diff.max((ours.score as f64 - score).abs());
        } else {
            println!(
                "line {line}: ours {} {:.4}, python {} {score:.4}",
                ours.label, ours.score, cols[1]
            );
        }
    }
    println!("| sentences | same top label | max score difference |");
    println!("|---|---|---|");
    println!(
        "| {n} | {same} ({:.2}%) | {max_diff:.2e} |",
        100.0 * same as f64 / n as f64
    );
    assert_eq!(n, sentences.len());
    assert!(
        same as f64 >= 0.995 * n as f64,
        "top-label agreement below 99.5%"
    );
    assert!(max_diff <= 1e-4, "score difference {max_diff} above 1e-4");
}
