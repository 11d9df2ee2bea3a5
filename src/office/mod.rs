//! Office files written for people: the review opinion letter as a Word `.docx` an office prints
//! on its letterhead, and registers and reports as Excel `.xlsx`. Pure: data in, bytes out.

use std::fmt;

pub mod letter;
pub mod sheet;

/// Why an office file could not be produced. Both writers work in memory, so this is a fault of
/// the input's size (more rows than Excel allows, a part beyond zip limits), never of I/O.
#[derive(Debug)]
pub enum Error {
    /// The `.docx` package could not be zipped.
    Zip(zip::result::ZipError),
    /// rust_xlsxwriter refused the workbook.
    Xlsx(rust_xlsxwriter::XlsxError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Zip(_) => f.write_str("could not write the .docx package"),
            Error::Xlsx(_) => f.write_str("could not write the .xlsx workbook"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Zip(e) => Some(e),
            Error::Xlsx(e) => Some(e),
        }
    }
}
