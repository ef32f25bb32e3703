//! The PostgreSQL + PostGIS store, for deployments that outgrow one
//! machine: several service replicas share one database.
//!
//! The schema mirrors the GeoPackage: the same layers with
//! `geometry(…, 4326)` columns and GiST indexes, the same version tables.
//! Tables are created unqualified, so a deployment picks its schema with
//! the connection's `search_path` (`?options=-csearch_path%3Dmyschema,public`).
//! A publish is one transaction that takes an exclusive lock on
//! `boundary_versions`, checks for conflicts, writes, and sends
//! `NOTIFY gridgov_versions, '<version>'`; every replica listens (see
//! [`PgStore::watch`]) and refreshes its index.
//!
//! The client is the synchronous `postgres` crate: call it from blocking
//! threads, never from an async task.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

mod accounts;
mod cases;
mod panoramas;
mod sensors;
mod visits;

use geo::MultiPolygon;
use gridgov_app::accounts::{AuditEntry, AuditQuery, TokenRecord, User};
use gridgov_app::{
    AccountStore, Append, AppendError, AuditRecord, AuditStore, BoundaryStore, CaseStep, CaseStore,
    Change, DistrictStore, DraftRecord, DraftStatus, GridRecord, GridVersion, HouseholdStore,
    Publication, PublishError, Revoke, StoreError, StoredIncident, UnitChange, UserRecord,
    VersionInfo, VisitStore,
};
use gridgov_spatial::{
    Area, AreaId, Building, BuildingId, Camera, Date, District, GridKind, Household, HouseholdId,
    Incident, Level, Merchant, Staff, Timestamp, Unit, UnitId,
};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls};

use crate::StorageError;
use crate::gpkg::versions::{HistoryRow, VersionRow, draft_of, draft_status_columns, to_record};
use crate::wkb;

/// The channel publishes are announced on; the payload is the version.
pub const CHANNEL: &str = "gridgov_versions";

/// Key of the advisory lock that serialises creating the schema.
const CREATE_LOCK: i64 = 0x0067_7269_6467_6f76; // "gridgov"

fn pg(what: &str) -> impl Fn(postgres::Error) -> StorageError + '_ {
    move |source| StorageError::Postgres {
        what: what.to_string(),
        source,
    }
}

fn corrupt(what: impl std::fmt::Display, e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("{what}: {e}"))
}

const NO_PARAMS: [&(dyn ToSql + Sync); 0] = [];

/// Connections kept open per store (one per concurrent request; the
/// listener has its own).
pub const POOL_SIZE: u32 = 8;

type Pool = r2d2::Pool<r2d2_postgres::PostgresConnectionManager<NoTls>>;

/// The store in a PostgreSQL database with PostGIS, over a pool of
/// connections (r2d2).
pub struct PgStore {
    url: String,
    /// Names this store's writes in notifications, so that its own
    /// listener skips them.
    origin: String,
    /// `None` only while being dropped.
    pool: Option<Pool>,
}

impl Drop for PgStore {
    /// Closing connections blocks; inside an async runtime that must
    /// happen on another thread.
    fn drop(&mut self) {
        if let Some(p) = self.pool.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::Builder::new().spawn(move || drop(p));
            } else {
                drop(p);
            }
        }
    }
}

/// A pool over `url`, opening one connection now to check it.
fn pool(url: &str) -> Result<Pool, StorageError> {
    let mut config: postgres::Config = url.parse().map_err(pg("read the URL"))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    // One direct connection first: the pool would wait out its timeout and
    // then say only "error connecting"; this says why (refused, no such
    // database, a wrong password) at once.
    drop(config.connect(NoTls).map_err(pg("connect"))?);
    let manager = r2d2_postgres::PostgresConnectionManager::new(config, NoTls);
    r2d2::Pool::builder()
        .max_size(POOL_SIZE)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(manager)
        .map_err(|source| StorageError::Pool {
            what: "connect".into(),
            source,
        })
}

impl PgStore {
    /// Connects to `url` once and asks the database to answer.
    pub fn ping(url: &str) -> Result<(), StorageError> {
        let mut config: postgres::Config = url.parse().map_err(pg("read the URL"))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let mut c = config.connect(NoTls).map_err(pg("connect"))?;
        c.simple_query("SELECT 1").map_err(pg("query"))?;
        Ok(())
    }

    /// Connects to `url` (`postgres://user:password@host:port/db`) and
    /// creates gridgov's tables from `seed` (a district JSON file) when the
    /// database has none yet, its boundaries published as version 1 at
    /// `now`. Safe when several replicas start at once.
    pub fn open_or_create(
        url: &str,
        seed: &std::path::Path,
        now: Timestamp,
    ) -> Result<(Self, bool), StorageError> {
        let pool = pool(url)?;
        let mut appends = Vec::new();
        let created = {
            let mut client = pool.get().map_err(|source| StorageError::Pool {
                what: "connect".into(),
                source,
            })?;
            let created = if exists(&mut client)? {
                false
            } else {
                let d = crate::district_file::load(seed)?;
                let created = create(&mut client, &d, now)?;
                if created {
                    appends = crate::sample_appends(&d);
                }
                created
            };
            cases::ensure_schema(&mut client)?;
            accounts::ensure_schema(&mut client)?;
            visits::ensure_schema(&mut client)?;
            sensors::ensure_schema(&mut client)?;
            panoramas::ensure_schema(&mut client)?;
            ensure_basemap(&mut client)?;
            created
        };
        let store = PgStore {
            url: url.to_string(),
            origin: origin(),
            pool: Some(pool),
        };
        if !appends.is_empty() {
            store
                .append_steps(&appends)
                .map_err(|e| StorageError::Corrupt(format!("the sample's case histories: {e}")))?;
        }
        Ok((store, created))
    }

    /// Creates gridgov's tables holding `d` in an empty database (for
    /// `gridgov import` and tests), its boundaries published as version 1
    /// at `now`; `false` when they already exist.
    pub fn create_in(url: &str, d: &District, now: Timestamp) -> Result<bool, StorageError> {
        let mut client = Client::connect(url, NoTls).map_err(pg("connect"))?;
        create(&mut client, d, now)
    }

    /// Replaces the base map (roads, water, place names) of the district
    /// in the database at `url` with `features`, in one transaction.
    pub fn replace_basemap_in(
        url: &str,
        features: &[gridgov_spatial::MapFeature],
    ) -> Result<(), StorageError> {
        let mut client = Client::connect(url, NoTls).map_err(pg("connect"))?;
        if !exists(&mut client)? {
            return Err(StorageError::Corrupt(
                "that database holds no gridgov district yet".into(),
            ));
        }
        ensure_basemap(&mut client)?;
        let mut tx = client.transaction().map_err(pg("begin"))?;
        tx.batch_execute("DELETE FROM basemap")
            .map_err(pg("clear the base map"))?;
        copy_basemap(&mut tx, &features.iter().collect::<Vec<_>>())?;
        tx.commit().map_err(pg("commit"))
    }

