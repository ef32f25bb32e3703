//! Addresses: a parser for Chinese and OSM-style addresses and an index
//! that matches them — exactly or fuzzily — to buildings and units, and so
//! to grids.
//!
//! Chinese addresses run from large to small:
//! `市中区龙山路街道光明社区 光明路18号 3号楼 2单元 301室` — district, street,
//! community, road + number (号, or 号院 for a compound), building
//! (号楼/栋/幢/座), unit (单元), room (室). Full-width digits and Chinese
//! numerals are normalised (`三号楼` = `3号楼`, `１８号` = `18号`), and any part
//! may be missing. OSM-style addresses are `street housenumber [entrance]
//! [apartment]`, e.g. `Mannerheimintie 5 A 12`.
//!
//! ```
//! use gridgov_spatial::address::parse;
//! let a = parse("市中区龙山路街道光明社区 光明路１８号 三号楼 二单元 301室");
//! assert_eq!(a.street.as_deref(), Some("龙山路"));
//! assert_eq!(a.community.as_deref(), Some("光明"));
//! assert_eq!(a.road.as_deref(), Some("光明路"));
//! assert_eq!(a.number.as_deref(), Some("18"));
//! assert_eq!(a.building.as_deref(), Some("3"));
//! assert_eq!(a.unit.as_deref(), Some("2"));
//! assert_eq!(a.room.as_deref(), Some("301"));
//! ```

use serde::Serialize;

use crate::{AreaId, Assignment, BuildingId, District, Level, UnitId};

/// The parts of an address; every part is optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ParsedAddress {
    /// District (区/县), without the suffix kept as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// Street office, normalised (suffix 街道/镇/乡 removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// Community, normalised (suffix 社区/居委会/村 removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub community: Option<String>,
    /// Road or street name, e.g. `光明路`, `Mannerheimintie`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub road: Option<String>,
    /// House number on the road, e.g. `18`, `5a`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// True when the number names a compound (号院).
    pub compound: bool,
    /// Building number within the compound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub building: Option<String>,
    /// Unit (单元) or entrance letter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Room or apartment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x9FFF | 0xF900..=0xFAFF)
}

