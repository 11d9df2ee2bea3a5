//! Real files for tests, built on the spot: Word packages with the parts Chinese Word writes
//! (a "heading 1" style whose id is "1", numbering 第%1条), PDFs with a Chinese CID font, OLE
//! compound files, a zip bomb, and deterministic byte mutations of any of them.
//!
//! Plain Rust over std, `zip` and `lopdf` only, so black-box tests can include it too:
//! `#[path = "../src/documents/fixtures.rs"] mod fixtures;`.
#![allow(dead_code)]

use std::io::{Cursor, Write};

use lopdf::content::{Content, Operation};
use lopdf::{
    Document, EncryptionState, EncryptionVersion, Object, ObjectId, Permissions, Stream,
    StringFormat, dictionary,
};
use zip::write::SimpleFileOptions;

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

/// List 1: 第%1条 (chineseCounting), its level 1 `%2.` starting again under each article.
pub const ARTICLES: u32 = 1;
/// List 2: （%1） in chineseCounting.
pub const ITEMS: u32 = 2;
/// List 3: 1, 1.1, 1.1.1.
pub const OUTLINE: u32 = 3;
/// List 4: bullets.
pub const BULLETS: u32 = 4;
/// List 5: the articles of list 1 again, restarting at 第五条.
pub const ARTICLES_FROM_FIVE: u32 = 5;

pub const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:style w:type="paragraph" w:default="1" w:styleId="a"><w:name w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="1"><w:name w:val="heading 1"/><w:basedOn w:val="a"/><w:pPr><w:keepNext/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:b/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="2"><w:name w:val="heading 2"/><w:basedOn w:val="a"/><w:pPr><w:outlineLvl w:val="1"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="3"><w:name w:val="Normal Indent"/><w:basedOn w:val="a"/></w:style>
<w:style w:type="paragraph" w:styleId="a3"><w:name w:val="标题 3"/><w:basedOn w:val="a"/></w:style>
<w:style w:type="paragraph" w:styleId="10"><w:name w:val="Clause Heading"/><w:basedOn w:val="2"/></w:style>
<w:style w:type="paragraph" w:styleId="20"><w:name w:val="Article"/><w:basedOn w:val="a"/><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style>
</w:styles>"#;

pub const NUMBERING: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:abstractNum w:abstractNumId="0"><w:multiLevelType w:val="multilevel"/>
<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="第%1条"/><w:lvlJc w:val="left"/></w:lvl>
<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%2."/><w:lvlJc w:val="left"/></w:lvl>
</w:abstractNum>
<w:abstractNum w:abstractNumId="1">
<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%1）"/></w:lvl>
</w:abstractNum>
<w:abstractNum w:abstractNumId="2">
<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1"/></w:lvl>
<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/></w:lvl>
<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2.%3"/></w:lvl>
</w:abstractNum>
<w:abstractNum w:abstractNumId="3">
<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="&#xF06C;"/></w:lvl>
</w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>
<w:num w:numId="3"><w:abstractNumId w:val="2"/></w:num>
<w:num w:numId="4"><w:abstractNumId w:val="3"/></w:num>
<w:num w:numId="5"><w:abstractNumId w:val="0"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride></w:num>
</w:numbering>"#;

/// Footnote 1 reads "工作日不含法定节假日。".
pub const FOOTNOTES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>
<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>
<w:footnote w:id="1"><w:p><w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:footnoteRef/></w:r><w:r><w:t xml:space="preserve"> 工作日不含法定节假日。</w:t></w:r></w:p></w:footnote>
</w:footnotes>"#;

const DOCX_MAIN: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
const DOCM_MAIN: &str = "application/vnd.ms-word.document.macroEnabled.main+xml";

/// A Word document whose body (the children of `w:body`) is `body`, with [`STYLES`],
/// [`NUMBERING`] and [`FOOTNOTES`].
pub fn docx(body: &str) -> Vec<u8> {
    word_package(body, DOCX_MAIN)
}

/// The same package declared macro-enabled, as Word saves a `.docm`.
pub fn docm(body: &str) -> Vec<u8> {
    word_package(body, DOCM_MAIN)
}

fn word_package(body: &str, main_type: &str) -> Vec<u8> {
    let ooxml = "application/vnd.openxmlformats-officedocument.wordprocessingml";
    let content_types = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="{main_type}"/>
<Override PartName="/word/styles.xml" ContentType="{ooxml}.styles+xml"/>
<Override PartName="/word/numbering.xml" ContentType="{ooxml}.numbering+xml"/>
<Override PartName="/word/footnotes.xml" ContentType="{ooxml}.footnotes+xml"/>
</Types>"#
    );
    let relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let package_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{relationships}/officeDocument" Target="word/document.xml"/>
