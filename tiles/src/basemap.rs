//! The base map prepared for tiles: roads, waterways, water areas and
//! place names projected to Web Mercator once, behind R-trees, with the
//! zoom each appears from and where its name goes.
//!
//! Zooms: through roads (motorway to tertiary) and water areas from
//! every zoom the district is seen at, waterways from 12, other streets
//! and place names from 13, service roads and paths from 15.

use gridgov_spatial::{District, MapFeature, MapKind, MapShape};
use rstar::RTree;

use crate::clip::clip_line;
use crate::mvt::{LayerBuilder, Prop};
use crate::simplify::simplify_line;
use crate::source::{Boxed, Polys, Pt, boxes, boxes_in, points, project_polys};
use crate::tile::{TileId, lonlat_to_mercator};

/// How a line is drawn, from the widest down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rank {
    /// Motorway to tertiary.
    Major,
    /// Residential, unclassified and other streets.
    Street,
    /// Service roads and paths.
    Minor,
    /// Rivers, canals and streams.
    Waterway,
}

impl Rank {
    /// The lowest zoom it is drawn and sent at.
    pub(crate) fn min_zoom(self) -> u8 {
        match self {
            Rank::Major => 0,
            Rank::Waterway => 12,
            Rank::Street => 13,
            Rank::Minor => 15,
        }
    }

    /// The lowest zoom its name is written at on the plan map.
    pub(crate) fn name_zoom(self) -> u8 {
        match self {
            Rank::Major | Rank::Waterway => 13,
            Rank::Street => 15,
            Rank::Minor => 17,
        }
    }

    /// Its width on the ground, metres.
    pub(crate) fn width_m(self) -> f64 {
        match self {
            Rank::Major => 16.0,
            Rank::Street => 9.0,
            Rank::Minor => 3.0,
            Rank::Waterway => 8.0,
        }
    }
}

/// A road or waterway.
pub(crate) struct Line {
    /// Mercator metres.
    pub(crate) pts: Vec<[f64; 2]>,
    pub(crate) rank: Rank,
    pub(crate) class: String,
    pub(crate) name: String,
    /// Its length, Mercator metres.
    pub(crate) length: f64,
    /// Where its name may go, best first (none without a name).
    pub(crate) labels: Vec<LabelPlace>,
}

/// A place on a line for its name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LabelPlace {
    /// Mercator metres.
    pub(crate) at: [f64; 2],
    /// The line's direction there, radians from east, folded into
    /// −90°..90° (text reads left to right).
    pub(crate) angle: f64,
    /// Distance to the nearest other line, Mercator metres.
    pub(crate) clearance: f64,
}

/// A lake, pond or riverbank.
pub(crate) struct WaterArea {
    pub(crate) polys: Polys,
    pub(crate) class: String,
    pub(crate) name: String,
}

/// A named place.
pub(crate) struct Place {
    pub(crate) xy: [f64; 2],
    pub(crate) class: String,
    pub(crate) name: String,
}

/// Polygons of rings in tile units.
pub(crate) type TilePolys = Vec<Vec<Vec<[i32; 2]>>>;

/// A vector tile being written.
#[derive(Clone, Copy)]
pub(crate) struct TileFrame<'a> {
    /// The tile.
    pub(crate) t: TileId,
    /// The tile with its buffer, Mercator metres.
    pub(crate) q: [f64; 4],
    /// Mercator metres to tile units.
    pub(crate) to_tile: &'a dyn Fn([f64; 2]) -> [f64; 2],
    /// The clip box in tile units, on both axes.
    pub(crate) clip: (f64, f64),
    /// Polygons into tile units: clipped, simplified and rounded.
    pub(crate) polys: &'a dyn Fn(&Polys) -> TilePolys,
}

/// The base map of a district, ready for tiles.
pub(crate) struct BaseLayers {
    pub(crate) lines: Vec<Line>,
    line_tree: RTree<Boxed>,
    pub(crate) areas: Vec<WaterArea>,
    area_tree: RTree<Boxed>,
    pub(crate) places: Vec<Place>,
    place_tree: RTree<Pt>,
}

