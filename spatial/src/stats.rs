//! Counts per grid, and rolled up per community and street.
//!
//! ```
//! use gridgov_spatial::{assign, sample, stats, GridIndex};
//! let d = sample::district(&sample::SampleSpec::default());
//! let a = assign(&d, &GridIndex::new(&d));
//! let s = stats(&d, &a);
//! let street = s.iter().find(|r| r.level == gridgov_spatial::Level::Street).unwrap();
//! assert_eq!(street.counts.buildings, 453);
//! ```

use serde::Serialize;

use crate::{AreaId, Assignment, District, GridKind, Level};

/// How many of each thing an area holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Grids (for communities and streets).
    pub grids: usize,
    /// Buildings.
    pub buildings: usize,
    /// Units.
    pub units: usize,
    /// Households.
    pub households: usize,
    /// Residents (sum of household headcounts).
    pub residents: usize,
    /// Merchants.
    pub merchants: usize,
    /// Cameras.
    pub cameras: usize,
    /// All incidents.
    pub incidents: usize,
    /// Incidents still open.
    pub open_incidents: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.grids += o.grids;
        self.buildings += o.buildings;
        self.units += o.units;
        self.households += o.households;
        self.residents += o.residents;
        self.merchants += o.merchants;
        self.cameras += o.cameras;
        self.incidents += o.incidents;
        self.open_incidents += o.open_incidents;
    }
}

/// One row of the statistics table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaStats {
    /// The area.
    pub id: AreaId,
    /// Its level.
    pub level: Level,
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Basic or exclusive (grids).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<GridKind>,
    /// The counts.
    pub counts: Counts,
}

/// Counts for every area, streets first, then communities, then grids,
/// each by code. Entities outside every grid count for the nearest grid.
pub fn stats(d: &District, a: &Assignment) -> Vec<AreaStats> {
    let mut per = vec![Counts::default(); d.areas.len()];
    let mut add = |g: Option<AreaId>, f: &dyn Fn(&mut Counts)| {
        if let Some(g) = g {
            f(&mut per[g.index()]);
        }
    };
    for b in &a.buildings {
        add(b.placement.responsible(), &|c| c.buildings += 1);
    }
    for (u, p) in d.units.iter().zip(&a.units) {
        let _ = u;
        add(p.responsible(), &|c| c.units += 1);
    }
    for (h, p) in d.households.iter().zip(&a.households) {
        let n = usize::from(h.headcount);
        add(p.responsible(), &|c| {
            c.households += 1;
            c.residents += n;
        });
    }
    for p in &a.merchants {
        add(p.responsible(), &|c| c.merchants += 1);
    }
    for p in &a.cameras {
        add(p.responsible(), &|c| c.cameras += 1);
    }
    for (i, p) in d.incidents.iter().zip(&a.incidents) {
        let open = i.status.is_open();
        add(p.responsible(), &|c| {
            c.incidents += 1;
            c.open_incidents += usize::from(open);
        });
    }
    for g in d.grids() {
        per[g.index()].grids = 1;
    }
    // Roll up: grids into communities, communities into streets.
    for level in [Level::Grid, Level::Community] {
        for id in d.areas_at(level).collect::<Vec<_>>() {
            if let Some(p) = d.area(id).parent {
                let c = per[id.index()];
                per[p.index()] += c;
            }
        }
    }
    let mut rows: Vec<AreaStats> = d
        .areas
        .iter()
        .enumerate()
        .map(|(i, a)| AreaStats {
            id: AreaId(i as u32),
            level: a.level,
            code: a.code.clone(),
            name: a.name.clone(),
            kind: a.kind,
            counts: per[i],
        })
        .collect();
    rows.sort_by(|x, y| x.level.cmp(&y.level).then_with(|| x.code.cmp(&y.code)));
    rows
}
