//! Topology validation: every problem with the grids and the placement of
//! everything in them, each with its geometry and the ids involved.
//!
//! Problems found (all of them, not the first):
//! - invalid polygons: self-intersections, rings with too few points,
//!   non-finite coordinates, holes outside their shell, empty boundaries;
//! - overlaps between siblings of the same kind above a tolerance;
//! - gaps inside a parent not covered by its basic children (a hole in the
//!   parent itself is intended and not reported);
//! - children reaching outside their parent;
//! - slivers: very thin or tiny grids, and gap/overlap pieces thinner than
//!   a metre (warnings: usually digitising noise);
//! - buildings straddling grids; entities outside every grid;
//! - basic grids outside the household band (300–500, a warning);
//! - basic grids whose team has fewer than 5 members (the streets' "1+1+X+N":
//!   a grid leader, an instructor, grid workers and the forces who enter
//!   the grid; a warning).
//!
//! Geometry work is done in a local metric plane, so tolerances are in
//! square metres and metres.
//!
//! ```
//! use gridgov_spatial::{assign, sample, validate, GridIndex, ValidationOptions};
//! let d = sample::district(&sample::SampleSpec::default());
//! let a = assign(&d, &GridIndex::new(&d));
//! let problems = validate(&d, &a, &ValidationOptions::default());
//! assert!(problems.iter().all(|p| p.kind != gridgov_spatial::ProblemKind::Overlap));
//! ```

use geo::{Area as _, BooleanOps, BoundingRect, Centroid, MultiPolygon, Polygon};
use serde::Serialize;

use crate::geodesy::LocalProjection;
use crate::index::projection_for;
use crate::{AreaId, Assignment, District, GridKind, Level, Placement};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Must be fixed before publishing.
    Error,
    /// Worth a look.
    Warning,
}

/// What kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The polygon is not valid (self-intersection, too few points, …).
    InvalidPolygon,
    /// An area without a boundary where one is required.
    EmptyBoundary,
    /// An area whose parent is missing or of the wrong level.
    BadParent,
    /// Two siblings overlap.
    Overlap,
    /// Part of a parent no child covers.
    Gap,
    /// Part of a child outside its parent.
    OutsideParent,
    /// A very thin or tiny polygon or piece.
    Sliver,
    /// A building whose footprint no grid holds ≥ 99% of.
    StraddlingBuilding,
    /// A point entity outside every grid.
    OutsideGrids,
    /// A basic grid whose household count is outside the band.
    HouseholdBand,
    /// A basic grid whose team is smaller than the streets ask.
    SmallTeam,
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// What kind.
    pub kind: ProblemKind,
    /// How bad.
    pub severity: Severity,
    /// A sentence for people.
    pub message: String,
    /// The ids involved: area codes, `building:<code>`, `merchant:<n>`, …
    pub ids: Vec<String>,
    /// Where, in WGS 84 (none for problems without a place).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geometry: Option<geojson::Geometry>,
    /// Area in square metres, for overlaps, gaps and slivers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_m2: Option<f64>,
    /// A count the problem is about: a grid's households outside the band.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
}

impl Problem {
    /// This problem as a GeoJSON feature.
    pub fn to_feature(&self) -> geojson::Feature {
        let mut props = geojson::JsonObject::new();
        props.insert(
            "kind".into(),
            serde_json::to_value(self.kind).unwrap_or_default(),
        );
        props.insert(
            "severity".into(),
            serde_json::to_value(self.severity).unwrap_or_default(),
        );
        props.insert("message".into(), self.message.clone().into());
        props.insert("ids".into(), self.ids.clone().into());
        if let Some(a) = self.area_m2 {
            props.insert("area_m2".into(), a.into());
        }
        if let Some(n) = self.count {
            props.insert("count".into(), n.into());
        }
        geojson::Feature {
            bbox: None,
            geometry: self.geometry.clone(),
            id: None,
            properties: Some(props),
            foreign_members: None,
        }
    }
}

/// All problems as a GeoJSON FeatureCollection.
pub fn to_feature_collection(problems: &[Problem]) -> geojson::FeatureCollection {
    geojson::FeatureCollection {
        bbox: None,
        features: problems.iter().map(Problem::to_feature).collect(),
        foreign_members: None,
    }
}

