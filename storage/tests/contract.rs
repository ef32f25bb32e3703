//! The contract every store keeps, checked on the GeoPackage and on
//! PostGIS alike: each test below runs once per backend (`both!`). The
//! PostGIS variants need `GRIDGOV_TEST_PG` (a cluster `.ci/run` starts);
//! without it they are skipped locally and fail under `CI`.

#![allow(clippy::unwrap_used)]

use gridgov_app::accounts::{self, AuditEntry, AuditQuery, TokenKind};
use gridgov_app::{
    Append, AppendError, DraftRecord, DraftStatus, GridRecord, Publication, PublishError, Revoke,
    Store, UnitChange,
};
use gridgov_spatial::sample::{SampleSpec, district};
use gridgov_spatial::workflow::{self, Action, Assignee, CaseState, allowed};
use gridgov_spatial::{HouseholdId, Incident, IncidentStatus, Timestamp, UnitId};
use gridgov_storage::testing::now;

mod util;
use util::{gpkg, pg};

fn t(secs: i64) -> Timestamp {
    gridgov_spatial::time::from_epoch(now().as_second() + secs)
}

both!(every_sample_incident_runs_through_the_loop_and_its_history_replays);
/// Every sample incident, filed anew, through the whole loop in batches;
/// every illegal step at every status refused; the stored history replays
/// to the state the loop reached, and the incidents' status follows.
fn every_sample_incident_runs_through_the_loop_and_its_history_replays(store: &dyn Store) {
    let d = district(&SampleSpec::default());
    let before = store.incidents().unwrap().len();
    let (r0, steps0) = (
        store.incident_revision().unwrap(),
        store.steps(None).unwrap().len() as i64,
    );
    let xs: Vec<Incident> = d
        .incidents
        .iter()
        .map(|x| Incident {
            status: IncidentStatus::Reported,
            ..x.clone()
        })
        .collect();
    assert!(xs.len() >= 5_000, "the sample has {} incidents", xs.len());
    let ids = store.add_incidents(&xs).unwrap();
    assert_eq!(ids[0], before as i64 + 1, "ids are dense");
    assert_eq!(
        store.incident_revision().unwrap(),
        r0 + xs.len() as i64,
        "the revision moves with new incidents"
    );
    let mut states: Vec<CaseState> = xs
        .iter()
        .map(|x| CaseState::reported(x.reported_at))
        .collect();
    // One in ten is rejected, the rest go round the loop.
    let plan = |i: usize| -> Vec<Action> {
        if i.is_multiple_of(10) {
            vec![Action::Reject {
                reason: "not our district".into(),
            }]
        } else {
            vec![
                Action::Accept,
                Action::Dispatch {
                    to: Assignee::Grid(format!("g{}", i % 52)),
                },
                Action::Handle,
                Action::Feedback,
                Action::Close,
                Action::Evaluate {
                    satisfaction: (i % 5) as u8 + 1,
                },
            ]
        }
    };
    let all = [
        Action::Accept,
        Action::Reject { reason: "x".into() },
        Action::Dispatch {
            to: Assignee::Department("城管".into()),
        },
        Action::Handle,
        Action::Feedback,
        Action::Close,
        Action::Evaluate { satisfaction: 3 },
    ];
    for round in 0..6 {
        let mut batch = Vec::new();
        for (i, s) in states.iter_mut().enumerate() {
            let Some(a) = plan(i).get(round).cloned() else {
                continue;
            };
            // Every other step from here is refused, naming the allowed ones.
            for other in &all {
                if std::mem::discriminant(other) != std::mem::discriminant(&a)
                    && !allowed(s.status).contains(&other.name())
                {
                    match s.step(other, "tester", t(60), "") {
                        Err(workflow::TransitionError::Illegal { allowed: al, .. }) => {
                            assert_eq!(al, allowed(s.status));
                        }
                        r => panic!("{} from {:?} gave {r:?}", other.name(), s.status),
                    }
                }
            }
            let e = s.step(&a, "tester", t(60), "").unwrap();
            batch.push(Append {
                case: ids[i],
                expected_seq: s.seq,
                event: e.clone(),
                location: None,
            });
            s.apply(&e);
        }
        store.append_steps(&batch).unwrap();
    }
    let steps = store.steps(None).unwrap();
    assert_eq!(
        store.incident_revision().unwrap(),
        r0 + xs.len() as i64 + steps.len() as i64 - steps0,
        "the revision moves with every step"
    );
    let mut by_case: std::collections::HashMap<i64, Vec<workflow::Event>> =
        std::collections::HashMap::new();
    for s in steps {
        by_case.entry(s.case).or_default().push(s.event);
    }
    let stored = store.incidents().unwrap();
    for (i, id) in ids.iter().enumerate() {
        let h = &by_case[id];
        assert_eq!(CaseState::replay(xs[i].reported_at, h), states[i]);
        let x = &stored[*id as usize - 1];
        assert_eq!(x.id, *id);
        assert_eq!(
            x.incident.status, states[i].status,
            "the projection follows"
        );
    }
    let evaluated = states
        .iter()
        .filter(|s| s.status == IncidentStatus::Evaluated)
        .count();
    assert_eq!(evaluated, xs.len() - xs.len().div_ceil(10));
}

