//! The sample district: a deterministic, synthetic Longshan Road Street
//! (龙山路街道, Shizhong District, Zaozhuang; about 117.55 E, 34.86 N) with
//! the real street's numbers — 8 communities with their official names and
//! codes, 44 basic and 8 exclusive grids, 453 buildings, 1,194 units, about
//! 13,000 households, 1,100 merchants, 220 cameras and 5,700 incidents over
//! nine months, clustered around markets, old housing and main roads.
//!
//! Geometry, people and events are invented; names and codes of the street
//! and its communities are the official ones (national statistics, 2023).
//!
//! ```
//! use gridgov_spatial::sample::{district, SampleSpec};
//! let d = district(&SampleSpec::default());
//! assert_eq!(d.grids().count(), 52);
//! assert_eq!(d.buildings.len(), 453);
//! ```

use geo::{BoundingRect, Centroid, Coord, LineString, MultiPolygon, Point, Polygon};

use crate::geodesy::LocalProjection;
use crate::pip::contains_multi;
use crate::synthetic::{Lattice, TilingSpec, district_bbox};
use crate::{
    Area, AreaId, Building, BuildingId, Camera, District, GridKind, Household, Incident,
    IncidentSource, IncidentStatus, Level, MapFeature, Merchant, Rng, Rows, Staff, StaffRole, Unit,
    UnitId,
};

/// Official code of Shizhong District, Zaozhuang.
pub const DISTRICT_CODE: &str = "370402";
/// Official code and name of Longshan Road Street.
pub const STREET: (&str, &str) = ("370402005", "龙山路街道");
/// Official codes and names of its communities (residents' committees).
pub const COMMUNITIES: [(&str, &str); 8] = [
    ("370402005001", "辛庄居委会"),
    ("370402005002", "道南居委会"),
    ("370402005004", "荣华里居委会"),
    ("370402005005", "车站居委会"),
    ("370402005010", "长乐居委会"),
    ("370402005012", "前岭社区居委会"),
    ("370402005013", "公胜街社区居委会"),
    ("370402005014", "老车站社区居委会"),
];

/// What to generate.
///
/// ```
/// use gridgov_spatial::sample::SampleSpec;
/// let s = SampleSpec::default();
/// assert_eq!((s.streets, s.buildings, s.incidents), (1, 453, 5_700));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSpec {
    /// Seed; the same seed gives the same district.
    pub seed: u64,
    /// Number of streets like Longshan Road, side by side (52 grids each).
    pub streets: usize,
    /// Buildings in total.
    pub buildings: usize,
    /// Incidents in total.
    pub incidents: usize,
    /// Merchants in total.
    pub merchants: usize,
    /// Cameras in total.
    pub cameras: usize,
    /// Units in total, when given: a few two-unit buildings gain a third
    /// unit (or three-unit ones lose theirs), with its households, to
    /// reach it exactly.
    pub units: Option<usize>,
    /// Whether households carry (invented) names, phone numbers and
    /// identity card numbers.
    pub personal: bool,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec {
            seed: 2022,
            streets: 1,
            buildings: 453,
            incidents: 5_700,
            merchants: 1_100,
            cameras: 220,
            units: Some(1_194),
            personal: true,
        }
    }
}

impl SampleSpec {
    /// `n` streets like Longshan Road side by side, everything scaled.
    ///
    /// ```
    /// use gridgov_spatial::sample::SampleSpec;
    /// assert_eq!(SampleSpec::streets(3).buildings, 3 * 453);
    /// ```
    pub fn streets(n: usize) -> Self {
        let base = SampleSpec::default();
        let n = n.max(1);
        SampleSpec {
            streets: n,
            buildings: base.buildings * n,
            incidents: base.incidents * n,
            merchants: base.merchants * n,
            cameras: base.cameras * n,
            units: base.units.map(|u| u * n),
            ..base
        }
    }

    /// A city: 97 streets (5,044 grids), 1 M buildings, 10 M incidents;
    /// households without personal fields, to keep the file manageable.
    ///
    /// ```
    /// use gridgov_spatial::sample::SampleSpec;
    /// assert_eq!(SampleSpec::city().streets * 52, 5_044);
    /// ```
    pub fn city() -> Self {
        SampleSpec {
            buildings: 1_000_000,
            incidents: 10_000_000,
            units: None,
            personal: false,
            ..SampleSpec::streets(97)
        }
    }
}

