//! The rows of a point file: a spreadsheet (CSV, XLSX) with X/Y (or
//! address) columns, or a layer of point features. Each row keeps its
//! line, its own columns, and its point or the reason it has none, so a
//! bad row is reported and written back, never aborting the rest.
//!
//! CSV is read with the `csv` crate (RFC 4180 quoting, a UTF-8 BOM, CRLF)
//! and streamed from the file; a CSV whose first 64 KB are not UTF-8 is
//! read as GBK (what Excel in Chinese writes), and a field that is not
//! UTF-8 further on as well. A workbook's cells are read by calamine, numbers as
//! the doubles stored.

use std::path::Path;

use gridgov_spatial::Crs;

use crate::{Format, FormatError, read_layer};

/// Which columns hold what; `None` finds them by their usual names
/// (`lon`/`lng`/`longitude`/`x`/`经度`, `lat`/`latitude`/`y`/`纬度`,
/// `id`/`编号`).
#[derive(Debug, Clone, Default)]
pub struct PointColumns {
    /// The X (longitude, easting) column.
    pub x: Option<String>,
    /// The Y (latitude, northing) column.
    pub y: Option<String>,
    /// The id column.
    pub id: Option<String>,
    /// An address column: rows are addresses to geocode, not points.
    pub address: Option<String>,
    /// The sheet of a workbook, the table of a GeoPackage, the folder of
    /// a KML.
    pub layer: Option<String>,
}

/// One row of a point file.
#[derive(Debug, Clone, PartialEq)]
pub struct PointRow {
    /// Its line in the file (CSV: the line it starts on, header = 1;
    /// workbook: the sheet's row number; layers: the feature's number
    /// from 1).
    pub line: usize,
    /// Its id (the id column, empty when there is none).
    pub id: String,
    /// Its own values, in the order of [`Points::header`].
    pub fields: Vec<String>,
    /// Its coordinates as given, or why it has none.
    pub xy: Result<(f64, f64), String>,
    /// Its address, when an address column was named.
    pub address: Option<String>,
}

/// A point file opened for reading.
pub struct Points {
    /// The names of its columns (properties for layers).
    pub header: Vec<String>,
    /// The coordinate system it declares (`.prj`, GeoPackage, KML).
    pub crs: Option<Crs>,
    /// Notes (encoding, sheet used).
    pub notes: Vec<String>,
    /// How far [`PointRow::line`]s go, for progress (rows, or an
    /// estimate).
    pub size_hint: usize,
    /// Its rows, in order.
    pub rows: Box<dyn Iterator<Item = Result<PointRow, FormatError>>>,
}

const X_NAMES: &[&str] = &[
    "lon",
    "lng",
    "long",
    "longitude",
    "x",
    "经度",
    "x坐标",
    "横坐标",
    "easting",
];
const Y_NAMES: &[&str] = &[
    "lat",
    "latitude",
    "y",
    "纬度",
    "y坐标",
    "纵坐标",
    "northing",
];
const ID_NAMES: &[&str] = &["id", "编号", "序号", "fid"];

fn find(
    header: &[String],
    given: Option<&str>,
    names: &[&str],
    what: &str,
    path: &Path,
) -> Result<Option<usize>, FormatError> {
    let norm = |s: &str| s.trim().trim_start_matches('\u{feff}').to_lowercase();
    match given {
        Some(g) => header
            .iter()
            .position(|h| norm(h) == norm(g))
            .map(Some)
            .ok_or_else(|| FormatError::Columns {
                path: path.to_path_buf(),
                message: format!("no {what} column {g:?}; its columns: {header:?}"),
            }),
        None => Ok(header
            .iter()
            .position(|h| names.contains(&norm(h).as_str()))),
    }
}

struct Cols {
    x: Option<usize>,
    y: Option<usize>,
    id: Option<usize>,
    address: Option<usize>,
}

fn columns(header: &[String], c: &PointColumns, path: &Path) -> Result<Cols, FormatError> {
    let address = find(header, c.address.as_deref(), &[], "address", path)?;
    let x = find(header, c.x.as_deref(), X_NAMES, "X", path)?;
    let y = find(header, c.y.as_deref(), Y_NAMES, "Y", path)?;
    if address.is_none() && (x.is_none() || y.is_none()) {
        return Err(FormatError::Columns {
            path: path.to_path_buf(),
            message: format!(
                "which columns hold the coordinates? none is called lon/lat, x/y or 经度/纬度; give --x and --y (or --address-col). Its columns: {header:?}"
            ),
        });
    }
    Ok(Cols {
        x,
        y,
        id: find(header, c.id.as_deref(), ID_NAMES, "id", path)?,
        address,
    })
}