both!(a_stale_step_loses_and_the_whole_batch_with_it);
fn a_stale_step_loses_and_the_whole_batch_with_it(store: &dyn Store) {
    let x = district(&SampleSpec::default()).incidents[0].clone();
    let x = Incident {
        status: IncidentStatus::Reported,
        ..x
    };
    let id = store.add_incidents(std::slice::from_ref(&x)).unwrap()[0];
    let s = CaseState::reported(x.reported_at);
    let e = s.step(&Action::Accept, "a", t(1), "").unwrap();
    store
        .append_steps(&[Append {
            case: id,
            expected_seq: 0,
            event: e.clone(),
            location: None,
        }])
        .unwrap();
    // A second writer who also saw step 0 loses, and so does the whole
    // batch it was part of.
    let other = store.add_incidents(std::slice::from_ref(&x)).unwrap()[0];
    let e2 = CaseState::reported(t(0))
        .step(&Action::Accept, "b", t(2), "")
        .unwrap();
    let r = store.append_steps(&[
        Append {
            case: other,
            expected_seq: 0,
            event: e2.clone(),
            location: None,
        },
        Append {
            case: id,
            expected_seq: 0,
            event: e.clone(),
            location: None,
        },
    ]);
    assert!(
        matches!(r, Err(AppendError::Conflict { current: 1, .. })),
        "{r:?}"
    );
    assert!(
        store.steps(Some(other)).unwrap().is_empty(),
        "all or nothing"
    );
    let r = store.append_steps(&[Append {
        case: 9_999_999,
        expected_seq: 0,
        event: e2,
        location: None,
    }]);
    assert!(matches!(r, Err(AppendError::NotFound(9_999_999))));
    assert_eq!(store.steps(Some(id)).unwrap().len(), 1);
    // A pin move changes the incident's place with its step.
    let s1 = CaseState::replay(x.reported_at, &[e]);
    let mv = s1
        .step(
            &Action::Move {
                to: [117.56, 34.86],
                from: [x.location.x(), x.location.y()],
                from_grid: None,
                to_grid: None,
            },
            "a",
            t(3),
            "",
        )
        .unwrap();
    store
        .append_steps(&[Append {
            case: id,
            expected_seq: 1,
            event: mv,
            location: Some([117.56, 34.86]),
        }])
        .unwrap();
    let moved = store.incident(id).unwrap().unwrap();
    assert_eq!((moved.location.x(), moved.location.y()), (117.56, 34.86));
    assert_eq!(store.incident(9_999_999).unwrap(), None);
}

