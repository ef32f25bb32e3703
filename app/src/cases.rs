//! The case desk: filing reports, moving cases through the loop, moving
//! pins, merging duplicates and escalating overdue cases — the workflow
//! rules of `gridgov_spatial::workflow` over a [`CaseStore`]. Shared by the
//! HTTP service, Open311 and the command line; blocking (call it off the
//! async threads).
//!
//! Every change is an appended step checked against the step the caller
//! saw; a caller who did not say which step it saw is checked against
//! the latest, and on a race the step is re-judged from the new state
//! (so of two "accept"s at once, one wins and the other is told the case
//! is accepted already).

use std::collections::HashMap;

use geo::InteriorPoint;
use gridgov_spatial::Timestamp;
use gridgov_spatial::duplicates::{CaseSketch, Duplicate, DuplicateRule, duplicates};
use gridgov_spatial::workflow::{
    Action, CaseState, DeadlineRules, Event, Overdue, TransitionError, allowed,
};
use gridgov_spatial::{
    AreaSummary, Crs, District, GridIndex, Incident, IncidentSource, IncidentStatus, Placement,
    Reporter, place_point,
};
use serde::{Deserialize, Serialize};

use crate::ports::{Append, AppendError, CaseStore, StoreError};
use crate::read_model::Snapshot;

/// Why a case operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// No such case.
    #[error("there is no incident {0}")]
    NotFound(i64),
    /// Not allowed from where the case stands (answers 409).
    #[error("incident {case}: {source}")]
    Transition {
        /// The case.
        case: i64,
        /// Why.
        source: TransitionError,
    },
    /// The case moved on since the caller looked (answers 409).
    #[error("incident {case} has moved on: you saw step {expected}, it is at step {current}")]
    Conflict {
        /// The case.
        case: i64,
        /// The step the caller saw.
        expected: u32,
        /// Where it is.
        current: u32,
    },
    /// The request itself is wrong (answers 400 or 422).
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AppendError> for CaseError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::NotFound(id) => CaseError::NotFound(id),
            AppendError::Conflict {
                case,
                expected,
                current,
            } => CaseError::Conflict {
                case,
                expected,
                current,
            },
            AppendError::Store(s) => CaseError::Store(s),
        }
    }
}

/// Where a report is: a point in a coordinate system, or an address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// Longitude (with `lat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Latitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// The coordinates' system (`wgs84`, `cgcs2000`, `gcj02`, `bd09`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crs: Option<String>,
    /// An address, when there are no coordinates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// Where a place resolved to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Located {
    /// WGS 84 longitude, latitude.
    pub wgs84: [f64; 2],
    /// The address matched, when located by address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_address: Option<String>,
}

/// Resolves a place to WGS 84 with the district's address index.
pub fn locate(snap: &Snapshot, place: &Place) -> Result<Located, CaseError> {
    match (place.lon, place.lat, place.address.as_deref()) {
        (Some(lon), Some(lat), _) => {
            let crs: Crs = place
                .crs
                .as_deref()
                .unwrap_or("wgs84")
                .parse()
                .map_err(|e: gridgov_spatial::CrsError| CaseError::Invalid(e.to_string()))?;
            let (x, y) = crs
                .to_wgs84(lon, lat)
                .map_err(|e| CaseError::Invalid(e.to_string()))?;
            Ok(Located {
                wgs84: [x, y],
                matched_address: None,
            })
        }
        (None, None, Some(a)) if !a.trim().is_empty() => {
            let m = snap
                .addresses
                .lookup(&snap.district, a, 1)
                .into_iter()
                .next()
                .filter(|m| m.confidence >= 0.5)
                .ok_or_else(|| {
                    CaseError::Invalid(format!("no building matches the address {a:?}"))
                })?;
            let d = &snap.district;
            let p = match m.unit {
                Some(u) => Some(d.units[u.0 as usize].location),
                None => d.buildings[m.building.0 as usize]
                    .footprint
                    .interior_point(),
            }
            .ok_or_else(|| CaseError::Invalid(format!("the building at {a:?} has no place")))?;
            Ok(Located {
                wgs84: [p.x(), p.y()],
                matched_address: Some(m.address),
            })
        }
        _ => Err(CaseError::Invalid(
            "a report needs lon and lat, or an address".into(),
        )),
    }
}

