//! gridgov: the spatial heart of grid-based community governance — the
//! command line over the application (`gridgov-app`), its stores
//! (`gridgov-storage`), the HTTP service (`gridgov-service`) and the
//! viewer (`gridgov-viewer`). The library holds what the binary and the
//! fuzz targets share.

pub mod cli;
pub mod fuzzing;