both!(a_publish_is_one_transaction_with_its_draft_and_a_stale_one_changes_nothing);
fn a_publish_is_one_transaction_with_its_draft_and_a_stale_one_changes_nothing(store: &dyn Store) {
    let d = store.load().unwrap();
    assert_eq!(store.latest_version().unwrap(), 1);
    assert_eq!(store.versions().unwrap()[0].published_at, now());
    let code = d.area(d.grids().next().unwrap()).code.clone();
    let mut rec = GridRecord::from_district(&d, &code);
    rec.name = "改名网格".into();
    let draft = |id: &str| DraftRecord {
        id: id.into(),
        created_at: t(5),
        body: "{\"x\":1}".into(),
        status: DraftStatus::Open,
    };
    store.save_draft(&draft("d1")).unwrap();
    store.save_draft(&draft("d2")).unwrap();
    assert_eq!(store.load_draft("d1").unwrap(), Some(draft("d1")));
    assert_eq!(store.load_draft("none").unwrap(), None);
    let date = |s: &str| gridgov_spatial::time::parse_date(s).unwrap();
    let p = Publication {
        author: "planner".into(),
        reason: "新楼盘".into(),
        effective_date: date("2026-12-01"),
        published_at: t(10),
        base: [(code.clone(), 1)].into_iter().collect(),
        records: vec![rec.clone()],
        rollback_of: None,
        draft: Some("d1".into()),
    };
    let info = store.publish(&p).unwrap();
    assert_eq!((info.version, info.published_at), (2, t(10)));
    assert_eq!(
        store.load_draft("d1").unwrap().unwrap().status,
        DraftStatus::Published(2)
    );
    // The same draft again is refused as published; another draft from
    // the same base is a conflict, and stays open.
    assert!(matches!(
        store.publish(&p),
        Err(PublishError::AlreadyPublished(2))
    ));
    let stale = Publication {
        draft: Some("d2".into()),
        ..p.clone()
    };
    match store.publish(&stale) {
        Err(PublishError::Conflict(c)) => assert_eq!(c, vec![(code.clone(), 2)]),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        store.load_draft("d2").unwrap().unwrap().status,
        DraftStatus::Open
    );
    assert_eq!(store.latest_version().unwrap(), 2);
    // What each version held, and which was in force when.
    let v = store.versions().unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(
        (v[1].author.as_str(), v[1].effective_date),
        ("planner", date("2026-12-01"))
    );
    assert_eq!(v[1].grids, vec![code.clone()]);
    let h = store.grid_history(&code).unwrap();
    assert_eq!(h.iter().map(|g| g.version).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(h[1].record, rec);
    assert_eq!(store.grids_at(1).unwrap().len(), 52);
    assert!(
        store
            .grids_at(2)
            .unwrap()
            .iter()
            .any(|r| r.name == "改名网格")
    );
    assert_eq!(store.grid_versions().unwrap()[&code], 2);
    assert_eq!(store.version_on(date("2026-11-30")).unwrap(), Some(1));
    assert_eq!(store.version_on(date("2026-12-01")).unwrap(), Some(2));
    assert_eq!(store.version_on(date("1969-12-31")).unwrap(), None);
    assert_eq!(
        store
            .load()
            .unwrap()
            .area(store.load().unwrap().area_by_code(&code).unwrap())
            .name,
        "改名网格"
    );
}

both!(users_tokens_and_the_audit_log_keep_what_they_are_given);
fn users_tokens_and_the_audit_log_keep_what_they_are_given(store: &dyn Store) {
    let pw = accounts::ensure_first_admin(store, store, now())
        .unwrap()
        .unwrap();
    assert!(
        accounts::ensure_first_admin(store, store, now())
            .unwrap()
            .is_none()
    );
    let signed = accounts::login(store, "admin", &pw, t(1)).unwrap();
    assert_eq!(signed.user.role, gridgov_spatial::access::Role::Admin);
    assert_eq!(signed.user.created, now());
    assert!(accounts::authenticate(store, &signed.token, t(2)).is_ok());
    assert!(accounts::authenticate(store, &signed.token, signed.record.expires).is_err());
    let (api, rec) =
        accounts::issue_token(store, "admin", TokenKind::Api, "墙", 3600, t(3)).unwrap();
    let tokens = store.tokens(Some("admin")).unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().any(|x| x == &rec), "{tokens:?}");
    assert_eq!(store.token(&rec.digest).unwrap(), Some(rec.clone()));
    assert_eq!(
        store
            .revoke_tokens(
                &Revoke::Token {
                    id: rec.id.clone(),
                    of: Some("nobody".into())
                },
                t(4)
            )
            .unwrap(),
        0,
        "only the owner's"
    );
    assert_eq!(
        store
            .revoke_tokens(
                &Revoke::Token {
                    id: rec.id.clone(),
                    of: None
                },
                t(4)
            )
            .unwrap(),
        1
    );
    assert_eq!(
        store.token(&rec.digest).unwrap().unwrap().revoked,
        Some(t(4))
    );
    assert!(accounts::authenticate(store, &api, t(5)).is_err());
    assert_eq!(
        store
            .revoke_tokens(&Revoke::AllOf("admin".into()), t(6))
            .unwrap(),
        1
    );
    assert!(accounts::authenticate(store, &signed.token, t(7)).is_err());
    // The audit log: appended, read newest first and by time.
    let line = |at: Timestamp, action: &str| AuditEntry {
        at,
        user: "admin".into(),
        action: action.into(),
        object: "/households/3".into(),
        detail: "GET 200".into(),
        client: Some("127.0.0.1".into()),
    };
    store
        .append_audit(&[line(t(10), "read_personal"), line(t(20), "edit")])
        .unwrap();
    let all = store.audit_log(&AuditQuery::default()).unwrap();
    assert_eq!(all.len(), 3, "the first start is audited");
    assert_eq!(all[0].entry, line(t(20), "edit"));
    assert!(all[0].id > all[1].id);
    let q = AuditQuery {
        since: Some(t(10)),
        until: Some(t(20)),
        ..AuditQuery::default()
    };
    let window = store.audit_log(&q).unwrap();
    assert_eq!(window.len(), 1);
    assert_eq!(window[0].entry.action, "read_personal");
}

