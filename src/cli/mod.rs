//! Command-line interface.

mod address;
mod assign;
mod cards;
mod commands;
mod error;
mod import;
mod partition;
mod render;
mod report;
mod roles;
mod serve;
pub mod table;
mod users;
mod validate;
#[cfg(feature = "window")]
mod view;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use commands::run;
pub use error::{CliError, OrInput};

/// Now, by the system's clock (the command line's only clock).
pub(crate) fn now() -> gridgov_spatial::Timestamp {
    gridgov_app::Clock::now(&gridgov_app::SystemClock)
}

/// Grid-based community governance: grids, lookups, validation.
#[derive(Debug, Parser)]
#[command(name = "gridgov", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by commands that read a district.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// The store: a GeoPackage (default data/gridgov.gpkg, created from the
    /// sample district on first use), a `postgres://` URL or a district
    /// JSON file.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (lookup, OGC API – Features, summary).
    Serve {
        /// The store: a GeoPackage file or a `postgres://user@host/db` URL
        /// (PostGIS); created from --seed when missing or empty.
        #[arg(long, value_name = "FILE|URL", default_value = gridgov_storage::DEFAULT_GPKG)]
        db: PathBuf,
        /// District JSON the store is created from.
        #[arg(long, value_name = "FILE", default_value = gridgov_storage::DEFAULT_DISTRICT)]
        seed: PathBuf,
        /// Address to listen on (loopback unless told otherwise).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Largest request body in bytes.
        #[arg(long, default_value_t = 10 * 1024 * 1024)]
        body_limit: usize,
        /// Largest POST /lookup/batch body in bytes (read as it streams in;
        /// a batch takes at most 100,000 points whatever its size).
        #[arg(long, default_value_t = 256 * 1024 * 1024)]
        batch_body_limit: usize,
        /// Requests per second each client address may make on average
        /// (bursts of ten times as many); 0: no limit.
        #[arg(long, default_value_t = 100.0)]
        rate_limit: f64,
        /// Longest a request may take, in seconds.
        #[arg(long, default_value_t = 60)]
        request_timeout: u64,
        /// Seconds a client has to send a request's head, and a kept-alive
        /// connection may stay idle between requests.
        #[arg(long, value_name = "S", default_value_t = 15)]
        header_timeout: u64,
        /// Open connections at most (lowered below the open-file limit,
        /// which is raised to its hard limit at start); past it a new
        /// connection gets a 503 and is closed.
        #[arg(long, value_name = "N", default_value_t = 4096)]
        max_connections: usize,
        /// Open connections one client address may hold; past it a new one
        /// gets a 429 and is closed.
        #[arg(long, value_name = "N", default_value_t = 256)]
        max_connections_per_client: usize,
        /// An origin allowed to call the API from browsers (repeat for
        /// more; `*` for any). None: only the service's own pages.
        #[arg(long, value_name = "ORIGIN")]
        cors_origin: Vec<String>,
        /// Font for grid names on plan maps (TrueType/OpenType/collection
        /// that draws Chinese); default: GRIDGOV_FONT, else an installed
        /// CJK font.
        #[arg(long, value_name = "FILE")]
        font: Option<PathBuf>,
        /// Memory for rendered tiles of the current version, in MiB; 0
        /// renders every tile request afresh.
        #[arg(long, value_name = "MIB", default_value_t = 256)]
        tile_cache_mb: usize,
        /// Deadline rules for cases (JSON: `default_hours` per level grid,
        /// community, street, district; `categories`; `auto_escalate`);
        /// default: 24/48/72/120 h, shorter for safety hazards.
        #[arg(long, value_name = "FILE")]
        deadlines: Option<PathBuf>,
        /// Seconds between checks for overdue cases to escalate; 0 never.
        #[arg(long, value_name = "S", default_value_t = 60)]
        escalate_every: u64,
        /// Hours a grid staff phone keeps its slice (households, cases)
        /// without reaching the service; then it is wiped there.
        #[arg(long, value_name = "H", default_value_t = 72)]
        slice_hours: u32,
        /// Serve HTTPS with this PEM certificate chain (with --tls-key).
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Where the 12345 hotline platform hears of its cases' status
        /// changes (POSTed as JSON; only this URL is ever called).
        #[arg(long, value_name = "URL")]
        hotline_callback: Option<String>,
    },
    /// Users: list, add, change (role, grids, department, password,
    /// disabled).
    #[command(subcommand)]
    Users(users::UsersCmd),
    /// The roles staff may hold in grid teams and as building leaders:
    /// list, set.
    #[command(subcommand)]
    Roles(roles::RolesCmd),
    /// API tokens: issue, list, revoke.
    #[command(subcommand)]
    Tokens(users::TokensCmd),
    /// The audit log: sign-ins, edits, reads of personal data, refusals.
    Audit(users::AuditArgs),
    /// Generate the sample district (Longshan Road Street), or a city-size one.
    Sample {
        /// Where to write it.
        #[arg(long, default_value = gridgov_storage::DEFAULT_DISTRICT)]
        out: PathBuf,
        /// Size: 1 is Longshan Road Street; N is N such streets side by side
        /// (52 grids each, everything scaled); `city` is 5,044 grids, 1 M
        /// buildings and 10 M incidents.
        #[arg(long, default_value = "1")]
        scale: String,
        /// Override the number of buildings.
        #[arg(long)]
        buildings: Option<usize>,
        /// Override the number of incidents.
        #[arg(long)]
        incidents: Option<usize>,
        /// Random seed.
        #[arg(long, default_value_t = 2022)]
        seed: u64,
        /// Give the cases the histories that took them to their status
        /// (accepted, dispatched, handled, … with realistic times), written
        /// into the case log of a store made from it.
        #[arg(long)]
        histories: bool,
    },
    /// Import grid layers (GeoJSON + mapping) and OpenStreetMap data.
    Import {
        /// Mapping of grid layers to levels (JSON; see examples/).
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Directory the mapping's layer files are in (default: the mapping's own).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The coordinate system of layers whose file declares none (no
        /// .prj, no GeoJSON "crs"): wgs84, cgcs2000, gcj02, bd09 or an
        /// EPSG code (epsg:4547, epsg:32650, …). A layer's "crs" in the
        /// mapping wins over both.
        #[arg(long, value_name = "CRS")]
        crs: Option<String>,
        /// OpenStreetMap extracts (.osm.pbf) for buildings, entrances, merchants, cameras and the base map (roads, water, place names).
        #[arg(long, value_name = "FILE")]
        osm: Vec<PathBuf>,
        /// District name.
        #[arg(long, default_value = "imported district")]
        name: String,
        /// Where to write the district.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// No progress bars.
        #[arg(long)]
        quiet: bool,
    },
    /// Import incidents from a hotline export (CSV): every row is checked
    /// first; one bad row and nothing is imported.
    ImportIncidents {
        /// The CSV file.
        file: PathBuf,
        /// Column mapping (JSON: lon, lat, crs | crs_value, address,
        /// category, source, description, reported_at, utc_offset,
        /// categories); default: columns named so.
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// The store (GeoPackage or `postgres://` URL; default the
        /// embedded one).
        #[arg(long, value_name = "FILE|URL", default_value = gridgov_storage::DEFAULT_GPKG)]
        db: PathBuf,
        /// District JSON the store is created from when missing.
        #[arg(long, value_name = "FILE", default_value = gridgov_storage::DEFAULT_DISTRICT)]
        seed: PathBuf,
        /// Check only; import nothing.
        #[arg(long)]
        dry_run: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Which grid a point or an address belongs to, and who serves it.
    Lookup {
        /// The store.
        #[command(flatten)]
        db: DbArgs,
        /// A point: LON,LAT.
        #[arg(
            long,
            value_name = "LON,LAT",
            allow_hyphen_values = true,
            conflicts_with = "address"
        )]
        at: Option<String>,
        /// Coordinate system of --at: wgs84 (= cgcs2000), gcj02, bd09, or a
        /// projected system by EPSG code (epsg:4527 for CGCS2000 3° Gauss-Krüger
        /// zone 39, epsg:32650 for UTM 50N, epsg:3857, …), whose --at is X,Y in metres.
        #[arg(long, default_value = "wgs84")]
        crs: String,
        /// An address, Chinese or OSM style.
        #[arg(long)]
        address: Option<String>,
        /// Most candidates to show for an address.
        #[arg(long, default_value_t = 5)]
        limit: usize,
    },
    /// Replace the base map (roads, water, place names) of an existing
    /// store with those of OpenStreetMap extracts; grids, buildings and
    /// cases are left as they are. A running service shows it after its
    /// next start.
    Basemap {
        /// The store: a GeoPackage (default data/gridgov.gpkg), a
        /// `postgres://` URL or a district JSON file.
        #[arg(long, value_name = "FILE|URL", default_value = gridgov_storage::DEFAULT_GPKG)]
        db: PathBuf,
        /// OpenStreetMap extracts (.osm.pbf).
        #[arg(long, value_name = "FILE", required = true)]
        osm: Vec<PathBuf>,
        /// Print the counts as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a store's file for damage (SQLite's integrity check of every
    /// page and index; for PostGIS, that the database answers); exits 1
    /// when it is damaged.
    Check {
        /// The store: a GeoPackage file or a `postgres://` URL.
        #[arg(long, value_name = "FILE|URL", default_value = gridgov_storage::DEFAULT_GPKG)]
        db: PathBuf,
    },
    /// Check the grid topology and the placement of everything; exits 1 on errors.
    Validate {
        /// The store.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Write the district's areas for another GIS: GeoJSON, Shapefile
    /// (.prj, .cpg), GeoPackage, FlatGeobuf or KML, in any coordinate system.
    Export {
        /// The store.
        #[command(flatten)]
        db: DbArgs,
        /// The file: .geojson, .shp, .gpkg, .fgb or .kml.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Which areas: grid (default), community, street or all.
        #[arg(long, default_value = "grid")]
        level: String,
        /// The coordinate system to write (epsg:4547, epsg:32650, …;
        /// default wgs84).
        #[arg(long, value_name = "CRS", default_value = "wgs84")]
        crs: String,
        /// A Shapefile's attribute encoding: utf-8 (default) or gbk.
        #[arg(long, value_name = "ENCODING")]
        encoding: Option<String>,
    },
    /// Counts per grid, community and street.
    Stats {
        /// The store.
        #[command(flatten)]
        db: DbArgs,
        /// Only this level: street, community or grid.
        #[arg(long)]
        level: Option<String>,
    },
    /// One answer per row of a list of points or addresses (CSV, XLSX,
    /// GeoJSON, Shapefile, GeoPackage, KML): grid, community, street,
    /// distance to the border, outside/on-border flags; rows that cannot
    /// be placed are written with the reason. With --grids and --points
    /// instead: the assignment benchmark.
    Assign(assign::AssignArgs),
    /// Open the one-screen window: pan, zoom, rotate, tilt, layers, the
    /// heatmap's period and category, click a grid for its chain, staff and
    /// counts; follows new versions of the store or service.
    #[cfg(feature = "window")]
    View(view::ViewArgs),
    /// Draw the command center's one-screen view to a PNG: the plan map,
    /// the incident heatmap, title, legend, counts per grid, timestamp.
    Render(render::RenderArgs),
    /// The weekly or monthly incident report: totals against the previous
    /// period, top categories, grids and communities with rates per 1,000
    /// households, the daily trend, hot spots and overdue cases. Prints a
    /// summary; --out writes the self-contained HTML page or the JSON.
    Report(report::ReportArgs),
    /// Grid signs (one per building or unit, A4 or A5) and contact cards
    /// (one per household, ten to an A4 sheet) of a grid or a community,
    /// as a PDF: the grid's chain, its team's names and phones, and a QR
    /// code that opens the residents' page with the building filled in.
    Cards(cards::CardsArgs),
    /// Propose grids for a community: contiguous, compact, every building
    /// whole, households within the band (300–500), along roads where it
    /// can; with --keep-existing, moving as few households as the band
    /// needs. Prints the figures against today's grids; --out writes the
    /// draft for `POST /drafts`.
    Partition(partition::PartitionArgs),
    /// Write the shared benchmark workload (grids.geojson, points.f64).
    BenchData {
        /// district (52 grids) or city (5,000 grids).
        #[arg(long, default_value = "district")]
        workload: String,
        /// Number of points.
        #[arg(long, default_value_t = 10_000_000)]
        points: usize,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
}

/// What a command returns: an exit code, or why it stopped.
pub type CliResult = Result<ExitCode, CliError>;
