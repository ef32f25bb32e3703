//! The read model updated in place is the read model rebuilt: after a
//! seeded random sequence of writes — reports filed, steps taken, pins
//! moved, cases merged, imports, households and units changed — the
//! snapshot the application changed row by row equals one built afresh
//! from what the store holds (the district, every entity's grid, the
//! counts per area, and the vector tiles and heatmap drawn from it). On
//! the GeoPackage and on PostGIS.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use gridgov_app::cases::{self, NewReport, Place, StepRequest};
use gridgov_app::households::{HouseholdChange, UnitEdit};
use gridgov_app::{App, FixedClock, Rules, Snapshot, Store};
use gridgov_spatial::workflow::{Action, Assignee};
use gridgov_spatial::{HouseholdId, IncidentStatus, Rng, UnitId};
use gridgov_storage::testing::now;
use gridgov_tiles::{IncidentFilter, TileId};

mod util;

#[test]
fn on_geopackage_random_writes_leave_the_snapshot_as_a_rebuild_would() {
    let (_dir, store) = util::gpkg("read-model");
    random_writes_leave_the_snapshot_as_a_rebuild_would(&store, 11);
}

#[test]
fn on_postgis_random_writes_leave_the_snapshot_as_a_rebuild_would() {
    let Some(store) = util::pg("read_model") else {
        return;
    };
    random_writes_leave_the_snapshot_as_a_rebuild_would(&store, 12);
}

/// A report at `(lon, lat)`.
fn report_at(lon: f64, lat: f64, category: &str, description: String) -> NewReport {
    NewReport {
        place: Place {
            lon: Some(lon),
            lat: Some(lat),
            ..Place::default()
        },
        category: category.into(),
        description,
        ..NewReport::default()
    }
}

/// Files `r` on `app` as the service does (the store, then the read
/// model); the new case's id.
fn file(app: &App, r: &NewReport, at: gridgov_spatial::Timestamp) -> i64 {
    let (x, _) = cases::incident_of(&app.current(), r, at).unwrap();
    let id = app.store.add_incidents(&[x]).unwrap()[0];
    app.incidents_updated(&[id]).unwrap();
    id
}

/// `mp` as a GeoJSON geometry.
fn geometry_of(mp: &geo::MultiPolygon<f64>) -> serde_json::Value {
    let rings: Vec<Vec<Vec<Vec<f64>>>> =
        mp.0.iter()
            .map(|p| {
                std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(|r| r.0.iter().map(|q| vec![q.x, q.y]).collect())
                    .collect()
            })
            .collect();
    serde_json::json!({"type": "MultiPolygon", "coordinates": rings})
}

/// The snapshot a fresh start would build from `store`.
fn rebuilt(store: &dyn Store) -> Snapshot {
    Snapshot::build(
        store.load().unwrap(),
        store.grid_versions().unwrap(),
        store.latest_version().unwrap(),
    )
}

