//! Text and CSV plumbing shared by the CSV layouts: decoding (UTF-8 or cp932), records with the
//! line they start on, column look-up by header name, and what a file name tells.

use std::borrow::Cow;

use super::ImportError;

/// The text of a file: UTF-8 without its BOM, else decoded as Shift_JIS. encoding_rs's
/// Shift_JIS is the WHATWG one, i.e. Windows-31J/cp932 with the NEC and IBM extensions that
/// MHLW and J-FAGY downloads use (①, 髙…). The flag says whether it was decoded.
pub(super) fn decode<'a>(file: &str, bytes: &'a [u8]) -> Result<(Cow<'a, str>, bool), ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((Cow::Borrowed(text), false));
    }
    encoding_rs::SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| (Cow::Owned(text.into_owned()), true))
        .ok_or_else(|| ImportError::Encoding {
            file: file.to_string(),
        })
}

/// One CSV record and the 1-based line it starts on (a quoted field may span lines).
pub(super) struct Record {
    pub line: u64,
    fields: csv::StringRecord,
}

impl Record {
    /// The field, trimmed; "" past the end.
    pub fn get(&self, column: usize) -> &str {
        self.fields.get(column).map_or("", str::trim)
    }
}

/// A parsed CSV file: header names and records, every record as wide as the header.
pub(super) struct Table {
    pub file: String,
    pub headers: Vec<String>,
    pub records: Vec<Record>,
}

impl Table {
    pub fn parse(file: &str, text: &str) -> Result<Table, ImportError> {
        // MS-DOS end-of-file marker, still found at the end of old MEDIS downloads (HOT9).
        let text = text.trim_end_matches(['\u{1a}', '\r', '\n']);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut lines = LineCounter::new(text);
        let headers: Vec<String> = match reader.headers() {
            Ok(headers) => headers.iter().map(|h| h.trim().to_string()).collect(),
            Err(e) => return Err(lines.error(file, &e)),
        };
        if headers.iter().all(String::is_empty) {
            return Err(ImportError::layout(file, "no header row"));
        }
        let mut records = Vec::new();
        for fields in reader.records() {
            let fields = fields.map_err(|e| lines.error(file, &e))?;
            let line = lines.line_at(fields.position().map_or(0, csv::Position::byte));
            if fields.len() != headers.len() {
                return Err(ImportError::row(
                    file,
                    line,
                    format!(
                        "{} fields where the header has {}",
                        fields.len(),
                        headers.len()
                    ),
                ));
            }
            records.push(Record { line, fields });
        }
        Ok(Table {
            file: file.to_string(),
            headers,
            records,
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.column(name).is_some()
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// The column of a header name the layout cannot do without.
    pub fn require(&self, name: &str) -> Result<usize, ImportError> {
        self.column(name).ok_or_else(|| {
            ImportError::layout(
                &self.file,
                format!(
                    "no column `{name}` in the header `{}`",
                    self.headers.join(",")
                ),
            )
        })
    }
}

/// Line numbers from byte offsets. csv's own `Position::line` is one short after a CRLF
/// record end (BurntSushi/rust-csv#395) and after blank lines (#208), and the MHLW and MEDIS
/// files are CRLF; its byte offsets are right but may point at the `\n` of the previous CRLF.
struct LineCounter<'a> {
    bytes: &'a [u8],
    counted_to: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            bytes: text.as_bytes(),
            counted_to: 0,
            line: 1,
        }
    }

    /// The line of the first character at or after `offset` that is not a line break; offsets
    /// must not decrease between calls.
    fn line_at(&mut self, offset: u64) -> u64 {
        let len = self.bytes.len();
        let mut start = usize::try_from(offset).map_or(len, |o| o.min(len));
        while start < len && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        let start = start.max(self.counted_to);
        let breaks = self.bytes[self.counted_to..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line += u64::try_from(breaks).unwrap_or(u64::MAX);
        self.counted_to = start;
        self.line
    }

    fn error(&mut self, file: &str, e: &csv::Error) -> ImportError {
        let line = e.position().map_or(0, |p| self.line_at(p.byte()));
        ImportError::row(file, line, e.to_string())
    }
}

/// The file name without folders and extension (`.csv`, `.json`…; `R4.6.17` keeps its dots).
pub(super) fn file_stem(name: &str) -> &str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((stem, ext)) if !ext.is_empty() && ext.bytes().all(|b| b.is_ascii_alphabetic()) => {
            stem
        }
        _ => base,
    }
}

/// A version the file name states plainly: an 8-digit date (`20250716`), `v5.11` → `5.11`, or
/// a Reiwa-era date as MHLW writes it (`R4.6.17`). Underscore-separated tokens only, so that
/// `jlac10` or `17digits` are not taken for versions.
pub(super) fn version_from_name(name: &str) -> Option<String> {
    let dotted = |s: &str| s.split('.').count() >= 2 && s.split('.').all(is_digits);
    file_stem(name).split('_').find_map(|token| {
        if token.len() == 8 && is_digits(token) {
            Some(token.to_string())
        } else if let Some(v) = token.strip_prefix(['v', 'V']).filter(|v| dotted(v)) {
            Some(v.to_string())
        } else if token.strip_prefix('R').is_some_and(dotted) {
            Some(token.to_string())
        } else {
            None
        }
    })
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}
