//! Registers and reports as an Excel `.xlsx` workbook: one sheet per table, a bold header row
//! that stays in view and carries a filter, amounts as real numbers shown in yuan.
//!
//! Cells are typed ([`Cell`]) so that Excel can sum, sort and filter them; text is always
//! written as a string, never as a formula, so "=HYPERLINK(…)" typed into a contract name stays
//! inert.

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ColNum, ExcelDateTime, Format, RowNum, Workbook, Worksheet, XlsxError};

use super::Error;

/// One worksheet: a header row of `columns`, then `rows`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    /// Made acceptable to Excel by [`workbook`]: at most 31 characters, none of `[]:*?/\`,
    /// unique in the workbook.
    pub name: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub title: String,
    /// In Excel's units, the width of one "0"; a CJK character takes about two.
    pub width: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Integer(i64),
    /// An amount in fen, stored as a number of yuan and shown as 12,345.67.
    Yuan(i64),
    Date(NaiveDate),
    /// A fraction shown as a percentage: 0.125 is 12.50%.
    Percent(f64),
    Empty,
}

/// Writes the sheets as one `.xlsx` workbook (an empty slice gives one empty sheet).
///
/// # Errors
///
/// [`Error::Xlsx`] when a sheet exceeds Excel's limits (1,048,576 rows, 16,384 columns).
pub fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>, Error> {
    let mut book = Workbook::new();
    let formats = Formats::new();
    for (sheet, name) in sheets.iter().zip(sheet_names(sheets)) {
        let worksheet = book.add_worksheet();
        worksheet.set_name(name).map_err(Error::Xlsx)?;
        write_sheet(worksheet, sheet, &formats).map_err(Error::Xlsx)?;
    }
    book.save_to_buffer().map_err(Error::Xlsx)
}

struct Formats {
    header: Format,
    yuan: Format,
    date: Format,
    percent: Format,
}

impl Formats {
    fn new() -> Self {
        Formats {
            header: Format::new().set_bold(),
            yuan: Format::new().set_num_format("#,##0.00"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            percent: Format::new().set_num_format("0.00%"),
        }
    }
}

fn write_sheet(
    worksheet: &mut Worksheet,
    sheet: &Sheet,
    formats: &Formats,
) -> Result<(), XlsxError> {
    for (index, column) in sheet.columns.iter().enumerate() {
        let col = column_number(index)?;
        worksheet.set_column_width(col, column_width(column.width))?;
        worksheet.write_string_with_format(0, col, text(&column.title), &formats.header)?;
    }
    for (index, cells) in sheet.rows.iter().enumerate() {
        let row = row_number(index + 1)?;
        for (index, cell) in cells.iter().enumerate() {
            write_cell(worksheet, row, column_number(index)?, cell, formats)?;
        }
    }
    worksheet.set_freeze_panes(1, 0)?;
    if let Some(last_column) = sheet.columns.len().checked_sub(1) {
        worksheet.autofilter(
            0,
            0,
            row_number(sheet.rows.len())?,
            column_number(last_column)?,
        )?;
    }
    Ok(())
}

fn write_cell(
    worksheet: &mut Worksheet,
    row: RowNum,
    col: ColNum,
    cell: &Cell,
    formats: &Formats,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(value) => worksheet.write_string(row, col, text(value))?,
        Cell::Integer(value) => worksheet.write_number(row, col, *value as f64)?,
        Cell::Yuan(fen) => {
            worksheet.write_number_with_format(row, col, *fen as f64 / 100.0, &formats.yuan)?
        }
        Cell::Date(date) => match excel_date(*date) {
            Some(date) => worksheet.write_date_with_format(row, col, date, &formats.date)?,
            None => worksheet.write_string(row, col, date.to_string())?,
        },
        Cell::Percent(value) if value.is_finite() => {
            worksheet.write_number_with_format(row, col, *value, &formats.percent)?
        }
        Cell::Percent(_) | Cell::Empty => worksheet,
    };
    Ok(())
}

/// Excel counts days from 1900 and stops at 9999; dates outside are written as text.
fn excel_date(date: NaiveDate) -> Option<ExcelDateTime> {
    let year = u16::try_from(date.year()).ok()?;
    let month = u8::try_from(date.month()).ok()?;
    let day = u8::try_from(date.day()).ok()?;
    ExcelDateTime::from_ymd(year, month, day).ok()
}

/// Excel's widths run from 0 to 255; anything else falls back to its default.
fn column_width(width: f64) -> f64 {
    if (0.0..=255.0).contains(&width) {
        width
    } else {
        8.43
    }
}

fn row_number(index: usize) -> Result<RowNum, XlsxError> {
    RowNum::try_from(index).map_err(|_| XlsxError::RowColumnLimitError)
}

