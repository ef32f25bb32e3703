//! The partition's invariants on the sample and on seeded districts.

use geo::{Area as _, BooleanOps, MultiPolygon};

use super::*;
use crate::cancel::Cancel;

fn never() -> Cancel {
    Cancel::never()
}
use crate::edit::apply_changes;
use crate::{GridIndex, ProblemKind, ValidationOptions, assign, sample, validate};

fn communities(d: &District) -> Vec<AreaId> {
    (0..d.areas.len() as u32)
        .map(AreaId)
        .filter(|&c| d.area(c).level == Level::Community)
        .collect()
}

/// Checks every invariant of a proposal for `community` of `d`; returns
/// the proposal.
fn check(d: &District, community: AreaId, opts: &PartitionOptions) -> Proposal {
    let a = assign(d, &GridIndex::new(d));
    let p = partition(d, &a, community, opts, &never()).unwrap();
    let c = d.area(community);
    let proj = LocalProjection::new(
        c.boundary.bounding_rect().unwrap().center().x,
        c.boundary.bounding_rect().unwrap().center().y,
    );
    let cm = proj.multi_polygon(&c.boundary);
    let live: Vec<MultiPolygon<f64>> = p
        .grids
        .iter()
        .filter(|g| g.fate != GridFate::Removed)
        .map(|g| proj.multi_polygon(&g.boundary))
        .collect();
    // Exact cover: the grids' areas add up to the community's, and
    // together they are the community.
    let sum: f64 = live.iter().map(geo::Area::unsigned_area).sum();
    let whole = cm.unsigned_area();
    assert!(
        (sum - whole).abs() < 1.0,
        "{}: grids {sum} m² against the community's {whole} m²",
        c.code
    );
    let polys: Vec<geo::Polygon<f64>> = live.iter().flat_map(|m| m.0.clone()).collect();
    let union = geo::unary_union(polys.iter());
    let gap = cm.difference(&union).unsigned_area();
    let out = union.difference(&cm).unsigned_area();
    assert!(
        gap < 1.0 && out < 1.0,
        "{}: gap {gap} m², outside {out} m²",
        c.code
    );
    // Contiguous: one polygon each.
    for g in p.grids.iter().filter(|g| g.fate != GridFate::Removed) {
        let pieces: Vec<(f64, usize)> = g
            .boundary
            .0
            .iter()
            .map(|q| {
                let qm = proj.multi_polygon(&MultiPolygon::new(vec![q.clone()]));
                let n = d
                    .buildings
                    .iter()
                    .filter(|b| {
                        let c = geo::Centroid::centroid(&b.footprint).unwrap();
                        crate::pip::contains(q, c.x(), c.y())
                    })
                    .count();
                (qm.unsigned_area(), n)
            })
            .collect();
        assert_eq!(
            g.boundary.0.len(),
            1,
            "{} ({:?}) is in one piece: {pieces:?}",
            g.code,
            opts
        );
    }
    // Band where the data allows it.
    let unreachable = p.notes.iter().any(|n| {
        matches!(
            n,
            PartitionNote::BandUnreachable { .. }
                | PartitionNote::TooFewHouseholds { .. }
                | PartitionNote::BuildingOverMax { .. }
        )
    });
    if !unreachable {
        for g in p.grids.iter().filter(|g| g.fate != GridFate::Removed) {
            assert!(
                g.in_band,
                "{}: {} households, out of {}–{}",
                g.code, g.households, opts.min, opts.max
            );
        }
    }
    // Applied as a draft: buildings whole, no overlap or gap, exclusive
    // grids untouched.
    let changes = p.changes();
    if !changes.is_empty() {
        let after = apply_changes(d, &changes).unwrap();
        let aa = assign(&after, &GridIndex::new(&after));
        let problems = validate(&after, &aa, &ValidationOptions::default());
        let ours: BTreeSet<String> = p.grids.iter().map(|g| g.code.clone()).collect();
        for pr in &problems {
            let mine = pr.ids.iter().any(|id| ours.contains(id));
            if !mine {
                continue;
            }
            assert!(
                !matches!(
                    pr.kind,
                    ProblemKind::Overlap
                        | ProblemKind::Gap
                        | ProblemKind::OutsideParent
                        | ProblemKind::InvalidPolygon
                ),
                "{}: {:?} {}",
                c.code,
                pr.kind,
                pr.message
            );
        }
        for (bi, b) in after.buildings.iter().enumerate() {
            let before = &a.buildings[bi];
            if aa.buildings[bi].straddling && !before.straddling {
                let in_ours = aa.buildings[bi]
                    .shares
                    .iter()
                    .any(|(g, _)| ours.contains(&after.area(*g).code));
                assert!(
                    !in_ours,
                    "{}: building {} is cut by the new grids",
                    c.code, b.code
                );
            }
        }
        for (gi, g) in d.areas.iter().enumerate() {
            if g.kind == Some(GridKind::Exclusive) && g.parent == Some(community) {
                let same = after.areas.iter().find(|x| x.code == g.code).unwrap();
                assert_eq!(same.boundary, g.boundary, "exclusive grid {gi} untouched");
            }
        }
    }
    p
}