const ROADS_H: [&str; 3] = ["光明路", "龙山路", "文化路"];
const ROADS_V: [&str; 11] = [
    "振兴街",
    "君山路",
    "建设路",
    "华山路",
    "人民路",
    "青檀路",
    "和平路",
    "新华街",
    "解放路",
    "齐村路",
    "龙头路",
];
const MAIN_H: [usize; 1] = [2];
const MAIN_V: [usize; 3] = [3, 6, 9];
const INSTITUTIONS: [&str; 8] = [
    "市中区人民医院",
    "龙山路小学",
    "枣庄市第十五中学",
    "光明路幼儿园",
    "枣庄职业学院",
    "龙山工业园",
    "市中区政务服务中心",
    "枣庄火车站货运场",
];
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔";
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌辉海燕鹏飞宇浩凯丹晨婷雪琳欣然子涵梓轩";
const SHOP_PREFIX: [&str; 24] = [
    "老王",
    "鑫源",
    "华联",
    "福满",
    "聚德",
    "百信",
    "金鼎",
    "盛世",
    "好又多",
    "家家乐",
    "新时代",
    "东方",
    "利民",
    "顺发",
    "永盛",
    "宏达",
    "佳美",
    "惠民",
    "龙山",
    "光明",
    "青檀",
    "君山",
    "康泰",
    "万家",
];
/// (category, Chinese suffix, weight)
const SHOP_KINDS: [(&str, &str, f64); 14] = [
    ("restaurant", "饭店", 18.0),
    ("noodles", "面馆", 8.0),
    ("supermarket", "超市", 8.0),
    ("convenience", "便利店", 10.0),
    ("pharmacy", "大药房", 5.0),
    ("hairdresser", "理发店", 7.0),
    ("hardware", "五金店", 5.0),
    ("clothes", "服装店", 8.0),
    ("bank", "银行网点", 2.0),
    ("office", "商贸有限公司", 9.0),
    ("repair", "维修部", 5.0),
    ("bakery", "烘焙坊", 4.0),
    ("phone", "通讯店", 5.0),
    ("fruit", "水果店", 6.0),
];
/// Incident categories by where they happen: (category, weight).
const CAT_MARKET: [(&str, f64); 4] = [
    ("environment", 5.0),
    ("street_vending", 4.0),
    ("noise", 2.0),
    ("food_safety", 1.0),
];
const CAT_HOUSING: [(&str, f64); 6] = [
    ("dispute", 3.0),
    ("water_heating", 3.0),
    ("property", 3.0),
    ("parking", 2.0),
    ("safety_hazard", 2.0),
    ("environment", 2.0),
];
const CAT_ROAD: [(&str, f64); 5] = [
    ("road_damage", 3.0),
    ("parking", 3.0),
    ("street_lighting", 2.0),
    ("traffic", 2.0),
    ("greenery", 1.0),
];

/// First day of the nine months of incidents (days since 1970-01-01):
/// 2026-02-01.
const INCIDENTS_FROM: i64 = 20_485;
/// Days covered: 2026-02-01 to 2026-10-31.
const INCIDENT_DAYS: i64 = 273;

/// Generates the district.
pub fn district(spec: &SampleSpec) -> District {
    let mut g = Gen {
        rng: Rng::new(spec.seed),
        ids: Rng::new(spec.seed ^ 0x1164_3199),
        d: District::new("龙山路街道 (sample)"),
        proj: LocalProjection::new(117.55, 34.86),
        streets: Vec::new(),
        surnames: SURNAMES.chars().collect(),
        given: GIVEN.chars().collect(),
        exclusive: Vec::new(),
        personal: spec.personal,
    };
    g.d.attribution =
        "Synthetic sample district generated by gridgov. Names and codes of the street and \
                       its communities: national statistical division codes (2023)."
            .into();
    let per_row = (spec.streets as f64).sqrt().ceil().max(1.0) as usize;
    for s in 0..spec.streets.max(1) {
        g.street(s, s % per_row, s / per_row);
    }
    g.institutions();
    g.exclusive =
        g.d.areas
            .iter()
            .filter(|a| a.kind == Some(GridKind::Exclusive))
            .filter_map(|a| a.boundary.bounding_rect().map(|r| (r, a.boundary.clone())))
            .collect();
    g.buildings(spec.buildings);
    g.merchants(spec.merchants);
    g.cameras(spec.cameras);
    g.incidents(spec.incidents);
    g.finish(spec.units);
    g.d
}

struct StreetPlan {
    lattice: Lattice,
    basic: Vec<AreaId>,
    communities: Vec<AreaId>,
    markets: Vec<Coord<f64>>,
}

struct Gen {
    rng: Rng,
    /// Draws identity card numbers apart from `rng`, so adding them left
    /// the rest of the sample as it was.
    ids: Rng,
    d: District,
    proj: LocalProjection,
    streets: Vec<StreetPlan>,
    surnames: Vec<char>,
    given: Vec<char>,
    /// Boxes and boundaries of exclusive grids, to keep buildings out.
    exclusive: Vec<(geo::Rect<f64>, MultiPolygon<f64>)>,
    /// Whether households carry names, phone numbers and ID numbers.
    personal: bool,
}

fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

fn round_mp(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    use geo::MapCoords;
    mp.map_coords(|c| Coord {
        x: round7(c.x),
        y: round7(c.y),
    })
}

fn pt(c: Coord<f64>) -> Point<f64> {
    Point::new(round7(c.x), round7(c.y))
}

impl Gen {
    /// The last touches, drawn apart from the rest of the sample (so adding
    /// them left it as it was): the number of units made exact, then a
    /// building leader for every building.
    fn finish(&mut self, units: Option<usize>) {
        // Seeded from the ID stream: the sample stays a function of its
        // seed alone.
        let own = Rng::new(self.ids.next_u64() ^ 0x1ead_e125);
        let rest = std::mem::replace(&mut self.rng, own);
        if let Some(n) = units {
            self.units_to(n);
        }
        self.teams();
        self.leaders();
        self.rng = rest;
    }