    /// A connection from the pool (a broken one is replaced).
    fn client(
        &self,
    ) -> Result<r2d2::PooledConnection<r2d2_postgres::PostgresConnectionManager<NoTls>>, StorageError>
    {
        self.pool
            .as_ref()
            .ok_or_else(|| StorageError::Corrupt("the store is closing".into()))?
            .get()
            .map_err(|source| StorageError::Pool {
                what: "take a connection".into(),
                source,
            })
    }
}

/// The URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = url[s + 3..at].split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..s + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

fn exists(c: &mut Client) -> Result<bool, StorageError> {
    let row = c
        .query_one("SELECT to_regclass('boundary_versions') IS NOT NULL", &[])
        .map_err(pg("inspect schema"))?;
    Ok(row.get(0))
}

fn area_ddl(t: &str) -> String {
    format!(
        "CREATE TABLE {t} (fid bigserial PRIMARY KEY, geom geometry(MultiPolygon, 4326), code text NOT NULL UNIQUE,
           name text NOT NULL, kind text, parent_code text, institution text, staff text NOT NULL DEFAULT '[]');
         CREATE INDEX {t}_geom ON {t} USING gist (geom);"
    )
}

const DDL: &str = "
CREATE TABLE gridgov_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE buildings (fid bigint PRIMARY KEY, geom geometry(MultiPolygon, 4326), code text NOT NULL,
  address text NOT NULL DEFAULT '', floors integer NOT NULL DEFAULT 0, source text, leaders text);
CREATE TABLE units (fid bigint PRIMARY KEY, geom geometry(Point, 4326) NOT NULL,
  building_fid bigint NOT NULL REFERENCES buildings, label text NOT NULL, households integer NOT NULL DEFAULT 0);
CREATE TABLE households (fid bigint PRIMARY KEY, unit_fid bigint NOT NULL REFERENCES units, room text NOT NULL,
  headcount integer NOT NULL, head_name text, phone text, id_number text);
CREATE TABLE merchants (fid bigint PRIMARY KEY, geom geometry(Point, 4326) NOT NULL, name text NOT NULL,
  category text NOT NULL, address text NOT NULL DEFAULT '');
CREATE TABLE cameras (fid bigint PRIMARY KEY, geom geometry(Point, 4326) NOT NULL, heading_deg double precision NOT NULL,
  fov_deg double precision NOT NULL, range_m double precision NOT NULL);
CREATE TABLE incidents (fid bigint PRIMARY KEY, geom geometry(Point, 4326) NOT NULL, reported_at text NOT NULL,
  category text NOT NULL, source text NOT NULL, status text NOT NULL, description text NOT NULL DEFAULT '', filed_by text, reporter text);
CREATE TABLE boundary_versions (version bigint PRIMARY KEY, author text NOT NULL, published_at text NOT NULL,
  reason text NOT NULL, effective_date text NOT NULL, rollback_of bigint);
CREATE TABLE grid_history (fid bigserial PRIMARY KEY, geom geometry(MultiPolygon, 4326),
  version bigint NOT NULL REFERENCES boundary_versions, code text NOT NULL, name text NOT NULL, kind text NOT NULL,
  parent_code text, institution text, staff text NOT NULL DEFAULT '[]', removed boolean NOT NULL DEFAULT false);
CREATE INDEX grid_history_code ON grid_history (code, version);
CREATE TABLE drafts (id text PRIMARY KEY, created_at text NOT NULL, body text NOT NULL, status text NOT NULL,
  published_version bigint);
";

/// The base map (roads, water, place names); created when missing, so a
/// database from an earlier version takes one.
const BASEMAP_DDL: &str = "
CREATE TABLE IF NOT EXISTS basemap (fid bigint PRIMARY KEY, geom geometry(Geometry, 4326) NOT NULL,
  kind text NOT NULL, class text NOT NULL, name text NOT NULL DEFAULT '', source text);
CREATE INDEX IF NOT EXISTS basemap_geom ON basemap USING gist (geom);
";

/// Creates the base-map table when missing (under the schema lock).
fn ensure_basemap(c: &mut Client) -> Result<(), StorageError> {
    let mut tx = c.transaction().map_err(pg("begin base map"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&0x6361_7365_i64])
        .map_err(pg("lock schema"))?;
    tx.batch_execute(BASEMAP_DDL)
        .map_err(pg("create the base map table"))?;
    tx.commit().map_err(pg("commit base map"))
}

fn copy_basemap<C: GenericClient>(
    c: &mut C,
    features: &[&gridgov_spatial::MapFeature],
) -> Result<(), StorageError> {
    copy(
        c,
        "basemap",
        "fid, geom, kind, class, name, source",
        features.len(),
        |i, r| {
            let f = features[i];
            r.num(i + 1)
                .geom(&wkb::shape_ewkb(&f.shape))
                .text(f.kind.as_str())
                .text(&f.class)
                .text(&f.name)
                .opt(f.source.as_deref());
        },
    )
}

const INDEXES: &str = "
CREATE INDEX buildings_geom ON buildings USING gist (geom);
CREATE INDEX units_geom ON units USING gist (geom);
CREATE INDEX units_building ON units (building_fid);
CREATE INDEX households_unit ON households (unit_fid);
CREATE INDEX merchants_geom ON merchants USING gist (geom);
CREATE INDEX cameras_geom ON cameras USING gist (geom);
CREATE INDEX incidents_geom ON incidents USING gist (geom);
";

/// Rows for `COPY … FROM STDIN` in text format, flushed in chunks.
struct CopyRows {
    buf: Vec<u8>,
    row_start: bool,
}

impl CopyRows {
    fn new() -> Self {
        CopyRows {
            buf: Vec::with_capacity(1 << 20),
            row_start: true,
        }
    }
    fn sep(&mut self) {
        if !self.row_start {
            self.buf.push(b'\t');
        }
        self.row_start = false;
    }
    fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        for b in s.bytes() {
            match b {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                _ => self.buf.push(b),
            }
        }
        self
    }
    fn opt(&mut self, s: Option<&str>) -> &mut Self {
        if let Some(s) = s {
            return self.text(s);
        }
        self.sep();
        self.buf.extend_from_slice(b"\\N");
        self
    }
    fn num(&mut self, v: impl std::fmt::Display) -> &mut Self {
        self.sep();
        let _ = write!(WriteBuf(&mut self.buf), "{v}");
        self
    }
    /// Geometry as hex EWKB, which PostGIS's input function reads.
    fn geom(&mut self, ewkb: &[u8]) -> &mut Self {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        self.sep();
        for b in ewkb {
            self.buf.push(HEX[usize::from(b >> 4)]);
            self.buf.push(HEX[usize::from(b & 15)]);
        }
        self
    }
    fn end(&mut self) {
        self.buf.push(b'\n');
        self.row_start = true;
    }
}

struct WriteBuf<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for WriteBuf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Streams `n` rows made by `row` into `COPY table (cols) FROM STDIN`.
fn copy<C: GenericClient>(
    c: &mut C,
    table: &str,
    cols: &str,
    n: usize,
    mut row: impl FnMut(usize, &mut CopyRows),
) -> Result<(), StorageError> {
    let what = format!("load {table}");
    let mut w = c
        .copy_in(&format!("COPY {table} ({cols}) FROM STDIN"))
        .map_err(pg(&what))?;
    let mut rows = CopyRows::new();
    for i in 0..n {
        row(i, &mut rows);
        rows.end();
        if rows.buf.len() > 1 << 20 {
            w.write_all(&rows.buf).map_err(|source| StorageError::Io {
                path: table.into(),
                source,
            })?;
            rows.buf.clear();
        }
    }
    w.write_all(&rows.buf).map_err(|source| StorageError::Io {
        path: table.into(),
        source,
    })?;
    w.finish().map_err(pg(&what))?;
    Ok(())
}

