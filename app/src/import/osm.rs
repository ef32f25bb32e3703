//! OpenStreetMap PBF import: buildings (closed ways and multipolygon
//! relations) with addresses and levels, entrances as units, shops, offices,
//! crafts and service amenities as merchants, `man_made=surveillance` as
//! cameras. Dirty parts — buildings cut at the extract's edge, broken
//! rings — are reported and skipped, never a panic.

use std::collections::HashMap;

use geo::{BoundingRect, Centroid, Coord, LineString, MultiPolygon, Polygon};
use gridgov_spatial::{
    Building, BuildingId, Camera, District, MapFeature, MapKind, MapShape, Merchant, Unit,
};
use osmpbf::{Element, ElementReader, RelMemberType};

/// Counts and problems of one OSM import.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct OsmReport {
    /// The file.
    pub file: String,
    /// Nodes, ways and relations read.
    pub elements: usize,
    /// Buildings imported.
    pub buildings: usize,
    /// Buildings with an address.
    pub addressed_buildings: usize,
    /// Units (entrances) imported.
    pub units: usize,
    /// Merchants imported.
    pub merchants: usize,
    /// Cameras imported.
    pub cameras: usize,
    /// Roads (ways with `highway`), in parts where the extract cuts them.
    pub roads: usize,
    /// Roads with a name.
    pub named_roads: usize,
    /// Rivers, canals and streams (lines).
    pub waterways: usize,
    /// Lakes, ponds, reservoirs and riverbanks (areas).
    pub water_areas: usize,
    /// Named places (`place=*`).
    pub places: usize,
    /// Buildings skipped because nodes are missing (cut at the extract edge).
    pub cut_at_edge: usize,
    /// Buildings skipped because their rings do not close.
    pub broken_rings: usize,
    /// A few examples of what was skipped, with ids.
    pub examples: Vec<String>,
}

const AMENITIES: [&str; 30] = [
    "restaurant",
    "cafe",
    "bar",
    "pub",
    "fast_food",
    "bank",
    "pharmacy",
    "clinic",
    "dentist",
    "doctors",
    "kindergarten",
    "school",
    "hospital",
    "post_office",
    "library",
    "cinema",
    "theatre",
    "nightclub",
    "ice_cream",
    "car_rental",
    "fuel",
    "veterinary",
    "marketplace",
    "community_centre",
    "townhall",
    "police",
    "courthouse",
    "university",
    "college",
    "bureau_de_change",
];

type Tags = Vec<(String, String)>;
/// A multipolygon relation: id, tags, (role, way id) members.
type RelationItem = (i64, Tags, Vec<(String, i64)>);

fn tag<'a>(tags: &'a Tags, k: &str) -> Option<&'a str> {
    tags.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.as_str())
}

fn merchant_category(tags: &Tags) -> Option<String> {
    if let Some(v) = tag(tags, "shop") {
        return Some(v.to_string());
    }
    if let Some(v) = tag(tags, "office") {
        return Some(format!("office:{v}"));
    }
    if let Some(v) = tag(tags, "craft") {
        return Some(format!("craft:{v}"));
    }
    tag(tags, "amenity")
        .filter(|v| AMENITIES.contains(v))
        .map(str::to_string)
}

fn address(tags: &Tags) -> Option<String> {
    let street = tag(tags, "addr:street")?;
    let no = tag(tags, "addr:housenumber")?;
    Some(format!("{street} {no}"))
}

fn floors(tags: &Tags) -> u16 {
    tag(tags, "building:levels")
        .and_then(|v| v.split([';', ',', '.']).next()?.trim().parse().ok())
        .unwrap_or(0)
}

/// Joins way node lists into closed rings.
fn assemble_rings(mut parts: Vec<Vec<i64>>) -> Option<Vec<Vec<i64>>> {
    let mut rings = Vec::new();
    while let Some(mut ring) = parts.pop() {
        while ring.first() != ring.last() {
            let end = *ring.last()?;
            let k = parts
                .iter()
                .position(|p| p.first() == Some(&end) || p.last() == Some(&end))?;
            let mut p = parts.swap_remove(k);
            if p.first() != Some(&end) {
                p.reverse();
            }
            ring.extend_from_slice(&p[1..]);
        }
        rings.push(ring);
    }
    Some(rings)
}

