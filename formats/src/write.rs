//! Tables of answers written out: CSV (RFC 4180 quoting, a UTF-8 BOM so
//! Excel opens Chinese text right), XLSX, GeoJSON (one Point feature per
//! row), GeoPackage (a point table GDAL and QGIS open). Rows without a
//! point are written all the same, with no geometry.

use std::path::Path;

use crate::{Format, FormatError};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
    /// Yes or no.
    Bool(bool),
    /// Nothing.
    Empty,
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Number(x) => format!("{x}"),
            Value::Bool(b) => b.to_string(),
            Value::Empty => String::new(),
        }
    }
    fn json(&self) -> serde_json::Value {
        match self {
            Value::Text(s) => s.clone().into(),
            Value::Number(x) => crate::number_value(*x),
            Value::Bool(b) => (*b).into(),
            Value::Empty => serde_json::Value::Null,
        }
    }
}

/// A row: its cells, and its point (longitude/latitude) if it has one.
pub type Row = (Vec<Value>, Option<(f64, f64)>);

/// A table to write: a header, rows of cells, and each row's point
/// (longitude/latitude, WGS 84) if it has one.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Rows, each as long as the header.
    pub rows: Vec<Row>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> FormatError + '_ {
    move |e| FormatError::io(path, e)
}

fn csv_file(path: &Path, t: &Table) -> Result<(), FormatError> {
    let mut w = CsvRows::create(path, &t.header)?;
    for (row, _) in &t.rows {
        w.push(row)?;
    }
    w.finish()
}

/// A CSV of answers written row by row as they come (RFC 4180, a BOM so
/// Excel shows Chinese right), so a long list is never held whole. It is
/// written beside the file and takes its name when finished: a run that
/// fails (or drops it unfinished) leaves no half file.
///
/// ```
/// use gridgov_formats::{CsvRows, Value};
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("out.csv");
/// let mut w = CsvRows::create(&p, &["id".to_string(), "网格".to_string()]).unwrap();
/// w.push(&[Value::Text("1".into()), Value::Text("G1, G2".into())]).unwrap();
/// assert!(!p.exists(), "not before it is finished");
/// w.finish().unwrap();
/// assert_eq!(std::fs::read_to_string(&p).unwrap(), "\u{feff}id,网格\n1,\"G1, G2\"\n");
/// ```
pub struct CsvRows {
    path: std::path::PathBuf,
    tmp: std::path::PathBuf,
    /// `None` once finished.
    w: Option<csv::Writer<std::io::BufWriter<std::fs::File>>>,
}