/// Creates the schema and loads `d`, all in one transaction; `false` when
/// another process created it first.
fn create(c: &mut Client, d: &District, now: Timestamp) -> Result<bool, StorageError> {
    let mut tx = c.transaction().map_err(pg("begin"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CREATE_LOCK])
        .map_err(pg("lock"))?;
    let taken: bool = tx
        .query_one("SELECT to_regclass('boundary_versions') IS NOT NULL", &[])
        .map_err(pg("inspect schema"))?
        .get(0);
    if taken {
        return Ok(false);
    }
    tx.batch_execute("CREATE EXTENSION IF NOT EXISTS postgis")
        .map_err(pg("enable PostGIS (CREATE EXTENSION postgis)"))?;
    let mut ddl = String::new();
    for t in ["streets", "communities", "grids"] {
        ddl.push_str(&area_ddl(t));
    }
    ddl.push_str(DDL);
    tx.batch_execute(&ddl).map_err(pg("create tables"))?;
    for (k, v) in [
        ("name", d.name.as_str()),
        ("attribution", d.attribution.as_str()),
        ("schema_version", crate::gpkg::schema::SCHEMA_VERSION),
    ] {
        tx.execute("INSERT INTO gridgov_meta VALUES ($1, $2)", &[&k, &v])
            .map_err(pg("write meta"))?;
    }
    if !d.roles.is_default() {
        tx.execute(
            "INSERT INTO gridgov_meta VALUES ($1, $2)",
            &[&crate::ROLES_KEY, &crate::roles_text(&d.roles)],
        )
        .map_err(pg("write meta"))?;
    }
    for (level, table) in [
        (Level::Street, "streets"),
        (Level::Community, "communities"),
        (Level::Grid, "grids"),
    ] {
        let areas: Vec<&Area> = d.areas.iter().filter(|a| a.level == level).collect();
        copy(
            &mut tx,
            table,
            "geom, code, name, kind, parent_code, institution, staff",
            areas.len(),
            |i, r| {
                let a = areas[i];
                let parent = a.parent.map(|p| d.area(p).code.as_str());
                r.geom(&wkb::multi_polygon_ewkb(&a.boundary))
                    .text(&a.code)
                    .text(&a.name)
                    .opt(a.kind.map(GridKind::as_str))
                    .opt(parent)
                    .opt(a.institution.as_deref())
                    .text(&serde_json::to_string(&a.staff).unwrap_or_else(|_| "[]".into()));
            },
        )?;
    }
    copy(
        &mut tx,
        "buildings",
        "fid, geom, code, address, floors, source, leaders",
        d.buildings.len(),
        |i, r| {
            let b = &d.buildings[i];
            r.num(i + 1)
                .geom(&wkb::multi_polygon_ewkb(&b.footprint))
                .text(&b.code)
                .text(&b.address)
                .num(b.floors)
                .opt(b.source.as_deref())
                .opt(crate::leaders_text(&b.leaders).as_deref());
        },
    )?;
    copy(
        &mut tx,
        "units",
        "fid, geom, building_fid, label, households",
        d.units.len(),
        |i, r| {
            let u = &d.units[i];
            r.num(i + 1)
                .geom(&wkb::point_ewkb(u.location))
                .num(u.building.0 + 1)
                .text(&u.label)
                .num(u.households);
        },
    )?;
    copy(
        &mut tx,
        "households",
        "fid, unit_fid, room, headcount, head_name, phone, id_number",
        d.households.len(),
        |i, r| {
            let h = &d.households[i];
            r.num(i + 1)
                .num(h.unit.0 + 1)
                .text(&h.room)
                .num(h.headcount)
                .opt(h.head_name.as_deref())
                .opt(h.phone.as_deref())
                .opt(h.id_number.as_deref());
        },
    )?;
    copy(
        &mut tx,
        "merchants",
        "fid, geom, name, category, address",
        d.merchants.len(),
        |i, r| {
            let m = &d.merchants[i];
            r.num(i + 1)
                .geom(&wkb::point_ewkb(m.location))
                .text(&m.name)
                .text(&m.category)
                .text(&m.address);
        },
    )?;
    copy(
        &mut tx,
        "cameras",
        "fid, geom, heading_deg, fov_deg, range_m",
        d.cameras.len(),
        |i, r| {
            let c = &d.cameras[i];
            r.num(i + 1)
                .geom(&wkb::point_ewkb(c.location))
                .num(c.heading_deg)
                .num(c.fov_deg)
                .num(c.range_m);
        },
    )?;
    copy(
        &mut tx,
        "incidents",
        "fid, geom, reported_at, category, source, status, description, filed_by, reporter",
        d.incidents.len(),
        |i, r| {
            let x = &d.incidents[i];
            r.num(i + 1)
                .geom(&wkb::point_ewkb(x.location))
                .text(&crate::time_text(x.reported_at))
                .text(&x.category)
                .text(x.source.as_str())
                .text(x.status.as_str())
                .text(&x.description)
                .opt(x.filed_by.as_deref())
                .opt(crate::reporter_text(x.reporter.as_deref()).as_deref());
        },
    )?;
    tx.batch_execute(BASEMAP_DDL)
        .map_err(pg("create the base map table"))?;
    copy_basemap(&mut tx, &d.basemap.iter().collect::<Vec<_>>())?;
    tx.batch_execute(INDEXES).map_err(pg("create indexes"))?;
    tx.execute(
        "INSERT INTO boundary_versions VALUES (1, 'gridgov', $1, 'initial boundaries', '1970-01-01', NULL)",
        &[&crate::time_text(now)],
    )
    .map_err(pg("record version 1"))?;
    for g in d.grids() {
        insert_history(&mut tx, 1, &GridRecord::from_district(d, &d.area(g).code))?;
    }
    tx.batch_execute("ANALYZE").map_err(pg("analyze"))?;
    tx.commit().map_err(pg("commit"))?;
    Ok(true)
}

fn insert_history<C: GenericClient>(
    c: &mut C,
    version: i64,
    r: &GridRecord,
) -> Result<(), StorageError> {
    let geom = r.boundary.as_ref().map(wkb::multi_polygon_ewkb);
    let staff = serde_json::to_string(&r.staff).unwrap_or_else(|_| "[]".into());
    c.execute(
        "INSERT INTO grid_history (geom, version, code, name, kind, parent_code, institution, staff, removed)
         VALUES (ST_GeomFromEWKB($1), $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &geom,
            &version,
            &r.code,
            &r.name,
            &r.kind.as_str(),
            &r.parent_code,
            &r.institution,
            &staff,
            &r.boundary.is_none(),
        ],
    )
    .map_err(pg("record grid history"))?;
    Ok(())
}