/// The grid a point is routed to: the grid it lies in (exclusive grids
/// first, by the index's precedence), or the nearest grid when it lies
/// outside the district.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    /// The grid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<AreaSummary>,
    /// Whether the point is inside it.
    pub inside: bool,
    /// How far outside the nearest grid, in metres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
}

/// Routes a WGS 84 point.
pub fn route(d: &District, idx: &GridIndex, p: [f64; 2]) -> Route {
    match place_point(idx, p[0], p[1]) {
        Placement::Inside(g) => Route {
            grid: Some(AreaSummary::of(d, g)),
            inside: true,
            distance_m: None,
        },
        Placement::Outside {
            nearest,
            distance_m,
        } => Route {
            grid: Some(AreaSummary::of(d, nearest)),
            inside: false,
            distance_m: Some(distance_m),
        },
        Placement::Unplaced => Route {
            grid: None,
            inside: false,
            distance_m: None,
        },
    }
}

/// A new report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewReport {
    /// Where.
    #[serde(flatten)]
    pub place: Place,
    /// Category (`environment`, `road`, …).
    pub category: String,
    /// Channel (`hotline_12345`, `wechat`, `patrol`, `camera`, `web`);
    /// default `web`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// What the resident said.
    #[serde(default)]
    pub description: String,
    /// When (RFC 3339); default now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<String>,
    /// What the resident gave about themselves (name, phone, …): kept
    /// with the case, shown only to those who may read it in full.
    #[serde(default, skip_serializing_if = "Reporter::is_empty")]
    pub reporter: Reporter,
}

/// The longest value of each of a reporter's fields, in characters.
pub const REPORTER_LIMITS: [(&str, usize); 8] = [
    ("name", 100),
    ("phone", 40),
    ("email", 254),
    ("address", 500),
    ("address_id", 200),
    ("device_id", 200),
    ("account_id", 200),
    ("media_url", 2000),
];

/// A reporter's fields trimmed (an empty one is not given), checked
/// against [`REPORTER_LIMITS`] and the shapes of a phone number, an email
/// address and a media URL; every problem is named.
///
/// ```
/// use gridgov_app::cases::reporter_of;
/// use gridgov_spatial::Reporter;
/// let r = Reporter { name: Some(" 张三 ".into()), phone: Some("".into()), ..Reporter::default() };
/// assert_eq!(reporter_of(&r).unwrap().unwrap().name.as_deref(), Some("张三"));
/// let bad = Reporter { phone: Some("call me".into()), email: Some("nobody".into()), ..Reporter::default() };
/// let e = reporter_of(&bad).unwrap_err().to_string();
/// assert!(e.contains("phone") && e.contains("email"));
/// ```
pub fn reporter_of(r: &Reporter) -> Result<Option<Box<Reporter>>, CaseError> {
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let out = Reporter {
        name: clean(&r.name),
        phone: clean(&r.phone),
        email: clean(&r.email),
        address: clean(&r.address),
        address_id: clean(&r.address_id),
        device_id: clean(&r.device_id),
        account_id: clean(&r.account_id),
        media_url: clean(&r.media_url),
        // Set by the service when it gives the resident a token or takes
        // a case from the hotline platform, never taken from what a caller
        // sends.
        tracking: None,
        hotline_case: None,
    };
    let fields = [
        &out.name,
        &out.phone,
        &out.email,
        &out.address,
        &out.address_id,
        &out.device_id,
        &out.account_id,
        &out.media_url,
    ];
    let mut problems = Vec::new();
    for ((what, max), v) in REPORTER_LIMITS.iter().zip(fields) {
        if v.as_deref().is_some_and(|s| s.chars().count() > *max) {
            problems.push(format!("{what} has at most {max} characters"));
        }
    }
    if let Some(p) = &out.phone
        && !(p.chars().any(|c| c.is_ascii_digit())
            && p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)))
    {
        problems.push(format!(
            "phone {p:?} is not a phone number (digits, spaces, + - ( ))"
        ));
    }
    if let Some(e) = &out.email
        && !e.split_once('@').is_some_and(|(a, b)| {
            !a.is_empty() && b.contains('.') && !e.contains(char::is_whitespace)
        })
    {
        problems.push(format!("email {e:?} is not an email address"));
    }
    if let Some(u) = &out.media_url
        && !(u.starts_with("https://") || u.starts_with("http://"))
    {
        problems.push(format!("media_url {u:?} is not an http(s) URL"));
    }
    if problems.is_empty() {
        Ok(out.kept())
    } else {
        Err(CaseError::Invalid(format!(
            "the reporter's details: {}",
            problems.join("; ")
        )))
    }
}

