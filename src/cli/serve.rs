//! `gridgov serve`: opens the store, makes the first admin on an empty
//! one, finds the label font, and runs the service over the application.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use gridgov_app::{App, Clock, Rules, SystemClock};
use gridgov_service::{Config, ServeOptions, harden::Guard};

use super::CliResult;

/// What `gridgov serve` was asked.
pub struct ServeArgs {
    /// The store.
    pub db: String,
    /// The seed district.
    pub seed: PathBuf,
    /// How to listen.
    pub opts: ServeOptions,
    /// Largest request body.
    pub body_limit: usize,
    /// Largest batch lookup body.
    pub batch_body_limit: usize,
    /// The label font file (default: found among the installed ones).
    pub font: Option<PathBuf>,
    /// Bytes of rendered tiles kept.
    pub tile_cache_bytes: usize,
    /// Hours a phone keeps its slice offline.
    pub slice_hours: u32,
    /// Rate limit, time limit, CORS.
    pub guard: Guard,
    /// Deadlines and escalation.
    pub deadlines: gridgov_spatial::workflow::DeadlineRules,
    /// The hotline platform's status callback.
    pub hotline_callback: Option<String>,
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs `gridgov serve` until Ctrl-C or SIGTERM.
pub fn run(a: ServeArgs) -> CliResult {
    init_logging();
    let t = Instant::now();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let opened = gridgov_storage::open(&a.db, &a.seed, clock.now())?;
    let store = opened.store;
    if opened.created {
        tracing::info!(store = %store.describe(), seed = %a.seed.display(), "created the store from the seed district");
    }
    if let Some(password) =
        gridgov_app::accounts::ensure_first_admin(store.as_ref(), store.as_ref(), clock.now())?
    {
        // Shown this once: only its hash is kept.
        println!(
            "first start: created user \"admin\" with password {password}\n\
             sign in with it and make your own users (see README); it is not shown again"
        );
    }
    let (label_font, report_font) = match gridgov_fonts::find(a.font.as_deref()) {
        Ok((path, font)) => {
            tracing::info!(font = %path.display(), "grid names on plan maps");
            // The same file sets the PDF reports.
            let pdf = match super::report::report_font(&path) {
                Ok(f) => Some(std::sync::Arc::new(f)),
                Err(e) => {
                    tracing::warn!("no PDF reports: {e}");
                    None
                }
            };
            (Some(font), pdf)
        }
        // A font named on the command line must work.
        Err(e) if a.font.is_some() => return Err(e.into()),
        Err(e) => {
            tracing::warn!(
                "plan-map tiles are drawn without grid names and reports have no PDF: {e}"
            );
            (None, None)
        }
    };
    let rules = Rules {
        deadlines: a.deadlines,
        ..Rules::default()
    };
    let app = Arc::new(App::open(store.clone(), clock, rules)?);
    let snap = app.current();
    tracing::info!(
        store = %store.describe(),
        grids = snap.district.grids().count(),
        buildings = snap.district.buildings.len(),
        incidents = snap.district.incidents.len(),
        startup_ms = t.elapsed().as_millis() as u64,
        "index built"
    );
    drop(snap);
    let config = Config {
        body_limit: a.body_limit,
        batch_body_limit: a.batch_body_limit,
        label_font,
        report_font,
        tile_cache_bytes: a.tile_cache_bytes,
        slice_hours: a.slice_hours,
        guard: a.guard,
        hotline_callback: a.hotline_callback,
        ..Config::default()
    };
    gridgov_service::serve(app, config, &a.opts)?;
    Ok(ExitCode::SUCCESS)
}
