//! Households and units, changed in place: a household's room, headcount
//! and personal fields (checked: a resident ID number must pass its
//! birth-date and check-character test), a unit's label and household
//! count. Nothing moves, so the new snapshot shares every index.

use gridgov_spatial::{Household, HouseholdId, Unit, UnitId};

use crate::context::App;
use crate::ports::{StoreError, UnitChange};

/// Why a change was refused.
#[derive(Debug, thiserror::Error)]
pub enum HouseholdError {
    /// No such household or unit.
    #[error("{0}")]
    NotFound(String),
    /// A field's new value is not allowed.
    #[error("{message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The household changed since the version the change was based on
    /// (`If-Match`): nothing was written; this is it as it is now.
    #[error("household {} has changed since it was read (it is now {})", .id + 1, household_etag(.current))]
    Changed {
        /// Its index.
        id: usize,
        /// The household as it is now.
        current: Box<Household>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A household's version: a digest of what can change of it (room,
/// headcount and the personal fields), the same on every replica and
/// after a restart. Its `ETag`; a change sent with `If-Match` is applied
/// only to that version.
///
/// ```
/// use gridgov_app::households::household_etag;
/// let mut h = gridgov_spatial::sample::district(&Default::default()).households[0].clone();
/// let before = household_etag(&h);
/// assert_eq!(before, household_etag(&h.clone()));
/// h.headcount += 1;
/// assert_ne!(before, household_etag(&h));
/// assert!(before.starts_with("\"h-") && before.ends_with('"'));
/// ```
pub fn household_etag(h: &Household) -> String {
    use blake2::Digest;
    let mut d = blake2::Blake2b256::new();
    // Each field with its length, so that no two households run together.
    for field in [
        Some(h.room.as_str()),
        Some(&*h.headcount.to_string()),
        h.head_name.as_deref(),
        h.phone.as_deref(),
        h.id_number.as_deref(),
    ] {
        match field {
            None => d.update([0u8]),
            Some(s) => {
                d.update([1u8]);
                d.update((s.len() as u64).to_le_bytes());
                d.update(s.as_bytes());
            }
        }
    }
    let sum = d.finalize();
    let hex = crate::accounts::hex(&sum[..12]);
    format!("\"h-{hex}\"")
}

/// What changes in a household: `None` keeps a field; for the personal
/// fields `Some(None)` clears it.
#[allow(clippy::option_option)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdChange {
    /// The room (`301室`).
    pub room: Option<String>,
    /// How many people live there.
    pub headcount: Option<u16>,
    /// The head of the household's name.
    pub head_name: Option<Option<String>>,
    /// A phone number.
    pub phone: Option<Option<String>>,
    /// The head's resident ID number.
    pub id_number: Option<Option<String>>,
}

/// What changes in a unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitEdit {
    /// The label (`1单元`).
    pub label: Option<String>,
    /// Households in it.
    pub households: Option<u32>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> HouseholdError {
    HouseholdError::Invalid {
        field,
        message: message.into(),
    }
}

/// Checks a household's fields.
///
/// ```
/// use gridgov_app::households::check;
/// let mut h = gridgov_spatial::sample::district(&Default::default()).households[0].clone();
/// h.phone = Some("138-0000-0000".into());
/// assert!(check(&h).is_ok());
/// h.id_number = Some("370402199001011234".into()); // a wrong check character
/// assert!(check(&h).is_err());
/// ```
pub fn check(h: &Household) -> Result<(), HouseholdError> {
    let short = |v: Option<&str>, f: &'static str, n: usize| match v {
        Some(s) if s.chars().count() > n || s.chars().any(char::is_control) => Err(invalid(
            f,
            format!("{f} must be at most {n} printable characters"),
        )),
        _ => Ok(()),
    };
    short(Some(&h.room), "room", 32)?;
    short(h.head_name.as_deref(), "head_name", 64)?;
    short(h.phone.as_deref(), "phone", 32)?;
    if h.phone.as_deref().is_some_and(|p| {
        !p.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
    }) {
        return Err(invalid(
            "phone",
            "a phone number has digits, `+`, `-` and spaces only",
        ));
    }
    if let Some(n) = &h.id_number {
        gridgov_spatial::idcard::check_resident_id(n)
            .map_err(|e| invalid("id_number", e.to_string()))?;
    }
    Ok(())
}

