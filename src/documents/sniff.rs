//! What an upload is, judged by its bytes alone: a file's name and the browser's media type are
//! whatever the clerk's computer made of them. A zip is told apart by the parts it holds, an
//! OLE compound file (old Office, or a password-protected new one) by its stream names.

use std::io::{Cursor, Read, Seek};

use serde::Serialize;
use utoipa::ToSchema;

use super::ConversionError;

/// The kind of an uploaded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum FileKind {
    Pdf,
    Docx,
    Xlsx,
    Pptx,
    OtherZip,
    Png,
    Jpeg,
    Gif,
    Tiff,
    /// An OLE compound file: `.doc`/`.xls`/`.ppt`, or an encrypted Office file.
    Ole,
    /// Valid UTF-8 text (a byte-order mark allowed), without binary control characters.
    Text,
    Other,
}

impl FileKind {
    /// The media type the file is stored and served as.
    #[must_use]
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Self::OtherZip => "application/zip",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Tiff => "image/tiff",
            Self::Ole => "application/x-ole-storage",
            Self::Text => "text/plain; charset=utf-8",
            Self::Other => "application/octet-stream",
        }
    }

    /// What the file is, in words for the clerk.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Pdf => "PDF 文档 / PDF document",
            Self::Docx => "Word 文档（.docx）/ Word document",
            Self::Xlsx => "Excel 表格（.xlsx）/ Excel spreadsheet",
            Self::Pptx => "PowerPoint 演示文稿（.pptx）/ PowerPoint presentation",
            Self::OtherZip => "ZIP 压缩包 / ZIP archive",
            Self::Png => "PNG 图片 / PNG image",
            Self::Jpeg => "JPEG 图片 / JPEG image",
            Self::Gif => "GIF 图片 / GIF image",
            Self::Tiff => "TIFF 图片 / TIFF image",
            Self::Ole => "旧版 Office 文件或加密文件 / old Office or encrypted file",
            Self::Text => "文本 / text",
            Self::Other => "无法识别的文件 / unrecognised file",
        }
    }
}

const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The kind of a file, by its bytes.
#[must_use]
pub fn sniff(bytes: &[u8]) -> FileKind {
    if pdf_start(bytes).is_some() {
        FileKind::Pdf
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        zip::ZipArchive::new(Cursor::new(bytes)).map_or(FileKind::OtherZip, |a| zip_kind(&a))
    } else if bytes.starts_with(&OLE_MAGIC) {
        FileKind::Ole
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        FileKind::Png
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        FileKind::Jpeg
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        FileKind::Gif
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        FileKind::Tiff
    } else if !bytes.starts_with(b"{\\rtf") && utf8_text(bytes).is_some() {
        FileKind::Text
    } else {
        FileKind::Other
    }
}

/// Where a PDF begins. Readers accept a little junk before the header, but text that merely
/// mentions `%PDF-` is text.
pub(super) fn pdf_start(bytes: &[u8]) -> Option<usize> {
    if bytes.starts_with(b"%PDF-") {
        return Some(0);
    }
    let head = &bytes[..bytes.len().min(1024)];
    let at = head.windows(5).position(|w| w == b"%PDF-")?;
    utf8_text(bytes).is_none().then_some(at)
}

/// A zip package by the parts it holds.
pub(super) fn zip_kind<R: Read + Seek>(archive: &zip::ZipArchive<R>) -> FileKind {
    let has = |name: &str| archive.index_for_name(name).is_some();
    if !has("[Content_Types].xml") {
        FileKind::OtherZip
    } else if has("word/document.xml") {
        FileKind::Docx
    } else if has("xl/workbook.xml") {
        FileKind::Xlsx
    } else if has("ppt/presentation.xml") {
        FileKind::Pptx
    } else {
        FileKind::OtherZip
    }
}

/// The text of a UTF-8 file, its byte-order mark removed; `None` for anything binary.
pub(super) fn utf8_text(bytes: &[u8]) -> Option<&str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).ok()?;
    let binary = |c: char| c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0C');
    (!text.contains(binary)).then_some(text)
}

/// What a file that cannot be a draft is, in words: more precise than its kind where the bytes
/// tell (text in another encoding, RTF).
pub(super) fn describe(bytes: &[u8], kind: FileKind) -> String {
    let found = if kind != FileKind::Other {
        kind.label()
    } else if bytes.starts_with(b"{\\rtf") {
        "RTF 文档 / RTF document"
    } else if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        "UTF-16 编码的文本 / text in UTF-16"
    } else if legacy_chinese_text(bytes) {
        "非 UTF-8 编码的文本（如 GBK、GB18030）/ text not in UTF-8 (e.g. GBK, GB18030)"
    } else {
        kind.label()
    };
    found.to_owned()
}

