//! Mapbox Vector Tile 2.1 encoding and decoding. The protobuf messages are
//! declared with `prost` (the schema is small and stable); geometry
//! commands, zig-zag deltas and ring winding follow the specification:
//! exterior rings have positive area by the surveyor's formula in tile
//! coordinates (y down), holes negative.

use std::collections::HashMap;

use prost::Message;

/// A vector tile.
#[derive(Clone, PartialEq, Message)]
pub struct Tile {
    /// Its layers.
    #[prost(message, repeated, tag = "3")]
    pub layers: Vec<Layer>,
}

/// A property value.
#[derive(Clone, PartialEq, Message)]
pub struct Value {
    /// String.
    #[prost(string, optional, tag = "1")]
    pub string_value: Option<String>,
    /// Float.
    #[prost(float, optional, tag = "2")]
    pub float_value: Option<f32>,
    /// Double.
    #[prost(double, optional, tag = "3")]
    pub double_value: Option<f64>,
    /// Signed integer.
    #[prost(int64, optional, tag = "4")]
    pub int_value: Option<i64>,
    /// Unsigned integer.
    #[prost(uint64, optional, tag = "5")]
    pub uint_value: Option<u64>,
    /// Zig-zag integer.
    #[prost(sint64, optional, tag = "6")]
    pub sint_value: Option<i64>,
    /// Boolean.
    #[prost(bool, optional, tag = "7")]
    pub bool_value: Option<bool>,
}

/// Geometry type of a feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum GeomType {
    /// Unknown.
    Unknown = 0,
    /// (Multi)point.
    Point = 1,
    /// (Multi)linestring.
    LineString = 2,
    /// (Multi)polygon.
    Polygon = 3,
}

/// A feature.
#[derive(Clone, PartialEq, Message)]
pub struct Feature {
    /// Id.
    #[prost(uint64, optional, tag = "1")]
    pub id: Option<u64>,
    /// Pairs of key and value indices.
    #[prost(uint32, repeated, packed = "true", tag = "2")]
    pub tags: Vec<u32>,
    /// Geometry type.
    #[prost(enumeration = "GeomType", optional, tag = "3")]
    pub r#type: Option<i32>,
    /// Command-encoded geometry.
    #[prost(uint32, repeated, packed = "true", tag = "4")]
    pub geometry: Vec<u32>,
}

/// A layer.
#[derive(Clone, PartialEq, Message)]
pub struct Layer {
    /// Specification version (2).
    #[prost(uint32, required, tag = "15")]
    pub version: u32,
    /// Name.
    #[prost(string, required, tag = "1")]
    pub name: String,
    /// Features.
    #[prost(message, repeated, tag = "2")]
    pub features: Vec<Feature>,
    /// Property keys.
    #[prost(string, repeated, tag = "3")]
    pub keys: Vec<String>,
    /// Property values.
    #[prost(message, repeated, tag = "4")]
    pub values: Vec<Value>,
    /// Extent (units per tile side).
    #[prost(uint32, optional, tag = "5")]
    pub extent: Option<u32>,
}

/// A property of a feature being encoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Prop {
    /// Text.
    Str(String),
    /// Integer.
    Int(i64),
    /// Number.
    Num(f64),
}

impl From<&str> for Prop {
    fn from(s: &str) -> Self {
        Prop::Str(s.to_string())
    }
}
impl From<String> for Prop {
    fn from(s: String) -> Self {
        Prop::Str(s)
    }
}
impl From<i64> for Prop {
    fn from(v: i64) -> Self {
        Prop::Int(v)
    }
}
impl From<f64> for Prop {
    fn from(v: f64) -> Self {
        Prop::Num(v)
    }
}

/// FxHash (as in rustc): keys here are short strings and small numbers
/// from our own data, so a fast non-keyed hash is the right trade.
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K> = HashMap<K, u32, std::hash::BuildHasherDefault<Fx>>;