fn rank(f: &MapFeature) -> Rank {
    if f.kind == MapKind::Water {
        Rank::Waterway
    } else if f.is_major() {
        Rank::Major
    } else if f.is_minor() {
        Rank::Minor
    } else {
        Rank::Street
    }
}

/// The point at share `share` of the way along `pts`, the direction
/// there and the line's length.
fn along(pts: &[[f64; 2]], share: f64) -> Option<([f64; 2], f64, f64)> {
    let seg = |w: &[[f64; 2]]| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]);
    let total: f64 = pts.windows(2).map(seg).sum();
    if total <= 0.0 {
        return None;
    }
    let mut left = total * share;
    for w in pts.windows(2) {
        let l = seg(w);
        if l >= left && l > 0.0 {
            let t = left / l;
            let at = [
                w[0][0] + t * (w[1][0] - w[0][0]),
                w[0][1] + t * (w[1][1] - w[0][1]),
            ];
            let mut angle = (w[1][1] - w[0][1]).atan2(w[1][0] - w[0][0]);
            if angle > std::f64::consts::FRAC_PI_2 {
                angle -= std::f64::consts::PI;
            } else if angle < -std::f64::consts::FRAC_PI_2 {
                angle += std::f64::consts::PI;
            }
            return Some((at, angle, total));
        }
        left -= l;
    }
    None
}

/// Where a road's name may stand, best first: halfway, then 40%, 60%,
/// 30%, 70%, 20% and 80% along.
const LABEL_SHARES: [f64; 7] = [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8];

/// How far the clearance of a name's place is measured, Mercator metres.
const CLEARANCE_CAP: f64 = 2000.0;

/// Each named line's candidate name places with their clearance: the
/// distance to the nearest other road or waterway (up to
/// [`CLEARANCE_CAP`]), from an R-tree of every line's segments. The
/// drawing picks the first place whose clearance holds half the name at
/// that zoom, so names keep off crossings.
fn label_places(lines: &mut [Line]) {
    type Seg = rstar::primitives::GeomWithData<rstar::primitives::Line<[f64; 2]>, usize>;
    let segments: Vec<Seg> = lines
        .iter()
        .enumerate()
        .flat_map(|(j, l)| {
            l.pts
                .windows(2)
                .map(move |w| Seg::new(rstar::primitives::Line::new(w[0], w[1]), j))
        })
        .collect();
    let tree = RTree::bulk_load(segments);
    for (i, line) in lines.iter_mut().enumerate() {
        if line.name.is_empty() {
            continue;
        }
        let places: Vec<LabelPlace> = LABEL_SHARES
            .iter()
            .filter_map(|&s| along(&line.pts, s))
            .map(|(at, angle, _)| {
                let clearance = tree
                    .nearest_neighbor_iter_with_distance_2(&at)
                    .find(|(seg, _)| seg.data != i)
                    .map_or(CLEARANCE_CAP, |(_, d2)| d2.sqrt().min(CLEARANCE_CAP));
                LabelPlace {
                    at,
                    angle,
                    clearance,
                }
            })
            .collect();
        line.labels = places;
    }
}

