//! The interactive window: the map drawn by the [`Renderer`] with panels
//! by egui — layer switches, the heatmap's period and category, and the
//! picked grid's chain, staff and counts. Pan with the left mouse button,
//! zoom with the wheel, rotate and tilt with the right button (or Q/E and
//! W/S). The data comes from a [`DataSource`], polled in the background:
//! a new version (a published boundary, new incidents) appears within
//! seconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gridgov_spatial::i18n::{self, Lang, t, tf};
use gridgov_spatial::{District, GridIndex, assign, stats};
use gridgov_tiles::{IncidentFilter, LabelFont, TileSource};
use winit::application::ApplicationHandler;
use winit::event::{ElementState, MouseButton, MouseScrollDelta, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop, EventLoopProxy};
use winit::keyboard::{Key, NamedKey};
use winit::window::{Window, WindowId};

use crate::camera::Camera;
use crate::gpu::{Gpu, GpuError};
use crate::heat::GpuHeat;
use crate::overlay::{self, OverlayText};
use crate::render::{HeatLayer, Renderer};
use crate::scene::{Layers, Scene};

/// Where the window's data comes from: a store, or a gridgov service.
pub trait DataSource: Send + 'static {
    /// For the status line, e.g. `GeoPackage data/gridgov.gpkg`.
    fn describe(&self) -> String;
    /// The current boundary version and the revision of the incidents
    /// (which moves whenever an incident is filed or steps; a source
    /// whose version already moves with every change answers a
    /// constant). Cheap: polled every few seconds.
    fn version(&mut self) -> Result<(i64, i64), String>;
    /// The district at the current version.
    fn district(&mut self) -> Result<District, String>;
    /// The monitoring points with their state and recent readings
    /// (polled with the version; none by default).
    fn sensors(&mut self) -> Result<Vec<crate::overlay::SensorMark>, String> {
        Ok(Vec::new())
    }
}

/// Why the window could not run.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// No display, or the window system refused.
    #[error("cannot open a window: {0} (is DISPLAY set? under no display, run it in Xvfb)")]
    Window(String),
    /// The GPU.
    #[error(transparent)]
    Gpu(#[from] GpuError),
    /// The first load of the data failed.
    #[error("cannot load the data from {0}")]
    Data(String),
}

/// How the window runs.
#[derive(Debug, Clone)]
pub struct ViewOptions {
    /// Initial inner size in pixels.
    pub size: (u32, u32),
    /// How often to ask the source for a new version.
    pub poll: Duration,
    /// The label font and its bytes (for egui's Chinese text too).
    pub font: LabelFont,
    /// The font file's bytes.
    pub font_bytes: Vec<u8>,
    /// The language of the panels' words.
    pub lang: Lang,
    /// Close after this long (for tests and kiosks); `None`: never.
    pub close_after: Option<Duration>,
}

/// A district made ready off the UI thread.
struct Prepared {
    version: i64,
    revision: i64,
    district: District,
    scene: Scene,
    src: TileSource,
    days: Vec<gridgov_spatial::Date>,
}

fn prepare(version: i64, revision: i64, district: District) -> Prepared {
    let idx = GridIndex::new(&district);
    let a = assign(&district, &idx);
    let st = stats(&district, &a);
    let scene = Scene::build(&district, &a, &st, Layers::default());
    let src = TileSource::new(&district, &a, &st);
    let mut days: Vec<gridgov_spatial::Date> = district
        .incidents
        .iter()
        .map(|i| {
            gridgov_spatial::time::local_date(i.reported_at, gridgov_spatial::time::CHINA_OFFSET_S)
        })
        .collect();
    days.sort();
    days.dedup();
    Prepared {
        version,
        revision,
        district,
        scene,
        src,
        days,
    }
}

enum Msg {
    Data(Box<Prepared>),
    Sensors(Vec<crate::overlay::SensorMark>),
    Status(String),
}

