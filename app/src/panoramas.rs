//! 360° panoramas: equirectangular pictures (2:1) with where they were
//! taken and which way their centre faces, kept in the store drawn again
//! without metadata (no EXIF, no GPS) with a thumbnail, and what each one
//! sees ([`gridgov_spatial::panorama::view`]).
//!
//! A position and heading not given with the picture are read from its
//! EXIF (GPS latitude and longitude, GPS image direction, the time it was
//! taken) where the camera wrote them.

use std::io::Cursor;
use std::sync::Arc;

use gridgov_spatial::Timestamp;
use gridgov_spatial::panorama::{Hotspot, Pose, SceneIndex, ViewOptions, view};
use image::{DynamicImage, ImageReader, Limits};
use serde::{Deserialize, Serialize};

use crate::ports::StoreError;

/// The most bytes a panorama may have.
pub const MAX_BYTES: usize = 10 << 20;
/// The widest a panorama is kept (wider ones are scaled down).
pub const MAX_WIDTH: u32 = 8192;
/// The narrowest a panorama may be.
pub const MIN_WIDTH: u32 = 512;
/// A thumbnail's width.
pub const THUMB_WIDTH: u32 = 512;
/// The widest a picture is decoded at all.
const MAX_DECODE_WIDTH: u32 = 16_384;
/// The lens height when none is given (a camera on a pole), metres.
pub const DEFAULT_EYE_M: f64 = 2.5;

/// Why a panorama was not kept.
#[derive(Debug, thiserror::Error)]
pub enum PanoramaError {
    /// Over [`MAX_BYTES`].
    #[error("a panorama has at most {MAX_BYTES} bytes; this one has {0}")]
    TooLarge(usize),
    /// Not a JPEG or PNG picture.
    #[error("not a JPEG or PNG picture: {0}")]
    NotAnImage(String),
    /// Not twice as wide as high, or too narrow.
    #[error(
        "a panorama is equirectangular, twice as wide as high and at least {MIN_WIDTH} pixels wide; this one is {width} × {height}"
    )]
    NotEquirectangular {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// No position given and none in the picture.
    #[error("where was it taken? give lon and lat (the picture has no GPS position)")]
    NoPosition,
    /// No heading given and none in the picture.
    #[error(
        "which way does the picture's centre face? give heading (degrees from north; the picture has no GPS direction)"
    )]
    NoHeading,
    /// A position or heading out of range.
    #[error("{0}")]
    BadPose(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A kept panorama's facts (its bytes are read apart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanoramaInfo {
    /// Its number (0 until kept).
    #[serde(default)]
    pub id: i64,
    /// Where it was taken and which way its centre faces.
    pub pose: Pose,
    /// When it was taken, as the camera or the sender said.
    #[serde(default)]
    pub captured_at: Option<String>,
    /// Whether the position came from the picture's EXIF.
    #[serde(default)]
    pub from_exif: bool,
    /// Who sent it.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// A panorama to keep: its facts and its cleaned pictures.
#[derive(Debug, Clone)]
pub struct NewPanorama {
    /// Its facts.
    pub info: PanoramaInfo,
    /// The picture, as JPEG without metadata.
    pub jpeg: Vec<u8>,
    /// Its thumbnail.
    pub thumb: Vec<u8>,
}

/// A panorama, what it sees, and the other panoramas (which a
/// [`Hotspot`] of kind panorama indexes).
pub type PanoramaView = (PanoramaInfo, Vec<Hotspot>, Vec<PanoramaInfo>);

/// What the sender said of it; the rest comes from the EXIF.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct PoseIn {
    /// Longitude.
    pub lon: Option<f64>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Degrees from north of the picture's centre.
    pub heading: Option<f64>,
    /// Lens height, metres.
    pub eye: Option<f64>,
}

/// What the picture's EXIF says: position, direction, time taken.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExifPose {
    /// `(lon, lat)`.
    pub position: Option<(f64, f64)>,
    /// GPS image direction, degrees.
    pub heading: Option<f64>,
    /// `DateTimeOriginal` as `YYYY-MM-DDTHH:MM:SS`.
    pub taken: Option<String>,
}

fn dms(f: Option<&exif::Field>) -> Option<f64> {
    match &f?.value {
        exif::Value::Rational(v) if v.len() == 3 => {
            Some(v[0].to_f64() + v[1].to_f64() / 60.0 + v[2].to_f64() / 3600.0)
        }
        _ => None,
    }
}

