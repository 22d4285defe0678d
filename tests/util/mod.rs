//! Shared helpers for end-to-end tests: the binary, the shared data, temp folders.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared real test data (`QUARRY_TEST_DATA`, else `../shared/data` beside the repo).
pub fn data_dir() -> PathBuf {
    std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

/// A `quarry` command with quiet logs.
pub fn quarry() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_quarry"));
    c.env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT");
    c
}

/// A key prefix no other test (or earlier run) uses.
pub fn unique(name: &str) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{t}", std::process::id())
}

/// A temporary folder removed at the end of the test.
pub struct TestDir(tempfile::TempDir);

impl TestDir {
    /// A new empty folder.
    pub fn new() -> Self {
        TestDir(tempfile::tempdir().unwrap())
    }
    /// Its path.
    pub fn path(&self) -> &Path {
        self.0.path()
    }
    /// Writes a file in it and returns the path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// (name, bytes) of every file in a folder, sorted by name.
pub fn shard_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Every document of every shard in `dir`, as the dolma JSON that `quarry inspect --json` prints.
pub fn shard_docs(dir: &Path) -> Vec<serde_json::Value> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for f in files {
        let out = quarry()
            .args(["inspect", "--json", "--limit", "0"])
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            docs.push(serde_json::from_str(line).unwrap());
        }
    }
    docs
}
