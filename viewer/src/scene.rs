//! The scene, built on the CPU: every grid, building, merchant and camera
//! of a district as triangle meshes in a local plane (Web Mercator metres
//! from the district's centre, so `f32` keeps millimetres), ready for the
//! GPU. Unit-tested without a GPU.

use std::collections::HashMap;

use gridgov_spatial::{AreaStats, Assignment, District, GridKind, Level};
use gridgov_tiles::tile::lonlat_to_mercator;

use crate::tess::Mesh;

/// Which layers to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)] // one switch per layer is the point
pub struct Layers {
    /// Grid fills and borders.
    pub grids: bool,
    /// Building footprints.
    pub buildings: bool,
    /// Merchant markers.
    pub merchants: bool,
    /// Camera markers and view cones.
    pub cameras: bool,
    /// Grid names.
    pub labels: bool,
    /// Buildings coloured by the share of their footprint no camera sees.
    pub blind_spots: bool,
    /// The base map: roads and water.
    pub roads: bool,
}

impl Default for Layers {
    fn default() -> Self {
        Layers {
            grids: true,
            buildings: true,
            merchants: true,
            cameras: true,
            labels: true,
            blind_spots: false,
            roads: true,
        }
    }
}

impl Layers {
    /// Parses a comma-separated list (`grids,buildings,merchants,cameras,
    /// labels,blindspots,roads`); unknown names are an error naming them.
    ///
    /// ```
    /// use gridgov_viewer::Layers;
    /// let l = Layers::parse("grids,cameras").unwrap();
    /// assert!(l.grids && l.cameras && !l.buildings);
    /// assert!(Layers::parse("grids,roads").unwrap().roads);
    /// assert!(Layers::parse("grids,rivers").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut l = Layers {
            grids: false,
            buildings: false,
            merchants: false,
            cameras: false,
            labels: false,
            blind_spots: false,
            roads: false,
        };
        for name in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            match name {
                "grids" => l.grids = true,
                "buildings" => l.buildings = true,
                "merchants" => l.merchants = true,
                "cameras" => l.cameras = true,
                "labels" => l.labels = true,
                "blindspots" => l.blind_spots = true,
                "roads" => l.roads = true,
                other => {
                    return Err(format!(
                        "unknown layer {other:?}: use grids, buildings, merchants, cameras, labels, blindspots, roads"
                    ));
                }
            }
        }
        Ok(l)
    }
}

/// Polygons as rings of scene points, exterior first in each.
pub type Polygons = Vec<Vec<Vec<[f32; 2]>>>;

/// A marker drawn as an instance: position, radius in pixels, colour.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Marker {
    /// Scene metres.
    pub pos: [f32; 2],
    /// Radius in pixels.
    pub radius_px: f32,
    /// Straight RGBA.
    pub colour: [u8; 4],
}

/// A grid's name and where to centre it.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// The grid's code.
    pub code: String,
    /// The text.
    pub text: String,
    /// Scene metres.
    pub at: [f32; 2],
    /// The grid's width at the label, metres (a label wider is not drawn).
    pub room_m: f32,
}

/// One grid, for picking and the counts panel.
#[derive(Debug, Clone, PartialEq)]
pub struct GridInfo {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The community's name.
    pub community: String,
    /// Basic or exclusive.
    pub kind: Option<GridKind>,
    /// Rings in scene metres (exterior first per polygon).
    pub polygons: Vec<Vec<Vec<[f32; 2]>>>,
    /// Households.
    pub households: usize,
    /// Open incidents.
    pub open_incidents: usize,
    /// All incidents.
    pub incidents: usize,
    /// The share of its buildings' footprint a camera sees (with the
    /// blind-spot layer).
    pub coverage: Option<gridgov_spatial::GridCoverage>,
}

