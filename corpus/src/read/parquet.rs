//! Parquet reader: our text shards, or any Parquet file with a `text` column (and optionally `id`).

use std::fs::File;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use crate::document::{Document, Provenance};
use crate::read::{ReadItem, RecordError};
use crate::schema::meta_from_json;

/// Streams documents from a local Parquet file, one record batch at a time. Offsets are row numbers.
pub struct ParquetReader {
    batches: Option<ParquetRecordBatchReader>,
    file: String,
    text_key: String,
    batch: Option<RecordBatch>,
    pos: usize,
    row: u64,
    pending_error: Option<RecordError>,
}

impl ParquetReader {
    /// Opens `path`. Parquet needs random access (its footer is at the end), so remote Parquet
    /// inputs are first fetched to a local temporary file by the caller.
    pub fn open(
        path: &std::path::Path,
        file: &str,
        text_key: &str,
    ) -> Result<ParquetReader, RecordError> {
        let err = |m: String| RecordError {
            file: file.to_string(),
            offset: 0,
            message: m,
        };
        let f = File::open(path).map_err(|e| err(e.to_string()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(|e| err(format!("not a readable Parquet file: {e}")))?;
        let reader = builder
            .with_batch_size(1024)
            .build()
            .map_err(|e| err(e.to_string()))?;
        Ok(ParquetReader {
            batches: Some(reader),
            file: file.to_string(),
            text_key: text_key.to_string(),
            batch: None,
            pos: 0,
            row: 0,
            pending_error: None,
        })
    }

    fn doc_at(&self, b: &RecordBatch, i: usize) -> Result<Document, String> {
        let text = str_col(b, &self.text_key, i).ok_or_else(|| {
            let cols: Vec<String> = b
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            format!(
                "no string column `{}`; columns: {}",
                self.text_key,
                cols.join(", ")
            )
        })?;
        let id = str_col(b, "id", i).unwrap_or_else(|| format!("{}/{}", self.file, self.row));
        let mut d = Document {
            id,
            text,
            url: str_col(b, "url", i),
            date: str_col(b, "date", i),
            crawl: str_col(b, "crawl", i),
            content_type: str_col(b, "content_type", i),
            charset: str_col(b, "charset", i),
            source: Provenance {
                file: str_col(b, "source_file", i).unwrap_or_else(|| self.file.clone()),
                offset: u64_col(b, "source_offset", i).unwrap_or(self.row),
            },
            ..Default::default()
        };
        if let Some(m) = str_col(b, "metadata", i) {
            let v: serde_json::Value = serde_json::from_str(&m)
                .map_err(|e| format!("column `metadata` is not JSON: {e}"))?;
            if let Some(o) = v.as_object() {
                d.metadata = o
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), meta_from_json(v)?)))
                    .collect();
            }
        }
        Ok(d)
    }
}

fn str_col(b: &RecordBatch, name: &str, i: usize) -> Option<String> {
    let col = b.column_by_name(name)?;
    if col.is_null(i) {
        return None;
    }
    match col.data_type() {
        DataType::Utf8 => Some(col.as_string::<i32>().value(i).to_string()),
        DataType::LargeUtf8 => Some(col.as_string::<i64>().value(i).to_string()),
        DataType::Utf8View => Some(col.as_string_view().value(i).to_string()),
        _ => None,
    }
}

fn u64_col(b: &RecordBatch, name: &str, i: usize) -> Option<u64> {
    let col = b.column_by_name(name)?;
    if col.is_null(i) {
        return None;
    }
    match col.data_type() {
        DataType::UInt64 => Some(
            col.as_primitive::<arrow_array::types::UInt64Type>()
                .value(i),
        ),
        DataType::Int64 => {
            Some(col.as_primitive::<arrow_array::types::Int64Type>().value(i) as u64)
        }
        _ => None,
    }
}

impl Iterator for ParquetReader {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        if let Some(e) = self.pending_error.take() {
            return Some(ReadItem::Error(e));
        }
        loop {
            if let Some(b) = &self.batch {
                if self.pos < b.num_rows() {
                    let i = self.pos;
                    self.pos += 1;
                    let res = self.doc_at(b, i);
                    let row = self.row;
                    self.row += 1;
                    return Some(match res {
                        Ok(d) => ReadItem::Doc(d),
                        Err(m) => ReadItem::Error(RecordError {
                            file: self.file.clone(),
                            offset: row,
                            message: format!("row {row}: {m}"),
                        }),
                    });
                }
            }
            let reader = self.batches.as_mut()?;
            match reader.next() {
                None => {
                    self.batches = None;
                    return None;
                }
                Some(Ok(b)) => {
                    self.batch = Some(b);
                    self.pos = 0;
                }
                Some(Err(e)) => {
                    self.batches = None;
                    return Some(ReadItem::Error(RecordError {
                        file: self.file.clone(),
                        offset: self.row,
                        message: format!("corrupt Parquet data after row {}: {e}", self.row),
                    }));
                }
            }
        }
    }
}