/// Polls `source` and sends a freshly prepared district whenever its
/// version moves.
fn follow(mut source: Box<dyn DataSource>, poll: Duration, proxy: &EventLoopProxy<Msg>) {
    let mut seen: Option<(i64, i64)> = None;
    let mut marks: Option<Vec<crate::overlay::SensorMark>> = None;
    loop {
        // Readings move without a new version: the points every poll.
        if let Ok(m) = source.sensors()
            && marks.as_ref() != Some(&m)
        {
            marks = Some(m.clone());
            if proxy.send_event(Msg::Sensors(m)).is_err() {
                return;
            }
        }
        match source.version() {
            Ok((v, r)) if Some((v, r)) != seen => match source.district() {
                Ok(d) => {
                    seen = Some((v, r));
                    eprintln!(
                        "loaded version {v}, incident revision {r} from {}",
                        source.describe()
                    );
                    if proxy
                        .send_event(Msg::Data(Box::new(prepare(v, r, d))))
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    let _ = proxy.send_event(Msg::Status(format!("load failed: {e}")));
                }
            },
            Ok(_) => {}
            Err(e) => {
                if proxy
                    .send_event(Msg::Status(format!("{}: {e}", source.describe())))
                    .is_err()
                {
                    return;
                }
            }
        }
        std::thread::sleep(poll);
    }
}

struct Heatmap {
    on: bool,
    from: usize,
    to: usize,
    category: String,
    bandwidth: f64,
}

struct Live {
    window: Arc<Window>,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    gpu: Gpu,
    egui_state: egui_winit::State,
    egui_renderer: egui_wgpu::Renderer,
}

struct View {
    data: Prepared,
    renderer: Renderer,
    heat: Option<GpuHeat>,
    heat_max: f32,
    camera: Camera,
    selected: Option<usize>,
    overlay: Option<(Camera, Option<usize>, Vec<u8>)>,
}

struct App {
    opts: ViewOptions,
    source_name: String,
    live: Option<Live>,
    view: Option<View>,
    pending: Option<Box<Prepared>>,
    status: String,
    heatmap: Heatmap,
    layers: Layers,
    drag: Option<(MouseButton, [f32; 2], [f32; 2])>,
    cursor: [f32; 2],
    started: Instant,
    frames: u64,
    announced: Option<(i64, i64)>,
    error: Option<ViewError>,
    /// The monitoring points, drawn on the overlay.
    sensors: Vec<crate::overlay::SensorMark>,
}