impl Drop for CsvRows {
    fn drop(&mut self) {
        if self.w.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl CsvRows {
    /// Starts the file with its header.
    pub fn create(path: &Path, header: &[String]) -> Result<Self, FormatError> {
        let tmp = path.with_extension("csv.part");
        let f = std::fs::File::create(&tmp).map_err(io(path))?;
        let mut b = std::io::BufWriter::new(f);
        std::io::Write::write_all(&mut b, "\u{feff}".as_bytes()).map_err(io(path))?;
        let mut w = csv::Writer::from_writer(b);
        w.write_record(header)
            .map_err(|e| FormatError::invalid(path, Format::Csv, e))?;
        Ok(CsvRows {
            path: path.to_path_buf(),
            tmp,
            w: Some(w),
        })
    }

    /// Writes one row.
    pub fn push(&mut self, row: &[Value]) -> Result<(), FormatError> {
        let Some(w) = self.w.as_mut() else {
            return Ok(());
        };
        w.write_record(row.iter().map(Value::text))
            .map_err(|e| FormatError::invalid(&self.path, Format::Csv, e))
    }

    /// Flushes the file to disk and gives it its name.
    pub fn finish(mut self) -> Result<(), FormatError> {
        let path = self.path.clone();
        let Some(w) = self.w.take() else {
            return Ok(());
        };
        let done = (|| {
            let b = w
                .into_inner()
                .map_err(|e| FormatError::io(&path, std::io::Error::other(e.to_string())))?;
            let f = b
                .into_inner()
                .map_err(|e| FormatError::io(&path, e.into_error()))?;
            f.sync_all().map_err(io(&path))?;
            std::fs::rename(&self.tmp, &path).map_err(io(&path))
        })();
        if done.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        done
    }
}

fn xlsx_file(path: &Path, t: &Table) -> Result<(), FormatError> {
    let e = |e: rust_xlsxwriter::XlsxError| FormatError::invalid(path, Format::Xlsx, e);
    if t.rows.len() >= 1_048_576 {
        return Err(FormatError::invalid(
            path,
            Format::Xlsx,
            format!(
                "{} rows: a worksheet holds at most 1,048,575; write CSV",
                t.rows.len()
            ),
        ));
    }
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in t.header.iter().enumerate() {
        ws.write_string(0, c as u16, h).map_err(e)?;
    }
    for (r, (row, _)) in t.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            match v {
                Value::Text(s) => ws.write_string(r, c, s).map(|_| ()),
                Value::Number(x) => ws.write_number(r, c, *x).map(|_| ()),
                Value::Bool(b) => ws.write_boolean(r, c, *b).map(|_| ()),
                Value::Empty => Ok(()),
            }
            .map_err(e)?;
        }
    }
    ws.set_freeze_panes(1, 0).map_err(e)?;
    wb.save(path).map_err(e)
}

fn geojson_file(path: &Path, t: &Table) -> Result<(), FormatError> {
    let features: Vec<serde_json::Value> = t
        .rows
        .iter()
        .map(|(row, p)| {
            let props: serde_json::Map<String, serde_json::Value> = t
                .header
                .iter()
                .cloned()
                .zip(row.iter().map(Value::json))
                .collect();
            serde_json::json!({
                "type": "Feature",
                "properties": props,
                "geometry": p.map(|(x, y)| serde_json::json!({"type": "Point", "coordinates": [x, y]})),
            })
        })
        .collect();
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    let f = std::fs::File::create(path).map_err(io(path))?;
    serde_json::to_writer(std::io::BufWriter::new(f), &fc)
        .map_err(|e| FormatError::invalid(path, Format::GeoJson, e))
}

/// A GeoPackage geometry blob: the `GP` header (little-endian, the SRS,
/// no envelope) and ISO WKB.
pub(crate) fn gpkg_blob(srs: i32, g: &geo::Geometry<f64>) -> Vec<u8> {
    let mut b = Vec::with_capacity(64);
    b.extend_from_slice(b"GP\x00\x01");
    b.extend_from_slice(&srs.to_le_bytes());
    // Writing into a Vec cannot fail.
    let _ = wkb::writer::write_geometry(
        &mut b,
        g,
        &wkb::writer::WriteOptions {
            endianness: wkb::Endianness::LittleEndian,
        },
    );
    b
}

/// The WKT of a GeoPackage's WGS 84 row.
const WGS84_WKT: &str = "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4326\"]]";

/// The FlatGeobuf kind of each column: numbers when every value given is one.
pub(crate) fn fgb_columns(t: &Table) -> Vec<(String, crate::fgb::Column)> {
    t.header
        .iter()
        .enumerate()
        .map(|(c, h)| {
            let mut vals = t
                .rows
                .iter()
                .filter_map(|(r, _)| r.get(c))
                .filter(|v| !matches!(v, Value::Empty))
                .peekable();
            let number = vals.peek().is_some() && vals.all(|v| matches!(v, Value::Number(_)));
            let kind = if number {
                crate::fgb::Column::Number
            } else {
                crate::fgb::Column::Text
            };
            (h.clone(), kind)
        })
        .collect()
}