struct Reader {
    nodes: HashMap<i64, (f64, f64)>,
    node_tags: Vec<(i64, Tags)>,
    ways: HashMap<i64, Vec<i64>>,
    way_tags: Vec<(i64, Tags)>,
    relations: Vec<RelationItem>,
}

fn tags_of<'a>(it: impl Iterator<Item = (&'a str, &'a str)>) -> Tags {
    it.map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn interesting(t: &Tags) -> bool {
    t.iter().any(|(k, _)| {
        matches!(
            k.as_str(),
            "building"
                | "entrance"
                | "shop"
                | "office"
                | "craft"
                | "amenity"
                | "man_made"
                | "addr:housenumber"
                | "highway"
                | "waterway"
                | "natural"
                | "landuse"
                | "place"
        )
    })
}

/// The name shown on the map: Chinese where the data has it.
fn map_name(tags: &Tags) -> String {
    ["name:zh", "name:zh-Hans", "name"]
        .iter()
        .find_map(|k| tag(tags, k))
        .unwrap_or("")
        .to_string()
}

/// `highway` values that are not roads on the ground.
const NOT_ROADS: [&str; 7] = [
    "proposed",
    "construction",
    "abandoned",
    "platform",
    "raceway",
    "bus_stop",
    "elevator",
];

/// A way's road class, if it is a road drawn as a line.
fn road_class(tags: &Tags) -> Option<&str> {
    let v = tag(tags, "highway")?;
    (!NOT_ROADS.contains(&v) && tag(tags, "area") != Some("yes")).then_some(v)
}

/// A way's waterway class, if it is a river, canal or stream line.
fn waterway_class(tags: &Tags) -> Option<&str> {
    tag(tags, "waterway").filter(|v| matches!(*v, "river" | "canal" | "stream" | "drain" | "ditch"))
}

/// The class of a water area (`natural=water`, a riverbank, a reservoir).
fn water_area_class(tags: &Tags) -> Option<&str> {
    if tag(tags, "natural") == Some("water") {
        return Some(tag(tags, "water").unwrap_or("water"));
    }
    if tag(tags, "waterway") == Some("riverbank") {
        return Some("riverbank");
    }
    tag(tags, "landuse").filter(|v| matches!(*v, "reservoir" | "basin"))
}

/// Place classes kept as names on the map.
const PLACES: [&str; 12] = [
    "city",
    "town",
    "district",
    "suburb",
    "quarter",
    "neighbourhood",
    "village",
    "hamlet",
    "isolated_dwelling",
    "locality",
    "square",
    "island",
];

