//! Building leaders (楼栋长): the level of the chain between a grid and
//! its units. Replaced as a whole list, checked (every problem named),
//! written to the store and then into the read model in place; a replica
//! told of the change reads that building's leaders again.

use gridgov_spatial::{Building, BuildingId, RoleScope, Roles, Staff};

use crate::context::App;
use crate::households::HouseholdError;
use crate::ports::StoreError;

/// The most leaders one building has.
pub const MAX_LEADERS: usize = 20;

/// Checks a building's leaders: at most [`MAX_LEADERS`], each with a name
/// (1–64 printable characters), a phone number (digits, `+`, `-`,
/// spaces; at most 32) and one of the district's `roles` for buildings;
/// every problem is named, with the leader's place in the list.
///
/// ```
/// use gridgov_app::leaders::check_leaders;
/// use gridgov_spatial::{Roles, Staff, StaffRole};
/// let roles = Roles::default();
/// let ok = Staff { role: StaffRole::BUILDING_LEADER, name: "王芳".into(), phone: "13800001234".into(), party_member: true };
/// assert!(check_leaders(&[ok.clone()], &roles).is_ok());
/// let bad = Staff { name: " ".into(), phone: "call".into(), ..ok };
/// let e = check_leaders(&[bad], &roles).unwrap_err().to_string();
/// assert!(e.contains("leader 1: a name") && e.contains("leader 1: phone"));
/// ```
pub fn check_leaders(xs: &[Staff], roles: &Roles) -> Result<(), HouseholdError> {
    let mut problems = Vec::new();
    if xs.len() > MAX_LEADERS {
        problems.push(format!(
            "a building has at most {MAX_LEADERS} leaders, not {}",
            xs.len()
        ));
    }
    for (i, s) in xs.iter().enumerate() {
        let n = i + 1;
        check_person(&format!("leader {n}"), s, &mut problems);
    }
    problems.extend(crate::roles::role_problems(
        roles,
        "leader",
        xs,
        RoleScope::Building,
    ));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(HouseholdError::Invalid {
            field: "leaders",
            message: problems.join("; "),
        })
    }
}

/// The problems of one person's name (1–64 printable characters) and
/// phone (digits, `+`, `-`, spaces; at most 32), each starting `who`:
/// shared by building leaders and grid teams.
pub(crate) fn check_person(who: &str, s: &Staff, problems: &mut Vec<String>) {
    let name = s.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        problems.push(format!("{who}: a name has 1 to 64 printable characters"));
    }
    let p = s.phone.trim();
    if p.is_empty()
        || p.chars().count() > 32
        || !p
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
    {
        problems.push(format!(
            "{who}: phone {p:?} is not a phone number (digits, `+`, `-` and spaces)"
        ));
    }
}

impl App {
    /// Replaces building `id`'s leaders (names and phones trimmed); the
    /// building as it is now. Blocking.
    pub fn change_building_leaders(
        &self,
        id: BuildingId,
        leaders: Vec<Staff>,
    ) -> Result<Building, HouseholdError> {
        check_leaders(&leaders, &self.current().district.roles)?;
        let leaders: Vec<Staff> = leaders
            .into_iter()
            .map(|s| Staff {
                name: s.name.trim().to_string(),
                phone: s.phone.trim().to_string(),
                ..s
            })
            .collect();
        let i = id.index();
        let missing = || HouseholdError::NotFound(format!("there is no building {}", i + 1));
        let mut b = self
            .current()
            .district
            .buildings
            .get(i)
            .cloned()
            .ok_or_else(missing)?;
        b.leaders = leaders;
        self.model
            .changed_in_place(|| -> Result<_, HouseholdError> {
                if self.store.update_building_leaders(id, &b.leaders)? {
                    let b2 = b.clone();
                    Ok(Some(move |s: &crate::Snapshot| s.with_building(i, b2)))
                } else {
                    Ok(None)
                }
            })?
            .ok_or_else(missing)?;
        Ok(b)
    }

    /// After building `id`'s leaders were changed by another process:
    /// the snapshot takes them from the store. Blocking.
    pub fn building_refreshed(&self, id: BuildingId) -> Result<(), StoreError> {
        let i = id.index();
        let Some(mut b) = self.current().district.buildings.get(i).cloned() else {
            return Ok(());
        };
        self.model.changed_in_place(|| -> Result<_, StoreError> {
            Ok(self.store.building_leaders(id)?.map(|l| {
                b.leaders = l;
                move |s: &crate::Snapshot| s.with_building(i, b)
            }))
        })?;
        Ok(())
    }
}