/// Everything the GPU draws, built once per version of the data.
#[derive(Debug, Clone, Default)]
pub struct Scene {
    /// Mercator metres of the scene's origin.
    pub origin: [f64; 2],
    /// Scene bounds `[min_x, min_y, max_x, max_y]` (metres), the grids'.
    pub bounds: [f32; 4],
    /// Grid and building fills.
    pub fills: Mesh,
    /// Camera view cones (translucent).
    pub cones: Mesh,
    /// Borders and outlines.
    pub strokes: Mesh,
    /// Merchant and camera markers.
    pub markers: Vec<Marker>,
    /// Grid names.
    pub labels: Vec<Label>,
    /// Grids, in district order.
    pub grids: Vec<GridInfo>,
    /// Buildings: footprint rings and floor counts, for the 2.5D view.
    pub buildings: Vec<(Polygons, u16)>,
    /// The district's name.
    pub title: String,
}

/// A merchant category's colour: stable, from a qualitative palette (the
/// same as the raster tiles').
pub fn category_colour(cat: &str) -> [u8; 4] {
    const PALETTE: [[u8; 3]; 8] = [
        [0x1b, 0x9e, 0x77],
        [0xd9, 0x5f, 0x02],
        [0x75, 0x70, 0xb3],
        [0xe7, 0x29, 0x8a],
        [0x66, 0xa6, 0x1e],
        [0xe6, 0xab, 0x02],
        [0xa6, 0x76, 0x1d],
        [0x66, 0x66, 0x66],
    ];
    let h = cat
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let c = PALETTE[h as usize % PALETTE.len()];
    [c[0], c[1], c[2], 0xff]
}

impl Scene {
    /// Scene metres of a longitude/latitude.
    pub fn project(&self, lon: f64, lat: f64) -> [f32; 2] {
        let (x, y) = lonlat_to_mercator(lon, lat);
        [(x - self.origin[0]) as f32, (y - self.origin[1]) as f32]
    }

    /// Scene metres of Web Mercator points (e.g. the incidents a
    /// [`gridgov_tiles::TileSource`] selects), for the GPU heatmap.
    ///
    /// ```
    /// use gridgov_viewer::Scene;
    /// let s = Scene { origin: [1000.0, 2000.0], ..Scene::default() };
    /// assert_eq!(s.scene_points(&[[1001.5, 1998.0]]), vec![[1.5, -2.0]]);
    /// ```
    pub fn scene_points(&self, mercator: &[[f64; 2]]) -> Vec<[f32; 2]> {
        mercator
            .iter()
            .map(|p| {
                [
                    (p[0] - self.origin[0]) as f32,
                    (p[1] - self.origin[1]) as f32,
                ]
            })
            .collect()
    }

