//! Cases: incidents and the append-only history of their steps.
//!
//! The `incidents` layer keeps each case's report and, as a projection
//! for maps and filters, its current status and place; `case_events`
//! keeps every step (who, when, what, from which status to which) and is
//! never updated or deleted — triggers refuse both. A step is appended
//! only if the case is still at the step the caller saw (`expected_seq`),
//! checked in the same transaction, so two writers can never both move a
//! case from the same state.

use gridgov_spatial::Incident;
use gridgov_spatial::workflow::Event;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::StorageError;
use super::versions::sql;
use super::wkb;

/// One step to append.
#[derive(Debug, Clone, PartialEq)]
pub struct Append {
    /// The case (incident id).
    pub case: i64,
    /// The step the caller saw the case at (its `seq`).
    pub expected_seq: u32,
    /// The step; its `seq` must be `expected_seq + 1`.
    pub event: Event,
    /// The case's new place, when the step moves it.
    pub location: Option<[f64; 2]>,
}

/// Why steps were not appended (none of the batch was).
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// No such case.
    #[error("there is no incident {0}")]
    NotFound(i64),
    /// Someone else moved the case first.
    #[error(
        "incident {case} has moved on: the step was made at step {expected}, the case is at step {current}"
    )]
    Conflict {
        /// The case.
        case: i64,
        /// The step the caller saw.
        expected: u32,
        /// Where the case is.
        current: u32,
    },
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Creates the case tables of a GeoPackage that lacks them (stores
/// written before cases existed are upgraded in place).
pub fn ensure_schema(conn: &Connection) -> Result<(), StorageError> {
    super::gpkg::add_column_if_missing(conn, "incidents", "filed_by", "TEXT")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS case_events (
           case_fid INTEGER NOT NULL REFERENCES incidents(fid),
           seq INTEGER NOT NULL CHECK (seq > 0),
           at TEXT NOT NULL,
           actor TEXT NOT NULL,
           action TEXT NOT NULL,
           event TEXT NOT NULL,
           PRIMARY KEY (case_fid, seq));
         CREATE TRIGGER IF NOT EXISTS case_events_append_only_update BEFORE UPDATE ON case_events
           BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
         CREATE TRIGGER IF NOT EXISTS case_events_append_only_delete BEFORE DELETE ON case_events
           BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
         INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
           VALUES ('case_events', 'attributes', 'case_events',
                   'Every step of every case (append-only)');",
    )
    .map_err(sql("create case tables"))
}

/// Adds incidents in one transaction; their ids, in order.
pub fn add_incidents(conn: &mut Connection, xs: &[Incident]) -> Result<Vec<i64>, StorageError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("begin adding incidents"))?;
    let first: i64 = tx
        .query_row("SELECT coalesce(max(fid), 0) + 1 FROM incidents", [], |r| {
            r.get(0)
        })
        .map_err(sql("number incidents"))?;
    let mut ids = Vec::with_capacity(xs.len());
    {
        let mut st = tx
            .prepare_cached("INSERT INTO incidents (fid, geom, reported_at, category, source, status, description, filed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
            .map_err(sql("add incidents"))?;
        for (i, x) in xs.iter().enumerate() {
            let id = first + i as i64;
            st.execute(params![
                id,
                wkb::point_blob(x.location),
                super::time_text(x.reported_at),
                x.category,
                x.source.as_str(),
                x.status.as_str(),
                x.description,
                x.filed_by
            ])
            .map_err(sql("add incidents"))?;
            ids.push(id);
        }
    }
    tx.commit().map_err(sql("commit incidents"))?;
    Ok(ids)
}

/// Appends steps in one transaction: all of them, or none.
pub fn append(conn: &mut Connection, batch: &[Append]) -> Result<(), AppendError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("begin appending steps"))?;
    {
        let mut seq_of = tx
            .prepare_cached("SELECT (SELECT coalesce(max(seq), 0) FROM case_events WHERE case_fid = ?1) FROM incidents WHERE fid = ?1")
            .map_err(sql("read case"))?;
        let mut ins = tx
            .prepare_cached("INSERT INTO case_events (case_fid, seq, at, actor, action, event) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .map_err(sql("append step"))?;
        let mut status = tx
            .prepare_cached("UPDATE incidents SET status = ?2 WHERE fid = ?1")
            .map_err(sql("update case"))?;
        let mut place = tx
            .prepare_cached("UPDATE incidents SET geom = ?2 WHERE fid = ?1")
            .map_err(sql("move case"))?;
        for a in batch {
            let current: Option<i64> = seq_of
                .query_row([a.case], |r| r.get(0))
                .optional()
                .map_err(sql("read case"))?;
            let current = current.ok_or(AppendError::NotFound(a.case))? as u32;
            if current != a.expected_seq || a.event.seq != current + 1 {
                return Err(AppendError::Conflict {
                    case: a.case,
                    expected: a.expected_seq,
                    current,
                });
            }
            let json = serde_json::to_string(&a.event)
                .map_err(|e| StorageError::Corrupt(format!("step of case {}: {e}", a.case)))?;
            ins.execute(params![
                a.case,
                a.event.seq,
                super::time_text(a.event.at),
                a.event.actor,
                a.event.action.name(),
                json
            ])
            .map_err(sql("append step"))?;
            status
                .execute(params![a.case, a.event.to.as_str()])
                .map_err(sql("update case"))?;
            if let Some([lon, lat]) = a.location {
                place
                    .execute(params![a.case, wkb::point_blob(geo::Point::new(lon, lat))])
                    .map_err(sql("move case"))?;
            }
        }
    }
    tx.commit().map_err(sql("commit steps"))?;
    Ok(())
}

