//! The roles of the people who serve grids and buildings: a configurable
//! list (a district keeps its own in its store), with the streets' "three
//! leaders and three members" and the professional forces that "enter the
//! grid" as the defaults.
//!
//! A role is a stable code (`grid_worker`) with a Chinese and an English
//! title and a scope: a grid's team or a building's leaders. Removing a
//! role from the list is refused while anyone holds it.
//!
//! ```
//! use gridgov_spatial::i18n::Lang;
//! use gridgov_spatial::{RoleDef, RoleScope, Roles, StaffRole};
//! let mut roles = Roles::default();
//! assert_eq!(roles.title(&StaffRole::GRID_LEADER, Lang::Zh), "网格长");
//! roles.0.push(RoleDef::new("property_manager", "物业经理", "Property manager", RoleScope::Grid));
//! assert!(roles.check().is_empty());
//! assert_eq!(roles.title(&StaffRole::new("property_manager"), Lang::En), "Property manager");
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// The code of a staff member's role, one of the district's [`Roles`].
///
/// ```
/// use gridgov_spatial::StaffRole;
/// assert_eq!(StaffRole::new("grid_worker"), StaffRole::GRID_WORKER);
/// assert_eq!(StaffRole::GRID_WORKER.as_str(), "grid_worker");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StaffRole(Cow<'static, str>);

impl StaffRole {
    /// 网格长: the grid leader (the community secretary).
    pub const GRID_LEADER: StaffRole = StaffRole::fixed("grid_leader");
    /// 网格员: the full-time grid worker.
    pub const GRID_WORKER: StaffRole = StaffRole::fixed("grid_worker");
    /// 网格指导员: a street cadre instructing the grid.
    pub const INSTRUCTOR: StaffRole = StaffRole::fixed("instructor");
    /// 楼栋长: answers for one building ("red building leader" when a
    /// party member).
    pub const BUILDING_LEADER: StaffRole = StaffRole::fixed("building_leader");
    /// 志愿网格员: a resident volunteering in the grid.
    pub const VOLUNTEER: StaffRole = StaffRole::fixed("volunteer");
    /// 社区民警: the community police officer who enters the grid.
    pub const COMMUNITY_POLICE: StaffRole = StaffRole::fixed("community_police");
    /// 法律顾问: the legal adviser who enters the grid.
    pub const LEGAL_ADVISER: StaffRole = StaffRole::fixed("legal_adviser");
    /// 综合执法队员: administrative law enforcement entering the grid.
    pub const LAW_ENFORCEMENT: StaffRole = StaffRole::fixed("law_enforcement");
    /// 应急管理员: emergency management entering the grid.
    pub const EMERGENCY_MANAGEMENT: StaffRole = StaffRole::fixed("emergency_management");

    const fn fixed(code: &'static str) -> StaffRole {
        StaffRole(Cow::Borrowed(code))
    }