    /// Brings the number of units to `target`: two-unit buildings spread
    /// over the district gain a third entrance between their two (with
    /// two households a floor), or three-unit buildings lose their third
    /// (with its households), until it is reached or no building can.
    fn units_to(&mut self, target: usize) {
        let mut per: Vec<Vec<usize>> = vec![Vec::new(); self.d.buildings.len()];
        for (i, u) in self.d.units.iter().enumerate() {
            per[u.building.index()].push(i);
        }
        let have = self.d.units.len();
        if have < target {
            let twos: Vec<usize> = (0..per.len()).filter(|&b| per[b].len() == 2).collect();
            let need = (target - have).min(twos.len());
            for k in 0..need {
                let b = twos[k * twos.len() / need];
                let (a, c) = (&self.d.units[per[b][0]], &self.d.units[per[b][1]]);
                let loc = Coord {
                    x: f64::midpoint(a.location.x(), c.location.x()),
                    y: f64::midpoint(a.location.y(), c.location.y()),
                };
                let floors = self.d.buildings[b].floors;
                self.add_unit(BuildingId(b as u32), "3".into(), loc, floors);
            }
        } else if have > target {
            let threes: Vec<usize> = (0..per.len()).filter(|&b| per[b].len() == 3).collect();
            let drop = (have - target).min(threes.len());
            let gone: std::collections::HashSet<usize> = (0..drop)
                .map(|k| per[threes[k * threes.len() / drop]][2])
                .collect();
            // Units and households keep their order; ids close up.
            let mut new_id = vec![u32::MAX; have];
            let mut units = Rows::new();
            for (i, u) in self.d.units.iter().enumerate() {
                if !gone.contains(&i) {
                    new_id[i] = units.len() as u32;
                    units.push_back(u.clone());
                }
            }
            let households = self
                .d
                .households
                .iter()
                .filter(|h| new_id[h.unit.index()] != u32::MAX)
                .map(|h| Household {
                    unit: UnitId(new_id[h.unit.index()]),
                    ..h.clone()
                })
                .collect();
            self.d.units = units;
            self.d.households = households;
        }
    }

    /// The forces that enter the grid ("1+1+X+N"): each community's police
    /// officer and legal adviser serve all its basic grids, and each basic
    /// grid has a volunteer of its own, so every basic grid's team has at
    /// least 5.
    fn teams(&mut self) {
        let communities: Vec<AreaId> = self.d.areas_at(Level::Community).collect();
        for c in communities {
            let forces =
                [StaffRole::COMMUNITY_POLICE, StaffRole::LEGAL_ADVISER].map(|role| Staff {
                    role,
                    name: self.name(),
                    phone: self.phone(),
                    party_member: false,
                });
            let grids: Vec<AreaId> = self
                .d
                .grids()
                .filter(|&g| {
                    let a = self.d.area(g);
                    a.parent == Some(c) && a.kind == Some(GridKind::Basic)
                })
                .collect();
            for g in grids {
                let volunteer = Staff {
                    role: StaffRole::VOLUNTEER,
                    name: self.name(),
                    phone: self.phone(),
                    party_member: self.rng.f64() < 0.3,
                };
                let mut a = self.d.areas[g.index()].clone();
                a.staff.extend(forces.iter().cloned());
                a.staff.push(volunteer);
                self.d.areas.set(g.index(), a);
            }
        }
    }

    /// A unit (an entrance) of building `b` with two households a floor.
    fn add_unit(&mut self, building: BuildingId, label: String, loc: Coord<f64>, floors: u16) {
        let per_floor = 2;
        let uid = UnitId(self.d.units.len() as u32);
        self.d.units.push_back(Unit {
            building,
            label,
            location: pt(loc),
            households: u32::from(floors) * per_floor,
        });
        for f in 1..=floors {
            for k in 1..=per_floor {
                let headcount = self.rng.weighted(&[2.0, 4.0, 5.0, 3.0, 1.0]) as u16 + 1;
                let (head_name, phone, id_number) = if self.personal {
                    let (n, p) = (self.name(), self.phone());
                    (Some(n), Some(p), Some(self.id_number(DISTRICT_CODE)))
                } else {
                    (None, None, None)
                };
                self.d.households.push_back(Household {
                    unit: uid,
                    room: format!("{f}{k:02}"),
                    headcount,
                    head_name,
                    phone,
                    id_number,
                });
            }
        }
    }

    /// A building leader for every building; about 45% of them party
    /// members, as the streets' "red building leaders".
    fn leaders(&mut self) {
        let mut buildings = std::mem::take(&mut self.d.buildings);
        for b in &mut buildings {
            b.leaders = vec![Staff {
                role: StaffRole::BUILDING_LEADER,
                name: self.name(),
                phone: self.phone(),
                party_member: self.rng.f64() < 0.45,
            }];
        }
        self.d.buildings = buildings;
    }

    fn name(&mut self) -> String {
        let mut n = String::new();
        n.push(*self.rng.pick(&self.surnames));
        n.push(*self.rng.pick(&self.given));
        if self.rng.f64() < 0.6 {
            n.push(*self.rng.pick(&self.given));
        }
        n
    }

    fn phone(&mut self) -> String {
        let prefix = [
            "138", "139", "135", "136", "150", "151", "152", "158", "159", "187", "188", "177",
        ];
        let p = *self.rng.pick(&prefix);
        format!("{p}{:08}", self.rng.below(100_000_000))
    }

    /// An identity card number issued in `region` to an adult born
    /// 1940–2004.
    fn id_number(&mut self, region: &str) -> String {
        let y = 1940 + self.ids.below(65) as u32;
        let m = 1 + self.ids.below(12) as u32;
        let d = 1 + self.ids.below(28) as u32;
        crate::idcard::resident_id(region, (y, m, d), self.ids.below(1000) as u32)
    }

    fn staff(&mut self) -> Vec<Staff> {
        let mut v = vec![Staff {
            role: StaffRole::GRID_LEADER,
            name: self.name(),
            phone: self.phone(),
            party_member: false,
        }];
        for _ in 0..=self.rng.below(2) {
            v.push(Staff {
                role: StaffRole::GRID_WORKER,
                name: self.name(),
                phone: self.phone(),
                party_member: false,
            });
        }
        v.push(Staff {
            role: StaffRole::INSTRUCTOR,
            name: self.name(),
            phone: self.phone(),
            party_member: false,
        });
        v
    }