/// Opens the window and runs until it is closed.
pub fn run(source: Box<dyn DataSource>, opts: ViewOptions) -> Result<(), ViewError> {
    let event_loop = EventLoop::<Msg>::with_user_event()
        .build()
        .map_err(|e| ViewError::Window(e.to_string()))?;
    event_loop.set_control_flow(ControlFlow::Wait);
    let proxy = event_loop.create_proxy();
    let source_name = source.describe();
    let poll = opts.poll;
    std::thread::Builder::new()
        .name("gridgov-view-data".into())
        .spawn(move || follow(source, poll, &proxy))
        .map_err(|e| ViewError::Window(e.to_string()))?;
    let status = t(opts.lang, "view.loading").into();
    let mut app = App {
        opts,
        source_name,
        live: None,
        view: None,
        pending: None,
        status,
        heatmap: Heatmap {
            on: true,
            from: 0,
            to: usize::MAX,
            category: String::new(),
            bandwidth: 150.0,
        },
        layers: Layers::default(),
        drag: None,
        cursor: [0.0; 2],
        started: Instant::now(),
        frames: 0,
        announced: None,
        sensors: Vec::new(),
        error: None,
    };
    event_loop
        .run_app(&mut app)
        .map_err(|e| ViewError::Window(e.to_string()))?;
    match app.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl App {
    fn open(&mut self, el: &ActiveEventLoop) -> Result<(), ViewError> {
        let attrs = Window::default_attributes()
            .with_title("gridgov · one screen")
            .with_inner_size(winit::dpi::PhysicalSize::new(
                self.opts.size.0,
                self.opts.size.1,
            ));
        let window = Arc::new(
            el.create_window(attrs)
                .map_err(|e| ViewError::Window(e.to_string()))?,
        );
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_with_display_handle_from_env(
                Box::new(el.owned_display_handle()),
            ));
        let surface = instance
            .create_surface(window.clone())
            .map_err(|e| ViewError::Window(e.to_string()))?;
        let gpu = Gpu::with_instance(&instance, Some(&surface))?;
        let size = window.inner_size();
        let caps = surface.get_capabilities(&gpu.adapter);
        // Colours are computed in gamma space, as in the tiles: a non-sRGB
        // format shows them as they are.
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb())
            .or_else(|| caps.formats.first().copied())
            .ok_or_else(|| ViewError::Window("the surface offers no format".into()))?;
        let config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format,
            color_space: wgpu::SurfaceColorSpace::Auto,
            width: size.width.max(1),
            height: size.height.max(1),
            desired_maximum_frame_latency: 2,
            present_mode: wgpu::PresentMode::Fifo,
            alpha_mode: wgpu::CompositeAlphaMode::Auto,
            view_formats: vec![],
        };
        surface.configure(&gpu.device, &config);
        let ctx = egui::Context::default();
        let mut fonts = egui::FontDefinitions::default();
        fonts.font_data.insert(
            "cjk".into(),
            Arc::new(egui::FontData::from_owned(self.opts.font_bytes.clone())),
        );
        for fam in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
            fonts.families.entry(fam).or_default().push("cjk".into());
        }
        ctx.set_fonts(fonts);
        let egui_state = egui_winit::State::new(
            ctx,
            egui::ViewportId::ROOT,
            &window,
            Some(window.scale_factor() as f32),
            None,
            Some(gpu.limits.max_texture_dimension_2d as usize),
        );
        let egui_renderer = egui_wgpu::Renderer::new(
            &gpu.device,
            format,
            egui_wgpu::RendererOptions {
                msaa_samples: 1,
                depth_stencil_format: None,
                dithering: false,
                predictable_texture_filtering: false,
            },
        );
        eprintln!("window open on {}", gpu.describe());
        self.live = Some(Live {
            window,
            surface,
            config,
            gpu,
            egui_state,
            egui_renderer,
        });
        Ok(())
    }

    /// Takes a newly prepared district: keeps the camera if one exists.
    fn adopt(&mut self, p: Prepared) {
        let Some(live) = &self.live else {
            self.pending = Some(Box::new(p));
            return;
        };
        let (w, h) = (live.config.width, live.config.height);
        // A new window's map keeps clear of the left panel; later versions
        // keep the camera.
        let camera = if let Some(v) = &self.view {
            v.camera
        } else {
            let panel = (270.0 * live.window.scale_factor()) as u32;
            Camera::fit_margins(p.scene.bounds, w, h, [panel + 10, 20, 20, 20])
        };
        if self.view.is_none() {
            self.heatmap.to = p.days.len().saturating_sub(1);
        }
        self.heatmap.to = self.heatmap.to.min(p.days.len().saturating_sub(1));
        let selected = self.view.as_ref().and_then(|v| {
            let code = &v.data.scene.grids.get(v.selected?)?.code;
            p.scene.grids.iter().position(|g| &g.code == code)
        });
        self.status = tf(
            self.opts.lang,
            "view.version",
            &[("v", &p.version), ("source", &self.source_name)],
        );
        // The data thread builds the default layers; others are rebuilt here.
        let scene = if self.layers == Layers::default() {
            p.scene.clone()
        } else {
            let a = assign(&p.district, &GridIndex::new(&p.district));
            Scene::build(&p.district, &a, &stats(&p.district, &a), self.layers)
        };
        let renderer = Renderer::new(&live.gpu, scene, live.config.format);
        self.view = Some(View {
            data: p,
            renderer,
            heat: None,
            heat_max: 0.0,
            camera,
            selected,
            overlay: None,
        });
        self.refresh_heat();
    }

    fn filter(&self, days: &[gridgov_spatial::Date]) -> IncidentFilter {
        let last = days.len().saturating_sub(1);
        IncidentFilter {
            from: (self.heatmap.from > 0)
                .then(|| days.get(self.heatmap.from).copied())
                .flatten(),
            to: (self.heatmap.to < last)
                .then(|| days.get(self.heatmap.to).copied())
                .flatten(),
            categories: if self.heatmap.category.is_empty() {
                vec![]
            } else {
                vec![self.heatmap.category.clone()]
            },
            ..IncidentFilter::default()
        }
    }

    /// Uploads the incidents the heatmap's filter passes.
    fn refresh_heat(&mut self) {
        let Some(view) = &self.view else { return };
        let Some(live) = &self.live else { return };
        let f = self.filter(&view.data.days);
        let (xy, _) = view.data.src.incident_points(&f, false);
        let pts = view.data.scene.scene_points(&xy);
        let heat = GpuHeat::new(&live.gpu, &pts, None);
        let max = view.data.src.density_max(&f, self.heatmap.bandwidth, false);
        if let Some(v) = &mut self.view {
            v.heat = Some(heat);
            v.heat_max = max;
        }
    }

    fn panels(&mut self, root: &mut egui::Ui) -> bool {
        let lang = self.opts.lang;
        let mut heat_changed = false;
        let mut layers_changed = false;
        egui::Panel::left("controls")
            .resizable(false)
            .default_size(260.0)
            .show(root, |ui| {
                ui.heading("gridgov");
                ui.label(&self.status);
                ui.separator();
                ui.label(t(lang, "panel.layers"));
                for (name, on) in [
                    (t(lang, "layer.grids"), &mut self.layers.grids),
                    (t(lang, "layer.buildings"), &mut self.layers.buildings),
                    (t(lang, "layer.merchants"), &mut self.layers.merchants),
                    (t(lang, "layer.cameras"), &mut self.layers.cameras),
                    (t(lang, "view.labels"), &mut self.layers.labels),
                    (t(lang, "view.blind_spots"), &mut self.layers.blind_spots),
                ] {
                    layers_changed |= ui.checkbox(on, name).changed();
                }
                ui.separator();
                heat_changed |= ui
                    .checkbox(&mut self.heatmap.on, t(lang, "layer.heatmap"))
                    .changed();
                if let Some(v) = &self.view {
                    let days = &v.data.days;
                    let last = days.len().saturating_sub(1);
                    if !days.is_empty() {
                        ui.label(tf(
                            lang,
                            "view.from",
                            &[(
                                "d",
                                &days
                                    .get(self.heatmap.from)
                                    .map(ToString::to_string)
                                    .unwrap_or_default(),
                            )],
                        ));
                        heat_changed |= ui
                            .add(
                                egui::Slider::new(&mut self.heatmap.from, 0..=last)
                                    .show_value(false),
                            )
                            .changed();
                        ui.label(tf(
                            lang,
                            "view.to",
                            &[(
                                "d",
                                &days
                                    .get(self.heatmap.to)
                                    .map(ToString::to_string)
                                    .unwrap_or_default(),
                            )],
                        ));
                        heat_changed |= ui
                            .add(
                                egui::Slider::new(&mut self.heatmap.to, 0..=last).show_value(false),
                            )
                            .changed();
                        if self.heatmap.from > self.heatmap.to {
                            self.heatmap.to = self.heatmap.from;
                        }
                    }
                    let cats = v.data.src.categories();
                    let shown = if self.heatmap.category.is_empty() {
                        t(lang, "render.all_categories").to_string()
                    } else {
                        i18n::category(lang, &self.heatmap.category).into_owned()
                    };
                    egui::ComboBox::from_label(t(lang, "heat.category"))
                        .selected_text(shown)
                        .show_ui(ui, |ui| {
                            heat_changed |= ui
                                .selectable_value(
                                    &mut self.heatmap.category,
                                    String::new(),
                                    t(lang, "heat.all"),
                                )
                                .changed();
                            for c in cats {
                                heat_changed |= ui
                                    .selectable_value(
                                        &mut self.heatmap.category,
                                        c.clone(),
                                        i18n::category(lang, c.as_str()),
                                    )
                                    .changed();
                            }
                        });
                    if self.heatmap.on {
                        ui.label(tf(
                            lang,
                            "view.scale_top",
                            &[("v", &format!("{:.0}", v.heat_max))],
                        ));
                    }
                }
                ui.separator();
                ui.label(t(lang, "view.help"));
            });
        if let Some(v) = &self.view
            && let Some(i) = v.selected
            && let Some(g) = v.data.scene.grids.get(i)
        {
            egui::Panel::right("info")
                .resizable(false)
                .default_size(280.0)
                .show(root, |ui| {
                    ui.heading(&g.name);
                    ui.label(format!("{} · {}", g.code, g.community));
                    let d = &v.data.district;
                    if let Some(area) = d
                        .areas_at(gridgov_spatial::Level::Grid)
                        .find(|&a| d.area(a).code == g.code)
                    {
                        ui.separator();
                        ui.label(t(lang, "card.chain"));
                        for a in d.chain(area) {
                            let ar = d.area(a);
                            ui.label(format!(
                                "{} {} ({})",
                                i18n::label(lang, "level", ar.level.as_str()),
                                ar.name,
                                ar.code
                            ));
                        }
                        ui.separator();
                        ui.label(t(lang, "card.staff"));
                        for s in &d.area(area).staff {
                            ui.label(format!(
                                "{} · {} · {}",
                                d.roles.title(&s.role, lang),
                                s.name,
                                s.phone
                            ));
                        }
                    }
                    ui.separator();
                    ui.label(tf(lang, "view.households", &[("n", &g.households)]));
                    if let Some(c) = &g.coverage {
                        ui.label(tf(
                            lang,
                            "view.coverage",
                            &[
                                ("pct", &format!("{:.0}", c.share * 100.0)),
                                ("n", &c.blind_buildings),
                            ],
                        ));
                    }
                    ui.label(tf(
                        lang,
                        "view.incidents",
                        &[("n", &g.incidents), ("open", &g.open_incidents)],
                    ));
                });
        }
        if layers_changed && let (Some(v), Some(live)) = (&mut self.view, &self.live) {
            let d = &v.data.district;
            let idx = GridIndex::new(d);
            let a = assign(d, &idx);
            let scene = Scene::build(d, &a, &stats(d, &a), self.layers);
            v.renderer = Renderer::new(&live.gpu, scene, live.config.format);
            v.overlay = None;
        }
        heat_changed
    }

    fn redraw(&mut self) {
        let Some(live) = &mut self.live else { return };
        let raw = live.egui_state.take_egui_input(&live.window);
        let ctx = live.egui_state.egui_ctx().clone();
        let mut heat_changed = false;
        let mut out = ctx.run_ui(raw, |ui| {
            heat_changed = self.panels(ui);
        });
        if heat_changed {
            self.refresh_heat();
        }
        let Some(live) = &mut self.live else { return };
        live.egui_state
            .handle_platform_output(&live.window, std::mem::take(&mut out.platform_output));
        // egui's texture changes are applied now, whether or not this
        // frame reaches the screen; frees wait until after it.
        let mut textures = std::mem::take(&mut out.textures_delta);
        for (id, deltas) in &textures.set {
            for delta in deltas {
                live.egui_renderer
                    .update_texture(&live.gpu.device, &live.gpu.queue, *id, delta);
            }
        }
        let free = std::mem::take(&mut textures.free);
        textures.clear();
        let frame = match live.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t)
            | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
            other => {
                if matches!(
                    other,
                    wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost
                ) {
                    live.surface.configure(&live.gpu.device, &live.config);
                }
                for id in &free {
                    live.egui_renderer.free_texture(id);
                }
                live.window.request_redraw();
                return;
            }
        };
        let target = frame
            .texture
            .create_view(&wgpu::TextureViewDescriptor::default());
        let mut enc = live
            .gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("frame"),
            });
        if let Some(v) = &mut self.view {
            v.camera.width = live.config.width;
            v.camera.height = live.config.height;
            let stale = v
                .overlay
                .as_ref()
                .is_none_or(|(c, s, _)| *c != v.camera || *s != v.selected);
            if stale {
                let text = OverlayText {
                    highlight: v
                        .selected
                        .and_then(|i| v.renderer.scene.grids.get(i))
                        .map(|g| g.code.clone()),
                    sensors: self.sensors.clone(),
                    ..OverlayText::default()
                };
                let pm = overlay::draw(&v.renderer.scene, &v.camera, &self.opts.font, &text);
                v.overlay = Some((v.camera, v.selected, pm.data().to_vec()));
            }
            let layer = v
                .heat
                .as_ref()
                .filter(|_| self.heatmap.on)
                .map(|h| HeatLayer {
                    heat: h,
                    bandwidth_m: self.heatmap.bandwidth,
                    scale_max: Some(v.heat_max),
                    opacity: 0.85,
                });
            if let Err(e) = v.renderer.draw(
                &live.gpu,
                &mut enc,
                &target,
                &v.camera,
                layer.as_ref(),
                v.overlay.as_ref().map(|o| o.2.as_slice()),
            ) {
                self.status = e.to_string();
            }
        }
        let screen = egui_wgpu::ScreenDescriptor {
            size_in_pixels: [live.config.width, live.config.height],
            pixels_per_point: ctx.pixels_per_point(),
        };
        let jobs = ctx.tessellate(std::mem::take(&mut out.shapes), out.pixels_per_point);
        let extra = live.egui_renderer.update_buffers(
            &live.gpu.device,
            &live.gpu.queue,
            &mut enc,
            &jobs,
            &screen,
        );
        {
            let mut pass = enc
                .begin_render_pass(&wgpu::RenderPassDescriptor {
                    label: Some("panels"),
                    color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                        view: &target,
                        depth_slice: None,
                        resolve_target: None,
                        ops: wgpu::Operations {
                            load: if self.view.is_some() {
                                wgpu::LoadOp::Load
                            } else {
                                wgpu::LoadOp::Clear(wgpu::Color::WHITE)
                            },
                            store: wgpu::StoreOp::Store,
                        },
                    })],
                    depth_stencil_attachment: None,
                    timestamp_writes: None,
                    occlusion_query_set: None,
                    multiview_mask: None,
                })
                .forget_lifetime();
            live.egui_renderer.render(&mut pass, &jobs, &screen);
        }
        for id in &free {
            live.egui_renderer.free_texture(id);
        }
        live.gpu
            .queue
            .submit(extra.into_iter().chain(std::iter::once(enc.finish())));
        live.gpu.queue.present(frame);
        self.frames += 1;
        // Say when a version first reaches the screen.
        let shown = self
            .view
            .as_ref()
            .map(|v| (v.data.version, v.data.revision));
        if shown != self.announced {
            if let Some((v, r)) = shown {
                eprintln!(
                    "frame {} drawn with the map at version {v}, incident revision {r}",
                    self.frames
                );
            }
            self.announced = shown;
        }
        if out
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .is_some_and(|v| v.repaint_delay < Duration::from_secs(1))
        {
            live.window.request_redraw();
        }
    }

    fn pointer_over_panels(&self) -> bool {
        self.live
            .as_ref()
            .is_some_and(|l| l.egui_state.egui_ctx().egui_wants_pointer_input())
    }
}

