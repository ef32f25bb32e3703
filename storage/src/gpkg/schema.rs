//! The embedded store: an OGC GeoPackage (SQLite) that QGIS and GDAL open
//! as it is.
//!
//! Layers: `streets`, `communities`, `grids` (MULTIPOLYGON), `buildings`
//! (MULTIPOLYGON), `units`, `merchants`, `cameras`, `incidents` (POINT), all
//! in EPSG:4326 with the R-tree spatial index extension and its triggers;
//! `households` and `gridgov_meta` are attribute tables. Feature ids are the
//! model's indices plus one. The database runs in WAL mode with
//! `synchronous=FULL`, so a committed write survives `kill -9` and power
//! loss.

use std::path::Path;

use geo::MultiPolygon;
use gridgov_spatial::{
    Area, AreaId, Building, BuildingId, Camera, District, GridKind, Household, Incident, Level,
    Merchant, Unit, UnitId,
};
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension, params};

use gridgov_spatial::Timestamp;

use crate::wkb::{self, SRS_WGS84};
use crate::{StorageError, time_text};

/// `application_id` of a GeoPackage ("GPKG").
const APPLICATION_ID: i32 = 0x4750_4B47;
/// GeoPackage 1.3.
const USER_VERSION: i32 = 10_300;
/// Version of gridgov's own schema inside the GeoPackage.
pub const SCHEMA_VERSION: &str = "1";

/// Layers with geometry: (table, geometry type, description).
pub const LAYERS: [(&str, &str, &str); 9] = [
    ("streets", "MULTIPOLYGON", "Street offices (街道)"),
    ("communities", "MULTIPOLYGON", "Communities (社区)"),
    ("grids", "MULTIPOLYGON", "Grids (网格), basic and exclusive"),
    ("buildings", "MULTIPOLYGON", "Building footprints (楼栋)"),
    ("units", "POINT", "Units: stairwells and entrances (单元)"),
    (
        "merchants",
        "POINT",
        "Merchants: shops, companies, organisations",
    ),
    ("cameras", "POINT", "Surveillance cameras"),
    (
        "incidents",
        "POINT",
        "Incidents reported by residents and staff",
    ),
    (
        "basemap",
        "GEOMETRY",
        "Base map: roads (道路), water (水系) and place names (地名)",
    ),
];

fn sql_err(what: &str) -> impl Fn(rusqlite::Error) -> StorageError + '_ {
    move |source| StorageError::Sqlite {
        what: what.to_string(),
        source,
    }
}

/// Registers the `ST_*` functions that the R-tree triggers of a GeoPackage
/// call, so writes through this connection keep the index current.
fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let env = |ctx: &rusqlite::functions::Context<'_>| -> rusqlite::Result<Option<[f64; 4]>> {
        match ctx.get_raw(0) {
            rusqlite::types::ValueRef::Blob(b) => {
                wkb::envelope(b).map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
            }
            _ => Ok(None),
        }
    };
    conn.create_scalar_function("ST_IsEmpty", 1, flags, move |ctx| {
        Ok(i64::from(env(ctx)?.is_none()))
    })?;
    for (name, k) in [
        ("ST_MinX", 0usize),
        ("ST_MaxX", 1),
        ("ST_MinY", 2),
        ("ST_MaxY", 3),
    ] {
        conn.create_scalar_function(name, 1, flags, move |ctx| Ok(env(ctx)?.map(|e| e[k])))?;
    }
    Ok(())
}

