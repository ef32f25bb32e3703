//! GeoJSON grid layers with a mapping of which properties give id, name and
//! parent, for each level (street, community, grid).
//!
//! A mapping is JSON:
//! ```json
//! { "grids":       { "file": "pienalueet.geojson", "id": "{osaalue_tunnus}-{tunnus}",
//!                    "name": "{osaalue_nimi_fi} {tunnus}", "parent": "{osaalue_tunnus}" },
//!   "communities": { "file": "osa_alueet.geojson", "id": "{tunnus}", "name": "{nimi_fi}" },
//!   "streets":     { "from": "grids", "id": "{suurpiiri_tunnus}", "name": "{suurpiiri_nimi_fi}" } }
//! ```
//! Templates put property values in braces. A level given `"from": "grids"`
//! has no layer of its own: its areas are the distinct values in the grid
//! layer, with boundaries left empty (the union of their children). A level
//! without `parent` gets it from its children when the level above is
//! derived from them.

use std::collections::{BTreeMap, HashMap};

use geo::{Coord, LineString, MultiPolygon, Polygon};
use gridgov_spatial::{Area, AreaId, District, GridKind, Level};
use serde::Deserialize;

/// How one level is read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerMapping {
    /// The layer's file (relative to the mapping's directory).
    #[serde(default)]
    pub file: Option<String>,
    /// Or: derive this level from the grid layer's properties.
    #[serde(default)]
    pub from: Option<String>,
    /// Template of the area's code.
    pub id: String,
    /// Template of the area's name.
    pub name: String,
    /// Template of the parent's code.
    #[serde(default)]
    pub parent: Option<String>,
    /// Template of the grid kind (`basic`/`exclusive`), grids only.
    #[serde(default)]
    pub kind: Option<String>,
    /// The coordinate system of the layer's coordinates (`epsg:4547`,
    /// `gcj02`, …), when the file does not say or says wrong.
    #[serde(default)]
    pub crs: Option<String>,
    /// Which table of a GeoPackage, or folder of a KML.
    #[serde(default)]
    pub layer: Option<String>,
}

/// A mapping of layers to levels.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Streets.
    #[serde(default)]
    pub streets: Option<LayerMapping>,
    /// Communities.
    #[serde(default)]
    pub communities: Option<LayerMapping>,
    /// Grids (required).
    pub grids: LayerMapping,
    /// The coordinate system of every layer that names none of its own
    /// and whose file declares none (`gridgov import --crs`).
    #[serde(default)]
    pub crs: Option<String>,
}

/// What an import of layers found.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct LayerReport {
    /// Areas read per level.
    pub areas: BTreeMap<String, usize>,
    /// Features skipped or repaired, each with the reason and the feature.
    pub problems: Vec<String>,
    /// How each file was read: its format's notes and the coordinate
    /// system used.
    pub notes: Vec<String>,
}

/// Fills `{prop}` placeholders from a feature's properties.
pub fn fill(
    template: &str,
    props: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("template {template:?}: unclosed '{{'"))?
            + open;
        let key = &rest[open + 1..close];
        match props.get(key) {
            Some(serde_json::Value::String(s)) => out.push_str(s),
            Some(serde_json::Value::Null) | None => {
                return Err(format!("property {key:?} is missing"));
            }
            Some(v) => out.push_str(&v.to_string()),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(out.trim().to_string())
}

/// Converts a GeoJSON geometry to a multipolygon, checking rings: each must
/// have at least four positions, be closed (unclosed rings are closed and
/// reported) and have finite coordinates.
pub fn to_multi_polygon(
    g: &geojson::Geometry,
    problems: &mut Vec<String>,
    what: &str,
) -> Result<MultiPolygon<f64>, String> {
    to_multi_polygon_in(g, gridgov_spatial::Crs::Wgs84, problems, what)
}

