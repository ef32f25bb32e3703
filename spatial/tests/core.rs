//! Assignment, lookup and validation checked against brute force and
//! against districts built to have known problems.

#![allow(clippy::unwrap_used)]

use geo::{Coord, LineString, MultiPolygon, Polygon};
use gridgov_spatial::pip::{contains_multi, edges};
use gridgov_spatial::sample::{SampleSpec, district};
use gridgov_spatial::{
    Area, AreaId, Crs, District, GridIndex, GridKind, Level, Placement, ProblemKind, Rng,
    ValidationOptions, assign, lookup_point, validate,
};

fn sample() -> District {
    district(&SampleSpec::default())
}

/// The grid a brute-force scan picks: exclusive grids first, then by code.
fn brute_grid(d: &District, lon: f64, lat: f64) -> Option<AreaId> {
    let mut grids: Vec<AreaId> = d.grids().collect();
    grids.sort_by_key(|&g| {
        (
            d.area(g).kind.map_or(1, GridKind::precedence),
            d.area(g).code.clone(),
        )
    });
    grids
        .into_iter()
        .find(|&g| contains_multi(&d.area(g).boundary, lon, lat))
}

#[test]
fn every_incident_merchant_and_camera_gets_the_grid_brute_force_gives() {
    let d = sample();
    let a = assign(&d, &GridIndex::new(&d));
    let check = |placements: &gridgov_spatial::Rows<Placement>, pts: Vec<geo::Point<f64>>| {
        for (p, pt) in placements.iter().zip(pts) {
            assert_eq!(p.grid(), brute_grid(&d, pt.x(), pt.y()), "at {pt:?}");
        }
    };
    check(
        &a.incidents,
        d.incidents.iter().map(|i| i.location).collect(),
    );
    check(
        &a.merchants,
        d.merchants.iter().map(|m| m.location).collect(),
    );
    check(&a.cameras, d.cameras.iter().map(|c| c.location).collect());
}

#[test]
fn seeded_random_points_and_grid_vertices_agree_with_brute_force() {
    let d = sample();
    let idx = GridIndex::new(&d);
    let bbox = gridgov_spatial::sample::grids_bbox(&d).unwrap();
    let mut rng = Rng::new(99);
    let mut pts: Vec<(f64, f64)> = (0..20_000)
        .map(|_| (rng.range(bbox[0], bbox[2]), rng.range(bbox[1], bbox[3])))
        .collect();
    for g in d.grids() {
        for (a, _) in edges(&d.area(g).boundary) {
            pts.push((a.x, a.y));
        }
    }
    for (x, y) in pts {
        assert_eq!(idx.locate(x, y), brute_grid(&d, x, y), "({x}, {y})");
    }
}