/// Opens a connection with the pragmas and functions gridgov relies on.
pub fn open(path: &Path) -> Result<Connection, StorageError> {
    private(path)?;
    let conn = Connection::open(path).map_err(sql_err("open"))?;
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;")
        .map_err(sql_err("pragmas"))?;
    let problems = quick_check(&conn)?;
    if !problems.is_empty() {
        return Err(StorageError::Corrupt(format!(
            "{}: the file is damaged ({}); it is not opened, so nothing more is written to it. Restore it from a backup (gridgov check --db FILE lists the damage)",
            path.display(),
            problems
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    register_functions(&conn).map_err(sql_err("register functions"))?;
    Ok(conn)
}

/// SQLite's `PRAGMA quick_check`: the damage it finds (empty when the
/// file is sound). It reads every page once, without checking that
/// indexes match their tables.
pub fn quick_check(conn: &Connection) -> Result<Vec<String>, StorageError> {
    // Damage where SQLite looks first stops the check itself: that is
    // damage found too, not a failure to look.
    let damaged = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
            Ok(vec![e.to_string()])
        }
        _ => Err(sql_err("quick_check")(e)),
    };
    let mut st = match conn.prepare("PRAGMA quick_check") {
        Ok(st) => st,
        Err(e) => return damaged(e),
    };
    let rows = match st.query_map([], |r| r.get::<_, String>(0)) {
        Ok(rows) => rows,
        Err(e) => return damaged(e),
    };
    let mut out = Vec::new();
    for r in rows {
        let text = match r {
            Ok(t) => t,
            Err(e) => {
                out.extend(damaged(e)?);
                break;
            }
        };
        out.extend(
            text.lines()
                .filter(|l| *l != "ok" && !l.starts_with("***"))
                .map(str::to_owned),
        );
    }
    Ok(out)
}

/// The store holds argon2 hashes, token digests and personal data: it
/// and its journal files are for the service's user only (0600). A store
/// left readable by others (made by an older version, or copied) is
/// tightened when opened.
fn private(path: &Path) -> Result<(), StorageError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut files = vec![path.to_path_buf()];
        for ext in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(ext);
            files.push(p.into());
        }
        for f in files {
            let Ok(meta) = std::fs::metadata(&f) else {
                continue;
            };
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).map_err(
                    |source| StorageError::Io {
                        path: f.clone(),
                        source,
                    },
                )?;
                tracing::info!(file = %f.display(), "made readable by its owner only (0600)");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

const CORE_DDL: &str = r#"
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326,
   'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]',
   'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid (CGCS2000 agrees within centimetres)');
"#;

fn layer_columns(table: &str) -> &'static str {
    match table {
        "streets" | "communities" | "grids" => {
            "code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, kind TEXT, parent_code TEXT, institution TEXT, staff TEXT NOT NULL DEFAULT '[]'"
        }
        "buildings" => {
            "code TEXT NOT NULL, address TEXT NOT NULL DEFAULT '', floors INTEGER NOT NULL DEFAULT 0, source TEXT, leaders TEXT"
        }
        "units" => {
            "building_fid INTEGER NOT NULL, label TEXT NOT NULL, households INTEGER NOT NULL DEFAULT 0"
        }
        "merchants" => {
            "name TEXT NOT NULL, category TEXT NOT NULL, address TEXT NOT NULL DEFAULT ''"
        }
        "cameras" => "heading_deg REAL NOT NULL, fov_deg REAL NOT NULL, range_m REAL NOT NULL",
        "basemap" => {
            "kind TEXT NOT NULL, class TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', source TEXT"
        }
        "incidents" => {
            "reported_at TEXT NOT NULL, category TEXT NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', filed_by TEXT, reporter TEXT"
        }
        _ => "",
    }
}

fn rtree_ddl(t: &str) -> String {
    let r = format!("rtree_{t}_geom");
    format!(
        "CREATE VIRTUAL TABLE {r} USING rtree(id, minx, maxx, miny, maxy);
CREATE TRIGGER {r}_insert AFTER INSERT ON {t} WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER {r}_update1 AFTER UPDATE OF geom ON {t} WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER {r}_update2 AFTER UPDATE OF geom ON {t} WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;
CREATE TRIGGER {r}_update3 AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM {r} WHERE id = OLD.fid; INSERT OR REPLACE INTO {r} VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER {r}_update4 AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END;
CREATE TRIGGER {r}_delete AFTER DELETE ON {t} WHEN old.geom NOT NULL
BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;
INSERT INTO gpkg_extensions VALUES ('{t}', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');"
    )
}

/// Creates one feature table with its registration and R-tree index.
fn create_layer(conn: &Connection, t: &str, gtype: &str, desc: &str) -> Result<(), StorageError> {
    conn.execute_batch(&format!(
        "CREATE TABLE {t} (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom {gtype}, {});",
        layer_columns(t)
    ))
    .map_err(sql_err("create layer"))?;
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES (?1, 'features', ?1, ?2, ?3)",
        params![t, desc, SRS_WGS84],
    )
    .map_err(sql_err("register layer"))?;
    conn.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, ?3, 0, 0)",
        params![t, gtype, SRS_WGS84],
    )
    .map_err(sql_err("register geometry column"))?;
    conn.execute_batch(&rtree_ddl(t))
        .map_err(sql_err("create spatial index"))
}