/// Imports one PBF file (`name`, read from `input`) into `d`;
/// `progress` hears how many elements were read, every 50,000.
pub fn import_pbf<R: std::io::Read + Send>(
    name: &str,
    input: R,
    d: &mut District,
    progress: &mut dyn FnMut(usize),
) -> Result<OsmReport, String> {
    let reader = ElementReader::new(input);
    let mut r = Reader {
        nodes: HashMap::new(),
        node_tags: Vec::new(),
        ways: HashMap::new(),
        way_tags: Vec::new(),
        relations: Vec::new(),
    };
    let mut report = OsmReport {
        file: name.to_owned(),
        ..OsmReport::default()
    };
    let mut count = 0usize;
    reader
        .for_each(|el| {
            count += 1;
            if count.is_multiple_of(50_000) {
                progress(count);
            }
            match el {
                Element::Node(n) => {
                    r.nodes.insert(n.id(), (n.lon(), n.lat()));
                    let t = tags_of(n.tags());
                    if interesting(&t) {
                        r.node_tags.push((n.id(), t));
                    }
                }
                Element::DenseNode(n) => {
                    r.nodes.insert(n.id(), (n.lon(), n.lat()));
                    let t = tags_of(n.tags());
                    if interesting(&t) {
                        r.node_tags.push((n.id(), t));
                    }
                }
                Element::Way(w) => {
                    r.ways.insert(w.id(), w.refs().collect());
                    let t = tags_of(w.tags());
                    if interesting(&t) {
                        r.way_tags.push((w.id(), t));
                    }
                }
                Element::Relation(rel) => {
                    let t = tags_of(rel.tags());
                    if tag(&t, "type") == Some("multipolygon")
                        && (tag(&t, "building").is_some() || water_area_class(&t).is_some())
                    {
                        let members = rel
                            .members()
                            .filter(|m| m.member_type == RelMemberType::Way)
                            .map(|m| (m.role().unwrap_or("").to_string(), m.member_id))
                            .collect();
                        r.relations.push((rel.id(), t, members));
                    }
                }
            }
        })
        .map_err(|e| format!("{name}: {e}"))?;
    if count == 0 {
        return Err(format!(
            "{name}: no OpenStreetMap data in it (not an .osm.pbf extract, or an empty one)"
        ));
    }
    report.elements = count;

    let ring = |refs: &[i64]| -> Result<LineString<f64>, i64> {
        refs.iter()
            .map(|id| r.nodes.get(id).map(|&(x, y)| Coord { x, y }).ok_or(*id))
            .collect::<Result<Vec<_>, _>>()
            .map(LineString::new)
    };
    let mut node_building: HashMap<i64, BuildingId> = HashMap::new();
    let mut add_building = |d: &mut District,
                            fp: MultiPolygon<f64>,
                            tags: &Tags,
                            source: String,
                            refs: &[i64],
                            report: &mut OsmReport| {
        let id = BuildingId(d.buildings.len() as u32);
        for n in refs {
            node_building.entry(*n).or_insert(id);
        }
        let addr = address(tags);
        report.addressed_buildings += usize::from(addr.is_some());
        d.buildings.push_back(Building {
            code: source.replace(['/', ':'], "-"),
            address: addr.unwrap_or_default(),
            floors: floors(tags),
            footprint: fp,
            source: Some(source),
            leaders: Vec::new(),
        });
        report.buildings += 1;
    };
    let skip = |report: &mut OsmReport, why: &str, what: String| {
        if report.examples.len() < 20 {
            report.examples.push(format!("{what}: {why}"));
        }
    };
    // Buildings from closed ways.
    for (id, t) in &r.way_tags {
        if tag(t, "building").is_none() {
            continue;
        }
        let refs = &r.ways[id];
        if refs.len() < 4 || refs.first() != refs.last() {
            report.broken_rings += 1;
            skip(&mut report, "ring does not close", format!("way/{id}"));
            continue;
        }
        match ring(refs) {
            Ok(ls) => add_building(
                d,
                MultiPolygon::new(vec![Polygon::new(ls, vec![])]),
                t,
                format!("osm:way/{id}"),
                refs,
                &mut report,
            ),
            Err(n) => {
                report.cut_at_edge += 1;
                skip(
                    &mut report,
                    &format!("node {n} missing (cut at the extract edge)"),
                    format!("way/{id}"),
                );
            }
        }
    }
    // Buildings from multipolygon relations.
    for (id, t, members) in r
        .relations
        .iter()
        .filter(|(_, t, _)| tag(t, "building").is_some())
    {
        match relation_area(&r, members) {
            Ok(area) => {
                let refs: Vec<i64> = members
                    .iter()
                    .filter(|(role, _)| role != "inner")
                    .filter_map(|(_, w)| r.ways.get(w))
                    .flatten()
                    .copied()
                    .collect();
                add_building(d, area, t, format!("osm:relation/{id}"), &refs, &mut report);
            }
            Err(why) => {
                if why == RINGS_OPEN {
                    report.broken_rings += 1;
                } else {
                    report.cut_at_edge += 1;
                }
                skip(&mut report, why, format!("relation/{id}"));
            }
        }
    }
    // Point features.
    let building_index: Vec<(geo::Rect<f64>, BuildingId)> = d
        .buildings
        .iter()
        .enumerate()
        .filter_map(|(i, b)| {
            b.footprint
                .bounding_rect()
                .map(|r| (r, BuildingId(i as u32)))
        })
        .collect();
    let building_at = |x: f64, y: f64| {
        building_index
            .iter()
            .find(|(r, b)| {
                r.min().x <= x
                    && x <= r.max().x
                    && r.min().y <= y
                    && y <= r.max().y
                    && gridgov_spatial::pip::contains_multi(&d.buildings[b.index()].footprint, x, y)
            })
            .map(|(_, b)| *b)
    };
    let mut units: Vec<Unit> = Vec::new();
    let mut merchants: Vec<Merchant> = Vec::new();
    let mut cameras: Vec<Camera> = Vec::new();
    let mut addressed: Vec<(BuildingId, String)> = Vec::new();
    for (id, t) in &r.node_tags {
        let Some(&(x, y)) = r.nodes.get(id) else {
            continue;
        };
        let loc = geo::Point::new(x, y);
        if tag(t, "entrance").is_some() {
            let Some(b) = node_building.get(id).copied().or_else(|| building_at(x, y)) else {
                continue;
            };
            let label = tag(t, "ref")
                .or_else(|| tag(t, "addr:unit"))
                .or_else(|| tag(t, "name"))
                .map_or_else(
                    || (units.iter().filter(|u| u.building == b).count() + 1).to_string(),
                    str::to_string,
                );
            units.push(Unit {
                building: b,
                label,
                location: loc,
                households: 0,
            });
        } else if tag(t, "man_made") == Some("surveillance") {
            let heading = tag(t, "camera:direction")
                .or_else(|| tag(t, "direction"))
                .and_then(|v| v.parse::<f64>().ok());
            let dome = tag(t, "camera:type") == Some("dome") || heading.is_none();
            cameras.push(Camera {
                location: loc,
                heading_deg: heading.unwrap_or(0.0),
                fov_deg: if dome { 360.0 } else { 90.0 },
                range_m: 30.0,
            });
        } else if let Some(cat) = merchant_category(t) {
            merchants.push(Merchant {
                name: tag(t, "name").unwrap_or("").to_string(),
                category: cat,
                address: address(t).unwrap_or_default(),
                location: loc,
            });
        } else if let Some(a) = address(t)
            && let Some(b) = building_at(x, y)
        {
            addressed.push((b, a));
        }
    }
    // Merchants mapped as areas (ways that are not buildings, or are).
    for (id, t) in &r.way_tags {
        if let Some(cat) = merchant_category(t)
            && let Ok(ls) = ring(&r.ways[id])
            && let Some(c) = ls.centroid()
        {
            merchants.push(Merchant {
                name: tag(t, "name").unwrap_or("").to_string(),
                category: cat,
                address: address(t).unwrap_or_default(),
                location: c,
            });
        }
    }
    // Address points inside buildings without an address of their own.
    for (b, a) in addressed {
        let bb = &mut d.buildings[b.index()];
        if bb.address.is_empty() {
            bb.address = a;
            report.addressed_buildings += 1;
        }
    }
    basemap(&r, d, &mut report);
    report.units = units.len();
    report.merchants = merchants.len();
    report.cameras = cameras.len();
    d.units.extend(units);
    d.merchants.extend(merchants);
    d.cameras.extend(cameras);
    Ok(report)
}