fn text(f: Option<&exif::Field>) -> Option<String> {
    match &f?.value {
        exif::Value::Ascii(v) => v
            .first()
            .map(|b| String::from_utf8_lossy(b).trim().to_owned()),
        _ => None,
    }
}

/// Reads the position, direction and time from a picture's EXIF, where
/// present.
///
/// ```
/// let none = gridgov_app::panoramas::exif_pose(b"not a picture");
/// assert_eq!(none.position, None);
/// ```
pub fn exif_pose(bytes: &[u8]) -> ExifPose {
    let Ok(e) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return ExifPose::default();
    };
    let get = |t| e.get_field(t, exif::In::PRIMARY);
    let sign = |t, neg: &str| {
        if text(get(t)).is_some_and(|s| s.eq_ignore_ascii_case(neg)) {
            -1.0
        } else {
            1.0
        }
    };
    let lat = dms(get(exif::Tag::GPSLatitude)).map(|v| v * sign(exif::Tag::GPSLatitudeRef, "S"));
    let lon = dms(get(exif::Tag::GPSLongitude)).map(|v| v * sign(exif::Tag::GPSLongitudeRef, "W"));
    let heading = match get(exif::Tag::GPSImgDirection).map(|f| &f.value) {
        Some(exif::Value::Rational(v)) if !v.is_empty() => Some(v[0].to_f64()),
        _ => None,
    };
    let taken = text(get(exif::Tag::DateTimeOriginal)).and_then(|s| {
        // "YYYY:MM:DD HH:MM:SS"
        let (d, t) = s.split_once(' ')?;
        Some(format!("{}T{t}", d.replace(':', "-")))
    });
    ExifPose {
        position: lat.zip(lon).map(|(la, lo)| (lo, la)),
        heading,
        taken,
    }
}

/// The picture drawn again without metadata, at most [`MAX_WIDTH`] wide,
/// with a thumbnail; refused when it is not a 2:1 JPEG or PNG.
///
/// ```
/// use gridgov_app::panoramas::{clean, PanoramaError};
/// let mut png = Vec::new();
/// image::RgbImage::new(1024, 512)
///     .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
///     .unwrap();
/// let (w, h, jpeg, _) = clean(&png).unwrap();
/// assert_eq!((w, h), (1024, 512));
/// assert!(jpeg.starts_with(&[0xFF, 0xD8]));
/// ```
pub fn clean(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>, Vec<u8>), PanoramaError> {
    if bytes.len() > MAX_BYTES {
        return Err(PanoramaError::TooLarge(bytes.len()));
    }
    let (w, h) = reader(bytes)?
        .into_dimensions()
        .map_err(|e| PanoramaError::NotAnImage(e.to_string()))?;
    // 2:1 within a pixel per thousand.
    if w < MIN_WIDTH || (i64::from(w) - 2 * i64::from(h)).abs() > i64::from(w / 1000).max(1) {
        return Err(PanoramaError::NotEquirectangular {
            width: w,
            height: h,
        });
    }
    let img = reader(bytes)?
        .decode()
        .map_err(|e| PanoramaError::NotAnImage(e.to_string()))?;
    let img = fit(img, MAX_WIDTH);
    let thumb = fit(img.clone(), THUMB_WIDTH);
    Ok((
        img.width(),
        img.height(),
        jpeg(&img, 85)?,
        jpeg(&thumb, 75)?,
    ))
}

/// A reader of `bytes` that only takes JPEG and PNG, within the decode
/// limits (a small file claiming a huge picture is refused before it is
/// drawn).
fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, PanoramaError> {
    let mut r = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PanoramaError::NotAnImage(e.to_string()))?;
    if !matches!(
        r.format(),
        Some(image::ImageFormat::Jpeg | image::ImageFormat::Png)
    ) {
        return Err(PanoramaError::NotAnImage(
            "the format is not JPEG or PNG".into(),
        ));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODE_WIDTH);
    limits.max_image_height = Some(MAX_DECODE_WIDTH / 2);
    limits.max_alloc = Some(1 << 30);
    r.limits(limits);
    Ok(r)
}

fn fit(img: DynamicImage, width: u32) -> DynamicImage {
    if img.width() <= width {
        img
    } else {
        img.resize_exact(width, width / 2, image::imageops::FilterType::Triangle)
    }
}

fn jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, PanoramaError> {
    crate::photos::jpeg(img, quality).map_err(|e| PanoramaError::NotAnImage(e.to_string()))
}

