//! Which building a point is in: an R-tree of building footprints' boxes,
//! then the exact test of [`crate::pip`] on the candidates.
//!
//! # The rule
//! A point on a wall two buildings share belongs to the building east of
//! it (north on an east–west wall), as for grids. Where bad data makes two
//! footprints overlap, the point belongs to the smaller footprint (a
//! building drawn inside another), then to the lower building id.
//!
//! ```
//! use gridgov_spatial::{sample, BuildingIndex};
//! let d = sample::district(&sample::SampleSpec::default());
//! let idx = BuildingIndex::new(&d);
//! let b = &d.buildings[7];
//! let c = geo::InteriorPoint::interior_point(&b.footprint).unwrap();
//! assert_eq!(idx.at(&d, c.x(), c.y()).map(|b| b.index()), Some(7));
//! assert_eq!(idx.at(&d, 0.0, 0.0), None);
//! ```

use geo::{Area, BoundingRect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::{BuildingId, District};

type Item = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Point → building over one district's footprints.
#[derive(Debug, Clone, Default)]
pub struct BuildingIndex {
    tree: RTree<Item>,
}

impl BuildingIndex {
    /// Indexes every building of `d` that has a footprint.
    pub fn new(d: &District) -> BuildingIndex {
        let items: Vec<Item> = d
            .buildings
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let r = b.footprint.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i as u32,
                ))
            })
            .collect();
        BuildingIndex {
            tree: RTree::bulk_load(items),
        }
    }

    /// How many buildings are indexed.
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    /// Whether no building is indexed.
    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// The building `(lon, lat)` is in, by the rule of this module;
    /// `None` outside every footprint. `d` is the district indexed.
    pub fn at(&self, d: &District, lon: f64, lat: f64) -> Option<BuildingId> {
        if !(lon.is_finite() && lat.is_finite()) {
            return None;
        }
        let env = AABB::from_point([lon, lat]);
        let mut best: Option<(f64, u32)> = None;
        for it in self.tree.locate_in_envelope_intersecting(&env) {
            let i = it.data;
            let Some(b) = d.buildings.get(i as usize) else {
                continue;
            };
            if !b
                .footprint
                .0
                .iter()
                .any(|p| crate::pip::contains(p, lon, lat))
            {
                continue;
            }
            let area = b.footprint.unsigned_area();
            let better = match best {
                None => true,
                Some((a, j)) => area < a || (area == a && i < j),
            };
            if better {
                best = Some((area, i));
            }
        }
        best.map(|(_, i)| BuildingId(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Building, Rng, sample};
    use geo::{MultiPolygon, polygon};

    fn brute(d: &District, lon: f64, lat: f64) -> Option<BuildingId> {
        let mut best: Option<(f64, usize)> = None;
        for (i, b) in d.buildings.iter().enumerate() {
            if b.footprint
                .0
                .iter()
                .any(|p| crate::pip::contains(p, lon, lat))
            {
                let a = b.footprint.unsigned_area();
                if best.is_none_or(|(ba, _)| a < ba) {
                    best = Some((a, i));
                }
            }
        }
        best.map(|(_, i)| BuildingId(i as u32))
    }

    #[test]
    fn the_index_agrees_with_brute_force_on_seeded_points_in_and_around_buildings() {
        let d = sample::district(&sample::SampleSpec::default());
        let idx = BuildingIndex::new(&d);
        assert_eq!(idx.len(), d.buildings.len());
        let mut rng = Rng::new(20_261_204);
        let mut inside = 0;
        for k in 0..4000 {
            let b = &d.buildings[rng.below(d.buildings.len() as u64) as usize];
            let r = b.footprint.bounding_rect().unwrap();
            // Points in a box twice the building's, and some on its corners.
            let (w, h) = (r.width(), r.height());
            let (x, y) = if k % 10 == 0 {
                let c = b.footprint.0[0].exterior().0[k % 4];
                (c.x, c.y)
            } else {
                (
                    r.min().x - w / 2.0 + rng.f64() * 2.0 * w,
                    r.min().y - h / 2.0 + rng.f64() * 2.0 * h,
                )
            };
            let got = idx.at(&d, x, y);
            assert_eq!(got, brute(&d, x, y), "({x}, {y})");
            inside += usize::from(got.is_some());
        }
        assert!(inside > 500, "{inside}");
    }

    fn building(code: &str, p: geo::Polygon<f64>) -> Building {
        Building {
            code: code.into(),
            address: code.into(),
            floors: 3,
            footprint: MultiPolygon(vec![p]),
            source: None,
            leaders: Vec::new(),
        }
    }

    #[test]
    fn a_point_on_a_shared_wall_is_in_the_building_east_of_it_and_overlaps_go_to_the_smaller() {
        let mut d = District::new("t");
        d.buildings.push_back(building(
            "west",
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)],
        ));
        d.buildings.push_back(building(
            "east",
            polygon![(x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0)],
        ));
        d.buildings.push_back(building(
            "inner",
            polygon![(x: 0.2, y: 0.2), (x: 0.4, y: 0.2), (x: 0.4, y: 0.4), (x: 0.2, y: 0.4)],
        ));
        let idx = BuildingIndex::new(&d);
        let code = |x, y| {
            idx.at(&d, x, y)
                .map(|b| d.buildings[b.index()].code.clone())
        };
        assert_eq!(code(1.0, 0.5).as_deref(), Some("east"));
        assert_eq!(code(0.3, 0.3).as_deref(), Some("inner"));
        assert_eq!(code(0.7, 0.7).as_deref(), Some("west"));
        assert_eq!(code(2.5, 0.5), None);
        assert_eq!(code(f64::NAN, 0.5), None);
    }
}
