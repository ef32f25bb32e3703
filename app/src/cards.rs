//! Grid signs and contact cards (网格公示牌、网格联系卡): what a street
//! hands to its households and posts in its buildings so that residents
//! know whom to call and where to report. A sign per building (or per
//! unit) on A4 or A5; a business-card-size card (85 × 54 mm) per
//! household, ten to an A4 sheet with cut lines. Each carries the grid's
//! chain, its team's names and phones (the grid's staff, then the
//! building's leaders) and a QR code that opens the residents' page with
//! the building and unit filled in.
//!
//! [`plan`] chooses what is printed from the read model (pure data);
//! [`document`] lays it out as a PDF with the font embedded and the QR
//! codes drawn as vector squares (`qrcode`), so they print sharp at any
//! size.

use std::collections::{HashMap, HashSet};

use gridgov_spatial::i18n::{self, Lang};
use gridgov_spatial::{AreaId, Level, Roles, Staff, StaffRole};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::Snapshot;
use crate::report::pdf::{PdfError, PdfFont, Rgb, Writer, hex};

/// What is printed: a sign per building, a sign per unit, or a card per
/// household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    /// A sign (公示牌) per building.
    Sign,
    /// A sign per unit (单元), for its entrance.
    UnitSign,
    /// A contact card (联系卡) per household.
    Card,
}

impl std::str::FromStr for CardKind {
    type Err = CardsError;

    /// `sign`, `unit-sign` or `card`.
    ///
    /// ```
    /// use gridgov_app::cards::CardKind;
    /// assert_eq!("unit-sign".parse::<CardKind>().unwrap(), CardKind::UnitSign);
    /// assert!("poster".parse::<CardKind>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<CardKind, CardsError> {
        match s {
            "sign" => Ok(CardKind::Sign),
            "unit-sign" => Ok(CardKind::UnitSign),
            "card" => Ok(CardKind::Card),
            other => Err(CardsError::Kind(other.to_owned())),
        }
    }
}

/// The paper a sign is printed on (cards are always ten to an A4 sheet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    /// 210 × 297 mm.
    #[default]
    A4,
    /// 148 × 210 mm.
    A5,
}

impl std::str::FromStr for Paper {
    type Err = CardsError;

    /// `a4` or `a5` (either case).
    ///
    /// ```
    /// use gridgov_app::cards::Paper;
    /// assert_eq!("A5".parse::<Paper>().unwrap(), Paper::A5);
    /// assert!("letter".parse::<Paper>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Paper, CardsError> {
        match s.to_ascii_lowercase().as_str() {
            "a4" => Ok(Paper::A4),
            "a5" => Ok(Paper::A5),
            _ => Err(CardsError::Paper(s.to_owned())),
        }
    }
}

/// The most signs or cards one document holds: a community's cards are a
/// few thousand; a whole city's would be a print shop's job, not a
/// request's.
pub const MAX_ITEMS: usize = 20_000;

/// Why the signs or cards could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CardsError {
    /// No area has the code.
    #[error("no grid or community {0:?}")]
    UnknownArea(String),
    /// The code is a street's: signs are printed a community or a grid at
    /// a time.
    #[error("{0} is a street; cards and signs are made for one community or one grid")]
    Street(String),
    /// Not `sign`, `unit-sign` or `card`.
    #[error("kind {0:?}: expected sign, unit-sign or card")]
    Kind(String),
    /// Not `a4` or `a5`.
    #[error("paper {0:?}: expected a4 or a5")]
    Paper(String),
    /// Nothing to print.
    #[error("{area} has no {what} to print")]
    Empty {
        /// The area's code.
        area: String,
        /// Buildings, units or households.
        what: &'static str,
    },
    /// More than [`MAX_ITEMS`].
    #[error("{n} items are more than one document holds ({MAX_ITEMS}); print one grid at a time")]
    TooMany {
        /// How many there would be.
        n: usize,
    },
    /// The link does not fit a QR code.
    #[error("the link {0:?} does not fit a QR code")]
    Qr(String),
    /// The PDF could not be written.
    #[error(transparent)]
    Pdf(#[from] PdfError),
}