/// Tolerances.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationOptions {
    /// Overlaps, gaps and parts outside the parent smaller than this (m²)
    /// are ignored.
    pub area_tolerance_m2: f64,
    /// Pieces whose mean width (2·area/perimeter) is below this (m) are
    /// slivers.
    pub sliver_width_m: f64,
    /// Households a basic grid should serve.
    pub household_band: (usize, usize),
    /// The fewest members a basic grid's team should have.
    pub min_team: usize,
    /// Raised when the answer is no longer wanted: the checks stop where
    /// they are (what was found so far is returned, and the caller, who
    /// raised it, knows it is not everything).
    pub cancel: crate::cancel::Cancel,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        ValidationOptions {
            area_tolerance_m2: 1.0,
            sliver_width_m: 1.0,
            household_band: (300, 500),
            min_team: 5,
            cancel: crate::cancel::Cancel::never(),
        }
    }
}

/// Counts by severity.
pub fn count(problems: &[Problem], severity: Severity) -> usize {
    problems.iter().filter(|p| p.severity == severity).count()
}

/// A kind of point entity, its placements and locations.
type PointLayer<'p> = (&'p str, &'p crate::Rows<Placement>, Vec<geo::Point<f64>>);

struct Ctx<'a> {
    d: &'a District,
    proj: LocalProjection,
    opts: &'a ValidationOptions,
    out: Vec<Problem>,
    /// Projected boundaries of valid areas (`None` where invalid or empty).
    metric: Vec<Option<MultiPolygon<f64>>>,
}

fn to_geojson(proj: LocalProjection, mp: &MultiPolygon<f64>) -> geojson::Geometry {
    use geo::MapCoords;
    let back = mp.map_coords(|c| {
        let (x, y) = proj.to_lon_lat(c.x, c.y);
        geo::Coord { x, y }
    });
    geojson::Geometry::from(&back)
}

fn mean_width(p: &Polygon<f64>) -> f64 {
    let ring_len = |r: &geo::LineString<f64>| -> f64 {
        r.0.windows(2)
            .map(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y))
            .sum()
    };
    let perim = ring_len(p.exterior()) + p.interiors().iter().map(ring_len).sum::<f64>();
    if perim > 0.0 {
        2.0 * p.unsigned_area() / perim
    } else {
        0.0
    }
}

