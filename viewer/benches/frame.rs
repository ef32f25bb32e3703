//! Frame time of the one-screen view: `cargo bench -p gridgov-viewer`.
//!
//! The sample district plus N clustered incidents (default 1 M; set
//! `GRIDGOV_BENCH_INCIDENTS`), drawn at 3840×2160 (`GRIDGOV_BENCH_SIZE`,
//! e.g. `1920x1080`) with the heatmap recomputed every frame, as when the
//! view pans. Timed from recording to the GPU finishing; the read-back of
//! the image is timed apart.

use std::time::Instant;

use gridgov_spatial::{GridIndex, assign, sample, stats};
use gridgov_viewer::{Camera, Gpu, GpuHeat, HeatLayer, Layers, Renderer, Scene, TextureFormat};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::var("GRIDGOV_BENCH_INCIDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let (w, h) = std::env::var("GRIDGOV_BENCH_SIZE")
        .ok()
        .and_then(|v| {
            let (a, b) = v.split_once('x')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .unwrap_or((3840u32, 2160u32));
    let d = sample::district(&sample::SampleSpec::default());
    let a = assign(&d, &GridIndex::new(&d));
    let scene = Scene::build(&d, &a, &stats(&d, &a), Layers::default());
    let [x0, y0, x1, y1] = scene.bounds;
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f32 / (1u64 << 53) as f32
    };
    let centres: Vec<[f32; 2]> = (0..400)
        .map(|_| [x0 + next() * (x1 - x0), y0 + next() * (y1 - y0)])
        .collect();
    let pts: Vec<[f32; 2]> = (0..n)
        .map(|i| {
            let c = centres[i % centres.len()];
            let (u, v) = (next().max(1e-12), next());
            let r = (-2.0 * u.ln()).sqrt() * 120.0;
            let t = std::f32::consts::TAU * v;
            [c[0] + r * t.cos(), c[1] + r * t.sin()]
        })
        .collect();
    let gpu = Gpu::headless().expect("a GPU adapter");
    let t = Instant::now();
    let renderer = Renderer::new(&gpu, scene, TextureFormat::Rgba8Unorm);
    let heat = GpuHeat::new(&gpu, &pts, None);
    println!(
        "set-up (pipelines, {} triangles, {n} incidents uploaded): {:.0} ms on {}",
        renderer.scene.fills.triangles() + renderer.scene.strokes.triangles(),
        t.elapsed().as_secs_f64() * 1e3,
        gpu.describe()
    );
    let cam = Camera::fit(renderer.scene.bounds, w, h, 40);
    let layer = HeatLayer {
        heat: &heat,
        bandwidth_m: 150.0,
        scale_max: None,
        opacity: 0.85,
    };
    let target = gpu.device.create_texture(&wgpu::TextureDescriptor {
        label: Some("frame"),
        size: wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: TextureFormat::Rgba8Unorm,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    let view = target.create_view(&wgpu::TextureViewDescriptor::default());
    let frame = |with_heat: bool| {
        let t = Instant::now();
        let mut enc = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        renderer
            .draw(
                &gpu,
                &mut enc,
                &view,
                &cam,
                with_heat.then_some(&layer),
                None,
            )
            .expect("frame");
        gpu.queue.submit([enc.finish()]);
        gpu.device
            .poll(wgpu::PollType::wait_indefinitely())
            .expect("poll");
        t.elapsed().as_secs_f64() * 1e3
    };
    for with_heat in [false, true] {
        frame(with_heat);
        let times: Vec<f64> = (0..7).map(|_| frame(with_heat)).collect();
        println!(
            "frame {w}×{h}, map{}: median {:.0} ms (runs {:?})",
            if with_heat {
                " + heatmap of all incidents"
            } else {
                " only"
            },
            median(times.clone()),
            times.iter().map(|t| t.round() as i64).collect::<Vec<_>>()
        );
    }
    let t = Instant::now();
    let _ = renderer
        .render_rgba(&gpu, &cam, Some(&layer), None)
        .expect("frame");
    println!(
        "one frame with read-back to memory (as `gridgov render`): {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
}