fn column_number(index: usize) -> Result<ColNum, XlsxError> {
    ColNum::try_from(index).map_err(|_| XlsxError::RowColumnLimitError)
}

/// Excel keeps at most 32,767 UTF-16 units in a cell; control characters other than tab and
/// line feed would show as `_x0001_` escapes, so they are dropped.
fn text(value: &str) -> String {
    let kept = value
        .chars()
        .filter(|&c| matches!(c, '\t' | '\n') || !c.is_control());
    truncate_utf16(kept, 32_767)
}

fn truncate_utf16(chars: impl Iterator<Item = char>, limit: usize) -> String {
    let mut units = 0;
    chars
        .take_while(|c| {
            units += c.len_utf16();
            units <= limit
        })
        .collect()
}

/// Names Excel accepts, in sheet order: forbidden characters become `_`, long names are cut to
/// 31 characters, blank ones become `Sheet<n>`, and repeats (which Excel compares without
/// regard to case) get a ` (2)`, ` (3)` … suffix.
fn sheet_names(sheets: &[Sheet]) -> Vec<String> {
    let mut taken: Vec<String> = Vec::with_capacity(sheets.len());
    let mut names = Vec::with_capacity(sheets.len());
    for (index, sheet) in sheets.iter().enumerate() {
        let name = unique_name(base_name(&sheet.name, index), &taken);
        taken.push(name.to_lowercase());
        names.push(name);
    }
    names
}

fn base_name(raw: &str, index: usize) -> String {
    let cleaned = raw
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c });
    let name = truncate_utf16(cleaned, 31);
    // Excel rejects a leading or trailing apostrophe, and reserves "History".
    let name = name.trim().trim_matches('\'').trim();
    if name.is_empty() || name.eq_ignore_ascii_case("history") {
        format!("Sheet{}", index + 1)
    } else {
        name.to_owned()
    }
}

