//! Raster tiles: the plan map (grid fills by kind, borders, buildings,
//! markers), anti-aliased with tiny-skia, and the heatmap overlay, both
//! encoded as PNG with the `image` crate.

use gridgov_spatial::GridKind;
use tiny_skia::{Color, FillRule, Paint, PathBuilder, Pixmap, Stroke, Transform};

use crate::basemap::Rank;
use crate::colormap::shade;
use crate::kde::RasterSpec;
use crate::label::LabelFont;
use crate::source::{IncidentFilter, PointLayer, TileSource};
use crate::tile::TileId;

/// Why a raster could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RasterError {
    /// Size zero or over 4096 pixels.
    #[error("tile size {0} is not between 1 and 4096 pixels")]
    Size(u32),
    /// PNG encoding failed.
    #[error("PNG encoding: {0}")]
    Png(String),
}

fn rgba(r: u8, g: u8, b: u8, a: u8) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(Color::from_rgba8(r, g, b, a));
    p.anti_alias = true;
    p
}

/// Encodes straight (not premultiplied) RGBA as PNG.
pub fn png(width: u32, height: u32, rgba: Vec<u8>) -> Result<Vec<u8>, RasterError> {
    let img = image::RgbaImage::from_raw(width, height, rgba)
        .ok_or_else(|| RasterError::Png("buffer size".into()))?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| RasterError::Png(e.to_string()))?;
    Ok(out.into_inner())
}