/// Runs `sql` and hands each row to `f`, streaming (a city's 28 M
/// households never sit in memory as rows).
fn each_row(
    c: &mut Client,
    sql: &str,
    mut f: impl FnMut(&postgres::Row) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    let what = sql.split(" FROM ").nth(1).unwrap_or(sql);
    let what = format!("read {}", what.split_whitespace().next().unwrap_or(""));
    let mut rows = c.query_raw(sql, NO_PARAMS).map_err(pg(&what))?;
    while let Some(row) = rows.next().map_err(pg(&what))? {
        f(&row)?;
    }
    Ok(())
}

fn geom_mp(b: Option<&[u8]>, what: &str) -> Result<MultiPolygon<f64>, StorageError> {
    b.map_or_else(
        || Ok(MultiPolygon::new(vec![])),
        |b| wkb::read_multi_polygon_wkb(b).map_err(|e| corrupt(what, e)),
    )
}

fn geom_pt(b: &[u8], what: &str) -> Result<geo::Point<f64>, StorageError> {
    wkb::read_point_wkb(b).map_err(|e| corrupt(what, e))
}

fn int<T: TryFrom<i32>>(v: i32, what: &str) -> Result<T, StorageError> {
    T::try_from(v).map_err(|_| corrupt(what, format!("{v} is out of range")))
}

fn reference(fid: i64, n: usize, what: &str) -> Result<u32, StorageError> {
    usize::try_from(fid - 1)
        .ok()
        .filter(|&i| i < n)
        .and_then(|i| u32::try_from(i).ok())
        .ok_or_else(|| {
            corrupt(
                what,
                format!("reference to fid {fid}, which does not exist"),
            )
        })
}

fn load(c: &mut Client) -> Result<District, StorageError> {
    let mut meta = HashMap::new();
    each_row(c, "SELECT key, value FROM gridgov_meta", |r| {
        meta.insert(r.get::<_, String>(0), r.get::<_, String>(1));
        Ok(())
    })?;
    let mut d = District::new(meta.remove("name").unwrap_or_default());
    d.attribution = meta.remove("attribution").unwrap_or_default();
    d.roles = crate::read_roles(meta.remove(crate::ROLES_KEY))?;
    let mut codes: HashMap<String, AreaId> = HashMap::new();
    let mut parents: Vec<(AreaId, String)> = Vec::new();
    for (level, table) in [
        (Level::Street, "streets"),
        (Level::Community, "communities"),
        (Level::Grid, "grids"),
    ] {
        let sql = format!(
            "SELECT fid, ST_AsBinary(geom), code, name, kind, parent_code, institution, staff FROM {table} ORDER BY fid"
        );
        each_row(c, &sql, |r| {
            let what = format!("{table} fid {}", r.get::<_, i64>(0));
            let code: String = r.get(2);
            let mut a = Area::new(level, code.clone(), r.get::<_, String>(3));
            a.boundary = geom_mp(r.get(1), &what)?;
            if level == Level::Grid {
                let kind: Option<String> = r.get(4);
                a.kind = Some(match kind {
                    Some(k) => crate::gpkg::schema::parse_enum(&k, &what)?,
                    None => GridKind::Basic,
                });
            }
            a.institution = r.get(6);
            a.staff = serde_json::from_str(r.get(7)).map_err(|e| corrupt(&what, e))?;
            let id = d.add_area(a);
            codes.insert(code, id);
            if let Some(p) = r.get::<_, Option<String>>(5) {
                parents.push((id, p));
            }
            Ok(())
        })?;
    }
    for (id, p) in parents {
        d.areas[id.index()].parent = codes.get(&p).copied();
    }
    let mut buildings = Vec::new();
    each_row(
        c,
        "SELECT fid, ST_AsBinary(geom), code, address, floors, source, leaders FROM buildings ORDER BY fid",
        |r| {
            let what = format!("buildings fid {}", r.get::<_, i64>(0));
            buildings.push(Building {
                footprint: geom_mp(r.get(1), &what)?,
                code: r.get(2),
                address: r.get(3),
                floors: int(r.get(4), &what)?,
                source: r.get(5),
                leaders: crate::read_leaders(r.get(6), &what)?,
            });
            Ok(())
        },
    )?;
    d.buildings = buildings.into();
    let nb = d.buildings.len();
    let mut units = Vec::new();
    each_row(
        c,
        "SELECT fid, ST_AsBinary(geom), building_fid, label, households FROM units ORDER BY fid",
        |r| {
            let what = format!("units fid {}", r.get::<_, i64>(0));
            units.push(Unit {
                building: BuildingId(reference(r.get(2), nb, &what)?),
                label: r.get(3),
                location: geom_pt(r.get(1), &what)?,
                households: int(r.get(4), &what)?,
            });
            Ok(())
        },
    )?;
    d.units = units.into();
    let nu = d.units.len();
    let mut households = Vec::new();
    each_row(
        c,
        "SELECT fid, unit_fid, room, headcount, head_name, phone, id_number FROM households ORDER BY fid",
        |r| {
            let what = format!("households fid {}", r.get::<_, i64>(0));
            households.push(Household {
                unit: UnitId(reference(r.get(1), nu, &what)?),
                room: r.get(2),
                headcount: int(r.get(3), &what)?,
                head_name: r.get(4),
                phone: r.get(5),
                id_number: r.get(6),
            });
            Ok(())
        },
    )?;
    d.households = households.into();
    let mut merchants = Vec::new();
    each_row(
        c,
        "SELECT fid, ST_AsBinary(geom), name, category, address FROM merchants ORDER BY fid",
        |r| {
            let what = format!("merchants fid {}", r.get::<_, i64>(0));
            merchants.push(Merchant {
                location: geom_pt(r.get(1), &what)?,
                name: r.get(2),
                category: r.get(3),
                address: r.get(4),
            });
            Ok(())
        },
    )?;
    d.merchants = merchants.into();
    let mut cameras = Vec::new();
    each_row(
        c,
        "SELECT fid, ST_AsBinary(geom), heading_deg, fov_deg, range_m FROM cameras ORDER BY fid",
        |r| {
            let what = format!("cameras fid {}", r.get::<_, i64>(0));
            cameras.push(Camera {
                location: geom_pt(r.get(1), &what)?,
                heading_deg: r.get(2),
                fov_deg: r.get(3),
                range_m: r.get(4),
            });
            Ok(())
        },
    )?;
    d.cameras = cameras.into();
    let has_basemap: bool = c
        .query_one("SELECT to_regclass('basemap') IS NOT NULL", &[])
        .map_err(pg("inspect schema"))?
        .get(0);
    if has_basemap {
        let mut basemap = Vec::new();
        each_row(
            c,
            "SELECT fid, ST_AsBinary(geom), kind, class, name, source FROM basemap ORDER BY fid",
            |r| {
                let what = format!("basemap fid {}", r.get::<_, i64>(0));
                basemap.push(gridgov_spatial::MapFeature {
                    shape: wkb::read_shape_wkb(r.get(1)).map_err(|e| corrupt(&what, e))?,
                    kind: r
                        .get::<_, &str>(2)
                        .parse()
                        .map_err(|e: String| corrupt(&what, e))?,
                    class: r.get(3),
                    name: r.get(4),
                    source: r.get(5),
                });
                Ok(())
            },
        )?;
        d.basemap = basemap.into();
    }
    let mut incidents = Vec::new();
    each_row(
        c,
        "SELECT fid, ST_AsBinary(geom), reported_at, category, source, status, description, filed_by, reporter FROM incidents ORDER BY fid",
        |r| {
            let what = format!("incidents fid {}", r.get::<_, i64>(0));
            incidents.push(Incident {
                location: geom_pt(r.get(1), &what)?,
                reported_at: crate::read_time(r.get(2), &what)?,
                category: r.get(3),
                source: crate::gpkg::schema::parse_enum(r.get::<_, &str>(4), &what)?,
                status: crate::gpkg::schema::parse_enum(r.get::<_, &str>(5), &what)?,
                description: r.get(6),
                filed_by: r.get(7),
                reporter: crate::read_reporter(r.get(8), &what)?,
            });
            Ok(())
        },
    )?;
    d.incidents = incidents.into();
    Ok(d)
}

