//! KML and KMZ: each Placemark a feature, its `name`, `description` and
//! ExtendedData (`Data`, `SchemaData/SimpleData`) its properties. KML is
//! longitude/latitude on WGS 84 by definition. A KMZ is a zip holding a
//! KML (`doc.kml`, or the first `.kml` in it).

use std::io::Read;
use std::path::Path;

use gridgov_spatial::Crs;
use kml::Kml;
use kml::types::{Element, Placemark};

use crate::{Format, FormatError, Layer};

fn extended_data(children: &[Element], props: &mut serde_json::Map<String, serde_json::Value>) {
    for c in children {
        match c.name.as_str() {
            "ExtendedData" | "SchemaData" => extended_data(&c.children, props),
            "SimpleData" => {
                if let Some(n) = c.attrs.get("name") {
                    props.insert(n.clone(), c.content.clone().unwrap_or_default().into());
                }
            }
            "Data" => {
                if let Some(n) = c.attrs.get("name") {
                    let v = c
                        .children
                        .iter()
                        .find(|v| v.name == "value")
                        .and_then(|v| v.content.clone())
                        .unwrap_or_default();
                    props.insert(n.clone(), v.into());
                }
            }
            _ => {}
        }
    }
}

fn feature(p: Placemark) -> Result<geojson::Feature, String> {
    let mut props = serde_json::Map::new();
    if let Some(n) = p.name {
        props.insert("name".into(), n.trim().to_string().into());
    }
    if let Some(d) = p.description {
        props.insert("description".into(), d.into());
    }
    extended_data(&p.children, &mut props);
    let geometry = match p.geometry {
        None => None,
        Some(g) => {
            let g = geo_types::Geometry::<f64>::try_from(g).map_err(|e| e.to_string())?;
            Some(geojson::Geometry::from(&polygons_as_one(g)))
        }
    };
    Ok(geojson::Feature {
        bbox: None,
        geometry,
        id: None,
        properties: Some(props),
        foreign_members: None,
    })
}

/// A KML MultiGeometry of polygons is a multipolygon (GDAL writes a
/// MultiPolygon so); other collections stay as they are.
fn polygons_as_one(g: geo_types::Geometry<f64>) -> geo_types::Geometry<f64> {
    use geo_types::Geometry as G;
    match g {
        G::GeometryCollection(c)
            if !c.0.is_empty()
                && c.0
                    .iter()
                    .all(|m| matches!(m, G::Polygon(_) | G::MultiPolygon(_))) =>
        {
            let mut polys = Vec::new();
            for m in c.0 {
                match m {
                    G::Polygon(p) => polys.push(p),
                    G::MultiPolygon(mp) => polys.extend(mp.0),
                    _ => {}
                }
            }
            G::MultiPolygon(geo_types::MultiPolygon::new(polys))
        }
        other => other,
    }
}

/// Collects placemarks, with the name of the folder or document each is in.
fn walk(k: Kml, folder: Option<&str>, out: &mut Vec<(Option<String>, Placemark)>) {
    match k {
        Kml::KmlDocument(d) => {
            for e in d.elements {
                walk(e, folder, out);
            }
        }
        Kml::Document { elements, .. } => {
            let name = elements.iter().find_map(|e| match e {
                Kml::Element(el) if el.name == "name" => el.content.clone(),
                _ => None,
            });
            for e in elements {
                walk(e, name.as_deref().or(folder), out);
            }
        }
        Kml::Folder(f) => {
            let name = f.name.clone();
            for e in f.elements {
                walk(e, name.as_deref().or(folder), out);
            }
        }
        Kml::Placemark(p) => out.push((folder.map(str::to_string), p)),
        _ => {}
    }
}

/// The KML texts of a file: the file itself, or every `.kml` inside a
/// KMZ (GDAL's LIBKML driver writes `doc.kml` with a link to one file
/// per layer under `layers/`), each with the name of its layer.
fn kml_texts(path: &Path, format: Format) -> Result<Vec<(String, String)>, FormatError> {
    let stem = |p: &Path| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string()
    };
    if format == Format::Kml {
        let t = std::fs::read_to_string(path).map_err(|e| FormatError::io(path, e))?;
        return Ok(vec![(stem(path), t)]);
    }
    let f = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let mut z = zip::ZipArchive::new(f).map_err(|e| FormatError::invalid(path, format, e))?;
    let names: Vec<String> = z
        .file_names()
        .filter_map(|n| n.ok().map(std::borrow::Cow::into_owned))
        .filter(|n| n.to_ascii_lowercase().ends_with(".kml"))
        .collect();
    if names.is_empty() {
        return Err(FormatError::invalid(path, format, "it holds no .kml"));
    }
    let mut out = Vec::new();
    for entry in names {
        let mut text = String::new();
        z.by_name(&entry)
            .map_err(|e| FormatError::invalid(path, format, e))?
            .read_to_string(&mut text)
            .map_err(|e| FormatError::invalid(path, format, format!("{entry}: {e}")))?;
        out.push((stem(Path::new(&entry)), text));
    }
    Ok(out)
}

/// Checks that the text is whole, well-formed XML: the `kml` crate reads
/// a cut-off file (a Placemark never closed) without ever finishing.
fn well_formed(text: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(text);
    r.config_mut().check_end_names = true;
    let mut depth = 0usize;
    loop {
        match r.read_event() {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Eof) if depth == 0 => return Ok(()),
            Ok(Event::Eof) => {
                return Err(format!(
                    "it ends with {depth} elements still open (cut off?)"
                ));
            }
            Ok(_) => {}
            Err(e) => return Err(format!("at byte {}: {e}", r.buffer_position())),
        }
    }
}

pub(crate) fn read(path: &Path, format: Format, layer: Option<&str>) -> Result<Layer, FormatError> {
    let mut placemarks = Vec::new();
    for (entry, text) in kml_texts(path, format)? {
        well_formed(&text)
            .map_err(|e| FormatError::invalid(path, format, format!("{entry}: {e}")))?;
        let k: Kml = text
            .parse()
            .map_err(|e: kml::Error| FormatError::invalid(path, format, format!("{entry}: {e}")))?;
        walk(k, Some(&entry), &mut placemarks);
    }
    if let Some(l) = layer {
        let folders: std::collections::BTreeSet<String> =
            placemarks.iter().filter_map(|(f, _)| f.clone()).collect();
        placemarks.retain(|(f, _)| f.as_deref() == Some(l));
        if placemarks.is_empty() {
            return Err(FormatError::Layer {
                path: path.to_path_buf(),
                message: format!("no folder {l:?}; its folders: {folders:?}"),
            });
        }
    }
    let features = placemarks
        .into_iter()
        .enumerate()
        .map(|(i, (_, p))| {
            feature(p)
                .map_err(|e| FormatError::invalid(path, format, format!("placemark {i}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Layer {
        features: geojson::FeatureCollection {
            bbox: None,
            features,
            foreign_members: None,
        },
        crs: Some(Crs::Wgs84),
        format,
        notes: Vec::new(),
    })
}
