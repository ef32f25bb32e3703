//! The boundary of an area that has none of its own (a level derived
//! from the grids' attributes): the union of its children's boundaries,
//! down to the grids.
//!
//! ```
//! use gridgov_spatial::{Area, District, Level, dissolved};
//! let mut d = District::new("t");
//! let street = d.add_area(Area::new(Level::Street, "S", "街道"));
//! for (i, x) in [0.0, 1.0].into_iter().enumerate() {
//!     let mut g = Area::new(Level::Grid, format!("G{i}"), "网格");
//!     g.parent = Some(street);
//!     g.boundary = geo::MultiPolygon::new(vec![geo::Rect::new((x, 0.0), (x + 1.0, 1.0)).to_polygon()]);
//!     d.add_area(g);
//! }
//! let b = dissolved(&d, street);
//! assert_eq!(b.0.len(), 1, "two squares sharing an edge are one polygon");
//! assert!((geo::Area::unsigned_area(&b) - 2.0).abs() < 1e-12);
//! ```

use geo::MultiPolygon;

use crate::{AreaId, District};

/// `id`'s own boundary, or when it has none the union of its children's
/// (each by the same rule); empty when nothing below it has one.
pub fn dissolved(d: &District, id: AreaId) -> MultiPolygon<f64> {
    let own = &d.area(id).boundary;
    if !own.0.is_empty() {
        return own.clone();
    }
    let parts: Vec<MultiPolygon<f64>> = d
        .areas
        .iter()
        .enumerate()
        .filter(|(_, a)| a.parent == Some(id))
        .map(|(i, _)| dissolved(d, AreaId(i as u32)))
        .filter(|b| !b.0.is_empty())
        .collect();
    let polys: Vec<geo::Polygon<f64>> = parts.into_iter().flat_map(|m| m.0).collect();
    geo::unary_union(polys.iter())
}
