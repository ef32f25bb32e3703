//! GeoJSON layers, with the (pre-RFC 7946) `crs` member honoured.

use std::path::Path;

use gridgov_spatial::Crs;

use crate::{Format, FormatError, Layer};

/// The coordinate system a FeatureCollection's `crs` member names.
fn crs_member(fc: &geojson::FeatureCollection) -> Result<Option<Crs>, gridgov_spatial::CrsError> {
    let name = fc
        .foreign_members
        .as_ref()
        .and_then(|m| m.get("crs"))
        .and_then(|c| c.pointer("/properties/name"))
        .and_then(serde_json::Value::as_str);
    match name {
        None => Ok(None),
        Some(n) if n.to_ascii_uppercase().ends_with("CRS84") => Ok(Some(Crs::Wgs84)),
        Some(n) => n.parse().map(Some),
    }
}

pub(crate) fn read(path: &Path) -> Result<Layer, FormatError> {
    let text = std::fs::read_to_string(path).map_err(|e| FormatError::io(path, e))?;
    let fc: geojson::FeatureCollection = text.parse().map_err(|e| {
        FormatError::invalid(
            path,
            Format::GeoJson,
            format!("not a FeatureCollection: {e}"),
        )
    })?;
    let crs = crs_member(&fc).map_err(|source| FormatError::Crs {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Layer {
        features: fc,
        crs,
        format: Format::GeoJson,
        notes: Vec::new(),
    })
}
