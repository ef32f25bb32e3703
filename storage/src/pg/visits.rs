//! Household visits in PostgreSQL: the same append-only table as the
//! GeoPackage ([`crate::gpkg::visits`]), refused updates, deletes and
//! truncation by trigger.

use gridgov_app::visits::{NewVisit, Visit};
use gridgov_spatial::HouseholdId;
use postgres::Client;

use crate::{StorageError, read_time, time_text};

fn pg(what: &str) -> impl Fn(postgres::Error) -> StorageError + '_ {
    move |source| StorageError::Postgres {
        what: what.to_string(),
        source,
    }
}

/// Creates the visits table when missing (under the schema lock; after
/// the case tables, which define `gridgov_append_only`).
pub fn ensure_schema(c: &mut Client) -> Result<(), StorageError> {
    let mut tx = c.transaction().map_err(pg("begin visits table"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&0x6361_7365_i64])
        .map_err(pg("lock schema"))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS visits (
           id bigserial PRIMARY KEY,
           household bigint NOT NULL,
           date text NOT NULL,
           by_user text NOT NULL,
           note text NOT NULL DEFAULT '',
           recorded_at text NOT NULL);
         CREATE INDEX IF NOT EXISTS visits_household ON visits(household, id);
         DROP TRIGGER IF EXISTS visits_append_only ON visits;
         CREATE TRIGGER visits_append_only BEFORE UPDATE OR DELETE ON visits
           FOR EACH ROW EXECUTE FUNCTION gridgov_append_only();
         DROP TRIGGER IF EXISTS visits_no_truncate ON visits;
         CREATE TRIGGER visits_no_truncate BEFORE TRUNCATE ON visits
           FOR EACH STATEMENT EXECUTE FUNCTION gridgov_append_only();",
    )
    .map_err(pg("create the visits table"))?;
    tx.commit().map_err(pg("commit visits table"))
}

/// Records a visit; its id.
pub fn append_visit(c: &mut Client, v: &NewVisit) -> Result<i64, StorageError> {
    let row = c
        .query_one(
            "INSERT INTO visits (household, date, by_user, note, recorded_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[
                &(i64::from(v.household.0) + 1),
                &v.date,
                &v.by,
                &v.note,
                &time_text(v.recorded_at),
            ],
        )
        .map_err(pg("record a visit"))?;
    Ok(row.get(0))
}

/// The visits to a household, oldest first.
pub fn visits(c: &mut Client, household: HouseholdId) -> Result<Vec<Visit>, StorageError> {
    let rows = c
        .query(
            "SELECT id, household, date, by_user, note, recorded_at FROM visits WHERE household = $1 ORDER BY id",
            &[&(i64::from(household.0) + 1)],
        )
        .map_err(pg("read visits"))?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.get(0);
            let h: i64 = r.get(1);
            let at: String = r.get(5);
            Ok(Visit {
                id,
                household: u32::try_from(h).map_err(|_| {
                    StorageError::Corrupt(format!("visit {id}: household {h} out of range"))
                })?,
                date: r.get(2),
                by: r.get(3),
                note: r.get(4),
                recorded_at: read_time(&at, "visits.recorded_at")?,
            })
        })
        .collect()
}