fn unique_name(base: String, taken: &[String]) -> String {
    if !taken.contains(&base.to_lowercase()) {
        return base;
    }
    (2..)
        .map(|n| {
            let suffix = format!(" ({n})");
            let stem = truncate_utf16(base.chars(), 31_usize.saturating_sub(suffix.len()));
            format!("{}{suffix}", stem.trim_end_matches('\''))
        })
        .find(|name| !taken.contains(&name.to_lowercase()))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

    use super::*;

    fn register() -> Sheet {
        Sheet {
            name: "合同登记".into(),
            columns: vec![
                Column {
                    title: "合同名称".into(),
                    width: 40.0,
                },
                Column {
                    title: "金额（元）".into(),
                    width: 16.0,
                },
                Column {
                    title: "签订日期".into(),
                    width: 12.0,
                },
                Column {
                    title: "份数".into(),
                    width: 6.0,
                },
                Column {
                    title: "完成率".into(),
                    width: f64::NAN,
                },
            ],
            rows: vec![
                vec![
                    Cell::Text("示范市第一中学食堂承包合同".into()),
                    Cell::Yuan(1_234_567),
                    Cell::Date(NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date")),
                    Cell::Integer(3),
                    Cell::Percent(0.125),
                ],
                vec![
                    Cell::Text("=HYPERLINK(\"http://evil\")".into()),
                    Cell::Yuan(-5),
                    Cell::Date(NaiveDate::from_ymd_opt(1066, 10, 14).expect("a date")),
                    Cell::Empty,
                    Cell::Percent(f64::NAN),
                ],
                vec![
                    Cell::Text("+1".into()),
                    Cell::Text("-1".into()),
                    Cell::Text("@SUM(A1)".into()),
                ],
            ],
        }
    }

    fn open(bytes: Vec<u8>) -> Xlsx<Cursor<Vec<u8>>> {
        open_workbook_from_rs(Cursor::new(bytes)).expect("an xlsx workbook")
    }

    fn part(bytes: &[u8], name: &str) -> String {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip archive");
        let mut xml = String::new();
        archive
            .by_name(name)
            .expect("the part")
            .read_to_string(&mut xml)
            .expect("UTF-8");
        xml
    }

    #[test]
    fn cells_read_back_with_their_types() {
        // Arrange
        let sheets = [register()];

        // Act
        let mut book = open(workbook(&sheets).expect("the workbook is written"));
        let range = book.worksheet_range("合同登记").expect("the sheet");

        // Assert
        let text = |s: &str| Some(Data::String(s.into()));
        assert_eq!(range.get_value((0, 0)).cloned(), text("合同名称"));
        assert_eq!(range.get_value((0, 4)).cloned(), text("完成率"));
        assert_eq!(
            range.get_value((1, 0)).cloned(),
            text("示范市第一中学食堂承包合同")
        );
        assert_eq!(
            range.get_value((1, 1)).cloned(),
            Some(Data::Float(12_345.67))
        );
        assert_eq!(range.get_value((2, 1)).cloned(), Some(Data::Float(-0.05)));
        assert_eq!(range.get_value((1, 3)).cloned(), Some(Data::Float(3.0)));
        assert_eq!(range.get_value((1, 4)).cloned(), Some(Data::Float(0.125)));
        assert_eq!(range.get_value((2, 2)).cloned(), text("1066-10-14"));
        assert_eq!(
            range.get_value((2, 0)).cloned(),
            text("=HYPERLINK(\"http://evil\")")
        );
        assert_eq!(range.get_value((3, 0)).cloned(), text("+1"));
        assert_eq!(range.get_value((3, 2)).cloned(), text("@SUM(A1)"));
        let formulas = book.worksheet_formula("合同登记").expect("the formulas");
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "no cell holds a formula"
        );
    }

    #[test]
    fn header_is_bold_frozen_and_filtered_with_formats() {
        let bytes = workbook(&[register()]).expect("the workbook is written");

        let sheet = part(&bytes, "xl/worksheets/sheet1.xml");
        let styles = part(&bytes, "xl/styles.xml");

        assert!(sheet.contains(
            r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
        ));
        assert!(sheet.contains(r#"<autoFilter ref="A1:E4"/>"#));
        assert!(sheet.contains(r#"<col min="1" max="1" width="40.7109375" customWidth="1"/>"#));
        assert!(styles.contains("<b/>"));
        for format in ["#,##0.00", "yyyy-mm-dd", "0.00%"] {
            assert!(
                styles.contains(&format!(r#"formatCode="{format}""#)),
                "{format} missing"
            );
        }
    }

    #[test]
    fn date_cells_keep_the_day() {
        let mut book = open(workbook(&[register()]).expect("the workbook is written"));

        let range = book.worksheet_range("合同登记").expect("the sheet");

        let Some(Data::DateTime(date)) = range.get_value((1, 2)) else {
            panic!("expected a date");
        };
        let (year, month, day, ..) = date.to_ymd_hms_milli();
        assert_eq!((year, month, day), (2026, 12, 7));
    }

    #[test]
    fn sheet_names_are_made_acceptable() {
        // Arrange
        let named = |name: &str| Sheet {
            name: name.into(),
            ..Sheet::default()
        };
        let sheets = [
            named("合同/登记[2026]"),
            named("合同/登记[2026]"),
            named(""),
            named(&"长".repeat(40)),
            named("'引号'"),
            named("history"),
            named("SHEET3"),
        ];

        // Act
        let book = open(workbook(&sheets).expect("the workbook is written"));

        // Assert
        let expected = [
            "合同_登记_2026_".to_owned(),
            "合同_登记_2026_ (2)".to_owned(),
            "Sheet3".to_owned(),
            "长".repeat(31),
            "引号".to_owned(),
            "Sheet6".to_owned(),
            "SHEET3 (2)".to_owned(),
        ];
        assert_eq!(book.sheet_names(), expected);
    }

    #[test]
    fn hostile_text_is_cleaned_and_cut_to_excel_limits() {
        let long = "长".repeat(40_000);
        let sheet = Sheet {
            name: "\u{0}".into(),
            columns: vec![Column {
                title: "<b>&\"'\u{1}\u{b}".into(),
                width: -1.0,
            }],
            rows: vec![
                vec![Cell::Text(long)],
                vec![Cell::Text("甲\u{0}\u{7}乙\n丙".into())],
            ],
        };

        let mut book = open(workbook(&[sheet]).expect("the workbook is written"));

        let range = book.worksheet_range("Sheet1").expect("the sheet");
        assert_eq!(
            range.get_value((0, 0)).cloned(),
            Some(Data::String("<b>&\"'".into()))
        );
        assert_eq!(
            range
                .get_value((1, 0))
                .map(|d| d.to_string().chars().count()),
            Some(32_767)
        );
        assert_eq!(
            range.get_value((2, 0)).cloned(),
            Some(Data::String("甲乙\n丙".into()))
        );
    }

    #[test]
    fn empty_input_still_makes_a_workbook() {
        let book = open(workbook(&[]).expect("the workbook is written"));

        assert_eq!(book.sheet_names().len(), 1);
    }

    #[test]
    fn too_many_columns_is_an_error() {
        let sheet = Sheet {
            name: "宽".into(),
            columns: vec![
                Column {
                    title: "列".into(),
                    width: 1.0
                };
                16_385
            ],
            rows: vec![],
        };

        assert!(matches!(workbook(&[sheet]), Err(Error::Xlsx(_))));
    }

    #[test]
    fn error_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
    }
}