    /// One street of 8 communities on a 12 × 4 lattice, at block (sx, sy).
    fn street(&mut self, s: usize, sx: usize, sy: usize) {
        let b = district_bbox();
        let (w, h) = (b[2] - b[0], b[3] - b[1]);
        let bbox = [
            b[0] + sx as f64 * w,
            b[1] - sy as f64 * h,
            b[2] + sx as f64 * w,
            b[3] - sy as f64 * h,
        ];
        let spec = TilingSpec {
            cols: 12,
            rows: 4,
            bbox,
            vertices_per_side: 12,
            jitter: 0.18,
            wiggle: 0.025,
        };
        let lattice = Lattice::new(&spec, self.rng.next_u64());
        let (street_code, street_name) = if s == 0 {
            (STREET.0.to_string(), STREET.1.to_string())
        } else {
            (
                format!("{DISTRICT_CODE}{:03}", 900 + s % 100),
                format!("第{}街道", s + 1),
            )
        };
        let mut street = Area::new(Level::Street, street_code.clone(), street_name);
        street.boundary = round_mp(&lattice.block(0..12, 0..4));
        street.staff = vec![Staff {
            role: StaffRole::INSTRUCTOR,
            name: self.name(),
            phone: self.phone(),
            party_member: false,
        }];
        let street_id = self.d.add_area(street);
        let mut plan = StreetPlan {
            lattice,
            basic: Vec::new(),
            communities: Vec::new(),
            markets: Vec::new(),
        };
        // Communities: 4 × 2 blocks of 3 × 2 cells, numbered west → east,
        // north → south. Four of them merge two cells into one grid.
        for (k, (code, name)) in COMMUNITIES.iter().enumerate() {
            let (bc, br) = (k % 4, 1 - k / 4);
            let cols = bc * 3..bc * 3 + 3;
            let rows = br * 2..br * 2 + 2;
            let community_code = if s == 0 {
                (*code).to_string()
            } else {
                format!("{street_code}{:03}", k + 1)
            };
            let mut c = Area::new(Level::Community, community_code.clone(), *name);
            c.parent = Some(street_id);
            c.boundary = round_mp(&plan.lattice.block(cols.clone(), rows.clone()));
            c.staff = vec![Staff {
                role: StaffRole::INSTRUCTOR,
                name: self.name(),
                phone: self.phone(),
                party_member: false,
            }];
            let cid = self.d.add_area(c);
            plan.communities.push(cid);
            // Cells north → south, west → east.
            let mut blocks: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> = Vec::new();
            for r in rows.clone().rev() {
                for col in cols.clone() {
                    blocks.push((col..col + 1, r..r + 1));
                }
            }
            if k % 2 == 1 {
                // Merge the first two cells of the north row.
                let first = blocks.remove(0);
                blocks[0] = (first.0.start..blocks[0].0.end, first.1);
            }
            for (n, (bc_, br_)) in blocks.into_iter().enumerate() {
                let mut grid = Area::new(
                    Level::Grid,
                    format!("{community_code}{:03}", n + 1),
                    format!(
                        "{}第{}网格",
                        name.trim_end_matches("居委会").trim_end_matches("社区"),
                        n + 1
                    ),
                );
                grid.parent = Some(cid);
                grid.boundary = round_mp(&plan.lattice.block(bc_, br_));
                grid.staff = self.staff();
                let gid = self.d.add_area(grid);
                plan.basic.push(gid);
            }
        }
        self.roads(&plan.lattice);
        // Three markets near main-road crossings.
        for &(c, r) in &[(3, 2), (6, 2), (9, 1)] {
            let k = plan.lattice.corner(c, r);
            let (x, y) = self.proj.to_metres(k.x, k.y);
            let (lon, lat) = self.proj.to_lon_lat(
                x + self.rng.range(-80.0, 80.0),
                y + self.rng.range(-80.0, 80.0),
            );
            plan.markets.push(Coord { x: lon, y: lat });
        }
        self.streets.push(plan);
    }

    /// The street's roads, named as the buildings' addresses are: along
    /// the lattice lines between blocks, which are the grids' borders
    /// (grids are drawn along streets). Main roads are `primary`, the
    /// others `secondary`. Draws nothing from the random generator.
    fn roads(&mut self, lattice: &Lattice) {
        let (cols, rows) = lattice.size();
        let line = |pts: Vec<Coord<f64>>| {
            pts.into_iter()
                .map(|c| (round7(c.x), round7(c.y)))
                .collect()
        };
        for r in 1..rows {
            let class = if MAIN_H.contains(&r) {
                "primary"
            } else {
                "secondary"
            };
            let mut f = MapFeature::road(
                ROADS_H[(r - 1) % ROADS_H.len()],
                class,
                line(lattice.row_line(r)),
            );
            f.source = Some("sample".into());
            self.d.basemap.push_back(f);
        }
        for c in 1..cols {
            let class = if MAIN_V.contains(&c) {
                "primary"
            } else {
                "secondary"
            };
            let mut f = MapFeature::road(
                ROADS_V[(c - 1) % ROADS_V.len()],
                class,
                line(lattice.col_line(c)),
            );
            f.source = Some("sample".into());
            self.d.basemap.push_back(f);
        }
    }

    fn grid_of(&self, street: usize, c: Coord<f64>) -> Option<AreaId> {
        self.streets[street]
            .basic
            .iter()
            .copied()
            .find(|&g| contains_multi(&self.d.area(g).boundary, c.x, c.y))
    }