#[test]
fn every_community_of_the_sample_gets_grids_that_cover_it_exactly_keep_buildings_whole_and_hold_the_band()
 {
    let d = sample::district(&sample::SampleSpec::default());
    for c in communities(&d) {
        let p = check(&d, c, &PartitionOptions::default());
        assert!(
            p.metrics.share_in_band > 0.99,
            "{}: {:?}",
            p.community,
            p.metrics
        );
        assert!(
            p.metrics.compactness_mean > 0.3,
            "{}: compact {:?}",
            p.community,
            p.metrics
        );
    }
}

#[test]
fn keeping_todays_grids_moves_few_households_and_leaves_grids_in_the_band_alone() {
    let d = sample::district(&sample::SampleSpec::default());
    for c in communities(&d) {
        let opts = PartitionOptions {
            keep_existing: true,
            ..PartitionOptions::default()
        };
        let p = check(&d, c, &opts);
        let fresh = partition(
            &d,
            &assign(&d, &GridIndex::new(&d)),
            c,
            &PartitionOptions::default(),
            &never(),
        )
        .unwrap();
        assert!(
            p.metrics.households_moved <= fresh.metrics.households_moved,
            "{}: keeping moves {} against {} afresh",
            p.community,
            p.metrics.households_moved,
            fresh.metrics.households_moved
        );
    }
}

#[test]
fn seeded_districts_keep_every_invariant() {
    for seed in [3u64, 11, 29] {
        let spec = sample::SampleSpec {
            seed,
            ..sample::SampleSpec::default()
        };
        let d = sample::district(&spec);
        for c in communities(&d).into_iter().take(3) {
            for keep in [false, true] {
                check(
                    &d,
                    c,
                    &PartitionOptions {
                        keep_existing: keep,
                        seed,
                        ..PartitionOptions::default()
                    },
                );
            }
        }
    }
}

#[test]
fn a_narrow_band_makes_more_grids_and_says_what_cannot_be_met() {
    let d = sample::district(&sample::SampleSpec::default());
    let c = communities(&d)[0];
    let p = check(
        &d,
        c,
        &PartitionOptions {
            min: 100,
            max: 150,
            ..PartitionOptions::default()
        },
    );
    assert!(p.metrics.grids > p.today.grids);
    let huge = partition(
        &d,
        &assign(&d, &GridIndex::new(&d)),
        c,
        &PartitionOptions {
            min: 5000,
            max: 6000,
            ..PartitionOptions::default()
        },
        &never(),
    )
    .unwrap();
    assert_eq!(huge.metrics.grids, 1);
    assert!(
        huge.notes
            .iter()
            .any(|n| matches!(n, PartitionNote::TooFewHouseholds { .. }))
    );
}