/// [`to_multi_polygon`] for a geometry whose coordinates are in `crs`,
/// converted to longitude/latitude as they are read.
pub fn to_multi_polygon_in(
    g: &geojson::Geometry,
    crs: gridgov_spatial::Crs,
    problems: &mut Vec<String>,
    what: &str,
) -> Result<MultiPolygon<f64>, String> {
    let polys: Vec<&Vec<Vec<geojson::Position>>> = match &g.value {
        geojson::GeometryValue::Polygon { coordinates } => vec![coordinates],
        geojson::GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        other => {
            return Err(format!(
                "geometry is a {}, not a Polygon or MultiPolygon",
                other.type_name()
            ));
        }
    };
    let mut out = Vec::new();
    for (pi, rings) in polys.iter().enumerate() {
        let mut conv = Vec::new();
        for (ri, ring) in rings.iter().enumerate() {
            let mut pts = Vec::with_capacity(ring.len());
            for (ci, pos) in ring.iter().enumerate() {
                let (Some(&x), Some(&y)) = (pos.as_slice().first(), pos.as_slice().get(1)) else {
                    return Err(format!(
                        "polygon {pi} ring {ri} position {ci} has fewer than 2 numbers"
                    ));
                };
                let (x, y) = match crs {
                    gridgov_spatial::Crs::Wgs84 => (x, y),
                    other => other
                        .to_wgs84(x, y)
                        .map_err(|e| format!("polygon {pi} ring {ri} position {ci}: {e}"))?,
                };
                if !x.is_finite()
                    || !y.is_finite()
                    || !(-180.0..=180.0).contains(&x)
                    || !(-90.0..=90.0).contains(&y)
                {
                    return Err(format!(
                        "polygon {pi} ring {ri} position {ci} ({x}, {y}) is not a longitude/latitude"
                    ));
                }
                pts.push(Coord { x, y });
            }
            if pts.len() >= 2 && pts.first() != pts.last() {
                problems.push(format!(
                    "{what}: polygon {pi} ring {ri} was not closed; closed it"
                ));
                pts.push(pts[0]);
            }
            if pts.len() < 4 {
                return Err(format!(
                    "polygon {pi} ring {ri} has {} positions; a ring needs at least 4",
                    pts.len()
                ));
            }
            conv.push(LineString::new(pts));
        }
        let mut it = conv.into_iter();
        if let Some(ext) = it.next() {
            out.push(Polygon::new(ext, it.collect()));
        }
    }
    Ok(MultiPolygon::new(out))
}

/// Reads polygons from a GeoJSON FeatureCollection (for `gridgov assign`).
pub fn polygons_from_geojson(text: &str) -> Result<Vec<MultiPolygon<f64>>, String> {
    let fc: geojson::FeatureCollection = text.parse().map_err(|e| format!("not GeoJSON: {e}"))?;
    let mut problems = Vec::new();
    fc.features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let g = f
                .geometry
                .as_ref()
                .ok_or_else(|| format!("feature {i} has no geometry"))?;
            to_multi_polygon(g, &mut problems, &format!("feature {i}"))
                .map_err(|e| format!("feature {i}: {e}"))
        })
        .collect()
}

/// A layer file as read: its features (coordinates as the file has them)
/// and the coordinate system the file declares, if it does.
#[derive(Debug, Clone)]
pub struct SourceLayer {
    /// The features.
    pub features: geojson::FeatureCollection,
    /// What the file says its coordinates are.
    pub crs: Option<gridgov_spatial::Crs>,
    /// How it was read (format, encoding, …).
    pub notes: Vec<String>,
}

/// Reads a layer file the mapping names (and the table or folder in it).
pub type ReadFile<'a> = &'a dyn Fn(&str, Option<&str>) -> Result<SourceLayer, String>;

/// The coordinate system of a layer: the mapping's for the layer, else
/// the file's own, else the mapping's default, else longitude/latitude.
fn resolve_crs(
    m: &LayerMapping,
    default: Option<&str>,
    file: Option<gridgov_spatial::Crs>,
) -> Result<(gridgov_spatial::Crs, &'static str), String> {
    let parse = |c: &str| {
        c.parse::<gridgov_spatial::Crs>()
            .map_err(|e| format!("\"crs\": {e}"))
    };
    match (&m.crs, file, default) {
        (Some(c), _, _) => Ok((parse(c)?, "from the mapping")),
        (None, Some(f), _) => Ok((f, "declared by the file")),
        (None, None, Some(d)) => Ok((parse(d)?, "given with --crs")),
        (None, None, None) => Ok((
            gridgov_spatial::Crs::Wgs84,
            "assumed (the file declares none)",
        )),
    }
}

struct Raw {
    code: String,
    name: String,
    parent: Option<String>,
    kind: Option<GridKind>,
    boundary: MultiPolygon<f64>,
}