/// Everything a reader sees of a snapshot agrees with a rebuild's: the
/// tables, placements, counts, three z14 vector tiles over the district,
/// the z16 tiles (with units) at the places `touched`, and the heatmap.
fn assert_same(got: &Snapshot, want: &Snapshot, touched: &[[f64; 2]], after: &str) {
    assert!(
        got.district == want.district,
        "the district differs after {after}"
    );
    assert!(
        got.assignment == want.assignment,
        "the placements differ after {after}"
    );
    assert!(got.stats == want.stats, "the counts differ after {after}");
    let rule = gridgov_spatial::duplicates::DuplicateRule {
        radius_m: 400.0,
        window_hours: 1e6,
    };
    let n = want.district.incidents.len() as i64;
    for id in [1, n / 2, n - 2, n - 1, n] {
        assert_eq!(
            cases::duplicates_in(got, &rule, id).unwrap(),
            cases::duplicates_in(want, &rule, id).unwrap(),
            "duplicates of {id} differ after {after}"
        );
    }
    let nb = want.district.buildings.len();
    // A few buildings anywhere, and those of the exclusive grids (which
    // the publishes below move).
    let exclusive = |a: &gridgov_spatial::BuildingPlacement| {
        a.placement.responsible().is_some_and(|g| {
            want.district.area(g).kind == Some(gridgov_spatial::GridKind::Exclusive)
        })
    };
    let some = (0..nb).filter(|&i| {
        exclusive(&want.assignment.buildings[i]) || exclusive(&got.assignment.buildings[i])
    });
    for i in [0, nb / 3, nb / 2, 2 * nb / 3, nb - 1]
        .into_iter()
        .chain(some)
    {
        let q = &want.district.buildings[i].address;
        assert_eq!(
            got.addresses.lookup(&got.district, q, 5),
            want.addresses.lookup(&want.district, q, 5),
            "the address lookup of {q} differs after {after}"
        );
    }
    for p in touched.iter().rev().take(8) {
        let r = geo::Rect::new((p[0] - 1e-4, p[1] - 1e-4), (p[0] + 1e-4, p[1] + 1e-4));
        let (mut a, mut b) = (got.incidents_near(r), want.incidents_near(r));
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "the incidents near {p:?} differ after {after}");
    }
    let (g, w) = (got.tile_source(), want.tile_source());
    for (x, y) in [(13540, 6496), (13541, 6497), (13543, 6498)] {
        let t = TileId::new(14, x, y).unwrap();
        assert_eq!(g.mvt(t), w.mvt(t), "tile {t:?} differs after {after}");
    }
    for p in touched.iter().rev().take(5) {
        let t = TileId::containing(p[0], p[1], 16);
        assert_eq!(g.mvt(t), w.mvt(t), "tile {t:?} differs after {after}");
    }
    let f = IncidentFilter {
        statuses: vec!["open".into()],
        ..IncidentFilter::default()
    };
    assert!(
        (g.density_max(&f, 150.0, false) - w.density_max(&f, 150.0, false)).abs() < 1e-6,
        "the heatmap differs after {after}"
    );
}

/// The next step for a case at `status`, if the loop has one.
fn next_action(status: IncidentStatus, rng: &mut Rng) -> Option<Action> {
    use IncidentStatus as S;
    Some(match status {
        S::Reported if rng.below(4) == 0 => Action::Reject {
            reason: "不属于本网格".into(),
        },
        S::Reported => Action::Accept,
        S::Accepted => Action::Dispatch {
            to: Assignee::Department("城管".into()),
        },
        S::Dispatched => Action::Handle,
        S::Handled => Action::Feedback,
        S::Feedback => Action::Close,
        S::Closed => Action::Evaluate {
            satisfaction: 1 + rng.below(5) as u8,
        },
        _ => return None,
    })
}