/// The steps of one case, or of every case (`None`), by case and step.
pub fn events(conn: &Connection, case: Option<i64>) -> Result<Vec<(i64, Event)>, StorageError> {
    let mut st = conn
        .prepare_cached(
            "SELECT case_fid, event FROM case_events WHERE ?1 IS NULL OR case_fid = ?1 ORDER BY case_fid, seq",
        )
        .map_err(sql("read steps"))?;
    let rows = st
        .query_map([case], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(sql("read steps"))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, json) = row.map_err(sql("read steps"))?;
        let e: Event = serde_json::from_str(&json)
            .map_err(|e| StorageError::Corrupt(format!("a step of case {id}: {e}")))?;
        out.push((id, e));
    }
    Ok(out)
}

/// One incident.
pub fn incident(conn: &Connection, id: i64) -> Result<Option<Incident>, StorageError> {
    Ok(incidents_where(conn, Some(id))?.pop().map(|(_, x)| x))
}

/// Every incident with its id.
pub fn incidents(conn: &Connection) -> Result<Vec<(i64, Incident)>, StorageError> {
    incidents_where(conn, None)
}

fn incidents_where(
    conn: &Connection,
    id: Option<i64>,
) -> Result<Vec<(i64, Incident)>, StorageError> {
    let mut st = conn
        .prepare_cached("SELECT fid, geom, reported_at, category, source, status, description, filed_by FROM incidents WHERE ?1 IS NULL OR fid = ?1 ORDER BY fid")
        .map_err(sql("read incidents"))?;
    let rows = st
        .query_map([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<Vec<u8>>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })
        .map_err(sql("read incidents"))?;
    let mut out = Vec::new();
    for row in rows {
        let (fid, geom, reported_at, category, source, status, description, filed_by) =
            row.map_err(sql("read incidents"))?;
        let what = format!("incidents fid {fid}");
        out.push((
            fid,
            Incident {
                location: super::gpkg::point(geom, &what)?,
                reported_at: super::read_time(&reported_at, &what)?,
                category,
                source: super::gpkg::parse_enum(&source, &what)?,
                status: super::gpkg::parse_enum(&status, &what)?,
                description,
                filed_by,
            },
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use gridgov_spatial::sample::{SampleSpec, district};
    use gridgov_spatial::workflow::{Action, Assignee, CaseState, allowed};
    use gridgov_spatial::{IncidentStatus, workflow};

    use super::*;
    use crate::storage::gpkg::sample_gpkg_before;
    use crate::storage::testing::{cluster, fresh_database};
    use crate::storage::{GpkgStore, PgStore, Store};

    fn gpkg_store(name: &str) -> Arc<dyn Store> {
        let dir = std::env::temp_dir().join(format!("gridgov-cases-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let seed = dir.join("seed.json");
        crate::store::save(&seed, &district(&SampleSpec::default())).unwrap();
        Arc::new(
            GpkgStore::open_or_create(&dir.join("t.gpkg"), &seed)
                .unwrap()
                .0,
        )
    }

    fn pg_store(name: &str) -> Option<Arc<dyn Store>> {
        let cluster = cluster()?;
        let url = fresh_database(&cluster, name);
        PgStore::create_in(&url, &district(&SampleSpec::default())).unwrap();
        Some(Arc::new(
            PgStore::open_or_create(&url, std::path::Path::new("/nonexistent"))
                .unwrap()
                .0,
        ))
    }

    fn t() -> gridgov_spatial::Timestamp {
        "2026-11-20T09:00:00+08:00".parse().unwrap()
    }

    #[test]
    fn a_store_from_before_filers_is_read_as_it_is_and_upgraded_when_opened() {
        // As written before incidents knew who filed them.
        let (dir, path, d) =
            sample_gpkg_before("filers", "ALTER TABLE incidents DROP COLUMN filed_by");
        let back = super::super::gpkg::load(&super::super::gpkg::open(&path).unwrap()).unwrap();
        assert_eq!(back.incidents.len(), d.incidents.len());
        let (store, created) = GpkgStore::open_or_create(&path, &dir.join("none.json")).unwrap();
        assert!(!created);
        let mut x = d.incidents[0].clone();
        x.filed_by = Some("resident".into());
        let id = store.add_incidents(&[x]).unwrap()[0];
        assert_eq!(
            store.incidents(Some(id)).unwrap()[0].1.filed_by.as_deref(),
            Some("resident")
        );
        assert_eq!(store.incidents(Some(1)).unwrap()[0].1.filed_by, None);
    }

    /// Every sample incident, filed anew, through the whole loop in
    /// batches; every illegal step at every status refused; the stored
    /// history replays to the state the loop reached.
    fn the_sample_runs_through_the_loop(store: &dyn Store) {
        let d = district(&SampleSpec::default());
        let before = store.incidents(None).unwrap().len();
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
                        match s.step(other, "tester", t(), "") {
                            Err(workflow::TransitionError::Illegal { allowed: al, .. }) => {
                                assert_eq!(al, allowed(s.status));
                            }
                            r => panic!("{} from {:?} gave {r:?}", other.name(), s.status),
                        }
                    }
                }
                let e = s.step(&a, "tester", t(), "").unwrap();
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
        for (id, e) in steps {
            by_case.entry(id).or_default().push(e);
        }
        let stored = store.incidents(None).unwrap();
        for (i, id) in ids.iter().enumerate() {
            let h = &by_case[id];
            assert_eq!(CaseState::replay(xs[i].reported_at, h), states[i]);
            assert_eq!(
                stored[*id as usize - 1].1.status,
                states[i].status,
                "the projection follows"
            );
        }
        let evaluated = states
            .iter()
            .filter(|s| s.status == IncidentStatus::Evaluated)
            .count();
        assert_eq!(evaluated, xs.len() - xs.len().div_ceil(10));
    }

    fn a_stale_step_and_a_missing_case_change_nothing(store: &dyn Store) {
        let x = district(&SampleSpec::default()).incidents[0].clone();
        let id = store
            .add_incidents(&[Incident {
                status: IncidentStatus::Reported,
                ..x.clone()
            }])
            .unwrap()[0];
        let s = CaseState::reported(x.reported_at);
        let e = s.step(&Action::Accept, "a", t(), "").unwrap();
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
        let e2 = CaseState::reported(t())
            .step(&Action::Accept, "b", t(), "")
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
    }

    #[test]
    fn the_sample_incidents_run_through_the_loop_in_the_geopackage() {
        let s = gpkg_store("loop");
        the_sample_runs_through_the_loop(s.as_ref());
    }

    #[test]
    fn the_sample_incidents_run_through_the_loop_in_postgis() {
        let Some(s) = pg_store("caseloop") else {
            return;
        };
        the_sample_runs_through_the_loop(s.as_ref());
    }

    #[test]
    fn a_stale_step_loses_in_the_geopackage_and_the_batch_with_it() {
        a_stale_step_and_a_missing_case_change_nothing(gpkg_store("stale").as_ref());
    }

    #[test]
    fn a_stale_step_loses_in_postgis_and_the_batch_with_it() {
        let Some(s) = pg_store("casestale") else {
            return;
        };
        a_stale_step_and_a_missing_case_change_nothing(s.as_ref());
    }

    #[test]
    fn the_history_table_refuses_updates_and_deletes() {
        let dir = std::env::temp_dir().join(format!("gridgov-cases-ao-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let seed = dir.join("seed.json");
        crate::store::save(&seed, &district(&SampleSpec::default())).unwrap();
        let path = dir.join("t.gpkg");
        let store = GpkgStore::open_or_create(&path, &seed).unwrap().0;
        let e = CaseState::reported(t())
            .step(&Action::Accept, "a", t(), "")
            .unwrap();
        store
            .append_steps(&[Append {
                case: 1,
                expected_seq: 0,
                event: e,
                location: None,
            }])
            .unwrap();
        drop(store);
        let conn = rusqlite::Connection::open(&path).unwrap();
        let u = conn.execute("UPDATE case_events SET actor = 'mallory'", []);
        assert!(u.unwrap_err().to_string().contains("append-only"));
        let d = conn.execute("DELETE FROM case_events", []);
        assert!(d.unwrap_err().to_string().contains("append-only"));
    }
}