/// One sign or card: where it goes, its grid's chain, its team and the
/// link of its QR code.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The grid's code.
    pub grid_code: String,
    /// The grid's name.
    pub grid: String,
    /// The community's and street's names, `""` when the grid has none.
    pub community: String,
    /// The street's name.
    pub street: String,
    /// The building's code.
    pub building: String,
    /// The building's address.
    pub address: String,
    /// The unit's label, for unit signs and cards.
    pub unit: Option<String>,
    /// The household's room, for cards.
    pub room: Option<String>,
    /// The grid's staff, then the building's leaders.
    pub team: Vec<Staff>,
    /// What the QR code opens.
    pub url: String,
}

/// Characters kept as they are in a query value.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// The residents' page for a building (and unit) under `base`.
///
/// ```
/// use gridgov_app::cards::resident_url;
/// assert_eq!(resident_url("http://gov.example/", "B-12", Some("2")), "http://gov.example/r?b=B-12&u=2");
/// assert_eq!(resident_url("http://gov.example", "楼1", None), "http://gov.example/r?b=%E6%A5%BC1");
/// ```
pub fn resident_url(base: &str, building: &str, unit: Option<&str>) -> String {
    let mut s = format!(
        "{}/r?b={}",
        base.trim_end_matches('/'),
        utf8_percent_encode(building, QUERY)
    );
    if let Some(u) = unit {
        s.push_str("&u=");
        s.push_str(&utf8_percent_encode(u, QUERY).to_string());
    }
    s
}

/// The signs or cards of a grid, or of every grid of a community, in the
/// order of grid, building address, unit and room; `base` is the
/// service's address for the QR codes. A building belongs to the grid
/// that holds it (its largest share), its units and households with it.
///
/// ```
/// use gridgov_app::{Snapshot, cards::{plan, CardKind}};
/// let s = Snapshot::build(gridgov_spatial::sample::district(&Default::default()), Default::default(), 1);
/// let grid = s.district.grids().next().unwrap();
/// let code = s.district.area(grid).code.clone();
/// let signs = plan(&s, &code, CardKind::Sign, "http://gov.example").unwrap();
/// assert!(signs.iter().all(|x| x.grid_code == code && x.url.starts_with("http://gov.example/r?b=")));
/// ```
pub fn plan(
    snap: &Snapshot,
    area: &str,
    kind: CardKind,
    base: &str,
) -> Result<Vec<Item>, CardsError> {
    let d = &snap.district;
    let id = d
        .area_by_code(area)
        .ok_or_else(|| CardsError::UnknownArea(area.to_owned()))?;
    let grids: Vec<AreaId> = match d.area(id).level {
        Level::Street => return Err(CardsError::Street(area.to_owned())),
        Level::Grid => vec![id],
        Level::Community => d.children(id).collect(),
    };
    let wanted: HashSet<AreaId> = grids.iter().copied().collect();
    // Buildings by grid (the one holding each).
    let mut buildings: Vec<usize> = snap
        .assignment
        .buildings
        .iter()
        .enumerate()
        .filter(|(_, b)| {
            b.placement
                .responsible()
                .is_some_and(|g| wanted.contains(&g))
        })
        .map(|(i, _)| i)
        .collect();
    let grid_of = |b: usize| snap.assignment.buildings[b].placement.responsible();
    let order: HashMap<AreaId, usize> = grids.iter().enumerate().map(|(k, g)| (*g, k)).collect();
    buildings.sort_by(|&a, &b| {
        let (ga, gb) = (grid_of(a).map(|g| order[&g]), grid_of(b).map(|g| order[&g]));
        ga.cmp(&gb)
            .then_with(|| natural(&d.buildings[a].address, &d.buildings[b].address))
    });
    let item = |b: usize, unit: Option<usize>, room: Option<&str>| -> Item {
        let g = grid_of(b).unwrap_or(id);
        let chain = d.chain(g);
        let name_at = |level: Level| {
            chain
                .iter()
                .map(|&a| d.area(a))
                .find(|a| a.level == level)
                .map_or_else(String::new, |a| a.name.clone())
        };
        let building = &d.buildings[b];
        let mut team = d.area(g).staff.clone();
        team.extend(building.leaders.iter().cloned());
        let label = unit.map(|u| d.units[u].label.clone());
        Item {
            grid_code: d.area(g).code.clone(),
            grid: d.area(g).name.clone(),
            community: name_at(Level::Community),
            street: name_at(Level::Street),
            building: building.code.clone(),
            address: building.address.clone(),
            url: resident_url(base, &building.code, label.as_deref()),
            unit: label,
            room: room.map(str::to_owned),
            team,
        }
    };
    let what = match kind {
        CardKind::Sign => "buildings",
        CardKind::UnitSign => "units",
        CardKind::Card => "households",
    };
    let items: Vec<Item> = match kind {
        CardKind::Sign => buildings.iter().map(|&b| item(b, None, None)).collect(),
        CardKind::UnitSign | CardKind::Card => {
            let rank: HashMap<usize, usize> =
                buildings.iter().enumerate().map(|(k, &b)| (b, k)).collect();
            let mut units: Vec<usize> = d
                .units
                .iter()
                .enumerate()
                .filter(|(_, u)| rank.contains_key(&u.building.index()))
                .map(|(i, _)| i)
                .collect();
            units.sort_by(|&a, &b| {
                let (ua, ub) = (&d.units[a], &d.units[b]);
                rank[&ua.building.index()]
                    .cmp(&rank[&ub.building.index()])
                    .then_with(|| natural(&ua.label, &ub.label))
            });
            if kind == CardKind::UnitSign {
                units
                    .iter()
                    .map(|&u| item(d.units[u].building.index(), Some(u), None))
                    .collect()
            } else {
                let urank: HashMap<usize, usize> =
                    units.iter().enumerate().map(|(k, &u)| (u, k)).collect();
                let mut hs: Vec<usize> = d
                    .households
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| urank.contains_key(&h.unit.index()))
                    .map(|(i, _)| i)
                    .collect();
                if hs.len() > MAX_ITEMS {
                    return Err(CardsError::TooMany { n: hs.len() });
                }
                hs.sort_by(|&a, &b| {
                    let (ha, hb) = (&d.households[a], &d.households[b]);
                    urank[&ha.unit.index()]
                        .cmp(&urank[&hb.unit.index()])
                        .then_with(|| natural(&ha.room, &hb.room))
                });
                hs.iter()
                    .map(|&h| {
                        let hh = &d.households[h];
                        let u = hh.unit.index();
                        item(d.units[u].building.index(), Some(u), Some(&hh.room))
                    })
                    .collect()
            }
        }
    };
    if items.is_empty() {
        return Err(CardsError::Empty {
            area: area.to_owned(),
            what,
        });
    }
    if items.len() > MAX_ITEMS {
        return Err(CardsError::TooMany { n: items.len() });
    }
    Ok(items)
}

