//! Household visits in PostgreSQL: the same append-only table as the
//! GeoPackage ([`crate::gpkg::visits`]), refused updates, deletes and
//! truncation by trigger.

use gridgov_app::photos::{NewPhoto, PhotoInfo, PhotoOwner};
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
           photo bigint,
           recorded_at text NOT NULL);
         CREATE INDEX IF NOT EXISTS visits_household ON visits(household, id);
         DROP TRIGGER IF EXISTS visits_append_only ON visits;
         CREATE TRIGGER visits_append_only BEFORE UPDATE OR DELETE ON visits
           FOR EACH ROW EXECUTE FUNCTION gridgov_append_only();
         DROP TRIGGER IF EXISTS visits_no_truncate ON visits;
         CREATE TRIGGER visits_no_truncate BEFORE TRUNCATE ON visits
           FOR EACH STATEMENT EXECUTE FUNCTION gridgov_append_only();
         CREATE TABLE IF NOT EXISTS photos (
           id bigserial PRIMARY KEY,
           owner_kind text NOT NULL,
           owner_id bigint NOT NULL,
           by_user text NOT NULL,
           at text NOT NULL,
           width integer NOT NULL,
           height integer NOT NULL,
           jpeg bytea NOT NULL,
           thumb bytea NOT NULL);
         CREATE INDEX IF NOT EXISTS photos_owner ON photos(owner_kind, owner_id, id);
         DROP TRIGGER IF EXISTS photos_append_only ON photos;
         CREATE TRIGGER photos_append_only BEFORE UPDATE OR DELETE ON photos
           FOR EACH ROW EXECUTE FUNCTION gridgov_append_only();
         DROP TRIGGER IF EXISTS photos_no_truncate ON photos;
         CREATE TRIGGER photos_no_truncate BEFORE TRUNCATE ON photos
           FOR EACH STATEMENT EXECUTE FUNCTION gridgov_append_only();",
    )
    .map_err(pg("create the visits table"))?;
    tx.commit().map_err(pg("commit visits table"))
}

/// Records a visit; its id.
pub fn append_visit(c: &mut Client, v: &NewVisit) -> Result<i64, StorageError> {
    let row = c
        .query_one(
            "INSERT INTO visits (household, date, by_user, note, photo, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                &(i64::from(v.household.0) + 1),
                &v.date,
                &v.by,
                &v.note,
                &v.photo,
                &time_text(v.recorded_at),
            ],
        )
        .map_err(pg("record a visit"))?;
    Ok(row.get(0))
}

/// The visits to a household, oldest first.
pub fn visits(c: &mut Client, household: HouseholdId) -> Result<Vec<Visit>, StorageError> {
    visits_where(c, "household = $1", i64::from(household.0) + 1)
}

/// The visits recorded after visit `after`, oldest first (by the key).
pub fn visits_after(c: &mut Client, after: i64) -> Result<Vec<Visit>, StorageError> {
    visits_where(c, "id > $1", after)
}

fn visits_where(c: &mut Client, filter: &str, arg: i64) -> Result<Vec<Visit>, StorageError> {
    let rows = c
        .query(
            &format!("SELECT id, household, date, by_user, note, photo, recorded_at FROM visits WHERE {filter} ORDER BY id"),
            &[&arg],
        )
        .map_err(pg("read visits"))?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.get(0);
            let h: i64 = r.get(1);
            let at: String = r.get(6);
            Ok(Visit {
                id,
                household: u32::try_from(h).map_err(|_| {
                    StorageError::Corrupt(format!("visit {id}: household {h} out of range"))
                })?,
                date: r.get(2),
                by: r.get(3),
                note: r.get(4),
                photo: r.get(5),
                recorded_at: read_time(&at, "visits.recorded_at")?,
            })
        })
        .collect()
}

/// Keeps a photo; its id.
pub fn add_photo(c: &mut Client, p: &NewPhoto) -> Result<i64, StorageError> {
    let row = c
        .query_one(
            "INSERT INTO photos (owner_kind, owner_id, by_user, at, width, height, jpeg, thumb) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            &[
                &p.owner.kind(),
                &p.owner.id(),
                &p.by,
                &time_text(p.at),
                &i32::try_from(p.photo.width).unwrap_or(i32::MAX),
                &i32::try_from(p.photo.height).unwrap_or(i32::MAX),
                &p.photo.jpeg,
                &p.photo.thumb,
            ],
        )
        .map_err(pg("keep a photo"))?;
    Ok(row.get(0))
}

/// A photo's facts.
pub fn photo_info(c: &mut Client, id: i64) -> Result<Option<PhotoInfo>, StorageError> {
    let row = c
        .query_opt(
            "SELECT owner_kind, owner_id, by_user, at, width, height FROM photos WHERE id = $1",
            &[&id],
        )
        .map_err(pg("read a photo"))?;
    row.map(|r| {
        let kind: String = r.get(0);
        let owner: i64 = r.get(1);
        let at: String = r.get(3);
        let side = |v: i32| u32::try_from(v).unwrap_or(0);
        Ok(PhotoInfo {
            id,
            owner: PhotoOwner::from_parts(&kind, owner).ok_or_else(|| {
                StorageError::Corrupt(format!("photo {id}: owner {kind:?} {owner}"))
            })?,
            by: r.get(2),
            at: read_time(&at, "photos.at")?,
            width: side(r.get(4)),
            height: side(r.get(5)),
        })
    })
    .transpose()
}

/// The facts of an owner's photos, oldest first.
pub fn photos_of(c: &mut Client, owner: PhotoOwner) -> Result<Vec<PhotoInfo>, StorageError> {
    let rows = c
        .query(
            "SELECT id, by_user, at, width, height FROM photos WHERE owner_kind = $1 AND owner_id = $2 ORDER BY id",
            &[&owner.kind(), &owner.id()],
        )
        .map_err(pg("read photos"))?;
    let side = |v: i32| u32::try_from(v).unwrap_or(0);
    rows.iter()
        .map(|r| {
            let at: String = r.get(2);
            Ok(PhotoInfo {
                id: r.get(0),
                owner,
                by: r.get(1),
                at: read_time(&at, "photos.at")?,
                width: side(r.get(3)),
                height: side(r.get(4)),
            })
        })
        .collect()
}

/// A photo's JPEG, or its thumbnail.
pub fn photo_bytes(c: &mut Client, id: i64, thumb: bool) -> Result<Option<Vec<u8>>, StorageError> {
    let q = if thumb {
        "SELECT thumb FROM photos WHERE id = $1"
    } else {
        "SELECT jpeg FROM photos WHERE id = $1"
    };
    Ok(c.query_opt(q, &[&id])
        .map_err(pg("read a photo"))?
        .map(|r| r.get::<_, Vec<u8>>(0)))
}
