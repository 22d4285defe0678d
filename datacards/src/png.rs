//! A minimal PNG encoder for the plots (8-bit RGB, no filtering, zlib via flate2): plotters' own PNG
//! path pulls in the `image` crate, and this is all a chart needs. Same pixels → same bytes.

use std::io::Write;

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// Encodes `rgb` (`width * height * 3` bytes, rows top to bottom) as a PNG file.
pub fn encode_rgb(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
    assert_eq!(
        rgb.len(),
        width as usize * height as usize * 3,
        "RGB buffer size"
    );
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits, truecolour, deflate, no filter method, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(9));
    let row = width as usize * 3;
    for r in rgb.chunks(row) {
        z.write_all(&[0]).expect("writing to a Vec");
        z.write_all(r).expect("writing to a Vec");
    }
    chunk(&mut out, b"IDAT", &z.finish().expect("finishing a Vec"));
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_structure_and_crc() {
        let px = [255u8, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9];
        let png = encode_rgb(2, 2, &px);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        // The CRC of IHDR covers type + data.
        let mut c = flate2::Crc::new();
        c.update(&png[12..29]);
        assert_eq!(&png[29..33], &c.sum().to_be_bytes());
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
        // The pixel data round-trips through zlib.
        let len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        let mut d = flate2::read::ZlibDecoder::new(&png[41..41 + len]);
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut d, &mut raw).unwrap();
        assert_eq!(raw, [0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 9, 9, 9]);
        assert_eq!(encode_rgb(2, 2, &px), png, "deterministic");
    }
}
