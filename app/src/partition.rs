//! Proposed grids for a community ([`gridgov_spatial::partition`]) over
//! the current snapshot, and the proposal as an ordinary draft: validated,
//! previewed and published like any other.

use std::collections::HashMap;

use gridgov_spatial::Level;
use gridgov_spatial::cancel::Cancel;
use gridgov_spatial::partition::{PartitionError, PartitionOptions, Proposal, partition};

use crate::App;
use crate::boundaries::{BoundaryError, ChangeIn, DraftIn};

fn invalid(field: &str, message: String) -> BoundaryError {
    BoundaryError::Invalid {
        field: field.to_owned(),
        message,
    }
}

/// A partition's failure as a boundary error: bad options name their
/// field, a stop is a stop.
fn partition_error(e: &PartitionError) -> BoundaryError {
    match e {
        PartitionError::BadBand { .. } | PartitionError::TooManyGrids { .. } => {
            invalid("min", e.to_string())
        }
        PartitionError::NotACommunity(_) => invalid("community", e.to_string()),
        PartitionError::NoBoundary(_) | PartitionError::Cells(_) => BoundaryError::Unacceptable {
            field: "community".into(),
            message: e.to_string(),
        },
        PartitionError::Cancelled(c) => BoundaryError::Cancelled(*c),
    }
}

/// The proposal as a draft body (`POST /drafts`): each reshaped or new
/// grid with its GeoJSON boundary and the version it was proposed from,
/// each removed grid as a removal.
///
/// ```
/// use gridgov_app::partition::draft_of;
/// use gridgov_spatial::partition::{Proposal, PartitionOptions, PartitionMetrics};
/// let p = Proposal { community: "C".into(), community_name: "社区".into(), options: PartitionOptions::default(),
///     grids: vec![], metrics: PartitionMetrics::default(), today: PartitionMetrics::default(), notes: vec![], runtime_ms: 0.0 };
/// let d = draft_of(&p, "", &std::collections::HashMap::new());
/// assert!(d.changes.is_empty() && d.reason.contains("社区"));
/// ```
pub fn draft_of<S: std::hash::BuildHasher>(
    p: &Proposal,
    reason: &str,
    versions: &HashMap<String, i64, S>,
) -> DraftIn {
    let changes = p
        .changes()
        .into_iter()
        .map(|c| ChangeIn {
            base_version: versions.get(&c.code).copied(),
            geometry: c
                .boundary
                .as_ref()
                .map(|b| serde_json::to_value(geojson::Geometry::from(b)).unwrap_or_default()),
            remove: c.boundary.is_none(),
            name: c.name,
            parent_code: c.parent_code,
            kind: c.kind,
            code: c.code,
        })
        .collect();
    let reason = if reason.trim().is_empty() {
        format!(
            "{}网格自动划分（每格 {}–{} 户）",
            p.community_name, p.options.min, p.options.max
        )
    } else {
        reason.to_owned()
    };
    DraftIn {
        author: String::new(),
        reason,
        effective_date: None,
        changes,
    }
}

impl App {
    /// Proposes basic grids for the community `code` over the current
    /// snapshot.
    pub fn propose_grids(
        &self,
        code: &str,
        opts: &PartitionOptions,
        cancel: &Cancel,
    ) -> Result<(Proposal, HashMap<String, i64>), BoundaryError> {
        let snap = self.current();
        let d = &snap.district;
        let id = d
            .area_by_code(code)
            .ok_or_else(|| BoundaryError::NotFound(format!("no community {code:?}")))?;
        if d.area(id).level != Level::Community {
            return Err(invalid(
                "community",
                format!("{code} is a {}, not a community", d.area(id).level.as_str()),
            ));
        }
        let p =
            partition(d, &snap.assignment, id, opts, cancel).map_err(|e| partition_error(&e))?;
        Ok((p, (*snap.grid_versions).clone()))
    }
}