/// Whether the bytes read as GBK/GB18030 text: printable ASCII and well-formed two- and
/// four-byte sequences, at least one of them.
fn legacy_chinese_text(bytes: &[u8]) -> bool {
    let mut wide = 0;
    let mut rest = bytes;
    while let Some(&first) = rest.first() {
        let len = match (first, rest.get(1), rest.get(2), rest.get(3)) {
            (b'\t' | b'\n' | b'\r' | 0x0C | 0x20..=0x7E, ..) => 1,
            (0x81..=0xFE, Some(0x40..=0x7E | 0x80..=0xFE), ..) => 2,
            (0x81..=0xFE, Some(0x30..=0x39), Some(0x81..=0xFE), Some(0x30..=0x39)) => 4,
            _ => return false,
        };
        wide += usize::from(len > 1);
        rest = &rest[len..];
    }
    wide > 0
}

/// Why an OLE compound file is refused: a password-protected Office file keeps its package in
/// an `EncryptedPackage` stream, an old Word file its text in `WordDocument`.
pub(super) fn ole_refusal(bytes: &[u8]) -> ConversionError {
    let found = if ole_holds(bytes, "EncryptedPackage") {
        return ConversionError::Encrypted;
    } else if ole_holds(bytes, "WordDocument") {
        return ConversionError::LegacyWord;
    } else if ole_holds(bytes, "Workbook") || ole_holds(bytes, "Book") {
        "旧版 Excel 表格（.xls）/ old Excel spreadsheet"
    } else if ole_holds(bytes, "PowerPoint Document") {
        "旧版 PowerPoint 演示文稿（.ppt）/ old PowerPoint presentation"
    } else {
        FileKind::Ole.label()
    };
    ConversionError::Unsupported {
        found: found.to_owned(),
    }
}

/// Whether the compound file has a directory entry named `stream`. Entries are 128 bytes,
/// aligned after the 512-byte header: the name in UTF-16LE with its terminator, padded to 64
/// bytes, then the name's length in bytes. Matching the whole entry keeps a `.doc` whose text
/// happens to say "EncryptedPackage" from reading as encrypted.
fn ole_holds(bytes: &[u8], stream: &str) -> bool {
    let name: Vec<u8> = stream
        .encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect();
    let length = u16::try_from(name.len()).unwrap_or(0).to_le_bytes();
    bytes
        .chunks_exact(128)
        .skip(4)
        .any(|entry| entry.starts_with(&name) && entry[64..66] == length)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn kinds_come_from_the_bytes() {
        assert_eq!(sniff(&fixtures::docx(&fixtures::p("合同"))), FileKind::Docx);
        assert_eq!(sniff(&fixtures::xlsx()), FileKind::Xlsx);
        assert_eq!(
            sniff(&fixtures::package(&[("a.txt", "x")])),
            FileKind::OtherZip
        );
        assert_eq!(sniff(b"PK\x03\x04garbage"), FileKind::OtherZip);
        assert_eq!(sniff(&fixtures::text_pdf(&["Hello"])), FileKind::Pdf);
        assert_eq!(sniff(&fixtures::png()), FileKind::Png);
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), FileKind::Jpeg);
        assert_eq!(sniff(b"GIF89a...."), FileKind::Gif);
        assert_eq!(sniff(b"II*\0...."), FileKind::Tiff);
        assert_eq!(sniff(&fixtures::ole("WordDocument")), FileKind::Ole);
        assert_eq!(sniff("\u{FEFF}# 合同\r\n".as_bytes()), FileKind::Text);
        assert_eq!(sniff(b"{\\rtf1\\ansi hello}"), FileKind::Other);
        assert_eq!(sniff(&[0, 1, 2, 3]), FileKind::Other);
    }

    #[test]
    fn text_mentioning_the_pdf_header_is_text() {
        assert_eq!(sniff(b"notes: a PDF starts with %PDF-1.7"), FileKind::Text);
        let mut junk_first = b"\xE2\x00junk\n".to_vec();
        junk_first.extend(fixtures::text_pdf(&["Hello"]));
        assert_eq!(sniff(&junk_first), FileKind::Pdf);
    }

    #[test]
    fn media_types_and_labels() {
        assert_eq!(FileKind::Pdf.media_type(), "application/pdf");
        assert_eq!(FileKind::Text.media_type(), "text/plain; charset=utf-8");
        assert_eq!(FileKind::Other.media_type(), "application/octet-stream");
        assert!(FileKind::Xlsx.label().starts_with("Excel 表格"));
    }

    #[test]
    fn gbk_text_is_told_apart_from_binary() {
        // "合同第一条" in GBK.
        let gbk = [
            0xBA, 0xCF, 0xCD, 0xAC, 0xB5, 0xDA, 0xD2, 0xBB, 0xCC, 0xF5, b'\n',
        ];
        assert_eq!(sniff(&gbk), FileKind::Other);
        assert!(describe(&gbk, FileKind::Other).contains("GB18030"));
        assert!(!describe(&[0, 1, 2], FileKind::Other).contains("GB18030"));
    }

    #[test]
    fn compound_files_by_their_streams() {
        assert_eq!(
            ole_refusal(&fixtures::ole("EncryptedPackage")),
            ConversionError::Encrypted
        );
        assert_eq!(
            ole_refusal(&fixtures::ole("WordDocument")),
            ConversionError::LegacyWord
        );
        let ConversionError::Unsupported { found } = ole_refusal(&fixtures::ole("Workbook")) else {
            panic!("an old spreadsheet is unsupported");
        };
        assert!(found.contains(".xls"), "{found}");
    }
}