fn grid_versions<C: GenericClient>(c: &mut C) -> Result<HashMap<String, i64>, StorageError> {
    let rows = c
        .query(
            "SELECT code, max(version) FROM grid_history GROUP BY code",
            &[],
        )
        .map_err(pg("read grid versions"))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

fn latest<C: GenericClient>(c: &mut C) -> Result<i64, StorageError> {
    c.query_one(
        "SELECT coalesce(max(version), 0)::bigint FROM boundary_versions",
        &[],
    )
    .map(|r| r.get(0))
    .map_err(pg("read latest version"))
}

const HISTORY_COLS: &str = "version, ST_AsBinary(geom), code, name, kind, parent_code, institution, staff, removed::int::int8";

fn history_row(r: &postgres::Row) -> HistoryRow {
    (
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
        r.get(7),
        r.get(8),
    )
}

fn publish(c: &mut Client, p: &Publication) -> Result<VersionInfo, PublishError> {
    let mut tx = c.transaction().map_err(pg("begin publish"))?;
    // One publisher at a time across every replica; readers are not blocked.
    tx.batch_execute("LOCK TABLE boundary_versions IN EXCLUSIVE MODE")
        .map_err(pg("lock versions"))?;
    if let Some(id) = &p.draft
        && let Some(DraftStatus::Published(v)) = load_draft(&mut tx, id)?.map(|d| d.status)
    {
        return Err(PublishError::AlreadyPublished(v));
    }
    let current = grid_versions(&mut tx)?;
    let conflicts = p.conflicts(&current);
    if !conflicts.is_empty() {
        return Err(PublishError::Conflict(conflicts));
    }
    let version = latest(&mut tx)? + 1;
    tx.execute(
        "INSERT INTO boundary_versions VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &version,
            &p.author,
            &crate::time_text(p.published_at),
            &p.reason,
            &p.effective_date.to_string(),
            &p.rollback_of,
        ],
    )
    .map_err(pg("record version"))?;
    for r in &p.records {
        insert_history(&mut tx, version, r)?;
        match &r.boundary {
            None => {
                tx.execute("DELETE FROM grids WHERE code = $1", &[&r.code])
                    .map_err(pg("remove grid"))?;
            }
            Some(b) => {
                let staff = serde_json::to_string(&r.staff).unwrap_or_else(|_| "[]".into());
                tx.execute(
                    "INSERT INTO grids (geom, code, name, kind, parent_code, institution, staff)
                     VALUES (ST_GeomFromEWKB($1), $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (code) DO UPDATE SET geom = EXCLUDED.geom, name = EXCLUDED.name, kind = EXCLUDED.kind,
                       parent_code = EXCLUDED.parent_code, institution = EXCLUDED.institution, staff = EXCLUDED.staff",
                    &[
                        &wkb::multi_polygon_ewkb(b),
                        &r.code,
                        &r.name,
                        &r.kind.as_str(),
                        &r.parent_code,
                        &r.institution,
                        &staff,
                    ],
                )
                .map_err(pg("write grid"))?;
            }
        }
    }
    if let Some(id) = &p.draft {
        tx.execute(
            "UPDATE drafts SET status = 'published', published_version = $2 WHERE id = $1",
            &[id, &version],
        )
        .map_err(pg("mark draft"))?;
    }
    // Delivered to every listener when (and only if) the transaction commits.
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&CHANNEL, &version.to_string()],
    )
    .map_err(pg("notify"))?;
    tx.commit().map_err(pg("commit publish"))?;
    Ok(p.info(version))
}

fn load_draft<C: GenericClient>(c: &mut C, id: &str) -> Result<Option<DraftRecord>, StorageError> {
    c.query_opt(
        "SELECT created_at, body, status, published_version FROM drafts WHERE id = $1",
        &[&id],
    )
    .map_err(pg("load draft"))?
    .map(|r| draft_of(id, r.get(0), r.get(1), r.get(2), r.get(3)))
    .transpose()
}

impl PgStore {
    /// The district as stored (current boundaries).
    pub fn load_district(&self) -> Result<District, StorageError> {
        load(&mut *self.client()?)
    }
}

impl DistrictStore for PgStore {
    fn load(&self) -> Result<District, StoreError> {
        Ok(self.load_district()?)
    }

    fn describe(&self) -> String {
        format!("PostGIS {}", redact(&self.url))
    }
}

impl BoundaryStore for PgStore {
    fn grid_versions(&self) -> Result<HashMap<String, i64>, StoreError> {
        Ok(grid_versions(&mut *self.client()?)?)
    }

    fn latest_version(&self) -> Result<i64, StoreError> {
        Ok(latest(&mut *self.client()?)?)
    }

    fn publish(&self, p: &Publication) -> Result<VersionInfo, PublishError> {
        publish(&mut *self.client()?, p)
    }

    fn versions(&self) -> Result<Vec<VersionInfo>, StoreError> {
        let mut c = self.client()?;
        let mut grids: HashMap<i64, Vec<String>> = HashMap::new();
        for r in c
            .query(
                "SELECT version, code FROM grid_history ORDER BY version, code",
                &[],
            )
            .map_err(pg("read history"))?
        {
            grids.entry(r.get(0)).or_default().push(r.get(1));
        }
        let rows = c
            .query("SELECT version, author, published_at, reason, effective_date, rollback_of FROM boundary_versions ORDER BY version", &[])
            .map_err(pg("read versions"))?;
        Ok(rows
            .iter()
            .map(|r| {
                let version: i64 = r.get(0);
                VersionRow {
                    version,
                    author: r.get(1),
                    published_at: r.get(2),
                    reason: r.get(3),
                    effective_date: r.get(4),
                    rollback_of: r.get(5),
                }
                .into_info(grids.remove(&version).unwrap_or_default())
            })
            .collect::<Result<_, _>>()?)
    }

    fn grid_history(&self, code: &str) -> Result<Vec<GridVersion>, StoreError> {
        let rows = self
            .client()?
            .query(
                &format!(
                    "SELECT {HISTORY_COLS} FROM grid_history WHERE code = $1 ORDER BY version"
                ),
                &[&code],
            )
            .map_err(pg("read grid history"))?;
        Ok(rows
            .iter()
            .map(|r| to_record(history_row(r), wkb::read_multi_polygon_wkb))
            .collect::<Result<_, _>>()?)
    }