</Relationships>"#
    );
    let document_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{relationships}/styles" Target="styles.xml"/>
<Relationship Id="rId2" Type="{relationships}/numbering" Target="numbering.xml"/>
<Relationship Id="rId3" Type="{relationships}/footnotes" Target="footnotes.xml"/>
</Relationships>"#
    );
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="{W}" xmlns:r="{relationships}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" xmlns:v="urn:schemas-microsoft-com:vml" mc:Ignorable="wps"><w:body>{body}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>"#
    );
    package(&[
        ("[Content_Types].xml", &content_types),
        ("_rels/.rels", &package_rels),
        ("word/document.xml", &document),
        ("word/_rels/document.xml.rels", &document_rels),
        ("word/styles.xml", STYLES),
        ("word/numbering.xml", NUMBERING),
        ("word/footnotes.xml", FOOTNOTES),
    ])
}

/// A zip of text parts, deflated.
pub fn package(parts: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in parts {
        zip.start_file(*name, options)
            .expect("a fresh zip takes parts");
        zip.write_all(text.as_bytes()).expect("writing to memory");
    }
    zip.finish().expect("the zip is complete").into_inner()
}

/// `text` escaped for XML.
pub fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A run of text.
pub fn run(text: &str) -> String {
    format!(
        r#"<w:r><w:t xml:space="preserve">{}</w:t></w:r>"#,
        xml_text(text)
    )
}

/// A plain paragraph.
pub fn p(text: &str) -> String {
    format!("<w:p>{}</w:p>", run(text))
}

/// A paragraph in list `num_id` at level `ilvl`.
pub fn numbered(num_id: u32, ilvl: u8, text: &str) -> String {
    format!(
        r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr></w:pPr>{}</w:p>"#,
        run(text)
    )
}

/// A paragraph in the style with id `style_id`.
pub fn styled(style_id: &str, text: &str) -> String {
    format!(
        r#"<w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr>{}</w:p>"#,
        run(text)
    )
}

/// A table of plain cells, the first row its header.
pub fn table(rows: &[&[&str]]) -> String {
    let rows: String = rows
        .iter()
        .map(|cells| {
            let cells: String = cells
                .iter()
                .map(|c| format!("<w:tc>{}</w:tc>", p(c)))
                .collect();
            format!("<w:tr>{cells}</w:tr>")
        })
        .collect();
    format!("<w:tbl><w:tblPr/><w:tblGrid/>{rows}</w:tbl>")
}

/// A construction contract whose 第三条 (Word numbering, not typed text) has the contractor
/// advance the funds: "本工程由乙方垫资施工". The screen should flag it under 第三条.
pub fn flagged_docx() -> Vec<u8> {
    docx(
        &[
            p("建设工程施工合同"),
            p("发包人（甲方）：某县机关事务管理局"),
            numbered(ARTICLES, 0, "工程概况：本工程为办公楼维修改造工程。"),
            numbered(ARTICLES, 0, "合同价款：暂定人民币壹佰万元。"),
            numbered(
                ARTICLES,
                0,
                "工程款支付：本工程由乙方垫资施工，待上级补助资金到位后再支付工程款。",
            ),
            numbered(ARTICLES, 0, "争议解决：向甲方所在地人民法院起诉。"),
        ]
        .concat(),
    )
}

/// An Excel package: a zip that is not a Word document.
pub fn xlsx() -> Vec<u8> {
    package(&[
        (
            "[Content_Types].xml",
            r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>"#,
        ),
    ])
}

/// A 1×1 PNG image.
pub fn png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (&b"IHDR"[..], &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0][..]),
        (
            b"IDAT",
            &[
                0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01,
            ],
        ),
        (b"IEND", &[]),
    ] {
        let length = u32::try_from(data.len()).unwrap_or(0);
        png.extend(length.to_be_bytes());
        let chunk = [kind, data].concat();
        png.extend(&chunk);
        png.extend(crc32(&chunk).to_be_bytes());
    }
    png
}

