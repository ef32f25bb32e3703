//! Map tiles for gridgov, pure: Web Mercator tile math, vector tiles
//! (MVT), raster plan-map tiles, and the incident heatmap (a Gaussian
//! kernel density estimate) that is the reference for the GPU viewer.
//! No I/O, no async: data in, bytes out.

pub mod basemap;
pub mod clip;
pub mod colormap;
pub mod kde;
pub mod label;
pub mod mvt;
pub mod raster;
pub mod simplify;
pub mod source;
pub mod tile;

pub use colormap::{Legend, legend};
pub use kde::{Density, KdePlan, RasterSpec, kde, plan};
pub use label::{LabelError, LabelFont};
pub use source::{IncidentFilter, LAYERS, OVERLAY_ROWS, TileLayers, TileSource};
pub use tile::{TileError, TileId};
