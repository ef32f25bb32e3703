//! The district model: areas (street → community → grid), buildings, units,
//! households, merchants, cameras and incidents.
//!
//! Every entity has a typed id (`GridId`, `BuildingId`, …) that is its index
//! in the district's vector of that entity, so look-ups are plain indexing.
//! Coordinates are WGS 84 / CGCS2000 longitude/latitude in degrees.

use geo::{MultiPolygon, Point};
use serde::{Deserialize, Serialize};

use crate::geom_serde;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u32);

        impl $name {
            /// The index of this entity in its district vector.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

typed_id!(
    /// Index of an [`Area`] (street, community or grid) in [`District::areas`].
    ///
    /// ```
    /// use gridgov_spatial::AreaId;
    /// assert_eq!(AreaId(3).index(), 3);
    /// ```
    AreaId
);
typed_id!(
    /// Index of a [`Building`] in [`District::buildings`].
    ///
    /// ```
    /// use gridgov_spatial::BuildingId;
    /// assert_eq!(BuildingId(7).to_string(), "7");
    /// ```
    BuildingId
);
typed_id!(
    /// Index of a [`Unit`] in [`District::units`].
    ///
    /// ```
    /// use gridgov_spatial::UnitId;
    /// assert_eq!(UnitId(1).index(), 1);
    /// ```
    UnitId
);
typed_id!(
    /// Index of a [`Household`] in [`District::households`].
    ///
    /// ```
    /// use gridgov_spatial::HouseholdId;
    /// assert_eq!(HouseholdId(2).index(), 2);
    /// ```
    HouseholdId
);
typed_id!(
    /// Index of a [`Merchant`] in [`District::merchants`].
    ///
    /// ```
    /// use gridgov_spatial::MerchantId;
    /// assert_eq!(MerchantId(0).index(), 0);
    /// ```
    MerchantId
);
typed_id!(
    /// Index of a [`Camera`] in [`District::cameras`].
    ///
    /// ```
    /// use gridgov_spatial::CameraId;
    /// assert_eq!(CameraId(5).index(), 5);
    /// ```
    CameraId
);
typed_id!(
    /// Index of an [`Incident`] in [`District::incidents`].
    ///
    /// ```
    /// use gridgov_spatial::IncidentId;
    /// assert_eq!(IncidentId(9).index(), 9);
    /// ```
    IncidentId
);

/// The level of an area in the hierarchy street → community → grid.
///
/// ```
/// use gridgov_spatial::Level;
/// assert!(Level::Street < Level::Community && Level::Community < Level::Grid);
/// assert_eq!(Level::Grid.parent(), Some(Level::Community));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// A street office (街道), the top of the hierarchy inside a district.
    Street,
    /// A community (社区).
    Community,
    /// A grid (网格), the unit of service.
    Grid,
}

impl Level {
    /// The level directly above this one.
    pub fn parent(self) -> Option<Level> {
        match self {
            Level::Street => None,
            Level::Community => Some(Level::Street),
            Level::Grid => Some(Level::Community),
        }
    }

    /// Lower-case English name, as used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Street => "street",
            Level::Community => "community",
            Level::Grid => "grid",
        }
    }
}

/// Basic grids cover residents; an exclusive grid is one institution and
/// takes precedence over the basic grid under it.
///
/// ```
/// use gridgov_spatial::GridKind;
/// assert!(GridKind::Exclusive.precedence() < GridKind::Basic.precedence());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridKind {
    /// 基础网格: residential cover, about 300–500 households.
    Basic,
    /// 专属网格: one institution (school, hospital, industrial park).
    Exclusive,
}

impl GridKind {
    /// Lower ranks win when grids overlap.
    pub fn precedence(self) -> u8 {
        match self {
            GridKind::Exclusive => 0,
            GridKind::Basic => 1,
        }
    }

    /// Lower-case English name.
    pub fn as_str(self) -> &'static str {
        match self {
            GridKind::Basic => "basic",
            GridKind::Exclusive => "exclusive",
        }
    }
}

/// A person serving a grid.
///
/// ```
/// use gridgov_spatial::{Staff, StaffRole};
/// let s = Staff { role: StaffRole::GRID_WORKER, name: "王芳".into(), phone: "13800001234".into(), party_member: false };
/// assert_eq!(s.role, StaffRole::GRID_WORKER);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Staff {
    /// What the person does for the grid: one of the district's
    /// [`crate::Roles`].
    pub role: crate::StaffRole,
    /// Full name.
    pub name: String,
    /// Contact phone number.
    pub phone: String,
    /// A member of the Communist Party of China (党员): the streets mark
    /// party members among building leaders (红色楼栋长).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub party_member: bool,
}