#[test]
fn bad_options_and_areas_are_refused() {
    let d = sample::district(&sample::SampleSpec::default());
    let a = assign(&d, &GridIndex::new(&d));
    let c = communities(&d)[0];
    assert!(matches!(
        partition(
            &d,
            &a,
            c,
            &PartitionOptions {
                min: 500,
                max: 300,
                ..PartitionOptions::default()
            },
            &never()
        ),
        Err(PartitionError::BadBand { .. })
    ));
    let grid = d.grids().next().unwrap();
    assert!(matches!(
        partition(&d, &a, grid, &PartitionOptions::default(), &never()),
        Err(PartitionError::NotACommunity(_))
    ));
}

#[test]
fn the_same_seed_gives_the_same_proposal() {
    let d = sample::district(&sample::SampleSpec::default());
    let a = assign(&d, &GridIndex::new(&d));
    let c = communities(&d)[1];
    let x = partition(&d, &a, c, &PartitionOptions::default(), &never()).unwrap();
    let y = partition(&d, &a, c, &PartitionOptions::default(), &never()).unwrap();
    assert_eq!(x.grids, y.grids);
}

#[test]
fn a_cancelled_proposal_stops() {
    let d = sample::district(&sample::SampleSpec::default());
    let a = assign(&d, &GridIndex::new(&d));
    let cancel = Cancel::new();
    cancel.cancel();
    let r = partition(
        &d,
        &a,
        communities(&d)[0],
        &PartitionOptions::default(),
        &cancel,
    );
    assert!(matches!(r, Err(PartitionError::Cancelled(_))));
}

#[test]
fn building_cells_cover_the_community_and_hold_every_household() {
    let d = sample::district(&sample::SampleSpec::default());
    let a = assign(&d, &GridIndex::new(&d));
    let c = communities(&d)[2];
    let cells = building_cells(&d, &a, c).unwrap();
    let p = partition(&d, &a, c, &PartitionOptions::default(), &never()).unwrap();
    let households: u64 = cells.iter().map(|x| x.households).sum();
    let proposed: u64 = p.grids.iter().map(|g| g.households).sum();
    assert_eq!(households, proposed);
    let area = |m: &MultiPolygon<f64>| {
        let r = d.area(c).boundary.bounding_rect().unwrap().center();
        LocalProjection::new(r.x, r.y)
            .multi_polygon(m)
            .unsigned_area()
    };
    let sum: f64 = cells.iter().map(|x| area(&x.cell)).sum();
    assert!((sum - area(&d.area(c).boundary)).abs() < 1.0, "{sum}");
}