#[test]
fn exclusive_grids_win_over_the_basic_grid_under_them() {
    let d = sample();
    let idx = GridIndex::new(&d);
    let mut checked = 0;
    for g in d
        .grids()
        .filter(|&g| d.area(g).kind == Some(GridKind::Exclusive))
    {
        let c = geo::Centroid::centroid(&d.area(g).boundary).unwrap();
        assert_eq!(idx.locate(c.x(), c.y()), Some(g));
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn straddling_buildings_carry_their_shares_and_units_follow_their_building() {
    let d = sample();
    let a = assign(&d, &GridIndex::new(&d));
    let straddling: Vec<_> = a.buildings.iter().filter(|b| b.straddling).collect();
    assert!(straddling.len() >= 3, "{} straddling", straddling.len());
    for b in &straddling {
        let total: f64 = b.shares.iter().map(|s| s.1).sum();
        assert!((total - 1.0).abs() < 1e-6, "shares sum to {total}");
        assert!(b.shares[0].1 < 0.99 && b.shares.len() >= 2);
        assert_eq!(b.placement.grid(), Some(b.shares[0].0));
    }
    for (u, p) in d.units.iter().zip(&a.units) {
        assert_eq!(*p, a.buildings[u.building.index()].placement);
    }
}

#[test]
fn a_point_outside_the_district_reports_the_nearest_grid_and_distance() {
    let d = sample();
    let idx = GridIndex::new(&d);
    let bbox = gridgov_spatial::sample::grids_bbox(&d).unwrap();
    // 500 m west of the district's west edge.
    let lon = bbox[0] - 500.0 / idx.projection().kx;
    let lat = f64::midpoint(bbox[1], bbox[3]);
    match gridgov_spatial::place_point(&idx, lon, lat) {
        Placement::Outside {
            nearest,
            distance_m,
        } => {
            assert!((distance_m - 500.0).abs() < 1.0, "{distance_m}");
            assert_eq!(d.area(nearest).level, Level::Grid);
        }
        other => panic!("expected outside, got {other:?}"),
    }
}

#[test]
fn the_border_distance_is_the_distance_to_the_nearest_grid_edge() {
    let d = sample();
    let idx = GridIndex::new(&d);
    let proj = idx.projection();
    let mut rng = Rng::new(5);
    let bbox = gridgov_spatial::sample::grids_bbox(&d).unwrap();
    for _ in 0..200 {
        let (lon, lat) = (rng.range(bbox[0], bbox[2]), rng.range(bbox[1], bbox[3]));
        let (px, py) = proj.to_metres(lon, lat);
        let brute = d
            .grids()
            .flat_map(|g| edges(&d.area(g).boundary).collect::<Vec<_>>())
            .map(|(a, b)| {
                let (ax, ay) = proj.to_metres(a.x, a.y);
                let (bx, by) = proj.to_metres(b.x, b.y);
                let (dx, dy) = (bx - ax, by - ay);
                let t = (((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
                (px - ax - t * dx).hypot(py - ay - t * dy)
            })
            .fold(f64::INFINITY, f64::min);
        let r = lookup_point(&d, &idx, lon, lat, Crs::Wgs84).unwrap();
        assert!((r.border_distance_m.unwrap() - brute).abs() < 1e-6);
    }
}

#[test]
fn a_gcj02_point_is_converted_before_it_is_located() {
    let d = sample();
    let idx = GridIndex::new(&d);
    for b in d.buildings.iter().step_by(37) {
        let c = geo::Centroid::centroid(&b.footprint).unwrap();
        let want = lookup_point(&d, &idx, c.x(), c.y(), Crs::Wgs84).unwrap();
        for crs in [Crs::Gcj02, Crs::Bd09] {
            let (x, y) = crs.from_wgs84(c.x(), c.y());
            let got = lookup_point(&d, &idx, x, y, crs).unwrap();
            assert_eq!(got.grid().map(|g| g.id), want.grid().map(|g| g.id));
            assert!((got.wgs84[0] - c.x()).abs() < 1e-9 && (got.wgs84[1] - c.y()).abs() < 1e-9);
        }
    }
}

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    let ring = LineString::new(vec![
        Coord { x: x0, y: y0 },
        Coord { x: x1, y: y0 },
        Coord { x: x1, y: y1 },
        Coord { x: x0, y: y1 },
        Coord { x: x0, y: y0 },
    ]);
    MultiPolygon::new(vec![Polygon::new(ring, vec![])])
}

/// A community of 0.01° × 0.01° near Zaozhuang with grids that overlap,
/// leave a gap, reach outside, self-intersect and include a sliver.
fn broken_district() -> District {
    let (x0, y0) = (117.5, 34.8);
    let s = 0.01;
    let mut d = District::new("broken");
    let mut street = Area::new(Level::Street, "370402005", "龙山路街道");
    street.boundary = square(x0, y0, x0 + s, y0 + s);
    let street = d.add_area(street);
    let mut c = Area::new(Level::Community, "370402005001", "辛庄居委会");
    c.parent = Some(street);
    c.boundary = square(x0, y0, x0 + s, y0 + s);
    let c = d.add_area(c);
    let grid = |code: &str, b: MultiPolygon<f64>| {
        let mut g = Area::new(Level::Grid, code, code);
        g.parent = Some(c);
        g.boundary = b;
        g
    };
    // West half, overlapping the east half by 0.0005° (about 46 m wide).
    d.add_area(grid(
        "370402005001001",
        square(x0, y0, x0 + 0.0055, y0 + 0.008),
    ));
    d.add_area(grid(
        "370402005001002",
        square(x0 + 0.005, y0, x0 + s, y0 + 0.008),
    ));
    // North strip leaves a gap between y0+0.008 and y0+0.009 in the west,
    // and reaches 0.001° outside the community in the north.
    d.add_area(grid(
        "370402005001003",
        square(x0, y0 + 0.009, x0 + s, y0 + s + 0.001),
    ));
    d.add_area(grid(
        "370402005001004",
        square(x0 + 0.005, y0 + 0.008, x0 + s, y0 + 0.009),
    ));
    // A bow-tie (self-intersecting) grid.
    let bow = LineString::new(vec![
        Coord {
            x: x0 + 0.002,
            y: y0 + 0.002,
        },
        Coord {
            x: x0 + 0.003,
            y: y0 + 0.003,
        },
        Coord {
            x: x0 + 0.003,
            y: y0 + 0.002,
        },
        Coord {
            x: x0 + 0.002,
            y: y0 + 0.003,
        },
        Coord {
            x: x0 + 0.002,
            y: y0 + 0.002,
        },
    ]);
    let mut bad = grid(
        "370402005001005",
        MultiPolygon::new(vec![Polygon::new(bow, vec![])]),
    );
    bad.kind = Some(GridKind::Exclusive);
    d.add_area(bad);
    d
}

#[test]
fn validation_reports_every_problem_with_its_ids_and_geometry() {
    let d = broken_district();
    let a = assign(&d, &GridIndex::new(&d));
    let problems = validate(&d, &a, &ValidationOptions::default());
    let has = |kind: ProblemKind, ids: &[&str]| {
        problems
            .iter()
            .any(|p| p.kind == kind && ids.iter().all(|id| p.ids.iter().any(|x| x == id)))
    };
    assert!(
        has(
            ProblemKind::Overlap,
            &["370402005001001", "370402005001002"]
        ),
        "{problems:#?}"
    );
    assert!(has(ProblemKind::Gap, &["370402005001"]), "{problems:#?}");
    assert!(
        has(
            ProblemKind::OutsideParent,
            &["370402005001003", "370402005001"]
        ),
        "{problems:#?}"
    );
    assert!(
        has(ProblemKind::InvalidPolygon, &["370402005001005"]),
        "{problems:#?}"
    );
    // Every geometric problem carries its geometry, and the overlap's area
    // is the 0.0005° × 0.008° strip.
    for p in &problems {
        if matches!(
            p.kind,
            ProblemKind::Overlap | ProblemKind::Gap | ProblemKind::OutsideParent
        ) {
            assert!(p.geometry.is_some());
        }
    }
    let overlap = problems
        .iter()
        .find(|p| p.kind == ProblemKind::Overlap)
        .unwrap();
    let proj = gridgov_spatial::LocalProjection::new(117.505, 34.805);
    let want = 0.0005 * proj.kx * 0.008 * proj.ky;
    assert!(
        (overlap.area_m2.unwrap() - want).abs() / want < 0.01,
        "{} vs {want}",
        overlap.area_m2.unwrap()
    );
    // The gap is the west part of the 0.001° band, not the east part.
    let gap = problems
        .iter()
        .find(|p| p.kind == ProblemKind::Gap)
        .unwrap();
    let want = 0.005 * proj.kx * 0.001 * proj.ky;
    assert!((gap.area_m2.unwrap() - want).abs() / want < 0.01);
}

#[test]
fn the_clean_sample_has_no_topology_errors_only_its_straddling_buildings() {
    let d = sample();
    let a = assign(&d, &GridIndex::new(&d));
    let problems = validate(&d, &a, &ValidationOptions::default());
    for p in &problems {
        if p.severity == gridgov_spatial::Severity::Error {
            assert_eq!(p.kind, ProblemKind::StraddlingBuilding, "{p:?}");
        }
    }
}

#[test]
fn a_district_round_trips_through_json_unchanged() {
    let d = sample();
    let text = serde_json::to_string(&d).unwrap();
    let back: District = serde_json::from_str(&text).unwrap();
    assert!(back == d);
}

#[test]
fn a_hole_in_the_parent_is_intended_and_not_reported_as_a_gap() {
    // A community with a lake (a hole); two grids cover the rest exactly.
    let ring =
        |pts: &[(f64, f64)]| LineString::new(pts.iter().map(|&(x, y)| Coord { x, y }).collect());
    let (x0, y0) = (117.5, 34.8);
    let lake = ring(&[
        (x0 + 0.004, y0 + 0.004),
        (x0 + 0.006, y0 + 0.004),
        (x0 + 0.006, y0 + 0.006),
        (x0 + 0.004, y0 + 0.006),
        (x0 + 0.004, y0 + 0.004),
    ]);
    let outer = ring(&[
        (x0, y0),
        (x0 + 0.01, y0),
        (x0 + 0.01, y0 + 0.01),
        (x0, y0 + 0.01),
        (x0, y0),
    ]);
    let mut d = District::new("lake");
    let mut c = Area::new(Level::Community, "370402005001", "辛庄居委会");
    c.boundary = MultiPolygon::new(vec![Polygon::new(outer, vec![lake.clone()])]);
    let c = d.add_area(c);
    // West grid: x0..x0+0.005 minus the west half of the lake, as a ring
    // that goes round the lake's west half.
    let west = ring(&[
        (x0, y0),
        (x0 + 0.005, y0),
        (x0 + 0.005, y0 + 0.004),
        (x0 + 0.004, y0 + 0.004),
        (x0 + 0.004, y0 + 0.006),
        (x0 + 0.005, y0 + 0.006),
        (x0 + 0.005, y0 + 0.01),
        (x0, y0 + 0.01),
        (x0, y0),
    ]);
    let east = ring(&[
        (x0 + 0.005, y0),
        (x0 + 0.01, y0),
        (x0 + 0.01, y0 + 0.01),
        (x0 + 0.005, y0 + 0.01),
        (x0 + 0.005, y0 + 0.006),
        (x0 + 0.006, y0 + 0.006),
        (x0 + 0.006, y0 + 0.004),
        (x0 + 0.005, y0 + 0.004),
        (x0 + 0.005, y0),
    ]);
    for (code, r) in [("370402005001001", west), ("370402005001002", east)] {
        let mut g = Area::new(Level::Grid, code, code);
        g.parent = Some(c);
        g.boundary = MultiPolygon::new(vec![Polygon::new(r, vec![])]);
        d.add_area(g);
    }
    let a = assign(&d, &GridIndex::new(&d));
    let problems = validate(&d, &a, &ValidationOptions::default());
    assert!(
        problems.iter().all(|p| p.kind != ProblemKind::Gap),
        "{problems:#?}"
    );
    // Remove the east grid's cut-out: now it covers the lake's east half,
    // which lies outside the community.
    let idx = GridIndex::new(&d);
    assert_eq!(
        idx.locate(x0 + 0.0045, y0 + 0.005),
        None,
        "the lake is in no grid"
    );
}
