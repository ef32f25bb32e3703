//! A small page writer for the PDF report, over `pdf-writer`: A4 pages
//! laid out from the top down; one font embedded as a subset of the glyphs
//! used (`subsetter`), with a ToUnicode map so that the text can be
//! searched, copied and extracted (`pdftotext`); text, lines, filled paths
//! and RGB pictures; a running title and page numbers on every page.
//!
//! Why a layer of our own rather than a typesetting engine: the report is
//! a fixed sequence of headings, paragraphs, tables, charts and maps, and
//! a typesetter (or a browser) would be many times our dependency tree
//! for it. Text needs no shaping: Chinese is set glyph by glyph, and the
//! Latin in the report (codes, numbers, dates) reads well without kerning.

use std::collections::BTreeMap;
use std::io::Write as _;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// A4 width in points.
pub const PAGE_W: f32 = 595.28;
/// A4 height in points.
pub const PAGE_H: f32 = 841.89;
/// The left and right margin.
pub const MARGIN_X: f32 = 42.0;
/// Where the text of a page starts, from the top.
pub const TOP: f32 = 56.0;
/// The bottom margin.
pub const BOTTOM: f32 = 54.0;

/// A colour, red, green and blue from 0 to 1.
pub type Rgb = [f32; 3];

/// `#rrggbb` as a colour; anything else is black.
///
/// ```
/// # use gridgov_app::report::pdf::hex;
/// assert_eq!(hex("#ff0000"), [1.0, 0.0, 0.0]);
/// assert_eq!(hex("red"), [0.0, 0.0, 0.0]);
/// ```
pub fn hex(s: &str) -> Rgb {
    let byte = |k: usize| {
        s.get(k..k + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .map_or(0.0, |b| f32::from(b) / 255.0)
    };
    if s.len() == 7 && s.starts_with('#') {
        [byte(1), byte(3), byte(5)]
    } else {
        [0.0; 3]
    }
}

/// Why the PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The bytes are not a font.
    #[error("not a font: {0}")]
    Font(String),
    /// No face of the font draws Chinese.
    #[error("the font cannot write {0:?}; the PDF report needs a font that draws Chinese")]
    Missing(char),
    /// The font could not be subset for embedding.
    #[error("the font cannot be embedded: {0}")]
    Subset(String),
}

/// Characters the report's font must have.
const PROBE: &str = "网格社区街道事件0123456789";

/// A font to embed: its file's bytes and the face of a collection that
/// draws Simplified Chinese.
pub struct PdfFont {
    data: Vec<u8>,
    index: u32,
}

impl std::fmt::Debug for PdfFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfFont")
            .field("bytes", &self.data.len())
            .field("face", &self.index)
            .finish()
    }
}

impl PdfFont {
    /// Reads a font file (`.ttf`, `.otf`, or a `.ttc` collection, whose
    /// Simplified Chinese face is chosen when it names one: `… SC`). A
    /// font without Chinese is refused.
    ///
    /// ```
    /// # use gridgov_app::report::pdf::PdfFont;
    /// assert!(PdfFont::from_bytes(b"not a font".to_vec()).is_err());
    /// ```
    pub fn from_bytes(data: Vec<u8>) -> Result<PdfFont, PdfError> {
        let faces = ttf_parser::fonts_in_collection(&data).unwrap_or(1);
        let mut first = None;
        let mut missing = None;
        let mut broken = None;
        for i in 0..faces {
            let face = match ttf_parser::Face::parse(&data, i) {
                Ok(f) => f,
                Err(e) => {
                    broken.get_or_insert(e.to_string());
                    continue;
                }
            };
            if let Some(c) = PROBE.chars().find(|&c| face.glyph_index(c).is_none()) {
                missing.get_or_insert(c);
                continue;
            }
            let simplified = face.names().into_iter().any(|n| {
                n.name_id == ttf_parser::name_id::FAMILY
                    && n.to_string()
                        .is_some_and(|s| s.ends_with(" SC") || s.contains(" SC "))
            });
            if simplified {
                return Ok(PdfFont { data, index: i });
            }
            first.get_or_insert(i);
        }
        match (first, missing, broken) {
            (Some(index), _, _) => Ok(PdfFont { data, index }),
            (None, Some(c), _) => Err(PdfError::Missing(c)),
            (None, None, e) => Err(PdfError::Font(e.unwrap_or_else(|| "no faces".into()))),
        }
    }
}

