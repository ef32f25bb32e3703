//! CSV text as records, each with the line it starts on, read with the
//! `csv` crate (RFC 4180: quoted fields, doubled quotes, CRLF or LF,
//! fields across lines; an optional UTF-8 BOM). Blank lines are skipped.
//!
//! The crate reads an unclosed quote to the end of the file and a quote
//! inside an unquoted field as a character; an export like that has lost
//! or gained a quote somewhere, so a record whose quotes do not pair up
//! is refused, naming its line, rather than read as something its writer
//! did not mean.

use serde::Serialize;

/// A problem with one line of a file (line 1 is the header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The line in the file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// One record: the line it starts on and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The line it starts on, from 1.
    pub line: usize,
    /// Its fields.
    pub fields: Vec<String>,
}

/// Reads CSV text into records.
///
/// ```
/// use gridgov_app::import::table::records;
/// let r = records("\u{feff}a,b\r\n1,\"x, \"\"y\"\"\"\n\n\"multi\nline\",z\n").unwrap();
/// assert_eq!(r.len(), 3);
/// assert_eq!(r[1].fields, ["1", "x, \"y\""]);
/// assert_eq!((r[2].line, r[2].fields[0].as_str()), (4, "multi\nline"));
/// assert_eq!(records("a,b\n1,\"open\n2,3\n").unwrap_err().line, 2);
/// ```
pub fn records(text: &str) -> Result<Vec<Record>, RowError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    // Lines are counted here: the crate's record positions count lines
    // before the record's own terminator.
    let newlines = |s: &str| s.bytes().filter(|&b| b == b'\n').count();
    let (mut counted_to, mut line_at) = (0usize, 1usize);
    loop {
        let start = rd.position().byte() as usize;
        let more = rd.read_record(&mut rec).map_err(|e| RowError {
            line: e.position().map_or(1, |p| p.line() as usize),
            message: e.to_string(),
        })?;
        if !more {
            break;
        }
        let end = (rd.position().byte() as usize).min(text.len());
        let raw = text.get(start..end).unwrap_or_default();
        line_at += newlines(text.get(counted_to..start).unwrap_or_default());
        counted_to = start;
        let skipped = raw.len() - raw.trim_start_matches(['\r', '\n']).len();
        let line = line_at + newlines(&raw[..skipped]);
        if raw.bytes().filter(|&b| b == b'"').count() % 2 == 1 {
            return Err(RowError {
                line,
                message: "a quote is not closed, or stands inside an unquoted field".into(),
            });
        }
        if rec.len() == 1 && rec[0].trim().is_empty() {
            continue;
        }
        out.push(Record {
            line,
            fields: rec.iter().map(str::to_owned).collect(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stray_quote_in_an_unquoted_field_names_its_line() {
        let e = records("a,b\n1,2\n3,x\"y\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(records("a,b\n1,\"x\"\"y\"\n").is_ok());
    }

    #[test]
    fn lines_count_from_one_across_crlf_and_multi_line_fields() {
        let r = records("h\r\n\"a\r\nb\"\r\nc\r\n").unwrap();
        assert_eq!(r.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2, 4]);
    }
}
