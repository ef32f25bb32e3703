//! 360° panoramas in PostgreSQL: the same append-only table as the
//! GeoPackage ([`crate::gpkg::panoramas`]).

use gridgov_app::panoramas::{NewPanorama, PanoramaInfo};
use postgres::Client;

use crate::StorageError;
use crate::gpkg::panoramas::{body, info};

fn pg(what: &str) -> impl Fn(postgres::Error) -> StorageError + '_ {
    move |source| StorageError::Postgres {
        what: what.to_string(),
        source,
    }
}

/// Creates the table when missing (under the schema lock; after the case
/// tables, which define `gridgov_append_only`).
pub fn ensure_schema(c: &mut Client) -> Result<(), StorageError> {
    let mut tx = c.transaction().map_err(pg("begin panoramas table"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&0x6361_7365_i64])
        .map_err(pg("lock schema"))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS panoramas (
           id bigserial PRIMARY KEY,
           body text NOT NULL,
           jpeg bytea NOT NULL,
           thumb bytea NOT NULL);
         DROP TRIGGER IF EXISTS panoramas_append_only ON panoramas;
         CREATE TRIGGER panoramas_append_only BEFORE UPDATE OR DELETE ON panoramas
           FOR EACH ROW EXECUTE FUNCTION gridgov_append_only();
         DROP TRIGGER IF EXISTS panoramas_no_truncate ON panoramas;
         CREATE TRIGGER panoramas_no_truncate BEFORE TRUNCATE ON panoramas
           FOR EACH STATEMENT EXECUTE FUNCTION gridgov_append_only();",
    )
    .map_err(pg("create the panoramas table"))?;
    tx.commit().map_err(pg("commit panoramas table"))
}

/// Keeps a panorama; its id.
pub fn add(c: &mut Client, p: &NewPanorama) -> Result<i64, StorageError> {
    let row = c
        .query_one(
            "INSERT INTO panoramas (body, jpeg, thumb) VALUES ($1, $2, $3) RETURNING id",
            &[&body(p)?, &p.jpeg, &p.thumb],
        )
        .map_err(pg("keep a panorama"))?;
    Ok(row.get(0))
}

/// Every panorama, oldest first.
pub fn all(c: &mut Client) -> Result<Vec<PanoramaInfo>, StorageError> {
    c.query("SELECT id, body FROM panoramas ORDER BY id", &[])
        .map_err(pg("read panoramas"))?
        .iter()
        .map(|r| info(r.get(0), &r.get::<_, String>(1)))
        .collect()
}

/// A panorama's JPEG, or its thumbnail.
pub fn bytes(c: &mut Client, id: i64, thumb: bool) -> Result<Option<Vec<u8>>, StorageError> {
    let q = if thumb {
        "SELECT thumb FROM panoramas WHERE id = $1"
    } else {
        "SELECT jpeg FROM panoramas WHERE id = $1"
    };
    Ok(c.query_opt(q, &[&id])
        .map_err(pg("read a panorama"))?
        .map(|r| r.get::<_, Vec<u8>>(0)))
}
