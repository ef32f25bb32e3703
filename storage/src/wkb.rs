//! Geometries as the stores keep them. The WKB itself is read and
//! written by the `wkb` crate (georust); what is ours is the framing
//! around it, which no well-kept crate offers without a database driver
//! of its own:
//! - a GeoPackage blob is an 8-byte `GP` header (version, flags, SRS id)
//!   and an optional envelope before ISO WKB;
//! - PostGIS's extended WKB for `COPY` is WKB with an SRID flag in the
//!   type and the SRID after it.

use geo::{MultiPolygon, Point};
use geo_traits::to_geo::{ToGeoGeometry, ToGeoPoint};
use geo_traits::{GeometryTrait, GeometryType};
use gridgov_spatial::MapShape;
use wkb::Endianness;
use wkb::writer::WriteOptions;

/// Errors decoding a geometry blob.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WkbError {
    /// Not a GeoPackage blob.
    #[error("not a GeoPackage geometry blob: {0}")]
    Header(&'static str),
    /// The WKB inside is cut short or of an unexpected type.
    #[error("bad WKB: {0}")]
    Wkb(String),
}

/// The SRS id gridgov writes: WGS 84 longitude/latitude.
pub const SRS_WGS84: i32 = 4326;

const LE: WriteOptions = WriteOptions {
    endianness: Endianness::LittleEndian,
};

/// ISO WKB of a geometry, little-endian.
fn to_wkb(g: &impl GeometryTrait<T = f64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(wkb::writer::geometry_wkb_size(g));
    // Writing into a Vec cannot fail.
    let _ = wkb::writer::write_geometry(&mut out, g, &LE);
    out
}

fn header(out: &mut Vec<u8>, env: Option<[f64; 4]>, empty: bool) {
    out.extend_from_slice(b"GP");
    out.push(0); // version 1
    let env_flag: u8 = u8::from(env.is_some());
    out.push(1 | (env_flag << 1) | (u8::from(empty) << 4)); // little-endian header
    out.extend_from_slice(&SRS_WGS84.to_le_bytes());
    if let Some([minx, maxx, miny, maxy]) = env {
        for v in [minx, maxx, miny, maxy] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

/// Encodes a point.
pub fn point_blob(p: Point<f64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(29);
    header(&mut out, None, false);
    out.extend_from_slice(&to_wkb(&p));
    out
}

/// `[minx, maxx, miny, maxy]` of the exterior rings; `None` when empty.
fn mp_envelope(mp: &MultiPolygon<f64>) -> Option<[f64; 4]> {
    let mut env = [
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for c in mp.0.iter().flat_map(|p| &p.exterior().0) {
        env = [
            env[0].min(c.x),
            env[1].max(c.x),
            env[2].min(c.y),
            env[3].max(c.y),
        ];
    }
    env[0].is_finite().then_some(env)
}

/// Encodes a multipolygon with its envelope.
pub fn multi_polygon_blob(mp: &MultiPolygon<f64>) -> Vec<u8> {
    let mut out = Vec::new();
    header(&mut out, mp_envelope(mp), mp.0.is_empty());
    out.extend_from_slice(&to_wkb(mp));
    out
}

/// Where the WKB starts, and the header's envelope if it has one.
fn parse_header(b: &[u8]) -> Result<(usize, Option<[f64; 4]>, bool), WkbError> {
    if b.len() < 8 || &b[..2] != b"GP" {
        return Err(WkbError::Header("missing GP magic"));
    }
    let flags = b[3];
    let le = flags & 1 == 1;
    let empty = flags & 0x10 != 0;
    let env_len = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        _ => return Err(WkbError::Header("bad envelope indicator")),
    };
    if b.len() < 8 + env_len {
        return Err(WkbError::Header("cut short"));
    }
    let env = (env_len >= 32).then(|| {
        let f = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[8 + 8 * i..16 + 8 * i]);
            if le {
                f64::from_le_bytes(a)
            } else {
                f64::from_be_bytes(a)
            }
        };
        [f(0), f(1), f(2), f(3)]
    });
    Ok((8 + env_len, env, empty))
}

/// PostGIS extended WKB of a point in EPSG:4326.
pub fn point_ewkb(p: Point<f64>) -> Vec<u8> {
    ewkb_4326(&to_wkb(&p))
}

/// PostGIS extended WKB of a multipolygon in EPSG:4326.
pub fn multi_polygon_ewkb(mp: &MultiPolygon<f64>) -> Vec<u8> {
    ewkb_4326(&to_wkb(mp))
}

/// Little-endian WKB with the SRID flag and 4326 put in (EWKB).
fn ewkb_4326(wkb: &[u8]) -> Vec<u8> {
    let t = u32::from_le_bytes([wkb[1], wkb[2], wkb[3], wkb[4]]) | 0x2000_0000;
    let mut out = Vec::with_capacity(wkb.len() + 4);
    out.push(1);
    out.extend_from_slice(&t.to_le_bytes());
    out.extend_from_slice(&SRS_WGS84.to_le_bytes());
    out.extend_from_slice(&wkb[5..]);
    out
}