    /// A role by its code (whether the district knows it is for
    /// [`Roles::get`] to say).
    pub fn new(code: impl Into<String>) -> StaffRole {
        StaffRole(Cow::Owned(code.into()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whom a role serves: a grid's team or one building.
///
/// ```
/// use gridgov_spatial::RoleScope;
/// assert_eq!(RoleScope::default(), RoleScope::Grid);
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RoleScope {
    /// A member of a grid's team.
    #[default]
    Grid,
    /// A leader of one building.
    Building,
}

/// One role of the list: its code, titles and scope.
///
/// ```
/// use gridgov_spatial::{RoleDef, RoleScope};
/// let r = RoleDef::new("property_manager", "物业经理", "Property manager", RoleScope::Grid);
/// assert_eq!(r.code.as_str(), "property_manager");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDef {
    /// The stable code the API and the store use.
    pub code: StaffRole,
    /// The Chinese title shown to users.
    pub zh: String,
    /// The English title.
    pub en: String,
    /// A grid's team or a building's leaders.
    #[serde(default)]
    pub scope: RoleScope,
}

impl RoleDef {
    /// A role.
    pub fn new(code: &str, zh: &str, en: &str, scope: RoleScope) -> RoleDef {
        RoleDef {
            code: StaffRole::new(code),
            zh: zh.to_string(),
            en: en.to_string(),
            scope,
        }
    }

    /// The title in `lang`.
    pub fn title(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// The most roles a district's list holds.
pub const MAX_ROLES: usize = 64;

/// A district's list of roles, in the order a team is listed.
///
/// ```
/// use gridgov_spatial::{Roles, StaffRole};
/// let r = Roles::default();
/// assert_eq!(r.0.len(), 9);
/// assert!(r.order(&StaffRole::GRID_LEADER) < r.order(&StaffRole::VOLUNTEER));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Roles(pub Vec<RoleDef>);

impl Default for Roles {
    /// The streets' roles: the "three leaders and three members" (grid
    /// leader, instructor, grid worker, building leader, volunteer) and
    /// the forces that enter the grid.
    fn default() -> Roles {
        use RoleScope::{Building, Grid};
        let role = |code: &str, scope| RoleDef {
            code: StaffRole::new(code),
            zh: crate::i18n::label(Lang::Zh, "staff", code).into_owned(),
            en: crate::i18n::label(Lang::En, "staff", code).into_owned(),
            scope,
        };
        Roles(vec![
            role("grid_leader", Grid),
            role("instructor", Grid),
            role("grid_worker", Grid),
            role("building_leader", Building),
            role("volunteer", Grid),
            role("community_police", Grid),
            role("legal_adviser", Grid),
            role("law_enforcement", Grid),
            role("emergency_management", Grid),
        ])
    }
}

impl Roles {
    /// Whether this is the default list.
    pub fn is_default(&self) -> bool {
        *self == Roles::default()
    }

    /// The role with this code.
    pub fn get(&self, code: &StaffRole) -> Option<&RoleDef> {
        self.0.iter().find(|r| r.code == *code)
    }

    /// The title of `code` in `lang`; the code as words for a role the
    /// list does not hold.
    pub fn title(&self, code: &StaffRole, lang: Lang) -> String {
        self.get(code).map_or_else(
            || code.as_str().replace('_', " "),
            |r| r.title(lang).to_string(),
        )
    }

    /// Where `code` comes in the list (unknown roles last): teams are
    /// listed in this order.
    pub fn order(&self, code: &StaffRole) -> usize {
        self.0
            .iter()
            .position(|r| r.code == *code)
            .unwrap_or(self.0.len())
    }

    /// Every problem of the list: at most [`MAX_ROLES`]; codes of 1–40
    /// lower-case ASCII letters, digits and `_` starting with a letter,
    /// each once; Chinese and English titles of 1–32 printable characters;
    /// at least one role for building leaders.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.0.len() > MAX_ROLES {
            problems.push(format!(
                "a district has at most {MAX_ROLES} roles, not {}",
                self.0.len()
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, r) in self.0.iter().enumerate() {
            let n = i + 1;
            let c = r.code.as_str();
            let good = !c.is_empty()
                && c.len() <= 40
                && c.starts_with(|ch: char| ch.is_ascii_lowercase())
                && c.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            if !good {
                problems.push(format!(
                    "role {n}: code {c:?} is not 1 to 40 lower-case letters, digits and `_` starting with a letter"
                ));
            } else if !seen.insert(c) {
                problems.push(format!("role {n}: code {c:?} is listed twice"));
            }
            for (lang, title) in [("zh", &r.zh), ("en", &r.en)] {
                let t = title.trim();
                if t.is_empty() || t.chars().count() > 32 || t.chars().any(char::is_control) {
                    problems.push(format!(
                        "role {n} ({c}): the {lang} title has 1 to 32 printable characters"
                    ));
                }
            }
        }
        if !self.0.iter().any(|r| r.scope == RoleScope::Building) {
            problems.push("the list needs a role for building leaders (scope building)".into());
        }
        problems
    }

    /// The list with titles trimmed.
    #[must_use]
    pub fn trimmed(self) -> Roles {
        Roles(
            self.0
                .into_iter()
                .map(|r| RoleDef {
                    zh: r.zh.trim().to_string(),
                    en: r.en.trim().to_string(),
                    ..r
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_roles_are_titled_from_the_catalogues_in_chinese_and_english() {
        let r = Roles::default();
        assert_eq!(r.title(&StaffRole::INSTRUCTOR, Lang::Zh), "网格指导员");
        assert_eq!(r.title(&StaffRole::INSTRUCTOR, Lang::En), "grid instructor");
        for d in &r.0 {
            assert_ne!(
                d.zh,
                d.code.as_str().replace('_', " "),
                "{} has no title",
                d.code
            );
        }
        assert!(r.check().is_empty());
    }

    #[test]
    fn a_bad_list_names_every_problem() {
        let mut r = Roles::default();
        r.0.push(RoleDef::new("Grid Leader", "", "x", RoleScope::Grid));
        r.0.push(RoleDef::new("volunteer", "志愿者", "", RoleScope::Grid));
        r.0.retain(|x| x.scope == RoleScope::Grid);
        let p = r.check().join("\n");
        assert!(p.contains("code \"Grid Leader\" is not"), "{p}");
        assert!(p.contains("the zh title"), "{p}");
        assert!(p.contains("\"volunteer\" is listed twice"), "{p}");
        assert!(p.contains("the en title"), "{p}");
        assert!(p.contains("building leaders"), "{p}");
    }

    #[test]
    fn a_role_serialises_as_its_code() {
        let s = serde_json::to_string(&StaffRole::GRID_WORKER).unwrap();
        assert_eq!(s, "\"grid_worker\"");
        let back: StaffRole = serde_json::from_str("\"property_manager\"").unwrap();
        assert_eq!(back.as_str(), "property_manager");
        let roles: Roles = serde_json::from_str(
            r#"[{"code":"x","zh":"某","en":"X"},{"code":"b","zh":"楼长","en":"B","scope":"building"}]"#,
        )
        .unwrap();
        assert_eq!(roles.0[0].scope, RoleScope::Grid);
        assert!(roles.check().is_empty());
    }
}
