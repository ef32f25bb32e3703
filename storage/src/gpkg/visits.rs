//! Household visits in the GeoPackage: the append-only `visits` table
//! (triggers refuse updates and deletes, as for `audit_log`).

use gridgov_app::visits::{NewVisit, Visit};
use gridgov_spatial::HouseholdId;
use rusqlite::{Connection, params};

use super::versions::sql;
use crate::{StorageError, read_time, time_text};

/// Creates the visits table when missing.
pub fn ensure_schema(conn: &Connection) -> Result<(), StorageError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS visits (
           id INTEGER PRIMARY KEY AUTOINCREMENT,
           household INTEGER NOT NULL,
           date TEXT NOT NULL,
           by_user TEXT NOT NULL,
           note TEXT NOT NULL DEFAULT '',
           recorded_at TEXT NOT NULL);
         CREATE INDEX IF NOT EXISTS visits_household ON visits(household, id);
         CREATE TRIGGER IF NOT EXISTS visits_append_only_update BEFORE UPDATE ON visits
           BEGIN SELECT RAISE(ABORT, 'visits is append-only'); END;
         CREATE TRIGGER IF NOT EXISTS visits_append_only_delete BEFORE DELETE ON visits
           BEGIN SELECT RAISE(ABORT, 'visits is append-only'); END;",
    )
    .map_err(sql("create the visits table"))
}

/// Records a visit; its id.
pub fn append_visit(conn: &Connection, v: &NewVisit) -> Result<i64, StorageError> {
    conn.prepare_cached(
        "INSERT INTO visits (household, date, by_user, note, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut st| {
        st.execute(params![
            i64::from(v.household.0) + 1,
            v.date,
            v.by,
            v.note,
            time_text(v.recorded_at)
        ])
    })
    .map_err(sql("record a visit"))?;
    Ok(conn.last_insert_rowid())
}

/// The visits to a household, oldest first.
pub fn visits(conn: &Connection, household: HouseholdId) -> Result<Vec<Visit>, StorageError> {
    let mut st = conn
        .prepare_cached(
            "SELECT id, household, date, by_user, note, recorded_at FROM visits WHERE household = ?1 ORDER BY id",
        )
        .map_err(sql("read visits"))?;
    let rows = st
        .query_map(params![i64::from(household.0) + 1], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .map_err(sql("read visits"))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, h, date, by, note, at) = row.map_err(sql("read visits"))?;
        out.push(Visit {
            id,
            household: u32::try_from(h).map_err(|_| {
                StorageError::Corrupt(format!("visit {id}: household {h} out of range"))
            })?,
            date,
            by,
            note,
            recorded_at: read_time(&at, "visits.recorded_at")?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use gridgov_app::VisitStore;

    use super::super::schema::sample_gpkg_before;
    use super::*;
    use crate::GpkgStore;
    use crate::testing::now;

    #[test]
    fn visits_are_read_back_per_household_in_order_and_never_changed() {
        let (dir, path, _) = sample_gpkg_before("visits", "SELECT 1");
        let store = GpkgStore::open_or_create(&path, &dir.path().join("none.json"), now())
            .unwrap()
            .0;
        let visit = |h: u32, note: &str| NewVisit {
            household: HouseholdId(h),
            date: "2026-11-02".into(),
            by: "wang".into(),
            note: note.into(),
            recorded_at: now(),
        };
        let a = store.append_visit(&visit(4, "first")).unwrap();
        store.append_visit(&visit(5, "elsewhere")).unwrap();
        let b = store.append_visit(&visit(4, "second")).unwrap();
        assert!(b > a);
        let got = store.visits(HouseholdId(4)).unwrap();
        assert_eq!(
            got.iter().map(|v| v.note.as_str()).collect::<Vec<_>>(),
            ["first", "second"]
        );
        assert_eq!(got[0].household, 5, "ids as the API shows them: index + 1");
        assert_eq!(got[0].recorded_at, now());
        assert!(store.visits(HouseholdId(6)).unwrap().is_empty());
        drop(store);
        let conn = Connection::open(&path).unwrap();
        let u = conn.execute("UPDATE visits SET note = 'forged'", []);
        assert!(u.unwrap_err().to_string().contains("append-only"));
        let d = conn.execute("DELETE FROM visits", []);
        assert!(d.unwrap_err().to_string().contains("append-only"));
        drop(dir);
    }
}