/// An L-shaped community of one grid with a road through it, buildings on
/// a jittered lattice with seeded households — one tower above the band —
/// and an exclusive grid over one corner.
fn l_shaped(seed: u64) -> District {
    use crate::{Area, Building, BuildingId, MapFeature, Unit};
    use geo::{LineString, Polygon};
    let mut rng = crate::Rng::new(seed);
    let mut d = District::new("L");
    let (lon0, lat0) = (117.5, 34.8);
    let proj = LocalProjection::new(lon0, lat0);
    let ll = |x: f64, y: f64| {
        let (lon, lat) = proj.to_lon_lat(x, y);
        geo::Coord { x: lon, y: lat }
    };
    let ring = |pts: &[(f64, f64)]| {
        MultiPolygon::new(vec![Polygon::new(
            LineString::new(pts.iter().map(|&(x, y)| ll(x, y)).collect()),
            vec![],
        )])
    };
    let l = ring(&[
        (0.0, 0.0),
        (900.0, 0.0),
        (900.0, 400.0),
        (400.0, 400.0),
        (400.0, 900.0),
        (0.0, 900.0),
        (0.0, 0.0),
    ]);
    let street = d.add_area(Area::new(Level::Street, "S", "街道"));
    let mut c = Area::new(Level::Community, "S001", "拐角社区");
    c.parent = Some(street);
    c.boundary = l.clone();
    let c = d.add_area(c);
    let mut g = Area::new(Level::Grid, "S001001", "拐角第1网格");
    g.parent = Some(c);
    g.kind = Some(GridKind::Basic);
    g.boundary = l;
    d.add_area(g);
    let mut x = Area::new(Level::Grid, "S001002", "学校专属网格");
    x.parent = Some(c);
    x.kind = Some(GridKind::Exclusive);
    x.boundary = ring(&[
        (700.0, 20.0),
        (880.0, 20.0),
        (880.0, 180.0),
        (700.0, 180.0),
        (700.0, 20.0),
    ]);
    d.add_area(x);
    d.basemap.push_back(MapFeature::road(
        "中山路",
        "primary",
        vec![
            (ll(200.0, -50.0).x, ll(200.0, -50.0).y),
            (ll(200.0, 950.0).x, ll(200.0, 950.0).y),
        ],
    ));
    let mut n = 0;
    for i in 0..17 {
        for j in 0..17 {
            let (cx, cy) = (
                30.0 + i as f64 * 52.0 + rng.range(-6.0, 6.0),
                30.0 + j as f64 * 52.0 + rng.range(-6.0, 6.0),
            );
            let in_l = (cx < 370.0 || cy < 370.0) && cx < 870.0 && cy < 870.0;
            let in_school = cx > 680.0 && cy < 200.0;
            let on_road = (cx - 200.0).abs() < 30.0;
            if !in_l || on_road || (in_school && (i + j) % 2 == 0) {
                continue;
            }
            let (w, h) = (rng.range(18.0, 34.0), rng.range(10.0, 16.0));
            d.buildings.push_back(Building {
                code: format!("B{n}"),
                address: format!("中山路{n}号"),
                floors: 6,
                footprint: ring(&[
                    (cx - w / 2.0, cy - h / 2.0),
                    (cx + w / 2.0, cy - h / 2.0),
                    (cx + w / 2.0, cy + h / 2.0),
                    (cx - w / 2.0, cy + h / 2.0),
                    (cx - w / 2.0, cy - h / 2.0),
                ]),
                source: None,
                leaders: vec![],
            });
            let households = if n == 40 {
                620
            } else {
                6 + rng.below(30) as u32
            };
            let loc = ll(cx, cy - h / 2.0);
            d.units.push_back(Unit {
                building: BuildingId(n),
                label: "1".into(),
                location: geo::Point::from(loc),
                households,
            });
            n += 1;
        }
    }
    d
}

#[test]
fn a_concave_community_with_a_tower_and_an_exclusive_grid_keeps_every_invariant_and_names_the_tower()
 {
    for seed in [1u64, 2, 3] {
        let d = l_shaped(seed);
        let c = d.area_by_code("S001").unwrap();
        for keep in [false, true] {
            let p = check(
                &d,
                c,
                &PartitionOptions {
                    keep_existing: keep,
                    seed,
                    ..PartitionOptions::default()
                },
            );
            assert!(
                p.notes.iter().any(|n| matches!(n, PartitionNote::BuildingOverMax { building, .. } if building == "B40")),
                "{:?}",
                p.notes
            );
            assert!(
                p.grids.iter().all(|g| g.code != "S001002"),
                "the exclusive grid is not the proposal's"
            );
            let over: Vec<&ProposedGrid> = p
                .grids
                .iter()
                .filter(|g| g.fate != GridFate::Removed && !g.in_band)
                .collect();
            assert_eq!(
                over.len(),
                1,
                "only the tower's grid is out of the band: {over:?}"
            );
            assert!(p.metrics.grids >= 5, "{:?}", p.metrics);
        }
    }
}
