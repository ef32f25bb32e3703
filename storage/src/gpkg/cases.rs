//! Cases: incidents and the append-only history of their steps.
//!
//! The `incidents` layer keeps each case's report and, as a projection
//! for maps and filters, its current status and place; `case_events`
//! keeps every step (who, when, what, from which status to which) and is
//! never updated or deleted — triggers refuse both. A step is appended
//! only if the case is still at the step the caller saw (`expected_seq`),
//! checked in the same transaction, so two writers can never both move a
//! case from the same state.

use gridgov_app::{Append, AppendError, CaseStep, StoredIncident};
use gridgov_spatial::Incident;
use gridgov_spatial::workflow::{Assignee, Event};
use rusqlite::{Connection, OptionalExtension, params};

use super::versions::sql;
use crate::StorageError;
use crate::wkb;

/// Creates the case tables of a GeoPackage that lacks them (stores
/// written before cases existed are upgraded in place).
pub fn ensure_schema(conn: &Connection) -> Result<(), StorageError> {
    super::schema::add_column_if_missing(conn, "incidents", "filed_by", "TEXT")?;
    super::schema::add_column_if_missing(conn, "incidents", "reporter", "TEXT")?;
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
         CREATE INDEX IF NOT EXISTS case_events_dispatched ON case_events
           (json_extract(event, '$.to.kind'), json_extract(event, '$.to.name'))
           WHERE action = 'dispatch';
         INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
           VALUES ('case_events', 'attributes', 'case_events',
                   'Every step of every case (append-only)');",
    )
    .map_err(sql("create case tables"))
}

