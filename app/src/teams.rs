//! Grid teams: a grid's staff members with their roles, replaced as a
//! whole list. A team change is published like a boundary change — a new
//! version of the grid, with its author and reason, kept in the grid's
//! history and restored by a rollback — so that who served a grid on a
//! given day is never lost.

use gridgov_spatial::edit::GridChange;
use gridgov_spatial::{RoleScope, Roles, Staff};

use crate::boundaries::BoundaryError;
use crate::context::App;
use crate::ports::VersionInfo;

/// The most members one grid's team has.
pub const MAX_TEAM: usize = 50;

/// Checks a grid's team: at most [`MAX_TEAM`], each with a name (1–64
/// printable characters), a phone number (digits, `+`, `-`, spaces; at
/// most 32) and one of the district's `roles` for a grid's team (building
/// leaders belong to their buildings); every problem is named with the
/// member's place.
///
/// ```
/// use gridgov_app::teams::check_team;
/// use gridgov_spatial::{Roles, Staff, StaffRole};
/// let roles = Roles::default();
/// let ok = Staff { role: StaffRole::GRID_WORKER, name: "王芳".into(), phone: "13800001234".into(), party_member: false };
/// assert!(check_team(&[ok.clone()], &roles).is_ok());
/// let bad = Staff { role: StaffRole::BUILDING_LEADER, phone: "call".into(), ..ok };
/// let e = check_team(&[bad], &roles).unwrap_err().to_string();
/// assert!(e.contains("member 1: phone") && e.contains("building leaders belong to their buildings"));
/// ```
pub fn check_team(xs: &[Staff], roles: &Roles) -> Result<(), BoundaryError> {
    let mut problems = Vec::new();
    if xs.len() > MAX_TEAM {
        problems.push(format!(
            "a grid's team has at most {MAX_TEAM} members, not {}",
            xs.len()
        ));
    }
    for (i, s) in xs.iter().enumerate() {
        let n = i + 1;
        crate::leaders::check_person(&format!("member {n}"), s, &mut problems);
    }
    problems.extend(crate::roles::role_problems(
        roles,
        "member",
        xs,
        RoleScope::Grid,
    ));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(BoundaryError::Invalid {
            field: "team".into(),
            message: problems.join("; "),
        })
    }
}

impl App {
    /// Replaces grid `code`'s team (names and phones trimmed), from the
    /// grid's version `base` the caller read, as a new version by
    /// `author` for `reason`. Blocking.
    pub fn change_team(
        &self,
        code: &str,
        base: i64,
        team: Vec<Staff>,
        author: &str,
        reason: &str,
    ) -> Result<VersionInfo, BoundaryError> {
        let snap = self.current();
        check_team(&team, &snap.district.roles)?;
        let id = snap
            .district
            .area_by_code(code)
            .filter(|&g| snap.district.area(g).level == gridgov_spatial::Level::Grid)
            .ok_or_else(|| BoundaryError::NotFound(format!("no grid {code:?}")))?;
        let team = team
            .into_iter()
            .map(|s| Staff {
                name: s.name.trim().to_owned(),
                phone: s.phone.trim().to_owned(),
                ..s
            })
            .collect();
        let change = GridChange {
            code: code.to_owned(),
            boundary: Some(snap.district.area(id).boundary.clone()),
            name: None,
            parent_code: None,
            kind: None,
            staff: Some(team),
        };
        self.publish_team(author, reason, change, base)
    }
}
