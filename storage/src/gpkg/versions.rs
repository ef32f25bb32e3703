//! Versioned grid boundaries in the GeoPackage: every published version is
//! kept (`boundary_versions`, `grid_history`), drafts are stored, and a
//! publish is one immediate transaction that first checks that no grid it
//! changes has moved on since the planner read it.

use std::collections::HashMap;

use geo::MultiPolygon;
use gridgov_app::{
    DraftRecord, DraftStatus, GridRecord, GridVersion, Publication, PublishError, VersionInfo,
};
use gridgov_spatial::{Date, District, GridKind, Timestamp};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::wkb;
use crate::{StorageError, read_time, time_text};

pub(crate) fn sql(what: &str) -> impl Fn(rusqlite::Error) -> StorageError + '_ {
    move |source| StorageError::Sqlite {
        what: what.to_string(),
        source,
    }
}

/// DDL of the versioning tables (created with the store).
pub const DDL: &str = "
CREATE TABLE boundary_versions (version INTEGER PRIMARY KEY, author TEXT NOT NULL, published_at TEXT NOT NULL,
  reason TEXT NOT NULL, effective_date TEXT NOT NULL, rollback_of INTEGER);
CREATE TABLE grid_history (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom MULTIPOLYGON, version INTEGER NOT NULL,
  code TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, parent_code TEXT, institution TEXT,
  staff TEXT NOT NULL DEFAULT '[]', removed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX grid_history_code ON grid_history(code, version);
CREATE TABLE drafts (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL,
  published_version INTEGER);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
  VALUES ('grid_history', 'features', 'grid_history', 'Every published version of every grid boundary', 4326);
INSERT INTO gpkg_geometry_columns VALUES ('grid_history', 'geom', 'MULTIPOLYGON', 4326, 0, 0);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
  VALUES ('boundary_versions', 'attributes', 'boundary_versions', 'Published boundary versions: author, time, reason, effective date'),
         ('drafts', 'attributes', 'drafts', 'Boundary drafts of planners');
";

fn insert_history(conn: &Connection, version: i64, r: &GridRecord) -> Result<(), StorageError> {
    conn.execute(
        "INSERT INTO grid_history (geom, version, code, name, kind, parent_code, institution, staff, removed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            r.boundary.as_ref().map(wkb::multi_polygon_blob),
            version,
            r.code,
            r.name,
            r.kind.as_str(),
            r.parent_code,
            r.institution,
            serde_json::to_string(&r.staff).unwrap_or_else(|_| "[]".into()),
            i64::from(r.boundary.is_none())
        ],
    )
    .map_err(sql("record grid history"))?;
    Ok(())
}

/// Records version 1, published at `published_at`: every grid of a new
/// store.
pub fn record_initial(
    conn: &Connection,
    d: &District,
    published_at: Timestamp,
) -> Result<(), StorageError> {
    conn.execute(
        "INSERT INTO boundary_versions VALUES (1, 'gridgov', ?1, 'initial boundaries', ?2, NULL)",
        params![time_text(published_at), "1970-01-01"],
    )
    .map_err(sql("record version 1"))?;
    for g in d.grids() {
        insert_history(conn, 1, &GridRecord::from_district(d, &d.area(g).code))?;
    }
    Ok(())
}

/// Brings a GeoPackage written before boundaries were versioned (or by
/// another tool, with gridgov's layers) up to date: creates the version
/// tables and records its current grids as version 1. A no-op on a
/// current store. `now` is when the upgrade publishes version 1.
pub fn upgrade(conn: &mut Connection, now: Timestamp) -> Result<(), StorageError> {
    let has: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'boundary_versions'",
            [],
            |r| r.get(0),
        )
        .map_err(sql("inspect schema"))?;
    if has > 0 {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("begin upgrade"))?;
    let d = super::schema::load(&tx)?;
    tx.execute_batch(DDL)
        .map_err(sql("create version tables"))?;
    record_initial(&tx, &d, now)?;
    tx.commit().map_err(sql("commit upgrade"))
}

/// The current version of every grid (the last version that changed it).
pub fn grid_versions(conn: &Connection) -> Result<HashMap<String, i64>, StorageError> {
    let mut st = conn
        .prepare("SELECT code, max(version) FROM grid_history GROUP BY code")
        .map_err(sql("read grid versions"))?;
    let rows = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(sql("read grid versions"))?;
    rows.collect::<Result<_, _>>()
        .map_err(sql("read grid versions"))
}

/// The latest version number.
pub fn latest(conn: &Connection) -> Result<i64, StorageError> {
    conn.query_row(
        "SELECT coalesce(max(version), 0) FROM boundary_versions",
        [],
        |r| r.get(0),
    )
    .map_err(sql("read latest version"))
}

