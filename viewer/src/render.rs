//! The GPU passes: the scene's fills, view cones, strokes and markers with
//! 4× MSAA, buildings extruded by floors in the 2.5D view, then the
//! heatmap and the overlay over the resolved image.

use wgpu::util::DeviceExt;

use crate::camera::Camera;
use crate::gpu::{Gpu, GpuError};
use crate::heat::{GpuHeat, HeatRaster, HeatResult, Outputs};
use crate::scene::Scene;
use crate::tess::{Mesh, Vertex};

const SAMPLES: u32 = 4;
const DEPTH: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
/// Metres per floor in the 2.5D view.
const FLOOR_M: f32 = 3.0;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ViewUniform {
    view_proj: [[f32; 4]; 4],
    viewport: [f32; 2],
    pad: [f32; 2],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct HeatUniform {
    corner: [f32; 2],
    px: f32,
    opacity: f32,
    size: [u32; 2],
    grid: [u32; 2],
    map_scale: f32,
    map_offset: f32,
    scale_max: f32,
    pad: f32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Vertex3 {
    pos: [f32; 3],
    colour: [u8; 4],
}

struct GpuMesh {
    vertices: wgpu::Buffer,
    indices: wgpu::Buffer,
    count: u32,
}

impl GpuMesh {
    fn new<V: bytemuck::Pod>(
        gpu: &Gpu,
        label: &str,
        vertices: &[V],
        indices: &[u32],
    ) -> Option<GpuMesh> {
        if indices.is_empty() {
            return None;
        }
        let d = &gpu.device;
        Some(GpuMesh {
            vertices: d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(vertices),
                usage: wgpu::BufferUsages::VERTEX,
            }),
            indices: d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(indices),
                usage: wgpu::BufferUsages::INDEX,
            }),
            count: indices.len() as u32,
        })
    }

    fn draw(&self, pass: &mut wgpu::RenderPass<'_>) {
        pass.set_vertex_buffer(0, self.vertices.slice(..));
        pass.set_index_buffer(self.indices.slice(..), wgpu::IndexFormat::Uint32);
        pass.draw_indexed(0..self.count, 0, 0..1);
    }
}

/// The heatmap layer to draw over the map.
pub struct HeatLayer<'a> {
    /// The incidents on the GPU.
    pub heat: &'a GpuHeat,
    /// Kernel bandwidth in ground metres.
    pub bandwidth_m: f64,
    /// Top of the colour scale; `None`: the maximum in view.
    pub scale_max: Option<f32>,
    /// Opacity at the top of the scale.
    pub opacity: f32,
}

/// What a frame cost, for benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FrameStats {
    /// Pixels of the heatmap's raster (0: no heatmap).
    pub heat_pixels: u64,
}

/// Pipelines and the scene's buffers on one device, for one target format.
pub struct Renderer {
    format: wgpu::TextureFormat,
    view_layout: wgpu::BindGroupLayout,
    heat_layout: wgpu::BindGroupLayout,
    overlay_layout: wgpu::BindGroupLayout,
    mesh: wgpu::RenderPipeline,
    mesh3: wgpu::RenderPipeline,
    marker: wgpu::RenderPipeline,
    heat: wgpu::RenderPipeline,
    overlay: wgpu::RenderPipeline,
    lut: wgpu::Buffer,
    fills: Option<GpuMesh>,
    cones: Option<GpuMesh>,
    strokes: Option<GpuMesh>,
    extruded: Option<GpuMesh>,
    markers: Option<(wgpu::Buffer, u32)>,
    /// The scene drawn (kept for labels, picking and the origin).
    pub scene: Scene,
}

fn blend_target(
    format: wgpu::TextureFormat,
    premultiplied: bool,
) -> [Option<wgpu::ColorTargetState>; 1] {
    [Some(wgpu::ColorTargetState {
        format,
        blend: Some(if premultiplied {
            wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING
        } else {
            wgpu::BlendState::ALPHA_BLENDING
        }),
        write_mask: wgpu::ColorWrites::ALL,
    })]
}

