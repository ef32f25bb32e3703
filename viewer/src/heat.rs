//! The incident heatmap on the GPU: points uploaded once, then per view a
//! compute pass bins them onto a raster (fixed-point atomics), two passes
//! blur it with a separable Gaussian, and a last pass reads it at the
//! output pixels and finds the maximum. It follows the CPU reference's
//! plan exactly ([`gridgov_tiles::kde::plan`]): same binning raster, same
//! kernel, same interpolation, so the two agree to well under 2%.

use gridgov_tiles::kde::{RasterSpec, plan};
use wgpu::util::DeviceExt;

use crate::gpu::{Gpu, GpuError};

/// Weight units per incident in the fixed-point bins: a bin overflows past
/// 16 M incidents.
const SCALE: f32 = 256.0;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    origin: [f32; 2],
    inv_px: f32,
    scale: f32,
    bw: u32,
    bh: u32,
    gw: u32,
    gh: u32,
    pad: u32,
    radius: u32,
    count: u32,
    weighted: u32,
    ow: u32,
    oh: u32,
    norm: f32,
    map_scale: f32,
    map_offset: f32,
    pad0: f32,
    pad1: f32,
    pad2: f32,
}

/// A density raster on the ground: `width × height` pixels of `px`
/// scene metres, its top-left corner at `corner` (scene metres).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeatRaster {
    /// Scene metres of the top-left corner.
    pub corner: [f32; 2],
    /// Scene metres per pixel.
    pub px: f32,
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
}

impl HeatRaster {
    /// The same raster in Web Mercator metres, for the CPU reference.
    pub fn spec(&self, origin: [f64; 2]) -> RasterSpec {
        let left = origin[0] + f64::from(self.corner[0]);
        let top = origin[1] + f64::from(self.corner[1]);
        let px = f64::from(self.px);
        RasterSpec {
            bounds: [
                left,
                top - px * f64::from(self.height),
                left + px * f64::from(self.width),
                top,
            ],
            width: self.width as usize,
            height: self.height as usize,
        }
    }
}

/// A computed density, in incidents per km².
pub struct HeatResult {
    /// The blurred bins, `grid[0] × grid[1]` `f32`s, row-major from the top.
    pub bins: wgpu::Buffer,
    /// The bins' size.
    pub grid: [u32; 2],
    /// Output pixel centre `o + 0.5` reads the bins at
    /// `(o + 0.5) · map_scale + map_offset` (bilinear, clamped).
    pub map_scale: f32,
    /// See `map_scale`.
    pub map_offset: f32,
    /// Per output pixel (`width × height` `f32`s), when asked for.
    pub density: Option<wgpu::Buffer>,
    /// One `u32`: the bits of the largest density in the output, when
    /// asked for.
    pub max: wgpu::Buffer,
    /// Where the output lies.
    pub raster: HeatRaster,
}

/// What [`GpuHeat::compute`] should produce besides the bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outputs {
    /// The density at every output pixel.
    pub density: bool,
    /// The maximum over the output.
    pub max: bool,
}

/// Incidents on the GPU and the passes over them.
pub struct GpuHeat {
    points: wgpu::Buffer,
    weights: wgpu::Buffer,
    count: u32,
    weighted: bool,
    layout: wgpu::BindGroupLayout,
    bin: wgpu::ComputePipeline,
    blur_h: wgpu::ComputePipeline,
    blur_v: wgpu::ComputePipeline,
    resample: wgpu::ComputePipeline,
    grid_max: wgpu::ComputePipeline,
}