/// A row's cells for FlatGeobuf: a number in a text column (or a yes/no)
/// goes as its text, which `texts` holds.
pub(crate) fn fgb_cells<'a>(
    row: &'a [Value],
    texts: &'a [String],
    header: &[(String, crate::fgb::Column)],
) -> Vec<crate::fgb::Cell<'a>> {
    use crate::fgb::{Cell, Column};
    row.iter()
        .zip(texts)
        .zip(header)
        .map(|((v, t), (_, kind))| match (v, kind) {
            (Value::Number(x), Column::Number) => Cell::Number(*x),
            (Value::Empty, _) => Cell::Empty,
            (Value::Text(s), _) => Cell::Text(s),
            (Value::Number(_) | Value::Bool(_), _) => Cell::Text(t),
        })
        .collect()
}

/// The rows with a point as FlatGeobuf; a FlatGeobuf feature always has
/// a geometry (GDAL leaves rows without one out as well), so the rows
/// without a point go, with their reasons, to `NAME.unplaced.csv` beside
/// it. Returns the files written.
fn fgb_file(path: &Path, t: &Table) -> Result<Vec<std::path::PathBuf>, FormatError> {
    let (placed, unplaced): (Vec<Row>, Vec<Row>) =
        t.rows.iter().cloned().partition(|(_, p)| p.is_some());
    let t = &Table {
        header: t.header.clone(),
        rows: placed,
    };
    let mut files = vec![path.to_path_buf()];
    let side = path.with_extension("unplaced.csv");
    if unplaced.is_empty() {
        if side.exists() {
            std::fs::remove_file(&side).map_err(io(&side))?;
        }
    } else {
        csv_file(
            &side,
            &Table {
                header: t.header.clone(),
                rows: unplaced,
            },
        )?;
        files.push(side);
    }
    let header = fgb_columns(t);
    let texts: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|(r, _)| r.iter().map(Value::text).collect())
        .collect();
    let rows: Vec<_> = t
        .rows
        .iter()
        .zip(&texts)
        .filter_map(|((r, p), tx)| {
            p.map(|(x, y)| {
                (
                    fgb_cells(r, tx, &header),
                    geo::Geometry::Point(geo::Point::new(x, y)),
                )
            })
        })
        .collect();
    crate::fgb::write(
        path,
        &header,
        &rows,
        flatgeobuf::GeometryType::Point,
        (4326, WGS84_WKT),
    )?;
    Ok(files)
}

fn gpkg_file(path: &Path, t: &Table) -> Result<(), FormatError> {
    let geoms: Vec<Option<Vec<u8>>> = t
        .rows
        .iter()
        .map(|(_, p)| p.map(|(x, y)| gpkg_blob(4326, &geo::Geometry::Point(geo::Point::new(x, y)))))
        .collect();
    gpkg_table(path, t, &geoms, "POINT", (4326, WGS84_WKT))
}