/// Characters drawn with another when the font lacks them.
fn substitute(c: char) -> char {
    match c {
        '–' | '—' | '−' => '-',
        '…' => '.',
        '（' => '(',
        '）' => ')',
        '，' => ',',
        '：' => ':',
        '‰' => '%',
        _ => '?',
    }
}

/// Whether a line may break before `c` (CJK text breaks between any two
/// characters, but not before closing punctuation).
fn breaks_before(c: char) -> bool {
    is_cjk(c) && !"，。、；：！？）」』》%·".contains(c)
}

fn is_cjk(c: char) -> bool {
    matches!(u32::from(c), 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

/// Pages being written, with the cursor `y` (points from the page's top)
/// where the next block goes.
pub struct Writer<'f> {
    font: &'f PdfFont,
    face: ttf_parser::Face<'f>,
    /// Glyph space to 1/1000 em.
    scale: f32,
    remap: subsetter::GlyphRemapper,
    /// Advance of each glyph of the subset, in 1/1000 em.
    widths: Vec<f32>,
    /// The character each glyph of the subset stands for.
    chars: BTreeMap<u16, char>,
    pages: Vec<Content>,
    current: usize,
    /// Pictures: width, height, compressed RGB.
    images: Vec<(u32, u32, Vec<u8>)>,
    /// The page's width and height in points.
    page: (f32, f32),
    /// Where the next block goes, in points from the top of the page.
    pub y: f32,
}

impl<'f> Writer<'f> {
    /// An empty document of A4 pages, with one page.
    pub fn new(font: &'f PdfFont) -> Result<Writer<'f>, PdfError> {
        Writer::with_page(font, PAGE_W, PAGE_H)
    }

    /// An empty document of pages `w × h` points, with one page.
    pub fn with_page(font: &'f PdfFont, w: f32, h: f32) -> Result<Writer<'f>, PdfError> {
        let face = ttf_parser::Face::parse(&font.data, font.index)
            .map_err(|e| PdfError::Font(e.to_string()))?;
        let scale = 1000.0 / f32::from(face.units_per_em());
        Ok(Writer {
            font,
            face,
            scale,
            remap: subsetter::GlyphRemapper::new(),
            widths: vec![0.0],
            chars: BTreeMap::new(),
            pages: vec![Content::new()],
            current: 0,
            images: Vec::new(),
            page: (w, h),
            y: TOP,
        })
    }

    /// Starts a new page; the cursor goes to its top.
    pub fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.current = self.pages.len() - 1;
        self.y = TOP;
    }

    /// Starts a new page unless `h` points fit below the cursor (or the
    /// page is still empty).
    pub fn ensure(&mut self, h: f32) {
        if self.y + h > self.page.1 - BOTTOM && self.y > TOP + 0.5 {
            self.new_page();
        }
    }

    /// The space left on the page below the cursor.
    pub fn room(&self) -> f32 {
        self.page.1 - BOTTOM - self.y
    }

    fn glyph_of(&self, c: char) -> u16 {
        self.face
            .glyph_index(c)
            .or_else(|| self.face.glyph_index(substitute(c)))
            .map_or(0, |g| g.0)
    }

    fn advance(&self, c: char) -> f32 {
        let g = ttf_parser::GlyphId(self.glyph_of(c));
        f32::from(self.face.glyph_hor_advance(g).unwrap_or(0)) * self.scale
    }

    /// The width of `s` at `size` points.
    pub fn measure(&self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.advance(c)).sum::<f32>() * size / 1000.0
    }

    /// `s` cut to `width` with an ellipsis when it is wider.
    pub fn fit(&self, s: &str, size: f32, width: f32) -> String {
        if self.measure(s, size) <= width {
            return s.to_owned();
        }
        let room = width - self.measure("…", size);
        let mut w = 0.0;
        let mut out = String::new();
        for c in s.chars() {
            w += self.advance(c) * size / 1000.0;
            if w > room {
                break;
            }
            out.push(c);
        }
        out.push('…');
        out
    }

    /// `s` broken into lines no wider than `width`: between CJK
    /// characters, at spaces, and inside a word only when it alone is too
    /// wide. A newline always breaks.
    pub fn wrap(&self, s: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in s.split('\n') {
            let mut line: Vec<char> = Vec::new();
            let mut w = 0.0;
            // Where the line may be broken: the index of the first
            // character of the next line.
            let mut last_break: Option<usize> = None;
            for c in para.chars() {
                let cw = self.advance(c) * size / 1000.0;
                if !line.is_empty() && (breaks_before(c) || c == ' ') {
                    last_break = Some(line.len());
                }
                if w + cw > width && !line.is_empty() && c != ' ' {
                    let at = last_break.filter(|&k| k > 0).unwrap_or(line.len());
                    let rest: Vec<char> = line.split_off(at);
                    lines.push(line.iter().collect::<String>().trim_end().to_owned());
                    line = rest.into_iter().skip_while(|&c| c == ' ').collect();
                    w = line.iter().map(|&c| self.advance(c) * size / 1000.0).sum();
                    last_break = None;
                }
                if line.is_empty() && c == ' ' {
                    continue;
                }
                line.push(c);
                w += cw;
                if (is_cjk(c) && !"（「『《“".contains(c)) || c == ' ' {
                    last_break = Some(line.len());
                }
            }
            lines.push(line.iter().collect::<String>().trim_end().to_owned());
        }
        lines
    }

    /// The glyph ids of the subset for `s`, as the bytes a text operator
    /// shows (Identity-H: two bytes a glyph).
    fn encode(&mut self, s: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(s.len() * 2);
        for c in s.chars().filter(|c| !c.is_control()) {
            let old = self.glyph_of(c);
            let new = self.remap.remap(old);
            let k = usize::from(new);
            if k >= self.widths.len() {
                self.widths.resize(k + 1, 0.0);
            }
            self.widths[k] = self.advance(c);
            if old != 0 {
                self.chars.entry(new).or_insert(c);
            }
            out.extend(new.to_be_bytes());
        }
        out
    }

    fn page(&mut self) -> &mut Content {
        &mut self.pages[self.current]
    }

    /// Text with its baseline at `(x, y)` (y from the page's top).
    pub fn text(&mut self, x: f32, y: f32, size: f32, color: Rgb, s: &str) {
        let bytes = self.encode(s);
        let ph = self.page.1;
        let c = self.page();
        c.set_fill_rgb(color[0], color[1], color[2]);
        c.begin_text();
        c.set_font(Name(b"F1"), size);
        c.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, ph - y]);
        c.show(Str(&bytes));
        c.end_text();
    }

    /// Text ending at `right`.
    pub fn text_right(&mut self, right: f32, y: f32, size: f32, color: Rgb, s: &str) {
        let w = self.measure(s, size);
        self.text(right - w, y, size, color, s);
    }

    /// Text centred on `cx`.
    pub fn text_centred(&mut self, cx: f32, y: f32, size: f32, color: Rgb, s: &str) {
        let w = self.measure(s, size);
        self.text(cx - w / 2.0, y, size, color, s);
    }

    /// A wrapped paragraph at the cursor, `width` wide from `x`, with
    /// `leading` points a line; breaks to a new page between lines.
    pub fn paragraph(&mut self, x: f32, width: f32, size: f32, leading: f32, color: Rgb, s: &str) {
        for line in self.wrap(s, size, width) {
            self.ensure(leading);
            let y = self.y + size;
            self.text(x, y, size, color, &line);
            self.y += leading;
        }
    }

    /// Filled rectangles `(x, y, w, h)`, their top left at `(x, y)`, in one
    /// colour and one path (a QR code's modules).
    pub fn fill_rects(&mut self, rects: &[(f32, f32, f32, f32)], color: Rgb) {
        let ph = self.page.1;
        let c = self.page();
        c.set_fill_rgb(color[0], color[1], color[2]);
        for &(x, y, w, h) in rects {
            c.rect(x, ph - y - h, w, h);
        }
        c.fill_nonzero();
    }

    /// A filled rectangle, its top left at `(x, y)`.
    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        let ph = self.page.1;
        let c = self.page();
        c.set_fill_rgb(color[0], color[1], color[2]);
        c.rect(x, ph - y - h, w, h);
        c.fill_nonzero();
    }

    /// Draws only inside the box `w × h` at `(x, y)` until [`unclip`](Self::unclip).
    pub fn clip(&mut self, x: f32, y: f32, w: f32, h: f32) {
        let ph = self.page.1;
        let c = self.page();
        c.save_state();
        c.rect(x, ph - y - h, w, h);
        c.clip_nonzero();
        c.end_path();
    }

    /// Ends the last [`clip`](Self::clip).
    pub fn unclip(&mut self) {
        self.page().restore_state();
    }

    /// A rectangle's outline.
    pub fn stroke_rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb, width: f32) {
        let ph = self.page.1;
        let c = self.page();
        c.set_stroke_rgb(color[0], color[1], color[2]);
        c.set_line_width(width);
        c.rect(x, ph - y - h, w, h);
        c.stroke();
    }

    /// A line through `points`.
    pub fn polyline(&mut self, points: &[(f32, f32)], color: Rgb, width: f32) {
        if points.len() < 2 {
            return;
        }
        let ph = self.page.1;
        let c = self.page();
        c.set_stroke_rgb(color[0], color[1], color[2]);
        c.set_line_width(width);
        for (k, &(x, y)) in points.iter().enumerate() {
            if k == 0 {
                c.move_to(x, ph - y);
            } else {
                c.line_to(x, ph - y);
            }
        }
        c.stroke();
    }

    /// A shape of closed rings (holes by the even-odd rule), filled and/or
    /// outlined.
    pub fn shape(
        &mut self,
        rings: &[Vec<(f32, f32)>],
        fill: Option<Rgb>,
        stroke: Option<(Rgb, f32)>,
    ) {
        if rings.iter().all(|r| r.len() < 3) {
            return;
        }
        let ph = self.page.1;
        let c = self.page();
        if let Some(f) = fill {
            c.set_fill_rgb(f[0], f[1], f[2]);
        }
        if let Some((s, w)) = stroke {
            c.set_stroke_rgb(s[0], s[1], s[2]);
            c.set_line_width(w);
        }
        for r in rings.iter().filter(|r| r.len() >= 3) {
            for (k, &(x, y)) in r.iter().enumerate() {
                if k == 0 {
                    c.move_to(x, ph - y);
                } else {
                    c.line_to(x, ph - y);
                }
            }
            c.close_path();
        }
        match (fill, stroke) {
            (Some(_), Some(_)) => c.fill_even_odd_and_stroke(),
            (Some(_), None) => c.fill_even_odd(),
            (None, Some(_)) => c.stroke(),
            (None, None) => c.end_path(),
        };
    }

    /// A picture of `width × height` RGBA pixels (alpha ignored) drawn in
    /// the box `w × h` with its top left at `(x, y)`.
    pub fn image(
        &mut self,
        rgba: &[u8],
        width: u32,
        height: u32,
        (x, y, w, h): (f32, f32, f32, f32),
    ) {
        let rgb: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        self.images.push((width, height, deflate(&rgb)));
        let name = format!("Im{}", self.images.len() - 1);
        let ph = self.page.1;
        let c = self.page();
        c.save_state();
        c.transform([w, 0.0, 0.0, h, x, ph - y - h]);
        c.x_object(Name(name.as_bytes()));
        c.restore_state();
    }

    /// The finished file: `header` atop every page, `footer(n, pages)` at
    /// its foot; the font subset, its widths and its ToUnicode map; the
    /// document's title.
    pub fn finish(
        mut self,
        title: &str,
        header: &str,
        footer: impl Fn(usize, usize) -> String,
    ) -> Result<Vec<u8>, PdfError> {
        let n = self.pages.len();
        let grey = [0.45, 0.45, 0.45];
        let (pw, ph) = self.page;
        for k in 0..n {
            self.current = k;
            let head = self.fit(header, 8.0, pw - 2.0 * MARGIN_X);
            self.text_centred(pw / 2.0, 30.0, 8.0, grey, &head);
            self.polyline(&[(MARGIN_X, 36.0), (pw - MARGIN_X, 36.0)], [0.8; 3], 0.5);
            self.text_centred(pw / 2.0, ph - 28.0, 8.0, grey, &footer(k + 1, n));
        }
        self.finish_plain(title)
    }

    /// The finished file, without a running title or page numbers: the
    /// font subset, its widths and its ToUnicode map; the document's title.
    pub fn finish_plain(mut self, title: &str) -> Result<Vec<u8>, PdfError> {
        let n = self.pages.len();
        let (pw, ph) = self.page;
        let subset = subsetter::subset(&self.font.data, self.font.index, &self.remap)
            .map_err(|e| PdfError::Subset(e.to_string()))?;
        let cff = self.face.tables().cff.is_some();

        let mut next = Ref::new(1);
        let mut alloc = || next.bump();
        let (catalog, tree, type0, cid, descriptor, file, cmap, info) = (
            alloc(),
            alloc(),
            alloc(),
            alloc(),
            alloc(),
            alloc(),
            alloc(),
            alloc(),
        );
        let page_ids: Vec<(Ref, Ref)> = (0..n).map(|_| (alloc(), alloc())).collect();
        let image_ids: Vec<Ref> = self.images.iter().map(|_| alloc()).collect();

        let mut pdf = Pdf::new();
        pdf.set_version(1, 7);
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(page_ids.iter().map(|p| p.0))
            .count(i32::try_from(n).unwrap_or(i32::MAX));
        for (k, content) in std::mem::take(&mut self.pages).into_iter().enumerate() {
            let (id, content_id) = page_ids[k];
            let mut page = pdf.page(id);
            page.media_box(Rect::new(0.0, 0.0, pw, ph))
                .parent(tree)
                .contents(content_id);
            let mut res = page.resources();
            res.fonts().pair(Name(b"F1"), type0);
            let mut xo = res.x_objects();
            for (i, img) in image_ids.iter().enumerate() {
                xo.pair(Name(format!("Im{i}").as_bytes()), *img);
            }
            xo.finish();
            res.finish();
            page.finish();
            let data = deflate(&content.finish());
            pdf.stream(content_id, &data).filter(Filter::FlateDecode);
        }
        for (i, (w, h, data)) in self.images.iter().enumerate() {
            let mut x = pdf.image_xobject(image_ids[i], data);
            x.filter(Filter::FlateDecode);
            x.width(i32::try_from(*w).unwrap_or(i32::MAX));
            x.height(i32::try_from(*h).unwrap_or(i32::MAX));
            x.color_space().device_rgb();
            x.bits_per_component(8);
        }

        let base = format!("{}+{}", subset_tag(&self.widths), self.postscript_name());
        let system = || SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        pdf.type0_font(type0)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap);
        let mut c = pdf.cid_font(cid);
        c.subtype(if cff {
            CidFontType::Type0
        } else {
            CidFontType::Type2
        });
        c.base_font(Name(base.as_bytes()));
        c.system_info(system());
        c.font_descriptor(descriptor);
        c.default_width(0.0);
        if !cff {
            c.cid_to_gid_map_predefined(Name(b"Identity"));
        }
        c.widths().consecutive(0, self.widths.iter().copied());
        c.finish();

        let s = self.scale;
        let bb = self.face.global_bounding_box();
        let mut d = pdf.font_descriptor(descriptor);
        d.name(Name(base.as_bytes()))
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                f32::from(bb.x_min) * s,
                f32::from(bb.y_min) * s,
                f32::from(bb.x_max) * s,
                f32::from(bb.y_max) * s,
            ))
            .italic_angle(0.0)
            .ascent(f32::from(self.face.ascender()) * s)
            .descent(f32::from(self.face.descender()) * s)
            .cap_height(f32::from(self.face.capital_height().unwrap_or(700)) * s)
            .stem_v(80.0);
        if cff {
            d.font_file3(file);
        } else {
            d.font_file2(file);
        }
        d.finish();
        let data = deflate(&subset);
        let mut stream = pdf.stream(file, &data);
        stream.filter(Filter::FlateDecode);
        if cff {
            stream.pair(Name(b"Subtype"), Name(b"OpenType"));
        } else {
            stream.pair(
                Name(b"Length1"),
                i32::try_from(subset.len()).unwrap_or(i32::MAX),
            );
        }
        stream.finish();

        let mut map = UnicodeCmap::new(Name(b"Custom"), system());
        for (&g, &ch) in &self.chars {
            map.pair(g, ch);
        }
        let map = map.finish();
        pdf.stream(cmap, &map);

        pdf.document_info(info)
            .title(TextStr(title))
            .producer(TextStr("gridgov"));
        Ok(pdf.finish())
    }

    /// The font's PostScript name, as PDF name characters.
    fn postscript_name(&self) -> String {
        let name = self
            .face
            .names()
            .into_iter()
            .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .find_map(|n| n.to_string())
            .unwrap_or_default();
        let clean: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if clean.is_empty() {
            "Font".into()
        } else {
            clean
        }
    }
}