fn random_writes_leave_the_snapshot_as_a_rebuild_would(store: &Arc<dyn Store>, seed: u64) {
    let clock = Arc::new(FixedClock::at(now()));
    let app = App::open(store.clone(), clock, Rules::default()).unwrap();
    // Tiles drawn before the writes, so that later snapshots share their
    // layers (the path a running service takes).
    let _ = app
        .current()
        .tile_source()
        .mvt(TileId::new(14, 13541, 6497).unwrap());
    let mut rng = Rng::new(seed);
    let b = app.current().tile_source().bounds_lonlat;
    let point = |rng: &mut Rng| {
        // Mostly inside the district, now and then just outside it.
        let m = 0.002;
        [rng.range(b[0] - m, b[2] + m), rng.range(b[1] - m, b[3] + m)]
    };
    let categories = ["环境卫生", "道路设施", "噪音扰民"];
    let mut touched: Vec<[f64; 2]> = Vec::new();
    let mut done: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for round in 1..=120 {
        let snap = app.current();
        let n = snap.district.incidents.len() as i64;
        let pick = |rng: &mut Rng| 1 + rng.below(n as u64) as i64;
        let what = match rng.below(9) {
            0 | 1 => {
                let p = point(&mut rng);
                let r = report_at(
                    p[0],
                    p[1],
                    categories[rng.below(3) as usize],
                    format!("第{round}次上报"),
                );
                let id = file(&app, &r, app.now());
                let x = &app.current().district.incidents[(id - 1) as usize];
                touched.push([x.location.x(), x.location.y()]);
                "a report filed"
            }
            2 | 3 => {
                let id = pick(&mut rng);
                let c = cases::case(store.as_ref(), id).unwrap();
                let Some(action) = next_action(c.state.status, &mut rng) else {
                    continue;
                };
                if c.state.merged_into.is_some() {
                    continue;
                }
                let req = StepRequest {
                    action,
                    actor: "test".into(),
                    note: String::new(),
                    expected_seq: None,
                    photos: Vec::new(),
                };
                cases::step(store.as_ref(), id, &req, app.now()).unwrap();
                app.incidents_updated(&[id]).unwrap();
                "a step"
            }
            4 => {
                let id = pick(&mut rng);
                // Anywhere, or a few tens of metres (mostly the same grid).
                let to = if rng.below(2) == 0 {
                    point(&mut rng)
                } else {
                    let at = snap.district.incidents[(id - 1) as usize].location;
                    [
                        at.x() + rng.range(-5e-4, 5e-4),
                        at.y() + rng.range(-5e-4, 5e-4),
                    ]
                };
                touched.push(to);
                if cases::move_pin(store.as_ref(), &snap, id, to, "test", "", app.now()).is_err() {
                    continue; // a closed or merged case keeps its pin
                }
                app.incidents_updated(&[id]).unwrap();
                "a pin moved"
            }
            5 => {
                let (a, b) = (pick(&mut rng), pick(&mut rng));
                if cases::merge(store.as_ref(), a, b, "test", "", app.now()).is_err() {
                    continue; // other categories, closed, merged already, itself
                }
                app.incidents_updated(&[a, b]).unwrap();
                "a merge"
            }
            6 => {
                let xs: Vec<_> = (0..3)
                    .map(|_| {
                        let p = point(&mut rng);
                        let r = report_at(p[0], p[1], categories[0], String::new());
                        cases::incident_of(&snap, &r, app.now()).unwrap().0
                    })
                    .collect();
                let ids = store.add_incidents(&xs).unwrap();
                app.incidents_updated(&ids).unwrap();
                "an import"
            }
            7 if rng.below(4) == 0 && snap.version > 1 => {
                match app.rollback(1, "test", "回退到最初的边界", None) {
                    Err(gridgov_app::BoundaryError::NothingToRollBack(_)) => continue,
                    r => r.map(|_| ()).unwrap(),
                }
                "a rollback"
            }
            7 => {
                // An exclusive grid shrunk or grown a little about its
                // centre: it lies over basic grids, so no gap appears;
                // grown out of its community, the publish is refused.
                use geo::{Centroid, MapCoords};
                let d = &snap.district;
                let ex: Vec<_> = d
                    .grids()
                    .filter(|&g| d.area(g).kind == Some(gridgov_spatial::GridKind::Exclusive))
                    .collect();
                let g = ex[rng.below(ex.len() as u64) as usize];
                let a = d.area(g);
                let c = a.boundary.centroid().unwrap();
                let k = rng.range(0.7, 1.1);
                let mp = a.boundary.map_coords(|p| geo::Coord {
                    x: c.x() + (p.x - c.x()) * k,
                    y: c.y() + (p.y - c.y()) * k,
                });
                let geometry = geometry_of(&mp);
                let base = snap.grid_versions.get(&a.code).copied().unwrap_or(0);
                if app
                    .publish_grid(&a.code, base, geometry, None, "test", "调整专属网格", None)
                    .is_err()
                {
                    continue;
                }
                touched.push([c.x(), c.y()]);
                "a publish"
            }
            _ => {
                let h = rng.below(snap.district.households.len() as u64) as u32;
                app.change_household(
                    HouseholdId(h),
                    HouseholdChange {
                        headcount: Some(1 + rng.below(6) as u16),
                        ..HouseholdChange::default()
                    },
                )
                .unwrap();
                if rng.below(3) == 0 {
                    let u = snap.district.households[h as usize].unit;
                    let at = snap.district.units[u.index()].location;
                    touched.push([at.x(), at.y()]);
                    app.change_unit(
                        UnitId(u.0),
                        UnitEdit {
                            label: Some(format!("{}单元", 1 + rng.below(9))),
                            households: None,
                        },
                    )
                    .unwrap();
                }
                "a household change"
            }
        };
        *done.entry(what).or_default() += 1;
        if round % 20 == 0 || round <= 8 {
            assert_same(&app.current(), &rebuilt(store.as_ref()), &touched, what);
        }
    }
    assert_same(
        &app.current(),
        &rebuilt(store.as_ref()),
        &touched,
        "all the writes",
    );
    assert!(
        done.get("a publish").copied().unwrap_or(0) >= 3,
        "publishes were among the writes: {done:?}"
    );
}