/// Full-width ASCII → half-width; ideographic space → space.
///
/// ```
/// use gridgov_spatial::address::to_half_width;
/// assert_eq!(to_half_width("１８号Ａ栋"), "18号A栋");
/// ```
pub fn to_half_width(s: &str) -> String {
    s.chars()
        .map(|c| match c as u32 {
            0x3000 => ' ',
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

fn numeral_value(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// Value of a run of Chinese numerals: `十八` = 18, `三百零一` = 301,
/// `一二三` = 123 (digit by digit).
///
/// ```
/// use gridgov_spatial::address::chinese_number;
/// assert_eq!(chinese_number("十八"), Some(18));
/// assert_eq!(chinese_number("三百零一"), Some(301));
/// assert_eq!(chinese_number("二〇一"), Some(201));
/// assert_eq!(chinese_number("路"), None);
/// ```
pub fn chinese_number(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    if !s.chars().any(|c| matches!(c, '十' | '百' | '千')) {
        return s
            .chars()
            .try_fold(0u32, |acc, c| numeral_value(c).map(|v| acc * 10 + v));
    }
    let (mut total, mut digit) = (0u32, None::<u32>);
    for c in s.chars() {
        let mult = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            _ => {
                digit = Some(numeral_value(c)?);
                continue;
            }
        };
        total += digit.unwrap_or(1) * mult;
        digit = None;
    }
    Some(total + digit.unwrap_or(0))
}

const NUMERALS: &str = "零〇一二两三四五六七八九十百千";
/// Markers after which a run of Chinese numerals is a number.
const NUMBER_MARKERS: [&str; 10] = ["号", "栋", "幢", "座", "单元", "楼", "室", "层", "户", "门"];

/// Replaces Chinese numerals that stand before a number marker with digits.
fn numerals_to_digits(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if NUMERALS.contains(chars[i]) {
            let mut j = i;
            while j < chars.len() && NUMERALS.contains(chars[j]) {
                j += 1;
            }
            let rest: String = chars[j..].iter().collect();
            let run: String = chars[i..j].iter().collect();
            if NUMBER_MARKERS.iter().any(|m| rest.starts_with(m))
                && let Some(v) = chinese_number(&run)
            {
                out.push_str(&v.to_string());
                i = j;
                continue;
            }
            out.push_str(&run);
            i = j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Strips a trailing admin suffix: `光明社区` → `光明`.
///
/// ```
/// use gridgov_spatial::address::normalise_area_name;
/// assert_eq!(normalise_area_name("前岭社区居委会"), "前岭");
/// assert_eq!(normalise_area_name("龙山路街道"), "龙山路");
/// ```
pub fn normalise_area_name(s: &str) -> String {
    const COMMITTEE: [&str; 10] = [
        "社区居民委员会",
        "社区居委会",
        "村民委员会",
        "居民委员会",
        "街道办事处",
        "居委会",
        "村委会",
        "社区",
        "街道",
        "办事处",
    ];
    let mut s = s.trim().to_string();
    // Stacked suffixes (陈庄农村社区村委会) are stripped one after another.
    let mut stripped = false;
    while let Some(t) = COMMITTEE
        .iter()
        .find_map(|suf| s.strip_suffix(suf).filter(|t| !t.is_empty()))
    {
        s = t.to_string();
        stripped = true;
    }
    if !stripped {
        for suf in ["村", "镇", "乡"] {
            if let Some(t) = s.strip_suffix(suf).filter(|t| !t.is_empty()) {
                return t.to_string();
            }
        }
    }
    s
}

/// Words that start a road name's ending: a "community" followed by one of
/// these is really part of a road name (东村路).
const ROAD_WORDS: [&str; 8] = ["路", "街", "道", "巷", "胡同", "里", "大道", "弄"];

/// Finds the community: the longest leading name, before any digit, that
/// ends in a committee suffix and is not the start of a road name.
fn take_community(s: &str) -> Option<(String, &str)> {
    const SUFFIXES: [&str; 8] = [
        "社区居民委员会",
        "社区居委会",
        "村民委员会",
        "居民委员会",
        "居委会",
        "村委会",
        "社区",
        "村",
    ];
    let limit = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
    let region = &s[..limit];
    let mut best: Option<usize> = None;
    for suf in SUFFIXES {
        for (pos, _) in region.match_indices(suf) {
            let end = pos + suf.len();
            let head_chars = s[..pos].chars().count();
            if head_chars == 0
                || head_chars > 12
                || ROAD_WORDS.iter().any(|w| s[end..].starts_with(w))
            {
                continue;
            }
            best = Some(best.map_or(end, |b: usize| b.max(end)));
        }
    }
    let end = best?;
    Some((normalise_area_name(&s[..end]), &s[end..]))
}

/// Takes the leading digits/ASCII letters of `s`.
fn take_alnum(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .unwrap_or(s.len());
    s.split_at(end)
}

/// Parses a Chinese or OSM-style address.
pub fn parse(input: &str) -> ParsedAddress {
    let s = to_half_width(input);
    if !s.chars().any(is_cjk) {
        return parse_osm(&s);
    }
    let s = numerals_to_digits(&s);
    let mut s: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ',' | '，' | '、' | '-' | '—'))
        .collect();
    let mut a = ParsedAddress::default();
    // Province / city / district prefixes.
    for suf in ["省", "自治区", "市", "区", "县"] {
        if let Some(p) = s.find(suf) {
            let head = &s[..p];
            // 社区 and 小区 are not districts.
            if suf == "区" && (head.ends_with('社') || head.ends_with('小')) {
                continue;
            }
            // Only a short leading name, not something like 光明路 ... 市场.
            if head.chars().count() <= 6 && !head.is_empty() && !head.contains(['路', '街', '号'])
            {
                if suf == "区" || suf == "县" {
                    a.district = Some(format!("{head}{suf}"));
                }
                s = s[p + suf.len()..].to_string();
            }
        }
    }
    // Street office.
    for suf in ["街道办事处", "街道", "镇", "乡"] {
        if let Some(p) = s.find(suf) {
            let head = &s[..p];
            if !head.is_empty()
                && head.chars().count() <= 8
                && !head.chars().any(|c| c.is_ascii_digit())
            {
                a.street = Some(normalise_area_name(&format!("{head}{suf}")));
                s = s[p + suf.len()..].to_string();
                break;
            }
        }
    }
    // Community.
    if let Some((c, rest)) = take_community(&s) {
        a.community = Some(c);
        s = rest.to_string();
    }
    // Road + number: the name up to the first digit, when it ends in a road word.
    if let Some(p) = s.find(|c: char| c.is_ascii_digit()) {
        let head = &s[..p];
        if ["路", "街", "道", "巷", "胡同", "里", "大道", "弄"]
            .iter()
            .any(|w| head.ends_with(w))
        {
            let (num, rest) = take_alnum(&s[p..]);
            if let Some(r) = rest
                .strip_prefix("号院")
                .or_else(|| rest.strip_prefix("院"))
            {
                a.road = Some(head.to_string());
                a.number = Some(num.to_lowercase());
                a.compound = true;
                s = r.to_string();
            } else if let Some(r) = rest.strip_prefix('号')
                && !r.starts_with('楼')
            {
                a.road = Some(head.to_string());
                a.number = Some(num.to_lowercase());
                s = r.to_string();
            }
        }
    }
    // A leading name without digits (a compound name like 光明小区) is skipped.
    if let Some(p) = s.find(|c: char| c.is_ascii_alphanumeric())
        && p > 0
    {
        s = s[p..].to_string();
    }
    // Building.
    let (num, rest) = take_alnum(&s);
    if !num.is_empty() {
        for m in ["号楼", "栋", "幢", "座", "楼", "号"] {
            if let Some(r) = rest.strip_prefix(m) {
                // "号" alone is a building only when more parts follow.
                if m == "号" && r.is_empty() {
                    break;
                }
                a.building = Some(num.to_uppercase());
                s = r.to_string();
                break;
            }
        }
    }
    // Unit.
    let (num, rest) = take_alnum(&s);
    if !num.is_empty()
        && let Some(r) = rest
            .strip_prefix("单元")
            .or_else(|| rest.strip_prefix("门"))
    {
        a.unit = Some(num.to_uppercase());
        s = r.to_string();
    }
    // Room.
    let (num, rest) = take_alnum(&s);
    if !num.is_empty()
        && (rest.is_empty() || ["室", "号", "户"].iter().any(|m| rest.starts_with(m)))
    {
        a.room = Some(num.to_string());
    }
    a
}

fn parse_osm(s: &str) -> ParsedAddress {
    let mut a = ParsedAddress::default();
    let tokens: Vec<&str> = s.split([' ', ',']).filter(|t| !t.is_empty()).collect();
    let Some(k) = tokens
        .iter()
        .position(|t| t.starts_with(|c: char| c.is_ascii_digit()))
    else {
        if !tokens.is_empty() {
            a.road = Some(tokens.join(" "));
        }
        return a;
    };
    if k > 0 {
        a.road = Some(tokens[..k].join(" "));
    }
    let num = tokens[k];
    // "5a" or "5-7": the number; a trailing single letter may be the entrance.
    a.number = Some(num.to_lowercase());
    let mut rest = tokens[k + 1..].iter();
    if let Some(t) = rest.next() {
        if t.len() == 1 && t.chars().all(|c| c.is_ascii_alphabetic()) {
            a.unit = Some(t.to_uppercase());
            if let Some(r) = rest.next() {
                a.room = Some((*r).to_string());
            }
        } else if t.chars().all(|c| c.is_ascii_digit()) {
            a.room = Some((*t).to_string());
        }
    }
    a
}

/// One candidate answer to an address lookup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddressMatch {
    /// The building matched.
    pub building: BuildingId,
    /// The unit matched, when the address names one the building has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitId>,
    /// The building's address as stored.
    pub address: String,
    /// Its grid (or the nearest, when outside every grid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<AreaId>,
    /// 0–1: how sure the match is.
    pub confidence: f64,
    /// Why: which parts matched.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone)]
struct Entry {
    building: BuildingId,
    parsed: ParsedAddress,
    road_key: String,
    community: Option<String>,
    street: Option<String>,
    grid: Option<AreaId>,
}

/// An index over a district's building addresses.
///
/// ```
/// use gridgov_spatial::{address::AddressIndex, assign, sample, GridIndex};
/// let d = sample::district(&sample::SampleSpec::default());
/// let a = assign(&d, &GridIndex::new(&d));
/// let idx = AddressIndex::new(&d, &a);
/// let b = &d.buildings[10];
/// let m = idx.lookup(&d, &b.address, 3);
/// assert_eq!(m[0].building.index(), 10);
/// assert!(m[0].confidence > 0.9);
/// ```
#[derive(Debug, Clone)]
pub struct AddressIndex {
    entries: crate::Rows<Entry>,
}

fn road_key(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
        .collect()
}

/// Levenshtein distance over characters.
///
/// ```
/// use gridgov_spatial::address::edit_distance;
/// assert_eq!(edit_distance("光明路", "光名路"), 1);
/// assert_eq!(edit_distance("kitten", "sitting"), 3);
/// ```
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Similarity of two road names in [0, 1]: 1 when equal, less with each
/// edit; 0 beyond one edit per four characters.
fn road_similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let n = a.chars().count().max(b.chars().count()).max(1);
    let d = edit_distance(a, b);
    let allowed = (n / 4).max(1);
    if d > allowed {
        0.0
    } else {
        1.0 - d as f64 / (n as f64 + 1.0)
    }
}

impl AddressIndex {
    /// Indexes every building's address; community and street come from the
    /// grid each building is assigned to.
    pub fn new(d: &District, a: &Assignment) -> Self {
        let entries = (0..d.buildings.len())
            .map(|i| Self::entry(d, a, i))
            .collect();
        AddressIndex { entries }
    }

    fn entry(d: &District, a: &Assignment, i: usize) -> Entry {
        let b = &d.buildings[i];
        let grid = a.buildings.get(i).and_then(|p| p.placement.responsible());
        let chain = grid.map(|g| d.chain(g)).unwrap_or_default();
        let name_at = |level: Level| {
            chain
                .iter()
                .find(|&&x| d.area(x).level == level)
                .map(|&x| normalise_area_name(&d.area(x).name))
        };
        let parsed = parse(&b.address);
        Entry {
            building: BuildingId(i as u32),
            road_key: parsed.road.as_deref().map(road_key).unwrap_or_default(),
            parsed,
            community: name_at(Level::Community),
            street: name_at(Level::Street),
            grid,
        }
    }

    /// This index with the buildings `changed` (by index) indexed again
    /// from `d` and `a` (their grid, or the names above it, changed);
    /// the other entries are shared. `d` has the same buildings as the
    /// district this index was made from.
    ///
    /// ```
    /// use gridgov_spatial::{address::AddressIndex, assign, sample, GridIndex};
    /// let d = sample::district(&sample::SampleSpec::default());
    /// let a = assign(&d, &GridIndex::new(&d));
    /// let idx = AddressIndex::new(&d, &a);
    /// let again = idx.with_buildings(&d, &a, &[0, 3]);
    /// let q = &d.buildings[3].address;
    /// assert_eq!(again.lookup(&d, q, 3), idx.lookup(&d, q, 3));
    /// ```
    #[must_use]
    pub fn with_buildings(&self, d: &District, a: &Assignment, changed: &[usize]) -> Self {
        let mut entries = self.entries.clone();
        for &i in changed {
            if i < entries.len() && i < d.buildings.len() {
                entries.set(i, Self::entry(d, a, i));
            }
        }
        AddressIndex { entries }
    }

    /// Ranked candidates for `query`, best first, at most `limit`.
    pub fn lookup(&self, d: &District, query: &str, limit: usize) -> Vec<AddressMatch> {
        let q = parse(query);
        let q_road = q.road.as_deref().map(road_key);
        let mut out: Vec<AddressMatch> = Vec::new();
        for e in &self.entries {
            let mut score = 0.0;
            let mut max = 0.0;
            let mut reasons = Vec::new();
            // Road: required when the query has one.
            if let Some(qr) = &q_road {
                max += 4.0;
                let sim = road_similarity(qr, &e.road_key);
                if sim == 0.0 {
                    continue;
                }
                score += 4.0 * sim;
                reasons.push(if sim == 1.0 {
                    "road".to_string()
                } else {
                    format!("road ~{sim:.2}")
                });
            }
            if let Some(n) = &q.number {
                max += 3.0;
                if e.parsed.number.as_deref() == Some(n.as_str()) {
                    score += 3.0;
                    reasons.push("number".into());
                } else {
                    continue;
                }
            }
            if let Some(b) = &q.building {
                max += 2.0;
                match e.parsed.building.as_deref() {
                    Some(eb) if eb == b => {
                        score += 2.0;
                        reasons.push("building".into());
                    }
                    _ => continue,
                }
            }
            for (qv, ev, w, what) in [
                (&q.community, &e.community, 1.0, "community"),
                (&q.street, &e.street, 0.5, "street"),
            ] {
                if let Some(qv) = qv {
                    max += w;
                    if ev
                        .as_deref()
                        .is_some_and(|ev| ev == qv || road_similarity(ev, qv) > 0.0)
                    {
                        score += w;
                        reasons.push(what.to_string());
                    }
                }
            }
            if max == 0.0 {
                continue;
            }
            // Unit: resolve to the building's unit with that label.
            let unit = q.unit.as_ref().and_then(|u| {
                d.units
                    .iter()
                    .position(|x| x.building == e.building && x.label.eq_ignore_ascii_case(u))
                    .map(|i| UnitId(i as u32))
            });
            if q.unit.is_some() {
                max += 0.5;
                if unit.is_some() {
                    score += 0.5;
                    reasons.push("unit".into());
                }
            }
            out.push(AddressMatch {
                building: e.building,
                unit,
                address: d.buildings[e.building.index()].address.clone(),
                grid: e.grid,
                confidence: score / max,
                reasons,
            });
        }
        out.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then(a.building.cmp(&b.building))
        });
        out.truncate(limit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_addresses_parse_into_their_parts() {
        let a = parse("龙山路街道辛庄社区光明路18号院3栋2单元301");
        assert_eq!(a.street.as_deref(), Some("龙山路"));
        assert_eq!(a.community.as_deref(), Some("辛庄"));
        assert_eq!(
            (a.road.as_deref(), a.number.as_deref(), a.compound),
            (Some("光明路"), Some("18"), true)
        );
        assert_eq!(
            (a.building.as_deref(), a.unit.as_deref(), a.room.as_deref()),
            (Some("3"), Some("2"), Some("301"))
        );
    }

    #[test]
    fn building_words_are_equivalent() {
        for s in [
            "光明路18号3号楼",
            "光明路18号3栋",
            "光明路18号3幢",
            "光明路18号三号楼",
            "光明路１８号３座",
        ] {
            let a = parse(s);
            assert_eq!(a.building.as_deref(), Some("3"), "{s}");
            assert_eq!(a.number.as_deref(), Some("18"), "{s}");
        }
    }

    #[test]
    fn missing_parts_stay_empty() {
        let a = parse("光明路18号");
        assert_eq!(a.road.as_deref(), Some("光明路"));
        assert!(a.building.is_none() && a.unit.is_none() && a.community.is_none());
        let a = parse("2单元301室");
        assert_eq!(
            (a.unit.as_deref(), a.room.as_deref()),
            (Some("2"), Some("301"))
        );
    }

    #[test]
    fn osm_addresses_parse_street_number_and_entrance() {
        let a = parse("Mannerheimintie 5 A 12");
        assert_eq!(a.road.as_deref(), Some("Mannerheimintie"));
        assert_eq!(a.number.as_deref(), Some("5"));
        assert_eq!(a.unit.as_deref(), Some("A"));
        assert_eq!(a.room.as_deref(), Some("12"));
        let a = parse("Karl-Liebknecht-Straße 13");
        assert_eq!(a.road.as_deref(), Some("Karl-Liebknecht-Straße"));
        assert_eq!(a.number.as_deref(), Some("13"));
    }

    #[test]
    fn every_official_community_name_of_the_street_parses_as_a_community() {
        for (_, name) in crate::sample::COMMUNITIES {
            let a = parse(&format!("{name}光明路18号"));
            assert_eq!(
                a.community.as_deref(),
                Some(normalise_area_name(name).as_str()),
                "{name}"
            );
            assert_eq!(a.road.as_deref(), Some("光明路"), "{name}");
        }
    }
}