/// A street, community or grid.
///
/// ```
/// use gridgov_spatial::{Area, Level, GridKind};
/// let a = Area::new(Level::Grid, "370402005001001", "光明一网格");
/// assert_eq!(a.kind, Some(GridKind::Basic));
/// assert!(a.parent.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Area {
    /// Street, community or grid.
    pub level: Level,
    /// Official code: 9 digits for a street, 12 for a community, 15 for a grid
    /// (district 6 + street 3 + community 3 + grid 3). Imported layers may use
    /// their own codes.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Basic or exclusive; grids only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<GridKind>,
    /// The area one level up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<AreaId>,
    /// The boundary. Streets and communities may leave it empty, in which
    /// case it is the union of their children.
    #[serde(with = "geom_serde::multi_polygon")]
    pub boundary: MultiPolygon<f64>,
    /// The team serving this area.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staff: Vec<Staff>,
    /// For exclusive grids: the institution it serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
}

impl Area {
    /// A new area with an empty boundary, no parent and no staff; grids are
    /// basic by default.
    pub fn new(level: Level, code: impl Into<String>, name: impl Into<String>) -> Self {
        Area {
            level,
            code: code.into(),
            name: name.into(),
            kind: (level == Level::Grid).then_some(GridKind::Basic),
            parent: None,
            boundary: MultiPolygon::new(vec![]),
            staff: Vec::new(),
            institution: None,
        }
    }
}

/// A building (楼栋) with its footprint.
///
/// ```
/// use gridgov_spatial::Building;
/// let b = Building { code: "B1".into(), address: "光明路18号".into(), floors: 6,
///     footprint: geo::MultiPolygon::new(vec![]), source: None, leaders: vec![] };
/// assert_eq!(b.floors, 6);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Building {
    /// Building code, unique in the district.
    pub code: String,
    /// Street address, e.g. `光明路18号3号楼` or `Mannerheimintie 5`.
    pub address: String,
    /// Number of floors above ground (0 when unknown).
    pub floors: u16,
    /// Footprint; a polygon is a one-member multipolygon.
    #[serde(with = "geom_serde::multi_polygon")]
    pub footprint: MultiPolygon<f64>,
    /// Source identifier (e.g. `osm:way/123`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The building leaders (楼栋长) who answer for it: the level between
    /// the grid and its units.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leaders: Vec<Staff>,
}

/// A unit (单元): a stairwell or entrance of a building.
///
/// ```
/// use gridgov_spatial::{Unit, BuildingId};
/// let u = Unit { building: BuildingId(0), label: "2".into(), location: geo::Point::new(117.5, 34.8), households: 24 };
/// assert_eq!(u.households, 24);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// The building it belongs to.
    pub building: BuildingId,
    /// Label: `2` for 2单元, `A` for entrance A.
    pub label: String,
    /// Where the entrance is.
    #[serde(with = "geom_serde::point")]
    pub location: Point<f64>,
    /// Number of households served by this unit.
    pub households: u32,
}

/// A household (户). Personal fields are optional and may be absent.
///
/// ```
/// use gridgov_spatial::{Household, UnitId};
/// let h = Household { unit: UnitId(0), room: "301".into(), headcount: 3, head_name: None, phone: None, id_number: None };
/// assert_eq!(h.headcount, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Household {
    /// The unit (stairwell) it lives in.
    pub unit: UnitId,
    /// Room number, e.g. `301`.
    pub room: String,
    /// Number of residents.
    pub headcount: u16,
    /// Name of the head of household (personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_name: Option<String>,
    /// Contact phone (personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The head of household's resident identity card number (personal
    /// data; see [`crate::idcard`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
}

/// A shop, company, office or other organisation.
///
/// ```
/// use gridgov_spatial::Merchant;
/// let m = Merchant { name: "老王超市".into(), category: "supermarket".into(), address: String::new(), location: geo::Point::new(117.5, 34.8) };
/// assert_eq!(m.category, "supermarket");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Merchant {
    /// Trading name.
    pub name: String,
    /// Category (e.g. `restaurant`, `supermarket`, `office`).
    pub category: String,
    /// Address as written.
    #[serde(default)]
    pub address: String,
    /// Where it is.
    #[serde(with = "geom_serde::point")]
    pub location: Point<f64>,
}

/// A surveillance camera with its view cone.
///
/// ```
/// use gridgov_spatial::Camera;
/// let c = Camera { location: geo::Point::new(117.5, 34.8), heading_deg: 90.0, fov_deg: 60.0, range_m: 40.0 };
/// assert_eq!(c.fov_deg, 60.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    /// Mount position.
    #[serde(with = "geom_serde::point")]
    pub location: Point<f64>,
    /// Direction of view, degrees clockwise from north.
    pub heading_deg: f64,
    /// Horizontal field of view in degrees (360 for a dome camera).
    pub fov_deg: f64,
    /// Useful range in metres.
    pub range_m: f64,
}