/// The pose from what was given and, for what was not, the EXIF.
fn pose_of(given: PoseIn, exif: &ExifPose) -> Result<(Pose, bool), PanoramaError> {
    let (lon, lat, from_exif) = match (given.lon, given.lat, exif.position) {
        (Some(lon), Some(lat), _) => (lon, lat, false),
        (None, None, Some((lon, lat))) => (lon, lat, true),
        (Some(_), None, _) | (None, Some(_), _) => {
            return Err(PanoramaError::BadPose(
                "give both lon and lat, or neither".into(),
            ));
        }
        (None, None, None) => return Err(PanoramaError::NoPosition),
    };
    if !(lon.is_finite()
        && lat.is_finite()
        && (-180.0..=180.0).contains(&lon)
        && (-90.0..=90.0).contains(&lat))
    {
        return Err(PanoramaError::BadPose(format!(
            "lon {lon}, lat {lat}: not a place on Earth"
        )));
    }
    let heading = given
        .heading
        .or(exif.heading)
        .ok_or(PanoramaError::NoHeading)?;
    if !heading.is_finite() {
        return Err(PanoramaError::BadPose("heading is not a number".into()));
    }
    let eye = given.eye.unwrap_or(DEFAULT_EYE_M);
    if !(0.0..=200.0).contains(&eye) {
        return Err(PanoramaError::BadPose(format!(
            "eye {eye} m: between 0 and 200"
        )));
    }
    Ok((
        Pose {
            lon,
            lat,
            heading_deg: heading.rem_euclid(360.0),
            eye_m: eye,
        },
        from_exif,
    ))
}

impl crate::App {
    /// Keeps a panorama sent by `by`, its pose from `given` or else its
    /// EXIF; its facts.
    pub fn add_panorama(
        &self,
        bytes: &[u8],
        given: PoseIn,
        by: &str,
        captured_at: Option<String>,
    ) -> Result<PanoramaInfo, PanoramaError> {
        let exif = exif_pose(bytes);
        let (pose, from_exif) = pose_of(given, &exif)?;
        let (width, height, jpeg, thumb) = clean(bytes)?;
        let mut info = PanoramaInfo {
            id: 0,
            pose,
            captured_at: captured_at.or(exif.taken),
            from_exif,
            by: by.to_owned(),
            at: self.now(),
            width,
            height,
        };
        info.id = self.store.add_panorama(&NewPanorama {
            info: info.clone(),
            jpeg,
            thumb,
        })?;
        Ok(info)
    }

    /// Every panorama's facts, oldest first.
    pub fn panoramas(&self) -> Result<Vec<PanoramaInfo>, StoreError> {
        self.store.panoramas()
    }

    /// A panorama's JPEG (its thumbnail when `thumb`).
    pub fn panorama_bytes(&self, id: i64, thumb: bool) -> Result<Option<Vec<u8>>, StoreError> {
        self.store.panorama_bytes(id, thumb)
    }

    /// A panorama and what it sees: the district's things in view, and
    /// the other panoramas near it (their index into the list returned).
    pub fn panorama_view(&self, id: i64) -> Result<Option<PanoramaView>, StoreError> {
        let all = self.store.panoramas()?;
        let Some(me) = all.iter().find(|p| p.id == id).cloned() else {
            return Ok(None);
        };
        let others: Vec<PanoramaInfo> = all.into_iter().filter(|p| p.id != id).collect();
        let poses: Vec<Pose> = others.iter().map(|p| p.pose).collect();
        let snap = self.current();
        let scene = self.scene_index(&snap);
        let hs = view(
            &snap.district,
            &scene,
            &me.pose,
            &poses,
            &ViewOptions::default(),
        );
        Ok(Some((me, hs, others)))
    }

