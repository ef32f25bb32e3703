//! Photos of household visits and cases, as the store keeps them: a
//! photo sent from a phone is decoded (so that only real pictures are
//! kept), drawn again as a JPEG — which carries none of the original's
//! metadata: no EXIF, no GPS position, no camera serial — at most
//! [`MAX_SIDE`] pixels on its long side, with a thumbnail for lists.
//! [`clean`] is pure (bytes in, bytes out); `App::add_photo` keeps the
//! result through the store.

use std::io::Cursor;

use image::{DynamicImage, ImageReader, Limits};

/// The largest photo accepted, in bytes.
pub const MAX_BYTES: usize = 8 << 20;
/// The long side of a kept photo, at most, in pixels.
pub const MAX_SIDE: u32 = 2048;
/// The long side of a thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 256;
/// The largest picture decoded, per side (a "decompression bomb" is
/// refused before it is drawn).
const MAX_DECODE_SIDE: u32 = 12_000;

/// Why a photo was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoError {
    /// Over [`MAX_BYTES`].
    #[error("a photo has at most {MAX_BYTES} bytes; this one has {0}")]
    TooLarge(usize),
    /// Not a JPEG or PNG picture, or a broken one.
    #[error("not a JPEG or PNG picture: {0}")]
    NotAnImage(String),
}

/// A photo as kept: the picture and its thumbnail, both JPEG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanPhoto {
    /// The picture.
    pub jpeg: Vec<u8>,
    /// Its thumbnail.
    pub thumb: Vec<u8>,
    /// Width of the picture, in pixels.
    pub width: u32,
    /// Height of the picture.
    pub height: u32,
}

/// What a photo is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum PhotoOwner {
    /// A household (its id as the API shows it: index plus one).
    Household(u32),
    /// A case.
    Case(i64),
}

impl PhotoOwner {
    /// The kind as stored: `household` or `case`.
    ///
    /// ```
    /// use gridgov_app::photos::PhotoOwner;
    /// assert_eq!(PhotoOwner::Case(3).kind(), "case");
    /// assert_eq!(PhotoOwner::from_parts("household", 7), Some(PhotoOwner::Household(7)));
    /// ```
    pub fn kind(self) -> &'static str {
        match self {
            PhotoOwner::Household(_) => "household",
            PhotoOwner::Case(_) => "case",
        }
    }

    /// The owner's id as stored.
    pub fn id(self) -> i64 {
        match self {
            PhotoOwner::Household(h) => i64::from(h),
            PhotoOwner::Case(c) => c,
        }
    }

    /// An owner from its stored kind and id.
    pub fn from_parts(kind: &str, id: i64) -> Option<PhotoOwner> {
        match kind {
            "household" => u32::try_from(id).ok().map(PhotoOwner::Household),
            "case" => Some(PhotoOwner::Case(id)),
            _ => None,
        }
    }
}

/// A photo to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPhoto {
    /// What it is of.
    pub owner: PhotoOwner,
    /// The account that sent it.
    pub by: String,
    /// When.
    pub at: gridgov_spatial::Timestamp,
    /// The picture, cleaned.
    pub photo: CleanPhoto,
}

/// A kept photo's facts (its bytes are read apart).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PhotoInfo {
    /// Its number.
    pub id: i64,
    /// What it is of.
    pub owner: PhotoOwner,
    /// Who sent it.
    pub by: String,
    /// When.
    pub at: gridgov_spatial::Timestamp,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Why a photo was not kept.
#[derive(Debug, thiserror::Error)]
pub enum PhotoRefused {
    /// Not a picture, or too big.
    #[error(transparent)]
    Photo(#[from] PhotoError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::ports::StoreError),
}

impl crate::App {
    /// Keeps a photo of a household or case, cleaned of its metadata;
    /// its facts.
    pub fn add_photo(
        &self,
        owner: PhotoOwner,
        by: &str,
        bytes: &[u8],
    ) -> Result<PhotoInfo, PhotoRefused> {
        let photo = clean(bytes)?;
        let p = NewPhoto {
            owner,
            by: by.to_owned(),
            at: self.now(),
            photo,
        };
        let id = self.store.add_photo(&p)?;
        Ok(PhotoInfo {
            id,
            owner,
            by: p.by,
            at: p.at,
            width: p.photo.width,
            height: p.photo.height,
        })
    }
}

/// Decodes `bytes` (JPEG or PNG) and draws them again without metadata,
/// scaled down to [`MAX_SIDE`], with a thumbnail.
///
/// ```
/// use gridgov_app::photos::{clean, PhotoError};
/// let mut png = Vec::new();
/// image::RgbImage::new(40, 30)
///     .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
///     .unwrap();
/// let p = clean(&png).unwrap();
/// assert_eq!((p.width, p.height), (40, 30));
/// assert!(p.jpeg.starts_with(&[0xFF, 0xD8]));
/// assert!(matches!(clean(b"not a picture"), Err(PhotoError::NotAnImage(_))));
/// ```
pub fn clean(bytes: &[u8]) -> Result<CleanPhoto, PhotoError> {
    if bytes.len() > MAX_BYTES {
        return Err(PhotoError::TooLarge(bytes.len()));
    }
    let mut r = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PhotoError::NotAnImage(e.to_string()))?;
    if !matches!(
        r.format(),
        Some(image::ImageFormat::Jpeg | image::ImageFormat::Png)
    ) {
        return Err(PhotoError::NotAnImage(
            "the format is not JPEG or PNG".into(),
        ));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODE_SIDE);
    limits.max_image_height = Some(MAX_DECODE_SIDE);
    limits.max_alloc = Some(512 << 20);
    r.limits(limits);
    let img = r
        .decode()
        .map_err(|e| PhotoError::NotAnImage(e.to_string()))?;
    let img = fit(img, MAX_SIDE);
    let thumb = fit(img.clone(), THUMB_SIDE);
    Ok(CleanPhoto {
        width: img.width(),
        height: img.height(),
        jpeg: jpeg(&img, 85)?,
        thumb: jpeg(&thumb, 75)?,
    })
}