/// Where an incident report came from.
///
/// ```
/// use gridgov_spatial::IncidentSource;
/// assert_eq!(IncidentSource::Hotline12345.as_str(), "hotline_12345");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentSource {
    /// The 12345 citizen hotline.
    #[serde(rename = "hotline_12345")]
    Hotline12345,
    /// WeChat mini-program or official account.
    Wechat,
    /// Found by grid staff on patrol.
    Patrol,
    /// Found on camera.
    Camera,
    /// Filed online (the web, Open311 clients).
    Web,
    /// Opened by a monitoring point's alarm.
    Sensor,
}

impl IncidentSource {
    /// Snake-case name as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentSource::Hotline12345 => "hotline_12345",
            IncidentSource::Wechat => "wechat",
            IncidentSource::Patrol => "patrol",
            IncidentSource::Camera => "camera",
            IncidentSource::Web => "web",
            IncidentSource::Sensor => "sensor",
        }
    }
}

/// Where an incident is in the closed loop.
///
/// ```
/// use gridgov_spatial::IncidentStatus;
/// assert!(IncidentStatus::Dispatched.is_open());
/// assert!(!IncidentStatus::Closed.is_open());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Reported, not yet accepted.
    Reported,
    /// Accepted and verified.
    Accepted,
    /// Rejected with a reason.
    Rejected,
    /// Dispatched to a grid, department or person.
    Dispatched,
    /// Handled, awaiting feedback.
    Handled,
    /// Feedback given to the reporter.
    Feedback,
    /// Closed.
    Closed,
    /// Closed and evaluated by the reporter.
    Evaluated,
    /// Merged into another case (a duplicate); its history stays.
    Merged,
}

impl IncidentStatus {
    /// True while the case still needs work.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            IncidentStatus::Rejected
                | IncidentStatus::Closed
                | IncidentStatus::Evaluated
                | IncidentStatus::Merged
        )
    }

    /// Snake-case name as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Reported => "reported",
            IncidentStatus::Accepted => "accepted",
            IncidentStatus::Rejected => "rejected",
            IncidentStatus::Dispatched => "dispatched",
            IncidentStatus::Handled => "handled",
            IncidentStatus::Feedback => "feedback",
            IncidentStatus::Closed => "closed",
            IncidentStatus::Evaluated => "evaluated",
            IncidentStatus::Merged => "merged",
        }
    }
}

/// A resident's problem.
///
/// ```
/// use gridgov_spatial::{Incident, IncidentSource, IncidentStatus};
/// let i = Incident {
///     location: geo::Point::new(117.55, 34.86),
///     reported_at: "2026-03-01T08:30:00+08:00".parse().unwrap(),
///     category: "environment".into(),
///     source: IncidentSource::Wechat,
///     status: IncidentStatus::Reported,
///     description: String::new(),
///     filed_by: None,
///     reporter: None,
/// };
/// assert!(i.status.is_open());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Where the problem is.
    #[serde(with = "geom_serde::point")]
    pub location: Point<f64>,
    /// When it was reported (RFC 3339 in JSON).
    pub reported_at: jiff::Timestamp,
    /// Category (e.g. `environment`, `road`, `dispute`).
    pub category: String,
    /// Channel.
    pub source: IncidentSource,
    /// Current state.
    pub status: IncidentStatus,
    /// Free text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The account that filed it, when one did (a resident's account name
    /// may be personal: masked views leave it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filed_by: Option<String>,
    /// What the resident gave about themselves and the place when filing
    /// (personal: masked views leave it out). Boxed, as most cases have
    /// none and a district holds millions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<Box<Reporter>>,
}

/// What a resident gave when filing, besides the place, the category and
/// the description: Open311's name, phone, email, address string, device
/// and account ids and media URL, or the residents' page's name and phone.
/// Kept with the case and shown only to those who may read it in full.
///
/// ```
/// use gridgov_spatial::Reporter;
/// let r = Reporter { name: Some("张三".into()), phone: Some("13800001234".into()), ..Reporter::default() };
/// assert!(!r.is_empty());
/// assert!(Reporter::default().is_empty());
/// assert_eq!(Reporter::default().kept(), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    /// The resident's name (Open311's first and last name together).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A phone number to call back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// An email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The address as the resident wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The address's id in the reporting system's address register
    /// (Open311 `address_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_id: Option<String>,
    /// The reporting device's id (Open311 `device_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The resident's account id in the reporting system (Open311
    /// `account_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// A link to a photo the resident gave (Open311 `media_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    /// The 12345 hotline's own case number (工单号), for a case the
    /// hotline platform sent (`POST /hotline/cases`): set by the service,
    /// never taken from a resident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hotline_case: Option<String>,
    /// The hex BLAKE2b-256 digest of the tracking token the resident was
    /// given when filing (never the token itself): with the token they
    /// follow the case and evaluate it without an account. Never written
    /// out with the reporter (no answer or export shows it): the stores
    /// keep it beside the other fields.
    #[serde(default, skip_serializing)]
    pub tracking: Option<String>,
}