/// Adds incidents within the caller's transaction (a write transaction,
/// so that the numbering is not raced); their ids, in order.
pub fn add_incidents(tx: &Connection, xs: &[Incident]) -> Result<Vec<i64>, StorageError> {
    let first: i64 = tx
        .query_row("SELECT coalesce(max(fid), 0) + 1 FROM incidents", [], |r| {
            r.get(0)
        })
        .map_err(sql("number incidents"))?;
    let mut ids = Vec::with_capacity(xs.len());
    {
        let mut st = tx
            .prepare_cached("INSERT INTO incidents (fid, geom, reported_at, category, source, status, description, filed_by, reporter) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
            .map_err(sql("add incidents"))?;
        for (i, x) in xs.iter().enumerate() {
            let id = first + i as i64;
            st.execute(params![
                id,
                wkb::point_blob(x.location),
                crate::time_text(x.reported_at),
                x.category,
                x.source.as_str(),
                x.status.as_str(),
                x.description,
                x.filed_by,
                crate::reporter_text(x.reporter.as_deref())
            ])
            .map_err(sql("add incidents"))?;
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Appends steps within the caller's write transaction; on an error the
/// caller rolls back whatever was appended.
pub fn append(tx: &Connection, batch: &[Append]) -> Result<(), AppendError> {
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
                crate::time_text(a.event.at),
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
    Ok(())
}

/// The steps of one case, or of every case (`None`), by case and step.
pub fn events(conn: &Connection, case: Option<i64>) -> Result<Vec<CaseStep>, StorageError> {
    // Two statements, not `?1 IS NULL OR case_fid = ?1`: with that, SQLite
    // cannot use the primary key and reads every step for one case.
    let mut st = match case {
        Some(_) => conn.prepare_cached(
            "SELECT case_fid, event FROM case_events WHERE case_fid = ?1 ORDER BY seq",
        ),
        None => {
            conn.prepare_cached("SELECT case_fid, event FROM case_events ORDER BY case_fid, seq")
        }
    }
    .map_err(sql("read steps"))?;
    let params = case.map(|c| vec![c]).unwrap_or_default();
    let rows = st
        .query_map(rusqlite::params_from_iter(params), |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(sql("read steps"))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, json) = row.map_err(sql("read steps"))?;
        let event: Event = serde_json::from_str(&json)
            .map_err(|e| StorageError::Corrupt(format!("a step of case {id}: {e}")))?;
        out.push(CaseStep { case: id, event });
    }
    Ok(out)
}

/// The cases with a dispatch step to `to`, by id (through the
/// `case_events_dispatched` index).
pub fn dispatched_to(conn: &Connection, to: &Assignee) -> Result<Vec<i64>, StorageError> {
    let (kind, name) = assignee_parts(to);
    let mut st = conn
        .prepare_cached(
            "SELECT DISTINCT case_fid FROM case_events WHERE action = 'dispatch'
               AND json_extract(event, '$.to.kind') = ?1 AND json_extract(event, '$.to.name') = ?2
             ORDER BY case_fid",
        )
        .map_err(sql("find dispatched cases"))?;
    let rows = st
        .query_map(params![kind, name], |r| r.get::<_, i64>(0))
        .map_err(sql("find dispatched cases"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(sql("find dispatched cases"))
}

/// An assignee as its kind and name, as a dispatch step stores them.
pub(crate) fn assignee_parts(to: &Assignee) -> (&'static str, &str) {
    match to {
        Assignee::Grid(n) => ("grid", n),
        Assignee::Department(n) => ("department", n),
        Assignee::Person(n) => ("person", n),
    }
}

/// One incident.
pub fn incident(conn: &Connection, id: i64) -> Result<Option<Incident>, StorageError> {
    Ok(incidents_where(conn, Some(id))?.pop().map(|x| x.incident))
}

/// Every incident with its id.
pub fn incidents(conn: &Connection) -> Result<Vec<StoredIncident>, StorageError> {
    incidents_where(conn, None)
}

fn incidents_where(
    conn: &Connection,
    id: Option<i64>,
) -> Result<Vec<StoredIncident>, StorageError> {
    const COLS: &str = "SELECT fid, geom, reported_at, category, source, status, description, filed_by, reporter FROM incidents";
    // Two statements, so that one incident is read by its key (see `events`).
    let mut st = match id {
        Some(_) => conn.prepare_cached(&format!("{COLS} WHERE fid = ?1")),
        None => conn.prepare_cached(&format!("{COLS} ORDER BY fid")),
    }
    .map_err(sql("read incidents"))?;
    let params = id.map(|c| vec![c]).unwrap_or_default();
    let rows = st
        .query_map(rusqlite::params_from_iter(params), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<Vec<u8>>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })
        .map_err(sql("read incidents"))?;
    let mut out = Vec::new();
    for row in rows {
        let (fid, geom, reported_at, category, source, status, description, filed_by, reporter) =
            row.map_err(sql("read incidents"))?;
        let what = format!("incidents fid {fid}");
        out.push(StoredIncident {
            id: fid,
            incident: Incident {
                location: super::schema::point(geom, &what)?,
                reported_at: crate::read_time(&reported_at, &what)?,
                category,
                source: super::schema::parse_enum(&source, &what)?,
                status: super::schema::parse_enum(&status, &what)?,
                description,
                filed_by,
                reporter: crate::read_reporter(reporter, &what)?,
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use gridgov_app::CaseStore;
    use gridgov_spatial::workflow::{Action, CaseState};

    use super::super::schema::sample_gpkg_before;
    use super::*;
    use crate::GpkgStore;
    use crate::testing::now;

    #[test]
    fn a_store_from_before_filers_is_read_as_it_is_and_upgraded_when_opened() {
        // As written before incidents knew who filed them.
        let (dir, path, d) =
            sample_gpkg_before("filers", "ALTER TABLE incidents DROP COLUMN filed_by");
        let back = super::super::schema::load(&super::super::schema::open(&path).unwrap()).unwrap();
        assert_eq!(back.incidents.len(), d.incidents.len());
        let (store, created) =
            GpkgStore::open_or_create(&path, &dir.path().join("none.json"), now()).unwrap();
        assert!(!created);
        let mut x = d.incidents[0].clone();
        x.filed_by = Some("resident".into());
        let id = store.add_incidents(&[x]).unwrap()[0];
        assert_eq!(
            store.incident(id).unwrap().unwrap().filed_by.as_deref(),
            Some("resident")
        );
        assert_eq!(store.incident(1).unwrap().unwrap().filed_by, None);
        drop(dir);
    }

    #[test]
    fn the_history_table_refuses_updates_and_deletes() {
        let (dir, path, _) = sample_gpkg_before("append-only", "SELECT 1");
        let store = GpkgStore::open_or_create(&path, &dir.path().join("none.json"), now())
            .unwrap()
            .0;
        let e = CaseState::reported(now())
            .step(&Action::Accept, "a", now(), "")
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
        drop(dir);
    }
}