    /// A rectangle of `len × depth` metres centred at `(x, y)` metres,
    /// rotated by `angle` radians.
    fn rect(&self, x: f64, y: f64, len: f64, depth: f64, angle: f64) -> Vec<Coord<f64>> {
        let (s, c) = angle.sin_cos();
        let mut ring: Vec<Coord<f64>> = [
            (-0.5, -0.5),
            (0.5, -0.5),
            (0.5, 0.5),
            (-0.5, 0.5),
            (-0.5, -0.5),
        ]
        .iter()
        .map(|&(u, v)| {
            let (dx, dy) = (u * len, v * depth);
            let (lon, lat) = self
                .proj
                .to_lon_lat(x + dx * c - dy * s, y + dx * s + dy * c);
            Coord {
                x: round7(lon),
                y: round7(lat),
            }
        })
        .collect();
        ring.dedup();
        ring
    }

    /// Exclusive grids: one institution each, inside a basic grid.
    fn institutions(&mut self) {
        for s in 0..self.streets.len() {
            let basics = self.streets[s].basic.clone();
            for (k, inst) in INSTITUTIONS.iter().enumerate() {
                let host = basics[(k * 5 + 2) % basics.len()];
                let hb = self.d.area(host).boundary.clone();
                let Some(c) = hb.centroid() else { continue };
                let (cx, cy) = self.proj.to_metres(c.x(), c.y());
                // Try a few placements, shrinking, until it fits the host.
                let mut found = None;
                for attempt in 0..40 {
                    let shrink = 1.0 - f64::from(attempt) * 0.02;
                    let (len, depth) = (
                        self.rng.range(140.0, 240.0) * shrink,
                        self.rng.range(100.0, 170.0) * shrink,
                    );
                    let (dx, dy) = (self.rng.range(-80.0, 80.0), self.rng.range(-60.0, 60.0));
                    let tilt = self.rng.range(-0.15, 0.15);
                    let ring = self.rect(cx + dx, cy + dy, len, depth, tilt);
                    if ring
                        .iter()
                        .all(|p| contains_multi(&hb, p.x, p.y) && self.clearance(&hb, *p) > 10.0)
                    {
                        found = Some(ring);
                        break;
                    }
                }
                let Some(ring) = found else { continue };
                let community = self.d.area(host).parent;
                let community_code = community
                    .map(|c| self.d.area(c).code.clone())
                    .unwrap_or_default();
                let n = self.d.children(community.unwrap_or(host)).count();
                let mut grid = Area::new(
                    Level::Grid,
                    format!("{community_code}{:03}", n + 1),
                    format!("{inst}专属网格"),
                );
                grid.kind = Some(GridKind::Exclusive);
                grid.parent = community;
                grid.institution = Some((*inst).to_string());
                grid.boundary =
                    MultiPolygon::new(vec![Polygon::new(LineString::new(ring), vec![])]);
                grid.staff = self.staff();
                self.d.add_area(grid);
            }
        }
    }

    fn exclusive_at(&self, c: Coord<f64>) -> bool {
        self.exclusive.iter().any(|(r, b)| {
            r.min().x <= c.x
                && c.x <= r.max().x
                && r.min().y <= c.y
                && c.y <= r.max().y
                && contains_multi(b, c.x, c.y)
        })
    }

    /// Distance in metres from `c` to the boundary of `mp` (vertices only
    /// approximate edges well enough for placing buildings).
    fn clearance(&self, mp: &MultiPolygon<f64>, c: Coord<f64>) -> f64 {
        let (x, y) = self.proj.to_metres(c.x, c.y);
        crate::pip::edges(mp)
            .map(|(a, b)| {
                let (ax, ay) = self.proj.to_metres(a.x, a.y);
                let (bx, by) = self.proj.to_metres(b.x, b.y);
                seg_dist(x, y, ax, ay, bx, by)
            })
            .fold(f64::INFINITY, f64::min)
    }

