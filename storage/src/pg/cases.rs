//! Cases in PostgreSQL: the same tables and rules as the GeoPackage
//! ([`crate::gpkg::cases`]). `case_events` is append-only (triggers refuse
//! updates, deletes and `TRUNCATE`); a batch of steps is one transaction that locks
//! the cases' rows (`FOR UPDATE`) before checking where each case is, so
//! replicas writing at once serialise per case.

use gridgov_app::{Append, AppendError, CaseStep, StoredIncident};
use gridgov_spatial::Incident;
use gridgov_spatial::workflow::Event;
use postgres::{Client, GenericClient};

use crate::StorageError;
use crate::wkb;

fn pg(what: &str) -> impl Fn(postgres::Error) -> StorageError + '_ {
    move |source| StorageError::Postgres {
        what: what.to_string(),
        source,
    }
}

/// Creates the case tables when missing (under the schema lock).
pub fn ensure_schema(c: &mut Client) -> Result<(), StorageError> {
    let mut tx = c.transaction().map_err(pg("begin case tables"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&0x6361_7365_i64])
        .map_err(pg("lock schema"))?;
    tx.batch_execute(
        "ALTER TABLE incidents ADD COLUMN IF NOT EXISTS filed_by text;
         ALTER TABLE incidents ADD COLUMN IF NOT EXISTS reporter text;
         CREATE TABLE IF NOT EXISTS case_events (
           case_fid bigint NOT NULL REFERENCES incidents(fid),
           seq integer NOT NULL CHECK (seq > 0),
           at text NOT NULL,
           actor text NOT NULL,
           action text NOT NULL,
           event text NOT NULL,
           PRIMARY KEY (case_fid, seq));
         CREATE OR REPLACE FUNCTION gridgov_append_only() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
         DROP TRIGGER IF EXISTS case_events_append_only ON case_events;
         CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
           FOR EACH ROW EXECUTE FUNCTION gridgov_append_only();
         DROP TRIGGER IF EXISTS case_events_no_truncate ON case_events;
         CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
           FOR EACH STATEMENT EXECUTE FUNCTION gridgov_append_only();
         CREATE INDEX IF NOT EXISTS case_events_dispatched ON case_events
           ((event::jsonb -> 'to' ->> 'kind'), (event::jsonb -> 'to' ->> 'name'))
           WHERE action = 'dispatch';",
    )
    .map_err(pg("create case tables"))?;
    tx.commit().map_err(pg("commit case tables"))
}

/// The channel incident writes are announced on. The payload is the
/// writer's origin, a space, and the ids written, comma-separated, or `*`
/// for more than [`NOTIFY_IDS`] of them.
pub const INCIDENTS_CHANNEL: &str = "gridgov_incidents";

/// The most ids one notification names (PostgreSQL payloads stay under
/// 8,000 bytes); a larger write is announced as `*`.
pub const NOTIFY_IDS: usize = 512;

/// Announces, when (and only if) `tx` commits, that incidents `ids` were
/// written by `origin`.
fn notify_incidents(
    tx: &mut postgres::Transaction<'_>,
    origin: &str,
    ids: &[i64],
) -> Result<(), StorageError> {
    let list = if ids.len() > NOTIFY_IDS {
        "*".to_string()
    } else {
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    };
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&INCIDENTS_CHANNEL, &format!("{origin} {list}")],
    )
    .map_err(pg("notify"))?;
    Ok(())
}

/// Adds incidents in one transaction (announced on
/// [`INCIDENTS_CHANNEL`] as `origin`'s); their ids, in order.
pub fn add_incidents(
    c: &mut Client,
    origin: &str,
    xs: &[Incident],
) -> Result<Vec<i64>, StorageError> {
    let mut tx = c.transaction().map_err(pg("begin adding incidents"))?;
    // Ids are dense (the district's incidents are numbered by them):
    // one writer numbers at a time.
    tx.execute("LOCK TABLE incidents IN SHARE ROW EXCLUSIVE MODE", &[])
        .map_err(pg("lock incidents"))?;
    let first: i64 = tx
        .query_one("SELECT coalesce(max(fid), 0) + 1 FROM incidents", &[])
        .map_err(pg("number incidents"))?
        .get(0);
    let st = tx
        .prepare("INSERT INTO incidents (fid, geom, reported_at, category, source, status, description, filed_by, reporter) VALUES ($1, ST_GeomFromEWKB($2), $3, $4, $5, $6, $7, $8, $9)")
        .map_err(pg("add incidents"))?;
    let mut ids = Vec::with_capacity(xs.len());
    for (i, x) in xs.iter().enumerate() {
        let id = first + i as i64;
        let reporter = crate::reporter_text(x.reporter.as_deref());
        tx.execute(
            &st,
            &[
                &id,
                &wkb::point_ewkb(x.location),
                &crate::time_text(x.reported_at),
                &x.category,
                &x.source.as_str(),
                &x.status.as_str(),
                &x.description,
                &x.filed_by,
                &reporter,
            ],
        )
        .map_err(pg("add incidents"))?;
        ids.push(id);
    }
    notify_incidents(&mut tx, origin, &ids)?;
    tx.commit().map_err(pg("commit incidents"))?;
    Ok(ids)
}