fn parse(b: &[u8]) -> Result<wkb::reader::Wkb<'_>, WkbError> {
    let g = wkb::reader::read_wkb(b).map_err(|e| WkbError::Wkb(e.to_string()))?;
    if g.dimension() != wkb::reader::Dimension::Xy {
        return Err(WkbError::Wkb("only 2D geometries are stored".into()));
    }
    Ok(g)
}

/// Decodes plain WKB (as `ST_AsBinary` gives it) holding a point.
pub fn read_point_wkb(b: &[u8]) -> Result<Point<f64>, WkbError> {
    match parse(b)?.as_type() {
        GeometryType::Point(p) => p
            .try_to_point()
            .ok_or_else(|| WkbError::Wkb("an empty point".into())),
        _ => Err(WkbError::Wkb("expected a Point".into())),
    }
}

/// Decodes plain WKB holding a polygon or multipolygon.
pub fn read_multi_polygon_wkb(b: &[u8]) -> Result<MultiPolygon<f64>, WkbError> {
    match parse(b)?.to_geometry() {
        geo::Geometry::MultiPolygon(mp) => Ok(mp),
        geo::Geometry::Polygon(p) => Ok(MultiPolygon::new(vec![p])),
        _ => Err(WkbError::Wkb("expected a (Multi)Polygon".into())),
    }
}

/// Decodes a blob holding a point.
pub fn read_point(b: &[u8]) -> Result<Point<f64>, WkbError> {
    let (start, _, _) = parse_header(b)?;
    read_point_wkb(&b[start..])
}

/// Decodes a blob holding a polygon or multipolygon.
pub fn read_multi_polygon(b: &[u8]) -> Result<MultiPolygon<f64>, WkbError> {
    let (start, _, empty) = parse_header(b)?;
    if empty && b.len() == start {
        return Ok(MultiPolygon::new(vec![]));
    }
    read_multi_polygon_wkb(&b[start..])
}

/// The envelope `[minx, maxx, miny, maxy]` of a blob (from its header, or
/// computed), `None` when empty — for the `ST_*` SQL functions the R-tree
/// triggers call.
pub fn envelope(b: &[u8]) -> Result<Option<[f64; 4]>, WkbError> {
    let (_, env, empty) = parse_header(b)?;
    if empty {
        return Ok(None);
    }
    if let Some(e) = env {
        return Ok(Some(e));
    }
    if let Ok(p) = read_point(b) {
        return Ok(Some([p.x(), p.x(), p.y(), p.y()]));
    }
    let (start, _, _) = parse_header(b)?;
    let g = parse(&b[start..])?.to_geometry();
    Ok(geo::BoundingRect::bounding_rect(&g).map(|r| [r.min().x, r.max().x, r.min().y, r.max().y]))
}

fn shape_geometry(s: &MapShape) -> geo::Geometry<f64> {
    match s {
        MapShape::Line(l) => geo::Geometry::LineString(l.clone()),
        MapShape::Area(mp) => geo::Geometry::MultiPolygon(mp.clone()),
        MapShape::Point(p) => geo::Geometry::Point(*p),
    }
}

/// Encodes a base-map shape (line, multipolygon or point) with its
/// envelope.
pub fn shape_blob(s: &MapShape) -> Vec<u8> {
    let g = shape_geometry(s);
    let env =
        geo::BoundingRect::bounding_rect(&g).map(|r| [r.min().x, r.max().x, r.min().y, r.max().y]);
    let mut out = Vec::new();
    header(&mut out, env, env.is_none());
    out.extend_from_slice(&to_wkb(&g));
    out
}

/// PostGIS extended WKB of a base-map shape in EPSG:4326.
pub fn shape_ewkb(s: &MapShape) -> Vec<u8> {
    ewkb_4326(&to_wkb(&shape_geometry(s)))
}

/// Decodes plain WKB holding a line, a (multi)polygon or a point.
pub fn read_shape_wkb(b: &[u8]) -> Result<MapShape, WkbError> {
    match parse(b)?.to_geometry() {
        geo::Geometry::LineString(l) => Ok(MapShape::Line(l)),
        geo::Geometry::MultiPolygon(mp) => Ok(MapShape::Area(mp)),
        geo::Geometry::Polygon(p) => Ok(MapShape::Area(MultiPolygon::new(vec![p]))),
        geo::Geometry::Point(p) => Ok(MapShape::Point(p)),
        _ => Err(WkbError::Wkb(
            "expected a LineString, (Multi)Polygon or Point".into(),
        )),
    }
}