impl Ctx<'_> {
    fn label(&self, id: AreaId) -> String {
        let a = self.d.area(id);
        format!("{} {} {}", a.level.as_str(), a.code, a.name)
    }

    fn push(
        &mut self,
        kind: ProblemKind,
        severity: Severity,
        message: String,
        ids: Vec<String>,
        geom: Option<geojson::Geometry>,
        area: Option<f64>,
    ) {
        self.out.push(Problem {
            kind,
            severity,
            message,
            ids,
            geometry: geom,
            area_m2: area,
            count: None,
        });
    }

    fn stopped(&self) -> bool {
        self.opts.cancel.check().is_err()
    }

    fn polygons(&mut self) {
        for i in 0..self.d.areas.len() {
            if self.stopped() {
                return;
            }
            let m = self.polygon(AreaId(i as u32), true);
            self.metric.push(m);
        }
    }

    /// Area `id`'s boundary projected (`None` where empty or not finite),
    /// its problems reported when `report`.
    fn polygon(&mut self, id: AreaId, report: bool) -> Option<MultiPolygon<f64>> {
        let a = self.d.area(id);
        let mut out = Vec::new();
        let mut push = |kind, severity, message, geom, area| {
            if report {
                out.push(Problem {
                    kind,
                    severity,
                    message,
                    ids: vec![a.code.clone()],
                    geometry: geom,
                    area_m2: area,
                    count: None,
                });
            }
        };
        let m = self.projected(id, &mut push);
        self.out.extend(out);
        m
    }

    fn projected(
        &self,
        id: AreaId,
        push: &mut impl FnMut(ProblemKind, Severity, String, Option<geojson::Geometry>, Option<f64>),
    ) -> Option<MultiPolygon<f64>> {
        let a = self.d.area(id);
        if a.boundary.0.is_empty() {
            if a.level == Level::Grid {
                push(
                    ProblemKind::EmptyBoundary,
                    Severity::Error,
                    format!("{} has no boundary", self.label(id)),
                    None,
                    None,
                );
            }
            return None;
        }
        let errors = crate::shape::check(&a.boundary);
        let finite = a
            .boundary
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .all(|r| r.0.iter().all(|c| c.x.is_finite() && c.y.is_finite()));
        if !errors.is_empty() {
            let reasons: Vec<String> = errors.iter().map(ToString::to_string).collect();
            // Where it is wrong when the checks say (a crossing, a hole
            // outside), else the whole boundary.
            let places: Vec<geo::Point<f64>> = errors
                .iter()
                .filter_map(crate::shape::ShapeError::at)
                .map(geo::Point::from)
                .collect();
            let geom = if places.is_empty() {
                finite.then(|| geojson::Geometry::from(&a.boundary))
            } else {
                Some(geojson::Geometry::from(&geo::MultiPoint(places)))
            };
            push(
                ProblemKind::InvalidPolygon,
                Severity::Error,
                format!(
                    "{} is not a valid polygon: {}",
                    self.label(id),
                    reasons.join("; ")
                ),
                geom,
                None,
            );
        }
        if !finite {
            return None;
        }
        let m = self.proj.multi_polygon(&a.boundary);
        if errors.is_empty() && a.level == Level::Grid {
            for p in &m.0 {
                let w = mean_width(p);
                let area = p.unsigned_area();
                if w < self.opts.sliver_width_m * 5.0 || area < 100.0 {
                    push(
                        ProblemKind::Sliver,
                        Severity::Warning,
                        format!(
                            "{} is a sliver: {area:.1} m², mean width {w:.2} m",
                            self.label(id)
                        ),
                        Some(to_geojson(self.proj, &MultiPolygon::new(vec![p.clone()]))),
                        Some(area),
                    );
                }
            }
        }
        // Invalid polygons are cleaned (by a self-union) for the
        // overlap and gap checks so one bad ring does not hide the rest.
        Some(if errors.is_empty() {
            m
        } else {
            m.union(&MultiPolygon::new(vec![]))
        })
    }

    /// The levels the district has.
    fn levels(&self) -> Vec<Level> {
        [Level::Street, Level::Community, Level::Grid]
            .into_iter()
            .filter(|l| self.d.areas.iter().any(|x| x.level == *l))
            .collect()
    }

    fn parents(&mut self) {
        let levels = self.levels();
        for i in 0..self.d.areas.len() {
            self.parent(AreaId(i as u32), &levels);
        }
    }

    /// Checks `id`'s parent; `levels` are the levels the district has.
    fn parent(&mut self, id: AreaId, levels: &[Level]) {
        {
            let a = self.d.area(id);
            // Districts may have fewer levels (just grids; communities and
            // grids): a parent is the nearest level above that the district
            // has, and an area of the top level it has has none.
            let present = |l: Level| levels.contains(&l);
            let mut want = a.level.parent();
            while let Some(l) = want {
                if present(l) {
                    break;
                }
                want = l.parent();
            }
            let ok = match (want, a.parent) {
                (None, None) => true,
                (None, Some(_)) | (Some(_), None) => false,
                (Some(want), Some(p)) => self
                    .d
                    .areas
                    .get(p.index())
                    .is_some_and(|pa| pa.level == want),
            };
            if !(ok || a.level == Level::Community && a.parent.is_none()) {
                self.push(
                    ProblemKind::BadParent,
                    Severity::Error,
                    format!("{} has a missing or wrong parent", self.label(id)),
                    vec![a.code.clone()],
                    None,
                    None,
                );
            }
        }
    }

    /// Reports each piece of `mp` above tolerance as `kind`, pieces
    /// thinner than the sliver width as slivers.
    fn pieces(&mut self, mp: &MultiPolygon<f64>, kind: ProblemKind, what: &str, ids: &[String]) {
        for p in &mp.0 {
            let area = p.unsigned_area();
            if area < self.opts.area_tolerance_m2 {
                continue;
            }
            let w = mean_width(p);
            let (kind, severity, extra) = if w < self.opts.sliver_width_m {
                (
                    ProblemKind::Sliver,
                    Severity::Warning,
                    format!(" (a sliver {w:.2} m wide)"),
                )
            } else {
                (kind, Severity::Error, String::new())
            };
            let at = p
                .centroid()
                .map(|c| self.proj.to_lon_lat(c.x(), c.y()))
                .unwrap_or_default();
            self.push(
                kind,
                severity,
                format!("{what}: {area:.1} m² near {:.6}, {:.6}{extra}", at.0, at.1),
                ids.to_vec(),
                Some(to_geojson(self.proj, &MultiPolygon::new(vec![p.clone()]))),
                Some(area),
            );
        }
    }

    /// Every area's children (and, last, the top-level areas: streets, or
    /// orphans, are siblings too).
    fn families(&self) -> Vec<Vec<AreaId>> {
        let d = self.d;
        let mut kids = vec![Vec::new(); d.areas.len() + 1];
        for (i, a) in d.areas.iter().enumerate() {
            let slot = a
                .parent
                .map_or(d.areas.len(), |p| p.index().min(d.areas.len()));
            kids[slot].push(AreaId(i as u32));
        }
        kids
    }

    fn siblings(&mut self) {
        let families = self.families();
        for (i, kids) in families.iter().enumerate() {
            if self.stopped() {
                return;
            }
            let parent = if i == self.d.areas.len() {
                AreaId(u32::MAX)
            } else {
                AreaId(i as u32)
            };
            self.family(parent, kids, None);
        }
    }

    /// Overlaps among `kids` of `parent`, parts outside it and gaps in it;
    /// with `focus`, only overlaps and parts outside that involve one of
    /// those areas.
    fn family(
        &mut self,
        parent: AreaId,
        kids: &[AreaId],
        focus: Option<&std::collections::BTreeSet<AreaId>>,
    ) {
        let d = self.d;
        let wanted = |a: AreaId| focus.is_none_or(|f| f.contains(&a));
        {
            // Overlaps among siblings of the same kind (exclusive grids lie
            // over basic ones by design).
            for (x, &a) in kids.iter().enumerate() {
                if self.stopped() {
                    return;
                }
                for &b in &kids[x + 1..] {
                    if d.area(a).kind != d.area(b).kind || !(wanted(a) || wanted(b)) {
                        continue;
                    }
                    let (Some(ma), Some(mb)) = (&self.metric[a.index()], &self.metric[b.index()])
                    else {
                        continue;
                    };
                    let (Some(ra), Some(rb)) = (ma.bounding_rect(), mb.bounding_rect()) else {
                        continue;
                    };
                    if ra.max().x < rb.min().x
                        || rb.max().x < ra.min().x
                        || ra.max().y < rb.min().y
                        || rb.max().y < ra.min().y
                    {
                        continue;
                    }
                    let inter = ma.intersection(mb);
                    let what = format!("{} overlaps {}", self.label(a), self.label(b));
                    let ids = vec![d.area(a).code.clone(), d.area(b).code.clone()];
                    self.pieces(&inter, ProblemKind::Overlap, &what, &ids);
                }
            }
            if parent.0 == u32::MAX {
                return;
            }
            let Some(pm) = self.metric[parent.index()].clone() else {
                return;
            };
            // Children outside the parent.
            for &k in kids.iter().filter(|&&k| wanted(k)) {
                let Some(km) = self.metric[k.index()].clone() else {
                    continue;
                };
                let out = km.difference(&pm);
                let what = format!("{} reaches outside {}", self.label(k), self.label(parent));
                let ids = vec![d.area(k).code.clone(), d.area(parent).code.clone()];
                self.pieces(&out, ProblemKind::OutsideParent, &what, &ids);
            }
            // Gaps: the parent minus its covering children (basic grids,
            // or all children above grid level).
            let covering: Vec<MultiPolygon<f64>> = kids
                .iter()
                .filter(|&&k| d.area(k).kind != Some(GridKind::Exclusive))
                .filter_map(|&k| self.metric[k.index()].clone())
                .collect();
            if covering.is_empty() {
                return;
            }
            let union = geo::unary_union(covering.iter());
            let gap = pm.difference(&union);
            let what = format!("gap in {} not covered by any child", self.label(parent));
            let ids = vec![d.area(parent).code.clone()];
            self.pieces(&gap, ProblemKind::Gap, &what, &ids);
        }
    }

    fn placements(&mut self, a: &Assignment) {
        let d = self.d;
        if d.grids().next().is_none() {
            self.push(
                ProblemKind::EmptyBoundary,
                Severity::Error,
                format!(
                    "the district has no grids: its {} buildings, {} merchants, {} cameras and {} incidents cannot be placed",
                    d.buildings.len(),
                    d.merchants.len(),
                    d.cameras.len(),
                    d.incidents.len()
                ),
                Vec::new(),
                None,
                None,
            );
            return;
        }
        for (b, p) in d.buildings.iter().zip(&a.buildings) {
            self.building(b, p);
        }
        let points: [PointLayer<'_>; 3] = [
            (
                "merchant",
                &a.merchants,
                d.merchants.iter().map(|m| m.location).collect(),
            ),
            (
                "camera",
                &a.cameras,
                d.cameras.iter().map(|c| c.location).collect(),
            ),
            (
                "incident",
                &a.incidents,
                d.incidents.iter().map(|i| i.location).collect(),
            ),
        ];
        for (what, placements, locations) in points {
            for (n, (p, loc)) in placements.iter().zip(locations).enumerate() {
                match *p {
                    Placement::Outside {
                        nearest,
                        distance_m,
                    } => self.push(
                        ProblemKind::OutsideGrids,
                        Severity::Warning,
                        format!(
                            "{what} {n} is outside every grid, {distance_m:.0} m from {}",
                            self.label(nearest)
                        ),
                        vec![format!("{what}:{n}"), d.area(nearest).code.clone()],
                        Some(geojson::Geometry::from(&loc)),
                        None,
                    ),
                    Placement::Unplaced => self.push(
                        ProblemKind::OutsideGrids,
                        Severity::Error,
                        format!(
                            "{what} {n} could not be placed (no grids, or coordinates not finite)"
                        ),
                        vec![format!("{what}:{n}")],
                        None,
                        None,
                    ),
                    Placement::Inside(_) => {}
                }
            }
        }
    }

    /// A building straddling grids, or outside them.
    fn building(&mut self, b: &crate::Building, p: &crate::BuildingPlacement) {
        let d = self.d;
        if p.straddling {
            let shares: Vec<String> = p
                .shares
                .iter()
                .map(|(g, s)| format!("{} {:.1}%", d.area(*g).code, s * 100.0))
                .collect();
            let mut ids = vec![format!("building:{}", b.code)];
            ids.extend(p.shares.iter().map(|(g, _)| d.area(*g).code.clone()));
            self.push(
                ProblemKind::StraddlingBuilding,
                Severity::Error,
                format!(
                    "building {} ({}) straddles grids: {}",
                    b.code,
                    b.address,
                    shares.join(", ")
                ),
                ids,
                Some(geojson::Geometry::from(&b.footprint)),
                None,
            );
        }
        if let Placement::Outside {
            nearest,
            distance_m,
        } = p.placement
        {
            self.push(
                ProblemKind::OutsideGrids,
                Severity::Warning,
                format!(
                    "building {} ({}) is outside every grid, {distance_m:.0} m from {}",
                    b.code,
                    b.address,
                    self.label(nearest)
                ),
                vec![format!("building:{}", b.code), d.area(nearest).code.clone()],
                Some(geojson::Geometry::from(&b.footprint)),
                None,
            );
        }
    }

    fn teams(&mut self) {
        let d = self.d;
        if d.areas.iter().all(|a| a.staff.is_empty()) {
            return; // no team data (an imported layer): nothing to say
        }
        let min = self.opts.min_team;
        for g in d.grids() {
            let a = d.area(g);
            if a.kind != Some(GridKind::Basic) || a.staff.len() >= min {
                continue;
            }
            let n = a.staff.len();
            self.push(
                ProblemKind::SmallTeam,
                Severity::Warning,
                format!(
                    "{} has a team of {n}; a basic grid has at least {min} (1+1+X+N)",
                    self.label(g)
                ),
                vec![a.code.clone()],
                Some(geojson::Geometry::from(&a.boundary)),
                None,
            );
            if let Some(p) = self.out.last_mut() {
                p.count = Some(n);
            }
        }
    }

    fn households(&mut self, a: &Assignment) {
        let d = self.d;
        if d.households.is_empty() {
            return; // no household data: the band says nothing
        }
        let mut per = vec![0usize; d.areas.len()];
        for p in &a.households {
            if let Some(g) = p.responsible() {
                per[g.index()] += 1;
            }
        }
        let (lo, hi) = self.opts.household_band;
        for g in d.grids() {
            if d.area(g).kind != Some(GridKind::Basic) {
                continue;
            }
            let n = per[g.index()];
            if n < lo || n > hi {
                self.push(
                    ProblemKind::HouseholdBand,
                    Severity::Warning,
                    format!("{} has {n} households, outside {lo}–{hi}", self.label(g)),
                    vec![d.area(g).code.clone()],
                    // The grid itself is where it is.
                    Some(geojson::Geometry::from(&d.area(g).boundary)),
                    None,
                );
                if let Some(p) = self.out.last_mut() {
                    p.count = Some(n);
                }
            }
        }
    }
}

