//! Is this payload text at all? Cheap checks on the MIME type and the first bytes, so images, PDFs,
//! archives and other binaries recorded under a `text/html` claim are dropped as `not_text` instead
//! of being decoded into mojibake.

/// What a payload is, as far as extraction cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    /// HTML or XHTML (or unknown but text-like: treated as HTML, which also handles plain text).
    Html,
    /// `text/plain`: taken line by line, no markup removal.
    PlainText,
    /// Not text: a binary MIME type, a known binary signature, or NUL/control bytes.
    Binary,
}

/// Classifies a payload from its MIME type (`Content-Type` without parameters, if known) and bytes.
pub fn classify(mime: Option<&str>, body: &[u8]) -> PayloadKind {
    let mime = mime.map(|m| {
        m.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    if let Some(m) = mime.as_deref() {
        if is_binary_mime(m) {
            return PayloadKind::Binary;
        }
    }
    if looks_binary(body) {
        return PayloadKind::Binary;
    }
    match mime.as_deref() {
        Some("text/plain") => PayloadKind::PlainText,
        _ => PayloadKind::Html,
    }
}

fn is_binary_mime(m: &str) -> bool {
    let top = m.split('/').next().unwrap_or("");
    matches!(top, "image" | "audio" | "video" | "font")
        || matches!(
            m,
            "application/pdf"
                | "application/octet-stream"
                | "application/zip"
                | "application/gzip"
                | "application/x-gzip"
                | "application/x-tar"
                | "application/x-7z-compressed"
                | "application/x-rar-compressed"
                | "application/vnd.rar"
                | "application/msword"
                | "application/vnd.ms-excel"
                | "application/vnd.ms-powerpoint"
                | "application/x-shockwave-flash"
                | "application/wasm"
                | "application/java-archive"
                | "application/x-msdownload"
        )
        || m.starts_with("application/vnd.openxmlformats")
        || m.starts_with("application/vnd.oasis.opendocument")
}

/// Known binary signatures, NUL bytes, or many control bytes in the first 1 KiB.
///
/// UTF-16 text is half NULs, so a UTF-16 BOM (which [`super::charset::decode`] honours) exempts the
/// body from the NUL test.
pub fn looks_binary(body: &[u8]) -> bool {
    const MAGIC: &[&[u8]] = &[
        b"%PDF-",
        b"\x89PNG\r\n\x1a\n",
        b"GIF87a",
        b"GIF89a",
        b"\xFF\xD8\xFF",
        b"PK\x03\x04",
        b"\x1F\x8B",
        b"BM",
        b"RIFF",
        b"OggS",
        b"fLaC",
        b"ID3",
        b"\x7FELF",
        b"\x00asm",
        b"wOFF",
        b"wOF2",
        b"\x00\x00\x01\x00",
        b"7z\xBC\xAF\x27\x1C",
        b"Rar!\x1A\x07",
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
        b"(\xB5/\xFD",
        b"BZh",
    ];
    // Short ASCII signatures ("BM", "BZh", "ID3", "RIFF") could start a text page; require a
    // binary-looking byte in the head as well for those.
    let head = &body[..body.len().min(1024)];
    let has_ctrl = |h: &[u8]| h.iter().any(|&b| b < 0x09 || (0x0E..0x1B).contains(&b));
    for m in MAGIC {
        if body.starts_with(m) && (m.iter().any(|b| !b.is_ascii_alphanumeric()) || has_ctrl(head)) {
            return true;
        }
    }
    if body.starts_with(b"\xFF\xFE") || body.starts_with(b"\xFE\xFF") {
        return false;
    }
    if head.contains(&0) {
        return true;
    }
    let ctrl = head
        .iter()
        .filter(|&&b| b < 0x09 || (0x0E..0x1B).contains(&b) || (0x1C..0x20).contains(&b))
        .count();
    ctrl * 10 > head.len().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_and_magic() {
        assert_eq!(classify(Some("image/png"), b"<html>"), PayloadKind::Binary);
        assert_eq!(
            classify(Some("application/pdf; x=y"), b"<html>"),
            PayloadKind::Binary
        );
        assert_eq!(
            classify(Some("text/html"), b"%PDF-1.4\n%\xe2\xe3"),
            PayloadKind::Binary
        );
        assert_eq!(
            classify(Some("text/html"), b"\x89PNG\r\n\x1a\n\0\0\0"),
            PayloadKind::Binary
        );
        assert_eq!(
            classify(Some("text/html"), b"<p>a\0b</p>"),
            PayloadKind::Binary
        );
        assert_eq!(
            classify(Some("text/html; charset=utf-8"), b"<p>hi</p>"),
            PayloadKind::Html
        );
        assert_eq!(classify(None, b"BMW news: <p>hi</p>"), PayloadKind::Html);
        assert_eq!(
            classify(Some("text/plain"), b"line one\nline two"),
            PayloadKind::PlainText
        );
        assert_eq!(classify(None, b"\xFF\xFE<\0p\0>\0"), PayloadKind::Html);
        assert_eq!(classify(None, b""), PayloadKind::Html);
        assert_eq!(
            classify(None, &[1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            PayloadKind::Binary
        );
    }
}
