//! What a 360° panorama sees: the district's buildings, unit entrances,
//! merchants and cameras in view from where it was taken, each at the
//! yaw (degrees clockwise from the picture's centre) and pitch (degrees
//! above the horizon) where it appears in the equirectangular picture,
//! hidden when a nearer building stands in the way; and the panoramas
//! near it, as arrows to walk to.
//!
//! # The geometry
//! In a local metric plane at the panorama (east, north): a thing at
//! horizontal distance `D` and bearing `β` (clockwise from north) appears
//! at yaw `β − heading` (wrapped to (−180°, 180°]) and pitch
//! `atan2(H − eye, D)`, where `H` is the height it is shown at:
//! - a building: its roof over its footprint's centre, `floors ×`
//!   [`STOREY_M`] (one storey when its floors are unknown);
//! - a unit entrance: [`DOOR_M`] above the ground at the unit's point;
//! - a merchant: its sign, [`SIGN_M`]; a camera: its mount, [`MOUNT_M`];
//! - a neighbouring panorama: the ground [`ARROW_M`] below its eye.
//!
//! A thing is hidden when the ray from the eye to it passes a building
//! (other than its own) whose height at the point the ray enters it is
//! above the ray; the building the panorama stands in is never in the way.
//!
//! ```
//! use gridgov_spatial::panorama::{Pose, view, SceneIndex, ViewOptions};
//! use gridgov_spatial::sample;
//! let d = sample::district(&sample::SampleSpec::default());
//! let idx = SceneIndex::new(&d);
//! let b = geo::Centroid::centroid(&d.buildings[0].footprint).unwrap();
//! let pose = Pose { lon: b.x() + 0.0004, lat: b.y(), heading_deg: 270.0, eye_m: 2.0 };
//! let seen = view(&d, &idx, &pose, &[], &ViewOptions::default());
//! let first = seen.iter().find(|h| h.label == d.buildings[0].address).unwrap();
//! assert!(first.yaw_deg.abs() < 10.0, "straight ahead, looking west");
//! ```

use geo::{BoundingRect, Centroid, Coord};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use serde::Serialize;

use crate::District;
use crate::geodesy::LocalProjection;
use crate::pip::{contains_multi, edges};

/// Metres per storey.
pub const STOREY_M: f64 = 3.0;
/// Height of a unit entrance's label.
pub const DOOR_M: f64 = 1.5;
/// Height of a merchant's sign.
pub const SIGN_M: f64 = 3.0;
/// Height of a camera's mount.
pub const MOUNT_M: f64 = 4.0;
/// How far below the eye a neighbouring panorama's arrow is drawn.
pub const ARROW_M: f64 = 2.0;

/// Where a panorama was taken and which way its picture's centre faces.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Pose {
    /// Longitude (WGS 84).
    pub lon: f64,
    /// Latitude (WGS 84).
    pub lat: f64,
    /// Bearing of the picture's centre, degrees clockwise from north.
    pub heading_deg: f64,
    /// Height of the lens above the ground, metres.
    pub eye_m: f64,
}

/// How far to look.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewOptions {
    /// Things further than this are not shown (m).
    pub max_distance_m: f64,
    /// Panoramas within this are neighbours (m).
    pub neighbour_m: f64,
}

impl Default for ViewOptions {
    fn default() -> Self {
        ViewOptions {
            max_distance_m: 150.0,
            neighbour_m: 60.0,
        }
    }
}

/// What a hotspot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HotspotKind {
    /// A building (`index`: its row).
    Building,
    /// A unit entrance (`index`: its row).
    Unit,
    /// A merchant (`index`: its row).
    Merchant,
    /// A camera (`index`: its row).
    Camera,
    /// A neighbouring panorama (`index`: its place in the list given).
    Panorama,
}