    fn buildings(&mut self, total: usize) {
        let grids: Vec<(usize, AreaId)> = self
            .streets
            .iter()
            .enumerate()
            .flat_map(|(s, p)| p.basic.iter().map(move |&g| (s, g)))
            .collect();
        if grids.is_empty() {
            return;
        }
        // Older, denser grids get more buildings.
        // Dense (city-size) districts: more, smaller buildings per grid.
        let dense = total > 40 * grids.len();
        let spread = if dense { (0.9, 1.1) } else { (0.6, 1.4) };
        let weights: Vec<f64> = grids
            .iter()
            .map(|_| self.rng.range(spread.0, spread.1))
            .collect();
        let wsum: f64 = weights.iter().sum();
        let straddlers = 3.min(total / 100);
        let total = total - straddlers;
        let mut counts: Vec<usize> = weights
            .iter()
            // Dense grids fall a little short of their share: ask 2% more
            // and trim to the exact total below.
            .map(|w| (w / wsum * total as f64 * if dense { 1.02 } else { 1.0 }).floor() as usize)
            .collect();
        let mut k = 0;
        let n = counts.len();
        while counts.iter().sum::<usize>() < total {
            counts[k % n] += 1;
            k += 1;
        }
        let mut seq = 0usize;
        for (gi, &(s, grid)) in grids.iter().enumerate() {
            let want = counts[gi];
            let boundary = self.d.area(grid).boundary.clone();
            let Some(c) = boundary.centroid() else {
                continue;
            };
            let (cx, cy) = self.proj.to_metres(c.x(), c.y());
            let angle = self.rng.range(-0.2, 0.2);
            let old = self.rng.f64() < 0.5;
            let road = self.nearest_road(s, c.0);
            let gate_no = 2 * (1 + self.rng.below(60)) as usize;
            let mut placed = 0;
            // Candidate slots on a local lattice, nearest the centre first.
            // A wider, tighter lattice for dense (city-size) districts.
            let (rr, qq, du, dv) = if dense {
                (17i32, 5i32, 38.0, 24.0)
            } else {
                (8, 4, 62.0, 34.0)
            };
            let mut slots: Vec<(f64, f64)> = Vec::new();
            for r in -rr..=rr {
                for q in -qq..=qq {
                    slots.push((f64::from(q) * du, f64::from(r) * dv));
                }
            }
            slots.sort_by(|a, b| (a.0.hypot(a.1)).total_cmp(&b.0.hypot(b.1)));
            for (u, v) in slots {
                if placed >= want {
                    break;
                }
                let (s_, c_) = angle.sin_cos();
                let (x, y) = (cx + u * c_ - v * s_, cy + u * s_ + v * c_);
                let len = match (dense, old) {
                    (true, _) => self.rng.range(26.0, 34.0),
                    (false, true) => self.rng.range(36.0, 52.0),
                    (false, false) => self.rng.range(40.0, 58.0),
                };
                let ring = self.rect(x, y, len, 12.0, angle);
                let inside = ring.iter().all(|p| {
                    contains_multi(&boundary, p.x, p.y)
                        && !self.exclusive_at(*p)
                        && self.clearance(&boundary, *p) > 4.0
                });
                if !inside {
                    continue;
                }
                seq += 1;
                placed += 1;
                self.add_building(s, grid, seq, ring, old, &road, gate_no, placed);
            }
        }
        // Exactly `total` regular buildings (with their units and households).
        self.d.buildings.truncate(total);
        let kept = self.d.buildings.len() as u32;
        self.d.units.retain(|u| u.building.0 < kept);
        let kept_units = self.d.units.len() as u32;
        self.d.households.retain(|h| h.unit.0 < kept_units);
        // A few buildings that straddle a border, as real data has.
        for k in 0..straddlers {
            let plan = &self.streets[k % self.streets.len()];
            // Centred on a border between two grids of one community.
            let m = plan.lattice.mid_vertical_side(2 + 3 * k, 1);
            let (x, y) = self.proj.to_metres(m.x, m.y);
            let ring = self.rect(x + 6.0, y, 44.0, 12.0, 0.0);
            let grid = self
                .grid_of(k % self.streets.len(), ring[0])
                .unwrap_or(AreaId(0));
            let road = self.nearest_road(k % self.streets.len(), m);
            seq += 1;
            self.add_building(
                k % self.streets.len(),
                grid,
                seq,
                ring,
                true,
                &road,
                100 + 2 * k,
                1,
            );
        }
    }

    fn nearest_road(&self, s: usize, c: Coord<f64>) -> String {
        let lat = &self.streets[s].lattice;
        let (cols, rows) = lat.size();
        let mut best = (f64::INFINITY, String::new());
        for r in 1..rows {
            let y = lat.corner(cols / 2, r).y;
            let d = (c.y - y).abs() * self.proj.ky;
            if d < best.0 {
                best = (d, ROADS_H[(r - 1) % ROADS_H.len()].to_string());
            }
        }
        for col in 1..cols {
            let x = lat.corner(col, rows / 2).x;
            let d = (c.x - x).abs() * self.proj.kx;
            if d < best.0 {
                best = (d, ROADS_V[(col - 1) % ROADS_V.len()].to_string());
            }
        }
        best.1
    }

    #[allow(clippy::too_many_arguments)]
    fn add_building(
        &mut self,
        street: usize,
        _grid: AreaId,
        seq: usize,
        ring: Vec<Coord<f64>>,
        old: bool,
        road: &str,
        gate_no: usize,
        number: usize,
    ) {
        let floors: u16 = if old {
            *self.rng.pick(&[3, 3, 4, 4, 5, 5, 6])
        } else {
            *self.rng.pick(&[5, 5, 6, 6, 6, 7, 9])
        };
        let street_code = self.d.areas[street_code_index(&self.d, street)]
            .code
            .clone();
        let bid = BuildingId(self.d.buildings.len() as u32);
        // Units along the south face, evenly spaced.
        let n_units = if self.rng.f64() < 0.64 { 3 } else { 2 };
        let (a, b) = (ring[0], ring[1]);
        for u in 0..n_units {
            let t = (u as f64 + 0.5) / n_units as f64;
            let loc = Coord {
                x: a.x + t * (b.x - a.x),
                y: a.y + t * (b.y - a.y),
            };
            self.add_unit(bid, (u + 1).to_string(), loc, floors);
        }
        self.d.buildings.push_back(Building {
            code: format!("{street_code}{seq:05}"),
            address: format!("{road}{gate_no}号{number}号楼"),
            floors,
            footprint: MultiPolygon::new(vec![Polygon::new(LineString::new(ring), vec![])]),
            source: None,
            leaders: Vec::new(),
        });
    }

    /// A point at a random place along a main road of street `s`, offset
    /// sideways by `offset` metres (either side).
    fn on_main_road(&mut self, s: usize, offset: f64) -> Coord<f64> {
        let lat = &self.streets[s].lattice;
        let (cols, rows) = lat.size();
        let (a, b) = if self.rng.f64() < 0.4 {
            let r = *self.rng.pick(&MAIN_H);
            (lat.corner(0, r), lat.corner(cols, r))
        } else {
            let c = *self.rng.pick(&MAIN_V);
            (lat.corner(c, 0), lat.corner(c, rows))
        };
        let t = self.rng.f64();
        let (ax, ay) = self.proj.to_metres(a.x, a.y);
        let (bx, by) = self.proj.to_metres(b.x, b.y);
        let (dx, dy) = (bx - ax, by - ay);
        let l = dx.hypot(dy).max(1e-9);
        let side = if self.rng.f64() < 0.5 { -1.0 } else { 1.0 };
        let (x, y) = (
            ax + t * dx - side * offset * dy / l,
            ay + t * dy + side * offset * dx / l,
        );
        let (lon, lat) = self.proj.to_lon_lat(x, y);
        Coord { x: lon, y: lat }
    }

