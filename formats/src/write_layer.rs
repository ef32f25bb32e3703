//! A layer of areas written out for another GIS: GeoJSON, Shapefile (with
//! `.prj` and `.cpg`, attributes in UTF-8 or GBK), GeoPackage or KML, in
//! any coordinate system gridgov converts to (KML is WGS 84 by
//! definition). Shapefile outer rings are written clockwise, as the format
//! requires.

use std::fmt::Write as _;
use std::path::Path;

use geo::{Coord, MultiPolygon};
use gridgov_spatial::Crs;
use shapefile::dbase;

use crate::{Format, FormatError, Table, Value};

/// Areas to write: text attributes (`header`), one boundary per row, in
/// longitude/latitude.
#[derive(Debug, Clone, Default)]
pub struct AreaLayer {
    /// Attribute names (a Shapefile keeps 10 bytes of each).
    pub header: Vec<String>,
    /// Each area's attributes and boundary.
    pub rows: Vec<(Vec<String>, MultiPolygon<f64>)>,
}

fn convert(mp: &MultiPolygon<f64>, crs: Crs) -> MultiPolygon<f64> {
    if crs == Crs::Wgs84 {
        return mp.clone();
    }
    geo::MapCoords::map_coords(mp, |c: Coord<f64>| {
        let (x, y) = crs.from_wgs84(c.x, c.y);
        Coord { x, y }
    })
}