    fn grids_at(&self, version: i64) -> Result<Vec<GridRecord>, StoreError> {
        let rows = self
            .client()?
            .query(
                &format!(
                    "SELECT {HISTORY_COLS} FROM (SELECT DISTINCT ON (code) * FROM grid_history
                     WHERE version <= $1 ORDER BY code, version DESC) h ORDER BY fid"
                ),
                &[&version],
            )
            .map_err(pg("read grids at version"))?;
        let mut out = Vec::new();
        for r in &rows {
            let rec = to_record(history_row(r), wkb::read_multi_polygon_wkb)?.record;
            if rec.boundary.is_some() {
                out.push(rec);
            }
        }
        Ok(out)
    }

    fn version_on(&self, date: Date) -> Result<Option<i64>, StoreError> {
        Ok(self
            .client()?
            .query_one(
                "SELECT max(version) FROM boundary_versions WHERE effective_date <= $1",
                &[&date.to_string()],
            )
            .map(|r| r.get(0))
            .map_err(pg("find version in force"))?)
    }

    fn save_draft(&self, d: &DraftRecord) -> Result<(), StoreError> {
        let (status, v) = draft_status_columns(d.status);
        self.client()?
            .execute(
                "INSERT INTO drafts VALUES ($1, $2, $3, $4, $5)",
                &[&d.id, &crate::time_text(d.created_at), &d.body, &status, &v],
            )
            .map_err(pg("save draft"))?;
        Ok(())
    }

    fn load_draft(&self, id: &str) -> Result<Option<DraftRecord>, StoreError> {
        Ok(load_draft(&mut *self.client()?, id)?)
    }

    /// Listens for the writes of other replicas on its own connection:
    /// publishes (the latest version, at once on a notification and every
    /// second in any case) and incidents written (their ids, at once; all
    /// of them after a reconnection, which may have missed some). Stops
    /// when `on_change` returns `false`.
    fn watch(&self, on_change: Box<dyn Fn(Change) -> bool + Send>) -> Result<(), StoreError> {
        let url = self.url.clone();
        let origin = self.origin.clone();
        std::thread::Builder::new()
            .name("gridgov-listen".into())
            .spawn(move || listen(&url, &origin, &*on_change))
            .map_err(|source| StorageError::Io {
                path: "listener thread".into(),
                source,
            })?;
        Ok(())
    }
}

impl CaseStore for PgStore {
    fn add_incidents(&self, xs: &[Incident]) -> Result<Vec<i64>, StoreError> {
        Ok(cases::add_incidents(
            &mut *self.client()?,
            &self.origin,
            xs,
        )?)
    }

    fn append_steps(&self, batch: &[Append]) -> Result<(), AppendError> {
        cases::append(&mut *self.client()?, &self.origin, batch)
    }

    fn steps(&self, case: Option<i64>) -> Result<Vec<CaseStep>, StoreError> {
        Ok(cases::events(&mut *self.client()?, case)?)
    }

    fn incident(&self, id: i64) -> Result<Option<Incident>, StoreError> {
        Ok(cases::incidents(&mut *self.client()?, Some(id))?
            .pop()
            .map(|x| x.incident))
    }

    fn incidents(&self) -> Result<Vec<StoredIncident>, StoreError> {
        Ok(cases::incidents(&mut *self.client()?, None)?)
    }

    fn incident_revision(&self) -> Result<i64, StoreError> {
        Ok(self
            .client()?
            .query_one(
                "SELECT (SELECT count(*) FROM incidents) + (SELECT count(*) FROM case_events)",
                &[],
            )
            .map_err(pg("count incidents and steps"))?
            .get(0))
    }

    fn dispatched_to(
        &self,
        to: &gridgov_spatial::workflow::Assignee,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(cases::dispatched_to(&mut *self.client()?, to)?)
    }
}

impl AccountStore for PgStore {
    fn users(&self) -> Result<Vec<User>, StoreError> {
        Ok(accounts::users(&mut *self.client()?)?)
    }

    fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(accounts::user(&mut *self.client()?, name)?)
    }

    fn create_user(&self, u: &UserRecord) -> Result<bool, StoreError> {
        Ok(accounts::create_user(&mut *self.client()?, u)?)
    }

    fn update_user(&self, u: &User, password_hash: Option<&str>) -> Result<bool, StoreError> {
        Ok(accounts::update_user(
            &mut *self.client()?,
            u,
            password_hash,
        )?)
    }

    fn add_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        Ok(accounts::add_token(&mut *self.client()?, t)?)
    }

    fn token(&self, digest: &str) -> Result<Option<TokenRecord>, StoreError> {
        Ok(accounts::token(&mut *self.client()?, digest)?)
    }

    fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        Ok(accounts::tokens(&mut *self.client()?, user)?)
    }

    fn revoke_tokens(&self, which: &Revoke, at: Timestamp) -> Result<usize, StoreError> {
        Ok(accounts::revoke_tokens(&mut *self.client()?, which, at)?)
    }
}

impl AuditStore for PgStore {
    fn append_audit(&self, xs: &[AuditEntry]) -> Result<(), StoreError> {
        Ok(accounts::append_audit(&mut *self.client()?, xs)?)
    }

    fn audit_log(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(accounts::audit_log(&mut *self.client()?, q)?)
    }
}

impl gridgov_app::PhotoStore for PgStore {
    fn add_photo(&self, p: &gridgov_app::photos::NewPhoto) -> Result<i64, StoreError> {
        Ok(visits::add_photo(&mut *self.client()?, p)?)
    }

    fn photo_info(&self, id: i64) -> Result<Option<gridgov_app::photos::PhotoInfo>, StoreError> {
        Ok(visits::photo_info(&mut *self.client()?, id)?)
    }

    fn photo_bytes(&self, id: i64, thumb: bool) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(visits::photo_bytes(&mut *self.client()?, id, thumb)?)
    }

    fn photos_of(
        &self,
        owner: gridgov_app::photos::PhotoOwner,
    ) -> Result<Vec<gridgov_app::photos::PhotoInfo>, StoreError> {
        Ok(visits::photos_of(&mut *self.client()?, owner)?)
    }
}

impl gridgov_app::PanoramaStore for PgStore {
    fn add_panorama(&self, p: &gridgov_app::panoramas::NewPanorama) -> Result<i64, StoreError> {
        Ok(panoramas::add(&mut *self.client()?, p)?)
    }

    fn panoramas(&self) -> Result<Vec<gridgov_app::panoramas::PanoramaInfo>, StoreError> {
        Ok(panoramas::all(&mut *self.client()?)?)
    }

    fn panorama_bytes(&self, id: i64, thumb: bool) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(panoramas::bytes(&mut *self.client()?, id, thumb)?)
    }
}

impl gridgov_app::SensorStore for PgStore {
    fn sensors(
        &self,
    ) -> Result<
        Vec<(
            gridgov_spatial::sensors::Sensor,
            gridgov_spatial::sensors::SensorState,
        )>,
        StoreError,
    > {
        Ok(sensors::sensors(&mut *self.client()?)?)
    }

