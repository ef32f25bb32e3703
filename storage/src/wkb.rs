//! GeoPackage geometry blobs: the `GP` header (with envelope) followed by
//! ISO WKB, little-endian. Reads points, polygons and multipolygons in
//! either byte order.

use geo::{Coord, LineString, MultiPolygon, Point, Polygon};

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

fn ring(out: &mut Vec<u8>, r: &LineString<f64>) {
    out.extend_from_slice(&(r.0.len() as u32).to_le_bytes());
    for c in &r.0 {
        out.extend_from_slice(&c.x.to_le_bytes());
        out.extend_from_slice(&c.y.to_le_bytes());
    }
}

/// Encodes a point.
pub fn point_blob(p: Point<f64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(29);
    header(&mut out, None, false);
    out.push(1);
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&p.x().to_le_bytes());
    out.extend_from_slice(&p.y().to_le_bytes());
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
    let empty = mp.0.is_empty();
    let mut out = Vec::new();
    header(&mut out, mp_envelope(mp), empty);
    out.push(1);
    out.extend_from_slice(&6u32.to_le_bytes());
    out.extend_from_slice(&(mp.0.len() as u32).to_le_bytes());
    for p in &mp.0 {
        out.push(1);
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(1 + p.interiors().len() as u32).to_le_bytes());
        ring(&mut out, p.exterior());
        for h in p.interiors() {
            ring(&mut out, h);
        }
    }
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

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    le: bool,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], WkbError> {
        let s = self
            .b
            .get(self.pos..self.pos + n)
            .ok_or_else(|| WkbError::Wkb("cut short".into()))?;
        self.pos += n;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, WkbError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(if self.le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }
    fn f64(&mut self) -> Result<f64, WkbError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(if self.le {
            f64::from_le_bytes(a)
        } else {
            f64::from_be_bytes(a)
        })
    }
    /// Byte order and geometry type; dimensions beyond XY are rejected.
    fn start(&mut self) -> Result<u32, WkbError> {
        self.le = self.take(1)?[0] == 1;
        let t = self.u32()?;
        if t > 7 {
            return Err(WkbError::Wkb(format!(
                "geometry type {t} (only 2D is supported)"
            )));
        }
        Ok(t)
    }
    fn ring(&mut self) -> Result<LineString<f64>, WkbError> {
        let n = self.u32()? as usize;
        if n > self.b.len() / 16 {
            return Err(WkbError::Wkb("ring longer than the blob".into()));
        }
        (0..n)
            .map(|_| {
                Ok(Coord {
                    x: self.f64()?,
                    y: self.f64()?,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(LineString::new)
    }
    fn polygon_body(&mut self) -> Result<Polygon<f64>, WkbError> {
        let n = self.u32()? as usize;
        if n == 0 {
            return Ok(Polygon::new(LineString::new(vec![]), vec![]));
        }
        let ext = self.ring()?;
        let holes = (1..n).map(|_| self.ring()).collect::<Result<Vec<_>, _>>()?;
        Ok(Polygon::new(ext, holes))
    }
}

/// PostGIS extended WKB of a point in EPSG:4326.
pub fn point_ewkb(p: Point<f64>) -> Vec<u8> {
    ewkb_4326(&point_blob(p))
}

/// PostGIS extended WKB of a multipolygon in EPSG:4326.
pub fn multi_polygon_ewkb(mp: &MultiPolygon<f64>) -> Vec<u8> {
    ewkb_4326(&multi_polygon_blob(mp))
}

/// The WKB inside a GeoPackage blob written by this module, with the SRID
/// flag and 4326 put in (EWKB, little-endian).
fn ewkb_4326(blob: &[u8]) -> Vec<u8> {
    let env_len = if blob[3] & 0b10 != 0 { 32 } else { 0 };
    let wkb = &blob[8 + env_len..];
    let t = u32::from_le_bytes([wkb[1], wkb[2], wkb[3], wkb[4]]) | 0x2000_0000;
    let mut out = Vec::with_capacity(wkb.len() + 4);
    out.push(1);
    out.extend_from_slice(&t.to_le_bytes());
    out.extend_from_slice(&SRS_WGS84.to_le_bytes());
    out.extend_from_slice(&wkb[5..]);
    out
}

/// Decodes plain WKB (as `ST_AsBinary` gives it) holding a point.
pub fn read_point_wkb(b: &[u8]) -> Result<Point<f64>, WkbError> {
    point_body(&mut Reader {
        b,
        pos: 0,
        le: true,
    })
}

/// Decodes plain WKB holding a polygon or multipolygon.
pub fn read_multi_polygon_wkb(b: &[u8]) -> Result<MultiPolygon<f64>, WkbError> {
    multi_polygon_body(&mut Reader {
        b,
        pos: 0,
        le: true,
    })
}

fn point_body(r: &mut Reader<'_>) -> Result<Point<f64>, WkbError> {
    match r.start()? {
        1 => Ok(Point::new(r.f64()?, r.f64()?)),
        t => Err(WkbError::Wkb(format!("expected a Point, found type {t}"))),
    }
}

fn multi_polygon_body(r: &mut Reader<'_>) -> Result<MultiPolygon<f64>, WkbError> {
    match r.start()? {
        3 => Ok(MultiPolygon::new(vec![r.polygon_body()?])),
        6 => {
            let n = r.u32()? as usize;
            let mut polys = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                if r.start()? != 3 {
                    return Err(WkbError::Wkb("multipolygon member is not a polygon".into()));
                }
                polys.push(r.polygon_body()?);
            }
            Ok(MultiPolygon::new(polys))
        }
        t => Err(WkbError::Wkb(format!(
            "expected a (Multi)Polygon, found type {t}"
        ))),
    }
}

/// Decodes a blob holding a point.
pub fn read_point(b: &[u8]) -> Result<Point<f64>, WkbError> {
    let (start, _, _) = parse_header(b)?;
    point_body(&mut Reader {
        b,
        pos: start,
        le: true,
    })
}

/// Decodes a blob holding a polygon or multipolygon.
pub fn read_multi_polygon(b: &[u8]) -> Result<MultiPolygon<f64>, WkbError> {
    let (start, _, empty) = parse_header(b)?;
    if empty && b.len() == start {
        return Ok(MultiPolygon::new(vec![]));
    }
    multi_polygon_body(&mut Reader {
        b,
        pos: start,
        le: true,
    })
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
    let mp = read_multi_polygon(b)?;
    Ok(mp_envelope(&mp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

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
    }
}