/// Builds one layer: keys and values shared between features.
pub struct LayerBuilder {
    name: String,
    extent: u32,
    /// Encoded `Feature` messages, each with its field tag and length.
    features: Vec<u8>,
    count: usize,
    keys: Vec<String>,
    values: Vec<Value>,
    strs: FxMap<String>,
    ints: FxMap<i64>,
    nums: FxMap<u64>,
    /// Scratch space reused between features.
    tags: Vec<u32>,
    geom: Vec<u32>,
    ring: Vec<[i32; 2]>,
    msg: Vec<u8>,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field: tag, length, bytes.
fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_varint(out, u64::from(field << 3 | 2));
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A packed repeated `uint32` field.
fn put_packed(out: &mut Vec<u8>, field: u32, vs: &[u32]) {
    if vs.is_empty() {
        return;
    }
    let len: usize = vs
        .iter()
        .map(|&v| prost::encoding::encoded_len_varint(u64::from(v)))
        .sum();
    put_varint(out, u64::from(field << 3 | 2));
    put_varint(out, len as u64);
    for &v in vs {
        put_varint(out, u64::from(v));
    }
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

fn unzigzag(v: u32) -> i32 {
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

fn command(id: u32, count: u32) -> u32 {
    (id & 7) | (count << 3)
}

/// A MoveTo to the part's first point and a LineTo through the rest,
/// relative to `cursor`, which ends at the last point.
fn put_part(g: &mut Vec<u32>, cursor: &mut [i32; 2], part: &[[i32; 2]]) {
    g.push(command(1, 1));
    g.push(zigzag(part[0][0] - cursor[0]));
    g.push(zigzag(part[0][1] - cursor[1]));
    *cursor = part[0];
    g.push(command(2, (part.len() - 1) as u32));
    for p in &part[1..] {
        g.push(zigzag(p[0] - cursor[0]));
        g.push(zigzag(p[1] - cursor[1]));
        *cursor = *p;
    }
}

fn area2(ring: &[[i32; 2]]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let a = ring[i];
            let b = ring[(i + 1) % n];
            i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
        })
        .sum()
}

impl LayerBuilder {
    /// A new layer named `name` with `extent` units per tile side.
    ///
    /// ```
    /// use gridgov_tiles::mvt::{LayerBuilder, decode};
    /// let mut l = LayerBuilder::new("grids", 4096);
    /// l.add_polygons(1, &[vec![vec![[0, 0], [0, 100], [100, 100], [100, 0]]]], &[("code", "g1".into())]);
    /// let bytes = gridgov_tiles::mvt::encode(vec![l]);
    /// let t = decode(&bytes).unwrap();
    /// assert_eq!(t.layers[0].features.len(), 1);
    /// ```
    pub fn new(name: &str, extent: u32) -> Self {
        LayerBuilder {
            name: name.to_string(),
            extent,
            features: Vec::new(),
            count: 0,
            keys: Vec::new(),
            values: Vec::new(),
            strs: FxMap::default(),
            ints: FxMap::default(),
            nums: FxMap::default(),
            tags: Vec::new(),
            geom: Vec::new(),
            ring: Vec::new(),
            msg: Vec::new(),
        }
    }

    /// How many features so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Interns `props` into the layer's keys and values; the tags go to
    /// `self.tags`.
    fn tags(&mut self, props: &[(&str, Prop)]) {
        self.tags.clear();
        for (k, v) in props {
            // A layer has a handful of keys: a scan beats hashing.
            let ki = if let Some(i) = self.keys.iter().position(|x| x == k) {
                i as u32
            } else {
                self.keys.push((*k).to_string());
                (self.keys.len() - 1) as u32
            };
            let next = self.values.len() as u32;
            let found = match v {
                Prop::Str(s) => self.strs.get(s.as_str()).copied(),
                Prop::Int(i) => self.ints.get(i).copied(),
                Prop::Num(x) => self.nums.get(&x.to_bits()).copied(),
            };
            let vi = found.unwrap_or_else(|| {
                let value = match v {
                    Prop::Str(s) => {
                        self.strs.insert(s.clone(), next);
                        Value {
                            string_value: Some(s.clone()),
                            ..Value::default()
                        }
                    }
                    Prop::Int(i) => {
                        self.ints.insert(*i, next);
                        Value {
                            sint_value: Some(*i),
                            ..Value::default()
                        }
                    }
                    Prop::Num(x) => {
                        self.nums.insert(x.to_bits(), next);
                        Value {
                            double_value: Some(*x),
                            ..Value::default()
                        }
                    }
                };
                self.values.push(value);
                next
            });
            self.tags.push(ki);
            self.tags.push(vi);
        }
    }