/// An OLE compound file (one 512-byte sector each for header, directory and FAT) whose
/// directory holds a stream named `stream` (at most 31 characters): "WordDocument" is an old
/// `.doc`, "EncryptedPackage" a password-protected `.docx`.
pub fn ole(stream: &str) -> Vec<u8> {
    let mut file = vec![0_u8; 512 * 3];
    file[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let end_of_chain = 0xFFFF_FFFE_u32.to_le_bytes();
    file[0x4C..512].fill(0xFF); // no further FAT sectors
    let header: [(usize, &[u8]); 10] = [
        (0x18, &0x003E_u16.to_le_bytes()), // minor version
        (0x1A, &3_u16.to_le_bytes()),      // major version: 512-byte sectors
        (0x1C, &0xFFFE_u16.to_le_bytes()), // little-endian
        (0x1E, &9_u16.to_le_bytes()),      // sector size 2^9
        (0x20, &6_u16.to_le_bytes()),      // mini sector size 2^6
        (0x2C, &1_u32.to_le_bytes()),      // one FAT sector
        (0x38, &4096_u32.to_le_bytes()),   // mini stream cutoff
        (0x3C, &end_of_chain),             // no mini FAT
        (0x44, &end_of_chain),             // no DIFAT sectors
        (0x4C, &1_u32.to_le_bytes()),      // the FAT is sector 1
    ];
    for (at, bytes) in header {
        file[at..at + bytes.len()].copy_from_slice(bytes);
    }
    // Sector 0: the directory, a root entry and the stream.
    for (index, (name, kind)) in [("Root Entry", 5_u8), (stream, 2)].into_iter().enumerate() {
        let entry = 512 + index * 128;
        let name: Vec<u8> = name
            .encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect();
        file[entry..entry + name.len()].copy_from_slice(&name);
        let length = u16::try_from(name.len()).unwrap_or(0).to_le_bytes();
        file[entry + 64..entry + 66].copy_from_slice(&length);
        file[entry + 66] = kind;
        file[entry + 0x44..entry + 0x50].fill(0xFF); // no siblings, no children…
        file[entry + 0x74..entry + 0x78].copy_from_slice(&end_of_chain); // …and empty
    }
    file[512 + 0x4C..512 + 0x50].copy_from_slice(&1_u32.to_le_bytes()); // the root holds the stream
    // Sector 1, the FAT: sector 0 (the directory) ends its chain, sector 1 is the FAT.
    let fat = 1024;
    file[fat..].fill(0xFF);
    file[fat..fat + 4].copy_from_slice(&0xFFFF_FFFE_u32.to_le_bytes());
    file[fat + 4..fat + 8].copy_from_slice(&0xFFFF_FFFD_u32.to_le_bytes());
    file
}

/// What [`zip_bomb`]'s `word/document.xml` inflates to: 200 MiB of spaces and a little more.
pub const ZIP_BOMB_BYTES: u64 = 1 + 258 * ZIP_BOMB_COPIES;
const ZIP_BOMB_COPIES: u64 = 812_850;

/// A Word package whose `word/document.xml` inflates to [`ZIP_BOMB_BYTES`] from about 1.3 MB,
/// declaring `declared_size` (honest: [`ZIP_BOMB_BYTES`]). Written by hand: deflating 200 MiB
/// in a debug build takes seconds. The part's checksum is left 0, as nothing may read that far.
pub fn zip_bomb(declared_size: u64) -> Vec<u8> {
    let mut bits = Bits::default();
    bits.push(1, 1); // the last block…
    bits.push(1, 2); // …with the fixed Huffman codes
    bits.code(0x30 + u32::from(b' '), 8); // one space,
    for _ in 0..ZIP_BOMB_COPIES {
        bits.code(0xC0 + 5, 8); // then copies of 258 bytes (length code 285)…
        bits.code(0, 5); // …from 1 byte back
    }
    bits.code(0, 7); // end of block
    let content_types = format!(
        r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="{DOCX_MAIN}"/></Types>"#
    );
    raw_zip(&[
        RawEntry::stored("[Content_Types].xml", content_types.as_bytes()),
        RawEntry {
            name: "word/document.xml",
            method: 8,
            crc: 0,
            size: declared_size,
            data: bits.finish(),
        },
    ])
}

/// Bits of a deflate stream, least significant first.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    pending: u64,
    count: u32,
}

impl Bits {
    fn push(&mut self, value: u32, count: u32) {
        self.pending |= u64::from(value) << self.count;
        self.count += count;
        while self.count >= 8 {
            self.out.push(self.pending.to_le_bytes()[0]);
            self.pending >>= 8;
            self.count -= 8;
        }
    }

    /// A Huffman code, which deflate stores most significant bit first.
    fn code(&mut self, code: u32, count: u32) {
        self.push(code.reverse_bits() >> (32 - count), count);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.out.push(self.pending.to_le_bytes()[0]);
        }
        self.out
    }
}