/// Appends steps in one transaction: all of them, or none (announced on
/// [`INCIDENTS_CHANNEL`] as `origin`'s).
pub fn append(c: &mut Client, origin: &str, batch: &[Append]) -> Result<(), AppendError> {
    let mut tx = c.transaction().map_err(pg("begin appending steps"))?;
    let lock = tx
        .prepare("SELECT fid FROM incidents WHERE fid = $1 FOR UPDATE")
        .map_err(pg("lock case"))?;
    let seq_of = tx
        .prepare("SELECT coalesce(max(seq), 0) FROM case_events WHERE case_fid = $1")
        .map_err(pg("read case"))?;
    let ins = tx
        .prepare("INSERT INTO case_events (case_fid, seq, at, actor, action, event) VALUES ($1, $2, $3, $4, $5, $6)")
        .map_err(pg("append step"))?;
    let status = tx
        .prepare("UPDATE incidents SET status = $2 WHERE fid = $1")
        .map_err(pg("update case"))?;
    let place = tx
        .prepare("UPDATE incidents SET geom = ST_GeomFromEWKB($2) WHERE fid = $1")
        .map_err(pg("move case"))?;
    for a in batch {
        if tx
            .query_opt(&lock, &[&a.case])
            .map_err(pg("lock case"))?
            .is_none()
        {
            return Err(AppendError::NotFound(a.case));
        }
        let current: i32 = tx
            .query_one(&seq_of, &[&a.case])
            .map_err(pg("read case"))?
            .get(0);
        let current = current as u32;
        if current != a.expected_seq || a.event.seq != current + 1 {
            return Err(AppendError::Conflict {
                case: a.case,
                expected: a.expected_seq,
                current,
            });
        }
        let json = serde_json::to_string(&a.event)
            .map_err(|e| StorageError::Corrupt(format!("step of case {}: {e}", a.case)))?;
        tx.execute(
            &ins,
            &[
                &a.case,
                &(a.event.seq as i32),
                &crate::time_text(a.event.at),
                &a.event.actor,
                &a.event.action.name(),
                &json,
            ],
        )
        .map_err(pg("append step"))?;
        tx.execute(&status, &[&a.case, &a.event.to.as_str()])
            .map_err(pg("update case"))?;
        if let Some([lon, lat]) = a.location {
            tx.execute(
                &place,
                &[&a.case, &wkb::point_ewkb(geo::Point::new(lon, lat))],
            )
            .map_err(pg("move case"))?;
        }
    }
    let mut ids: Vec<i64> = batch.iter().map(|a| a.case).collect();
    ids.sort_unstable();
    ids.dedup();
    notify_incidents(&mut tx, origin, &ids)?;
    tx.commit().map_err(pg("commit steps"))?;
    Ok(())
}

/// The steps of one case, or of every case (`None`).
pub fn events<C: GenericClient>(
    c: &mut C,
    case: Option<i64>,
) -> Result<Vec<CaseStep>, StorageError> {
    // Two statements, so that one case's steps are read by the key.
    let rows = match case {
        Some(id) => c.query(
            "SELECT case_fid, event FROM case_events WHERE case_fid = $1 ORDER BY seq",
            &[&id],
        ),
        None => c.query(
            "SELECT case_fid, event FROM case_events ORDER BY case_fid, seq",
            &[],
        ),
    }
    .map_err(pg("read steps"))?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.get(0);
            let event: Event = serde_json::from_str(r.get::<_, &str>(1))
                .map_err(|e| StorageError::Corrupt(format!("a step of case {id}: {e}")))?;
            Ok(CaseStep { case: id, event })
        })
        .collect()
}

/// The cases with a dispatch step to `to`, by id (through the
/// `case_events_dispatched` index).
pub fn dispatched_to<C: GenericClient>(
    c: &mut C,
    to: &gridgov_spatial::workflow::Assignee,
) -> Result<Vec<i64>, StorageError> {
    let (kind, name) = crate::gpkg::cases::assignee_parts(to);
    let rows = c
        .query(
            "SELECT DISTINCT case_fid FROM case_events WHERE action = 'dispatch'
               AND (event::jsonb -> 'to' ->> 'kind') = $1 AND (event::jsonb -> 'to' ->> 'name') = $2
             ORDER BY case_fid",
            &[&kind, &name],
        )
        .map_err(pg("find dispatched cases"))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Incidents with their ids: one (`Some(id)`) or all.
pub fn incidents<C: GenericClient>(
    c: &mut C,
    id: Option<i64>,
) -> Result<Vec<StoredIncident>, StorageError> {
    const COLS: &str = "SELECT fid, ST_AsBinary(geom), reported_at, category, source, status, description, filed_by, reporter FROM incidents";
    let rows = match id {
        Some(id) => c.query(&format!("{COLS} WHERE fid = $1"), &[&id]),
        None => c.query(&format!("{COLS} ORDER BY fid"), &[]),
    }
    .map_err(pg("read incidents"))?;
    rows.iter()
        .map(|r| {
            let fid: i64 = r.get(0);
            let what = format!("incidents fid {fid}");
            Ok(StoredIncident {
                id: fid,
                incident: Incident {
                    location: wkb::read_point_wkb(r.get(1))
                        .map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))?,
                    reported_at: crate::read_time(r.get(2), &what)?,
                    category: r.get(3),
                    source: crate::gpkg::schema::parse_enum(r.get::<_, &str>(4), &what)?,
                    status: crate::gpkg::schema::parse_enum(r.get::<_, &str>(5), &what)?,
                    description: r.get(6),
                    filed_by: r.get(7),
                    reporter: crate::read_reporter(r.get(8), &what)?,
                },
            })
        })
        .collect()
}
