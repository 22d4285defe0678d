//! Rolling WARC output: `crawl-00000.warc.gz`, `crawl-00001.warc.gz`, ... in the output folder.
//!
//! The file being written is `<name>.open`; it gets its final name once it reaches the size limit
//! or the crawl ends, so a finished name always holds a complete file. On resume the open file is
//! cut back to the last offset the journal committed (dropping records of pages that were in
//! flight when the crawl stopped) and writing goes on in it.

use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::warc::writer::{record_id_from_hash, RecordSpec, WarcWriter};

/// The open WARC file.
pub struct WarcFiles {
    dir: PathBuf,
    prefix: String,
    max_bytes: u64,
    index: u32,
    current: Option<Open>,
    info_fields: Vec<(String, String)>,
    finished: Vec<String>,
}

struct Open {
    name: String,
    writer: WarcWriter<BufWriter<File>>,
    base: u64,
}

impl WarcFiles {
    /// Output in `dir`, files named `<prefix>-NNNNN.warc.gz`, rolled past `max_bytes`; each file
    /// starts with a warcinfo record holding `info_fields`.
    pub fn new(
        dir: &Path,
        prefix: &str,
        max_bytes: u64,
        info_fields: Vec<(String, String)>,
    ) -> Self {
        WarcFiles {
            dir: dir.to_path_buf(),
            prefix: prefix.to_string(),
            max_bytes,
            index: 0,
            current: None,
            info_fields,
            finished: Vec::new(),
        }
    }

    /// Name of file number `i`.
    pub fn name(&self, i: u32) -> String {
        format!("{}-{i:05}.warc.gz", self.prefix)
    }

    /// Restores the state the journal recorded: `finished` files, and the open file (name and
    /// committed length) if any. Returns an error when the open file is shorter than committed.
    pub fn resume(
        &mut self,
        finished: Vec<String>,
        open: Option<(String, u64)>,
    ) -> std::io::Result<()> {
        self.index = finished.len() as u32;
        self.finished = finished;
        if let Some((name, end)) = open {
            let tmp = self.dir.join(format!("{name}.open"));
            let done = self.dir.join(&name);
            if !tmp.exists() && done.exists() {
                // Killed between the rename and the journal line: the file is finished.
                self.finished.push(name);
                self.index += 1;
                return Ok(());
            }
            let f = OpenOptions::new().write(true).open(&tmp)?;
            let len = f.metadata()?.len();
            if len < end {
                return Err(std::io::Error::other(format!(
                    "{}: {len} bytes, but the journal committed {end}",
                    tmp.display()
                )));
            }
            f.set_len(end)?;
            drop(f);
            let f = OpenOptions::new().append(true).open(&tmp)?;
            self.current = Some(Open {
                name,
                writer: WarcWriter::new(BufWriter::new(f)),
                base: end,
            });
        }
        Ok(())
    }

    /// Files finished so far.
    pub fn finished(&self) -> &[String] {
        &self.finished
    }

    /// Opens a new file if none is open. Returns `(name, end)` of a newly opened file (for the
    /// journal) or `None` if one was open already.
    pub fn ensure_open(&mut self, unix_secs: i64) -> std::io::Result<Option<(String, u64)>> {
        if self.current.is_some() {
            return Ok(None);
        }
        let name = self.name(self.index);
        let tmp = self.dir.join(format!("{name}.open"));
        let f = File::create(&tmp)?;
        let mut writer = WarcWriter::new(BufWriter::new(f));
        let date = crate::warc::writer::format_warc_date(unix_secs);
        let id = record_id_from_hash(format!("warcinfo\0{name}\0{date}").as_bytes());
        let fields: Vec<(&str, &str)> = self
            .info_fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        writer.write_warcinfo(&id, &date, Some(&name), &fields)?;
        writer_flush(&mut writer)?;
        let end = writer.offset();
        self.current = Some(Open {
            name: name.clone(),
            writer,
            base: 0,
        });
        Ok(Some((name, end)))
    }

    /// Writes records, flushes, and returns `(file, end offset)`.
    pub fn write(&mut self, specs: &[RecordSpec<'_>]) -> std::io::Result<(String, u64)> {
        let cur = self
            .current
            .as_mut()
            .ok_or_else(|| std::io::Error::other("no open WARC file"))?;
        for s in specs {
            cur.writer.write_record(s)?;
        }
        writer_flush(&mut cur.writer)?;
        Ok((cur.name.clone(), cur.base + cur.writer.offset()))
    }

    /// Whether the open file has reached the size limit.
    pub fn full(&self) -> bool {
        self.current
            .as_ref()
            .is_some_and(|c| c.base + c.writer.offset() >= self.max_bytes)
    }

    /// Finishes the open file (fsync, rename to its final name). Returns `(name, length)`.
    pub fn finish_current(&mut self) -> std::io::Result<Option<(String, u64)>> {
        let Some(cur) = self.current.take() else {
            return Ok(None);
        };
        let len = cur.base + cur.writer.offset();
        let buf = cur.writer.finish()?;
        let f = buf.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        drop(f);
        let tmp = self.dir.join(format!("{}.open", cur.name));
        std::fs::rename(&tmp, self.dir.join(&cur.name))?;
        self.finished.push(cur.name.clone());
        self.index += 1;
        Ok(Some((cur.name, len)))
    }
}

fn writer_flush(w: &mut WarcWriter<BufWriter<File>>) -> std::io::Result<()> {
    w.flush()
}