impl Reporter {
    /// Whether nothing was given.
    pub fn is_empty(&self) -> bool {
        self == &Reporter::default()
    }

    /// `None` when nothing was given, the boxed value otherwise: what an
    /// [`Incident`] keeps.
    pub fn kept(self) -> Option<Box<Reporter>> {
        (!self.is_empty()).then(|| Box::new(self))
    }
}

/// The rows of a district's tables: a persistent vector (`imbl`), so a
/// copy of a district costs a few pointers and a change to one row copies
/// only the path to it. This is what lets a new snapshot of the read model
/// share everything with the one before it but the rows a write touched.
///
/// ```
/// use gridgov_spatial::Rows;
/// let a: Rows<u32> = (0..10_000).collect();
/// let mut b = a.clone();
/// b.set(5, 42);
/// assert_eq!((a[5], b[5]), (5, 42));
/// ```
pub type Rows<T> = imbl::Vector<T>;

/// A whole street district: the areas and everything placed in them.
///
/// ```
/// use gridgov_spatial::{District, Area, Level};
/// let mut d = District::new("demo");
/// let street = d.add_area(Area::new(Level::Street, "370402005", "龙山路街道"));
/// assert_eq!(d.area(street).name, "龙山路街道");
/// assert_eq!(d.grids().count(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct District {
    /// Display name of the district.
    pub name: String,
    /// Attribution for the data it was built from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub attribution: String,
    /// Streets, communities and grids.
    pub areas: Rows<Area>,
    /// Buildings.
    #[serde(default)]
    pub buildings: Rows<Building>,
    /// Units (stairwells, entrances).
    #[serde(default)]
    pub units: Rows<Unit>,
    /// Households.
    #[serde(default)]
    pub households: Rows<Household>,
    /// Merchants.
    #[serde(default)]
    pub merchants: Rows<Merchant>,
    /// Cameras.
    #[serde(default)]
    pub cameras: Rows<Camera>,
    /// Incidents.
    #[serde(default)]
    pub incidents: Rows<Incident>,
    /// The base map: roads, water and place names (not assigned to grids).
    #[serde(default, skip_serializing_if = "imbl::Vector::is_empty")]
    pub basemap: Rows<crate::MapFeature>,
    /// The roles staff members may hold (the defaults unless the district
    /// set its own).
    #[serde(default, skip_serializing_if = "crate::Roles::is_default")]
    pub roles: crate::Roles,
    /// For a generated sample: the seed of its cases' histories
    /// ([`crate::sample_history::histories`]), which a store made from
    /// this district writes into its case log. `None` for real data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_histories: Option<u64>,
}

impl District {
    /// An empty district.
    pub fn new(name: impl Into<String>) -> Self {
        District {
            name: name.into(),
            ..District::default()
        }
    }

    /// Appends an area and returns its id.
    pub fn add_area(&mut self, area: Area) -> AreaId {
        self.areas.push_back(area);
        AreaId(self.areas.len() as u32 - 1)
    }

    /// The area with this id.
    ///
    /// # Panics
    /// When the id is not from this district.
    pub fn area(&self, id: AreaId) -> &Area {
        &self.areas[id.index()]
    }

    /// The ids of all areas at `level`.
    pub fn areas_at(&self, level: Level) -> impl Iterator<Item = AreaId> + '_ {
        self.areas
            .iter()
            .enumerate()
            .filter(move |(_, a)| a.level == level)
            .map(|(i, _)| AreaId(i as u32))
    }

    /// The ids of all grids.
    pub fn grids(&self) -> impl Iterator<Item = AreaId> + '_ {
        self.areas_at(Level::Grid)
    }

    /// The chain from an area up to its street: `[grid, community, street]`.
    pub fn chain(&self, id: AreaId) -> Vec<AreaId> {
        let mut out = vec![id];
        let mut cur = id;
        while let Some(p) = self.area(cur).parent {
            if out.contains(&p) || out.len() > 8 {
                break; // a cycle in bad data: stop rather than loop
            }
            out.push(p);
            cur = p;
        }
        out
    }

    /// The direct children of an area.
    pub fn children(&self, id: AreaId) -> impl Iterator<Item = AreaId> + '_ {
        self.areas
            .iter()
            .enumerate()
            .filter(move |(_, a)| a.parent == Some(id))
            .map(|(i, _)| AreaId(i as u32))
    }

    /// Finds an area by its code.
    pub fn area_by_code(&self, code: &str) -> Option<AreaId> {
        self.areas
            .iter()
            .position(|a| a.code == code)
            .map(|i| AreaId(i as u32))
    }
}