impl ApplicationHandler<Msg> for App {
    fn resumed(&mut self, el: &ActiveEventLoop) {
        if self.live.is_some() {
            return;
        }
        if let Err(e) = self.open(el) {
            self.error = Some(e);
            el.exit();
            return;
        }
        if let Some(p) = self.pending.take() {
            self.adopt(*p);
        }
        if let Some(l) = &self.live {
            l.window.request_redraw();
        }
    }

    fn user_event(&mut self, _el: &ActiveEventLoop, msg: Msg) {
        match msg {
            Msg::Data(p) => self.adopt(*p),
            Msg::Sensors(m) => {
                self.sensors = m;
                if let Some(v) = &mut self.view {
                    v.overlay = None;
                }
            }
            Msg::Status(s) => self.status = s,
        }
        if let Some(l) = &self.live {
            l.window.request_redraw();
        }
    }

    fn about_to_wait(&mut self, el: &ActiveEventLoop) {
        if let Some(limit) = self.opts.close_after {
            if self.started.elapsed() >= limit {
                el.exit();
            } else {
                el.set_control_flow(ControlFlow::WaitUntil(
                    Instant::now() + Duration::from_millis(200),
                ));
            }
        }
    }

    fn window_event(&mut self, el: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        if let Some(l) = &mut self.live {
            let r = l.egui_state.on_window_event(&l.window, &event);
            if r.repaint {
                l.window.request_redraw();
            }
            if r.consumed {
                return;
            }
        }
        match event {
            WindowEvent::CloseRequested => el.exit(),
            WindowEvent::Resized(size) => {
                if let Some(l) = &mut self.live {
                    l.config.width = size.width.max(1);
                    l.config.height = size.height.max(1);
                    l.surface.configure(&l.gpu.device, &l.config);
                    l.window.request_redraw();
                }
            }
            WindowEvent::RedrawRequested => self.redraw(),
            WindowEvent::CursorMoved { position, .. } => {
                let p = [position.x as f32, position.y as f32];
                if let (Some((button, start, last)), Some(v)) = (self.drag, &mut self.view) {
                    let (dx, dy) = (p[0] - last[0], p[1] - last[1]);
                    match button {
                        MouseButton::Left => {
                            let a = v.camera.to_ground(last);
                            let b = v.camera.to_ground(p);
                            v.camera.centre = [
                                v.camera.centre[0] - (b[0] - a[0]),
                                v.camera.centre[1] - (b[1] - a[1]),
                            ];
                        }
                        MouseButton::Right => {
                            v.camera.rotation_deg =
                                (v.camera.rotation_deg - dx * 0.3).rem_euclid(360.0);
                            v.camera.tilt_deg = (v.camera.tilt_deg - dy * 0.3).clamp(0.0, 60.0);
                        }
                        _ => {}
                    }
                    self.drag = Some((button, start, p));
                    if let Some(l) = &self.live {
                        l.window.request_redraw();
                    }
                }
                self.cursor = p;
            }
            WindowEvent::MouseInput { state, button, .. } => {
                if self.pointer_over_panels() {
                    return;
                }
                match state {
                    ElementState::Pressed => self.drag = Some((button, self.cursor, self.cursor)),
                    ElementState::Released => {
                        if let (Some((MouseButton::Left, start, _)), Some(v)) =
                            (self.drag, &mut self.view)
                            && (start[0] - self.cursor[0]).abs() < 3.0
                            && (start[1] - self.cursor[1]).abs() < 3.0
                        {
                            let g = v.camera.to_ground(self.cursor);
                            v.selected = v.renderer.scene.grid_at(g);
                            if let Some(l) = &self.live {
                                l.window.request_redraw();
                            }
                        }
                        self.drag = None;
                    }
                }
            }
            WindowEvent::MouseWheel { delta, .. } => {
                if let Some(v) = &mut self.view {
                    let steps = match delta {
                        MouseScrollDelta::LineDelta(_, y) => y,
                        MouseScrollDelta::PixelDelta(p) => p.y as f32 / 60.0,
                    };
                    // Zoom about the cursor: the ground under it stays put.
                    let before = v.camera.to_ground(self.cursor);
                    v.camera.metres_per_px =
                        (v.camera.metres_per_px * 0.85f32.powf(steps)).clamp(0.02, 200.0);
                    let after = v.camera.to_ground(self.cursor);
                    v.camera.centre[0] += before[0] - after[0];
                    v.camera.centre[1] += before[1] - after[1];
                    if let Some(l) = &self.live {
                        l.window.request_redraw();
                    }
                }
            }
            WindowEvent::KeyboardInput { event, .. } if event.state == ElementState::Pressed => {
                if let Some(v) = &mut self.view {
                    match event.logical_key.as_ref() {
                        Key::Character("q") => {
                            v.camera.rotation_deg =
                                (v.camera.rotation_deg - 10.0).rem_euclid(360.0);
                        }
                        Key::Character("e") => {
                            v.camera.rotation_deg =
                                (v.camera.rotation_deg + 10.0).rem_euclid(360.0);
                        }
                        Key::Character("w") => {
                            v.camera.tilt_deg = (v.camera.tilt_deg + 10.0).min(60.0);
                        }
                        Key::Character("s") => {
                            v.camera.tilt_deg = (v.camera.tilt_deg - 10.0).max(0.0);
                        }
                        Key::Named(NamedKey::Home) => {
                            v.camera = Camera::fit(
                                v.renderer.scene.bounds,
                                v.camera.width,
                                v.camera.height,
                                20,
                            );
                        }
                        _ => return,
                    }
                    if let Some(l) = &self.live {
                        l.window.request_redraw();
                    }
                }
            }
            _ => {}
        }
    }
}