fn read_level(
    m: &LayerMapping,
    read: ReadFile<'_>,
    default_crs: Option<&str>,
    level: Level,
    grid_layer: Option<&SourceLayer>,
    report: &mut LayerReport,
) -> Result<Vec<Raw>, String> {
    let mut out: Vec<Raw> = Vec::new();
    let owned;
    let (layer, derived) = match (&m.file, &m.from) {
        (Some(_), None) if level == Level::Grid && grid_layer.is_some() => {
            (grid_layer.ok_or("the grid layer")?, false)
        }
        (Some(f), None) => {
            owned = read(f, m.layer.as_deref())?;
            (&owned, false)
        }
        (None, Some(from)) if from == "grids" => (
            grid_layer.ok_or("\"from\": \"grids\" needs the grid layer")?,
            true,
        ),
        _ => {
            return Err(format!(
                "{}: give either \"file\" or \"from\": \"grids\"",
                level.as_str()
            ));
        }
    };
    let fc = &layer.features;
    let (crs, why) = resolve_crs(m, default_crs, layer.crs)?;
    if !derived {
        let name = m.file.as_deref().unwrap_or("");
        for n in &layer.notes {
            report
                .notes
                .push(format!("{} layer {name}: {n}", level.as_str()));
        }
        report.notes.push(format!(
            "{} layer {name}: coordinates in {crs} ({why})",
            level.as_str()
        ));
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let (mut with_geometry, mut not_lon_lat_count) = (0usize, 0usize);
    let mut not_lon_lat: Option<(f64, f64)> = None;
    for (i, f) in fc.features.iter().enumerate() {
        let empty = serde_json::Map::new();
        let props = f.properties.as_ref().unwrap_or(&empty);
        let what = format!("{} feature {i}", level.as_str());
        let code = match fill(&m.id, props) {
            Ok(c) if !c.is_empty() => c,
            Ok(_) => {
                report.problems.push(format!("{what}: empty id; skipped"));
                continue;
            }
            Err(e) => {
                report.problems.push(format!("{what}: id: {e}; skipped"));
                continue;
            }
        };
        if derived {
            if seen.contains_key(&code) {
                continue;
            }
            let name = fill(&m.name, props).unwrap_or_else(|_| code.clone());
            seen.insert(code.clone(), out.len());
            out.push(Raw {
                code,
                name,
                parent: None,
                kind: None,
                boundary: MultiPolygon::new(vec![]),
            });
            continue;
        }
        let name = fill(&m.name, props).unwrap_or_else(|e| {
            report
                .problems
                .push(format!("{what} ({code}): name: {e}; using the id"));
            code.clone()
        });
        let parent = match &m.parent {
            Some(t) => match fill(t, props) {
                Ok(p) => Some(p),
                Err(e) => {
                    report
                        .problems
                        .push(format!("{what} ({code}): parent: {e}"));
                    None
                }
            },
            None => None,
        };
        let kind = if level == Level::Grid {
            match m.kind.as_deref().map(|t| fill(t, props)) {
                None => Some(GridKind::Basic),
                Some(Ok(k)) if k.eq_ignore_ascii_case("exclusive") => Some(GridKind::Exclusive),
                Some(Ok(k)) if k.eq_ignore_ascii_case("basic") || k.is_empty() => {
                    Some(GridKind::Basic)
                }
                Some(Ok(k)) => {
                    report.problems.push(format!(
                        "{what} ({code}): kind {k:?} is not basic or exclusive; using basic"
                    ));
                    Some(GridKind::Basic)
                }
                Some(Err(e)) => {
                    report
                        .problems
                        .push(format!("{what} ({code}): kind: {e}; using basic"));
                    Some(GridKind::Basic)
                }
            }
        } else {
            None
        };
        let Some(geom) = &f.geometry else {
            report
                .problems
                .push(format!("{what} ({code}): no geometry; skipped"));
            continue;
        };
        with_geometry += 1;
        let boundary =
            match to_multi_polygon_in(geom, crs, &mut report.problems, &format!("{what} ({code})"))
            {
                Ok(b) => b,
                Err(e) => {
                    if e.contains("is not a longitude/latitude") {
                        not_lon_lat.get_or_insert_with(|| first_position(geom));
                        not_lon_lat_count += 1;
                    }
                    report
                        .problems
                        .push(format!("{what} ({code}): {e}; skipped"));
                    continue;
                }
            };
        if let Some(&k) = seen.get(&code) {
            report.problems.push(format!(
                "{what} ({code}): duplicate id; merged into the first"
            ));
            out[k].boundary.0.extend(boundary.0);
            continue;
        }
        seen.insert(code.clone(), out.len());
        out.push(Raw {
            code,
            name,
            parent,
            kind,
            boundary,
        });
    }
    // A layer in another coordinate system is not a layer of bad
    // features: say what it most likely is, and import nothing.
    if with_geometry > 0 && not_lon_lat_count * 2 > with_geometry {
        let (x, y) = not_lon_lat.unwrap_or_default();
        return Err(format!(
            "the {} layer{}: {not_lon_lat_count} of its {with_geometry} features have coordinates that are not longitude/latitude (the first: {x}, {y}); {}. Say which system they are in: `gridgov import --crs epsg:CODE`, or \"crs\" in the mapping",
            level.as_str(),
            m.file
                .as_deref()
                .map(|f| format!(" {f}"))
                .unwrap_or_default(),
            gridgov_spatial::crs::guess_projected(x, y)
        ));
    }
    report.areas.insert(level.as_str().to_string(), out.len());
    Ok(out)
}

/// The first position of a geometry (for messages).
fn first_position(g: &geojson::Geometry) -> (f64, f64) {
    let p = match &g.value {
        geojson::GeometryValue::Polygon { coordinates } => {
            coordinates.first().and_then(|r| r.first())
        }
        geojson::GeometryValue::MultiPolygon { coordinates } => coordinates
            .first()
            .and_then(|p| p.first())
            .and_then(|r| r.first()),
        _ => None,
    };
    p.map_or((0.0, 0.0), |p| {
        let s = p.as_slice();
        (
            s.first().copied().unwrap_or(0.0),
            s.get(1).copied().unwrap_or(0.0),
        )
    })
}

/// Reads all layers of a mapping into a district's areas; `read` gives
/// the text of each file the mapping names.
pub fn import_layers(
    m: &Mapping,
    read: ReadFile<'_>,
    d: &mut District,
) -> Result<LayerReport, String> {
    let mut report = LayerReport::default();
    let grid_layer = match &m.grids.file {
        Some(f) => read(f, m.grids.layer.as_deref())?,
        None => return Err("the grid layer needs a \"file\"".into()),
    };
    let dc = m.crs.as_deref();
    let grids = read_level(
        &m.grids,
        read,
        dc,
        Level::Grid,
        Some(&grid_layer),
        &mut report,
    )?;
    let communities = m
        .communities
        .as_ref()
        .map(|c| {
            read_level(
                c,
                read,
                dc,
                Level::Community,
                Some(&grid_layer),
                &mut report,
            )
        })
        .transpose()?;
    let streets = m
        .streets
        .as_ref()
        .map(|s| read_level(s, read, dc, Level::Street, Some(&grid_layer), &mut report))
        .transpose()?;
    let grid_fc = &grid_layer.features;
    // Street of each grid, when streets come from the grid layer: used to
    // give communities their parent.
    let grid_street: HashMap<String, String> = match &m.streets {
        Some(sm) if sm.from.is_some() => grid_fc
            .features
            .iter()
            .filter_map(|f| {
                let p = f.properties.as_ref()?;
                Some((fill(&m.grids.id, p).ok()?, fill(&sm.id, p).ok()?))
            })
            .collect(),
        _ => HashMap::new(),
    };
    let mut ids: HashMap<(Level, String), AreaId> = HashMap::new();
    for s in streets.unwrap_or_default() {
        let mut a = Area::new(Level::Street, s.code.clone(), s.name);
        a.boundary = s.boundary;
        ids.insert((Level::Street, s.code), d.add_area(a));
    }
    let mut community_votes: HashMap<String, BTreeMap<String, usize>> = HashMap::new();
    for g in &grids {
        if let (Some(p), Some(s)) = (&g.parent, grid_street.get(&g.code)) {
            *community_votes
                .entry(p.clone())
                .or_default()
                .entry(s.clone())
                .or_default() += 1;
        }
    }
    for c in communities.unwrap_or_default() {
        let mut a = Area::new(Level::Community, c.code.clone(), c.name);
        a.boundary = c.boundary;
        let parent_code = c.parent.clone().or_else(|| {
            community_votes
                .get(&c.code)
                .and_then(|v| v.iter().max_by_key(|(_, n)| **n).map(|(s, _)| s.clone()))
        });
        if let Some(pc) = parent_code {
            match ids.get(&(Level::Street, pc.clone())) {
                Some(&p) => a.parent = Some(p),
                None => report.problems.push(format!(
                    "community {}: parent street {pc:?} not found",
                    c.code
                )),
            }
        }
        ids.insert((Level::Community, c.code), d.add_area(a));
    }
    let has_communities = m.communities.is_some();
    for g in grids {
        let mut a = Area::new(Level::Grid, g.code.clone(), g.name);
        a.kind = g.kind;
        a.boundary = g.boundary;
        if let Some(pc) = &g.parent {
            match ids.get(&(Level::Community, pc.clone())) {
                Some(&p) => a.parent = Some(p),
                None if has_communities => report.problems.push(format!(
                    "grid {}: parent community {pc:?} not found",
                    g.code
                )),
                None => {}
            }
        }
        d.add_area(a);
    }
    Ok(report)
}