fn number(s: &str, what: &str) -> Result<f64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(format!("no {what}"));
    }
    t.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("{what} {t:?} is not a number"))
}

fn row_of(
    line: usize,
    fields: Vec<String>,
    nums: Option<(Option<f64>, Option<f64>)>,
    c: &Cols,
) -> PointRow {
    let cell = |i: Option<usize>| i.and_then(|i| fields.get(i)).map_or("", |s| s.as_str());
    let xy = match (c.x, c.y) {
        (Some(xi), Some(yi)) => {
            let (nx, ny) = nums.unwrap_or((None, None));
            let x = nx.map_or_else(|| number(cell(Some(xi)), "X"), Ok);
            let y = ny.map_or_else(|| number(cell(Some(yi)), "Y"), Ok);
            match (x, y) {
                (Ok(x), Ok(y)) => Ok((x, y)),
                (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
                (Err(_), Err(_))
                    if cell(Some(xi)).trim().is_empty() && cell(Some(yi)).trim().is_empty() =>
                {
                    Err("no coordinates".into())
                }
                (Err(a), Err(b)) => Err(format!("{a}; {b}")),
            }
        }
        _ => Err("no coordinates".into()),
    };
    PointRow {
        line,
        id: cell(c.id).trim().to_string(),
        address: c.address.map(|_| cell(c.address).trim().to_string()),
        fields,
        xy,
    }
}

/// A CSV field's text: UTF-8, else GBK.
fn field_text(b: &[u8], gbk: bool) -> String {
    match (gbk, std::str::from_utf8(b)) {
        (false, Ok(s)) => s.to_string(),
        _ => encoding_rs::GBK
            .decode_without_bom_handling(b)
            .0
            .into_owned(),
    }
}

fn csv_points(path: &Path, cols: &PointColumns) -> Result<Points, FormatError> {
    use std::io::{BufRead, BufReader};
    let f = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let size = f.metadata().map_or(0, |m| m.len());
    let mut r = BufReader::with_capacity(1 << 16, f);
    // The first 64 KB decide: gzip, the encoding, the delimiter, and an
    // estimate of the rows for the progress bar; the rest is streamed.
    let head = r.fill_buf().map_err(|e| FormatError::io(path, e))?.to_vec();
    if head.starts_with(&[0x1f, 0x8b]) {
        return Err(FormatError::invalid(
            path,
            Format::Csv,
            "it is gzip-compressed: unpack it first (gunzip)",
        ));
    }
    let gbk = match std::str::from_utf8(&head) {
        Ok(_) => false,
        // A character cut at the end of the first block is still UTF-8.
        Err(e) => e.error_len().is_some(),
    };
    let mut notes = Vec::new();
    if gbk {
        notes.push("not UTF-8: read as GBK".into());
    }
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let delim = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"))
        || (first_line.contains(&b'\t') && !first_line.contains(&b','))
    {
        b'\t'
    } else {
        b','
    };
    let lines_in_head = (head.split(|&b| b == b'\n').count() - 1).max(1);
    let size_hint = (size as f64 / head.len().max(1) as f64 * lines_in_head as f64) as usize;
    let rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(r);
    let mut records = rd.into_byte_records();
    let header: Vec<String> = match records.next() {
        Some(Ok(r)) => r
            .iter()
            .map(|s| {
                field_text(s, gbk)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_string()
            })
            .collect(),
        Some(Err(e)) => return Err(FormatError::invalid(path, Format::Csv, e)),
        None => return Err(FormatError::invalid(path, Format::Csv, "it is empty")),
    };
    let c = columns(&header, cols, path)?;
    let p = path.to_path_buf();
    let rows = records.filter_map(move |r| match r {
        Ok(r) if r.iter().all(|f| f.trim_ascii().is_empty()) => None,
        Ok(r) => {
            let line = r.position().map_or(0, |p| p.line() as usize);
            Some(Ok(row_of(
                line,
                r.iter().map(|f| field_text(f, gbk)).collect(),
                None,
                &c,
            )))
        }
        Err(e) => Some(Err(FormatError::invalid(&p, Format::Csv, e))),
    });
    Ok(Points {
        header,
        crs: None,
        notes,
        size_hint,
        rows: Box::new(rows),
    })
}

fn cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Float(x) => {
            if x.fract() == 0.0 && x.abs() < 9e15 {
                format!("{}", *x as i64)
            } else {
                format!("{x}")
            }
        }
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(t) => t.as_f64().to_string(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn xlsx_points(path: &Path, cols: &PointColumns) -> Result<Points, FormatError> {
    use calamine::Reader as _;
    let bad = |e: &dyn std::fmt::Display| FormatError::invalid(path, Format::Xlsx, e);
    let mut wb = calamine::open_workbook_auto(path).map_err(|e| bad(&e))?;
    let names = wb.sheet_names();
    let sheet = match &cols.layer {
        Some(s) if names.contains(s) => s.clone(),
        Some(s) => {
            return Err(FormatError::Layer {
                path: path.to_path_buf(),
                message: format!("no sheet {s:?}; its sheets: {names:?}"),
            });
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| bad(&"it has no sheets"))?,
    };
    let range = wb.worksheet_range(&sheet).map_err(|e| bad(&e))?;
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let mut it = range.rows();
    let header: Vec<String> = it
        .next()
        .ok_or_else(|| bad(&format!("sheet {sheet:?} is empty")))?
        .iter()
        .map(|d| cell_text(d).trim().to_string())
        .collect();
    let c = columns(&header, cols, path)?;
    let rows: Vec<Result<PointRow, FormatError>> = it
        .enumerate()
        .filter(|(_, r)| r.iter().any(|d| !cell_text(d).trim().is_empty()))
        .map(|(i, r)| {
            let num = |k: Option<usize>| match k.and_then(|k| r.get(k)) {
                Some(calamine::Data::Float(x)) => Some(*x),
                Some(calamine::Data::Int(x)) => Some(*x as f64),
                _ => None,
            };
            let nums = (num(c.x), num(c.y));
            // Sheet rows are numbered from 1 as the spreadsheet shows
            // them; the header is the first.
            Ok(row_of(
                first_row + i + 2,
                r.iter().map(cell_text).collect(),
                Some(nums),
                &c,
            ))
        })
        .collect();
    Ok(Points {
        header,
        crs: None,
        notes: vec![format!("sheet {sheet:?}")],
        size_hint: rows.len(),
        rows: Box::new(rows.into_iter()),
    })
}

fn layer_points(path: &Path, cols: &PointColumns) -> Result<Points, FormatError> {
    let layer = read_layer(path, cols.layer.as_deref())?;
    let mut header: Vec<String> = Vec::new();
    for f in &layer.features.features {
        for k in f.properties.iter().flat_map(|p| p.keys()) {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
    }
    let id = find(&header, cols.id.as_deref(), ID_NAMES, "id", path)?;
    let address = find(&header, cols.address.as_deref(), &[], "address", path)?;
    let rows: Vec<Result<PointRow, FormatError>> = layer
        .features
        .features
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let props = f.properties.unwrap_or_default();
            let fields: Vec<String> = header
                .iter()
                .map(|k| match props.get(k) {
                    None | Some(serde_json::Value::Null) => String::new(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                })
                .collect();
            let xy = match f.geometry.map(|g| g.value) {
                Some(geojson::GeometryValue::Point { coordinates }) => {
                    match (
                        coordinates.as_slice().first(),
                        coordinates.as_slice().get(1),
                    ) {
                        (Some(&x), Some(&y)) => Ok((x, y)),
                        _ => Err("a point without two coordinates".to_string()),
                    }
                }
                Some(g) => Err(format!("a {}, not a Point", g.type_name())),
                None => Err("no geometry".to_string()),
            };
            let cell =
                |k: Option<usize>| k.and_then(|k| fields.get(k)).cloned().unwrap_or_default();
            Ok(PointRow {
                line: i + 1,
                id: cell(id),
                address: address.map(|a| cell(Some(a))),
                fields,
                xy,
            })
        })
        .collect();
    Ok(Points {
        header,
        crs: layer.crs,
        notes: layer.notes,
        size_hint: rows.len(),
        rows: Box::new(rows.into_iter()),
    })
}

/// Opens a point file.
///
/// ```
/// use gridgov_formats::{PointColumns, read_points};
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("p.csv");
/// std::fs::write(&p, "编号,名称,经度,纬度\n1,\"张三, 李四\",117.55,34.86\n2,无坐标,,\n").unwrap();
/// let pts = read_points(&p, &PointColumns::default()).unwrap();
/// let rows: Vec<_> = pts.rows.map(Result::unwrap).collect();
/// assert_eq!(rows[0].fields[1], "张三, 李四");
/// assert_eq!(rows[0].xy, Ok((117.55, 34.86)));
/// assert_eq!((rows[1].line, rows[1].xy.clone()), (3, Err("no coordinates".to_string())));
/// ```
pub fn read_points(path: &Path, cols: &PointColumns) -> Result<Points, FormatError> {
    match Format::of(path)? {
        Format::Csv => csv_points(path, cols),
        Format::Xlsx => xlsx_points(path, cols),
        _ => layer_points(path, cols),
    }
}