/// Orders strings with their runs of digits by value: `2号楼` before
/// `10号楼`, room `301` before `1201`.
fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(s: &str) -> Vec<(u8, u64, String)> {
        let mut out = Vec::new();
        let mut digits = String::new();
        let mut text = String::new();
        for c in s.chars() {
            if c.is_ascii_digit() {
                if !text.is_empty() {
                    out.push((1, 0, std::mem::take(&mut text)));
                }
                digits.push(c);
            } else {
                if !digits.is_empty() {
                    out.push((0, digits.parse().unwrap_or(u64::MAX), String::new()));
                    digits.clear();
                }
                text.push(c);
            }
        }
        if !digits.is_empty() {
            out.push((0, digits.parse().unwrap_or(u64::MAX), String::new()));
        }
        if !text.is_empty() {
            out.push((1, 0, text));
        }
        out
    }
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

/// The order roles are listed in on a card with room for few: the grid
/// leader and worker first, then the building's leader and the police,
/// then the rest in the order of the district's list.
fn priority(roles: &Roles, r: &StaffRole) -> usize {
    const FIRST: [StaffRole; 5] = [
        StaffRole::GRID_LEADER,
        StaffRole::GRID_WORKER,
        StaffRole::BUILDING_LEADER,
        StaffRole::COMMUNITY_POLICE,
        StaffRole::INSTRUCTOR,
    ];
    FIRST
        .iter()
        .position(|f| f == r)
        .unwrap_or_else(|| FIRST.len() + roles.order(r))
}

const INK: Rgb = [0.13, 0.13, 0.13];
const GREY: Rgb = [0.42, 0.42, 0.42];
const PARTY: Rgb = [0.75, 0.1, 0.1];
const CUT: Rgb = [0.75, 0.75, 0.75];
/// Millimetres to points.
const MM: f32 = 72.0 / 25.4;