    fn sensor(
        &self,
        code: &str,
    ) -> Result<
        Option<(
            gridgov_spatial::sensors::Sensor,
            gridgov_spatial::sensors::SensorState,
        )>,
        StoreError,
    > {
        Ok(sensors::sensor(&mut *self.client()?, code)?)
    }

    fn put_sensor(&self, s: &gridgov_spatial::sensors::Sensor) -> Result<bool, StoreError> {
        Ok(sensors::put_sensor(&mut *self.client()?, s)?)
    }

    fn record_readings(
        &self,
        code: &str,
        readings: &[(Timestamp, f64)],
        state: &gridgov_spatial::sensors::SensorState,
    ) -> Result<(), StoreError> {
        Ok(sensors::record(
            &mut *self.client()?,
            code,
            readings,
            state,
        )?)
    }

    fn lock_sensor(&self, code: &str) -> Result<Box<dyn std::any::Any>, StoreError> {
        Ok(Box::new(sensors::SensorLock::take(self.client()?, code)?))
    }

    fn readings(
        &self,
        code: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError> {
        Ok(sensors::readings(
            &mut *self.client()?,
            code,
            from,
            to,
            limit,
        )?)
    }
}

impl VisitStore for PgStore {
    fn append_visit(&self, v: &gridgov_app::visits::NewVisit) -> Result<i64, StoreError> {
        Ok(visits::append_visit(&mut *self.client()?, v)?)
    }

    fn visits(
        &self,
        household: HouseholdId,
    ) -> Result<Vec<gridgov_app::visits::Visit>, StoreError> {
        Ok(visits::visits(&mut *self.client()?, household)?)
    }

    fn visits_after(&self, after: i64) -> Result<Vec<gridgov_app::visits::Visit>, StoreError> {
        Ok(visits::visits_after(&mut *self.client()?, after)?)
    }
}

impl HouseholdStore for PgStore {
    fn update_household(&self, id: HouseholdId, h: &Household) -> Result<bool, StoreError> {
        Ok(accounts::update_household(
            &mut *self.client()?,
            &self.origin,
            id,
            h,
        )?)
    }

    fn update_unit(&self, id: UnitId, u: &UnitChange) -> Result<bool, StoreError> {
        Ok(accounts::update_unit(
            &mut *self.client()?,
            &self.origin,
            id,
            u,
        )?)
    }

    fn household(&self, id: HouseholdId) -> Result<Option<Household>, StoreError> {
        Ok(accounts::household(&mut *self.client()?, id)?)
    }

    fn unit_change(&self, id: UnitId) -> Result<Option<UnitChange>, StoreError> {
        Ok(accounts::unit_change(&mut *self.client()?, id)?)
    }

    fn update_building_leaders(
        &self,
        id: BuildingId,
        leaders: &[Staff],
    ) -> Result<bool, StoreError> {
        Ok(accounts::update_building_leaders(
            &mut *self.client()?,
            &self.origin,
            id,
            leaders,
        )?)
    }

    fn building_leaders(&self, id: BuildingId) -> Result<Option<Vec<Staff>>, StoreError> {
        Ok(accounts::building_leaders(&mut *self.client()?, id)?)
    }

    fn set_roles(&self, roles: &gridgov_spatial::Roles) -> Result<(), StoreError> {
        Ok(accounts::set_roles(
            &mut *self.client()?,
            &self.origin,
            roles,
        )?)
    }

    fn roles(&self) -> Result<gridgov_spatial::Roles, StoreError> {
        Ok(accounts::roles(&mut *self.client()?)?)
    }
}

/// A name for one store's writes: random, so two replicas (or two stores
/// in one process) never share it.
fn origin() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

/// What a household or unit notification from another origin than
/// `own` says.
fn household_news(payload: &str, own: &str) -> Option<Change> {
    let (origin, what) = payload.split_once(' ')?;
    if origin == own {
        return None;
    }
    let (kind, i) = what.split_once(':')?;
    let i: u32 = i.parse().ok()?;
    match kind {
        "h" => Some(Change::Household(HouseholdId(i))),
        "u" => Some(Change::Unit(UnitId(i))),
        "b" => Some(Change::Building(BuildingId(i))),
        "r" => Some(Change::Roles),
        _ => None,
    }
}

/// What an incident notification from another origin than `own` says.
fn incident_news(payload: &str, own: &str) -> Option<Change> {
    let (origin, list) = payload.split_once(' ')?;
    if origin == own {
        return None;
    }
    if list == "*" {
        return Some(Change::AllIncidents);
    }
    let ids: Option<Vec<i64>> = list.split(',').map(|x| x.parse().ok()).collect();
    Some(ids.map_or(Change::AllIncidents, Change::Incidents))
}

fn listen(url: &str, own: &str, on_change: &dyn Fn(Change) -> bool) {
    let tick = Duration::from_secs(1);
    let mut first = true;
    loop {
        let mut c = match Client::connect(url, NoTls).and_then(|mut c| {
            c.batch_execute(&format!(
                "LISTEN {CHANNEL}; LISTEN {}; LISTEN {}",
                cases::INCIDENTS_CHANNEL,
                accounts::HOUSEHOLDS_CHANNEL
            ))
            .map(|()| c)
        }) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other replicas' writes; retrying");
                std::thread::sleep(tick);
                if !on_change(Change::Version(0)) {
                    return;
                }
                continue;
            }
        };
        if !first && !on_change(Change::AllIncidents) {
            return;
        }
        first = false;
        loop {
            let note = c.notifications().timeout_iter(tick).next();
            let version = match note {
                Ok(Some(n)) if n.channel() == accounts::HOUSEHOLDS_CHANNEL => {
                    if let Some(change) = household_news(n.payload(), own)
                        && !on_change(change)
                    {
                        return;
                    }
                    continue;
                }
                Ok(Some(n)) if n.channel() == cases::INCIDENTS_CHANNEL => {
                    if let Some(change) = incident_news(n.payload(), own)
                        && !on_change(change)
                    {
                        return;
                    }
                    continue;
                }
                Ok(Some(n)) => n.payload().parse().ok(),
                Ok(None) => None,
                Err(_) => break,
            };
            let version = match version {
                Some(v) => v,
                None => match latest(&mut c) {
                    Ok(v) => v,
                    Err(_) => break,
                },
            };
            if !on_change(Change::Version(version)) {
                return;
            }
        }
        tracing::warn!("lost the listening connection; reconnecting");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{cluster, fresh_database, now};
    use gridgov_spatial::sample::{SampleSpec, district};

    #[test]
    fn incident_news_names_the_ids_of_other_origins_only() {
        assert_eq!(
            incident_news("abc 3,7,12", "me"),
            Some(Change::Incidents(vec![3, 7, 12]))
        );
        assert_eq!(incident_news("me 3,7", "me"), None);
        assert_eq!(incident_news("abc *", "me"), Some(Change::AllIncidents));
        assert_eq!(
            incident_news("abc 3,x", "me"),
            Some(Change::AllIncidents),
            "what cannot be read means: read everything"
        );
        assert_eq!(incident_news("garbled", "me"), None);
        assert_eq!(
            household_news("abc h:12", "me"),
            Some(Change::Household(HouseholdId(12)))
        );
        assert_eq!(
            household_news("abc u:5", "me"),
            Some(Change::Unit(UnitId(5)))
        );
        assert_eq!(household_news("me h:12", "me"), None);
        assert_eq!(household_news("abc x:1", "me"), None);
        assert_ne!(origin(), origin());
    }