struct RawEntry<'a> {
    name: &'a str,
    method: u16,
    crc: u32,
    size: u64,
    data: Vec<u8>,
}

impl<'a> RawEntry<'a> {
    fn stored(name: &'a str, data: &[u8]) -> Self {
        Self {
            name,
            method: 0,
            crc: crc32(data),
            size: data.len() as u64,
            data: data.to_vec(),
        }
    }
}

/// A zip archive written field by field: local headers, the central directory, its end.
fn raw_zip(entries: &[RawEntry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut directory = Vec::new();
    for entry in entries {
        let offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
        let name_length = u16::try_from(entry.name.len()).unwrap_or(0);
        let sizes = [
            u32::try_from(entry.data.len()).unwrap_or(u32::MAX),
            u32::try_from(entry.size).unwrap_or(u32::MAX),
        ];
        // version, flags, method, time, date (1980-01-01), checksum, sizes
        let mut common = Vec::new();
        for half in [20, 0, entry.method, 0, 0x21] {
            common.extend(u16::to_le_bytes(half));
        }
        for word in [entry.crc, sizes[0], sizes[1]] {
            common.extend(u32::to_le_bytes(word));
        }
        common.extend(name_length.to_le_bytes());
        out.extend(0x0403_4B50_u32.to_le_bytes());
        out.extend(&common);
        out.extend(0_u16.to_le_bytes()); // extra field length
        out.extend(entry.name.as_bytes());
        out.extend(&entry.data);
        directory.extend(0x0201_4B50_u32.to_le_bytes());
        directory.extend(20_u16.to_le_bytes()); // made by
        directory.extend(&common);
        directory.extend([0_u8; 12]); // extra, comment, disk, internal and external attributes
        directory.extend(offset.to_le_bytes());
        directory.extend(entry.name.as_bytes());
    }
    let count = u16::try_from(entries.len()).unwrap_or(0);
    let directory_start = u32::try_from(out.len()).unwrap_or(u32::MAX);
    let directory_size = u32::try_from(directory.len()).unwrap_or(u32::MAX);
    out.extend(directory);
    out.extend(0x0605_4B50_u32.to_le_bytes());
    out.extend([0_u8; 4]); // disk numbers
    out.extend(count.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend(directory_size.to_le_bytes());
    out.extend(directory_start.to_le_bytes());
    out.extend(0_u16.to_le_bytes()); // comment length
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A one-page PDF showing `lines` top to bottom, 20 points apart, as [`pdf`] does.
pub fn text_pdf(lines: &[&str]) -> Vec<u8> {
    pdf(&[lines])
}

/// A PDF with a text layer, one page per slice of lines. Lines in ASCII are set in Helvetica,
/// the others in a Chinese Type0 font (Identity-H, CIDFontType2 with CIDToGIDMap /Identity, no
/// embedded font file) whose ToUnicode map gives each character used its own CID. An empty
/// line leaves a gap; each leading space indents the line by half an em.
pub fn pdf(pages: &[&[&str]]) -> Vec<u8> {
    save(&mut text_document(pages))
}

/// [`text_pdf`] encrypted with the user password "secret".
pub fn encrypted_pdf() -> Vec<u8> {
    let mut doc = text_document(&[&["保密合同正文"]]);
    let id = Object::String(b"0123456789abcdef".to_vec(), StringFormat::Hexadecimal);
    doc.trailer.set("ID", vec![id.clone(), id]);
    let version = EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: "secret",
        key_length: 128,
        permissions: Permissions::default(),
    };
    let state = EncryptionState::try_from(version).expect("RC4 encryption is supported");
    doc.encrypt(&state)
        .expect("the document is not yet encrypted");
    save(&mut doc)
}

/// A scan: one page that only draws an image.
pub fn image_pdf() -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => 2,
            "Height" => 2,
            "ColorSpace" => "DeviceGray",
            "BitsPerComponent" => 8,
        },
        vec![0, 255, 255, 0],
    );
    let image = doc.add_object(image);
    let resources = dictionary! { "XObject" => dictionary! { "Im1" => image } };
    let operations = vec![
        Operation::new("q", vec![]),
        Operation::new("cm", [400, 0, 0, 600, 100, 100].map(Object::from).to_vec()),
        Operation::new("Do", vec![Object::Name(b"Im1".to_vec())]),
        Operation::new("Q", vec![]),
    ];
    add_pages(&mut doc, resources, vec![operations]);
    save(&mut doc)
}