/// The signs or cards as a PDF in `lang`, the text in `font` (embedded).
///
/// ```no_run
/// # fn demo(s: &gridgov_app::Snapshot) -> Result<(), Box<dyn std::error::Error>> {
/// use gridgov_app::cards::{plan, document, CardKind, Paper};
/// use gridgov_app::report::pdf::PdfFont;
/// let font = PdfFont::from_bytes(std::fs::read("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")?)?;
/// let items = plan(s, "370402005001001", CardKind::Card, "http://gov.example")?;
/// let pdf = document(&items, CardKind::Card, Paper::A4, gridgov_spatial::i18n::Lang::Zh, &s.district.roles, &font)?;
/// assert!(pdf.starts_with(b"%PDF"));
/// # Ok(()) }
/// ```
pub fn document(
    items: &[Item],
    kind: CardKind,
    paper: Paper,
    lang: Lang,
    roles: &Roles,
    font: &PdfFont,
) -> Result<Vec<u8>, CardsError> {
    let title = match kind {
        CardKind::Card => i18n::t(lang, "cards.card.title"),
        _ => i18n::t(lang, "cards.sign.title"),
    };
    let doc_title = items
        .first()
        .map_or_else(|| title.to_owned(), |x| format!("{title} · {}", x.grid));
    let pdf = match kind {
        CardKind::Card => {
            let mut w = Writer::new(font)?;
            let (cw, ch) = (85.0 * MM, 54.0 * MM);
            let (cols, rows) = (2usize, 5usize);
            let (pw, ph) = (595.28, 841.89);
            let x0 = (pw - cols as f32 * cw) / 2.0;
            let y0 = (ph - rows as f32 * ch) / 2.0;
            for (k, x) in items.iter().enumerate() {
                let slot = k % (cols * rows);
                if k > 0 && slot == 0 {
                    w.new_page();
                }
                let (c, r) = (slot % cols, slot / cols);
                card(
                    &mut w,
                    x,
                    lang,
                    roles,
                    (x0 + c as f32 * cw, y0 + r as f32 * ch, cw, ch),
                )?;
            }
            w.finish_plain(&doc_title)?
        }
        CardKind::Sign | CardKind::UnitSign => {
            let (pw, ph) = match paper {
                Paper::A4 => (595.28, 841.89),
                Paper::A5 => (419.53, 595.28),
            };
            let mut w = Writer::with_page(font, pw, ph)?;
            for (k, x) in items.iter().enumerate() {
                if k > 0 {
                    w.new_page();
                }
                sign(&mut w, x, lang, roles, title, (pw, ph))?;
            }
            w.finish_plain(&doc_title)?
        }
    };
    Ok(pdf)
}

/// The QR code of `url` as dark squares in the box of side `size` at
/// `(x, y)`, with the quiet zone of four modules inside the box.
fn qr(w: &mut Writer<'_>, url: &str, x: f32, y: f32, size: f32) -> Result<(), CardsError> {
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| CardsError::Qr(url.to_owned()))?;
    let n = code.width();
    let colours = code.to_colors();
    let m = size / (n + 8) as f32;
    let mut rects = Vec::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if colours[row * n + col] == qrcode::Color::Dark {
                let start = col;
                while col < n && colours[row * n + col] == qrcode::Color::Dark {
                    col += 1;
                }
                rects.push((
                    x + (start + 4) as f32 * m,
                    y + (row + 4) as f32 * m,
                    (col - start) as f32 * m,
                    m,
                ));
            } else {
                col += 1;
            }
        }
    }
    w.fill_rect(x, y, size, size, [1.0; 3]);
    w.fill_rects(&rects, [0.0; 3]);
    Ok(())
}

/// Where the item is: the address, its unit and room.
fn place(x: &Item, lang: Lang) -> String {
    let mut s = x.address.clone();
    if let Some(u) = &x.unit {
        s.push_str(&i18n::tf(lang, "cards.unit", &[("unit", u)]));
    }
    if let Some(r) = &x.room {
        s.push_str(&i18n::tf(lang, "cards.room", &[("room", r)]));
    }
    s
}