    /// Writes the feature whose tags and geometry are in the scratch space.
    fn push_feature(&mut self, id: u64, kind: GeomType) {
        let m = &mut self.msg;
        m.clear();
        put_varint(m, 1 << 3);
        put_varint(m, id);
        put_packed(m, 2, &self.tags);
        put_varint(m, 3 << 3);
        put_varint(m, kind as u64);
        put_packed(m, 4, &self.geom);
        put_bytes(&mut self.features, 2, m);
        self.count += 1;
    }

    /// The encoded `Layer` message.
    fn into_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.features.len() + 64 * self.values.len() + 64);
        put_varint(&mut out, 15 << 3);
        put_varint(&mut out, 2);
        put_bytes(&mut out, 1, self.name.as_bytes());
        out.extend_from_slice(&self.features);
        for k in &self.keys {
            put_bytes(&mut out, 3, k.as_bytes());
        }
        for v in &self.values {
            put_bytes(&mut out, 4, &v.encode_to_vec());
        }
        put_varint(&mut out, 5 << 3);
        put_varint(&mut out, u64::from(self.extent));
        out
    }

    /// Adds a (multi)polygon: polygons of rings (exterior first) in tile
    /// units, unclosed. Rings are rewound as the specification requires;
    /// rings with no area are dropped; nothing is added when no exterior
    /// is left.
    pub fn add_polygons(
        &mut self,
        id: u64,
        polygons: &[Vec<Vec<[i32; 2]>>],
        props: &[(&str, Prop)],
    ) {
        self.geom.clear();
        let mut cursor = [0i32, 0i32];
        for poly in polygons {
            for (ri, ring) in poly.iter().enumerate() {
                let r = &mut self.ring;
                r.clear();
                for p in ring {
                    if r.last() != Some(p) {
                        r.push(*p);
                    }
                }
                while r.len() > 1 && r.first() == r.last() {
                    r.pop();
                }
                let a = if r.len() >= 3 { area2(r) } else { 0 };
                if a == 0 {
                    if ri == 0 {
                        break; // no exterior: skip the polygon's holes too
                    }
                    continue;
                }
                let exterior = ri == 0;
                if (a > 0) != exterior {
                    r.reverse();
                }
                put_part(&mut self.geom, &mut cursor, r);
                self.geom.push(command(7, 1));
            }
        }
        if self.geom.is_empty() {
            return;
        }
        self.tags(props);
        self.push_feature(id, GeomType::Polygon);
    }

    /// Adds a (multi)line in tile units; repeated points are dropped and
    /// parts shorter than two points left out; nothing is added when no
    /// part is left.
    ///
    /// ```
    /// use gridgov_tiles::mvt::{LayerBuilder, decode, encode, geometry};
    /// let mut l = LayerBuilder::new("roads", 4096);
    /// l.add_lines(3, &[vec![[0, 0], [0, 0], [10, 5], [20, 5]], vec![[7, 7]]], &[("name", "振兴街".into())]);
    /// let t = decode(&encode(vec![l])).unwrap();
    /// assert_eq!(t.layers[0].features[0].r#type, Some(2));
    /// assert_eq!(geometry(&t.layers[0].features[0]).unwrap(), vec![vec![[0, 0], [10, 5], [20, 5]]]);
    /// ```
    pub fn add_lines(&mut self, id: u64, lines: &[Vec<[i32; 2]>], props: &[(&str, Prop)]) {
        self.geom.clear();
        let mut cursor = [0i32, 0i32];
        for line in lines {
            let r = &mut self.ring;
            r.clear();
            for p in line {
                if r.last() != Some(p) {
                    r.push(*p);
                }
            }
            if r.len() < 2 {
                continue;
            }
            put_part(&mut self.geom, &mut cursor, r);
        }
        if self.geom.is_empty() {
            return;
        }
        self.tags(props);
        self.push_feature(id, GeomType::LineString);
    }

    /// Adds a point in tile units.
    pub fn add_point(&mut self, id: u64, p: [i32; 2], props: &[(&str, Prop)]) {
        self.tags(props);
        self.geom.clear();
        self.geom
            .extend_from_slice(&[command(1, 1), zigzag(p[0]), zigzag(p[1])]);
        self.push_feature(id, GeomType::Point);
    }
}

/// Encodes layers into a tile; empty layers are left out. The bytes are
/// written directly (the same wire format the [`Tile`] message decodes).
pub fn encode(layers: Vec<LayerBuilder>) -> Vec<u8> {
    let mut out = Vec::new();
    for l in layers.into_iter().filter(|l| !l.is_empty()) {
        put_bytes(&mut out, 3, &l.into_bytes());
    }
    out
}