both!(households_and_units_change_in_place);
fn households_and_units_change_in_place(store: &dyn Store) {
    let d = store.load().unwrap();
    let mut h = d.households[3].clone();
    h.phone = Some("13900000000".into());
    h.id_number = Some("11010519491231002X".into());
    h.head_name = None;
    assert!(store.update_household(HouseholdId(3), &h).unwrap());
    let now_d = store.load().unwrap();
    assert_eq!(now_d.households[3], h);
    assert_eq!(now_d.households[2], d.households[2]);
    assert!(
        !store
            .update_household(HouseholdId(d.households.len() as u32), &h)
            .unwrap()
    );
    let u = UnitChange {
        label: "9单元".into(),
        households: 7,
    };
    assert!(store.update_unit(UnitId(0), &u).unwrap());
    let unit = &store.load().unwrap().units[0];
    assert_eq!((unit.label.as_str(), unit.households), ("9单元", 7));
    assert!(!store.update_unit(UnitId(u32::MAX), &u).unwrap());
    // Read back one at a time, as a replica told of the change does.
    assert_eq!(store.household(HouseholdId(3)).unwrap(), Some(h));
    assert_eq!(
        store.household(HouseholdId(2)).unwrap().as_ref(),
        Some(&d.households[2])
    );
    assert_eq!(
        store
            .household(HouseholdId(d.households.len() as u32))
            .unwrap(),
        None
    );
    assert_eq!(store.unit_change(UnitId(0)).unwrap(), Some(u));
    assert_eq!(store.unit_change(UnitId(u32::MAX)).unwrap(), None);
}

