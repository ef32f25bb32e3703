//! The district's list of staff roles: replaced as a whole by an admin,
//! checked (every problem named, a role still held by someone is not
//! removed nor moved from grids to buildings), written to the store and
//! into the read model in place; a replica told of the change reads the
//! list again.

use gridgov_spatial::{District, RoleScope, Roles, Staff};

use crate::context::App;
use crate::ports::StoreError;

/// Why a roles change was refused.
#[derive(Debug, thiserror::Error)]
pub enum RolesError {
    /// The list has problems: every one of them.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The problems of `staff` (`who` and a member's place name each) against
/// `roles`: a role not in the list, or one of the other scope.
///
/// ```
/// use gridgov_app::roles::role_problems;
/// use gridgov_spatial::{RoleScope, Roles, Staff, StaffRole};
/// let s = Staff { role: StaffRole::new("mayor"), name: "王芳".into(), phone: "1".into(), party_member: false };
/// let p = role_problems(&Roles::default(), "member", &[s], RoleScope::Grid);
/// assert!(p[0].contains("no role \"mayor\""));
/// ```
pub fn role_problems(roles: &Roles, who: &str, staff: &[Staff], scope: RoleScope) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, s) in staff.iter().enumerate() {
        let n = i + 1;
        match roles.get(&s.role) {
            None => problems.push(format!(
                "{who} {n}: the district has no role {:?} (GET /roles lists them)",
                s.role.as_str()
            )),
            Some(r) if r.scope != scope => problems.push(match scope {
                RoleScope::Grid => format!(
                    "{who} {n}: {} ({}) serves a building, not a grid's team: building leaders belong to their buildings (PUT /buildings/{{code}}/leaders)",
                    r.code, r.zh
                ),
                RoleScope::Building => format!(
                    "{who} {n}: {} ({}) is a role of a grid's team, not of a building's leaders",
                    r.code, r.zh
                ),
            }),
            Some(_) => {}
        }
    }
    problems
}

/// Every problem of replacing `d`'s roles with `roles`: the list's own,
/// and each role some grid's team or building's leaders hold that the new
/// list drops or gives the other scope (with how many hold it and where,
/// the first few named).
///
/// ```
/// use gridgov_app::roles::check_roles;
/// use gridgov_spatial::{Roles, sample};
/// let d = sample::district(&sample::SampleSpec::default());
/// assert!(check_roles(&d, &Roles::default()).is_empty());
/// let mut fewer = Roles::default();
/// fewer.0.retain(|r| r.code.as_str() != "volunteer");
/// assert!(check_roles(&d, &fewer)[0].contains("volunteer"));
/// ```
pub fn check_roles<'a>(d: &'a District, roles: &Roles) -> Vec<String> {
    let mut problems = roles.check();
    // (role, scope it is held in) → (how many, where, first few)
    let mut held: std::collections::BTreeMap<(&str, RoleScope), (usize, Vec<&str>)> =
        std::collections::BTreeMap::new();
    let mut note = |s: &'a Staff, scope, place: &'a str| {
        if roles.get(&s.role).is_some_and(|r| r.scope == scope) {
            return;
        }
        let e = held.entry((s.role.as_str(), scope)).or_default();
        e.0 += 1;
        if e.1.len() < 3 && !e.1.contains(&place) {
            e.1.push(place);
        }
    };
    for g in &d.areas {
        for s in &g.staff {
            note(s, RoleScope::Grid, g.code.as_str());
        }
    }
    for b in &d.buildings {
        for s in &b.leaders {
            note(s, RoleScope::Building, b.code.as_str());
        }
    }
    for ((code, scope), (n, places)) in held {
        let kind = match scope {
            RoleScope::Grid => "grid teams",
            RoleScope::Building => "building leaders",
        };
        let more = if n > places.len() { ", …" } else { "" };
        problems.push(format!(
            "role {code:?} is held by {n} of the {kind} ({}{more}): keep it (with scope {}) or change their roles first",
            places.join(", "),
            match scope {
                RoleScope::Grid => "grid",
                RoleScope::Building => "building",
            }
        ));
    }
    problems
}

impl App {
    /// The district's list of staff roles.
    pub fn roles(&self) -> Roles {
        self.current().district.roles.clone()
    }

    /// Replaces the district's list of staff roles (titles trimmed); the
    /// list as it is now. Blocking.
    pub fn change_roles(&self, roles: Roles) -> Result<Roles, RolesError> {
        let roles = roles.trimmed();
        self.model.changed_in_place(|| -> Result<_, RolesError> {
            let problems = check_roles(&self.current().district, &roles);
            if !problems.is_empty() {
                return Err(RolesError::Invalid(problems));
            }
            self.store.set_roles(&roles)?;
            let r = roles.clone();
            Ok(Some(move |s: &crate::Snapshot| s.with_roles(r)))
        })?;
        Ok(roles)
    }

    /// After another process changed the roles: the snapshot takes them
    /// from the store. Blocking.
    pub fn roles_refreshed(&self) -> Result<(), StoreError> {
        self.model.changed_in_place(|| -> Result<_, StoreError> {
            let r = self.store.roles()?;
            Ok(Some(move |s: &crate::Snapshot| s.with_roles(r)))
        })?;
        Ok(())
    }
}
