//! The one-screen viewer: the plan map of a district (grids, buildings,
//! merchants, cameras) with the incident heatmap, drawn by wgpu — headless
//! to PNG for reports, or in a window on the command center's video wall.
//!
//! The scene is built on the CPU ([`Scene`], [`tess`]) apart from the GPU
//! passes ([`Renderer`]); the heatmap is computed on the GPU by binning
//! and a separable Gaussian blur, the same estimate as the CPU reference
//! in `gridgov-tiles`.

pub mod scene;
pub mod tess;
#[cfg(feature = "window")]
pub mod window;

pub use scene::{GridInfo, Label, Layers, Marker, Scene};
pub mod camera;
pub mod gpu;
pub mod heat;
pub mod overlay;
pub mod render;

pub use camera::Camera;
pub use gpu::{Gpu, GpuError};
pub use heat::{GpuHeat, HeatRaster};
pub use render::{FrameStats, HeatLayer, Renderer};
pub use wgpu::TextureFormat;

/// Encodes straight RGBA rows as PNG.
///
/// ```
/// let png = gridgov_viewer::encode_png(1, 1, vec![255, 0, 0, 255]).unwrap();
/// assert_eq!(&png[1..4], b"PNG");
/// ```
pub fn encode_png(width: u32, height: u32, rgba: Vec<u8>) -> Result<Vec<u8>, GpuError> {
    let img = image::RgbaImage::from_raw(width, height, rgba)
        .ok_or_else(|| GpuError::Readback("image size does not match its pixels".into()))?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| GpuError::Readback(e.to_string()))?;
    Ok(out.into_inner())
}