/// A pixmap's pixels as straight (not premultiplied) RGBA.
fn pixmap_rgba(p: &Pixmap) -> Vec<u8> {
    p.pixels()
        .iter()
        .flat_map(|c| {
            let c = c.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
        .collect()
}

fn pixmap_png(p: &Pixmap) -> Result<Vec<u8>, RasterError> {
    png(p.width(), p.height(), pixmap_rgba(p))
}

/// Whether a box `2·hw × 2·hh` centred on `at` lies inside `polys`: the
/// horizontal runs through its top, middle and bottom all contain it.
fn fits(polys: &[Vec<Vec<[f64; 2]>>], at: [f64; 2], hw: f64, hh: f64) -> bool {
    [at[1] - hh, at[1], at[1] + hh].into_iter().all(|y| {
        let mut xs: Vec<f64> = Vec::new();
        for ring in polys.iter().flatten() {
            for e in ring.windows(2) {
                let ([ax, ay], [bx, by]) = (e[0], e[1]);
                if (ay > y) != (by > y) {
                    xs.push(ax + (y - ay) / (by - ay) * (bx - ax));
                }
            }
        }
        xs.sort_by(f64::total_cmp);
        xs.chunks_exact(2)
            .any(|run| run[0] <= at[0] - hw && at[0] + hw <= run[1])
    })
}

/// A category's marker colour: stable, from a small qualitative palette.
/// The path of polygons' rings (Mercator), through `px` to pixels.
fn polys_path(
    polys: &[Vec<Vec<[f64; 2]>>],
    px: &dyn Fn([f64; 2]) -> (f32, f32),
) -> Option<tiny_skia::Path> {
    let mut pb = PathBuilder::new();
    for rings in polys {
        for r in rings {
            for (k, p) in r.iter().enumerate() {
                let (x, y) = px(*p);
                if k == 0 {
                    pb.move_to(x, y);
                } else {
                    pb.line_to(x, y);
                }
            }
            pb.close();
        }
    }
    pb.finish()
}

fn category_colour(cat: &str) -> (u8, u8, u8) {
    const PALETTE: [(u8, u8, u8); 8] = [
        (0x1b, 0x9e, 0x77),
        (0xd9, 0x5f, 0x02),
        (0x75, 0x70, 0xb3),
        (0xe7, 0x29, 0x8a),
        (0x66, 0xa6, 0x1e),
        (0xe6, 0xab, 0x02),
        (0xa6, 0x76, 0x1d),
        (0x66, 0x66, 0x66),
    ];
    let h = cat
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    PALETTE[h as usize % PALETTE.len()]
}

impl TileSource {
    /// The plan-map raster tile `t`, `size` pixels square, with grid names
    /// where they fit when a `font` is given.
    ///
    /// ```
    /// use gridgov_spatial::{sample, GridIndex, assign, stats};
    /// use gridgov_tiles::{TileSource, TileId};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let src = TileSource::new(&d, &a, &stats(&d, &a));
    /// let png = src.plan_png(TileId::containing(117.555, 34.865, 15), 256, None).unwrap();
    /// assert_eq!(&png[1..4], b"PNG");
    /// ```
    pub fn plan_png(
        &self,
        t: TileId,
        size: u32,
        font: Option<&LabelFont>,
    ) -> Result<Vec<u8>, RasterError> {
        pixmap_png(&self.plan_pixmap(t, size, font)?)
    }

    /// The plan map for the public (the residents' page): the basemap,
    /// buildings and grids with their names, without the merchants and
    /// the cameras.
    ///
    /// ```
    /// use gridgov_spatial::{sample, GridIndex, assign, stats};
    /// use gridgov_tiles::{TileSource, TileId};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let src = TileSource::new(&d, &a, &stats(&d, &a));
    /// let t = TileId::containing(117.555, 34.865, 17);
    /// assert_ne!(src.public_plan_png(t, 256, None).unwrap(), src.plan_png(t, 256, None).unwrap());
    /// ```
    pub fn public_plan_png(
        &self,
        t: TileId,
        size: u32,
        font: Option<&LabelFont>,
    ) -> Result<Vec<u8>, RasterError> {
        pixmap_png(&self.plan_pixmap_with(t, size, font, false)?)
    }

    /// The plan map drawn into a pixmap (for tests and composition).
    pub fn plan_pixmap(
        &self,
        t: TileId,
        size: u32,
        font: Option<&LabelFont>,
    ) -> Result<Pixmap, RasterError> {
        self.plan_pixmap_with(t, size, font, true)
    }

    fn plan_pixmap_with(
        &self,
        t: TileId,
        size: u32,
        font: Option<&LabelFont>,
        points: bool,
    ) -> Result<Pixmap, RasterError> {
        if size == 0 || size > 4096 {
            return Err(RasterError::Size(size));
        }
        let mut pm = Pixmap::new(size, size).ok_or(RasterError::Size(size))?;
        self.draw_plan(&mut pm, t.bounds(), t.z, points);
        if let Some(font) = font {
            self.draw_labels(&mut pm, t, font);
        }
        Ok(pm)
    }

    /// The plan map of the Mercator `bounds` over the whole pixmap (of the
    /// same aspect), with the detail of zoom `z`; the merchants and
    /// cameras with `points`.
    fn draw_plan(&self, pm: &mut Pixmap, bounds: [f64; 4], z: u8, points: bool) {
        pm.fill(Color::from_rgba8(0xf4, 0xf1, 0xea, 0xff));
        let [x0, y0, x1, y1] = bounds;
        let scale = f64::from(pm.width()) / (x1 - x0);
        let margin = 8.0 / scale;
        let q = [x0 - margin, y0 - margin, x1 + margin, y1 + margin];
        let px = |p: [f64; 2]| (((p[0] - x0) * scale) as f32, ((y1 - p[1]) * scale) as f32);
        let path_of = |polys: &Vec<Vec<Vec<[f64; 2]>>>| polys_path(polys, &px);
        let id = Transform::identity();
        let grids = self.grids_in(q);
        for &i in &grids {
            let g = &self.grids[i];
            let fill = match g.kind {
                Some(GridKind::Exclusive) => rgba(0xf3, 0xd2, 0x9e, 0xc0),
                _ => rgba(0xd6, 0xe6, 0xd0, 0xc0),
            };
            if let Some(p) = path_of(&g.polys) {
                pm.fill_path(&p, &fill, FillRule::EvenOdd, id, None);
            }
        }
        self.draw_basemap(pm, q, z, scale, &px);
        if z >= 14 {
            let stroke = Stroke {
                width: if z >= 17 { 0.8 } else { 0.5 },
                ..Stroke::default()
            };
            for i in self.buildings_in(q) {
                if let Some(p) = path_of(&self.buildings[i].polys) {
                    pm.fill_path(
                        &p,
                        &rgba(0xc4, 0xbc, 0xae, 0xff),
                        FillRule::EvenOdd,
                        id,
                        None,
                    );
                    pm.stroke_path(&p, &rgba(0x8a, 0x82, 0x76, 0xff), &stroke, id, None);
                }
            }
        }
        let border = Stroke {
            width: if z >= 16 { 2.0 } else { 1.2 },
            ..Stroke::default()
        };
        for &i in &grids {
            let g = &self.grids[i];
            let colour = match g.kind {
                Some(GridKind::Exclusive) => rgba(0xb3, 0x6b, 0x00, 0xff),
                _ => rgba(0x3d, 0x5a, 0x80, 0xff),
            };
            if let Some(p) = path_of(&g.polys) {
                pm.stroke_path(&p, &colour, &border, id, None);
            }
        }
        let dot = |pm: &mut Pixmap,
                   layer: &PointLayer,
                   r: f32,
                   colour: &dyn Fn(usize) -> (u8, u8, u8)| {
            for (i, p) in TileSource::points_in(layer, q) {
                let (x, y) = px(p);
                if let Some(c) = PathBuilder::from_circle(x, y, r) {
                    let (cr, cg, cb) = colour(i);
                    pm.fill_path(&c, &rgba(cr, cg, cb, 0xff), FillRule::Winding, id, None);
                    pm.stroke_path(
                        &c,
                        &rgba(0xff, 0xff, 0xff, 0xff),
                        &Stroke {
                            width: 0.6,
                            ..Stroke::default()
                        },
                        id,
                        None,
                    );
                }
            }
        };
        if points && z >= 15 {
            let r = if z >= 17 { 3.5 } else { 2.2 };
            dot(pm, &self.merchants, r, &|i| {
                let cat = self.merchants.props[i]
                    .iter()
                    .find(|(k, _)| *k == "category")
                    .and_then(|(_, v)| match v {
                        crate::mvt::Prop::Str(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .unwrap_or("");
                category_colour(cat)
            });
            dot(pm, &self.cameras, r, &|_| (0xc6, 0x28, 0x28));
        }
    }

    /// Water, then roads (a grey casing under a white or yellow fill, the
    /// widest on top), under the buildings and the grid borders.
    fn draw_basemap(
        &self,
        pm: &mut Pixmap,
        q: [f64; 4],
        z: u8,
        scale: f64,
        px: &dyn Fn([f64; 2]) -> (f32, f32),
    ) {
        let base = &self.base;
        let id = Transform::identity();
        let water = rgba(0xa8, 0xcc, 0xe8, 0xff);
        for i in base.areas_in(q) {
            if let Some(p) = polys_path(&base.areas[i].polys, px) {
                pm.fill_path(&p, &water, FillRule::EvenOdd, id, None);
            }
        }
        // Pixels per ground metre here.
        let per_m = scale / crate::tile::ground_scale(f64::midpoint(q[1], q[3]));
        let lines = base.lines_in(q, z);
        let path = |i: usize| {
            let mut pb = PathBuilder::new();
            for (k, p) in base.lines[i].pts.iter().enumerate() {
                let (x, y) = px(*p);
                if k == 0 {
                    pb.move_to(x, y);
                } else {
                    pb.line_to(x, y);
                }
            }
            pb.finish()
        };
        let width = |r: Rank| {
            let least = match r {
                Rank::Major => 2.2,
                Rank::Street => 1.4,
                Rank::Minor => 0.7,
                Rank::Waterway => 1.2,
            };
            ((r.width_m() * per_m) as f32).clamp(least, 40.0)
        };
        let stroke = |w: f32| Stroke {
            width: w,
            line_cap: tiny_skia::LineCap::Round,
            line_join: tiny_skia::LineJoin::Round,
            ..Stroke::default()
        };
        for &i in lines
            .iter()
            .filter(|&&i| base.lines[i].rank == Rank::Waterway)
        {
            if let Some(p) = path(i) {
                let w = width(Rank::Waterway);
                pm.stroke_path(&p, &water, &stroke(w), id, None);
            }
        }
        let roads: Vec<usize> = lines
            .into_iter()
            .filter(|&i| base.lines[i].rank != Rank::Waterway)
            .collect();
        for &i in &roads {
            if let Some(p) = path(i) {
                let w = width(base.lines[i].rank);
                pm.stroke_path(
                    &p,
                    &rgba(0xb5, 0xad, 0xa0, 0xff),
                    &stroke(w + 1.6),
                    id,
                    None,
                );
            }
        }
        for &i in &roads {
            let r = base.lines[i].rank;
            let fill = if r == Rank::Major {
                rgba(0xfc, 0xe8, 0xa8, 0xff)
            } else {
                rgba(0xff, 0xff, 0xff, 0xff)
            };
            if let Some(p) = path(i) {
                pm.stroke_path(&p, &fill, &stroke(width(r)), id, None);
            }
        }
    }

    /// The whole district on one image `width` pixels wide: the plan map
    /// with the incident heatmap over it, coloured from zero to its own
    /// peak (for reports), and with a `font` the road and place names over
    /// the heat. The height follows the district's shape.
    ///
    /// ```
    /// use gridgov_spatial::{sample, GridIndex, assign, stats};
    /// use gridgov_tiles::{TileSource, IncidentFilter};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let src = TileSource::new(&d, &a, &stats(&d, &a));
    /// let png = src.overview_png(400, &IncidentFilter::default(), 150.0, None).unwrap();
    /// let img = image::load_from_memory(&png).unwrap();
    /// assert_eq!(img.width(), 400);
    /// ```
    pub fn overview_png(
        &self,
        width: u32,
        f: &IncidentFilter,
        bandwidth_m: f64,
        font: Option<&LabelFont>,
    ) -> Result<Vec<u8>, RasterError> {
        let img = self.overview_image(width, f, bandwidth_m, font)?;
        png(img.width(), img.height(), img.into_raw())
    }

    /// [`overview_png`](Self::overview_png)'s picture as opaque RGBA
    /// pixels, for a page that embeds its own image format (the PDF
    /// report).
    ///
    /// ```
    /// use gridgov_spatial::{sample, GridIndex, assign, stats};
    /// use gridgov_tiles::{TileSource, IncidentFilter};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let src = TileSource::new(&d, &a, &stats(&d, &a));
    /// let img = src.overview_image(300, &IncidentFilter::default(), 150.0, None).unwrap();
    /// assert_eq!(img.width(), 300);
    /// assert!(img.pixels().all(|p| p.0[3] == 255));
    /// ```
    pub fn overview_image(
        &self,
        width: u32,
        f: &IncidentFilter,
        bandwidth_m: f64,
        font: Option<&LabelFont>,
    ) -> Result<image::RgbaImage, RasterError> {
        if width == 0 || width > 4096 {
            return Err(RasterError::Size(width));
        }
        let [bx0, by0, bx1, by1] = self.bounds;
        let pad = 0.03 * (bx1 - bx0).max(by1 - by0).max(1.0);
        let (x0, y0, x1, y1) = (bx0 - pad, by0 - pad, bx1 + pad, by1 + pad);
        let scale = f64::from(width) / (x1 - x0);
        let height = (((y1 - y0) * scale).round() as u32).clamp(1, 4096);
        let y0 = y1 - f64::from(height) / scale;
        let mut pm = Pixmap::new(width, height).ok_or(RasterError::Size(height))?;
        // The zoom whose 256-pixel tiles have this scale.
        let z = (scale * 2.0 * crate::tile::HALF_WORLD / 256.0)
            .log2()
            .floor()
            .clamp(0.0, 22.0) as u8;
        self.draw_plan(&mut pm, [x0, y0, x1, y1], z, true);
        let spec = RasterSpec {
            bounds: [x0, y0, x1, y1],
            width: width as usize,
            height: height as usize,
        };
        let d = self.density(&spec, f, bandwidth_m, false);
        let heat = shade(&d, d.max(), 0.85);
        // The heat over the opaque plan map: straight alpha over.
        for (px, h) in pm.data_mut().chunks_exact_mut(4).zip(heat.chunks_exact(4)) {
            let a = u16::from(h[3]);
            for k in 0..3 {
                px[k] = ((u16::from(h[k]) * a + u16::from(px[k]) * (255 - a) + 127) / 255) as u8;
            }
        }
        // Road and place names over the heat, so readers know where it is.
        if let Some(font) = font {
            self.draw_basemap_labels_in(&mut pm, [x0, y0, x1, y1], z, font, 12.0);
        }
        image::RgbaImage::from_raw(width, height, pixmap_rgba(&pm))
            .ok_or_else(|| RasterError::Png("buffer size".into()))
    }

    /// Grid names, centred on a fixed point inside each grid, drawn where
    /// the name fits inside the grid at this zoom. A name that crosses a
    /// tile edge is drawn in both tiles at the same place.
    fn draw_labels(&self, pm: &mut Pixmap, t: TileId, font: &LabelFont) {
        let size = pm.width() as f32;
        let [x0, y0, x1, y1] = t.bounds();
        let scale = f64::from(size) / (x1 - x0);
        let px_size = size / 256.0 * if t.z >= 16 { 14.0 } else { 12.0 };
        self.draw_basemap_labels(pm, t, font, px_size * 0.9);
        // Labels reach at most this far beyond the tile.
        let reach = 200.0 / scale;
        for i in self.grids_in([x0 - reach, y0 - reach, x1 + reach, y1 + reach]) {
            let g = &self.grids[i];
            let Some((name, at)) = &g.label else { continue };
            let (w, h) = font.measure(name, px_size);
            let hw = f64::from(w / 2.0 + 3.0) / scale;
            let hh = f64::from(h / 2.0) / scale;
            if at[0] + hw < x0 || at[0] - hw > x1 || at[1] + hh < y0 || at[1] - hh > y1 {
                continue;
            }
            if !fits(&g.polys, *at, hw, hh) {
                continue;
            }
            let c = (((at[0] - x0) * scale) as f32, ((y1 - at[1]) * scale) as f32);
            let fill = match g.kind {
                Some(GridKind::Exclusive) => [0x7a, 0x45, 0x00, 0xff],
                _ => [0x1f, 0x33, 0x4d, 0xff],
            };
            font.draw(pm, name, c, px_size, fill, [0xff, 0xff, 0xff, 0xd0]);
        }
    }

    /// Road names halfway along each named road long enough to hold
    /// them (along a road running north–south the characters stack
    /// downwards, as Chinese maps write them), and place names. Each name
    /// has a fixed place, so one crossing a tile edge is drawn in both
    /// tiles alike; a road whose name already stands within one and a
    /// half label lengths on an earlier part of the same road is left
    /// unnamed.
    fn draw_basemap_labels(&self, pm: &mut Pixmap, t: TileId, font: &LabelFont, px_size: f32) {
        self.draw_basemap_labels_in(pm, t.bounds(), t.z, font, px_size);
    }

    /// The same over any Mercator `bounds` filling `pm`, at zoom `z`.
    fn draw_basemap_labels_in(
        &self,
        pm: &mut Pixmap,
        bounds: [f64; 4],
        z: u8,
        font: &LabelFont,
        px_size: f32,
    ) {
        let size = pm.width() as f32;
        let [x0, y0, x1, y1] = bounds;
        let scale = f64::from(size) / (x1 - x0);
        let reach = 320.0 / scale;
        let q = [x0 - reach, y0 - reach, x1 + reach, y1 + reach];
        let base = &self.base;
        let to_px = |p: [f64; 2]| (((p[0] - x0) * scale) as f32, ((y1 - p[1]) * scale) as f32);
        let inside = |at: [f64; 2], hw: f64, hh: f64| {
            at[0] + hw >= x0 && at[0] - hw <= x1 && at[1] + hh >= y0 && at[1] - hh <= y1
        };
        // Roads that can carry their name here: (index, place, angle,
        // label length); the place is the first whose clearance holds half
        // the name, else the clearest.
        let named: Vec<(usize, [f64; 2], f64, f64)> = base
            .lines_in(q, z)
            .into_iter()
            .filter(|&i| z >= base.lines[i].rank.name_zoom())
            .filter_map(|i| {
                let line = &base.lines[i];
                let n = line.name.chars().count() as f64;
                let (w, _) = font.measure(&line.name, px_size);
                let label_len = f64::from(w).max(n * f64::from(px_size)) / scale;
                if line.length < label_len + 24.0 / scale {
                    return None;
                }
                let need = label_len / 2.0 + 6.0 / scale;
                let place = line
                    .labels
                    .iter()
                    .find(|p| p.clearance >= need)
                    .or_else(|| {
                        line.labels
                            .iter()
                            .max_by(|a, b| a.clearance.total_cmp(&b.clearance))
                    })?;
                Some((i, place.at, place.angle, label_len))
            })
            .collect();
        let fill = [0x4a, 0x43, 0x3a, 0xff];
        let halo = [0xff, 0xff, 0xff, 0xe0];
        for &(i, at, angle, label_len) in &named {
            let name = &base.lines[i].name;
            let crowded = named.iter().any(|&(j, other, _, _)| {
                j < i
                    && base.lines[j].name == *name
                    && (other[0] - at[0]).hypot(other[1] - at[1]) < 1.5 * label_len
            });
            if crowded || !inside(at, label_len, label_len) {
                continue;
            }
            let c = to_px(at);
            if angle.abs() <= std::f64::consts::FRAC_PI_4 {
                font.draw(pm, name, c, px_size, fill, halo);
            } else {
                let chars: Vec<String> = name.chars().map(String::from).collect();
                let step = px_size * 1.05;
                let top = c.1 - step * (chars.len() as f32 - 1.0) / 2.0;
                for (k, ch) in chars.iter().enumerate() {
                    font.draw(pm, ch, (c.0, top + step * k as f32), px_size, fill, halo);
                }
            }
        }
        let place_px = px_size * 1.15;
        for i in base.places_in(q, z) {
            let p = &base.places[i];
            let (w, h) = font.measure(&p.name, place_px);
            if inside(p.xy, f64::from(w) / scale, f64::from(h) / scale) {
                font.draw(
                    pm,
                    &p.name,
                    to_px(p.xy),
                    place_px,
                    [0x5b, 0x3a, 0x6e, 0xff],
                    [0xff, 0xff, 0xff, 0xd0],
                );
            }
        }
    }

    /// The heatmap raster tile `t` (transparent where there is little),
    /// coloured on the scale `0..=max` so that neighbouring tiles agree.
    pub fn heatmap_png(
        &self,
        t: TileId,
        size: u32,
        f: &IncidentFilter,
        bandwidth_m: f64,
        per_households: bool,
        max: f32,
    ) -> Result<Vec<u8>, RasterError> {
        if size == 0 || size > 4096 {
            return Err(RasterError::Size(size));
        }
        let spec = RasterSpec {
            bounds: t.bounds(),
            width: size as usize,
            height: size as usize,
        };
        let d = self.density(&spec, f, bandwidth_m, per_households);
        png(size, size, shade(&d, max, 0.85))
    }
}

#[cfg(test)]
mod tests {
    use super::fits;

    fn square() -> Vec<Vec<Vec<[f64; 2]>>> {
        vec![vec![vec![
            [0.0, 0.0],
            [10.0, 0.0],
            [10.0, 10.0],
            [0.0, 10.0],
            [0.0, 0.0],
        ]]]
    }

    #[test]
    fn a_label_fits_only_when_its_whole_box_is_inside_the_grid() {
        assert!(fits(&square(), [5.0, 5.0], 4.0, 2.0));
        assert!(!fits(&square(), [5.0, 5.0], 6.0, 2.0), "too wide");
        assert!(
            !fits(&square(), [5.0, 9.0], 2.0, 2.0),
            "sticks out at the top"
        );
        assert!(!fits(&square(), [15.0, 5.0], 1.0, 1.0), "outside");
    }

    #[test]
    fn a_label_does_not_fit_over_a_hole() {
        let mut p = square();
        p[0].push(vec![
            [4.0, 4.0],
            [6.0, 4.0],
            [6.0, 6.0],
            [4.0, 6.0],
            [4.0, 4.0],
        ]);
        assert!(!fits(&p, [5.0, 5.0], 2.0, 0.5));
        assert!(fits(&p, [5.0, 8.0], 2.0, 0.5));
    }
}