/// Publishes atomically (the version, its grids and the draft marked
/// published); refused with the current versions on a conflict.
pub fn publish(conn: &mut Connection, p: &Publication) -> Result<VersionInfo, PublishError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("begin publish"))?;
    if let Some(id) = &p.draft
        && let Some(DraftStatus::Published(v)) = load_draft(&tx, id)?.map(|d| d.status)
    {
        return Err(PublishError::AlreadyPublished(v));
    }
    let current = grid_versions(&tx)?;
    let conflicts = p.conflicts(&current);
    if !conflicts.is_empty() {
        return Err(PublishError::Conflict(conflicts));
    }
    let version = latest(&tx)? + 1;
    tx.execute(
        "INSERT INTO boundary_versions VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            version,
            p.author,
            time_text(p.published_at),
            p.reason,
            p.effective_date.to_string(),
            p.rollback_of
        ],
    )
    .map_err(sql("record version"))?;
    for r in &p.records {
        insert_history(&tx, version, r)?;
        match &r.boundary {
            None => {
                tx.execute("DELETE FROM grids WHERE code = ?1", [&r.code])
                    .map_err(sql("remove grid"))?;
            }
            Some(b) => {
                let staff = serde_json::to_string(&r.staff).unwrap_or_else(|_| "[]".into());
                let blob = wkb::multi_polygon_blob(b);
                let n = tx
                    .execute(
                        "UPDATE grids SET geom = ?2, name = ?3, kind = ?4, parent_code = ?5, institution = ?6, staff = ?7 WHERE code = ?1",
                        params![r.code, blob, r.name, r.kind.as_str(), r.parent_code, r.institution, staff],
                    )
                    .map_err(sql("update grid"))?;
                if n == 0 {
                    tx.execute(
                        "INSERT INTO grids (geom, code, name, kind, parent_code, institution, staff) VALUES (?2, ?1, ?3, ?4, ?5, ?6, ?7)",
                        params![r.code, blob, r.name, r.kind.as_str(), r.parent_code, r.institution, staff],
                    )
                    .map_err(sql("add grid"))?;
                }
            }
        }
    }
    if let Some(id) = &p.draft {
        mark_published(&tx, id, version)?;
    }
    tx.execute(
        "UPDATE gpkg_contents SET last_change = ?1 WHERE table_name IN ('grids', 'grid_history')",
        [time_text(p.published_at)],
    )
    .map_err(sql("touch contents"))?;
    tx.commit().map_err(sql("commit publish"))?;
    Ok(p.info(version))
}

/// Every version, oldest first, with the grids each changed.
pub fn versions(conn: &Connection) -> Result<Vec<VersionInfo>, StorageError> {
    let mut grids: HashMap<i64, Vec<String>> = HashMap::new();
    let mut st = conn
        .prepare("SELECT version, code FROM grid_history ORDER BY version, code")
        .map_err(sql("read history"))?;
    for row in st
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .map_err(sql("read history"))?
    {
        let (v, c) = row.map_err(sql("read history"))?;
        grids.entry(v).or_default().push(c);
    }
    let mut st = conn
        .prepare("SELECT version, author, published_at, reason, effective_date, rollback_of FROM boundary_versions ORDER BY version")
        .map_err(sql("read versions"))?;
    let rows = st
        .query_map([], |r| {
            Ok(VersionRow {
                version: r.get(0)?,
                author: r.get(1)?,
                published_at: r.get(2)?,
                reason: r.get(3)?,
                effective_date: r.get(4)?,
                rollback_of: r.get(5)?,
            })
        })
        .map_err(sql("read versions"))?;
    rows.map(|r| {
        let r = r.map_err(sql("read versions"))?;
        let g = grids.remove(&r.version).unwrap_or_default();
        r.into_info(g)
    })
    .collect()
}

/// A `grid_history` row: version, geometry, code, name, kind, parent code,
/// institution, staff JSON, removed flag.
/// A `boundary_versions` row as stored.
pub(crate) struct VersionRow {
    pub(crate) version: i64,
    pub(crate) author: String,
    pub(crate) published_at: String,
    pub(crate) reason: String,
    pub(crate) effective_date: String,
    pub(crate) rollback_of: Option<i64>,
}

impl VersionRow {
    /// The version it records, with the grids it changed.
    pub(crate) fn into_info(self, grids: Vec<String>) -> Result<VersionInfo, StorageError> {
        let what = format!("boundary_versions {}", self.version);
        Ok(VersionInfo {
            version: self.version,
            author: self.author,
            published_at: read_time(&self.published_at, &what)?,
            reason: self.reason,
            effective_date: read_date(&self.effective_date, &what)?,
            rollback_of: self.rollback_of,
            grids,
        })
    }
}