/// One sign, filling the page.
fn sign(
    w: &mut Writer<'_>,
    x: &Item,
    lang: Lang,
    roles: &Roles,
    title: &str,
    (pw, ph): (f32, f32),
) -> Result<(), CardsError> {
    let s = pw / 595.28;
    let margin = 40.0 * s;
    let col = pw - 2.0 * margin;
    let accent = hex("#b71c1c");
    // The band: the sign's title and the grid.
    w.fill_rect(0.0, 0.0, pw, 150.0 * s, accent);
    let white = [1.0; 3];
    w.text_centred(pw / 2.0, 62.0 * s, 34.0 * s, white, title);
    let grid = w.fit(&x.grid, 22.0 * s, col);
    w.text_centred(pw / 2.0, 102.0 * s, 22.0 * s, white, &grid);
    let chain = [x.street.as_str(), x.community.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ");
    let chain = format!("{chain}  {}", x.grid_code);
    let chain = w.fit(chain.trim(), 11.0 * s, col);
    w.text_centred(pw / 2.0, 130.0 * s, 11.0 * s, white, &chain);
    w.y = 150.0 * s + 28.0 * s;
    let size = 15.0 * s;
    w.paragraph(
        margin,
        col,
        size,
        size * 1.4,
        INK,
        &format!("{}{}", i18n::t(lang, "cards.place"), place(x, lang)),
    );
    w.y += 10.0 * s;
    w.text(
        margin,
        w.y + 13.0 * s,
        13.0 * s,
        accent,
        i18n::t(lang, "cards.team"),
    );
    w.y += 22.0 * s;
    w.polyline(&[(margin, w.y), (margin + col, w.y)], [0.85; 3], 0.7 * s);
    w.y += 6.0 * s;
    let qr_size = 150.0 * s;
    // The team, as many rows as fit above the QR code.
    let row = 22.0 * s;
    let room = ph - margin - qr_size - 40.0 * s - w.y;
    let fits = (room / row).floor().max(0.0) as usize;
    let mut team = x.team.clone();
    team.sort_by_key(|m| priority(roles, &m.role));
    let shown = team.len().min(fits);
    let fs = 12.5 * s;
    for m in &team[..shown] {
        let y = w.y + fs + 3.0 * s;
        w.text(margin, y, fs, GREY, &roles.title(&m.role, lang));
        let name = w.fit(&m.name, fs, col * 0.34);
        w.text(margin + col * 0.3, y, fs, INK, &name);
        if m.party_member {
            let nw = w.measure(&name, fs);
            w.text(
                margin + col * 0.3 + nw + 6.0 * s,
                y,
                fs * 0.75,
                PARTY,
                i18n::t(lang, "cards.party"),
            );
        }
        w.text_right(margin + col, y, fs, INK, &m.phone);
        w.y += row;
    }
    if shown < team.len() {
        let more = i18n::tf(lang, "cards.more", &[("n", &(team.len() - shown))]);
        w.text(margin, w.y + fs, fs * 0.8, GREY, &more);
    }
    // The QR code and how to use it.
    let qy = ph - margin - qr_size - 30.0 * s;
    let qx = (pw - qr_size) / 2.0;
    qr(w, &x.url, qx, qy, qr_size)?;
    w.text_centred(
        pw / 2.0,
        qy + qr_size + 16.0 * s,
        13.0 * s,
        INK,
        i18n::t(lang, "cards.scan"),
    );
    let url = w.fit(&x.url, 7.5 * s, col);
    w.text_centred(pw / 2.0, qy + qr_size + 28.0 * s, 7.5 * s, GREY, &url);
    Ok(())
}

/// One business card in the box `(x, y, w, h)`, with its cut line.
fn card(
    w: &mut Writer<'_>,
    x: &Item,
    lang: Lang,
    roles: &Roles,
    (bx, by, bw, bh): (f32, f32, f32, f32),
) -> Result<(), CardsError> {
    w.stroke_rect(bx, by, bw, bh, CUT, 0.4);
    let pad = 9.0;
    let accent = hex("#b71c1c");
    let qr_size = 62.0;
    let text_w = bw - 2.0 * pad - qr_size - 6.0;
    w.fill_rect(bx, by, 4.0, bh, accent);
    w.text(
        bx + pad,
        by + pad + 7.0,
        7.0,
        accent,
        i18n::t(lang, "cards.card.title"),
    );
    let grid = w.fit(&x.grid, 11.0, text_w);
    w.text(bx + pad, by + pad + 21.0, 11.0, INK, &grid);
    let place = w.fit(&place(x, lang), 7.0, text_w);
    w.text(bx + pad, by + pad + 32.0, 7.0, GREY, &place);
    let mut team = x.team.clone();
    team.sort_by_key(|m| priority(roles, &m.role));
    let mut y = by + pad + 46.0;
    for m in team.iter().take(6) {
        if y > by + bh - pad {
            break;
        }
        let line = format!("{} {} {}", roles.title(&m.role, lang), m.name, m.phone);
        let line = w.fit(&line, 7.0, text_w);
        w.text(bx + pad, y, 7.0, INK, &line);
        y += 10.0;
    }
    let qx = bx + bw - pad - qr_size;
    let qy = by + pad;
    qr(w, &x.url, qx, qy, qr_size)?;
    w.text_centred(
        qx + qr_size / 2.0,
        qy + qr_size + 9.0,
        6.5,
        INK,
        i18n::t(lang, "cards.scan_short"),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap() -> Snapshot {
        Snapshot::build(
            gridgov_spatial::sample::district(&gridgov_spatial::sample::SampleSpec::default()),
            std::collections::HashMap::default(),
            1,
        )
    }

    fn community(s: &Snapshot) -> String {
        s.district
            .areas
            .iter()
            .find(|a| a.level == Level::Community)
            .unwrap()
            .code
            .clone()
    }

    #[test]
    fn a_community_gets_one_sign_per_building_of_its_grids() {
        let s = snap();
        let c = community(&s);
        let id = s.district.area_by_code(&c).unwrap();
        let grids: HashSet<AreaId> = s.district.children(id).collect();
        let expected = s
            .assignment
            .buildings
            .iter()
            .filter(|b| {
                b.placement
                    .responsible()
                    .is_some_and(|g| grids.contains(&g))
            })
            .count();
        let signs = plan(&s, &c, CardKind::Sign, "http://x").unwrap();
        assert_eq!(signs.len(), expected);
        assert!(expected > 0);
        let codes: HashSet<&str> = signs.iter().map(|x| x.building.as_str()).collect();
        assert_eq!(codes.len(), signs.len(), "one sign per building");
    }

    #[test]
    fn a_grid_gets_one_card_per_household_with_its_team_and_building_leaders() {
        let s = snap();
        let g = s.district.grids().next().unwrap();
        let code = s.district.area(g).code.clone();
        let cards = plan(&s, &code, CardKind::Card, "http://x").unwrap();
        let expected = s
            .assignment
            .households
            .iter()
            .filter(|p| p.responsible() == Some(g))
            .count();
        assert_eq!(cards.len(), expected);
        let staff = &s.district.area(g).staff;
        for x in &cards {
            assert!(x.room.is_some() && x.unit.is_some());
            assert_eq!(&x.team[..staff.len()], &staff[..]);
            assert!(x.team.iter().any(|m| m.role == StaffRole::BUILDING_LEADER));
            assert!(x.url.contains("&u="));
        }
    }

    #[test]
    fn unknown_areas_streets_and_bad_kinds_are_refused_by_name() {
        let s = snap();
        assert!(matches!(
            plan(&s, "nope", CardKind::Sign, "http://x"),
            Err(CardsError::UnknownArea(_))
        ));
        let street = s
            .district
            .areas
            .iter()
            .find(|a| a.level == Level::Street)
            .unwrap()
            .code
            .clone();
        let e = plan(&s, &street, CardKind::Sign, "http://x").unwrap_err();
        assert!(e.to_string().contains("is a street"), "{e}");
        assert!("poster".parse::<CardKind>().is_err());
    }

    #[test]
    fn numbers_in_addresses_and_rooms_sort_by_value() {
        let mut v = vec!["10号楼", "2号楼", "1201", "301", "2号楼A"];
        v.sort_by(|a, b| natural(a, b));
        assert_eq!(v, ["2号楼", "2号楼A", "10号楼", "301", "1201"]);
    }

    #[test]
    fn signs_and_cards_are_pdfs_with_a_page_per_sign_and_ten_cards_a_page() {
        let Some(font) = crate::report::pdf::test_font() else {
            return;
        };
        let s = snap();
        let g = s.district.grids().next().unwrap();
        let code = s.district.area(g).code.clone();
        let signs = plan(&s, &code, CardKind::Sign, "http://x").unwrap();
        let pdf = document(
            &signs,
            CardKind::Sign,
            Paper::A5,
            Lang::Zh,
            &Roles::default(),
            &font,
        )
        .unwrap();
        let pages = String::from_utf8_lossy(&pdf).matches("/MediaBox").count();
        assert_eq!(pages, signs.len());
        assert!(String::from_utf8_lossy(&pdf).contains("419.5"), "A5 width");
        let cards = plan(&s, &code, CardKind::Card, "http://x").unwrap();
        let pdf = document(
            &cards,
            CardKind::Card,
            Paper::A4,
            Lang::Zh,
            &Roles::default(),
            &font,
        )
        .unwrap();
        let pages = String::from_utf8_lossy(&pdf).matches("/MediaBox").count();
        assert_eq!(pages, cards.len().div_ceil(10));
    }
}