#[test]
fn duplicates_from_the_snapshot_are_those_the_case_book_gives() {
    let (_dir, store) = util::gpkg("duplicates");
    let app = App::open(
        store.clone(),
        Arc::new(FixedClock::at(now())),
        Rules::default(),
    )
    .unwrap();
    let snap = app.current();
    let book = cases::Book::read(store.as_ref()).unwrap();
    let rule = gridgov_spatial::duplicates::DuplicateRule::default();
    let mut found = 0;
    for id in 1..=snap.district.incidents.len() as i64 {
        let a = cases::duplicates_in(&snap, &rule, id).unwrap();
        assert_eq!(
            a,
            cases::suggest_duplicates(&book, &rule, id).unwrap(),
            "case {id}"
        );
        found += a.len();
    }
    assert!(found > 0, "the sample has duplicates to find");
}

#[test]
fn on_geopackage_the_deadline_index_escalates_what_a_scan_of_every_case_would() {
    let (_dir, store) = util::gpkg("deadlines");
    the_deadline_index_escalates_what_a_scan_of_every_case_would(&store, 21);
}

#[test]
fn on_postgis_the_deadline_index_escalates_what_a_scan_of_every_case_would() {
    let Some(store) = util::pg("deadlines") else {
        return;
    };
    the_deadline_index_escalates_what_a_scan_of_every_case_would(&store, 22);
}

/// The cases a read of every case says are due for escalation at `at`.
fn due_by_scan(store: &dyn Store, rules: &Rules, at: gridgov_spatial::Timestamp) -> Vec<i64> {
    let book = cases::Book::read(store).unwrap();
    let mut ids: Vec<i64> = book
        .cases
        .iter()
        .filter(|c| {
            c.state.merged_into.is_none()
                && rules
                    .deadlines
                    .overdue(&c.incident.category, &c.state, at)
                    .is_some_and(|o| o.escalate)
                && c.state.step(&Action::Escalate, "system", at, "").is_ok()
        })
        .map(|c| c.id)
        .collect();
    ids.sort_unstable();
    ids
}

