//! The crawl journal (`journal.jsonl` in the output folder): what makes a stopped crawl resumable.
//!
//! One JSON object per line, appended and flushed after the WARC records it refers to are flushed:
//! - `{"k":"add",...}`: a URL entered the frontier (seen set + frontier);
//! - `{"k":"done",...}`: a URL reached its final outcome, with where its records end in the open
//!   WARC file and every URL its page discovered (`add` and `skip` lists) — one line, so a page and
//!   its links are committed together or not at all;
//! - `{"k":"warc",...}`: a WARC file was opened (`end` = after its warcinfo) or finished.
//!
//! A process killed mid-write leaves at most one torn last line: [`Journal::open`] drops it (and
//! truncates the file there) before appending. Flushing reaches the OS, which survives a killed
//! process; `fsync` happens when a WARC file is finished and at the end of the crawl.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One frontier entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddEntry {
    /// Normalised URL.
    pub url: String,
    /// Links followed from a seed (redirect hops keep their source's depth).
    pub depth: u32,
    /// The page that linked here (or redirected here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// URLs of the redirect chain that led here (empty for links and seeds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<String>,
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "lowercase")]
pub enum Event {
    /// A URL entered the frontier.
    Add(AddEntry),
    /// A URL reached its outcome.
    Done {
        /// The URL.
        url: String,
        /// Outcome name (`fetched`, `redirect`, `http_error`, or a skip reason).
        outcome: String,
        /// HTTP status when a response was received.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// Depth of the URL.
        depth: u32,
        /// WARC file holding its records and the offset after them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        warc: Option<(String, u64)>,
        /// URLs discovered by this page and put in the frontier.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        add: Vec<AddEntry>,
        /// URLs discovered by this page and skipped at once: (url, depth, reason).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skip: Vec<(String, u32, String)>,
    },
    /// A WARC file was opened (`finished` false, `end` after its warcinfo) or finished.
    Warc {
        /// File name in the output folder.
        file: String,
        /// Committed length.
        end: u64,
        /// The file was renamed to its final name.
        finished: bool,
    },
}

/// The append side of the journal.
pub struct Journal {
    file: File,
    path: PathBuf,
    line: Vec<u8>,
}

impl Journal {
    /// Opens (creating) the journal in `dir` and returns the events already in it. A torn last line
    /// is cut off.
    pub fn open(dir: &Path) -> std::io::Result<(Journal, Vec<Event>)> {
        let path = dir.join("journal.jsonl");
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        let mut events = Vec::new();
        let mut good_end = 0u64;
        {
            let mut r = BufReader::new(&mut file);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                let n = r.read_until(b'\n', &mut buf)?;
                if n == 0 {
                    break;
                }
                if buf.last() != Some(&b'\n') {
                    break;
                }
                match serde_json::from_slice::<Event>(&buf) {
                    Ok(e) => {
                        events.push(e);
                        good_end += n as u64;
                    }
                    Err(_) => break,
                }
            }
        }
        if file.metadata()?.len() != good_end {
            file.set_len(good_end)?;
        }
        file.seek(SeekFrom::End(0))?;
        Ok((
            Journal {
                file,
                path,
                line: Vec::new(),
            },
            events,
        ))
    }

    /// Appends one event and flushes it to the OS.
    pub fn append(&mut self, e: &Event) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, e).map_err(std::io::Error::other)?;
        self.line.push(b'\n');
        self.file.write_all(&self.line)?;
        self.file.flush()
    }

    /// Forces the journal to disk.
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torn_last_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut j, ev) = Journal::open(dir.path()).unwrap();
            assert!(ev.is_empty());
            j.append(&Event::Add(AddEntry {
                url: "http://a/".into(),
                depth: 0,
                via: None,
                chain: vec![],
            }))
            .unwrap();
            j.append(&Event::Done {
                url: "http://a/".into(),
                outcome: "fetched".into(),
                status: Some(200),
                depth: 0,
                warc: Some(("x.warc.gz".into(), 10)),
                add: vec![],
                skip: vec![("http://b/".into(), 1, "scope".into())],
            })
            .unwrap();
        }
        let p = dir.path().join("journal.jsonl");
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(br#"{"k":"add","url":"http://c/","de"#).unwrap();
        drop(f);
        let (mut j, ev) = Journal::open(dir.path()).unwrap();
        assert_eq!(ev.len(), 2);
        j.append(&Event::Warc {
            file: "x".into(),
            end: 1,
            finished: true,
        })
        .unwrap();
        drop(j);
        let (_, ev) = Journal::open(dir.path()).unwrap();
        assert_eq!(ev.len(), 3);
        assert!(matches!(ev[2], Event::Warc { finished: true, .. }));
    }
}