fn text_document(pages: &[&[&str]]) -> Document {
    let mut doc = Document::with_version("1.5");
    let mut chars: Vec<char> = pages
        .iter()
        .flat_map(|lines| lines.iter())
        .filter(|line| !line.is_ascii())
        .flat_map(|line| line.trim_start().chars())
        .collect();
    chars.sort_unstable();
    chars.dedup();
    let cid = |c: char| chars.binary_search(&c).map_or(0, |i| i + 1);
    let chinese = chinese_font(&mut doc, &chars);
    let latin = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources = dictionary! { "Font" => dictionary! { "F1" => chinese, "F2" => latin } };
    let contents = pages
        .iter()
        .map(|lines| {
            let mut operations = vec![Operation::new("BT", vec![])];
            for (i, line) in lines.iter().enumerate() {
                let text = line.trim_start();
                if text.is_empty() {
                    continue;
                }
                let indent = 6 * (line.len() - text.len()) as i64;
                let y = 800 - 20 * i as i64;
                let (font, shown) = if text.is_ascii() {
                    ("F2", Object::string_literal(text))
                } else {
                    let codes = text.chars().flat_map(|c| (cid(c) as u16).to_be_bytes());
                    (
                        "F1",
                        Object::String(codes.collect(), StringFormat::Hexadecimal),
                    )
                };
                operations.extend([
                    Operation::new("Tf", vec![Object::Name(font.into()), 12.into()]),
                    Operation::new(
                        "Tm",
                        [1, 0, 0, 1, 72 + indent, y].map(Object::Integer).to_vec(),
                    ),
                    Operation::new("Tj", vec![shown]),
                ]);
            }
            operations.push(Operation::new("ET", vec![]));
            operations
        })
        .collect();
    add_pages(&mut doc, resources, contents);
    doc
}

/// A Type0 font for `chars`, CID n + 1 being `chars[n]`.
fn chinese_font(doc: &mut Document, chars: &[char]) -> ObjectId {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for (section, group) in chars.chunks(100).enumerate() {
        cmap.push_str(&format!("{} beginbfchar\n", group.len()));
        for (i, c) in group.iter().enumerate() {
            let unicode: String = c
                .encode_utf16(&mut [0; 2])
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            cmap.push_str(&format!("<{:04X}> <{unicode}>\n", section * 100 + i + 1));
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    let to_unicode = doc.add_object(Stream::new(dictionary! {}, cmap.into_bytes()));
    let descriptor = doc.add_object(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => "SimSun",
        "Flags" => 4,
        "FontBBox" => vec![0.into(), (-140).into(), 1000.into(), 860.into()],
        "ItalicAngle" => 0,
        "Ascent" => 860,
        "Descent" => -140,
        "CapHeight" => 700,
        "StemV" => 80,
    });
    let descendant = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => "SimSun",
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"),
            "Supplement" => 0,
        },
        "FontDescriptor" => descriptor,
        "CIDToGIDMap" => "Identity",
        "DW" => 1000,
    });
    doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => "SimSun",
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![descendant.into()],
        "ToUnicode" => to_unicode,
    })
}

/// A page tree of A4 pages sharing `resources`, one per content stream, under a catalog.
fn add_pages(doc: &mut Document, resources: lopdf::Dictionary, contents: Vec<Vec<Operation>>) {
    let pages_id = doc.new_object_id();
    let resources = doc.add_object(resources);
    let mut kids = Vec::new();
    for operations in contents {
        let content = Content { operations }.encode().expect("operations encode");
        let content = doc.add_object(Stream::new(dictionary! {}, content));
        kids.push(Object::from(doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Resources" => resources,
            "Contents" => content,
        })));
    }
    let count = i64::try_from(kids.len()).unwrap_or(0);
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
}

fn save(doc: &mut Document) -> Vec<u8> {
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("saving to memory");
    bytes
}

/// `count` copies of `bytes`, each with one to eight bytes overwritten and every fifth one cut
/// short: the same copies on every run (xorshift from a fixed seed).
pub fn mutations(bytes: &[u8], count: usize) -> Vec<Vec<u8>> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let len = bytes.len().max(1) as u64;
    (0..count)
        .map(|_| {
            let mut copy = bytes.to_vec();
            for _ in 0..=next() % 8 {
                if let Some(byte) = copy.get_mut((next() % len) as usize) {
                    *byte = next().to_le_bytes()[0];
                }
            }
            if next() % 5 == 0 {
                copy.truncate((next() % len) as usize);
            }
            copy
        })
        .collect()
}