/// `img` scaled down so that its long side is at most `side`.
fn fit(img: DynamicImage, side: u32) -> DynamicImage {
    if img.width().max(img.height()) <= side {
        img
    } else {
        img.resize(side, side, image::imageops::FilterType::Triangle)
    }
}

/// `img` as a JPEG of `quality` (no metadata is written).
pub(crate) fn jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    let rgb = img.to_rgb8();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&rgb)
        .map_err(|e| PhotoError::NotAnImage(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG as a phone writes it: an EXIF segment with a GPS position
    /// and a camera name after the start marker.
    pub(crate) fn phone_jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        }));
        let plain = jpeg(&img, 90).unwrap();
        let payload =
            b"Exif\0\0MM\0*GPSLatitude 34.8612N GPSLongitude 117.5531E Model PhoneCam-SN12345";
        let len = u16::try_from(payload.len() + 2).unwrap();
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend(len.to_be_bytes());
        out.extend_from_slice(payload);
        out.extend_from_slice(&plain[2..]);
        out
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_phone_photo_keeps_its_picture_and_loses_its_exif_and_position() {
        let src = phone_jpeg(64, 48);
        assert!(contains(&src, b"Exif") && contains(&src, b"GPSLatitude"));
        let p = clean(&src).unwrap();
        assert_eq!((p.width, p.height), (64, 48));
        for secret in [&b"Exif"[..], b"GPS", b"PhoneCam", b"SN12345"] {
            assert!(!contains(&p.jpeg, secret) && !contains(&p.thumb, secret));
        }
        // The picture is still the picture (within JPEG's loss).
        let back = image::load_from_memory(&p.jpeg).unwrap().to_rgb8();
        let px = back.get_pixel(40, 20).0;
        assert!(
            (i32::from(px[0]) - 40).abs() < 12 && (i32::from(px[1]) - 20).abs() < 12,
            "{px:?}"
        );
    }

    #[test]
    fn large_photos_are_scaled_down_with_a_small_thumbnail() {
        let p = clean(&phone_jpeg(3000, 1000)).unwrap();
        assert_eq!((p.width, p.height), (MAX_SIDE, 683));
        let t = image::load_from_memory(&p.thumb).unwrap();
        assert_eq!(t.width(), THUMB_SIDE);
        assert!(p.thumb.len() < p.jpeg.len());
    }

    #[test]
    fn what_is_not_a_picture_or_is_too_big_is_refused() {
        assert!(matches!(
            clean(b"GIF89a...."),
            Err(PhotoError::NotAnImage(_))
        ));
        assert!(matches!(
            clean(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0]),
            Err(PhotoError::NotAnImage(_))
        ));
        assert_eq!(
            clean(&vec![0; MAX_BYTES + 1]),
            Err(PhotoError::TooLarge(MAX_BYTES + 1))
        );
        // A tiny file that claims to be a huge picture is refused before
        // it is drawn: a real PNG whose header (with its checksum) says
        // 60,000 × 60,000.
        let mut big = Vec::new();
        image::GrayImage::new(1, 1)
            .write_to(&mut Cursor::new(&mut big), image::ImageFormat::Png)
            .unwrap();
        big[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        big[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(&big[12..29]);
        big[29..33].copy_from_slice(&crc.sum().to_be_bytes());
        let e = clean(&big).unwrap_err();
        assert!(e.to_string().to_lowercase().contains("limit"), "{e}");
        assert!(matches!(clean(&big), Err(PhotoError::NotAnImage(_))));
    }
}