/// Whether the store has table `t`.
fn has_table(conn: &Connection, t: &str) -> Result<bool, StorageError> {
    conn.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")
        .and_then(|mut st| st.exists([t]))
        .map_err(sql_err("read tables"))
}

/// Adds the layers a store written by an earlier version lacks (the
/// base map), empty: how such a store is upgraded in place.
pub fn ensure_layers(conn: &Connection) -> Result<(), StorageError> {
    for (t, gtype, desc) in LAYERS {
        if !has_table(conn, t)? {
            create_layer(conn, t, gtype, desc)?;
        }
    }
    Ok(())
}

/// Replaces the base map (roads, water, place names) with `features`,
/// in one transaction: what `gridgov import` does for a store that
/// exists.
pub fn replace_basemap(
    conn: &mut Connection,
    features: &[gridgov_spatial::MapFeature],
) -> Result<(), StorageError> {
    ensure_layers(conn)?;
    let tx = conn.transaction().map_err(sql_err("begin"))?;
    tx.execute("DELETE FROM basemap", [])
        .map_err(sql_err("clear the base map"))?;
    insert_basemap(&tx, features.iter())?;
    update_extents(&tx)?;
    tx.commit().map_err(sql_err("commit"))
}

fn insert_basemap<'a>(
    conn: &Connection,
    features: impl Iterator<Item = &'a gridgov_spatial::MapFeature>,
) -> Result<(), StorageError> {
    let e = sql_err("insert base map");
    let mut st = conn
        .prepare("INSERT INTO basemap (fid, geom, kind, class, name, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .map_err(&e)?;
    for (i, f) in features.enumerate() {
        st.execute(params![
            i as i64 + 1,
            wkb::shape_blob(&f.shape),
            f.kind.as_str(),
            f.class,
            f.name,
            f.source
        ])
        .map_err(&e)?;
    }
    Ok(())
}

fn create_schema(conn: &Connection) -> Result<(), StorageError> {
    conn.execute_batch(&format!(
        "PRAGMA application_id={APPLICATION_ID}; PRAGMA user_version={USER_VERSION};"
    ))
    .map_err(sql_err("set application id"))?;
    conn.execute_batch(CORE_DDL)
        .map_err(sql_err("create GeoPackage core tables"))?;
    for (t, gtype, desc) in LAYERS {
        create_layer(conn, t, gtype, desc)?;
    }
    conn.execute_batch(
        "CREATE TABLE households (fid INTEGER PRIMARY KEY AUTOINCREMENT, unit_fid INTEGER NOT NULL,
           room TEXT NOT NULL, headcount INTEGER NOT NULL, head_name TEXT, phone TEXT, id_number TEXT);
         CREATE INDEX households_unit ON households(unit_fid);
         CREATE TABLE gridgov_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
         INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
           VALUES ('households', 'attributes', 'households', 'Households (户); personal fields are personal data'),
                  ('gridgov_meta', 'attributes', 'gridgov_meta', 'gridgov settings and provenance');",
    )
    .map_err(sql_err("create attribute tables"))?;
    conn.execute_batch(super::versions::DDL)
        .map_err(sql_err("create version tables"))?;
    Ok(())
}

fn kind_str(k: Option<GridKind>) -> Option<&'static str> {
    k.map(GridKind::as_str)
}