/// The problems [`validate`] finds that involve the areas `scope`: their
/// polygons and parents, their overlaps with their siblings and parts
/// outside their parents, the gaps in their parents and in `parents`
/// (areas whose children changed), and the buildings `buildings` (by
/// index) straddling grids or outside them. This is what a change to
/// those areas can add or remove: the rest of the district is not looked
/// at, so the cost follows the change, not the district. Households and
/// point entities are not checked.
///
/// ```
/// use gridgov_spatial::{sample, assign, GridIndex, validate, ValidationOptions};
/// use gridgov_spatial::validate::validate_around;
/// let mut d = sample::district(&sample::SampleSpec::default());
/// let g = d.grids().next().unwrap();
/// let h = d.grids().nth(1).unwrap();
/// // Grid g takes grid h's boundary: they overlap.
/// let b = d.area(h).boundary.clone();
/// d.areas[g.index()].boundary = b;
/// let a = assign(&d, &GridIndex::new(&d));
/// let near = validate_around(&d, &a, &ValidationOptions::default(), &[g], &[], &[]);
/// let code = &d.area(g).code;
/// assert!(near.iter().any(|p| p.ids.contains(code) && p.ids.contains(&d.area(h).code)));
/// let all = validate(&d, &a, &ValidationOptions::default());
/// assert!(near.len() < all.len());
/// ```
pub fn validate_around(
    d: &District,
    a: &Assignment,
    opts: &ValidationOptions,
    scope: &[AreaId],
    parents: &[AreaId],
    buildings: &[usize],
) -> Vec<Problem> {
    use std::collections::BTreeSet;
    let mut ctx = Ctx {
        d,
        proj: projection_for(d),
        opts,
        out: Vec::new(),
        metric: vec![None; d.areas.len()],
    };
    let n = d.areas.len();
    let focus: BTreeSet<AreaId> = scope.iter().copied().filter(|x| x.index() < n).collect();
    let families = ctx.families();
    let slot = |x: AreaId| d.area(x).parent.map_or(n, |p| p.index().min(n));
    let groups: BTreeSet<usize> = focus
        .iter()
        .map(|&x| slot(x))
        .chain(parents.iter().map(|p| p.index()).filter(|&p| p < n))
        .collect();
    // The boundaries the checks below look at.
    let mut needed: BTreeSet<AreaId> = focus.clone();
    for &g in &groups {
        needed.extend(&families[g]);
        if g < n {
            needed.insert(AreaId(g as u32));
        }
    }
    for &x in &needed {
        let m = ctx.polygon(x, focus.contains(&x));
        ctx.metric[x.index()] = m;
    }
    let levels = ctx.levels();
    for &x in &focus {
        ctx.parent(x, &levels);
    }
    for &g in &groups {
        let parent = if g == n {
            AreaId(u32::MAX)
        } else {
            AreaId(g as u32)
        };
        ctx.family(parent, &families[g], Some(&focus));
    }
    for &i in buildings {
        if let (Some(b), Some(p)) = (d.buildings.get(i), a.buildings.get(i)) {
            ctx.building(b, p);
        }
    }
    let mut out = ctx.out;
    out.sort_by_key(|p| p.severity);
    out
}