    /// Builds the scene of `d`.
    ///
    /// ```
    /// use gridgov_spatial::{sample, GridIndex, assign, stats};
    /// use gridgov_viewer::{Scene, Layers};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let s = Scene::build(&d, &a, &stats(&d, &a), Layers::default());
    /// assert_eq!(s.grids.len(), 52);
    /// assert!(s.fills.triangles() > 0);
    /// ```
    pub fn build(d: &District, a: &Assignment, stats: &[AreaStats], layers: Layers) -> Scene {
        let grid_ids: Vec<_> = d.grids().collect();
        let mut bb = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for &g in &grid_ids {
            for p in &d.area(g).boundary.0 {
                for c in &p.exterior().0 {
                    let (x, y) = lonlat_to_mercator(c.x, c.y);
                    bb = [bb[0].min(x), bb[1].min(y), bb[2].max(x), bb[3].max(y)];
                }
            }
        }
        if bb[0] > bb[2] {
            bb = [0.0; 4];
        }
        let mut s = Scene {
            origin: [f64::midpoint(bb[0], bb[2]), f64::midpoint(bb[1], bb[3])],
            title: d.name.clone(),
            ..Scene::default()
        };
        s.bounds = [
            (bb[0] - s.origin[0]) as f32,
            (bb[1] - s.origin[1]) as f32,
            (bb[2] - s.origin[0]) as f32,
            (bb[3] - s.origin[1]) as f32,
        ];
        let counts: HashMap<usize, &gridgov_spatial::Counts> =
            stats.iter().map(|s| (s.id.index(), &s.counts)).collect();
        let rings = |s: &Scene, mp: &geo::MultiPolygon<f64>| -> Vec<Vec<Vec<[f32; 2]>>> {
            mp.0.iter()
                .map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|r| r.0.iter().map(|c| s.project(c.x, c.y)).collect())
                        .collect()
                })
                .collect()
        };
        for &g in &grid_ids {
            let area = d.area(g);
            let polys = rings(&s, &area.boundary);
            let c = counts.get(&g.index());
            let community = area
                .parent
                .map(|p| d.area(p).name.clone())
                .unwrap_or_default();
            if layers.grids {
                let fill = match area.kind {
                    Some(GridKind::Exclusive) => [0xf3, 0xd2, 0x9e, 0xff],
                    _ => [0xd6, 0xe6, 0xd0, 0xff],
                };
                for p in &polys {
                    s.fills.fill(p, fill);
                }
            }
            if layers.labels {
                let largest = area
                    .boundary
                    .0
                    .iter()
                    .max_by(|a, b| {
                        geo::Area::unsigned_area(*a).total_cmp(&geo::Area::unsigned_area(*b))
                    })
                    .and_then(geo::InteriorPoint::interior_point);
                if let Some(p) = largest {
                    let at = s.project(p.x(), p.y());
                    s.labels.push(Label {
                        code: area.code.clone(),
                        text: area.name.clone(),
                        room_m: room(&polys, at),
                        at,
                    });
                }
            }
            s.grids.push(GridInfo {
                code: area.code.clone(),
                name: area.name.clone(),
                community,
                kind: area.kind,
                polygons: polys,
                households: c.map_or(0, |c| c.households),
                open_incidents: c.map_or(0, |c| c.open_incidents),
                incidents: c.map_or(0, |c| c.incidents),
                coverage: None,
            });
        }
        if layers.roads {
            s.add_basemap(d);
        }
        let coverage = layers
            .blind_spots
            .then(|| gridgov_spatial::camera_coverage(d, a, 1.0));
        if let Some(c) = &coverage {
            for (g, gc) in s.grids.iter_mut().zip(&c.grids) {
                g.coverage = Some(gc.clone());
            }
        }
        for (k, b) in d.buildings.iter().enumerate() {
            let polys = rings(&s, &b.footprint);
            // Blind spots: from the usual grey to red as the unseen share grows.
            let fill = match &coverage {
                Some(c) => {
                    let blind = 1.0 - c.buildings[k];
                    let mix =
                        |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * blind) as u8;
                    [mix(0xc4, 0xd7), mix(0xbc, 0x30), mix(0xae, 0x27), 0xff]
                }
                None => [0xc4, 0xbc, 0xae, 0xff],
            };
            if layers.buildings || layers.blind_spots {
                for p in &polys {
                    s.fills.fill(p, fill);
                    for r in p {
                        s.strokes.stroke(r, 0.6, true, [0x8a, 0x82, 0x76, 0xff]);
                    }
                }
            }
            s.buildings.push((polys, b.floors));
        }
        if layers.grids {
            // Grid borders over the fills; community borders wider.
            for g in &s.grids.clone() {
                let colour = match g.kind {
                    Some(GridKind::Exclusive) => [0xb3, 0x6b, 0x00, 0xff],
                    _ => [0x3d, 0x5a, 0x80, 0xff],
                };
                for p in &g.polygons {
                    for r in p {
                        s.strokes.stroke(r, 3.0, true, colour);
                    }
                }
            }
            for c in d.areas_at(Level::Community) {
                for p in &rings(&s, &d.area(c).boundary) {
                    for r in p {
                        s.strokes.stroke(r, 7.0, true, [0x1f, 0x33, 0x4d, 0xff]);
                    }
                }
            }
        }
        if layers.cameras {
            for c in &d.cameras {
                let at = s.project(c.location.x(), c.location.y());
                s.cones.sector(
                    at,
                    c.range_m as f32,
                    c.heading_deg as f32,
                    c.fov_deg as f32,
                    [0xc6, 0x28, 0x28, 0x38],
                );
                s.markers.push(Marker {
                    pos: at,
                    radius_px: 4.0,
                    colour: [0xc6, 0x28, 0x28, 0xff],
                });
            }
        }
        if layers.merchants {
            for m in &d.merchants {
                s.markers.push(Marker {
                    pos: s.project(m.location.x(), m.location.y()),
                    radius_px: 3.0,
                    colour: category_colour(&m.category),
                });
            }
        }
        s
    }

    /// Water areas and waterways, then roads (a casing under a fill, the
    /// widest on top), over the grid fills and under the buildings.
    fn add_basemap(&mut self, d: &District) {
        use gridgov_spatial::{MapKind, MapShape};
        let water = [0xa8, 0xcc, 0xe8, 0xff];
        let mut roads: Vec<(u8, Vec<[f32; 2]>)> = Vec::new();
        for f in &d.basemap {
            match &f.shape {
                MapShape::Area(mp) => {
                    for p in &mp.0 {
                        let rings: Vec<Vec<[f32; 2]>> = std::iter::once(p.exterior())
                            .chain(p.interiors())
                            .map(|r| r.0.iter().map(|c| self.project(c.x, c.y)).collect())
                            .collect();
                        self.fills.fill(&rings, water);
                    }
                }
                MapShape::Line(l) => {
                    let pts: Vec<[f32; 2]> = l.0.iter().map(|c| self.project(c.x, c.y)).collect();
                    if f.kind == MapKind::Water {
                        self.fills.stroke(&pts, 8.0, false, water);
                    } else {
                        // 0: paths, 1: streets, 2: through roads.
                        let rank = if f.is_major() {
                            2
                        } else {
                            u8::from(!f.is_minor())
                        };
                        roads.push((rank, pts));
                    }
                }
                MapShape::Point(_) => {}
            }
        }
        roads.sort_by_key(|r| r.0);
        let width = |rank: u8| [3.0, 9.0, 16.0][usize::from(rank)];
        for (rank, pts) in &roads {
            self.fills
                .stroke(pts, width(*rank) + 3.0, false, [0xb5, 0xad, 0xa0, 0xff]);
        }
        for (rank, pts) in &roads {
            let fill = if *rank == 2 {
                [0xfc, 0xe8, 0xa8, 0xff]
            } else {
                [0xff, 0xff, 0xff, 0xff]
            };
            self.fills.stroke(pts, width(*rank), false, fill);
        }
    }

    /// The grid under a scene point, by the spatial index's precedence
    /// (exclusive grids over basic ones, then the lower code) with an
    /// even–odd test over every ring; `None` outside every grid.
    ///
    /// ```
    /// use gridgov_spatial::{sample, GridIndex, assign, stats};
    /// use gridgov_viewer::{Scene, Layers};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let s = Scene::build(&d, &a, &stats(&d, &a), Layers::default());
    /// let g = s.grid_at(s.project(117.55, 34.86)).unwrap();
    /// assert_eq!(s.grids[g].code, "370402005013001");
    /// ```
    pub fn grid_at(&self, p: [f32; 2]) -> Option<usize> {
        self.grids
            .iter()
            .enumerate()
            .filter(|(_, g)| g.polygons.iter().any(|poly| inside(poly, p)))
            .min_by(|(_, a), (_, b)| {
                let rank = |g: &GridInfo| u8::from(g.kind != Some(GridKind::Exclusive));
                rank(a).cmp(&rank(b)).then_with(|| a.code.cmp(&b.code))
            })
            .map(|(i, _)| i)
    }
}

