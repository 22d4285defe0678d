//! Placeholder until the WARC reader lands (branch `warc`); replaced at merge.
use crate::read::ReadItem;
/// Options.
#[derive(Debug, Clone, Default)]
pub struct WarcOptions {
    /// Also yield metadata records.
    pub metadata_records: bool,
    /// Largest record.
    pub max_record_bytes: u64,
}
/// Reads nothing yet.
pub fn read_documents(
    _i: Box<dyn std::io::Read + Send>,
    _f: &str,
    _o: &WarcOptions,
) -> std::vec::IntoIter<ReadItem> {
    Vec::new().into_iter()
}