/// Decodes a tile.
pub fn decode(bytes: &[u8]) -> Result<Tile, prost::DecodeError> {
    Tile::decode(bytes)
}

/// A feature's geometry decoded into parts of points in tile units: one
/// part per point for points, one per ring for polygons (closing point
/// not repeated). `None` when the commands are malformed.
///
/// ```
/// use gridgov_tiles::mvt::{LayerBuilder, decode, geometry};
/// let mut l = LayerBuilder::new("p", 4096);
/// l.add_point(7, [10, 20], &[]);
/// let t = decode(&gridgov_tiles::mvt::encode(vec![l])).unwrap();
/// assert_eq!(geometry(&t.layers[0].features[0]).unwrap(), vec![vec![[10, 20]]]);
/// ```
pub fn geometry(f: &Feature) -> Option<Vec<Vec<[i32; 2]>>> {
    let g = &f.geometry;
    let mut parts: Vec<Vec<[i32; 2]>> = Vec::new();
    let (mut x, mut y) = (0i32, 0i32);
    let mut i = 0;
    while i < g.len() {
        let (id, count) = (g[i] & 7, g[i] >> 3);
        i += 1;
        match id {
            1 | 2 => {
                for _ in 0..count {
                    x += unzigzag(*g.get(i)?);
                    y += unzigzag(*g.get(i + 1)?);
                    i += 2;
                    if id == 1 {
                        parts.push(vec![[x, y]]);
                    } else {
                        parts.last_mut()?.push([x, y]);
                    }
                }
            }
            7 => {}
            _ => return None,
        }
    }
    Some(parts)
}

/// Twice the signed area of a decoded ring (positive for an exterior).
pub fn ring_area2(ring: &[[i32; 2]]) -> i64 {
    area2(ring)
}

/// A feature's properties as `(key, value)` text, for tests and tools.
pub fn properties(layer: &Layer, f: &Feature) -> HashMap<String, String> {
    f.tags
        .chunks(2)
        .filter_map(|kv| {
            let k = layer.keys.get(kv[0] as usize)?;
            let v = layer.values.get(*kv.get(1)? as usize)?;
            let text = v
                .string_value
                .clone()
                .or_else(|| v.sint_value.map(|x| x.to_string()))
                .or_else(|| v.int_value.map(|x| x.to_string()))
                .or_else(|| v.uint_value.map(|x| x.to_string()))
                .or_else(|| v.double_value.map(|x| x.to_string()))
                .or_else(|| v.float_value.map(|x| x.to_string()))
                .or_else(|| v.bool_value.map(|x| x.to_string()))?;
            Some((k.clone(), text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_round_trips() {
        for v in [0, 1, -1, 2, -2, 4095, -4096, i32::MAX / 2, i32::MIN / 2] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    #[test]
    fn polygons_are_rewound_exterior_positive_holes_negative() {
        let mut l = LayerBuilder::new("t", 4096);
        // Exterior given anticlockwise in tile coordinates, hole clockwise: both wrong.
        let ext = vec![[0, 0], [0, 100], [100, 100], [100, 0]];
        let hole = vec![[20, 20], [80, 20], [80, 80], [20, 80]];
        assert!(area2(&ext) < 0);
        l.add_polygons(
            1,
            &[vec![ext, hole]],
            &[("k", "v".into()), ("n", Prop::Int(-3))],
        );
        let t = decode(&encode(vec![l])).unwrap();
        let f = &t.layers[0].features[0];
        let rings = geometry(f).unwrap();
        assert_eq!(rings.len(), 2);
        assert!(ring_area2(&rings[0]) > 0);
        assert!(ring_area2(&rings[1]) < 0);
        let p = properties(&t.layers[0], f);
        assert_eq!(p["k"], "v");
        assert_eq!(p["n"], "-3");
        assert_eq!(t.layers[0].version, 2);
    }

    #[test]
    fn degenerate_rings_are_dropped_and_empty_layers_left_out() {
        let mut l = LayerBuilder::new("t", 4096);
        l.add_polygons(1, &[vec![vec![[0, 0], [0, 0], [0, 0]]]], &[]);
        assert!(l.is_empty());
        assert!(decode(&encode(vec![l])).unwrap().layers.is_empty());
    }
}