/// Even–odd point in polygon (rings: exterior then holes).
fn inside(rings: &[Vec<[f32; 2]>], p: [f32; 2]) -> bool {
    let mut c = false;
    for r in rings {
        for e in r.windows(2) {
            let (a, b) = (e[0], e[1]);
            if (a[1] > p[1]) != (b[1] > p[1])
                && p[0] < a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0])
            {
                c = !c;
            }
        }
    }
    c
}

/// The width of the horizontal run through `at` inside the polygons.
fn room(polys: &[Vec<Vec<[f32; 2]>>], at: [f32; 2]) -> f32 {
    let mut xs: Vec<f32> = Vec::new();
    for r in polys.iter().flatten() {
        for e in r.windows(2) {
            let (a, b) = (e[0], e[1]);
            if (a[1] > at[1]) != (b[1] > at[1]) {
                xs.push(a[0] + (at[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
            }
        }
    }
    xs.sort_by(f32::total_cmp);
    xs.chunks_exact(2)
        .find(|run| run[0] <= at[0] && at[0] <= run[1])
        .map_or(0.0, |run| 2.0 * (at[0] - run[0]).min(run[1] - at[0]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridgov_spatial::{GridIndex, assign, sample, stats};

    fn scene(layers: Layers) -> (District, Scene) {
        let d = sample::district(&sample::SampleSpec::default());
        let a = assign(&d, &GridIndex::new(&d));
        let s = Scene::build(&d, &a, &stats(&d, &a), layers);
        (d, s)
    }

    #[test]
    fn grid_fills_cover_the_grids_area_once() {
        let (_, s) = scene(Layers::parse("grids").unwrap());
        let want: f64 = s
            .grids
            .iter()
            .flat_map(|g| &g.polygons)
            .map(|p| {
                let ring_area = |r: &Vec<[f32; 2]>| {
                    r.windows(2)
                        .map(|e| {
                            f64::from(e[0][0]) * f64::from(e[1][1])
                                - f64::from(e[1][0]) * f64::from(e[0][1])
                        })
                        .sum::<f64>()
                        .abs()
                        / 2.0
                };
                ring_area(&p[0]) - p[1..].iter().map(ring_area).sum::<f64>()
            })
            .sum();
        let got = s.fills.area();
        assert!((got - want).abs() / want < 1e-4, "{got} vs {want}");
    }

    #[test]
    fn every_merchant_and_camera_is_a_marker_and_every_camera_has_a_cone() {
        let (d, s) = scene(Layers::default());
        assert_eq!(s.markers.len(), d.merchants.len() + d.cameras.len());
        assert!(s.cones.triangles() >= d.cameras.len() * 2);
        let (_, none) = scene(Layers::parse("grids").unwrap());
        assert!(none.markers.is_empty() && none.cones.triangles() == 0);
    }

    #[test]
    fn picking_agrees_with_the_spatial_index_on_random_points() {
        let d = sample::district(&sample::SampleSpec::default());
        let idx = GridIndex::new(&d);
        let a = assign(&d, &idx);
        let s = Scene::build(&d, &a, &stats(&d, &a), Layers::default());
        let mut seed = 7u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let [w, so, e, n] = gridgov_spatial::sample::grids_bbox(&d).unwrap();
        let mut agree = 0;
        for _ in 0..2000 {
            let (lon, lat) = (w + next() * (e - w), so + next() * (n - so));
            let want = idx.locate(lon, lat).map(|g| d.area(g).code.clone());
            let got = s
                .grid_at(s.project(lon, lat))
                .map(|i| s.grids[i].code.clone());
            if want == got {
                agree += 1;
            }
        }
        // Only points within millimetres of a border may differ (f32).
        assert!(agree >= 1995, "{agree} of 2000 agree");
    }

    #[test]
    fn the_blind_spot_layer_colours_unseen_buildings_red_and_measures_each_grid() {
        let (d, s) = scene(Layers::parse("blindspots").unwrap());
        assert!(s.grids.iter().all(|g| g.coverage.is_some()));
        let reds = s
            .fills
            .vertices
            .iter()
            .filter(|v| v.colour[0] > 0xd0 && v.colour[1] < 0x40)
            .count();
        assert!(reds > 0, "fully unseen buildings are red");
        let blind: usize = s
            .grids
            .iter()
            .map(|g| g.coverage.as_ref().unwrap().blind_buildings)
            .sum();
        assert!(blind > 0 && blind < d.buildings.len());
        let (_, plain) = scene(Layers::default());
        assert!(plain.grids.iter().all(|g| g.coverage.is_none()));
    }

    #[test]
    fn labels_sit_inside_their_grid_with_room_measured() {
        let (_, s) = scene(Layers::default());
        assert_eq!(s.labels.len(), 52);
        for l in &s.labels {
            let g = s.grids.iter().find(|g| g.code == l.code).unwrap();
            assert!(g.polygons.iter().any(|p| inside(p, l.at)), "{}", l.code);
            assert!(l.room_m > 10.0, "{} has {} m", l.code, l.room_m);
        }
    }
}
