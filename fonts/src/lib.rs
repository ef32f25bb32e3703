//! Finding a font that draws Chinese on this machine, for labels on plan
//! maps. Nothing is bundled: the font comes from the OS packages (Noto CJK,
//! Source Han, WenQuanYi, Droid Sans Fallback, AR PL), from `--font`, or
//! from `GRIDGOV_FONT`.

use std::path::{Path, PathBuf};

use gridgov_tiles::LabelFont;

/// Characters every grid label needs.
pub const PROBE: &str = "网格社区街道";

/// Font files known to draw Simplified Chinese, best first.
const KNOWN: &[&str] = &[
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "NotoSansSC-Regular.otf",
    "NotoSansSC-Regular.ttf",
    "SourceHanSansSC-Regular.otf",
    "SourceHanSans-Regular.ttc",
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "DroidSansFallbackFull.ttf",
    "DroidSansFallback.ttf",
    "uming.ttc",
    "ukai.ttc",
];

/// Why no label font could be had.
#[derive(Debug, thiserror::Error)]
pub enum FontError {
    /// The named file could not be read.
    #[error("cannot read the font {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The named file is not a usable CJK font.
    #[error("{path} cannot be used for labels: {source}")]
    Unusable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: gridgov_tiles::LabelError,
    },
    /// Nothing found.
    #[error(
        "no font that draws Chinese was found in {searched}; install one (Debian: `apt-get install fonts-noto-cjk` or `fonts-wqy-microhei`), or name a file with --font or GRIDGOV_FONT"
    )]
    NotFound {
        /// The folders looked in.
        searched: String,
    },
}

/// The folders fonts are installed in.
fn font_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![
        PathBuf::from("/usr/share/fonts"),
        PathBuf::from("/usr/local/share/fonts"),
    ];
    if let Some(home) = std::env::var_os("HOME") {
        let home = PathBuf::from(home);
        dirs.push(home.join(".local/share/fonts"));
        dirs.push(home.join(".fonts"));
    }
    dirs
}

/// Every font file under `dir`, at most `depth` folders down.
fn font_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if depth > 0 {
                font_files(&p, depth - 1, out);
            }
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "ttf" | "otf" | "ttc"))
        {
            out.push(p);
        }
    }
}

/// Loads `path` as a label font.
pub fn load(path: &Path) -> Result<LabelFont, FontError> {
    let bytes = std::fs::read(path).map_err(|source| FontError::Read {
        path: path.to_owned(),
        source,
    })?;
    LabelFont::from_bytes(bytes, PROBE).map_err(|source| FontError::Unusable {
        path: path.to_owned(),
        source,
    })
}

/// The label font: `explicit` if given, else `GRIDGOV_FONT`, else the best
/// known CJK font installed, else any installed font that draws Chinese.
pub fn find(explicit: Option<&Path>) -> Result<(PathBuf, LabelFont), FontError> {
    if let Some(p) = explicit {
        return load(p).map(|f| (p.to_owned(), f));
    }
    if let Some(p) = std::env::var_os("GRIDGOV_FONT").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return load(&p).map(|f| (p, f));
    }
    let dirs = font_dirs();
    let mut files = Vec::new();
    for d in &dirs {
        font_files(d, 4, &mut files);
    }
    let name = |p: &PathBuf| p.file_name().and_then(|n| n.to_str()).map(str::to_owned);
    for known in KNOWN {
        for p in files.iter().filter(|p| name(p).as_deref() == Some(known)) {
            if let Ok(f) = load(p) {
                return Ok((p.clone(), f));
            }
        }
    }
    // Anything else that draws Chinese; big files first (CJK fonts are big).
    let mut rest: Vec<(u64, &PathBuf)> = files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok().map(|m| (m.len(), p)))
        .filter(|(len, _)| *len > 2 << 20)
        .collect();
    rest.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    for (_, p) in rest.into_iter().take(50) {
        if let Ok(f) = load(p) {
            return Ok((p.clone(), f));
        }
    }
    Err(FontError::NotFound {
        searched: dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_font_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("gridgov-notafont.ttf");
        std::fs::write(&p, b"hello").unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("gridgov-notafont.ttf"), "{e}");
        let e = find(Some(Path::new("/nonexistent/font.ttc")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/font.ttc"), "{e}");
    }

    #[test]
    fn a_latin_only_font_is_refused_for_labels() {
        let dejavu = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        if dejavu.exists() {
            let e = load(dejavu).unwrap_err().to_string();
            assert!(e.contains("no glyph"), "{e}");
        }
    }

    #[test]
    fn the_machine_has_a_cjk_font_for_labels() {
        match find(None) {
            Ok((p, f)) => assert!(PROBE.chars().all(|c| f.has(c)), "{}", p.display()),
            // CI installs one; a developer machine without one is told how.
            Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
                assert!(e.to_string().contains("fonts-noto-cjk"));
            }
            Err(e) => panic!("{e}"),
        }
    }
}