/// Writes a GeoPackage of one feature table: the attributes of `t`, one
/// geometry blob per row, in the SRS given by its EPSG code and WKT.
pub(crate) fn gpkg_table(
    path: &Path,
    t: &Table,
    geoms: &[Option<Vec<u8>>],
    geom_type: &str,
    (srs, srs_wkt): (i32, &str),
) -> Result<(), FormatError> {
    let e = |e: rusqlite::Error| FormatError::invalid(path, Format::GeoPackage, e);
    if path.exists() {
        std::fs::remove_file(path).map_err(io(path))?;
    }
    let mut db = rusqlite::Connection::open(path).map_err(e)?;
    let table = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("answers")
        .to_string();
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let kinds: Vec<&str> = (0..t.header.len())
        .map(|c| {
            let vals = t
                .rows
                .iter()
                .map(|(r, _)| r.get(c))
                .filter(|v| !matches!(v, Some(Value::Empty) | None));
            let mut vals = vals.peekable();
            if vals.peek().is_none() {
                "TEXT"
            } else if vals.clone().all(|v| matches!(v, Some(Value::Number(_)))) {
                "REAL"
            } else if vals.all(|v| matches!(v, Some(Value::Bool(_)))) {
                "BOOLEAN"
            } else {
                "TEXT"
            }
        })
        .collect();
    let cols: Vec<String> = t
        .header
        .iter()
        .zip(&kinds)
        .map(|(h, k)| format!("{} {k}", q(h)))
        .collect();
    let tx = db.transaction().map_err(e)?;
    tx.execute_batch(&format!(
        "PRAGMA application_id = 1196444487; PRAGMA user_version = 10300;
         CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
         INSERT INTO gpkg_spatial_ref_sys VALUES
           ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', NULL),
           ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', NULL),
           ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{}', NULL);
         CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name));
         CREATE TABLE {} (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom {geom_type}{}{});",
        WGS84_WKT.replace('\'', "''"),
        q(&table),
        if cols.is_empty() { "" } else { ", " },
        cols.join(", ")
    ))
    .map_err(e)?;
    if srs != 4326 {
        tx.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, 'EPSG', ?2, ?3, NULL)",
            rusqlite::params![format!("EPSG:{srs}"), srs, srs_wkt],
        )
        .map_err(e)?;
    }
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES (?1, 'features', ?1, ?2)",
        rusqlite::params![&table, srs],
    )
    .map_err(e)?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, ?3, 0, 0)",
        rusqlite::params![&table, geom_type, srs],
    )
    .map_err(e)?;
    {
        let marks: Vec<String> = (0..=t.header.len())
            .map(|i| format!("?{}", i + 1))
            .collect();
        let names: Vec<String> = std::iter::once("geom".to_string())
            .chain(t.header.iter().map(|h| q(h)))
            .collect();
        let mut ins = tx
            .prepare(&format!(
                "INSERT INTO {} ({}) VALUES ({})",
                q(&table),
                names.join(", "),
                marks.join(", ")
            ))
            .map_err(e)?;
        for ((row, _), g) in t.rows.iter().zip(geoms) {
            let mut vals: Vec<rusqlite::types::Value> = vec![
                g.clone()
                    .map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Blob),
            ];
            vals.extend(row.iter().map(|v| match v {
                Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
                Value::Number(x) => rusqlite::types::Value::Real(*x),
                Value::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
                Value::Empty => rusqlite::types::Value::Null,
            }));
            ins.execute(rusqlite::params_from_iter(vals)).map_err(e)?;
        }
    }
    tx.commit().map_err(e)
}

/// Writes a table in the format its file name says.
///
/// ```
/// use gridgov_formats::{Table, Value, write_rows};
/// let dir = tempfile::tempdir().unwrap();
/// let t = Table {
///     header: vec!["名称".into(), "grid".into()],
///     rows: vec![(vec![Value::Text("张三, 李四".into()), Value::Text("G1".into())], Some((117.5, 34.8)))],
/// };
/// write_rows(&dir.path().join("out.csv"), &t).unwrap();
/// let text = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
/// assert_eq!(text, "\u{feff}名称,grid\n\"张三, 李四\",G1\n");
/// ```
pub fn write_rows(path: &Path, t: &Table) -> Result<Vec<std::path::PathBuf>, FormatError> {
    let one = |r: Result<(), FormatError>| r.map(|()| vec![path.to_path_buf()]);
    match Format::of(path)? {
        Format::Csv => one(csv_file(path, t)),
        Format::Xlsx => one(xlsx_file(path, t)),
        Format::GeoJson => one(geojson_file(path, t)),
        Format::GeoPackage => one(gpkg_file(path, t)),
        Format::FlatGeobuf => fgb_file(path, t),
        other => Err(FormatError::invalid(
            path,
            other,
            "gridgov writes answers as .csv, .xlsx, .geojson, .gpkg or .fgb",
        )),
    }
}
