//! What is drawn over the map on the CPU: grid names, the highlighted
//! grid, the title with the period and the time of drawing, the heatmap
//! legend, and the per-grid counts panel. Text needs a font that draws
//! Chinese; it comes in as a [`LabelFont`].

use gridgov_tiles::LabelFont;
use tiny_skia::{
    Color, LinearGradient, Paint, PathBuilder, Pixmap, Point, Rect, SpreadMode, Stroke, Transform,
};

use crate::camera::Camera;
use crate::scene::Scene;

/// One row of the panel on the right: a grid, a bar, a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct CountRow {
    /// Grid name.
    pub name: String,
    /// The bar's length, 0 to 1.
    pub bar: f32,
    /// The figure, e.g. `458 (35 open)`.
    pub text: String,
}

/// A monitoring point on the map: a dot (red while its alarm is open)
/// with its name and reading, and a small chart of its recent readings
/// with the threshold across it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SensorMark {
    /// Where it is (WGS 84).
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// Whether its alarm is open.
    pub alarm: bool,
    /// Its name and last reading, e.g. `人民路下穿桥 41 cm`.
    pub label: String,
    /// Its recent readings, oldest first.
    pub series: Vec<f32>,
    /// Its threshold.
    pub threshold: f32,
}

/// The colour of a monitoring point's dot.
pub fn sensor_colour(alarm: bool) -> [u8; 4] {
    if alarm {
        [0xd3, 0x2f, 0x2f, 0xff]
    } else {
        [0x02, 0x77, 0xbd, 0xff]
    }
}

/// What the overlay says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OverlayText {
    /// The district.
    pub title: String,
    /// What is shown (period, filters).
    pub subtitle: String,
    /// When it was drawn.
    pub timestamp: String,
    /// The heatmap's scale: top value and its title (what and in which
    /// unit); `None`: no heatmap.
    pub legend: Option<(f32, String)>,
    /// The counts panel, largest first.
    pub counts: Vec<CountRow>,
    /// The panel's heading.
    pub counts_title: String,
    /// A grid to outline.
    pub highlight: Option<String>,
    /// The monitoring points.
    pub sensors: Vec<SensorMark>,
}

fn paint(r: u8, g: u8, b: u8, a: u8) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(Color::from_rgba8(r, g, b, a));
    p.anti_alias = true;
    p
}

fn panel(pm: &mut Pixmap, x: f32, y: f32, w: f32, h: f32) {
    if let Some(r) = Rect::from_xywh(x, y, w, h) {
        pm.fill_rect(
            r,
            &paint(0xff, 0xff, 0xff, 0xe6),
            Transform::identity(),
            None,
        );
    }
}