/// One thing in view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hotspot {
    /// What it is.
    pub kind: HotspotKind,
    /// Its row in the district's table of that kind.
    pub index: usize,
    /// What to write on it: a building's address, a unit's label, a
    /// merchant's name, a camera's number (from 1); the page words it.
    pub label: String,
    /// For a unit: its building's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
    /// Degrees clockwise from the picture's centre, in (−180, 180].
    pub yaw_deg: f64,
    /// Degrees above the horizon.
    pub pitch_deg: f64,
    /// Horizontal distance in metres.
    pub distance_m: f64,
}

type Item = GeomWithData<Rectangle<[f64; 2]>, (u8, u32)>;

/// The district's things by place: buildings by footprint box, unit
/// entrances, merchants and cameras by point. Built once per district.
#[derive(Debug, Clone, Default)]
pub struct SceneIndex {
    tree: RTree<Item>,
}

const BUILDING: u8 = 0;
const UNIT: u8 = 1;
const MERCHANT: u8 = 2;
const CAMERA: u8 = 3;

impl SceneIndex {
    /// Indexes `d`.
    pub fn new(d: &District) -> SceneIndex {
        let mut items: Vec<Item> = Vec::new();
        let point = |kind: u8, i: usize, p: geo::Point<f64>| {
            GeomWithData::new(
                Rectangle::from_corners([p.x(), p.y()], [p.x(), p.y()]),
                (kind, i as u32),
            )
        };
        for (i, b) in d.buildings.iter().enumerate() {
            if let Some(r) = b.footprint.bounding_rect() {
                items.push(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    (BUILDING, i as u32),
                ));
            }
        }
        items.extend(
            d.units
                .iter()
                .enumerate()
                .map(|(i, u)| point(UNIT, i, u.location)),
        );
        items.extend(
            d.merchants
                .iter()
                .enumerate()
                .map(|(i, m)| point(MERCHANT, i, m.location)),
        );
        items.extend(
            d.cameras
                .iter()
                .enumerate()
                .map(|(i, c)| point(CAMERA, i, c.location)),
        );
        SceneIndex {
            tree: RTree::bulk_load(items),
        }
    }
}

/// Wraps an angle to (−180, 180].
fn wrap(a: f64) -> f64 {
    let r = a.rem_euclid(360.0);
    if r > 180.0 { r - 360.0 } else { r }
}

fn height_of(floors: u16) -> f64 {
    f64::from(floors.max(1)) * STOREY_M
}

/// The distance along the segment `o → t` (both in metres, `o` the
/// origin) at which it first enters footprint `fp`; `None` when it does
/// not.
fn entry(o: Coord<f64>, t: Coord<f64>, fp: &geo::MultiPolygon<f64>) -> Option<f64> {
    let (dx, dy) = (t.x - o.x, t.y - o.y);
    let len = dx.hypot(dy);
    let mut first: Option<f64> = None;
    for (a, b) in edges(fp) {
        let (ex, ey) = (b.x - a.x, b.y - a.y);
        let den = dx * ey - dy * ex;
        if den == 0.0 {
            continue;
        }
        let s = ((a.x - o.x) * ey - (a.y - o.y) * ex) / den;
        let u = ((a.x - o.x) * dy - (a.y - o.y) * dx) / den;
        if (0.0..=1.0).contains(&s) && (0.0..=1.0).contains(&u) {
            first = Some(first.map_or(s, |f: f64| f.min(s)));
        }
    }
    first.map(|s| s * len)
}