    fn near(&mut self, c: Coord<f64>, sigma: f64) -> Coord<f64> {
        let (x, y) = self.proj.to_metres(c.x, c.y);
        let (lon, lat) = self
            .proj
            .to_lon_lat(x + self.rng.normal() * sigma, y + self.rng.normal() * sigma);
        Coord { x: lon, y: lat }
    }

    fn in_street(&mut self, s: usize) -> Coord<f64> {
        let lat = &self.streets[s].lattice;
        let (cols, rows) = lat.size();
        let (a, b) = (lat.corner(0, 0), lat.corner(cols, rows));
        Coord {
            x: self.rng.range(a.x, b.x),
            y: self.rng.range(a.y, b.y),
        }
    }

    fn merchants(&mut self, total: usize) {
        let weights: Vec<f64> = SHOP_KINDS.iter().map(|k| k.2).collect();
        let ns = self.streets.len();
        for i in 0..total {
            let s = i % ns;
            let roll = self.rng.f64();
            let loc = if roll < 0.6 {
                let off = self.rng.range(14.0, 24.0);
                self.on_main_road(s, off)
            } else if roll < 0.85 {
                let m = *self.rng.pick(&self.streets[s].markets);
                self.near(m, 60.0)
            } else {
                self.in_street(s)
            };
            let (cat, suffix, _) = SHOP_KINDS[self.rng.weighted(&weights)];
            let prefix = *self.rng.pick(&SHOP_PREFIX);
            let road = self.nearest_road(s, loc);
            let no = 1 + self.rng.below(200);
            self.d.merchants.push_back(Merchant {
                name: format!("{prefix}{suffix}"),
                category: cat.to_string(),
                address: format!("{road}{no}号"),
                location: pt(loc),
            });
        }
    }

    fn cameras(&mut self, total: usize) {
        let ns = self.streets.len();
        let nb = self.d.buildings.len();
        for i in 0..total {
            let s = i % ns;
            let (loc, heading) = if self.rng.f64() < 0.4 || nb == 0 {
                let lat = &self.streets[s].lattice;
                let (cols, rows) = lat.size();
                let c = lat.corner(
                    1 + self.rng.below((cols - 1) as u64) as usize,
                    1 + self.rng.below((rows - 1) as u64) as usize,
                );
                (self.near(c, 6.0), self.rng.range(0.0, 360.0))
            } else {
                let b = &self.d.buildings[self.rng.below(nb as u64) as usize];
                let c = b.footprint.0[0].exterior().0[0];
                (self.near(c, 8.0), self.rng.range(0.0, 360.0))
            };
            let dome = self.rng.f64() < 0.2;
            self.d.cameras.push_back(Camera {
                location: pt(loc),
                heading_deg: heading.round(),
                fov_deg: if dome {
                    360.0
                } else {
                    *self.rng.pick(&[60.0, 75.0, 90.0])
                },
                range_m: if dome {
                    30.0
                } else {
                    self.rng.range(35.0, 70.0).round()
                },
            });
        }
    }

    fn incidents(&mut self, total: usize) {
        let ns = self.streets.len();
        let old_units: Vec<Coord<f64>> = self
            .d
            .units
            .iter()
            .filter(|u| self.d.buildings[u.building.index()].floors <= 6)
            .map(|u| u.location.0)
            .collect();
        let source_w = [55.0, 25.0, 15.0, 5.0];
        let sources = [
            IncidentSource::Hotline12345,
            IncidentSource::Wechat,
            IncidentSource::Patrol,
            IncidentSource::Camera,
        ];
        let hour_w: Vec<f64> = (0..24)
            .map(|h| match h {
                0..=5 => 0.2,
                6..=7 => 1.0,
                8..=11 | 14..=18 => 3.0,
                12..=13 => 2.0,
                19..=21 => 1.5,
                _ => 0.5,
            })
            .collect();
        for i in 0..total {
            let s = i % ns;
            let roll = self.rng.f64();
            let (loc, cats): (Coord<f64>, &[(&str, f64)]) = if roll < 0.35 {
                let m = *self.rng.pick(&self.streets[s].markets);
                (self.near(m, 110.0), &CAT_MARKET)
            } else if roll < 0.65 && !old_units.is_empty() {
                let u = *self.rng.pick(&old_units);
                (self.near(u, 25.0), &CAT_HOUSING)
            } else if roll < 0.9 {
                let off = self.rng.range(-8.0, 8.0);
                (self.on_main_road(s, off), &CAT_ROAD)
            } else {
                let c = self.in_street(s);
                (c, &CAT_HOUSING)
            };
            let w: Vec<f64> = cats.iter().map(|c| c.1).collect();
            let category = cats[self.rng.weighted(&w)].0.to_string();
            let day = INCIDENTS_FROM + self.rng.below(INCIDENT_DAYS as u64) as i64;
            let hour = self.rng.weighted(&hour_w);
            let minute = self.rng.below(60);
            let age = INCIDENTS_FROM + INCIDENT_DAYS - day;
            let status = if age > 30 {
                *self.rng.pick(&[
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Closed,
                    IncidentStatus::Closed,
                    IncidentStatus::Closed,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Closed,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Evaluated,
                    IncidentStatus::Rejected,
                ])
            } else {
                *self.rng.pick(&[
                    IncidentStatus::Reported,
                    IncidentStatus::Accepted,
                    IncidentStatus::Dispatched,
                    IncidentStatus::Dispatched,
                    IncidentStatus::Handled,
                    IncidentStatus::Feedback,
                    IncidentStatus::Closed,
                    IncidentStatus::Evaluated,
                ])
            };
            self.d.incidents.push_back(Incident {
                location: pt(loc),
                reported_at: crate::time::from_epoch(
                    day * 86_400 + (hour as i64) * 3600 + (minute as i64) * 60
                        - crate::time::CHINA_OFFSET_S,
                ),
                category,
                source: sources[self.rng.weighted(&source_w)],
                status,
                description: String::new(),
                filed_by: None,
                reporter: None,
            });
        }
    }
}