/// Side walls and roofs of every building, `floors × 3 m` high.
fn extrude(scene: &Scene) -> (Vec<Vertex3>, Vec<u32>) {
    let mut v = Vec::new();
    let mut idx = Vec::new();
    for (polys, floors) in &scene.buildings {
        let h = f32::from((*floors).max(1)) * FLOOR_M;
        for rings in polys {
            let mut roof = Mesh::default();
            roof.fill(rings, [0xd8, 0xd0, 0xc2, 0xff]);
            let base = v.len() as u32;
            v.extend(roof.vertices.iter().map(|p| Vertex3 {
                pos: [p.pos[0], p.pos[1], h],
                colour: p.colour,
            }));
            idx.extend(roof.indices.iter().map(|i| base + i));
            for r in rings {
                for e in r.windows(2) {
                    let (a, b) = (e[0], e[1]);
                    // Walls shaded by which way they face.
                    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
                    let len = (dx * dx + dy * dy).sqrt().max(1e-6);
                    let light = 0.75 + 0.25 * ((dy - dx) / len / std::f32::consts::SQRT_2);
                    let c = [
                        (0xb0 as f32 * light) as u8,
                        (0xa6 as f32 * light) as u8,
                        (0x96 as f32 * light) as u8,
                        0xff,
                    ];
                    let base = v.len() as u32;
                    for pos in [
                        [a[0], a[1], 0.0],
                        [b[0], b[1], 0.0],
                        [b[0], b[1], h],
                        [a[0], a[1], h],
                    ] {
                        v.push(Vertex3 { pos, colour: c });
                    }
                    idx.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
                }
            }
        }
    }
    (v, idx)
}

