//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The result of one run of `gridgov`.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs `gridgov` with `args` in the repository root.
pub fn gridgov(args: &[&str]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("gridgov runs")
        .into()
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared real data beside the checkout; the tests need it.
pub fn shared_data() -> PathBuf {
    let p = repo().join("../shared/data");
    assert!(p.is_dir(), "real test data expected at {}", p.display());
    p
}

/// A fresh directory for one test, removed when the test is done unless
/// `GRIDGOV_KEEP_TMP` is set (to look at it after a failure).
pub struct TmpDir(tempfile::TempDir);

impl std::ops::Deref for TmpDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for TmpDir {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        if std::env::var_os("GRIDGOV_KEEP_TMP").is_some() {
            self.0.disable_cleanup(true);
        }
    }
}

/// A fresh directory for one test, named after it under the build's
/// scratch folder.
pub fn tmp_dir(name: &str) -> TmpDir {
    TmpDir(
        tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("temp dir"),
    )
}

/// The committed sample district.
pub fn sample() -> gridgov_spatial::District {
    let text =
        std::fs::read_to_string(repo().join("data/sample-district.json")).expect("sample present");
    serde_json::from_str(&text).expect("sample parses")
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

use gridgov_storage::testing;

/// A fresh PostGIS database on the test cluster for one test, or `None`
/// (skipped) outside CI when there is no cluster.
pub fn postgis_database(name: &str) -> Option<String> {
    let cluster = testing::cluster()?;
    Some(testing::fresh_database(&cluster, name))
}

/// Runs GDAL's `ogr2ogr` (gdal-bin, which `.ci/run` installs): it must
/// be there and succeed.
pub fn ogr2ogr(args: &[&str]) {
    let out = std::process::Command::new("ogr2ogr")
        .args(args)
        .output()
        .expect("ogr2ogr (gdal-bin) is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a Poppler tool (`pdftotext`, `pdffonts`, `pdfinfo`; poppler-utils,
/// which `.ci/run` installs) and answers what it printed: it must be there
/// and succeed.
pub fn poppler(tool: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (poppler-utils) is installed: {e}"));
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 from poppler")
}

/// The QR codes `zbarimg` (zbar-tools, which `.ci/run` installs) reads in
/// a picture, one text each; it must be there.
pub fn zbarimg(picture: &Path) -> Vec<String> {
    let out = std::process::Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(picture)
        .output()
        .unwrap_or_else(|e| panic!("zbarimg (zbar-tools) is installed: {e}"));
    // 4: no code found in the picture.
    assert!(
        out.status.success() || out.status.code() == Some(4),
        "zbarimg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}