both!(the_district_comes_back_as_it_was_stored);
fn the_district_comes_back_as_it_was_stored(store: &dyn Store) {
    let d = district(&SampleSpec::default());
    let back = store.load().unwrap();
    assert!(back.buildings == d.buildings);
    assert!(back.units == d.units);
    assert!(back.households == d.households);
    assert!(back.merchants == d.merchants);
    assert!(back.cameras == d.cameras);
    assert!(back.incidents == d.incidents);
    assert_eq!(back.areas.len(), d.areas.len());
    for g in d.grids() {
        let ga = d.area(g);
        let gb = back.area(back.area_by_code(&ga.code).unwrap());
        assert!(ga.boundary == gb.boundary && ga.staff == gb.staff && ga.kind == gb.kind);
        assert_eq!(
            back.area(gb.parent.unwrap()).code,
            d.area(ga.parent.unwrap()).code
        );
    }
    assert!(!store.describe().contains("password"));
}

/// One case with one step, and one audit line.
fn one_case_and_one_audit_line(store: &dyn Store) -> i64 {
    let x = Incident {
        status: IncidentStatus::Reported,
        ..district(&SampleSpec::default()).incidents[0].clone()
    };
    let id = store.add_incidents(std::slice::from_ref(&x)).unwrap()[0];
    let e = CaseState::reported(x.reported_at)
        .step(&Action::Accept, "a", t(1), "")
        .unwrap();
    store
        .append_steps(&[Append {
            case: id,
            expected_seq: 0,
            event: e,
            location: None,
        }])
        .unwrap();
    store
        .append_audit(&[AuditEntry {
            at: t(2),
            user: "li".into(),
            action: "read".into(),
            object: "/households/1".into(),
            detail: String::new(),
            client: None,
        }])
        .unwrap();
    id
}

#[test]
fn the_history_and_the_audit_log_refuse_changes_in_the_geopackage() {
    let (dir, store) = gpkg("append_only");
    let id = one_case_and_one_audit_line(store.as_ref());
    let conn = rusqlite::Connection::open(dir.path().join("t.gpkg")).unwrap();
    for sql in [
        "UPDATE case_events SET actor = 'someone else'",
        "DELETE FROM case_events",
        "UPDATE audit_log SET detail = 'nothing happened'",
        "DELETE FROM audit_log",
    ] {
        let e = conn.execute(sql, []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(store.steps(Some(id)).unwrap().len(), 1);
    assert_eq!(store.audit_log(&AuditQuery::default()).unwrap().len(), 1);
}

#[test]
fn the_history_and_the_audit_log_refuse_changes_and_truncation_in_postgis() {
    let Some(cluster) = gridgov_storage::testing::cluster() else {
        return;
    };
    let url = gridgov_storage::testing::fresh_database(&cluster, "append_only");
    gridgov_storage::save_district(&url, &district(&SampleSpec::default()), now()).unwrap();
    let store = gridgov_storage::open(&url, std::path::Path::new("/nonexistent"), now())
        .unwrap()
        .store;
    let id = one_case_and_one_audit_line(store.as_ref());
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for sql in [
        "UPDATE case_events SET actor = 'someone else'",
        "DELETE FROM case_events",
        "TRUNCATE case_events",
        "TRUNCATE incidents CASCADE",
        "UPDATE audit_log SET detail = 'nothing happened'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let e = c.batch_execute(sql).unwrap_err();
        let text = e
            .as_db_error()
            .map(|d| d.message().to_owned())
            .unwrap_or_default();
        assert!(text.contains("append-only"), "{sql}: {e:?}");
    }
    assert_eq!(store.steps(Some(id)).unwrap().len(), 1);
    assert_eq!(store.audit_log(&AuditQuery::default()).unwrap().len(), 1);
}