impl Renderer {
    /// Pipelines for `format` and the scene's buffers.
    pub fn new(gpu: &Gpu, scene: Scene, format: wgpu::TextureFormat) -> Renderer {
        let d = &gpu.device;
        let module = d.create_shader_module(wgpu::include_wgsl!("shaders/map.wgsl"));
        let overlay_module = d.create_shader_module(wgpu::include_wgsl!("shaders/overlay.wgsl"));
        let uniform_entry = |binding, visibility| wgpu::BindGroupLayoutEntry {
            binding,
            visibility,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let read_entry = |binding| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only: true },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let view_layout = d.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("view"),
            entries: &[uniform_entry(
                0,
                wgpu::ShaderStages::VERTEX | wgpu::ShaderStages::FRAGMENT,
            )],
        });
        let heat_layout = d.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("heat draw"),
            entries: &[
                uniform_entry(0, wgpu::ShaderStages::VERTEX | wgpu::ShaderStages::FRAGMENT),
                read_entry(1),
                read_entry(2),
                read_entry(3),
            ],
        });
        let overlay_layout = d.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("overlay"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Texture {
                    sample_type: wgpu::TextureSampleType::Float { filterable: false },
                    view_dimension: wgpu::TextureViewDimension::D2,
                    multisampled: false,
                },
                count: None,
            }],
        });
        let layout = |layouts: &[Option<&wgpu::BindGroupLayout>]| {
            d.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: None,
                bind_group_layouts: layouts,
                immediate_size: 0,
            })
        };
        let view_only = layout(&[Some(&view_layout)]);
        let with_heat = layout(&[Some(&view_layout), Some(&heat_layout)]);
        let overlay_pl = layout(&[Some(&overlay_layout)]);
        let colour_attr = |loc, offset| wgpu::VertexAttribute {
            format: wgpu::VertexFormat::Unorm8x4,
            offset,
            shader_location: loc,
        };
        let mesh_attrs = [
            wgpu::VertexAttribute {
                format: wgpu::VertexFormat::Float32x2,
                offset: 0,
                shader_location: 0,
            },
            colour_attr(1, 8),
        ];
        let mesh3_attrs = [
            wgpu::VertexAttribute {
                format: wgpu::VertexFormat::Float32x3,
                offset: 0,
                shader_location: 0,
            },
            colour_attr(1, 12),
        ];
        let marker_attrs = [
            wgpu::VertexAttribute {
                format: wgpu::VertexFormat::Float32x2,
                offset: 0,
                shader_location: 0,
            },
            wgpu::VertexAttribute {
                format: wgpu::VertexFormat::Float32,
                offset: 8,
                shader_location: 1,
            },
            colour_attr(2, 12),
        ];
        let msaa = wgpu::MultisampleState {
            count: SAMPLES,
            mask: !0,
            alpha_to_coverage_enabled: false,
        };
        let depth = |write: bool| {
            Some(wgpu::DepthStencilState {
                format: DEPTH,
                depth_write_enabled: Some(write),
                depth_compare: Some(if write {
                    wgpu::CompareFunction::Less
                } else {
                    wgpu::CompareFunction::Always
                }),
                stencil: wgpu::StencilState::default(),
                bias: wgpu::DepthBiasState::default(),
            })
        };
        let targets = blend_target(format, false);
        let pipeline = |label: &str,
                        vs: &str,
                        fs: &str,
                        buffers: &[Option<wgpu::VertexBufferLayout<'_>>],
                        pl: &wgpu::PipelineLayout,
                        ms: wgpu::MultisampleState,
                        ds: Option<wgpu::DepthStencilState>,
                        targets: &[Option<wgpu::ColorTargetState>],
                        module: &wgpu::ShaderModule| {
            d.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(label),
                layout: Some(pl),
                vertex: wgpu::VertexState {
                    module,
                    entry_point: Some(vs),
                    compilation_options: wgpu::PipelineCompilationOptions::default(),
                    buffers,
                },
                primitive: wgpu::PrimitiveState::default(),
                depth_stencil: ds,
                multisample: ms,
                fragment: Some(wgpu::FragmentState {
                    module,
                    entry_point: Some(fs),
                    compilation_options: wgpu::PipelineCompilationOptions::default(),
                    targets,
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let mesh = pipeline(
            "mesh",
            "vs_mesh",
            "fs_mesh",
            &[Some(wgpu::VertexBufferLayout {
                array_stride: std::mem::size_of::<Vertex>() as u64,
                step_mode: wgpu::VertexStepMode::Vertex,
                attributes: &mesh_attrs,
            })],
            &view_only,
            msaa,
            depth(false),
            &targets,
            &module,
        );
        let mesh3 = pipeline(
            "buildings",
            "vs_mesh3",
            "fs_mesh",
            &[Some(wgpu::VertexBufferLayout {
                array_stride: std::mem::size_of::<Vertex3>() as u64,
                step_mode: wgpu::VertexStepMode::Vertex,
                attributes: &mesh3_attrs,
            })],
            &view_only,
            msaa,
            depth(true),
            &targets,
            &module,
        );
        let marker = pipeline(
            "markers",
            "vs_marker",
            "fs_marker",
            &[Some(wgpu::VertexBufferLayout {
                array_stride: std::mem::size_of::<crate::scene::Marker>() as u64,
                step_mode: wgpu::VertexStepMode::Instance,
                attributes: &marker_attrs,
            })],
            &view_only,
            msaa,
            depth(false),
            &targets,
            &module,
        );
        let single = wgpu::MultisampleState::default();
        let heat = pipeline(
            "heatmap",
            "vs_heat",
            "fs_heat",
            &[],
            &with_heat,
            single,
            None,
            &targets,
            &module,
        );
        let overlay = pipeline(
            "overlay",
            "vs_overlay",
            "fs_overlay",
            &[],
            &overlay_pl,
            single,
            None,
            &blend_target(format, true),
            &overlay_module,
        );
        let lut: Vec<[f32; 4]> = (0..256)
            .map(|k| {
                let c = gridgov_tiles::colormap::inferno(k as f32 / 255.0);
                [
                    f32::from(c[0]) / 255.0,
                    f32::from(c[1]) / 255.0,
                    f32::from(c[2]) / 255.0,
                    1.0,
                ]
            })
            .collect();
        let lut = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("inferno"),
            contents: bytemuck::cast_slice(&lut),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let (ev, ei) = extrude(&scene);
        Renderer {
            format,
            fills: GpuMesh::new(gpu, "fills", &scene.fills.vertices, &scene.fills.indices),
            cones: GpuMesh::new(gpu, "cones", &scene.cones.vertices, &scene.cones.indices),
            strokes: GpuMesh::new(
                gpu,
                "strokes",
                &scene.strokes.vertices,
                &scene.strokes.indices,
            ),
            extruded: GpuMesh::new(gpu, "buildings 2.5D", &ev, &ei),
            markers: (!scene.markers.is_empty()).then(|| {
                (
                    d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some("markers"),
                        contents: bytemuck::cast_slice(&scene.markers),
                        usage: wgpu::BufferUsages::VERTEX,
                    }),
                    scene.markers.len() as u32,
                )
            }),
            scene,
            view_layout,
            heat_layout,
            overlay_layout,
            mesh,
            mesh3,
            marker,
            heat,
            overlay,
            lut,
        }
    }

    /// The texture format drawn to.
    pub fn format(&self) -> wgpu::TextureFormat {
        self.format
    }

    /// Records a frame into `target` (a view of a texture of `self.format`,
    /// `camera.width × camera.height`): the map, then the heatmap, then the
    /// overlay (premultiplied RGBA, the same size) when given.
    pub fn draw(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        target: &wgpu::TextureView,
        camera: &Camera,
        heat: Option<&HeatLayer<'_>>,
        overlay: Option<&[u8]>,
    ) -> Result<FrameStats, GpuError> {
        let d = &gpu.device;
        let (w, h) = (camera.width.max(1), camera.height.max(1));
        let mut stats = FrameStats::default();
        let heat_result: Option<(HeatResult, &HeatLayer<'_>)> = match heat {
            Some(layer) if !layer.heat.is_empty() => {
                let raster = heat_raster(camera);
                stats.heat_pixels = u64::from(raster.width) * u64::from(raster.height);
                Some((
                    layer.heat.compute(
                        gpu,
                        enc,
                        raster,
                        self.scene.origin,
                        layer.bandwidth_m,
                        Outputs {
                            density: false,
                            max: layer.scale_max.is_none(),
                        },
                    )?,
                    layer,
                ))
            }
            _ => None,
        };
        let view = ViewUniform {
            view_proj: camera.view_proj(),
            viewport: [w as f32, h as f32],
            pad: [0.0; 2],
        };
        let view_buf = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("view"),
            contents: bytemuck::bytes_of(&view),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let view_bg = d.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("view"),
            layout: &self.view_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: view_buf.as_entire_binding(),
            }],
        });
        let size = wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        };
        let tex = |label, format, samples, usage| {
            d.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size,
                mip_level_count: 1,
                sample_count: samples,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage,
                view_formats: &[],
            })
            .create_view(&wgpu::TextureViewDescriptor::default())
        };
        let ms = tex(
            "msaa",
            self.format,
            SAMPLES,
            wgpu::TextureUsages::RENDER_ATTACHMENT,
        );
        let depth = tex(
            "depth",
            DEPTH,
            SAMPLES,
            wgpu::TextureUsages::RENDER_ATTACHMENT,
        );
        {
            let mut pass = enc.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("map"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &ms,
                    depth_slice: None,
                    resolve_target: Some(target),
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color {
                            r: 0.957,
                            g: 0.945,
                            b: 0.918,
                            a: 1.0,
                        }),
                        store: wgpu::StoreOp::Discard,
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &depth,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(1.0),
                        store: wgpu::StoreOp::Discard,
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_bind_group(0, &view_bg, &[]);
            pass.set_pipeline(&self.mesh);
            for m in [&self.fills, &self.cones, &self.strokes]
                .into_iter()
                .flatten()
            {
                m.draw(&mut pass);
            }
            if camera.tilt_deg > 0.5
                && let Some(b) = &self.extruded
            {
                pass.set_pipeline(&self.mesh3);
                b.draw(&mut pass);
            }
            if let Some((buf, n)) = &self.markers {
                pass.set_pipeline(&self.marker);
                pass.set_vertex_buffer(0, buf.slice(..));
                pass.draw(0..6, 0..*n);
            }
        }
        let mut overlay_bg = None;
        if let Some(rgba) = overlay {
            let t = d.create_texture(&wgpu::TextureDescriptor {
                label: Some("overlay"),
                size,
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba8Unorm,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            });
            gpu.queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture: &t,
                    mip_level: 0,
                    origin: wgpu::Origin3d::ZERO,
                    aspect: wgpu::TextureAspect::All,
                },
                rgba,
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(4 * w),
                    rows_per_image: Some(h),
                },
                size,
            );
            let v = t.create_view(&wgpu::TextureViewDescriptor::default());
            overlay_bg = Some(d.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("overlay"),
                layout: &self.overlay_layout,
                entries: &[wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(&v),
                }],
            }));
        }
        let heat_bg = heat_result.as_ref().map(|(r, layer)| {
            let u = HeatUniform {
                corner: r.raster.corner,
                px: r.raster.px,
                opacity: layer.opacity,
                size: [r.raster.width, r.raster.height],
                grid: r.grid,
                map_scale: r.map_scale,
                map_offset: r.map_offset,
                scale_max: layer.scale_max.unwrap_or(0.0),
                pad: 0.0,
            };
            let ub = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("heat draw"),
                contents: bytemuck::bytes_of(&u),
                usage: wgpu::BufferUsages::UNIFORM,
            });
            d.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("heat draw"),
                layout: &self.heat_layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: ub.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: r.bins.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: r.max.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: self.lut.as_entire_binding(),
                    },
                ],
            })
        });
        if heat_bg.is_some() || overlay_bg.is_some() {
            let mut pass = enc.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("heatmap and overlay"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: target,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Load,
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            if let Some(bg) = &heat_bg {
                pass.set_pipeline(&self.heat);
                pass.set_bind_group(0, &view_bg, &[]);
                pass.set_bind_group(1, bg, &[]);
                pass.draw(0..6, 0..1);
            }
            if let Some(bg) = &overlay_bg {
                pass.set_pipeline(&self.overlay);
                pass.set_bind_group(0, bg, &[]);
                pass.draw(0..3, 0..1);
            }
        }
        Ok(stats)
    }

    /// Draws a frame into a new image: straight RGBA, `width × height`.
    pub fn render_rgba(
        &self,
        gpu: &Gpu,
        camera: &Camera,
        heat: Option<&HeatLayer<'_>>,
        overlay: Option<&[u8]>,
    ) -> Result<(Vec<u8>, FrameStats), GpuError> {
        let (w, h) = (camera.width.max(1), camera.height.max(1));
        let max_side = gpu.limits.max_texture_dimension_2d;
        if w > max_side || h > max_side {
            return Err(GpuError::TooLarge(format!(
                "{w}×{h} is larger than this GPU's largest texture ({max_side} px a side)"
            )));
        }
        let d = &gpu.device;
        let target = d.create_texture(&wgpu::TextureDescriptor {
            label: Some("frame"),
            size: wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: self.format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = target.create_view(&wgpu::TextureViewDescriptor::default());
        let mut enc = d.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        let stats = self.draw(gpu, &mut enc, &view, camera, heat, overlay)?;
        // Rows are padded to 256 bytes in the copy.
        let row = 4 * w;
        let padded =
            row.div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let out = d.create_buffer(&wgpu::BufferDescriptor {
            label: Some("frame readback"),
            size: u64::from(padded) * u64::from(h),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        enc.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: &target,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &out,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded),
                    rows_per_image: Some(h),
                },
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
        );
        gpu.queue.submit([enc.finish()]);
        let bytes = gpu.read(&out, u64::from(padded) * u64::from(h))?;
        let mut rgba = Vec::with_capacity((row * h) as usize);
        for r in 0..h as usize {
            rgba.extend_from_slice(&bytes[r * padded as usize..][..row as usize]);
        }
        Ok((rgba, stats))
    }
}

/// The heatmap's raster for a view: the screen's pixels when looking
/// straight down north-up; otherwise the visible ground's bounding box at
/// the centre's scale, at most 4096 pixels a side.
pub fn heat_raster(camera: &Camera) -> HeatRaster {
    if camera.tilt_deg.abs() < 1e-3 && camera.rotation_deg.abs() < 1e-3 {
        let b = camera.ground_bounds();
        return HeatRaster {
            corner: [b[0], b[3]],
            px: camera.metres_per_px,
            width: camera.width.max(1),
            height: camera.height.max(1),
        };
    }
    let b = camera.ground_bounds();
    let (gw, gh) = (b[2] - b[0], b[3] - b[1]);
    let px = camera.metres_per_px.max(gw.max(gh) / 4096.0);
    HeatRaster {
        corner: [b[0], b[3]],
        px,
        width: ((gw / px).ceil() as u32).clamp(1, 4096),
        height: ((gh / px).ceil() as u32).clamp(1, 4096),
    }
}