fn insert_district(conn: &Connection, d: &District) -> Result<(), StorageError> {
    let e = sql_err("insert");
    for (key, value) in [
        ("name", d.name.as_str()),
        ("attribution", d.attribution.as_str()),
        ("schema_version", SCHEMA_VERSION),
    ] {
        conn.execute(
            "INSERT OR REPLACE INTO gridgov_meta VALUES (?1, ?2)",
            params![key, value],
        )
        .map_err(&e)?;
    }
    if !d.roles.is_default() {
        conn.execute(
            "INSERT OR REPLACE INTO gridgov_meta VALUES (?1, ?2)",
            params![crate::ROLES_KEY, crate::roles_text(&d.roles)],
        )
        .map_err(&e)?;
    }
    for (level, table) in [
        (Level::Street, "streets"),
        (Level::Community, "communities"),
        (Level::Grid, "grids"),
    ] {
        let mut st = conn
            .prepare(&format!(
                "INSERT INTO {table} (geom, code, name, kind, parent_code, institution, staff) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))
            .map_err(&e)?;
        for a in d.areas.iter().filter(|a| a.level == level) {
            let parent = a.parent.map(|p| d.area(p).code.clone());
            let staff = serde_json::to_string(&a.staff).unwrap_or_else(|_| "[]".into());
            st.execute(params![
                wkb::multi_polygon_blob(&a.boundary),
                a.code,
                a.name,
                kind_str(a.kind),
                parent,
                a.institution,
                staff
            ])
            .map_err(|source| StorageError::Sqlite {
                what: format!("insert {} {}", level.as_str(), a.code),
                source,
            })?;
        }
    }
    let mut st = conn.prepare("INSERT INTO buildings (fid, geom, code, address, floors, source, leaders) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)").map_err(&e)?;
    for (i, b) in d.buildings.iter().enumerate() {
        st.execute(params![
            i as i64 + 1,
            wkb::multi_polygon_blob(&b.footprint),
            b.code,
            b.address,
            b.floors,
            b.source,
            crate::leaders_text(&b.leaders)
        ])
        .map_err(&e)?;
    }
    let mut st = conn.prepare("INSERT INTO units (fid, geom, building_fid, label, households) VALUES (?1, ?2, ?3, ?4, ?5)").map_err(&e)?;
    for (i, u) in d.units.iter().enumerate() {
        st.execute(params![
            i as i64 + 1,
            wkb::point_blob(u.location),
            i64::from(u.building.0) + 1,
            u.label,
            u.households
        ])
        .map_err(&e)?;
    }
    let mut st = conn.prepare("INSERT INTO households (fid, unit_fid, room, headcount, head_name, phone, id_number) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)").map_err(&e)?;
    for (i, h) in d.households.iter().enumerate() {
        st.execute(params![
            i as i64 + 1,
            i64::from(h.unit.0) + 1,
            h.room,
            h.headcount,
            h.head_name,
            h.phone,
            h.id_number
        ])
        .map_err(&e)?;
    }
    let mut st = conn.prepare("INSERT INTO merchants (fid, geom, name, category, address) VALUES (?1, ?2, ?3, ?4, ?5)").map_err(&e)?;
    for (i, m) in d.merchants.iter().enumerate() {
        st.execute(params![
            i as i64 + 1,
            wkb::point_blob(m.location),
            m.name,
            m.category,
            m.address
        ])
        .map_err(&e)?;
    }
    let mut st = conn.prepare("INSERT INTO cameras (fid, geom, heading_deg, fov_deg, range_m) VALUES (?1, ?2, ?3, ?4, ?5)").map_err(&e)?;
    for (i, c) in d.cameras.iter().enumerate() {
        st.execute(params![
            i as i64 + 1,
            wkb::point_blob(c.location),
            c.heading_deg,
            c.fov_deg,
            c.range_m
        ])
        .map_err(&e)?;
    }
    insert_basemap(conn, d.basemap.iter())?;
    let mut st = conn
        .prepare("INSERT INTO incidents (fid, geom, reported_at, category, source, status, description, filed_by, reporter) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
        .map_err(&e)?;
    for (i, x) in d.incidents.iter().enumerate() {
        st.execute(params![
            i as i64 + 1,
            wkb::point_blob(x.location),
            crate::time_text(x.reported_at),
            x.category,
            x.source.as_str(),
            x.status.as_str(),
            x.description,
            x.filed_by,
            crate::reporter_text(x.reporter.as_deref())
        ])
        .map_err(&e)?;
    }
    update_extents(conn)
}

/// A `buildings` row as read.
type BuildingRow = (
    i64,
    Option<Vec<u8>>,
    String,
    String,
    u16,
    Option<String>,
    Option<String>,
);

/// A `households` row as read.
type HouseholdRow = (
    i64,
    i64,
    String,
    u16,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// An `incidents` row as read.
type IncidentRow = (
    i64,
    Option<Vec<u8>>,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// Adds `column` (of SQL type `ty`) to `table` when it lacks it: how
/// stores written by earlier versions are upgraded in place.
pub fn add_column_if_missing(
    conn: &Connection,
    table: &str,
    column: &str,
    ty: &str,
) -> Result<(), StorageError> {
    if has_column(conn, table, column)? {
        return Ok(());
    }
    conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {ty}"))
        .map_err(sql_err(&format!("add {column} to {table}")))
}

/// `column` to select from `table`, or `NULL` in a store written before
/// the column existed (read as it is; upgraded when opened for writing).
fn column_or_null(
    conn: &Connection,
    table: &str,
    column: &'static str,
) -> Result<&'static str, StorageError> {
    Ok(if has_column(conn, table, column)? {
        column
    } else {
        "NULL"
    })
}

/// Whether `table` has `column`.
pub fn has_column(conn: &Connection, table: &str, column: &str) -> Result<bool, StorageError> {
    let mut st = conn
        .prepare(&format!(
            "SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"
        ))
        .map_err(super::versions::sql("read table columns"))?;
    st.exists([column])
        .map_err(super::versions::sql("read table columns"))
}

/// Writes each layer's extent into `gpkg_contents` (from its R-tree).
fn update_extents(conn: &Connection) -> Result<(), StorageError> {
    for (t, _, _) in LAYERS {
        conn.execute(
            &format!(
                "UPDATE gpkg_contents SET min_x = (SELECT min(minx) FROM rtree_{t}_geom), max_x = (SELECT max(maxx) FROM rtree_{t}_geom),
                 min_y = (SELECT min(miny) FROM rtree_{t}_geom), max_y = (SELECT max(maxy) FROM rtree_{t}_geom),
                 last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = '{t}'"
            ),
            [],
        )
        .map_err(sql_err("update extents"))?;
    }
    Ok(())
}

/// Creates a new GeoPackage at `path` holding `d`, its boundaries
/// published as version 1 at `now`. Written to a temporary file and
/// renamed, so a crash leaves either no store or a whole one.
pub fn create(path: &Path, d: &District, now: Timestamp) -> Result<(), StorageError> {
    let io = |source| StorageError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension(format!("gpkg.creating-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    // Created for its owner only; SQLite gives its journals the same mode.
    {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        o.open(&tmp).map_err(io)?;
    }
    {
        let mut conn = Connection::open(&tmp).map_err(sql_err("create"))?;
        // Bulk load with rollback journaling, then switch to WAL.
        conn.execute_batch("PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF;")
            .map_err(sql_err("pragmas"))?;
        register_functions(&conn).map_err(sql_err("register functions"))?;
        let tx = conn.transaction().map_err(sql_err("begin"))?;
        create_schema(&tx)?;
        insert_district(&tx, d)?;
        super::versions::record_initial(&tx, d, now)?;
        tx.execute(
            "UPDATE gpkg_contents SET last_change = ?1",
            [time_text(now)],
        )
        .map_err(sql_err("date the layers"))?;
        tx.commit().map_err(sql_err("commit"))?;
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA journal_mode=WAL;")
            .map_err(sql_err("pragmas"))?;
    }
    // On disk before it takes the name, and the name on disk after.
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::File::open(dir)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
    }
    Ok(())
}

fn multi_polygon(blob: Option<Vec<u8>>, what: &str) -> Result<MultiPolygon<f64>, StorageError> {
    match blob {
        None => Ok(MultiPolygon::new(vec![])),
        Some(b) => {
            wkb::read_multi_polygon(&b).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
        }
    }
}

pub(crate) fn point(blob: Option<Vec<u8>>, what: &str) -> Result<geo::Point<f64>, StorageError> {
    let b = blob.ok_or_else(|| StorageError::Corrupt(format!("{what}: no geometry")))?;
    wkb::read_point(&b).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

/// A model enum from its stored name.
pub(crate) fn parse_enum<T: serde::de::DeserializeOwned>(
    s: &str,
    what: &str,
) -> Result<T, StorageError> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| StorageError::Corrupt(format!("{what}: unknown value {s:?}")))
}

/// Reads the whole district.
pub fn load(conn: &Connection) -> Result<District, StorageError> {
    let e = sql_err("read");
    let meta = |k: &str| -> Result<String, StorageError> {
        Ok(conn
            .query_row("SELECT value FROM gridgov_meta WHERE key = ?1", [k], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql_err("read meta"))?
            .unwrap_or_default())
    };
    let mut d = District::new(meta("name")?);
    d.attribution = meta("attribution")?;
    d.roles = super::accounts::roles(conn)?;
    let mut codes: std::collections::HashMap<String, AreaId> = std::collections::HashMap::new();
    let mut parents: Vec<(AreaId, String)> = Vec::new();
    for (level, table) in [
        (Level::Street, "streets"),
        (Level::Community, "communities"),
        (Level::Grid, "grids"),
    ] {
        let mut st = conn
            .prepare(&format!("SELECT fid, geom, code, name, kind, parent_code, institution, staff FROM {table} ORDER BY fid"))
            .map_err(&e)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<Vec<u8>>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })
            .map_err(&e)?;
        for row in rows {
            let (fid, geom, code, name, kind, parent, institution, staff) = row.map_err(&e)?;
            let what = format!("{table} fid {fid}");
            let mut a = Area::new(level, code.clone(), name);
            a.boundary = multi_polygon(geom, &what)?;
            if level == Level::Grid {
                a.kind = Some(match kind.as_deref() {
                    Some(k) => parse_enum(k, &what)?,
                    None => GridKind::Basic,
                });
            }
            a.institution = institution;
            a.staff = serde_json::from_str(&staff)
                .map_err(|err| StorageError::Corrupt(format!("{what}: staff: {err}")))?;
            let id = d.add_area(a);
            codes.insert(code, id);
            if let Some(p) = parent {
                parents.push((id, p));
            }
        }
    }
    for (id, p) in parents {
        d.areas[id.index()].parent = codes.get(&p).copied();
    }
    let fid_index = |fid: i64, n: usize, what: &str| -> Result<u32, StorageError> {
        let i = fid - 1;
        if i < 0 || i as usize >= n {
            return Err(StorageError::Corrupt(format!(
                "{what}: reference to fid {fid}, which does not exist"
            )));
        }
        Ok(i as u32)
    };
    let leaders = column_or_null(conn, "buildings", "leaders")?;
    let mut st = conn
        .prepare(&format!(
            "SELECT fid, geom, code, address, floors, source, {leaders} FROM buildings ORDER BY fid"
        ))
        .map_err(&e)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .map_err(&e)?;
    for row in rows {
        let (fid, geom, code, address, floors, source, leaders): BuildingRow = row.map_err(&e)?;
        let what = format!("buildings fid {fid}");
        d.buildings.push_back(Building {
            footprint: multi_polygon(geom, &what)?,
            code,
            address,
            floors,
            source,
            leaders: crate::read_leaders(leaders, &what)?,
        });
    }
    let mut st = conn
        .prepare("SELECT fid, geom, building_fid, label, households FROM units ORDER BY fid")
        .map_err(&e)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
            ))
        })
        .map_err(&e)?;
    for row in rows {
        let (fid, geom, b, label, households): (i64, Option<Vec<u8>>, i64, String, u32) =
            row.map_err(&e)?;
        let what = format!("units fid {fid}");
        let building = BuildingId(fid_index(b, d.buildings.len(), &what)?);
        d.units.push_back(Unit {
            building,
            label,
            location: point(geom, &what)?,
            households,
        });
    }
    let id_number = column_or_null(conn, "households", "id_number")?;
    let mut st = conn
        .prepare(&format!(
            "SELECT fid, unit_fid, room, headcount, head_name, phone, {id_number} FROM households ORDER BY fid"
        ))
        .map_err(&e)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .map_err(&e)?;
    for row in rows {
        let (fid, u, room, headcount, head_name, phone, id_number): HouseholdRow =
            row.map_err(&e)?;
        let unit = UnitId(fid_index(
            u,
            d.units.len(),
            &format!("households fid {fid}"),
        )?);
        d.households.push_back(Household {
            unit,
            room,
            headcount,
            head_name,
            phone,
            id_number,
        });
    }
    let mut st = conn
        .prepare("SELECT fid, geom, name, category, address FROM merchants ORDER BY fid")
        .map_err(&e)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
            ))
        })
        .map_err(&e)?;
    for row in rows {
        let (fid, geom, name, category, address): (i64, Option<Vec<u8>>, String, String, String) =
            row.map_err(&e)?;
        d.merchants.push_back(Merchant {
            name,
            category,
            address,
            location: point(geom, &format!("merchants fid {fid}"))?,
        });
    }
    let mut st = conn
        .prepare("SELECT fid, geom, heading_deg, fov_deg, range_m FROM cameras ORDER BY fid")
        .map_err(&e)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
            ))
        })
        .map_err(&e)?;
    for row in rows {
        let (fid, geom, heading_deg, fov_deg, range_m): (i64, Option<Vec<u8>>, f64, f64, f64) =
            row.map_err(&e)?;
        d.cameras.push_back(Camera {
            location: point(geom, &format!("cameras fid {fid}"))?,
            heading_deg,
            fov_deg,
            range_m,
        });
    }
    let filer = column_or_null(conn, "incidents", "filed_by")?;
    let reporter = column_or_null(conn, "incidents", "reporter")?;
    let mut st = conn
        .prepare(&format!("SELECT fid, geom, reported_at, category, source, status, description, {filer}, {reporter} FROM incidents ORDER BY fid"))
        .map_err(&e)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })
        .map_err(&e)?;
    for row in rows {
        let (fid, geom, reported_at, category, source, status, description, filed_by, reporter): IncidentRow =
            row.map_err(&e)?;
        let what = format!("incidents fid {fid}");
        d.incidents.push_back(Incident {
            location: point(geom, &what)?,
            reported_at: crate::read_time(&reported_at, &what)?,
            category,
            source: parse_enum(&source, &what)?,
            status: parse_enum(&status, &what)?,
            description,
            filed_by,
            reporter: crate::read_reporter(reporter, &what)?,
        });
    }
    if has_table(conn, "basemap")? {
        d.basemap = load_basemap(conn)?.into();
    }
    Ok(d)
}