/// The longest category name.
pub const MAX_CATEGORY: usize = 64;
/// The longest description.
pub const MAX_DESCRIPTION: usize = 10_000;

/// Checks a report and makes its incident.
pub fn incident_of(
    snap: &Snapshot,
    r: &NewReport,
    now: Timestamp,
) -> Result<(Incident, Located), CaseError> {
    let category = r.category.trim();
    if category.is_empty() {
        return Err(CaseError::Invalid("a report needs a category".into()));
    }
    if category.chars().count() > MAX_CATEGORY {
        return Err(CaseError::Invalid(format!(
            "a category has at most {MAX_CATEGORY} characters"
        )));
    }
    if r.description.chars().count() > MAX_DESCRIPTION {
        return Err(CaseError::Invalid(format!(
            "a description has at most {MAX_DESCRIPTION} characters"
        )));
    }
    let source: IncidentSource = match r.source.as_deref() {
        None | Some("") => IncidentSource::Web,
        Some(s) => {
            serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
                CaseError::Invalid(format!(
                    "unknown source {s:?}; use hotline_12345, wechat, patrol, camera or web"
                ))
            })?
        }
    };
    let reported_at = match r.reported_at.as_deref() {
        None => now,
        Some(t) => gridgov_spatial::time::parse_instant(t)
            .map_err(|e| CaseError::Invalid(format!("reported_at: {e}")))?,
    };
    let at = locate(snap, &r.place)?;
    Ok((
        Incident {
            location: geo::Point::new(at.wgs84[0], at.wgs84[1]),
            reported_at,
            category: category.to_string(),
            source,
            status: IncidentStatus::Reported,
            description: r.description.clone(),
            filed_by: None,
            reporter: reporter_of(&r.reporter)?,
        },
        at,
    ))
}

/// A case as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseView {
    /// The case id.
    pub id: i64,
    /// The report.
    pub incident: Incident,
    /// Where it is routed.
    pub route: Route,
    /// Where it stands.
    pub state: CaseState,
    /// What may be done next.
    pub allowed: Vec<&'static str>,
    /// Past its deadline, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue: Option<Overdue>,
    /// The deadline of its level, while it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Timestamp>,
    /// Every step, oldest first.
    pub history: Vec<Event>,
    /// The histories of the cases merged into it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<MergedHistory>,
}

/// A merged duplicate's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergedHistory {
    /// The merged case.
    pub id: i64,
    /// Its report.
    pub incident: Incident,
    /// Its steps.
    pub history: Vec<Event>,
}

/// The state an incident's history leaves it in. Records that came with a
/// status and no history start from that status.
pub fn state_of(x: &Incident, history: &[Event]) -> CaseState {
    let initial = history.first().map_or(x.status, |e| e.from);
    CaseState::replay_from(initial, x.reported_at, history)
}

/// A case: its report, its history and the state the history leaves it
/// in.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The case id.
    pub id: i64,
    /// The report.
    pub incident: Incident,
    /// Every step, oldest first.
    pub history: Vec<Event>,
    /// Where it stands.
    pub state: CaseState,
}