/// Draws the overlay for `camera` (its size) and returns premultiplied
/// RGBA rows, ready for the GPU to blend over the map.
pub fn draw(scene: &Scene, camera: &Camera, font: &LabelFont, text: &OverlayText) -> Pixmap {
    let (w, h) = (camera.width.max(1), camera.height.max(1));
    let mut pm = Pixmap::new(w, h).unwrap_or_else(|| {
        Pixmap::new(1, 1).unwrap_or_else(|| unreachable!("a 1×1 pixmap always fits"))
    });
    // Everything scales with the image: 1 unit is 1/1080 of the height.
    let u = h as f32 / 1080.0;
    let white = [0xff, 0xff, 0xff, 0xd8];
    let ink = [0x1f, 0x33, 0x4d, 0xff];

    // The highlighted grid.
    if let Some(code) = &text.highlight
        && let Some(g) = scene.grids.iter().find(|g| &g.code == code)
    {
        let mut pb = PathBuilder::new();
        for ring in g.polygons.iter().flatten() {
            for (k, p) in ring.iter().enumerate() {
                let s = camera.to_screen(*p);
                if k == 0 {
                    pb.move_to(s[0], s[1]);
                } else {
                    pb.line_to(s[0], s[1]);
                }
            }
            pb.close();
        }
        if let Some(path) = pb.finish() {
            let stroke = Stroke {
                width: 4.0 * u,
                ..Stroke::default()
            };
            pm.stroke_path(
                &path,
                &paint(0xc0, 0x39, 0x2b, 0xff),
                &stroke,
                Transform::identity(),
                None,
            );
        }
    }

    // Grid names where they fit.
    let label_px = 15.0 * u;
    for l in &scene.labels {
        let (tw, _) = font.measure(&l.text, label_px);
        if tw * camera.metres_per_px > l.room_m * 0.9 {
            continue;
        }
        let s = camera.to_screen(l.at);
        if s[0] < 0.0 || s[1] < 0.0 || s[0] > w as f32 || s[1] > h as f32 {
            continue;
        }
        font.draw(&mut pm, &l.text, (s[0], s[1]), label_px, ink, white);
    }

    // Monitoring points: a dot, the name and reading, a small chart.
    for m in &text.sensors {
        let s = camera.to_screen(scene.project(m.lon, m.lat));
        if s[0] < 0.0 || s[1] < 0.0 || s[0] > w as f32 || s[1] > h as f32 {
            continue;
        }
        let c = sensor_colour(m.alarm);
        if let Some(dot) = PathBuilder::from_circle(s[0], s[1], 9.0 * u) {
            pm.fill_path(
                &dot,
                &paint(c[0], c[1], c[2], c[3]),
                tiny_skia::FillRule::Winding,
                Transform::identity(),
                None,
            );
            let ring = Stroke {
                width: 2.0 * u,
                ..Stroke::default()
            };
            pm.stroke_path(
                &dot,
                &paint(0xff, 0xff, 0xff, 0xff),
                &ring,
                Transform::identity(),
                None,
            );
        }
        let (cx, cy, cw, ch) = (s[0] + 16.0 * u, s[1] - 44.0 * u, 150.0 * u, 40.0 * u);
        panel(&mut pm, cx, cy - 24.0 * u, cw, ch + 26.0 * u);
        let (lw, _) = font.measure(&m.label, 14.0 * u);
        font.draw(
            &mut pm,
            &m.label,
            (cx + 6.0 * u + lw / 2.0, cy - 6.0 * u),
            14.0 * u,
            c,
            [0xff, 0xff, 0xff, 0],
        );
        if m.series.len() >= 2 {
            let lo = m.series.iter().copied().fold(0.0_f32, f32::min);
            let hi = m
                .series
                .iter()
                .copied()
                .fold(m.threshold, f32::max)
                .max(lo + 1e-3)
                * 1.1;
            let y = |v: f32| cy + ch - 4.0 * u - (v - lo) / (hi - lo) * (ch - 8.0 * u);
            let x =
                |k: usize| cx + 6.0 * u + k as f32 / (m.series.len() - 1) as f32 * (cw - 12.0 * u);
            let mut pb = PathBuilder::new();
            for (k, v) in m.series.iter().enumerate() {
                if k == 0 {
                    pb.move_to(x(k), y(*v));
                } else {
                    pb.line_to(x(k), y(*v));
                }
            }
            let line = Stroke {
                width: 1.5 * u,
                ..Stroke::default()
            };
            if let Some(path) = pb.finish() {
                pm.stroke_path(
                    &path,
                    &paint(0x02, 0x77, 0xbd, 0xff),
                    &line,
                    Transform::identity(),
                    None,
                );
            }
            let mut th = PathBuilder::new();
            th.move_to(cx + 6.0 * u, y(m.threshold));
            th.line_to(cx + cw - 6.0 * u, y(m.threshold));
            if let Some(path) = th.finish() {
                let dashed = Stroke {
                    width: 1.0 * u,
                    dash: tiny_skia::StrokeDash::new(vec![4.0 * u, 3.0 * u], 0.0),
                    ..Stroke::default()
                };
                pm.stroke_path(
                    &path,
                    &paint(0xd3, 0x2f, 0x2f, 0xff),
                    &dashed,
                    Transform::identity(),
                    None,
                );
            }
        }
    }

    // Title, period, time.
    let (t1, t2, t3) = (34.0 * u, 20.0 * u, 16.0 * u);
    let tw = [
        font.measure(&text.title, t1).0,
        font.measure(&text.subtitle, t2).0,
        font.measure(&text.timestamp, t3).0,
    ]
    .into_iter()
    .fold(0.0, f32::max);
    let (x0, y0) = (24.0 * u, 24.0 * u);
    panel(&mut pm, x0, y0, tw + 32.0 * u, 118.0 * u);
    let left = |pm: &mut Pixmap, s: &str, y: f32, px: f32, c: [u8; 4]| {
        let (sw, _) = font.measure(s, px);
        font.draw(
            pm,
            s,
            (x0 + 16.0 * u + sw / 2.0, y),
            px,
            c,
            [0xff, 0xff, 0xff, 0],
        );
    };
    left(&mut pm, &text.title, y0 + 34.0 * u, t1, ink);
    left(
        &mut pm,
        &text.subtitle,
        y0 + 72.0 * u,
        t2,
        [0x33, 0x33, 0x33, 0xff],
    );
    left(
        &mut pm,
        &text.timestamp,
        y0 + 100.0 * u,
        t3,
        [0x66, 0x66, 0x66, 0xff],
    );

    // The heatmap legend, bottom left.
    if let Some((max, unit)) = &text.legend {
        let (lw, lh) = (420.0 * u, 96.0 * u);
        let (lx, ly) = (24.0 * u, h as f32 - lh - 24.0 * u);
        panel(&mut pm, lx, ly, lw, lh);
        let stops: Vec<tiny_skia::GradientStop> = (0..=8)
            .map(|k| {
                let t = k as f32 / 8.0;
                let c = gridgov_tiles::colormap::inferno(t);
                tiny_skia::GradientStop::new(t, Color::from_rgba8(c[0], c[1], c[2], 0xff))
            })
            .collect();
        let (bx, by, bw, bh) = (lx + 16.0 * u, ly + 40.0 * u, lw - 32.0 * u, 16.0 * u);
        if let (Some(shader), Some(rect)) = (
            LinearGradient::new(
                Point::from_xy(bx, 0.0),
                Point::from_xy(bx + bw, 0.0),
                stops,
                SpreadMode::Pad,
                Transform::identity(),
            ),
            Rect::from_xywh(bx, by, bw, bh),
        ) {
            let p = Paint {
                shader,
                ..Paint::default()
            };
            pm.fill_rect(rect, &p, Transform::identity(), None);
        }
        let lp = 15.0 * u;
        let title = unit.clone();
        let (ttw, _) = font.measure(&title, lp);
        font.draw(
            &mut pm,
            &title,
            (bx + ttw / 2.0, ly + 22.0 * u),
            lp,
            ink,
            [0xff; 4],
        );
        for (k, v) in [0.0, max / 2.0, *max].into_iter().enumerate() {
            let s = format!("{v:.0}");
            let x = bx + bw * k as f32 / 2.0;
            let (sw, _) = font.measure(&s, lp);
            let x = x.clamp(bx + sw / 2.0, bx + bw - sw / 2.0);
            font.draw(&mut pm, &s, (x, by + bh + 14.0 * u), lp, ink, [0xff; 4]);
        }
    }

    // Counts per grid, right.
    if !text.counts.is_empty() {
        let rows = text
            .counts
            .len()
            .min(((h as f32 - 200.0 * u) / (30.0 * u)) as usize)
            .min(20);
        let (pw, row_h) = (400.0 * u, 30.0 * u);
        let ph = 60.0 * u + rows as f32 * row_h;
        let (px0, py0) = (w as f32 - pw - 24.0 * u, 24.0 * u);
        panel(&mut pm, px0, py0, pw, ph);
        let hp = 19.0 * u;
        let (hw, _) = font.measure(&text.counts_title, hp);
        font.draw(
            &mut pm,
            &text.counts_title,
            (px0 + 16.0 * u + hw / 2.0, py0 + 28.0 * u),
            hp,
            ink,
            [0xff; 4],
        );
        let rp = 15.0 * u;
        for (k, r) in text.counts.iter().take(rows).enumerate() {
            let y = py0 + 60.0 * u + k as f32 * row_h;
            let bar_w = (pw - 340.0 * u) * r.bar.clamp(0.0, 1.0);
            // Bars are whole pixels, not anti-aliased (which also keeps
            // tiny-skia's hairline path off one-pixel rectangles).
            let mut bar_paint = paint(0xdb, 0x53, 0x39, 0xff);
            bar_paint.anti_alias = false;
            if let Some(rect) = Rect::from_xywh(
                (px0 + 180.0 * u).round(),
                (y - 8.0 * u).round(),
                bar_w.round().max(2.0),
                (16.0 * u).round().max(2.0),
            ) {
                pm.fill_rect(rect, &bar_paint, Transform::identity(), None);
            }
            let (nw, _) = font.measure(&r.name, rp);
            font.draw(
                &mut pm,
                &r.name,
                (px0 + 16.0 * u + nw / 2.0, y),
                rp,
                ink,
                [0xff; 4],
            );
            let n = &r.text;
            let (cw, _) = font.measure(n, rp * 0.9);
            font.draw(
                &mut pm,
                n,
                (px0 + pw - 16.0 * u - cw / 2.0, y),
                rp * 0.9,
                [0x33, 0x33, 0x33, 0xff],
                [0xff, 0xff, 0xff, 0xb0],
            );
        }
    }
    pm
}