fn the_deadline_index_escalates_what_a_scan_of_every_case_would(store: &Arc<dyn Store>, seed: u64) {
    let start = now();
    let rules = Rules::default();
    let app = App::open(
        store.clone(),
        Arc::new(FixedClock::at(start)),
        rules.clone(),
    )
    .unwrap();
    let mut rng = Rng::new(seed);
    let mut at = start;
    let mut escalated = 0;
    for round in 0..12 {
        // Some writes between ticks: steps on random cases, and new reports
        // (the index must learn of both).
        let snap = app.current();
        let n = snap.district.incidents.len() as i64;
        for _ in 0..20 {
            let id = 1 + rng.below(n as u64) as i64;
            let c = cases::case(store.as_ref(), id).unwrap();
            if c.state.merged_into.is_some() {
                continue;
            }
            if let Some(action) = next_action(c.state.status, &mut rng) {
                let req = StepRequest {
                    action,
                    actor: "test".into(),
                    note: String::new(),
                    expected_seq: None,
                    photos: Vec::new(),
                };
                cases::step(store.as_ref(), id, &req, at).unwrap();
                app.incidents_updated(&[id]).unwrap();
            }
        }
        let p = snap.district.incidents[0].location;
        file(
            &app,
            &report_at(p.x(), p.y(), "safety_hazard", format!("第{round}轮")),
            at,
        );
        // The next tick: from a few hours to a few days later (a long
        // downtime escalates a backlog larger than one batch).
        at = gridgov_spatial::time::from_epoch(
            at.as_second() + 3600 * (1 + rng.below(if round == 3 { 24 * 40 } else { 30 }) as i64),
        );
        let want = due_by_scan(store.as_ref(), &rules, at);
        let mut got = app.escalate_overdue(at).unwrap();
        got.sort_unstable();
        assert_eq!(got, want, "round {round}: the cases escalated differ");
        escalated += got.len();
        assert!(
            due_by_scan(store.as_ref(), &rules, at)
                .iter()
                .all(|id| got.contains(id)),
            "round {round}: a case still due now was escalated in this tick (one level a tick)"
        );
        let indexed = cases::Book::read(store.as_ref())
            .unwrap()
            .cases
            .iter()
            .filter(|c| {
                gridgov_app::deadlines::escalates_after(
                    &rules.deadlines,
                    &c.incident.category,
                    &c.state,
                )
                .is_some()
            })
            .count();
        assert_eq!(app.deadlines_indexed(), Some(indexed), "round {round}");
    }
    assert!(
        escalated > gridgov_app::deadlines::ESCALATION_BATCH,
        "the backlog spans more than one batch ({escalated} escalated)"
    );
    // The read model shows the escalations.
    assert_same(
        &app.current(),
        &rebuilt(store.as_ref()),
        &[],
        "the escalations",
    );
}

