//! Import parsing: grid layers (GeoJSON + a mapping of properties),
//! OpenStreetMap PBF, and CSV exports of hotline cases. Pure: the caller
//! reads the files and reports progress.

pub mod incidents;
pub mod layers;
pub mod osm;
pub mod table;

pub use layers::{polygons_from_geojson, to_multi_polygon};