/// Validates the district and the assignment made from it.
pub fn validate(d: &District, a: &Assignment, opts: &ValidationOptions) -> Vec<Problem> {
    let mut ctx = Ctx {
        d,
        proj: projection_for(d),
        opts,
        out: Vec::new(),
        metric: Vec::with_capacity(d.areas.len()),
    };
    ctx.polygons();
    ctx.parents();
    ctx.siblings();
    ctx.placements(a);
    ctx.households(a);
    ctx.teams();
    let mut out = ctx.out;
    out.sort_by_key(|p| p.severity);
    out
}

#[cfg(test)]
mod level_tests {
    use super::*;
    use crate::{Area, GridIndex, assign, sample};

    fn bad_parents(d: &District) -> usize {
        let a = assign(d, &GridIndex::new(d));
        validate(d, &a, &ValidationOptions::default())
            .iter()
            .filter(|p| p.kind == ProblemKind::BadParent)
            .count()
    }

    /// The sample with only the levels `keep`, parents re-linked to the
    /// nearest level kept.
    fn only(keep: &[Level]) -> District {
        let d = sample::district(&sample::SampleSpec::default());
        let mut out = District::new("levels");
        let mut new_id = vec![None; d.areas.len()];
        for (i, a) in d.areas.iter().enumerate() {
            if keep.contains(&a.level) {
                new_id[i] = Some(out.add_area(Area {
                    parent: None,
                    ..a.clone()
                }));
            }
        }
        for (i, a) in d.areas.iter().enumerate() {
            let Some(me) = new_id[i] else { continue };
            let mut p = a.parent;
            while let Some(q) = p {
                if let Some(n) = new_id[q.index()] {
                    out.areas[me.index()].parent = Some(n);
                    break;
                }
                p = d.area(q).parent;
            }
        }
        out
    }