impl BaseLayers {
    /// The base map of `d`.
    pub(crate) fn new(d: &District) -> Self {
        let mut lines = Vec::new();
        let mut line_boxes = Vec::new();
        let mut areas = Vec::new();
        let mut area_boxes = Vec::new();
        let mut places = Vec::new();
        for f in &d.basemap {
            match &f.shape {
                MapShape::Line(l) => {
                    let pts: Vec<[f64; 2]> =
                        l.0.iter()
                            .map(|c| {
                                let (x, y) = lonlat_to_mercator(c.x, c.y);
                                [x, y]
                            })
                            .collect();
                    let mut bb = [
                        f64::INFINITY,
                        f64::INFINITY,
                        f64::NEG_INFINITY,
                        f64::NEG_INFINITY,
                    ];
                    for p in &pts {
                        bb = [
                            bb[0].min(p[0]),
                            bb[1].min(p[1]),
                            bb[2].max(p[0]),
                            bb[3].max(p[1]),
                        ];
                    }
                    line_boxes.push(bb);
                    lines.push(Line {
                        length: along(&pts, 0.0).map_or(0.0, |(_, _, l)| l),
                        labels: Vec::new(),
                        pts,
                        rank: rank(f),
                        class: f.class.clone(),
                        name: f.name.clone(),
                    });
                }
                MapShape::Area(mp) => {
                    let (polys, bb) = project_polys(mp);
                    area_boxes.push(bb);
                    areas.push(WaterArea {
                        polys,
                        class: f.class.clone(),
                        name: f.name.clone(),
                    });
                }
                MapShape::Point(p) => {
                    let (x, y) = lonlat_to_mercator(p.x(), p.y());
                    places.push(Place {
                        xy: [x, y],
                        class: f.class.clone(),
                        name: f.name.clone(),
                    });
                }
            }
        }
        let line_tree = boxes(&line_boxes);
        label_places(&mut lines);
        let place_xy: Vec<[f64; 2]> = places.iter().map(|p| p.xy).collect();
        BaseLayers {
            line_tree,
            lines,
            area_tree: boxes(&area_boxes),
            areas,
            place_tree: points(&place_xy),
            places,
        }
    }

    /// The lines meeting `q` (Mercator) drawn at zoom `z`, widest last
    /// so they draw on top, then in order.
    pub(crate) fn lines_in(&self, q: [f64; 4], z: u8) -> Vec<usize> {
        let mut v: Vec<usize> = boxes_in(&self.line_tree, q)
            .into_iter()
            .filter(|&i| z >= self.lines[i].rank.min_zoom())
            .collect();
        v.sort_by_key(|&i| (std::cmp::Reverse(self.lines[i].rank), i));
        v
    }

    /// The water areas meeting `q`.
    pub(crate) fn areas_in(&self, q: [f64; 4]) -> Vec<usize> {
        boxes_in(&self.area_tree, q)
    }

    /// The places inside `q` shown at zoom `z`, in order.
    pub(crate) fn places_in(&self, q: [f64; 4], z: u8) -> Vec<usize> {
        if z < 13 {
            return Vec::new();
        }
        let env = rstar::AABB::from_corners([q[0], q[1]], [q[2], q[3]]);
        let mut v: Vec<usize> = self
            .place_tree
            .locate_in_envelope(&env)
            .map(|p| p.data)
            .collect();
        v.sort_unstable();
        v
    }