/// Waits up to `limit` for `done`; how long it took.
fn within(limit: std::time::Duration, done: impl Fn() -> bool) -> Option<std::time::Duration> {
    let t = std::time::Instant::now();
    while t.elapsed() < limit {
        if done() {
            return Some(t.elapsed());
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    None
}

#[test]
fn on_postgis_a_replica_applies_another_replicas_case_household_and_unit_writes_row_by_row() {
    let Some(cluster) = gridgov_storage::testing::cluster() else {
        return;
    };
    let url = gridgov_storage::testing::fresh_database(&cluster, "replicas");
    let d = gridgov_spatial::sample::district(&gridgov_spatial::sample::SampleSpec::default());
    gridgov_storage::save_district(&url, &d, now()).unwrap();
    let open = || {
        let store = gridgov_storage::open(&url, std::path::Path::new("/nonexistent"), now())
            .unwrap()
            .store;
        let app =
            Arc::new(App::open(store, Arc::new(FixedClock::at(now())), Rules::default()).unwrap());
        app.follow_store().unwrap();
        app
    };
    let (a, b) = (open(), open());
    // Tiles drawn on the replica, so that the incident layer it changes is
    // the overlay over what it had.
    let _ = b
        .current()
        .tile_source()
        .mvt(TileId::new(14, 13541, 6497).unwrap());
    let before = b.current();
    let n = a.current().district.incidents.len();
    let mut rng = Rng::new(5);
    let mut waits = Vec::new();
    for round in 0..20 {
        let snap = a.current();
        let p = snap.district.incidents[rng.below(n as u64) as usize].location;
        let id = file(
            &a,
            &report_at(p.x(), p.y(), "环境卫生", format!("第{round}次")),
            a.now(),
        );
        let w = within(std::time::Duration::from_secs(5), || {
            b.current().district.incidents.len() == n + round + 1
        });
        waits.push(w.unwrap_or_else(|| panic!("replica b never saw case {id}")));
        // A step on an old case, on the other replica this time.
        let old = 1 + rng.below(n as u64) as i64;
        let c = cases::case(b.store.as_ref(), old).unwrap();
        if c.state.merged_into.is_none()
            && let Some(action) = next_action(c.state.status, &mut rng)
        {
            let req = StepRequest {
                action,
                actor: "test".into(),
                note: String::new(),
                expected_seq: None,
                photos: Vec::new(),
            };
            let after = cases::step(b.store.as_ref(), old, &req, b.now()).unwrap();
            b.incidents_updated(&[old]).unwrap();
            let i = (old - 1) as usize;
            waits.push(
                within(std::time::Duration::from_secs(5), || {
                    a.current().district.incidents[i].status == after.1.status
                })
                .unwrap_or_else(|| panic!("replica a never saw the step on case {old}")),
            );
        }
    }
    // Households and units edited on one replica.
    for k in 0..5u32 {
        let h = 7 * k + 3;
        let before = a.current().district.households[h as usize].clone();
        let headcount = before.headcount % 6 + 1;
        a.change_household(
            HouseholdId(h),
            HouseholdChange {
                headcount: Some(headcount),
                ..HouseholdChange::default()
            },
        )
        .unwrap();
        waits.push(
            within(std::time::Duration::from_secs(5), || {
                b.current().district.households[h as usize].headcount == headcount
            })
            .unwrap_or_else(|| panic!("replica b never saw household {h} change")),
        );
        let u = before.unit;
        let label = format!("{}号楼{k}单元", k + 1);
        b.change_unit(
            UnitId(u.0),
            UnitEdit {
                label: Some(label.clone()),
                households: None,
            },
        )
        .unwrap();
        waits.push(
            within(std::time::Duration::from_secs(5), || {
                a.current().district.units[u.index()].label == label
            })
            .unwrap_or_else(|| panic!("replica a never saw unit {} change", u.0)),
        );
    }
    waits.sort_unstable();
    eprintln!(
        "a write on one replica (cases, households, units) reached the other in {:?} (median), {:?} (slowest)",
        waits[waits.len() / 2],
        waits[waits.len() - 1]
    );
    let want = rebuilt(a.store.as_ref());
    assert_same(
        &a.current(),
        &want,
        &[],
        "writes on both replicas, seen on a",
    );
    assert_same(
        &b.current(),
        &want,
        &[],
        "writes on both replicas, seen on b",
    );
    assert!(
        Arc::ptr_eq(&b.current().grids, &before.grids),
        "the replica changed its snapshot in place, not by a rebuild"
    );
}

#[test]
fn cases_filed_while_grids_are_published_stay_in_the_read_model() {
    let (_dir, store) = util::gpkg("publish-race");
    let app = Arc::new(
        App::open(
            store.clone(),
            Arc::new(FixedClock::at(now())),
            Rules::default(),
        )
        .unwrap(),
    );
    let snap = app.current();
    let codes: Vec<String> = snap
        .district
        .grids()
        .take(6)
        .map(|g| snap.district.area(g).code.clone())
        .collect();
    let filer = {
        let app = app.clone();
        std::thread::spawn(move || {
            for k in 0..150 {
                let snap = app.current();
                let p = snap.district.incidents[k].location;
                let r = report_at(p.x(), p.y(), "环境卫生", format!("发布时上报{k}"));
                let id = file(&app, &r, app.now());
                // What filing asks of the snapshot right after.
                assert!(
                    cases::duplicates_in(&app.current(), &app.rules.duplicates, id).is_ok(),
                    "case {id} is missing from the read model just after it was filed"
                );
            }
        })
    };
    for round in 0..3 {
        for code in &codes {
            let snap = app.current();
            let g = snap.district.area_by_code(code).unwrap();
            let b = &snap.district.area(g).boundary;
            let geometry = geometry_of(b);
            let base = snap.grid_versions.get(code).copied().unwrap_or(0);
            app.publish_grid(
                code,
                base,
                geometry,
                None,
                "test",
                &format!("第{round}轮"),
                None,
            )
            .unwrap();
        }
    }
    filer.join().unwrap();
    let want = rebuilt(store.as_ref());
    assert_eq!(
        app.current().district.incidents.len(),
        want.district.incidents.len(),
        "every case filed is in the read model"
    );
    assert_same(&app.current(), &want, &[], "cases filed during publishes");
}