fn street_code_index(d: &District, street: usize) -> usize {
    d.areas
        .iter()
        .enumerate()
        .filter(|(_, a)| a.level == Level::Street)
        .nth(street)
        .map_or(0, |(i, _)| i)
}

fn seg_dist(px: f64, py: f64, ax: f64, ay: f64, bx: f64, by: f64) -> f64 {
    let (dx, dy) = (bx - ax, by - ay);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        (((px - ax) * dx + (py - ay) * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (px - ax - t * dx).hypot(py - ay - t * dy)
}

/// The bounding box of a district's grids, `[west, south, east, north]`.
pub fn grids_bbox(d: &District) -> Option<[f64; 4]> {
    d.grids()
        .filter_map(|g| d.area(g).boundary.bounding_rect())
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
        .reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_has_the_real_streets_numbers() {
        let d = district(&SampleSpec::default());
        let basic = d
            .grids()
            .filter(|&g| d.area(g).kind == Some(GridKind::Basic))
            .count();
        let exclusive = d
            .grids()
            .filter(|&g| d.area(g).kind == Some(GridKind::Exclusive))
            .count();
        assert_eq!((basic, exclusive), (44, 8));
        assert_eq!(d.areas_at(Level::Community).count(), 8);
        assert_eq!(d.buildings.len(), 453);
        assert_eq!(d.units.len(), 1_194);
        // Every unit's households are where its count says.
        let mut per_unit = vec![0u32; d.units.len()];
        for h in &d.households {
            per_unit[h.unit.index()] += 1;
        }
        assert!(
            d.units
                .iter()
                .zip(&per_unit)
                .all(|(u, n)| u.households == *n)
        );
        assert!(d.buildings.iter().all(|b| b.leaders.len() == 1));
        // Every basic grid's team has at least five, with the forces that
        // enter it.
        for g in d.grids() {
            let a = d.area(g);
            if a.kind == Some(GridKind::Basic) {
                assert!(a.staff.len() >= 5, "{}: {:?}", a.code, a.staff);
                assert!(
                    a.staff
                        .iter()
                        .any(|s| s.role == StaffRole::COMMUNITY_POLICE)
                );
            }
        }
        let hh = d.households.len();
        assert!((12_000..=14_500).contains(&hh), "{hh} households");
        assert_eq!(d.merchants.len(), 1_100);
        assert_eq!(d.cameras.len(), 220);
        assert_eq!(d.incidents.len(), 5_700);
    }

    #[test]
    fn the_sample_roads_bear_the_address_street_names_and_run_along_grid_borders() {
        let d = district(&SampleSpec::default());
        let roads: Vec<&MapFeature> = d.basemap.iter().collect();
        assert_eq!(roads.len(), ROADS_H.len() + ROADS_V.len());
        // Every street name of a building address is a road on the map.
        let names: std::collections::HashSet<&str> =
            roads.iter().map(|r| r.name.as_str()).collect();
        for b in &d.buildings {
            let street: String = b
                .address
                .chars()
                .take_while(|c| *c != '号' && !c.is_ascii_digit())
                .collect();
            assert!(
                names.iter().any(|n| street.contains(n)),
                "{}: its street is not on the map",
                b.address
            );
        }
        // The roads run along the grids' borders: where two cells are
        // one grid a road crosses it, and exclusive grids cut out of basic
        // ones take a few vertices away.
        let mut border: std::collections::HashSet<(u64, u64)> = std::collections::HashSet::new();
        for g in d.grids() {
            for p in &d.area(g).boundary.0 {
                for c in &p.exterior().0 {
                    border.insert((c.x.to_bits(), c.y.to_bits()));
                }
            }
        }
        let (mut on_all, mut all) = (0, 0);
        for r in &roads {
            let crate::MapShape::Line(l) = &r.shape else {
                panic!("{} is not a line", r.name);
            };
            assert!(l.0.len() > 20);
            let on =
                l.0.iter()
                    .filter(|c| border.contains(&(c.x.to_bits(), c.y.to_bits())))
                    .count();
            assert!(
                on * 2 >= l.0.len(),
                "{}: {on} of {} on a border",
                r.name,
                l.0.len()
            );
            on_all += on;
            all += l.0.len();
        }
        assert!(
            on_all * 100 >= all * 85,
            "{on_all} of {all} road vertices on a border"
        );
        assert_eq!(roads.iter().filter(|r| r.class == "primary").count(), 4);
    }

    #[test]
    fn the_sample_is_deterministic() {
        let a = district(&SampleSpec::default());
        let b = district(&SampleSpec::default());
        assert!(a == b);
    }

    #[test]
    fn grid_codes_are_fifteen_digits_under_their_community() {
        let d = district(&SampleSpec::default());
        for g in d.grids() {
            let a = d.area(g);
            assert_eq!(a.code.len(), 15, "{}", a.code);
            let parent = d.area(a.parent.unwrap());
            assert!(a.code.starts_with(&parent.code));
        }
    }
}
