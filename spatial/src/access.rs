//! Who may do what: roles, the grids a person serves, and the rule for
//! every kind of thing the system holds. Pure: the service asks it for
//! each request and each record; nothing here knows of HTTP or tokens.
//!
//! | role | maps, aggregates | boundaries | households | incidents |
//! |---|---|---|---|---|
//! | admin | read | read, write | read, write (full) | read, write |
//! | planner | read | read, write | — | — |
//! | command center | read | read | — | read |
//! | grid staff | read | read | own grids: read (full), write | own grids: read, write |
//! | department handler | — | — | — | dispatched to them: read, write |
//! | public | — | — | — | file; read their own |
//!
//! A grid's team is kept by admins and by the community's own accounts:
//! the grid staff of any grid of the same community.
//!
//! Command center and grid staff also file incidents (hotline calls,
//! patrols); grid staff act on incidents routed or dispatched to their
//! grids or to them by name, handlers on those dispatched to their
//! department or to them.
//!
//! Personal fields (names, phones, ID numbers) are shown in full only to
//! admins and to the grid staff of the household's grid; everyone else
//! who may read a household sees them masked ([`crate::mask`]).
//!
//! ```
//! use gridgov_spatial::access::{Principal, Role, Thing, Access, allows};
//! let staff = Principal::new("li", Role::GridStaff).with_grids(["370402005001001"]);
//! let mine = Thing::Household { grid: Some("370402005001001") };
//! let other = Thing::Household { grid: Some("370402005001002") };
//! assert!(allows(&staff, &mine, Access::Write));
//! assert!(!allows(&staff, &other, Access::Read));
//! ```

use serde::{Deserialize, Serialize};

use crate::workflow::Assignee;

/// A role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users and the audit log.
    Admin,
    /// Boundary drafts and publishing.
    Planner,
    /// All maps and aggregates, incidents; no personal fields.
    CommandCenter,
    /// Households, units and incidents of their assigned grids.
    GridStaff,
    /// The incidents dispatched to their department.
    DepartmentHandler,
    /// Residents: file and track incidents (Open311).
    Public,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Planner,
        Role::CommandCenter,
        Role::GridStaff,
        Role::DepartmentHandler,
        Role::Public,
    ];

    /// The role's name as written in the API and the CLI.
    ///
    /// ```
    /// use gridgov_spatial::access::Role;
    /// assert_eq!(Role::parse(Role::GridStaff.name()), Some(Role::GridStaff));
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Planner => "planner",
            Role::CommandCenter => "command_center",
            Role::GridStaff => "grid_staff",
            Role::DepartmentHandler => "department_handler",
            Role::Public => "public",
        }
    }

    /// The role of a name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == s)
    }
}

/// Someone acting: a user with a role, the grids they serve (grid
/// staff) and their department (handlers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// User name.
    pub user: String,
    /// Role.
    pub role: Role,
    /// Grid codes they serve (grid staff).
    #[serde(default)]
    pub grids: Vec<String>,
    /// Their department (department handlers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

impl Principal {
    /// A principal without grids or department.
    pub fn new(user: impl Into<String>, role: Role) -> Principal {
        Principal {
            user: user.into(),
            role,
            grids: Vec::new(),
            department: None,
        }
    }

    /// The same, serving `grids`.
    #[must_use]
    pub fn with_grids<S: Into<String>>(mut self, grids: impl IntoIterator<Item = S>) -> Principal {
        self.grids = grids.into_iter().map(Into::into).collect();
        self
    }

    /// The same, of `department`.
    #[must_use]
    pub fn with_department(mut self, department: impl Into<String>) -> Principal {
        self.department = Some(department.into());
        self
    }

    /// Whether they serve grid `code`.
    pub fn serves(&self, code: Option<&str>) -> bool {
        code.is_some_and(|c| self.grids.iter().any(|g| g == c))
    }
}

/// What is being read or written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Thing<'a> {
    /// Map tiles, the district's geometry, lookups of a point or address.
    Map,
    /// Counts, rates, hot spots, reports.
    Aggregate,
    /// Grid boundaries, drafts, versions.
    Boundary,
    /// A household (or unit roster) in a grid.
    Household {
        /// The grid it is in.
        grid: Option<&'a str>,
    },
    /// An incident.
    Incident {
        /// The grid it is routed to.
        grid: Option<&'a str>,
        /// Whom it is dispatched to.
        assignee: Option<&'a Assignee>,
        /// The user who filed it.
        filed_by: Option<&'a str>,
    },
    /// A grid's team (its staff members and roles).
    Team {
        /// The grid.
        grid: Option<&'a str>,
        /// Every grid of its community: the community's own accounts
        /// (grid staff of any of them) keep its grids' teams.
        community: &'a [&'a str],
    },
    /// Filing a new incident.
    NewIncident,
    /// Users, tokens and the audit log.
    Accounts,
}

impl Thing<'_> {
    /// The kind of thing, as a word (`map`, `incident`, …).
    ///
    /// ```
    /// use gridgov_spatial::access::Thing;
    /// assert_eq!(Thing::NewIncident.kind(), "new-incident");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Thing::Map => "map",
            Thing::Aggregate => "aggregate",
            Thing::Boundary => "boundary",
            Thing::Household { .. } => "household",
            Thing::Incident { .. } => "incident",
            Thing::Team { .. } => "team",
            Thing::NewIncident => "new-incident",
            Thing::Accounts => "accounts",
        }
    }
}