/// A stored date; `Corrupt` when it is not one.
pub(crate) fn read_date(s: &str, what: &str) -> Result<Date, StorageError> {
    gridgov_spatial::time::parse_date(s).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

/// A `grid_history` row: version, geometry, code, name, kind, parent code,
/// institution, staff JSON, removed flag.
pub(crate) type HistoryRow = (
    i64,
    Option<Vec<u8>>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
);

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

pub(crate) fn to_record(
    row: HistoryRow,
    decode: fn(&[u8]) -> Result<MultiPolygon<f64>, wkb::WkbError>,
) -> Result<GridVersion, StorageError> {
    let (version, geom, code, name, kind, parent_code, institution, staff, removed) = row;
    let boundary = if removed != 0 {
        None
    } else {
        Some(
            geom.map(|b| decode(&b))
                .transpose()
                .map_err(|e| StorageError::Corrupt(format!("grid_history {code} v{version}: {e}")))?
                .unwrap_or_else(|| MultiPolygon::new(vec![])),
        )
    };
    Ok(GridVersion {
        version,
        record: GridRecord {
            kind: serde_json::from_value(serde_json::Value::String(kind))
                .unwrap_or(GridKind::Basic),
            staff: serde_json::from_str(&staff).unwrap_or_default(),
            code,
            name,
            parent_code,
            institution,
            boundary,
        },
    })
}

/// Every version of one grid, oldest first.
pub fn grid_history(conn: &Connection, code: &str) -> Result<Vec<GridVersion>, StorageError> {
    let mut st = conn
        .prepare("SELECT version, geom, code, name, kind, parent_code, institution, staff, removed FROM grid_history WHERE code = ?1 ORDER BY version")
        .map_err(sql("read grid history"))?;
    let rows = st
        .query_map([code], record_from_row)
        .map_err(sql("read grid history"))?;
    rows.map(|r| {
        to_record(
            r.map_err(sql("read grid history"))?,
            wkb::read_multi_polygon,
        )
    })
    .collect()
}

/// The grids in force at `version` (removed ones left out).
pub fn grids_at(conn: &Connection, version: i64) -> Result<Vec<GridRecord>, StorageError> {
    let mut st = conn
        .prepare(
            "SELECT h.version, h.geom, h.code, h.name, h.kind, h.parent_code, h.institution, h.staff, h.removed
             FROM grid_history h JOIN (SELECT code, max(version) AS v FROM grid_history WHERE version <= ?1 GROUP BY code) m
             ON h.code = m.code AND h.version = m.v ORDER BY h.fid",
        )
        .map_err(sql("read grids at version"))?;
    let rows = st
        .query_map([version], record_from_row)
        .map_err(sql("read grids at version"))?;
    let mut out = Vec::new();
    for r in rows {
        let rec = to_record(
            r.map_err(sql("read grids at version"))?,
            wkb::read_multi_polygon,
        )?
        .record;
        if rec.boundary.is_some() {
            out.push(rec);
        }
    }
    Ok(out)
}

/// The version in force on `date`: the latest one whose effective date
/// is on or before it.
pub fn version_on(conn: &Connection, date: Date) -> Result<Option<i64>, StorageError> {
    conn.query_row(
        "SELECT max(version) FROM boundary_versions WHERE effective_date <= ?1",
        [date.to_string()],
        |r| r.get(0),
    )
    .optional()
    .map(Option::flatten)
    .map_err(sql("find version in force"))
}

/// Stores a draft.
pub fn save_draft(conn: &Connection, d: &DraftRecord) -> Result<(), StorageError> {
    let (status, v) = draft_status_columns(d.status);
    conn.execute(
        "INSERT INTO drafts VALUES (?1, ?2, ?3, ?4, ?5)",
        params![d.id, time_text(d.created_at), d.body, status, v],
    )
    .map_err(sql("save draft"))?;
    Ok(())
}

/// A status as its columns.
pub(crate) fn draft_status_columns(s: DraftStatus) -> (&'static str, Option<i64>) {
    match s {
        DraftStatus::Open => ("open", None),
        DraftStatus::Published(v) => ("published", Some(v)),
    }
}

/// A draft from its columns.
pub(crate) fn draft_of(
    id: &str,
    created_at: &str,
    body: String,
    status: &str,
    v: Option<i64>,
) -> Result<DraftRecord, StorageError> {
    let what = format!("drafts {id}");
    let status = match (status, v) {
        ("open", _) => DraftStatus::Open,
        ("published", Some(v)) => DraftStatus::Published(v),
        _ => return Err(StorageError::Corrupt(format!("{what}: status {status:?}"))),
    };
    Ok(DraftRecord {
        id: id.to_owned(),
        created_at: read_time(created_at, &what)?,
        body,
        status,
    })
}

/// A draft.
pub fn load_draft(conn: &Connection, id: &str) -> Result<Option<DraftRecord>, StorageError> {
    let row: Option<(String, String, String, Option<i64>)> = conn
        .query_row(
            "SELECT created_at, body, status, published_version FROM drafts WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(sql("load draft"))?;
    row.map(|(c, body, st, v)| draft_of(id, &c, body, &st, v))
        .transpose()
}

/// Marks a draft published (inside the publish transaction).
fn mark_published(conn: &Connection, id: &str, version: i64) -> Result<(), StorageError> {
    conn.execute(
        "UPDATE drafts SET status = 'published', published_version = ?2 WHERE id = ?1",
        params![id, version],
    )
    .map_err(sql("mark draft"))?;
    Ok(())
}