/// The runs of `refs` whose nodes are all in the extract (a road the
/// extract's edge cuts keeps its parts inside).
fn present_runs(r: &Reader, refs: &[i64]) -> Vec<LineString<f64>> {
    let mut runs = Vec::new();
    let mut cur: Vec<Coord<f64>> = Vec::new();
    for id in refs {
        if let Some(&(x, y)) = r.nodes.get(id) {
            cur.push(Coord { x, y });
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    runs.push(cur);
    runs.into_iter()
        .filter(|c| c.len() >= 2)
        .map(LineString::new)
        .collect()
}

/// Why a relation has no area when its rings do not close.
const RINGS_OPEN: &str = "rings do not close";

/// A multipolygon relation's area; `Err` says why it has none.
fn relation_area(r: &Reader, members: &[(String, i64)]) -> Result<MultiPolygon<f64>, &'static str> {
    let mut outer = Vec::new();
    let mut inner = Vec::new();
    for (role, wid) in members {
        match r.ways.get(wid) {
            Some(refs) if role == "inner" => inner.push(refs.clone()),
            Some(refs) => outer.push(refs.clone()),
            None => return Err("member way missing (cut at the extract edge)"),
        }
    }
    let (Some(outers), Some(inners)) = (assemble_rings(outer), assemble_rings(inner)) else {
        return Err(RINGS_OPEN);
    };
    let ring = |refs: &Vec<i64>| -> Option<LineString<f64>> {
        refs.iter()
            .map(|id| r.nodes.get(id).map(|&(x, y)| Coord { x, y }))
            .collect::<Option<Vec<_>>>()
            .map(LineString::new)
    };
    let missing = "node missing (cut at the extract edge)";
    let mut polys: Vec<Polygon<f64>> = outers
        .iter()
        .map(|o| ring(o).map(|o| Polygon::new(o, vec![])).ok_or(missing))
        .collect::<Result<_, _>>()?;
    for h in &inners {
        let h = ring(h).ok_or(missing)?;
        let Some(c) = h.0.first().copied() else {
            continue;
        };
        if let Some(p) = polys
            .iter_mut()
            .find(|p| gridgov_spatial::pip::contains(p, c.x, c.y))
        {
            p.interiors_push(h);
        }
    }
    Ok(MultiPolygon::new(polys))
}

/// Roads, waterways, water areas and named places into the base map.
fn basemap(r: &Reader, d: &mut District, report: &mut OsmReport) {
    let push = |d: &mut District,
                kind: MapKind,
                class: &str,
                name: String,
                shape: MapShape,
                source: String| {
        d.basemap.push_back(MapFeature {
            kind,
            class: class.to_owned(),
            name,
            shape,
            source: Some(source),
        });
    };
    for (id, t) in &r.way_tags {
        let refs = &r.ways[id];
        let name = map_name(t);
        let line = road_class(t)
            .map(|c| (MapKind::Road, c))
            .or_else(|| waterway_class(t).map(|c| (MapKind::Water, c)));
        if let Some((kind, class)) = line {
            for run in present_runs(r, refs) {
                if kind == MapKind::Road {
                    report.roads += 1;
                    report.named_roads += usize::from(!name.is_empty());
                } else {
                    report.waterways += 1;
                }
                push(
                    d,
                    kind,
                    class,
                    name.clone(),
                    MapShape::Line(run),
                    format!("osm:way/{id}"),
                );
            }
        } else if let Some(class) = water_area_class(t) {
            let closed = refs.len() >= 4 && refs.first() == refs.last();
            let ring: Option<Vec<Coord<f64>>> = refs
                .iter()
                .map(|n| r.nodes.get(n).map(|&(x, y)| Coord { x, y }))
                .collect();
            if let (true, Some(ring)) = (closed, ring) {
                report.water_areas += 1;
                let area = MultiPolygon::new(vec![Polygon::new(LineString::new(ring), vec![])]);
                push(
                    d,
                    MapKind::Water,
                    class,
                    name,
                    MapShape::Area(area),
                    format!("osm:way/{id}"),
                );
            }
        }
    }
    for (id, t, members) in &r.relations {
        let Some(class) = water_area_class(t).filter(|_| tag(t, "building").is_none()) else {
            continue;
        };
        match relation_area(r, members) {
            Ok(area) => {
                report.water_areas += 1;
                push(
                    d,
                    MapKind::Water,
                    class,
                    map_name(t),
                    MapShape::Area(area),
                    format!("osm:relation/{id}"),
                );
            }
            Err(why) => {
                if report.examples.len() < 20 {
                    report.examples.push(format!("water relation/{id}: {why}"));
                }
            }
        }
    }
    for (id, t) in &r.node_tags {
        let (Some(class), Some(&(x, y))) = (tag(t, "place"), r.nodes.get(id)) else {
            continue;
        };
        let name = map_name(t);
        if PLACES.contains(&class) && !name.is_empty() {
            report.places += 1;
            push(
                d,
                MapKind::Place,
                class,
                name,
                MapShape::Point(geo::Point::new(x, y)),
                format!("osm:node/{id}"),
            );
        }
    }
}