    #[test]
    fn a_monitoring_point_held_by_one_replica_waits_for_it_in_another() {
        let Some(cluster) = cluster() else { return };
        let url = fresh_database(&cluster, "sensor_lock");
        let d = district(&SampleSpec {
            incidents: 10,
            ..SampleSpec::default()
        });
        assert!(PgStore::create_in(&url, &d, now()).unwrap());
        let seed = std::path::Path::new("/nonexistent");
        let (one, _) = PgStore::open_or_create(&url, seed, now()).unwrap();
        let (two, _) = PgStore::open_or_create(&url, seed, now()).unwrap();
        let held = gridgov_app::SensorStore::lock_sensor(&one, "WL-01").unwrap();
        // The other replica cannot take it meanwhile; another point it can.
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let g = gridgov_app::SensorStore::lock_sensor(&two, "WL-01").unwrap();
            tx.send(()).unwrap();
            drop(g);
            let other = gridgov_app::SensorStore::lock_sensor(&two, "WL-02");
            assert!(other.is_ok());
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(300))
                .is_err(),
            "the second replica took a point the first holds"
        );
        drop(held);
        rx.recv_timeout(std::time::Duration::from_secs(5))
            .expect("the second replica takes the point once the first lets go");
        waiter.join().unwrap();
    }

    #[test]
    fn visits_are_kept_in_order_and_postgres_refuses_to_change_or_delete_them() {
        let Some(cluster) = cluster() else { return };
        let url = fresh_database(&cluster, "visits");
        let d = district(&SampleSpec::default());
        assert!(PgStore::create_in(&url, &d, now()).unwrap());
        let seed = std::path::Path::new("/nonexistent");
        let (store, _) = PgStore::open_or_create(&url, seed, now()).unwrap();
        let visit = |note: &str| gridgov_app::visits::NewVisit {
            household: HouseholdId(2),
            date: "2026-11-02".into(),
            by: "wang".into(),
            note: note.into(),
            photo: None,
            recorded_at: now(),
        };
        let a = store.append_visit(&visit("first")).unwrap();
        let b = store.append_visit(&visit("second")).unwrap();
        assert!(b > a);
        let got = store.visits(HouseholdId(2)).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].note.as_str(), got[0].household), ("first", 3));
        let mut c = store.client().unwrap();
        for sql in [
            "UPDATE visits SET note = 'forged'",
            "DELETE FROM visits",
            "TRUNCATE visits",
        ] {
            let e = c.batch_execute(sql).unwrap_err();
            assert!(format!("{e:?}").contains("append-only"), "{sql}: {e:?}");
        }
    }

    #[test]
    fn a_district_round_trips_through_postgis_and_two_replicas_share_versions() {
        let Some(cluster) = cluster() else { return };
        let url = fresh_database(&cluster, "roundtrip");
        let mut d = district(&SampleSpec::default());
        // Text that COPY must escape survives.
        d.buildings[0].address = "a\tb\\c\nd\re 楼".into();
        assert!(PgStore::create_in(&url, &d, now()).unwrap());
        assert!(
            !PgStore::create_in(&url, &d, now()).unwrap(),
            "created only once"
        );
        let seed = std::path::Path::new("/nonexistent");
        let (a, created) = PgStore::open_or_create(&url, seed, now()).unwrap();
        assert!(!created);
        let back = a.load().unwrap();
        assert!(back.buildings == d.buildings);
        assert!(back.units == d.units);
        assert!(back.households == d.households);
        assert!(back.merchants == d.merchants);
        assert!(back.cameras == d.cameras);
        assert!(!d.basemap.is_empty() && back.basemap == d.basemap);
        assert!(back.incidents == d.incidents);
        assert_eq!(back.areas.len(), d.areas.len());
        for g in d.grids() {
            let ga = d.area(g);
            let gb = back.area(back.area_by_code(&ga.code).unwrap());
            assert!(ga.boundary == gb.boundary && ga.staff == gb.staff && ga.kind == gb.kind);
            assert_eq!(
                back.area(gb.parent.unwrap()).code,
                d.area(ga.parent.unwrap()).code
            );
        }
        assert_eq!(a.latest_version().unwrap(), 1);
        assert_eq!(a.grid_versions().unwrap().len(), 52);

        // A second replica hears the first one's publish.
        let (b, _) = PgStore::open_or_create(&url, seed, now()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        b.watch(Box::new(move |c| match c {
            Change::Version(v) => tx.send(v).is_ok(),
            _ => true,
        }))
        .unwrap();
        let code = d.area(d.grids().next().unwrap()).code.clone();
        let mut rec = GridRecord::from_district(&d, &code);
        rec.name = "renamed".into();
        b.save_draft(&DraftRecord {
            id: "d1".into(),
            created_at: now(),
            body: "{}".into(),
            status: DraftStatus::Open,
        })
        .unwrap();
        let date = |s: &str| gridgov_spatial::time::parse_date(s).unwrap();
        let p = Publication {
            author: "t".into(),
            reason: "r".into(),
            effective_date: date("2026-01-01"),
            published_at: now(),
            base: [(code.clone(), 1)].into_iter().collect(),
            records: vec![rec.clone()],
            rollback_of: None,
            draft: Some("d1".into()),
        };
        assert_eq!(a.publish(&p).unwrap().version, 2);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let v = rx.recv_timeout(Duration::from_secs(10)).unwrap();
            if v == 2 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no news of version 2");
        }
        // The same base again (without the draft) is a conflict naming the
        // current version.
        let again = Publication {
            draft: None,
            ..p.clone()
        };
        match b.publish(&again) {
            Err(PublishError::Conflict(c)) => assert_eq!(c, vec![(code.clone(), 2)]),
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(b.grid_history(&code).unwrap().len(), 2);
        assert_eq!(b.grids_at(1).unwrap().len(), 52);
        assert!(b.grids_at(2).unwrap().iter().any(|r| r.name == "renamed"));
        assert_eq!(b.version_on(date("2025-12-31")).unwrap(), Some(1));
        assert_eq!(b.version_on(date("2026-01-01")).unwrap(), Some(2));
        assert_eq!(b.versions().unwrap()[1].grids, vec![code]);
        assert_eq!(
            a.load_draft("d1").unwrap().unwrap().status,
            DraftStatus::Published(2),
            "the draft is marked in the publish's transaction"
        );
        assert!(!a.describe().contains("password"));
    }

    #[test]
    fn the_password_is_kept_out_of_logs() {
        assert_eq!(
            redact("postgres://gg:secret@db:5432/x"),
            "postgres://gg@db:5432/x"
        );
        assert_eq!(redact("postgres://gg@db/x"), "postgres://gg@db/x");
        assert_eq!(redact("postgresql:///x"), "postgresql:///x");
    }
}