/// Reading or writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading.
    Read,
    /// Creating, changing or acting on.
    Write,
}

/// Whether `p` may have `access` to `thing` (see the module's table).
pub fn allows(p: &Principal, thing: &Thing<'_>, access: Access) -> bool {
    use Access::Read;
    match (p.role, thing) {
        (Role::Admin, _)
        | (Role::Planner, Thing::Map | Thing::Aggregate | Thing::Boundary)
        | (Role::CommandCenter | Role::GridStaff | Role::Public, Thing::NewIncident) => true,
        (
            Role::CommandCenter,
            Thing::Map | Thing::Aggregate | Thing::Boundary | Thing::Incident { .. },
        )
        | (Role::GridStaff, Thing::Map | Thing::Aggregate | Thing::Boundary) => access == Read,
        (Role::GridStaff, Thing::Household { grid }) => p.serves(*grid),
        (Role::GridStaff, Thing::Team { grid, community }) => {
            p.serves(*grid) || community.iter().any(|g| p.serves(Some(g)))
        }
        (Role::GridStaff, Thing::Incident { grid, assignee, .. }) => {
            p.serves(*grid)
                || matches!(assignee, Some(Assignee::Grid(g)) if p.serves(Some(g)))
                || matches!(assignee, Some(Assignee::Person(u)) if *u == p.user)
        }
        (Role::DepartmentHandler, Thing::Incident { assignee, .. }) => match assignee {
            Some(Assignee::Department(d)) => p.department.as_deref() == Some(d.as_str()),
            Some(Assignee::Person(u)) => *u == p.user,
            _ => false,
        },
        (Role::Public, Thing::Incident { filed_by, .. }) => {
            access == Read && *filed_by == Some(p.user.as_str())
        }
        _ => false,
    }
}

/// Whether `p` sees a household's personal fields in full: admins, and
/// the grid staff of its grid.
///
/// ```
/// use gridgov_spatial::access::{Principal, Role, sees_personal};
/// let cc = Principal::new("wall", Role::CommandCenter);
/// assert!(!sees_personal(&cc, Some("370402005001001")));
/// assert!(sees_personal(&Principal::new("root", Role::Admin), None));
/// ```
pub fn sees_personal(p: &Principal, grid: Option<&str>) -> bool {
    match p.role {
        Role::Admin => true,
        Role::GridStaff => p.serves(grid),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINE: &str = "G1";
    const OTHER: &str = "G2";

    fn people() -> Vec<Principal> {
        vec![
            Principal::new("root", Role::Admin),
            Principal::new("plan", Role::Planner),
            Principal::new("wall", Role::CommandCenter),
            Principal::new("li", Role::GridStaff).with_grids([MINE]),
            Principal::new("cg", Role::DepartmentHandler).with_department("城管"),
            Principal::new("resident", Role::Public),
        ]
    }

    #[test]
    fn the_matrix_of_roles_and_things_is_the_documented_one() {
        let dept = Assignee::Department("城管".into());
        let other_dept = Assignee::Department("住建".into());
        let things: Vec<(&str, Thing<'_>)> = vec![
            ("map", Thing::Map),
            ("aggregate", Thing::Aggregate),
            ("boundary", Thing::Boundary),
            ("household mine", Thing::Household { grid: Some(MINE) }),
            ("household other", Thing::Household { grid: Some(OTHER) }),
            (
                "incident mine",
                Thing::Incident {
                    grid: Some(MINE),
                    assignee: None,
                    filed_by: None,
                },
            ),
            (
                "incident other",
                Thing::Incident {
                    grid: Some(OTHER),
                    assignee: None,
                    filed_by: None,
                },
            ),
            (
                "incident dept",
                Thing::Incident {
                    grid: Some(OTHER),
                    assignee: Some(&dept),
                    filed_by: None,
                },
            ),
            (
                "incident other dept",
                Thing::Incident {
                    grid: Some(OTHER),
                    assignee: Some(&other_dept),
                    filed_by: None,
                },
            ),
            (
                "incident filed",
                Thing::Incident {
                    grid: Some(OTHER),
                    assignee: None,
                    filed_by: Some("resident"),
                },
            ),
            ("new incident", Thing::NewIncident),
            ("accounts", Thing::Accounts),
        ];
        // Per person: R (read only), W (read and write), - (nothing), in
        // the order of `things`.
        let want = [
            "WWWWWWWWWWWW",
            "WWW---------",
            "RRR--RRRRRW-",
            "RRRW-W----W-",
            "-------W----",
            "---------RW-",
        ];
        for (p, row) in people().iter().zip(want) {
            for ((name, t), c) in things.iter().zip(row.chars()) {
                let (r, w) = (allows(p, t, Access::Read), allows(p, t, Access::Write));
                let got = match (r, w) {
                    (true, true) => 'W',
                    (true, false) => 'R',
                    (false, false) => '-',
                    (false, true) => '?',
                };
                assert_eq!(got, c, "{} on {name}", p.role.name());
            }
        }
    }

    #[test]
    fn only_admins_and_the_grids_staff_see_personal_fields() {
        for p in people() {
            let mine = sees_personal(&p, Some(MINE));
            let other = sees_personal(&p, Some(OTHER));
            match p.role {
                Role::Admin => assert!(mine && other),
                Role::GridStaff => assert!(mine && !other),
                _ => assert!(!mine && !other, "{}", p.role.name()),
            }
        }
    }
}