/// `h` with change `c` applied, checked.
fn apply(mut h: Household, c: HouseholdChange) -> Result<Household, HouseholdError> {
    if let Some(r) = c.room {
        h.room = r;
    }
    if let Some(n) = c.headcount {
        h.headcount = n;
    }
    if let Some(n) = c.head_name {
        h.head_name = n;
    }
    if let Some(p) = c.phone {
        h.phone = p;
    }
    if let Some(n) = c.id_number {
        // One spelling in the store: a check character `x` is `X`.
        h.id_number = n.map(|n| n.to_ascii_uppercase());
    }
    check(&h)?;
    Ok(h)
}

impl App {
    /// Changes a household; it as it is now.
    pub fn change_household(
        &self,
        id: HouseholdId,
        c: HouseholdChange,
    ) -> Result<Household, HouseholdError> {
        self.change_household_if(id, c, None)
    }

    /// Changes a household if it is still at version `expected` (its
    /// [`household_etag`]; `None`: whatever it is): the check and the
    /// write are one step under the read model's lock, so of two changes
    /// from the same version one is applied and the other gets
    /// [`HouseholdError::Changed`] with the household as it is now.
    pub fn change_household_if(
        &self,
        id: HouseholdId,
        c: HouseholdChange,
        expected: Option<&str>,
    ) -> Result<Household, HouseholdError> {
        let i = id.index();
        let mut done = None;
        self.model
            .changed_in_place(|| -> Result<_, HouseholdError> {
                let cur = self.current();
                let Some(h) = cur.district.households.get(i) else {
                    return Ok(None);
                };
                if let Some(e) = expected
                    && household_etag(h) != e
                {
                    return Err(HouseholdError::Changed {
                        id: i,
                        current: Box::new(h.clone()),
                    });
                }
                let h = apply(h.clone(), c)?;
                if self.store.update_household(id, &h)? {
                    done = Some(h.clone());
                    Ok(Some(move |s: &crate::Snapshot| s.with_household(i, h)))
                } else {
                    Ok(None)
                }
            })?
            .ok_or_else(|| HouseholdError::NotFound(format!("there is no household {}", i + 1)))?;
        done.ok_or_else(|| HouseholdError::NotFound(format!("there is no household {}", i + 1)))
    }

    /// Changes a unit's label or household count; it as it is now.
    pub fn change_unit(&self, id: UnitId, c: UnitEdit) -> Result<Unit, HouseholdError> {
        if c.label.as_deref().is_some_and(|l| {
            l.trim().is_empty() || l.chars().count() > 32 || l.chars().any(char::is_control)
        }) {
            return Err(invalid(
                "label",
                "a unit label has 1 to 32 printable characters",
            ));
        }
        if c.households.is_some_and(|h| h > 10_000) {
            return Err(invalid(
                "households",
                "a unit has at most 10,000 households",
            ));
        }
        let i = id.index();
        let cur = self.current();
        let mut u = cur
            .district
            .units
            .get(i)
            .cloned()
            .ok_or_else(|| HouseholdError::NotFound(format!("there is no unit {}", i + 1)))?;
        if let Some(l) = c.label {
            u.label = l;
        }
        if let Some(h) = c.households {
            u.households = h;
        }
        let change = UnitChange {
            label: u.label.clone(),
            households: u.households,
        };
        self.model
            .changed_in_place(|| -> Result<_, HouseholdError> {
                if self.store.update_unit(id, &change)? {
                    let u2 = u.clone();
                    Ok(Some(move |s: &crate::Snapshot| s.with_unit(i, u2)))
                } else {
                    Ok(None)
                }
            })?
            .ok_or_else(|| HouseholdError::NotFound(format!("there is no unit {}", i + 1)))?;
        Ok(u)
    }

    /// After household `id` was changed by another process (a replica
    /// over the same database): the snapshot takes its row from the
    /// store, and the residents it counts for. Blocking.
    pub fn household_refreshed(&self, id: HouseholdId) -> Result<(), StoreError> {
        let i = id.index();
        self.model.changed_in_place(|| -> Result<_, StoreError> {
            Ok(self
                .store
                .household(id)?
                .map(|h| move |s: &crate::Snapshot| s.with_household(i, h)))
        })?;
        Ok(())
    }

    /// After unit `id`'s label or household count was changed by another
    /// process: the snapshot takes them from the store. Blocking.
    pub fn unit_refreshed(&self, id: UnitId) -> Result<(), StoreError> {
        let i = id.index();
        let Some(mut u) = self.current().district.units.get(i).cloned() else {
            return Ok(());
        };
        self.model.changed_in_place(|| -> Result<_, StoreError> {
            Ok(self.store.unit_change(id)?.map(|c| {
                u.label = c.label;
                u.households = c.households;
                move |s: &crate::Snapshot| s.with_unit(i, u)
            }))
        })?;
        Ok(())
    }
}