/// Every case, by id.
pub struct Book {
    /// The cases, by id.
    pub cases: Vec<Case>,
}

impl Book {
    /// Reads every case from the store.
    pub fn read(store: &dyn CaseStore) -> Result<Book, StoreError> {
        let xs = store.incidents()?;
        let mut steps: HashMap<i64, Vec<Event>> = HashMap::new();
        for s in store.steps(None)? {
            steps.entry(s.case).or_default().push(s.event);
        }
        let cases = xs
            .into_iter()
            .map(|x| {
                let history = steps.remove(&x.id).unwrap_or_default();
                let state = state_of(&x.incident, &history);
                Case {
                    id: x.id,
                    incident: x.incident,
                    history,
                    state,
                }
            })
            .collect();
        Ok(Book { cases })
    }
}

/// One case from the store, or `NotFound`.
pub fn case(store: &dyn CaseStore, id: i64) -> Result<Case, CaseError> {
    let incident = store.incident(id)?.ok_or(CaseError::NotFound(id))?;
    let history: Vec<Event> = store
        .steps(Some(id))?
        .into_iter()
        .map(|s| s.event)
        .collect();
    let state = state_of(&incident, &history);
    Ok(Case {
        id,
        incident,
        history,
        state,
    })
}

/// One case, or `NotFound`.
pub fn read(
    store: &dyn CaseStore,
    snap: &Snapshot,
    rules: &DeadlineRules,
    id: i64,
    now: Timestamp,
) -> Result<CaseView, CaseError> {
    let (x, history, state) = read_raw(store, id)?;
    let mut merged = Vec::new();
    for &m in &state.absorbed {
        let (mx, mh, _) = read_raw(store, m)?;
        merged.push(MergedHistory {
            id: m,
            incident: mx,
            history: mh,
        });
    }
    let deadline = rules.deadline(&x.category, &state);
    Ok(CaseView {
        id,
        route: route(
            &snap.district,
            &snap.grids,
            [x.location.x(), x.location.y()],
        ),
        allowed: if state.merged_into.is_some() {
            Vec::new()
        } else {
            allowed(state.status)
        },
        overdue: rules.overdue(&x.category, &state, now),
        deadline,
        incident: x,
        state,
        history,
        merged,
    })
}

fn read_raw(
    store: &dyn CaseStore,
    id: i64,
) -> Result<(Incident, Vec<Event>, CaseState), CaseError> {
    let c = case(store, id)?;
    Ok((c.incident, c.history, c.state))
}

/// What access to a case depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whereabouts {
    /// The code of the grid it is routed to.
    pub grid: Option<String>,
    /// Whom it is dispatched to.
    pub assignee: Option<gridgov_spatial::workflow::Assignee>,
    /// The account that filed it.
    pub filed_by: Option<String>,
}

/// Where a case is routed, whom it is dispatched to and who filed it.
pub fn whereabouts(
    store: &dyn CaseStore,
    snap: &Snapshot,
    id: i64,
) -> Result<Whereabouts, CaseError> {
    let (x, _, s) = read_raw(store, id)?;
    let r = route(
        &snap.district,
        &snap.grids,
        [x.location.x(), x.location.y()],
    );
    Ok(Whereabouts {
        grid: r.grid.map(|g| g.code),
        assignee: s.assignee,
        filed_by: x.filed_by,
    })
}

/// A step asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRequest {
    /// What to do.
    pub action: Action,
    /// Who does it.
    pub actor: String,
    /// A note.
    pub note: String,
    /// The step the caller saw (from the case's `ETag`); `None`: the latest.
    pub expected_seq: Option<u32>,
    /// Photos kept for the case that go with the step.
    pub photos: Vec<i64>,
}