/// The six capital letters that mark a font subset, from what it holds.
fn subset_tag(widths: &[f32]) -> String {
    let mut h: u32 = 2_166_136_261;
    for w in widths {
        for b in w.to_bits().to_le_bytes() {
            h = (h ^ u32::from(b)).wrapping_mul(16_777_619);
        }
    }
    (0..6)
        .map(|k| char::from(b'A' + ((h >> (k * 5)) % 26) as u8))
        .collect()
}

/// Zlib-compressed bytes (PDF's FlateDecode).
fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// An installed CJK font for tests; `None` (the test skips) only outside
/// CI, which installs one.
#[cfg(test)]
pub(crate) fn test_font() -> Option<PdfFont> {
    match gridgov_fonts::find(None) {
        Ok((path, _)) => Some(PdfFont::from_bytes(std::fs::read(path).ok()?).ok()?),
        Err(e) => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "CI installs a CJK font: {e}"
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_read_from_hex() {
        assert_eq!(hex("#000000"), [0.0; 3]);
        assert_eq!(hex("#ffffff"), [1.0; 3]);
        assert!((hex("#3d5a80")[2] - 128.0 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn chinese_breaks_between_characters_but_not_before_closing_punctuation() {
        assert!(breaks_before('网'));
        assert!(!breaks_before('，'));
        assert!(!breaks_before('a'));
    }

    #[test]
    fn text_is_wrapped_to_the_width_without_an_opening_bracket_at_a_line_end() {
        let Some(font) = test_font() else { return };
        let w = Writer::new(&font).unwrap();
        let s =
            "数量最多的类别是环境卫生（129）、停车管理（84）、占道经营（77）；事件 more words here";
        for width in [60.0, 90.0, 130.0, 200.0] {
            let lines = w.wrap(s, 10.0, width);
            assert!(lines.len() > 1);
            assert_eq!(lines.concat().replace(' ', ""), s.replace(' ', ""));
            for l in &lines {
                assert!(
                    w.measure(l, 10.0) <= width + 0.01,
                    "{l:?} wider than {width}"
                );
                assert!(!l.ends_with('（'), "{l:?}");
                assert!(!l.starts_with('）') && !l.starts_with('、'), "{l:?}");
            }
        }
        assert_eq!(w.wrap("a\nb", 10.0, 100.0), ["a", "b"]);
        assert!(w.fit(s, 10.0, 50.0).ends_with('…'));
        assert!(w.measure(&w.fit(s, 10.0, 50.0), 10.0) <= 50.0);
    }

    #[test]
    fn subset_tags_are_six_capitals() {
        let t = subset_tag(&[500.0, 1000.0]);
        assert_eq!(t.len(), 6);
        assert!(t.chars().all(|c| c.is_ascii_uppercase()));
        assert_ne!(t, subset_tag(&[500.0]));
    }
}