/// The OGC WKT of a system, for `.prj` files and GeoPackage SRS rows.
fn wkt(crs: Crs) -> Option<(i32, &'static str)> {
    let code = match crs {
        Crs::Wgs84 => 4326,
        Crs::Epsg(c) => c,
        Crs::Gcj02 | Crs::Bd09 => return None,
    };
    crs_definitions::from_code(code).map(|d| (i32::from(code), d.wkt))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn kml(path: &Path, l: &AreaLayer) -> Result<(), FormatError> {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kml xmlns=\"http://www.opengis.net/kml/2.2\">\n<Document>\n",
    );
    let ring = |r: &geo::LineString<f64>| {
        r.0.iter()
            .map(|c| format!("{},{}", c.x, c.y))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (attrs, mp) in &l.rows {
        out.push_str("<Placemark>");
        if let Some(n) = l.header.iter().position(|h| h == "name") {
            let _ = write!(out, "<name>{}</name>", escape(&attrs[n]));
        }
        out.push_str("<ExtendedData>");
        for (h, v) in l.header.iter().zip(attrs) {
            let _ = write!(
                out,
                "<Data name=\"{}\"><value>{}</value></Data>",
                escape(h),
                escape(v)
            );
        }
        out.push_str("</ExtendedData><MultiGeometry>");
        for p in &mp.0 {
            let _ = write!(
                out,
                "<Polygon><outerBoundaryIs><LinearRing><coordinates>{}</coordinates></LinearRing></outerBoundaryIs>",
                ring(p.exterior())
            );
            for i in p.interiors() {
                let _ = write!(
                    out,
                    "<innerBoundaryIs><LinearRing><coordinates>{}</coordinates></LinearRing></innerBoundaryIs>",
                    ring(i)
                );
            }
            out.push_str("</Polygon>");
        }
        out.push_str("</MultiGeometry></Placemark>\n");
    }
    out.push_str("</Document>\n</kml>\n");
    std::fs::write(path, out).map_err(|e| FormatError::io(path, e))
}

fn shp(
    path: &Path,
    l: &AreaLayer,
    crs: Crs,
    enc: &'static encoding_rs::Encoding,
) -> Result<(), FormatError> {
    let bad = |e: &dyn std::fmt::Display| FormatError::invalid(path, Format::Shapefile, e);
    let mut names = Vec::new();
    let mut b = dbase::TableWriterBuilder::with_encoding(dbase::encoding::EncodingRs::from(enc));
    for h in &l.header {
        // dBase field names: 10 bytes of ASCII.
        let n: String = h.chars().filter(char::is_ascii).take(10).collect();
        let name = dbase::FieldName::try_from(n.as_str())
            .map_err(|e| bad(&format!("field {h:?}: {e:?}")))?;
        names.push(n);
        b = b.add_character_field(name, 254);
    }
    let mut w = shapefile::Writer::from_path(path, b).map_err(|e| bad(&e))?;
    for (attrs, mp) in &l.rows {
        let mut r = dbase::Record::default();
        for (n, v) in names.iter().zip(attrs) {
            r.insert(n.clone(), dbase::FieldValue::Character(Some(v.clone())));
        }
        let poly = shapefile::Polygon::from(convert(mp, crs));
        w.write_shape_and_record(&poly, &r).map_err(|e| bad(&e))?;
    }
    drop(w);
    let side = |ext: &str, text: &str| {
        let p = path.with_extension(ext);
        std::fs::write(&p, text).map_err(|e| FormatError::io(&p, e))
    };
    side("cpg", enc.name())?;
    if let Some((_, w)) = wkt(crs) {
        side("prj", w)?;
    }
    Ok(())
}

/// Writes areas in the format the file name says, in `crs`; Shapefile
/// attributes in `encoding` (UTF-8 when `None`).
///
/// ```
/// use gridgov_formats::{AreaLayer, read_layer, write_layer};
/// let dir = tempfile::tempdir().unwrap();
/// let sq = geo::MultiPolygon::new(vec![geo::Polygon::new(
///     vec![(117.5, 34.8), (117.6, 34.8), (117.6, 34.9), (117.5, 34.8)].into(), vec![])]);
/// let l = AreaLayer { header: vec!["code".into(), "name".into()], rows: vec![(vec!["G1".into(), "第一网格".into()], sq)] };
/// let p = dir.path().join("grids.shp");
/// write_layer(&p, &l, gridgov_spatial::Crs::Epsg(4548), Some("GBK")).unwrap();
/// let back = read_layer(&p, None).unwrap();
/// assert_eq!(back.crs, Some(gridgov_spatial::Crs::Epsg(4548)));
/// assert_eq!(back.features.features[0].properties.as_ref().unwrap()["name"], "第一网格");
/// ```
pub fn write_layer(
    path: &Path,
    l: &AreaLayer,
    crs: Crs,
    encoding: Option<&str>,
) -> Result<(), FormatError> {
    let format = Format::of(path)?;
    let enc = match encoding {
        None => encoding_rs::UTF_8,
        Some(e) => encoding_rs::Encoding::for_label(e.as_bytes())
            .ok_or_else(|| FormatError::invalid(path, format, format!("unknown encoding {e:?}")))?,
    };
    match format {
        Format::Kml | Format::Kmz if crs != Crs::Wgs84 => Err(FormatError::invalid(
            path,
            format,
            "KML is longitude/latitude on WGS 84 by definition; leave out --crs",
        )),
        Format::Kml => kml(path, l),
        Format::Shapefile => shp(path, l, crs, enc),
        Format::GeoJson => {
            let features: Vec<serde_json::Value> = l
                .rows
                .iter()
                .map(|(attrs, mp)| {
                    let props: serde_json::Map<String, serde_json::Value> = l
                        .header
                        .iter()
                        .cloned()
                        .zip(attrs.iter().map(|v| serde_json::Value::String(v.clone())))
                        .collect();
                    serde_json::json!({"type": "Feature", "properties": props,
                        "geometry": geojson::Geometry::from(&convert(mp, crs))})
                })
                .collect();
            let mut fc = serde_json::json!({"type": "FeatureCollection", "features": features});
            if let Crs::Epsg(c) = crs {
                fc["crs"] = serde_json::json!({"type": "name", "properties": {"name": format!("urn:ogc:def:crs:EPSG::{c}")}});
            }
            std::fs::write(path, fc.to_string()).map_err(|e| FormatError::io(path, e))
        }
        Format::FlatGeobuf => {
            let system = wkt(crs).ok_or_else(|| {
                FormatError::invalid(
                    path,
                    format,
                    format!("{crs} has no EPSG definition for FlatGeobuf"),
                )
            })?;
            let header: Vec<(String, crate::fgb::Column)> = l
                .header
                .iter()
                .map(|h| (h.clone(), crate::fgb::Column::Text))
                .collect();
            let rows: Vec<_> = l
                .rows
                .iter()
                .map(|(a, mp)| {
                    (
                        a.iter().map(|v| crate::fgb::Cell::Text(v)).collect(),
                        geo::Geometry::MultiPolygon(convert(mp, crs)),
                    )
                })
                .collect();
            crate::fgb::write(
                path,
                &header,
                &rows,
                flatgeobuf::GeometryType::MultiPolygon,
                system,
            )
        }
        Format::GeoPackage => {
            let (srs, w) = wkt(crs).ok_or_else(|| {
                FormatError::invalid(
                    path,
                    format,
                    format!("{crs} has no EPSG definition for a GeoPackage"),
                )
            })?;
            let t = Table {
                header: l.header.clone(),
                rows: l
                    .rows
                    .iter()
                    .map(|(a, _)| (a.iter().cloned().map(Value::Text).collect(), None))
                    .collect(),
            };
            let geoms: Vec<Option<Vec<u8>>> = l
                .rows
                .iter()
                .map(|(_, mp)| {
                    Some(crate::write::gpkg_blob(
                        srs,
                        &geo::Geometry::MultiPolygon(convert(mp, crs)),
                    ))
                })
                .collect();
            crate::write::gpkg_table(path, &t, &geoms, "MULTIPOLYGON", (srs, w))
        }
        other => Err(FormatError::invalid(
            path,
            other,
            "areas are written as .geojson, .shp, .gpkg or .kml",
        )),
    }
}