fn storage(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

impl GpuHeat {
    /// Uploads incidents (scene metres) with optional weights.
    pub fn new(gpu: &Gpu, points: &[[f32; 2]], weights: Option<&[f32]>) -> GpuHeat {
        let d = &gpu.device;
        // Buffers may not be empty.
        let pts: &[[f32; 2]] = if points.is_empty() {
            &[[0.0, 0.0]]
        } else {
            points
        };
        let points_buf = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("incidents"),
            contents: bytemuck::cast_slice(pts),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let w: &[f32] = match weights {
            Some(w) if !w.is_empty() => w,
            _ => &[1.0],
        };
        let weights_buf = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("incident weights"),
            contents: bytemuck::cast_slice(w),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let module = d.create_shader_module(wgpu::include_wgsl!("shaders/heat.wgsl"));
        let layout = d.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("heat"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                storage(1, true),
                storage(2, true),
                storage(3, false),
                storage(4, false),
                storage(5, false),
                storage(6, false),
                storage(7, false),
                storage(8, true),
            ],
        });
        let pl = d.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("heat"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = |entry: &str| {
            d.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(&pl),
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                cache: None,
            })
        };
        GpuHeat {
            points: points_buf,
            weights: weights_buf,
            count: points.len() as u32,
            weighted: weights.is_some(),
            bin: pipeline("bin"),
            blur_h: pipeline("blur_h"),
            blur_v: pipeline("blur_v"),
            resample: pipeline("resample"),
            grid_max: pipeline("grid_max"),
            layout,
        }
    }

    /// How many incidents are uploaded.
    pub fn len(&self) -> u32 {
        self.count
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Records the passes computing the density over `raster` with the
    /// bandwidth in ground metres; `origin` is the scene's Mercator origin.
    pub fn compute(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        raster: HeatRaster,
        origin: [f64; 2],
        bandwidth_m: f64,
        outputs: Outputs,
    ) -> Result<HeatResult, GpuError> {
        let d = &gpu.device;
        let spec = raster.spec(origin);
        let p = plan(&spec, bandwidth_m);
        let (gw, gh) = (p.bins.width as u32, p.bins.height as u32);
        let (bw, bh) = (gw + 2 * p.pad as u32, gh + 2 * p.pad as u32);
        let px = p.bins.pixel();
        let too_big = |what: &str, n: u64| {
            (n * 4 > gpu.limits.max_storage_buffer_binding_size).then(|| {
                GpuError::TooLarge(format!(
                    "the heatmap's {what} ({n} values) exceeds this GPU's storage buffers; use a smaller image or a wider bandwidth"
                ))
            })
        };
        for (what, n) in [
            ("bins", u64::from(bw) * u64::from(bh)),
            ("output", u64::from(raster.width) * u64::from(raster.height)),
        ] {
            if let Some(e) = too_big(what, n) {
                return Err(e);
            }
        }
        let params = Params {
            origin: [
                (p.bins.bounds[0] - (p.pad as f64 - 0.5) * px - origin[0]) as f32,
                (p.bins.bounds[3] + (p.pad as f64 - 0.5) * px - origin[1]) as f32,
            ],
            inv_px: (1.0 / px) as f32,
            scale: SCALE,
            bw,
            bh,
            gw,
            gh,
            pad: p.pad as u32,
            radius: p.radius as u32,
            count: self.count,
            weighted: u32::from(self.weighted),
            ow: raster.width,
            oh: raster.height,
            norm: p.norm,
            map_scale: p.map_scale as f32,
            map_offset: p.map_offset as f32,
            pad0: 0.0,
            pad1: 0.0,
            pad2: 0.0,
        };
        let uniform = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("heat params"),
            contents: bytemuck::bytes_of(&params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let kernel = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("heat kernel"),
            contents: bytemuck::cast_slice(&p.kernel),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let buf = |label: &str, n: u64, extra: wgpu::BufferUsages| {
            d.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (n.max(1)) * 4,
                usage: wgpu::BufferUsages::STORAGE | extra,
                mapped_at_creation: false,
            })
        };
        let bins = buf(
            "heat bins",
            u64::from(bw) * u64::from(bh),
            wgpu::BufferUsages::COPY_DST,
        );
        let tmp = buf(
            "heat rows",
            u64::from(gw) * u64::from(bh),
            wgpu::BufferUsages::empty(),
        );
        let grid = buf(
            "heat grid",
            u64::from(gw) * u64::from(gh),
            wgpu::BufferUsages::empty(),
        );
        let density = buf(
            "heat density",
            if outputs.density {
                u64::from(raster.width) * u64::from(raster.height)
            } else {
                1
            },
            wgpu::BufferUsages::COPY_SRC,
        );
        let max = buf(
            "heat max",
            1,
            wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        );
        enc.clear_buffer(&bins, 0, None);
        enc.clear_buffer(&max, 0, None);
        let bg = d.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("heat"),
            layout: &self.layout,
            entries: &[
                uniform.as_entire_binding(),
                self.points.as_entire_binding(),
                self.weights.as_entire_binding(),
                bins.as_entire_binding(),
                tmp.as_entire_binding(),
                grid.as_entire_binding(),
                density.as_entire_binding(),
                max.as_entire_binding(),
                kernel.as_entire_binding(),
            ]
            .into_iter()
            .enumerate()
            .map(|(i, resource)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource,
            })
            .collect::<Vec<_>>(),
        });
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("heatmap"),
            timestamp_writes: None,
        });
        pass.set_bind_group(0, &bg, &[]);
        if self.count > 0 {
            let groups = self.count.div_ceil(256);
            let x = groups.min(65_535);
            pass.set_pipeline(&self.bin);
            pass.dispatch_workgroups(x, groups.div_ceil(x), 1);
        }
        pass.set_pipeline(&self.blur_h);
        pass.dispatch_workgroups(gw.div_ceil(16), bh.div_ceil(16), 1);
        pass.set_pipeline(&self.blur_v);
        pass.dispatch_workgroups(gw.div_ceil(16), gh.div_ceil(16), 1);
        if outputs.density {
            pass.set_pipeline(&self.resample);
            pass.dispatch_workgroups(raster.width.div_ceil(16), raster.height.div_ceil(16), 1);
        } else if outputs.max {
            pass.set_pipeline(&self.grid_max);
            pass.dispatch_workgroups(gw.div_ceil(16), gh.div_ceil(16), 1);
        }
        drop(pass);
        Ok(HeatResult {
            bins: grid,
            grid: [gw, gh],
            map_scale: p.map_scale as f32,
            map_offset: p.map_offset as f32,
            density: outputs.density.then_some(density),
            max,
            raster,
        })
    }

    /// Computes and reads back the density (for tests and reports).
    pub fn density(
        &self,
        gpu: &Gpu,
        raster: HeatRaster,
        origin: [f64; 2],
        bandwidth_m: f64,
    ) -> Result<(Vec<f32>, f32), GpuError> {
        let mut enc = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        let r = self.compute(
            gpu,
            &mut enc,
            raster,
            origin,
            bandwidth_m,
            Outputs {
                density: true,
                max: true,
            },
        )?;
        let density = r
            .density
            .as_ref()
            .ok_or_else(|| GpuError::Readback("no density computed".into()))?;
        let n = u64::from(raster.width) * u64::from(raster.height) * 4;
        let read = |size: u64| {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("heat readback"),
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let (rd, rm) = (read(n), read(4));
        enc.copy_buffer_to_buffer(density, 0, &rd, 0, n);
        enc.copy_buffer_to_buffer(&r.max, 0, &rm, 0, 4);
        gpu.queue.submit([enc.finish()]);
        let values: Vec<f32> = bytemuck::pod_collect_to_vec(&gpu.read(&rd, n)?);
        let m = gpu.read(&rm, 4)?;
        let max = f32::from_bits(u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
        Ok((values, max))
    }
}
