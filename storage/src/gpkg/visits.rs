//! Household visits and the photos of visits and cases in the
//! GeoPackage: the append-only `visits` and `photos` tables (triggers
//! refuse updates and deletes, as for `audit_log`); a photo's JPEG and
//! thumbnail are blobs.

use gridgov_app::photos::{NewPhoto, PhotoInfo, PhotoOwner};
use gridgov_app::visits::{NewVisit, Visit};
use gridgov_spatial::HouseholdId;
use rusqlite::OptionalExtension;
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
           photo INTEGER,
           recorded_at TEXT NOT NULL);
         CREATE INDEX IF NOT EXISTS visits_household ON visits(household, id);
         CREATE TRIGGER IF NOT EXISTS visits_append_only_update BEFORE UPDATE ON visits
           BEGIN SELECT RAISE(ABORT, 'visits is append-only'); END;
         CREATE TRIGGER IF NOT EXISTS visits_append_only_delete BEFORE DELETE ON visits
           BEGIN SELECT RAISE(ABORT, 'visits is append-only'); END;
         CREATE TABLE IF NOT EXISTS photos (
           id INTEGER PRIMARY KEY AUTOINCREMENT,
           owner_kind TEXT NOT NULL,
           owner_id INTEGER NOT NULL,
           by_user TEXT NOT NULL,
           at TEXT NOT NULL,
           width INTEGER NOT NULL,
           height INTEGER NOT NULL,
           jpeg BLOB NOT NULL,
           thumb BLOB NOT NULL);
         CREATE INDEX IF NOT EXISTS photos_owner ON photos(owner_kind, owner_id, id);
         CREATE TRIGGER IF NOT EXISTS photos_append_only_update BEFORE UPDATE ON photos
           BEGIN SELECT RAISE(ABORT, 'photos is append-only'); END;
         CREATE TRIGGER IF NOT EXISTS photos_append_only_delete BEFORE DELETE ON photos
           BEGIN SELECT RAISE(ABORT, 'photos is append-only'); END;",
    )
    .map_err(sql("create the visits table"))
}

/// Records a visit; its id.
pub fn append_visit(conn: &Connection, v: &NewVisit) -> Result<i64, StorageError> {
    conn.prepare_cached(
        "INSERT INTO visits (household, date, by_user, note, photo, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            i64::from(v.household.0) + 1,
            v.date,
            v.by,
            v.note,
            v.photo,
            time_text(v.recorded_at)
        ])
    })
    .map_err(sql("record a visit"))?;
    Ok(conn.last_insert_rowid())
}

/// The visits to a household, oldest first.
pub fn visits(conn: &Connection, household: HouseholdId) -> Result<Vec<Visit>, StorageError> {
    visits_where(conn, "household = ?1", i64::from(household.0) + 1)
}

/// The visits recorded after visit `after`, oldest first (by the key).
pub fn visits_after(conn: &Connection, after: i64) -> Result<Vec<Visit>, StorageError> {
    visits_where(conn, "id > ?1", after)
}

fn visits_where(conn: &Connection, filter: &str, arg: i64) -> Result<Vec<Visit>, StorageError> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT id, household, date, by_user, note, photo, recorded_at FROM visits WHERE {filter} ORDER BY id"
        ))
        .map_err(sql("read visits"))?;
    let rows = st
        .query_map(params![arg], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, String>(6)?,
            ))
        })
        .map_err(sql("read visits"))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, h, date, by, note, photo, at) = row.map_err(sql("read visits"))?;
        out.push(Visit {
            id,
            household: u32::try_from(h).map_err(|_| {
                StorageError::Corrupt(format!("visit {id}: household {h} out of range"))
            })?,
            date,
            by,
            note,
            photo,
            recorded_at: read_time(&at, "visits.recorded_at")?,
        });
    }
    Ok(out)
}

/// Keeps a photo; its id.
pub fn add_photo(conn: &Connection, p: &NewPhoto) -> Result<i64, StorageError> {
    conn.prepare_cached(
        "INSERT INTO photos (owner_kind, owner_id, by_user, at, width, height, jpeg, thumb) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut st| {
        st.execute(params![
            p.owner.kind(),
            p.owner.id(),
            p.by,
            time_text(p.at),
            p.photo.width,
            p.photo.height,
            p.photo.jpeg,
            p.photo.thumb
        ])
    })
    .map_err(sql("keep a photo"))?;
    Ok(conn.last_insert_rowid())
}

/// A photo's facts.
pub fn photo_info(conn: &Connection, id: i64) -> Result<Option<PhotoInfo>, StorageError> {
    let row = conn
        .query_row(
            "SELECT owner_kind, owner_id, by_user, at, width, height FROM photos WHERE id = ?1",
            params![id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, u32>(4)?,
                    r.get::<_, u32>(5)?,
                ))
            },
        )
        .optional()
        .map_err(sql("read a photo"))?;
    row.map(|(kind, owner, by, at, width, height)| {
        Ok(PhotoInfo {
            id,
            owner: PhotoOwner::from_parts(&kind, owner).ok_or_else(|| {
                StorageError::Corrupt(format!("photo {id}: owner {kind:?} {owner}"))
            })?,
            by,
            at: read_time(&at, "photos.at")?,
            width,
            height,
        })
    })
    .transpose()
}

/// The facts of an owner's photos, oldest first.
pub fn photos_of(conn: &Connection, owner: PhotoOwner) -> Result<Vec<PhotoInfo>, StorageError> {
    let mut q = conn
        .prepare_cached(
            "SELECT id, by_user, at, width, height FROM photos WHERE owner_kind = ?1 AND owner_id = ?2 ORDER BY id",
        )
        .map_err(sql("read photos"))?;
    let rows = q
        .query_map(params![owner.kind(), owner.id()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, u32>(3)?,
                r.get::<_, u32>(4)?,
            ))
        })
        .map_err(sql("read photos"))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, by, at, width, height) = row.map_err(sql("read photos"))?;
        out.push(PhotoInfo {
            id,
            owner,
            by,
            at: read_time(&at, "photos.at")?,
            width,
            height,
        });
    }
    Ok(out)
}

/// A photo's JPEG, or its thumbnail.
pub fn photo_bytes(
    conn: &Connection,
    id: i64,
    thumb: bool,
) -> Result<Option<Vec<u8>>, StorageError> {
    let q = if thumb {
        "SELECT thumb FROM photos WHERE id = ?1"
    } else {
        "SELECT jpeg FROM photos WHERE id = ?1"
    };
    conn.query_row(q, params![id], |r| r.get::<_, Vec<u8>>(0))
        .optional()
        .map_err(sql("read a photo"))
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
            photo: None,
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