    #[test]
    fn a_district_of_grids_alone_or_of_communities_and_grids_has_no_bad_parents() {
        assert_eq!(bad_parents(&only(&[Level::Grid])), 0);
        assert_eq!(bad_parents(&only(&[Level::Community, Level::Grid])), 0);
        assert_eq!(bad_parents(&only(&[Level::Street, Level::Grid])), 0);
        assert_eq!(
            bad_parents(&only(&[Level::Street, Level::Community, Level::Grid])),
            0
        );
        // With communities present, a grid hung straight from a street is
        // still wrong.
        let mut d = only(&[Level::Street, Level::Community, Level::Grid]);
        let street = d
            .areas
            .iter()
            .position(|a| a.level == Level::Street)
            .unwrap();
        let grid = d.areas.iter().position(|a| a.level == Level::Grid).unwrap();
        d.areas[grid].parent = Some(AreaId(street as u32));
        assert_eq!(bad_parents(&d), 1);
    }
}

#[cfg(test)]
mod team_tests {
    use super::*;
    use crate::{GridIndex, assign, sample};

    fn small_teams(d: &District) -> Vec<Problem> {
        let a = assign(d, &GridIndex::new(d));
        validate(d, &a, &ValidationOptions::default())
            .into_iter()
            .filter(|p| p.kind == ProblemKind::SmallTeam)
            .collect()
    }