/// Every building, unit entrance, merchant and camera in view from
/// `pose`, and the panoramas of `others` within reach, nearest first.
pub fn view(
    d: &District,
    idx: &SceneIndex,
    pose: &Pose,
    others: &[Pose],
    opts: &ViewOptions,
) -> Vec<Hotspot> {
    let proj = LocalProjection::new(pose.lon, pose.lat);
    let reach = opts.max_distance_m;
    let (dlon, dlat) = (reach / proj.kx, reach / proj.ky);
    let env = AABB::from_corners(
        [pose.lon - dlon, pose.lat - dlat],
        [pose.lon + dlon, pose.lat + dlat],
    );
    let near: Vec<(u8, u32)> = idx
        .tree
        .locate_in_envelope_intersecting(&env)
        .map(|it| it.data)
        .collect();
    // Buildings that may stand in the way, in metres, with their heights;
    // the one the panorama stands in is never in the way.
    let blockers: Vec<(u32, geo::MultiPolygon<f64>, f64)> = near
        .iter()
        .filter(|(k, _)| *k == BUILDING)
        .filter_map(|&(_, i)| {
            let b = d.buildings.get(i as usize)?;
            if contains_multi(&b.footprint, pose.lon, pose.lat) {
                return None;
            }
            Some((i, proj.multi_polygon(&b.footprint), height_of(b.floors)))
        })
        .collect();
    let origin = Coord { x: 0.0, y: 0.0 };
    let hidden = |t: Coord<f64>, h: f64, own: Option<u32>| {
        let dist = t.x.hypot(t.y);
        blockers.iter().any(|(i, fp, bh)| {
            if Some(*i) == own {
                return false;
            }
            entry(origin, t, fp).is_some_and(|s| {
                let ray = pose.eye_m + (h - pose.eye_m) * s / dist.max(1e-9);
                *bh > ray + 1e-9
            })
        })
    };
    let place = |t: Coord<f64>, h: f64| {
        let dist = t.x.hypot(t.y);
        let bearing = t.x.atan2(t.y).to_degrees();
        (
            wrap(bearing - pose.heading_deg),
            (h - pose.eye_m).atan2(dist).to_degrees(),
            dist,
        )
    };
    let mut out = Vec::new();
    let push = |kind,
                index: usize,
                label: (String, Option<String>),
                t: Coord<f64>,
                h: f64,
                own: Option<u32>,
                out: &mut Vec<Hotspot>| {
        let (yaw, pitch, dist) = place(t, h);
        if dist > reach || dist < 1e-6 || hidden(t, h, own) {
            return;
        }
        out.push(Hotspot {
            kind,
            index,
            label: label.0,
            of: label.1,
            yaw_deg: yaw,
            pitch_deg: pitch,
            distance_m: dist,
        });
    };
    for &(k, i) in &near {
        let i = i as usize;
        match k {
            BUILDING => {
                let b = &d.buildings[i];
                if contains_multi(&b.footprint, pose.lon, pose.lat) {
                    continue;
                }
                let Some(c) = b.footprint.centroid() else {
                    continue;
                };
                let label = if b.address.is_empty() {
                    b.code.clone()
                } else {
                    b.address.clone()
                };
                push(
                    HotspotKind::Building,
                    i,
                    (label, None),
                    proj.coord(c.0),
                    height_of(b.floors),
                    Some(i as u32),
                    &mut out,
                );
            }
            UNIT => {
                let u = &d.units[i];
                let of = d
                    .buildings
                    .get(u.building.index())
                    .map(|b| b.address.clone());
                push(
                    HotspotKind::Unit,
                    i,
                    (u.label.clone(), of),
                    proj.coord(u.location.0),
                    DOOR_M,
                    Some(u.building.0),
                    &mut out,
                );
            }
            MERCHANT => {
                let m = &d.merchants[i];
                push(
                    HotspotKind::Merchant,
                    i,
                    (m.name.clone(), None),
                    proj.coord(m.location.0),
                    SIGN_M,
                    None,
                    &mut out,
                );
            }
            _ => {
                let c = &d.cameras[i];
                push(
                    HotspotKind::Camera,
                    i,
                    ((i + 1).to_string(), None),
                    proj.coord(c.location.0),
                    MOUNT_M,
                    None,
                    &mut out,
                );
            }
        }
    }
    for (i, o) in others.iter().enumerate() {
        let (x, y) = proj.to_metres(o.lon, o.lat);
        let t = Coord { x, y };
        let (yaw, _, dist) = place(t, 0.0);
        if dist < 1e-6 || dist > opts.neighbour_m {
            continue;
        }
        out.push(Hotspot {
            kind: HotspotKind::Panorama,
            index: i,
            label: String::new(),
            of: None,
            yaw_deg: yaw,
            pitch_deg: (-ARROW_M).atan2(dist).to_degrees(),
            distance_m: dist,
        });
    }
    out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Area, Building, BuildingId, Camera, Level, Merchant, Unit};
    use geo::{LineString, MultiPolygon, Polygon};

    /// A district around (117.5, 34.8) with things at given metres east
    /// and north of it.
    fn fixture() -> (District, LocalProjection) {
        let proj = LocalProjection::new(117.5, 34.8);
        let ll = |x: f64, y: f64| {
            let (lon, lat) = proj.to_lon_lat(x, y);
            Coord { x: lon, y: lat }
        };
        let square = |cx: f64, cy: f64, half: f64| {
            MultiPolygon::new(vec![Polygon::new(
                LineString::new(vec![
                    ll(cx - half, cy - half),
                    ll(cx + half, cy - half),
                    ll(cx + half, cy + half),
                    ll(cx - half, cy + half),
                    ll(cx - half, cy - half),
                ]),
                vec![],
            )])
        };
        let mut d = District::new("t");
        d.add_area(Area::new(Level::Street, "S", "街道"));
        let building = |code: &str, address: &str, floors: u16, fp| Building {
            code: code.into(),
            address: address.into(),
            floors,
            footprint: fp,
            source: None,
            leaders: vec![],
        };
        // 100 m east, 10 floors; 50 m north, 2 floors; a tall one 60 m
        // south hiding a low one 120 m south.
        d.buildings
            .push_back(building("E", "东楼", 10, square(100.0, 0.0, 5.0)));
        d.buildings
            .push_back(building("N", "北楼", 2, square(0.0, 50.0, 5.0)));
        d.buildings
            .push_back(building("S1", "南高楼", 30, square(0.0, -60.0, 10.0)));
        d.buildings
            .push_back(building("S2", "南矮楼", 2, square(0.0, -120.0, 5.0)));
        d.units.push_back(Unit {
            building: BuildingId(1),
            label: "2".into(),
            location: ll(0.0, 45.0).into(),
            households: 10,
        });
        d.merchants.push_back(Merchant {
            name: "老王超市".into(),
            category: "supermarket".into(),
            address: String::new(),
            location: ll(-40.0, 0.0).into(),
        });
        d.cameras.push_back(Camera {
            location: ll(-30.0, 30.0).into(),
            heading_deg: 0.0,
            fov_deg: 90.0,
            range_m: 30.0,
        });
        (d, proj)
    }

    fn find<'a>(hs: &'a [Hotspot], label: &str) -> Option<&'a Hotspot> {
        hs.iter().find(|h| h.label == label)
    }

    #[test]
    fn hotspots_stand_at_the_hand_computed_yaw_and_pitch() {
        let (d, _) = fixture();
        let idx = SceneIndex::new(&d);
        let pose = Pose {
            lon: 117.5,
            lat: 34.8,
            heading_deg: 45.0,
            eye_m: 2.0,
        };
        let hs = view(&d, &idx, &pose, &[], &ViewOptions::default());
        // East, 100 m, roof at 30 m: bearing 90°, yaw 90 − 45 = 45°,
        // pitch atan(28 / 100) = 15.642°.
        let e = find(&hs, "东楼").unwrap();
        assert!((e.yaw_deg - 45.0).abs() < 1e-6, "{e:?}");
        assert!((e.pitch_deg - 28f64.atan2(100.0).to_degrees()).abs() < 1e-6);
        assert!((e.distance_m - 100.0).abs() < 1e-6);
        // North, 50 m, roof at 6 m: yaw 0 − 45 = −45°, pitch atan(4 / 50).
        let n = find(&hs, "北楼").unwrap();
        assert!(
            (n.yaw_deg + 45.0).abs() < 1e-6
                && (n.pitch_deg - 4f64.atan2(50.0).to_degrees()).abs() < 1e-6
        );
        // Its unit entrance 45 m north at 1.5 m: just below the horizon.
        let u = hs.iter().find(|h| h.kind == HotspotKind::Unit).unwrap();
        assert_eq!((u.label.as_str(), u.of.as_deref()), ("2", Some("北楼")));
        assert!(
            (u.yaw_deg + 45.0).abs() < 1e-6
                && (u.pitch_deg - (-0.5f64).atan2(45.0).to_degrees()).abs() < 1e-6
        );
        // The shop 40 m west: bearing 270°, yaw 225° wrapped to −135°.
        let m = find(&hs, "老王超市").unwrap();
        assert!((m.yaw_deg + 135.0).abs() < 1e-6, "{m:?}");
        // The camera north-west (bearing 315°): yaw 270 → −90°, pitch atan(2 / 42.43).
        let c = hs.iter().find(|h| h.kind == HotspotKind::Camera).unwrap();
        assert_eq!(c.label, "1");
        assert!((c.yaw_deg + 90.0).abs() < 1e-6);
        assert!((c.pitch_deg - 2f64.atan2(30.0 * 2f64.sqrt()).to_degrees()).abs() < 1e-6);
        // Nearest first.
        assert!(hs.windows(2).all(|w| w[0].distance_m <= w[1].distance_m));
    }

    #[test]
    fn a_tall_building_hides_a_low_one_behind_it_and_far_things_are_not_shown() {
        let (d, _) = fixture();
        let idx = SceneIndex::new(&d);
        let pose = Pose {
            lon: 117.5,
            lat: 34.8,
            heading_deg: 180.0,
            eye_m: 2.0,
        };
        let hs = view(&d, &idx, &pose, &[], &ViewOptions::default());
        let tall = find(&hs, "南高楼").unwrap();
        assert!(tall.yaw_deg.abs() < 1e-6, "straight ahead");
        assert!(
            find(&hs, "南矮楼").is_none(),
            "the 90 m tower 60 m away hides the 6 m building 120 m away"
        );
        let near = view(
            &d,
            &idx,
            &pose,
            &[],
            &ViewOptions {
                max_distance_m: 80.0,
                ..ViewOptions::default()
            },
        );
        assert!(find(&near, "东楼").is_none(), "100 m is beyond 80 m");
        assert!(find(&near, "北楼").is_some());
    }

    #[test]
    fn neighbouring_panoramas_are_arrows_on_the_ground_towards_them() {
        let (d, proj) = fixture();
        let idx = SceneIndex::new(&d);
        let pose = Pose {
            lon: 117.5,
            lat: 34.8,
            heading_deg: 0.0,
            eye_m: 2.0,
        };
        let (lon, lat) = proj.to_lon_lat(20.0, 20.0);
        let (flon, flat) = proj.to_lon_lat(200.0, 0.0);
        let others = [
            Pose {
                lon,
                lat,
                heading_deg: 0.0,
                eye_m: 2.0,
            },
            Pose {
                lon: flon,
                lat: flat,
                heading_deg: 0.0,
                eye_m: 2.0,
            },
        ];
        let hs = view(&d, &idx, &pose, &others, &ViewOptions::default());
        let arrows: Vec<&Hotspot> = hs
            .iter()
            .filter(|h| h.kind == HotspotKind::Panorama)
            .collect();
        assert_eq!(arrows.len(), 1, "only the one within 60 m");
        assert_eq!(arrows[0].index, 0);
        assert!((arrows[0].yaw_deg - 45.0).abs() < 1e-6);
        assert!(arrows[0].pitch_deg < 0.0);
    }
}