/// Decodes a blob holding a base-map shape.
pub fn read_shape(b: &[u8]) -> Result<MapShape, WkbError> {
    let (start, _, _) = parse_header(b)?;
    read_shape_wkb(&b[start..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{line_string, polygon};

    #[test]
    fn points_and_multipolygons_round_trip() {
        let p = Point::new(117.55, 34.86);
        assert_eq!(read_point(&point_blob(p)).unwrap(), p);
        let mp = MultiPolygon::new(vec![polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 0.0)],
            interiors: [[(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0), (x: 1.0, y: 1.0)]],
        )]);
        let b = multi_polygon_blob(&mp);
        assert_eq!(read_multi_polygon(&b).unwrap(), mp);
        assert_eq!(envelope(&b).unwrap(), Some([0.0, 4.0, 0.0, 4.0]));
        assert_eq!(
            envelope(&point_blob(p)).unwrap(),
            Some([117.55, 117.55, 34.86, 34.86])
        );
        let empty = MultiPolygon::new(vec![]);
        assert_eq!(
            read_multi_polygon(&multi_polygon_blob(&empty)).unwrap(),
            empty
        );
    }

    #[test]
    fn base_map_lines_areas_and_points_round_trip_with_their_envelope() {
        let line =
            MapShape::Line(line_string![(x: 1.0, y: 2.0), (x: 3.0, y: -1.0), (x: 2.0, y: 5.0)]);
        let b = shape_blob(&line);
        assert_eq!(read_shape(&b).unwrap(), line);
        assert_eq!(envelope(&b).unwrap(), Some([1.0, 3.0, -1.0, 5.0]));
        let area = MapShape::Area(MultiPolygon::new(vec![
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.0)],
        ]));
        assert_eq!(read_shape(&shape_blob(&area)).unwrap(), area);
        let pt = MapShape::Point(Point::new(117.5, 34.8));
        assert_eq!(read_shape(&shape_blob(&pt)).unwrap(), pt);
        let e = shape_ewkb(&line);
        assert_eq!(u32::from_le_bytes([e[1], e[2], e[3], e[4]]), 0x2000_0002);
        // A line's blob without an envelope in its header still has one.
        let mut bare = b[..8].to_vec();
        bare[3] = 1;
        bare.extend_from_slice(&b[40..]);
        assert_eq!(envelope(&bare).unwrap(), Some([1.0, 3.0, -1.0, 5.0]));
    }

    #[test]
    fn the_wkb_is_what_the_spec_lays_out() {
        // ISO WKB of POINT (1 2), little-endian: order, type 1, x, y.
        let b = point_blob(Point::new(1.0, 2.0));
        let mut want = vec![1u8, 1, 0, 0, 0];
        want.extend_from_slice(&1f64.to_le_bytes());
        want.extend_from_slice(&2f64.to_le_bytes());
        assert_eq!(&b[8..], &want[..]);
        assert_eq!(&b[..8], b"GP\0\x01\xe6\x10\0\0");
    }

    #[test]
    fn extended_wkb_carries_the_srid_and_plain_wkb_reads_back() {
        let p = Point::new(117.55, 34.86);
        let e = point_ewkb(p);
        assert_eq!(&e[..5], &[1, 1, 0, 0, 0x20]);
        assert_eq!(&e[5..9], &4326i32.to_le_bytes());
        let mut plain = e[..1].to_vec();
        plain.extend_from_slice(&1u32.to_le_bytes());
        plain.extend_from_slice(&e[9..]);
        assert_eq!(read_point_wkb(&plain).unwrap(), p);
        let mp = MultiPolygon::new(vec![
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.0)],
        ]);
        let e = multi_polygon_ewkb(&mp);
        assert_eq!(u32::from_le_bytes([e[1], e[2], e[3], e[4]]), 0x2000_0006);
        let mut plain = e[..1].to_vec();
        plain.extend_from_slice(&6u32.to_le_bytes());
        plain.extend_from_slice(&e[9..]);
        assert_eq!(read_multi_polygon_wkb(&plain).unwrap(), mp);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(read_point(b"").is_err());
        assert!(read_point(b"GP\0\x01\0\0\0\0\x01\x01\0\0\0").is_err());
        let mut b = multi_polygon_blob(&MultiPolygon::new(vec![
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 0.0, y: 1.0)],
        ]));
        b.truncate(b.len() - 3);
        assert!(read_multi_polygon(&b).is_err());
        // A ring count far larger than the blob is refused before allocating.
        let mut b = multi_polygon_blob(&MultiPolygon::new(vec![
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 0.0, y: 1.0)],
        ]));
        let pos = 8 + 32 + 1 + 4 + 4 + 1 + 4 + 4; // first ring's point count
        b[pos..pos + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(read_multi_polygon(&b).is_err());
        // A point is not a multipolygon.
        assert!(read_multi_polygon(&point_blob(Point::new(1.0, 2.0))).is_err());
    }
}
