//! 360° panoramas in the GeoPackage: `panoramas` (each one's facts as
//! JSON, the cleaned JPEG and its thumbnail), append-only by trigger.

use gridgov_app::panoramas::{NewPanorama, PanoramaInfo};
use rusqlite::{Connection, OptionalExtension, params};

use super::versions::sql;
use crate::StorageError;

/// Creates the table when missing.
pub fn ensure_schema(conn: &Connection) -> Result<(), StorageError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS panoramas (
           id INTEGER PRIMARY KEY AUTOINCREMENT,
           body TEXT NOT NULL,
           jpeg BLOB NOT NULL,
           thumb BLOB NOT NULL);
         CREATE TRIGGER IF NOT EXISTS panoramas_append_only_update BEFORE UPDATE ON panoramas
           BEGIN SELECT RAISE(ABORT, 'panoramas is append-only'); END;
         CREATE TRIGGER IF NOT EXISTS panoramas_append_only_delete BEFORE DELETE ON panoramas
           BEGIN SELECT RAISE(ABORT, 'panoramas is append-only'); END;",
    )
    .map_err(sql("create the panoramas table"))
}

/// The facts of row `id` from its JSON.
pub(crate) fn info(id: i64, body: &str) -> Result<PanoramaInfo, StorageError> {
    let mut p: PanoramaInfo = serde_json::from_str(body)
        .map_err(|e| StorageError::Corrupt(format!("panorama {id}: {e}")))?;
    p.id = id;
    Ok(p)
}

/// The JSON kept of a panorama's facts.
pub(crate) fn body(p: &NewPanorama) -> Result<String, StorageError> {
    serde_json::to_string(&p.info).map_err(|e| StorageError::Corrupt(format!("panorama: {e}")))
}

/// Keeps a panorama; its id.
pub fn add(conn: &Connection, p: &NewPanorama) -> Result<i64, StorageError> {
    conn.execute(
        "INSERT INTO panoramas (body, jpeg, thumb) VALUES (?1, ?2, ?3)",
        params![body(p)?, p.jpeg, p.thumb],
    )
    .map_err(sql("keep a panorama"))?;
    Ok(conn.last_insert_rowid())
}

/// Every panorama, oldest first.
pub fn all(conn: &Connection) -> Result<Vec<PanoramaInfo>, StorageError> {
    let mut st = conn
        .prepare_cached("SELECT id, body FROM panoramas ORDER BY id")
        .map_err(sql("read panoramas"))?;
    let rows = st
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .map_err(sql("read panoramas"))?;
    let mut out = Vec::new();
    for r in rows {
        let (id, b) = r.map_err(sql("read panoramas"))?;
        out.push(info(id, &b)?);
    }
    Ok(out)
}

/// A panorama's JPEG, or its thumbnail.
pub fn bytes(conn: &Connection, id: i64, thumb: bool) -> Result<Option<Vec<u8>>, StorageError> {
    let q = if thumb {
        "SELECT thumb FROM panoramas WHERE id = ?1"
    } else {
        "SELECT jpeg FROM panoramas WHERE id = ?1"
    };
    conn.query_row(q, params![id], |r| r.get::<_, Vec<u8>>(0))
        .optional()
        .map_err(sql("read a panorama"))
}