/// Takes a step; the event appended and the state after it.
pub fn step(
    store: &dyn CaseStore,
    id: i64,
    req: &StepRequest,
    at: Timestamp,
) -> Result<(Event, CaseState), CaseError> {
    if matches!(
        req.action,
        Action::Merge { .. } | Action::Absorb { .. } | Action::Move { .. }
    ) {
        return Err(CaseError::Invalid(format!(
            "use the {} operation for this step",
            req.action.name()
        )));
    }
    if matches!(req.action, Action::Clear { .. }) {
        return Err(CaseError::Invalid(
            "only a monitoring point's readings clear an alarm case".into(),
        ));
    }
    append_step(store, id, req, at)
}

/// Appends a step as [`step`] does, without refusing the steps only the
/// service itself takes (a monitoring point's `clear`).
pub(crate) fn append_step(
    store: &dyn CaseStore,
    id: i64,
    req: &StepRequest,
    at: Timestamp,
) -> Result<(Event, CaseState), CaseError> {
    // A caller who named no step is re-judged from the latest state when
    // it lost a race; one who named a step is told it lost.
    for _ in 0..5 {
        let (_, _, state) = read_raw(store, id)?;
        if state.merged_into.is_some() {
            return Err(merged_error(id, &state, &req.action));
        }
        if let Some(seen) = req.expected_seq
            && seen != state.seq
        {
            return Err(CaseError::Conflict {
                case: id,
                expected: seen,
                current: state.seq,
            });
        }
        let mut e = state
            .step(&req.action, &req.actor, at, &req.note)
            .map_err(|source| CaseError::Transition { case: id, source })?;
        e.photos.clone_from(&req.photos);
        match store.append_steps(&[Append {
            case: id,
            expected_seq: state.seq,
            event: e.clone(),
            location: None,
        }]) {
            Ok(()) => {
                let mut s = state;
                s.apply(&e);
                return Ok((e, s));
            }
            Err(AppendError::Conflict { .. }) if req.expected_seq.is_none() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(CaseError::Invalid(format!(
        "incident {id} is changing too fast; try again"
    )))
}

fn merged_error(id: i64, state: &CaseState, action: &Action) -> CaseError {
    CaseError::Transition {
        case: id,
        source: TransitionError::Illegal {
            from: state.status.as_str(),
            attempted: action.name(),
            allowed: Vec::new(),
        },
    }
}

/// Moves a case's pin and re-routes it; the move is a step.
pub fn move_pin(
    store: &dyn CaseStore,
    snap: &Snapshot,
    id: i64,
    to: [f64; 2],
    actor: &str,
    note: &str,
    at: Timestamp,
) -> Result<(Event, CaseState), CaseError> {
    let (x, _, state) = read_raw(store, id)?;
    if state.merged_into.is_some() {
        return Err(merged_error(id, &state, &Action::Merge { into: 0 }));
    }
    let from = [x.location.x(), x.location.y()];
    let grid_code = |p: [f64; 2]| route(&snap.district, &snap.grids, p).grid.map(|g| g.code);
    let action = Action::Move {
        to,
        from,
        from_grid: grid_code(from),
        to_grid: grid_code(to),
    };
    let e = state
        .step(&action, actor, at, note)
        .map_err(|source| CaseError::Transition { case: id, source })?;
    store.append_steps(&[Append {
        case: id,
        expected_seq: state.seq,
        event: e.clone(),
        location: Some(to),
    }])?;
    let mut s = state;
    s.apply(&e);
    Ok((e, s))
}

/// Merges case `dup` into `into`: `dup` becomes merged, `into` records
/// that it absorbed it; both histories are kept. One transaction.
pub fn merge(
    store: &dyn CaseStore,
    dup: i64,
    into: i64,
    actor: &str,
    note: &str,
    at: Timestamp,
) -> Result<(), CaseError> {
    if dup == into {
        return Err(CaseError::Invalid(
            "a case cannot be merged into itself".into(),
        ));
    }
    let (dx, _, ds) = read_raw(store, dup)?;
    let (ix, _, is) = read_raw(store, into)?;
    if dx.category != ix.category {
        return Err(CaseError::Invalid(format!(
            "incident {dup} is {} and incident {into} is {}: only reports of one category are merged",
            dx.category, ix.category
        )));
    }
    for (id, s) in [(dup, &ds), (into, &is)] {
        if s.merged_into.is_some() {
            return Err(merged_error(id, s, &Action::Merge { into }));
        }
    }
    let e1 = ds
        .step(&Action::Merge { into }, actor, at, note)
        .map_err(|source| CaseError::Transition { case: dup, source })?;
    let e2 = is
        .step(&Action::Absorb { case: dup }, actor, at, note)
        .map_err(|source| CaseError::Transition { case: into, source })?;
    store.append_steps(&[
        Append {
            case: dup,
            expected_seq: ds.seq,
            event: e1,
            location: None,
        },
        Append {
            case: into,
            expected_seq: is.seq,
            event: e2,
            location: None,
        },
    ])?;
    Ok(())
}

/// Suggested duplicates of case `id` among the open cases.
pub fn suggest_duplicates(
    book: &Book,
    rule: &DuplicateRule,
    id: i64,
) -> Result<Vec<Duplicate>, CaseError> {
    fn sketch(c: &Case) -> CaseSketch<'_> {
        CaseSketch {
            id: c.id,
            location: [c.incident.location.x(), c.incident.location.y()],
            category: c.incident.category.as_str(),
            reported: c.incident.reported_at.as_second(),
            open: c.state.status.is_open(),
        }
    }
    let me = book
        .cases
        .iter()
        .find(|c| c.id == id)
        .ok_or(CaseError::NotFound(id))?;
    let others: Vec<CaseSketch> = book.cases.iter().map(sketch).collect();
    Ok(duplicates(rule, &sketch(me), &others))
}

/// Suggested duplicates of case `id` among the open cases of the
/// snapshot (whose incidents carry each case's current status): only
/// reports of the same category within the rule's time window are looked
/// at closely, so nothing is read from the store.
///
/// ```
/// use gridgov_app::{Snapshot, cases::duplicates_in};
/// let s = Snapshot::build(gridgov_spatial::sample::district(&Default::default()), Default::default(), 1);
/// let d = duplicates_in(&s, &Default::default(), 1).unwrap();
/// assert!(d.iter().all(|x| x.id != 1 && x.distance_m <= 50.0));
/// assert!(duplicates_in(&s, &Default::default(), 0).is_err());
/// ```
pub fn duplicates_in(
    snap: &Snapshot,
    rule: &DuplicateRule,
    id: i64,
) -> Result<Vec<Duplicate>, CaseError> {
    fn sketch(id: i64, x: &Incident) -> CaseSketch<'_> {
        CaseSketch {
            id,
            location: [x.location.x(), x.location.y()],
            category: x.category.as_str(),
            reported: x.reported_at.as_second(),
            open: x.status.is_open(),
        }
    }
    let xs = &snap.district.incidents;
    let me = usize::try_from(id - 1)
        .ok()
        .and_then(|i| xs.get(i))
        .ok_or(CaseError::NotFound(id))?;
    let window = rule.window_hours * 3600.0;
    // Only the incidents of the grids near it can be within the radius.
    let (lon, lat) = (me.location.x(), me.location.y());
    let dy = rule.radius_m / 111_000.0 * 1.01;
    let dx = dy / lat.to_radians().cos().abs().max(0.01);
    let near = snap.incidents_near(geo::Rect::new(
        geo::coord! { x: lon - dx, y: lat - dy },
        geo::coord! { x: lon + dx, y: lat + dy },
    ));
    let others: Vec<CaseSketch> = near
        .into_iter()
        .filter_map(|i| xs.get(i).map(|x| (i, x)))
        .filter(|(_, x)| {
            x.category == me.category
                && x.status.is_open()
                && (x.reported_at.as_second() - me.reported_at.as_second()).abs() as f64 <= window
        })
        .map(|(i, x)| sketch(i as i64 + 1, x))
        .collect();
    Ok(duplicates(rule, &sketch(id, me), &others))
}
