//! # quarry-corpus
//!
//! The bottom layer of quarry: the [`Document`] every stage passes along, the [`Step`] trait that
//! filters and taggers implement, readers and writers for the corpus formats, storage, the pipeline
//! runtime and the lineage manifests.
//!
//! ```
//! use quarry_corpus::{Document, Step, Verdict};
//!
//! struct DropShort;
//! impl Step for DropShort {
//!     fn name(&self) -> &str { "drop_short" }
//!     fn process(&self, doc: &mut Document) -> Verdict {
//!         if doc.text.len() < 10 { Verdict::drop("too_short") } else { Verdict::Keep }
//!     }
//! }
//! let mut d = Document::new("doc-1", "hi");
//! assert_eq!(DropShort.process(&mut d), Verdict::drop("too_short"));
//! ```
#![warn(missing_docs)]

pub mod document;
pub mod error;
pub mod html;
pub mod step;

pub use document::{Document, MetaValue, Metadata, Provenance, RawPayload};
pub use error::StepError;
pub use step::{SideOutput, Step, StepFactory, StepRegistry, TaskContext, Verdict};
pub mod read;
pub mod sample;
pub use read::{ReadItem, RecordError};
pub mod cc;
pub mod crawl;
pub mod manifest;
pub mod recipe;
pub mod runtime;
pub mod schema;
pub mod storage;
pub mod warc;
pub mod write;
pub use runtime::{Pipeline, RunError, RunOptions, RunOutcome};
pub mod tokens;