    #[test]
    fn a_basic_grid_with_a_team_under_five_is_warned_of_and_exclusive_grids_are_not() {
        let mut d = sample::district(&sample::SampleSpec::default());
        assert!(small_teams(&d).is_empty());
        let basic = d
            .grids()
            .find(|&g| d.area(g).kind == Some(GridKind::Basic))
            .unwrap();
        let exclusive = d
            .grids()
            .find(|&g| d.area(g).kind == Some(GridKind::Exclusive))
            .unwrap();
        let mut a = d.areas[basic.index()].clone();
        a.staff.truncate(3);
        d.areas.set(basic.index(), a);
        let mut e = d.areas[exclusive.index()].clone();
        e.staff.clear();
        d.areas.set(exclusive.index(), e);
        let found = small_teams(&d);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].ids, [d.area(basic).code.clone()]);
        assert_eq!(
            (found[0].count, found[0].severity),
            (Some(3), Severity::Warning)
        );
        assert!(found[0].message.contains("at least 5"));
    }

    #[test]
    fn a_district_without_any_team_data_gets_no_team_warnings() {
        let mut d = sample::district(&sample::SampleSpec::default());
        let areas: Vec<_> = d
            .areas
            .iter()
            .map(|a| crate::Area {
                staff: Vec::new(),
                ..a.clone()
            })
            .collect();
        d.areas = areas.into();
        assert!(small_teams(&d).is_empty());
    }
}
