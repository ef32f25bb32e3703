//! Text labels on raster tiles: a font given as bytes (TrueType, OpenType
//! or a collection), laid out on one line and drawn with a halo. Finding a
//! font on the machine is the caller's business; this module does no I/O.

use ab_glyph::{Font, FontArc, FontVec, GlyphId, PxScale, ScaleFont, point};
use tiny_skia::Pixmap;

/// Why a font could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// The bytes are not a font the parser understands.
    #[error("not a TrueType/OpenType font or collection: {0}")]
    Invalid(String),
    /// The font lacks glyphs the labels need.
    #[error("the font has no glyph for {0:?}: labels need a CJK font")]
    Missing(char),
}

/// A font for labels, cheap to clone.
#[derive(Clone)]
pub struct LabelFont {
    font: FontArc,
}

impl std::fmt::Debug for LabelFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabelFont")
            .field("glyphs", &self.font.glyph_count())
            .finish()
    }
}

/// A colour as straight RGBA.
pub type Rgba = [u8; 4];

impl LabelFont {
    /// Parses font bytes; a collection (`.ttc`) gives its first face. The
    /// font must draw `probe` (e.g. `"网格"`), so that a Latin-only font is
    /// refused up front rather than drawing empty boxes.
    ///
    /// ```
    /// use gridgov_tiles::label::LabelFont;
    /// assert!(LabelFont::from_bytes(b"not a font".to_vec(), "网格").is_err());
    /// ```
    pub fn from_bytes(bytes: Vec<u8>, probe: &str) -> Result<Self, LabelError> {
        let font = FontVec::try_from_vec_and_index(bytes, 0)
            .map_err(|e| LabelError::Invalid(e.to_string()))?;
        let f = LabelFont {
            font: FontArc::new(font),
        };
        if let Some(c) = probe.chars().find(|&c| !f.has(c)) {
            return Err(LabelError::Missing(c));
        }
        Ok(f)
    }

    /// Whether the font has a glyph for `c`.
    pub fn has(&self, c: char) -> bool {
        c.is_whitespace() || self.font.glyph_id(c) != GlyphId(0)
    }

    /// Width and height in pixels of `text` at `px` pixels per em.
    pub fn measure(&self, text: &str, px: f32) -> (f32, f32) {
        let s = self.font.as_scaled(PxScale::from(px));
        let mut w = 0.0;
        let mut prev: Option<GlyphId> = None;
        for c in text.chars() {
            let id = s.glyph_id(c);
            if let Some(p) = prev {
                w += s.kern(p, id);
            }
            w += s.h_advance(id);
            prev = Some(id);
        }
        (w, s.ascent() - s.descent())
    }

    /// Draws `text` centred on `(cx, cy)` in `fill` with a `halo` one
    /// pixel wide around it (alpha-blended over what is there). Parts
    /// outside the pixmap are cut off, so a label crossing tile edges is
    /// drawn in pieces that line up.
    pub fn draw(
        &self,
        pm: &mut Pixmap,
        text: &str,
        (cx, cy): (f32, f32),
        px: f32,
        fill: Rgba,
        halo: Rgba,
    ) {
        let s = self.font.as_scaled(PxScale::from(px));
        let (w, h) = self.measure(text, px);
        let x0 = cx - w / 2.0;
        let baseline = cy - h / 2.0 + s.ascent();
        // Coverage of the glyphs, on a small canvas one pixel larger all round.
        let cw = (w.ceil() as i32 + 4).max(1);
        let ch = (h.ceil() as i32 + 4).max(1);
        let ox = x0.floor() - 2.0;
        let oy = (cy - h / 2.0).floor() - 2.0;
        let mut cov = vec![0f32; (cw * ch) as usize];
        let mut x = x0;
        let mut prev: Option<GlyphId> = None;
        for c in text.chars() {
            let id = s.glyph_id(c);
            if let Some(p) = prev {
                x += s.kern(p, id);
            }
            let g = id.with_scale_and_position(s.scale(), point(x - ox, baseline - oy));
            if let Some(o) = self.font.outline_glyph(g) {
                let b = o.px_bounds();
                o.draw(|gx, gy, v| {
                    let px = b.min.x as i32 + gx as i32;
                    let py = b.min.y as i32 + gy as i32;
                    if (0..cw).contains(&px) && (0..ch).contains(&py) {
                        let k = (py * cw + px) as usize;
                        cov[k] = (cov[k] + v).min(1.0);
                    }
                });
            }
            x += s.h_advance(id);
            prev = Some(id);
        }
        // The halo: coverage grown by one pixel.
        let mut grown = cov.clone();
        for y in 0..ch {
            for x in 0..cw {
                let mut m = 0f32;
                for (dx, dy) in [
                    (-1, 0),
                    (1, 0),
                    (0, -1),
                    (0, 1),
                    (-1, -1),
                    (1, 1),
                    (-1, 1),
                    (1, -1),
                ] {
                    let (nx, ny) = (x + dx, y + dy);
                    if (0..cw).contains(&nx) && (0..ch).contains(&ny) {
                        m = m.max(cov[(ny * cw + nx) as usize]);
                    }
                }
                let k = (y * cw + x) as usize;
                grown[k] = grown[k].max(m);
            }
        }
        let (pw, ph) = (pm.width() as i32, pm.height() as i32);
        let pixels = pm.pixels_mut();
        for y in 0..ch {
            for x in 0..cw {
                let tx = ox as i32 + x;
                let ty = oy as i32 + y;
                if !(0..pw).contains(&tx) || !(0..ph).contains(&ty) {
                    continue;
                }
                let k = (y * cw + x) as usize;
                let p = &mut pixels[(ty * pw + tx) as usize];
                for (colour, a) in [(halo, grown[k]), (fill, cov[k])] {
                    if a > 0.0 {
                        *p = blend(*p, colour, a);
                    }
                }
            }
        }
    }
}

/// `src` at coverage `a` over the premultiplied pixel `dst`.
fn blend(
    dst: tiny_skia::PremultipliedColorU8,
    src: Rgba,
    a: f32,
) -> tiny_skia::PremultipliedColorU8 {
    let sa = a * f32::from(src[3]) / 255.0;
    let mix = |s: u8, d: u8| (f32::from(s) * sa + f32::from(d) * (1.0 - sa)).round() as u8;
    let out_a = (sa * 255.0 + f32::from(dst.alpha()) * (1.0 - sa)).round() as u8;
    let (r, g, b) = (
        mix(src[0], dst.red()),
        mix(src[1], dst.green()),
        mix(src[2], dst.blue()),
    );
    // Premultiplied channels never exceed alpha.
    tiny_skia::PremultipliedColorU8::from_rgba(r.min(out_a), g.min(out_a), b.min(out_a), out_a)
        .unwrap_or(dst)
}