    /// Adds the base-map layer `name` (`roads`, `water` or `places`) of
    /// the tile `frame` to `l`.
    pub(crate) fn add_to_mvt(&self, name: &str, l: &mut LayerBuilder, frame: &TileFrame<'_>) {
        let TileFrame {
            t,
            q,
            to_tile,
            clip: (lo, hi),
            polys: tile_polys,
        } = *frame;
        let line = |l: &mut LayerBuilder, i: usize| {
            let f = &self.lines[i];
            let local: Vec<[f64; 2]> = f.pts.iter().map(|p| to_tile(*p)).collect();
            let parts: Vec<Vec<[i32; 2]>> = clip_line(&local, lo, hi)
                .iter()
                .map(|p| {
                    simplify_line(p, 1.0)
                        .iter()
                        .map(|p| [p[0].round() as i32, p[1].round() as i32])
                        .collect()
                })
                .collect();
            l.add_lines(
                i as u64 + 1,
                &parts,
                &[
                    ("class", f.class.clone().into()),
                    ("name", f.name.clone().into()),
                ],
            );
        };
        match name {
            "roads" => {
                for i in self.lines_in(q, t.z) {
                    if self.lines[i].rank != Rank::Waterway {
                        line(l, i);
                    }
                }
            }
            "water" => {
                for i in self.areas_in(q) {
                    let a = &self.areas[i];
                    l.add_polygons(
                        (self.lines.len() + i) as u64 + 1,
                        &tile_polys(&a.polys),
                        &[
                            ("class", a.class.clone().into()),
                            ("name", a.name.clone().into()),
                        ],
                    );
                }
                for i in self.lines_in(q, t.z) {
                    if self.lines[i].rank == Rank::Waterway {
                        line(l, i);
                    }
                }
            }
            "places" => {
                for i in self.places_in(q, t.z) {
                    let p = &self.places[i];
                    let xy = to_tile(p.xy);
                    l.add_point(
                        i as u64 + 1,
                        [xy[0].round() as i32, xy[1].round() as i32],
                        &[
                            ("class", p.class.clone().into()),
                            ("name", Prop::from(p.name.clone())),
                        ],
                    );
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halfway_is_half_the_length_along_and_its_direction_reads_left_to_right() {
        let (at, angle, len) = along(&[[0.0, 0.0], [10.0, 0.0], [10.0, 30.0]], 0.5).unwrap();
        assert_eq!(len, 40.0);
        assert_eq!(at, [10.0, 10.0]);
        assert!((angle - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        // Drawn east to west, the direction is still west to east.
        let (_, angle, _) = along(&[[10.0, 0.0], [0.0, 0.0]], 0.5).unwrap();
        assert!(angle.abs() < 1e-12);
        assert!(along(&[[1.0, 1.0], [1.0, 1.0]], 0.5).is_none());
    }

    #[test]
    fn streets_appear_from_zoom_13_and_paths_from_15() {
        let mut d = District::new("t");
        d.basemap.push_back(MapFeature::road(
            "主路",
            "primary",
            vec![(117.5, 34.8), (117.51, 34.8)],
        ));
        d.basemap.push_back(MapFeature::road(
            "小街",
            "residential",
            vec![(117.5, 34.801), (117.51, 34.801)],
        ));
        d.basemap.push_back(MapFeature::road(
            "",
            "footway",
            vec![(117.5, 34.802), (117.51, 34.802)],
        ));
        let b = BaseLayers::new(&d);
        let all = [f64::MIN, f64::MIN, f64::MAX, f64::MAX];
        assert_eq!(b.lines_in(all, 10), vec![0]);
        assert_eq!(b.lines_in(all, 13), vec![1, 0]);
        assert_eq!(b.lines_in(all, 15), vec![2, 1, 0]);
        assert!(b.lines[2].labels.is_empty(), "no name, no label");
        assert_eq!(b.lines[0].labels.len(), 7);
    }
}

#[cfg(test)]
mod label_tests {
    use super::*;

    #[test]
    fn a_name_place_knows_how_far_the_crossing_road_is() {
        let mut d = District::new("t");
        // An east–west road crossed halfway by a north–south one.
        d.basemap.push_back(MapFeature::road(
            "东西路",
            "primary",
            vec![(117.50, 34.8), (117.52, 34.8)],
        ));
        d.basemap.push_back(MapFeature::road(
            "南北路",
            "primary",
            vec![(117.51, 34.79), (117.51, 34.81)],
        ));
        let b = BaseLayers::new(&d);
        let half = b.lines[0].labels[0];
        assert!(half.clearance < 1e-6, "halfway is the crossing");
        let forty = b.lines[0].labels[1];
        let want = b.lines[0].length * 0.1;
        assert!(
            (forty.clearance - want).abs() < 1e-6 * want,
            "{} vs {want}",
            forty.clearance
        );
    }
}

#[cfg(test)]
mod tile_tests {
    use geo::polygon;
    use gridgov_spatial::{Area, GridIndex, Level, MapFeature, assign, sample, stats};

    use crate::mvt::{decode, geometry, properties};
    use crate::{TileId, TileSource};

    fn source(d: &gridgov_spatial::District) -> TileSource {
        let a = assign(d, &GridIndex::new(d));
        TileSource::new(d, &a, &stats(d, &a))
    }

    #[test]
    fn the_sample_roads_come_in_vector_tiles_by_name_and_class_from_their_zoom_on() {
        let d = sample::district(&sample::SampleSpec::default());
        let src = source(&d);
        let names = |z: u8| {
            let t = TileId::containing(117.55, 34.86, z);
            let tile = decode(&src.mvt_layers(t, &["roads"])).unwrap();
            let mut out = Vec::new();
            for l in &tile.layers {
                assert_eq!(l.name, "roads");
                for f in &l.features {
                    assert_eq!(f.r#type, Some(2), "lines");
                    let parts = geometry(f).unwrap();
                    assert!(parts.iter().all(|p| p.len() >= 2));
                    for p in parts.iter().flatten() {
                        assert!(
                            p[0] >= -64 && p[0] <= 4096 + 64 && p[1] >= -64 && p[1] <= 4096 + 64
                        );
                    }
                    let props = properties(l, f);
                    out.push((props["class"].clone(), props["name"].clone()));
                }
            }
            out.sort();
            out.dedup();
            out
        };
        let z12 = names(12);
        assert!(!z12.is_empty());
        assert!(z12.iter().all(|(c, _)| c == "primary" || c == "secondary"));
        assert!(z12.iter().any(|(_, n)| n == "龙山路"));
        let z15 = names(15);
        assert!(z15.iter().any(|(_, n)| n == "人民路"), "{z15:?}");
    }

    /// One grid and a primary road across it.
    fn road_district() -> gridgov_spatial::District {
        let mut d = gridgov_spatial::District::new("t");
        let mut g = Area::new(Level::Grid, "g1", "一网格");
        g.boundary = geo::MultiPolygon::new(vec![polygon![
            (x: 117.51, y: 34.78), (x: 117.55, y: 34.78), (x: 117.55, y: 34.81), (x: 117.51, y: 34.81), (x: 117.51, y: 34.78)
        ]]);
        d.add_area(g);
        d.basemap.push_back(MapFeature::road(
            "振兴街",
            "primary",
            vec![(117.51, 34.80), (117.55, 34.80)],
        ));
        let mut lake = MapFeature::road("", "water", vec![]);
        lake.kind = gridgov_spatial::MapKind::Water;
        lake.shape = gridgov_spatial::MapShape::Area(geo::MultiPolygon::new(vec![polygon![
            (x: 117.52, y: 34.785), (x: 117.525, y: 34.785), (x: 117.525, y: 34.79), (x: 117.52, y: 34.79), (x: 117.52, y: 34.785)
        ]]));
        d.basemap.push_back(lake);
        d
    }

    #[test]
    fn the_plan_map_draws_the_road_and_the_lake_over_the_grid() {
        let d = road_district();
        let src = source(&d);
        let t = TileId::containing(117.53, 34.80, 13);
        let pm = src.plan_pixmap(t, 512, None).unwrap();
        let [x0, y0, x1, y1] = t.bounds();
        let px = |lon: f64, lat: f64| {
            let (x, y) = crate::tile::lonlat_to_mercator(lon, lat);
            assert!(
                x > x0 && x < x1 && y > y0 && y < y1,
                "{lon},{lat} is in the tile"
            );
            let s = 512.0 / (x1 - x0);
            (((x - x0) * s) as u32, ((y1 - y) * s) as u32)
        };
        let at = |(x, y): (u32, u32)| {
            let p = pm.pixel(x, y).unwrap();
            [p.red(), p.green(), p.blue()]
        };
        // On the road's centre line: its yellow fill.
        let road = at(px(117.53, 34.80));
        assert!(
            road[0] > 0xf0 && road[1] > 0xd8 && road[2] < 0xc0,
            "{road:?}"
        );
        // Inside the lake: water blue.
        let lake = at(px(117.5225, 34.7875));
        assert!(lake[2] > lake[0] + 40, "{lake:?}");
        // Elsewhere in the grid: the grid's green fill.
        let grid = at(px(117.54, 34.805));
        assert!(grid[1] > grid[0] && grid[1] > grid[2], "{grid:?}");
    }

    #[test]
    fn the_lake_comes_in_the_water_layer_as_a_polygon() {
        let d = road_district();
        let src = source(&d);
        let t = TileId::containing(117.5225, 34.7875, 13);
        let tile = decode(&src.mvt_layers(t, &["water", "roads", "places"])).unwrap();
        let water = tile.layers.iter().find(|l| l.name == "water").unwrap();
        assert_eq!(water.features.len(), 1);
        assert_eq!(water.features[0].r#type, Some(3));
        assert!(tile.layers.iter().any(|l| l.name == "roads"));
        assert!(
            !tile.layers.iter().any(|l| l.name == "places"),
            "none in the district"
        );
    }
}