fn load_basemap(conn: &Connection) -> Result<Vec<gridgov_spatial::MapFeature>, StorageError> {
    let e = sql_err("read base map");
    let mut st = conn
        .prepare("SELECT fid, geom, kind, class, name, source FROM basemap ORDER BY fid")
        .map_err(&e)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<Vec<u8>>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })
        .map_err(&e)?;
    let mut out = Vec::new();
    for row in rows {
        let (fid, geom, kind, class, name, source) = row.map_err(&e)?;
        let what = format!("basemap fid {fid}");
        let b = geom.ok_or_else(|| StorageError::Corrupt(format!("{what}: no geometry")))?;
        out.push(gridgov_spatial::MapFeature {
            kind: kind
                .parse()
                .map_err(|m| StorageError::Corrupt(format!("{what}: {m}")))?,
            class,
            name,
            shape: wkb::read_shape(&b)
                .map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))?,
            source,
        });
    }
    Ok(out)
}

/// A GeoPackage of the sample district as an earlier version of gridgov
/// wrote it: `before` (SQL) takes out what came later. Returns its
/// directory (a fresh one named after `name`, removed when dropped), its
/// path and the district.
///
/// # Panics
/// When the file cannot be written or `before` fails.
#[cfg(test)]
pub fn sample_gpkg_before(
    name: &str,
    before: &str,
) -> (
    tempfile::TempDir,
    std::path::PathBuf,
    gridgov_spatial::District,
) {
    use gridgov_spatial::sample::{SampleSpec, district};
    let dir = tempfile::Builder::new()
        .prefix(&format!("gridgov-{name}-"))
        .tempdir()
        .unwrap();
    let path = dir.path().join("old.gpkg");
    let d = district(&SampleSpec::default());
    create(&path, &d, crate::testing::now()).unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(before)
        .unwrap();
    (dir, path, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridgov_spatial::sample::{SampleSpec, district};

    #[test]
    fn a_district_round_trips_through_the_geopackage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.gpkg");
        let d = district(&SampleSpec::default());
        create(&path, &d, crate::testing::now()).unwrap();
        let back = load(&open(&path).unwrap()).unwrap();
        // Areas come back grouped by level; everything else in order.
        let key =
            |a: &Area, dd: &District| (a.code.clone(), a.parent.map(|p| dd.area(p).code.clone()));
        let mut want: Vec<_> = d
            .areas
            .iter()
            .map(|a| (key(a, &d), a.boundary.clone(), a.staff.clone(), a.kind))
            .collect();
        let mut got: Vec<_> = back
            .areas
            .iter()
            .map(|a| (key(a, &back), a.boundary.clone(), a.staff.clone(), a.kind))
            .collect();
        want.sort_by(|a, b| a.0.cmp(&b.0));
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(want == got);
        assert!(back.buildings == d.buildings);
        assert!(back.units == d.units);
        assert!(back.households == d.households);
        assert!(back.merchants == d.merchants);
        assert!(back.cameras == d.cameras);
        assert!(back.incidents == d.incidents);
        assert!(!d.basemap.is_empty());
        assert!(back.basemap == d.basemap);
        assert_eq!(back.name, d.name);
        // The spatial index is filled by the triggers.
        let conn = open(&path).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM rtree_grids_geom", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 52);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_store_from_before_the_base_map_opens_with_an_empty_one_and_takes_a_new_one() {
        use crate::GpkgStore;
        use gridgov_app::DistrictStore;
        let (_dir, path, d) = sample_gpkg_before(
            "no-basemap",
            "DROP TABLE basemap; DROP TABLE rtree_basemap_geom;
             DELETE FROM gpkg_geometry_columns WHERE table_name = 'basemap';
             DELETE FROM gpkg_contents WHERE table_name = 'basemap';
             DELETE FROM gpkg_extensions WHERE table_name = 'basemap';",
        );
        // Read as it is: no base map.
        assert!(load(&open(&path).unwrap()).unwrap().basemap.is_empty());
        let (store, created) =
            GpkgStore::open_or_create(&path, Path::new("unused"), crate::testing::now()).unwrap();
        assert!(!created);
        assert!(store.load().unwrap().basemap.is_empty());
        let mut conn = open(&path).unwrap();
        replace_basemap(&mut conn, &d.basemap.iter().cloned().collect::<Vec<_>>()).unwrap();
        let back = store.load().unwrap();
        assert!(back.basemap == d.basemap);
        assert!(back.buildings == d.buildings);
        let n: i64 = conn
            .query_row("SELECT count(*) FROM rtree_basemap_geom", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n as usize, d.basemap.len());
    }

    #[test]
    fn a_geopackage_from_before_versioning_is_upgraded_on_open() {
        use crate::GpkgStore;
        use gridgov_app::BoundaryStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.gpkg");
        create(
            &path,
            &district(&SampleSpec::default()),
            crate::testing::now(),
        )
        .unwrap();
        open(&path)
            .unwrap()
            .execute_batch(
                "DROP TABLE boundary_versions; DROP TABLE grid_history; DROP TABLE drafts;
                 DELETE FROM gpkg_geometry_columns WHERE table_name = 'grid_history';
                 DELETE FROM gpkg_contents WHERE table_name IN ('grid_history', 'boundary_versions', 'drafts');",
            )
            .unwrap();
        let (store, created) = GpkgStore::open_or_create(
            &path,
            std::path::Path::new("/nonexistent"),
            crate::testing::now(),
        )
        .unwrap();
        assert!(!created);
        assert_eq!(store.latest_version().unwrap(), 1);
        assert_eq!(store.grid_versions().unwrap().len(), 52);
        assert_eq!(store.grids_at(1).unwrap().len(), 52);
        // Opening again changes nothing.
        drop(store);
        let (store, _) = GpkgStore::open_or_create(
            &path,
            std::path::Path::new("/nonexistent"),
            crate::testing::now(),
        )
        .unwrap();
        assert_eq!(store.versions().unwrap().len(), 1);
    }
}
