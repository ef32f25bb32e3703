//! Serde helpers that write geometries as GeoJSON coordinate arrays:
//! a point as `[lon, lat]`, a multipolygon as `[[[[lon, lat], …]]]`.
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct S { #[serde(with = "gridgov_spatial::geom_serde::point")] p: geo::Point<f64> }
//! let s: S = serde_json::from_str(r#"{"p":[117.5,34.8]}"#).unwrap();
//! assert_eq!(s.p.x(), 117.5);
//! ```

/// `Point<f64>` as `[x, y]`.
pub mod point {
    use geo::Point;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes `[x, y]`.
    pub fn serialize<S: Serializer>(p: &Point<f64>, s: S) -> Result<S::Ok, S::Error> {
        [p.x(), p.y()].serialize(s)
    }

    /// Reads `[x, y]`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Point<f64>, D::Error> {
        let [x, y] = <[f64; 2]>::deserialize(d)?;
        Ok(Point::new(x, y))
    }
}

/// `MultiPolygon<f64>` as GeoJSON MultiPolygon coordinates.
pub mod multi_polygon {
    use geo::{Coord, LineString, MultiPolygon, Polygon};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Rings = Vec<Vec<[f64; 2]>>;

    /// Writes `[[[[x, y], …], …], …]`.
    pub fn serialize<S: Serializer>(mp: &MultiPolygon<f64>, s: S) -> Result<S::Ok, S::Error> {
        let v: Vec<Rings> =
            mp.0.iter()
                .map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|r| r.0.iter().map(|c| [c.x, c.y]).collect())
                        .collect()
                })
                .collect();
        v.serialize(s)
    }

    /// Reads `[[[[x, y], …], …], …]`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<MultiPolygon<f64>, D::Error> {
        let v = Vec::<Rings>::deserialize(d)?;
        let ring = |r: Vec<[f64; 2]>| {
            LineString::new(r.into_iter().map(|[x, y]| Coord { x, y }).collect())
        };
        Ok(MultiPolygon::new(
            v.into_iter()
                .filter(|rings| !rings.is_empty())
                .map(|rings| {
                    let mut it = rings.into_iter();
                    let ext = it.next().map_or_else(|| LineString::new(vec![]), ring);
                    Polygon::new(ext, it.map(ring).collect())
                })
                .collect(),
        ))
    }
}

/// `LineString<f64>` as GeoJSON LineString coordinates `[[x, y], …]`.
pub mod line_string {
    use geo::{Coord, LineString};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes `[[x, y], …]`.
    pub fn serialize<S: Serializer>(l: &LineString<f64>, s: S) -> Result<S::Ok, S::Error> {
        let v: Vec<[f64; 2]> = l.0.iter().map(|c| [c.x, c.y]).collect();
        v.serialize(s)
    }

    /// Reads `[[x, y], …]`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LineString<f64>, D::Error> {
        let v = Vec::<[f64; 2]>::deserialize(d)?;
        Ok(LineString::new(
            v.into_iter().map(|[x, y]| Coord { x, y }).collect(),
        ))
    }
}
