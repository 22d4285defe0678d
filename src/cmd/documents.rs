//! Streaming documents from text shards for whole-corpus commands (tokenizer, tokenize, dedup).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use quarry_corpus::read::{open_documents, ReaderOptions};
use quarry_corpus::storage::{list_inputs, InputFile, Location};
use quarry_corpus::{Document, ReadItem};

/// The documents of a list of input patterns, in sorted file order. Read errors are logged and
/// counted in a shared counter ([`DocStream::error_counter`]) that outlives the stream, so a command
/// can report them after a consumer took the stream by value.
pub struct DocStream {
    files: Vec<String>,
    inputs: std::vec::IntoIter<InputFile>,
    current: Option<Box<dyn Iterator<Item = ReadItem> + Send>>,
    errors: Arc<AtomicU64>,
}

impl DocStream {
    /// Lists the inputs (a missing pattern is an error).
    pub fn open(patterns: &[String]) -> anyhow::Result<DocStream> {
        let inputs = list_inputs(patterns)?;
        let inputs: Vec<InputFile> = inputs
            .into_iter()
            .filter(|f| {
                let n = f.location.file_name();
                // Manifests and other JSON written beside shards are not documents.
                !(n.ends_with(".json") || n == "removed.txt")
            })
            .collect();
        Ok(DocStream {
            files: inputs
                .iter()
                .map(|f| match &f.location {
                    Location::Local(p) => p.display().to_string(),
                    other => other.to_string(),
                })
                .collect(),
            inputs: inputs.into_iter(),
            current: None,
            errors: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The input files, in reading order.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// A handle on the count of records (or files) that could not be read.
    pub fn error_counter(&self) -> Arc<AtomicU64> {
        self.errors.clone()
    }
}

impl Iterator for DocStream {
    type Item = Document;

    fn next(&mut self) -> Option<Document> {
        loop {
            if let Some(cur) = self.current.as_mut() {
                match cur.next() {
                    Some(ReadItem::Doc(d)) => return Some(d),
                    Some(ReadItem::Skipped { .. }) => continue,
                    Some(ReadItem::Error(e)) => {
                        tracing::warn!("{e}");
                        self.errors.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    None => self.current = None,
                }
            }
            let f = self.inputs.next()?;
            match open_documents(&f, &ReaderOptions::default()) {
                Ok(o) => self.current = Some(o.items),
                Err(e) => {
                    tracing::error!("{e}");
                    self.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}
