//! The base map under the grids: roads, water and place names, as
//! planners draw grids along streets and grid staff read street names on
//! the map. Imported from OpenStreetMap (or generated for the sample);
//! they do not belong to any grid and nothing is assigned to them.
//!
//! ```
//! use gridgov_spatial::{MapFeature, MapKind, MapShape};
//! let road = MapFeature::road("振兴街", "secondary", vec![(117.55, 34.85), (117.55, 34.87)]);
//! assert_eq!(road.kind, MapKind::Road);
//! assert!(matches!(road.shape, MapShape::Line(_)));
//! assert!(road.is_major());
//! ```

use geo::{Coord, LineString, MultiPolygon, Point};
use serde::{Deserialize, Serialize};

use crate::geom_serde;

/// What a base-map feature is.
///
/// ```
/// use gridgov_spatial::MapKind;
/// assert_eq!(MapKind::Water.as_str(), "water");
/// assert_eq!("place".parse::<MapKind>(), Ok(MapKind::Place));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapKind {
    /// A road, street, lane or path (`class`: OSM's `highway` value).
    Road,
    /// A river or canal (a line) or a lake, pond or riverbank (an area);
    /// `class`: OSM's `waterway`, `natural` or `landuse` value.
    Water,
    /// A named place: neighbourhood, estate, square (`class`: OSM's
    /// `place` value).
    Place,
}

impl MapKind {
    /// The name used in the store and the tiles.
    pub fn as_str(self) -> &'static str {
        match self {
            MapKind::Road => "road",
            MapKind::Water => "water",
            MapKind::Place => "place",
        }
    }
}

impl std::str::FromStr for MapKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "road" => Ok(MapKind::Road),
            "water" => Ok(MapKind::Water),
            "place" => Ok(MapKind::Place),
            other => Err(format!(
                "unknown base-map kind {other:?} (road, water, place)"
            )),
        }
    }
}

/// The geometry of a base-map feature, in longitude/latitude.
///
/// ```
/// use gridgov_spatial::MapShape;
/// let s: MapShape = serde_json::from_str(r#"{"point":[117.5,34.8]}"#).unwrap();
/// assert!(matches!(s, MapShape::Point(p) if p.x() == 117.5));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapShape {
    /// A road's or river's centre line.
    Line(#[serde(with = "geom_serde::line_string")] LineString<f64>),
    /// A lake's or riverbank's area.
    Area(#[serde(with = "geom_serde::multi_polygon")] MultiPolygon<f64>),
    /// A place name's position.
    Point(#[serde(with = "geom_serde::point")] Point<f64>),
}

/// A road, a water body or a place name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapFeature {
    /// Road, water or place.
    pub kind: MapKind,
    /// The finer class (`primary`, `residential`, `river`, `neighbourhood`…).
    pub class: String,
    /// The name shown on the map (Chinese where the source has it); may
    /// be empty.
    #[serde(default)]
    pub name: String,
    /// The geometry.
    pub shape: MapShape,
    /// Where it came from (`osm:way/123`), if imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Road classes drawn from the lowest zooms on (through roads).
const MAJOR: [&str; 10] = [
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
];

/// Road classes that are paths rather than streets.
const MINOR: [&str; 10] = [
    "service",
    "trail",
    "footway",
    "path",
    "cycleway",
    "pedestrian",
    "steps",
    "track",
    "bridleway",
    "corridor",
];

impl MapFeature {
    /// A road along `points` (longitude, latitude).
    pub fn road(name: &str, class: &str, points: Vec<(f64, f64)>) -> Self {
        MapFeature {
            kind: MapKind::Road,
            class: class.to_owned(),
            name: name.to_owned(),
            shape: MapShape::Line(LineString::new(
                points.into_iter().map(|(x, y)| Coord { x, y }).collect(),
            )),
            source: None,
        }
    }

    /// Whether this is a through road (motorway to tertiary).
    pub fn is_major(&self) -> bool {
        self.kind == MapKind::Road && MAJOR.contains(&self.class.as_str())
    }

    /// Whether this is a service road or a path (footway, cycleway, steps…).
    ///
    /// ```
    /// use gridgov_spatial::MapFeature;
    /// assert!(MapFeature::road("", "footway", vec![(0.0, 0.0), (0.0, 1e-4)]).is_minor());
    /// assert!(!MapFeature::road("", "residential", vec![(0.0, 0.0), (0.0, 1e-4)]).is_minor());
    /// ```
    pub fn is_minor(&self) -> bool {
        self.kind == MapKind::Road && MINOR.contains(&self.class.as_str())
    }
}