    /// The scene index of `snap`'s district, made once per data version.
    fn scene_index(&self, snap: &crate::Snapshot) -> Arc<SceneIndex> {
        let mut held = self
            .scene
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((v, idx)) = held.as_ref()
            && *v == snap.data_version
        {
            return idx.clone();
        }
        let idx = Arc::new(SceneIndex::new(&snap.district));
        *held = Some((snap.data_version, idx.clone()));
        idx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2:1 JPEG whose EXIF says where it was taken and which way it faces.
    pub(crate) fn camera_panorama(w: u32, lon: f64, lat: f64, heading: f64) -> Vec<u8> {
        use exif::{Field, In, Rational, Tag, Value};
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, w / 2, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        }));
        let plain = jpeg(&img, 90).unwrap();
        let dms = |v: f64| {
            let d = v.trunc();
            let m = ((v - d) * 60.0).trunc();
            let s = ((v - d) * 60.0 - m) * 60.0;
            Value::Rational(vec![
                Rational {
                    num: d as u32,
                    denom: 1,
                },
                Rational {
                    num: m as u32,
                    denom: 1,
                },
                Rational {
                    num: (s * 10_000.0).round() as u32,
                    denom: 10_000,
                },
            ])
        };
        let f = |tag, value| Field {
            tag,
            ifd_num: In::PRIMARY,
            value,
        };
        let fields = [
            f(Tag::GPSLatitudeRef, Value::Ascii(vec![b"N".to_vec()])),
            f(Tag::GPSLatitude, dms(lat)),
            f(Tag::GPSLongitudeRef, Value::Ascii(vec![b"E".to_vec()])),
            f(Tag::GPSLongitude, dms(lon)),
            f(
                Tag::GPSImgDirection,
                Value::Rational(vec![Rational {
                    num: (heading * 100.0) as u32,
                    denom: 100,
                }]),
            ),
            f(
                Tag::DateTimeOriginal,
                Value::Ascii(vec![b"2026:11:30 09:15:00".to_vec()]),
            ),
            f(Tag::Model, Value::Ascii(vec![b"PanoCam-SN777".to_vec()])),
        ];
        let mut w_ = exif::experimental::Writer::new();
        for x in &fields {
            w_.push_field(x);
        }
        let mut tiff = Cursor::new(Vec::new());
        w_.write(&mut tiff, false).unwrap();
        let mut payload = b"Exif\0\0".to_vec();
        payload.extend(tiff.into_inner());
        let len = u16::try_from(payload.len() + 2).unwrap();
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend(len.to_be_bytes());
        out.extend(payload);
        out.extend_from_slice(&plain[2..]);
        out
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn the_exif_position_direction_and_time_are_read_and_not_kept() {
        let src = camera_panorama(1024, 117.5531, 34.8612, 135.5);
        let e = exif_pose(&src);
        let (lon, lat) = e.position.unwrap();
        assert!(
            (lon - 117.5531).abs() < 1e-6 && (lat - 34.8612).abs() < 1e-6,
            "{lon} {lat}"
        );
        assert_eq!(e.heading, Some(135.5));
        assert_eq!(e.taken.as_deref(), Some("2026-11-30T09:15:00"));
        let (w, h, jpeg, thumb) = clean(&src).unwrap();
        assert_eq!((w, h), (1024, 512));
        for secret in [&b"Exif"[..], b"PanoCam", b"SN777"] {
            assert!(!contains(&jpeg, secret) && !contains(&thumb, secret));
        }
        assert_eq!(exif_pose(&jpeg), ExifPose::default());
        let t = image::load_from_memory(&thumb).unwrap();
        assert_eq!((t.width(), t.height()), (THUMB_WIDTH, THUMB_WIDTH / 2));
    }

    #[test]
    fn what_is_not_a_two_to_one_picture_or_has_no_place_is_refused() {
        let mut png = Vec::new();
        image::RgbImage::new(1000, 700)
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert!(matches!(
            clean(&png),
            Err(PanoramaError::NotEquirectangular {
                width: 1000,
                height: 700
            })
        ));
        assert!(matches!(
            clean(b"GIF89a"),
            Err(PanoramaError::NotAnImage(_))
        ));
        assert!(matches!(
            clean(&vec![0; MAX_BYTES + 1]),
            Err(PanoramaError::TooLarge(_))
        ));
        let none = ExifPose::default();
        assert!(matches!(
            pose_of(PoseIn::default(), &none),
            Err(PanoramaError::NoPosition)
        ));
        let at = PoseIn {
            lon: Some(117.5),
            lat: Some(34.8),
            ..PoseIn::default()
        };
        assert!(matches!(pose_of(at, &none), Err(PanoramaError::NoHeading)));
        let bad = PoseIn {
            lon: Some(500.0),
            lat: Some(34.8),
            heading: Some(0.0),
            eye: None,
        };
        assert!(matches!(
            pose_of(bad, &none),
            Err(PanoramaError::BadPose(_))
        ));
        let ok = PoseIn {
            heading: Some(-90.0),
            ..at
        };
        let (p, from_exif) = pose_of(ok, &none).unwrap();
        assert_eq!(
            (p.heading_deg, p.eye_m, from_exif),
            (270.0, DEFAULT_EYE_M, false)
        );
    }
}
