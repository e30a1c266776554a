//! What the processor does to one file, without I/O: finds its real type from its bytes (never the declared
//! type or the name), refuses what is not allowed with a reason a member can read, and makes what is kept.
//!
//! - Images (JPEG, PNG, WebP) are decoded, turned upright by their EXIF orientation and encoded again in
//!   the same format: EXIF (GPS position, camera serial numbers), XMP, IPTC, ICC profiles and comments are
//!   not carried over. Decoding is bounded ([`MAX_PIXELS`], [`MAX_DECODED_BYTES`]) before any pixel buffer
//!   is allocated, so a small file declaring a huge image is refused, not decoded.
//! - GIFs (when allowed) are copied frame by frame, the animation kept, comments and application data
//!   (XMP) left behind.
//! - Every image gets a JPEG thumbnail at most [`THUMBNAIL_SIZE`] pixels on its long side.
//! - PDFs pass unchanged once their signature and size are checked.

use std::fmt;
use std::io::Cursor;
use std::num::NonZeroU64;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbImage};

/// The most pixels an image may have (40 megapixels: a phone's largest photos are 12 to 24; 48 MP sensors
/// save 12 MP unless asked).
pub const MAX_PIXELS: u64 = 40_000_000;

/// The most bytes a decoded image may take: 40 megapixels of 8-bit RGBA, the largest a photo decodes to
/// (16-bit images are allowed half as many pixels).
pub const MAX_DECODED_BYTES: u64 = 4 * MAX_PIXELS;

/// The most pixels all the frames of an animation may have together: each is decoded and encoded again.
pub const MAX_ANIMATION_PIXELS: u64 = 5 * MAX_PIXELS;

/// The long side of a thumbnail, in pixels.
pub const THUMBNAIL_SIZE: u32 = 320;

/// JPEG quality of a re-encoded photo: indistinguishable from a phone's own (about 90) at a smaller size.
const JPEG_QUALITY: u8 = 85;

/// JPEG quality of a thumbnail.
const THUMBNAIL_QUALITY: u8 = 80;

/// How far into a file a PDF's `%PDF-` may start: PDF readers accept (and some producers write) a few
/// bytes of junk before it.
const PDF_SIGNATURE_WINDOW: usize = 1024;

/// The types the processor can check and keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// `image/jpeg`.
    Jpeg,
    /// `image/png`.
    Png,
    /// `image/webp`.
    Webp,
    /// `image/gif`.
    Gif,
    /// `application/pdf`.
    Pdf,
}

impl MediaType {
    /// Every type, in the order they are listed.
    pub const ALL: [Self; 5] = [Self::Jpeg, Self::Png, Self::Webp, Self::Gif, Self::Pdf];

    /// The content type (MIME type).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
            Self::Pdf => "application/pdf",
        }
    }

    /// The type of a content type (any case); `None` for one the processor does not know.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(content_type.trim()))
    }

    /// What a member calls files of this type, in the plural.
    fn plural(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG images",
            Self::Png => "PNG images",
            Self::Webp => "WebP images",
            Self::Gif => "GIF images",
            Self::Pdf => "PDF documents",
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The types that are kept (`ATTACHMENTS_TYPES`); anything else is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedTypes(Vec<MediaType>);

impl Default for AllowedTypes {
    /// JPEG, PNG, WebP and PDF.
    fn default() -> Self {
        Self(vec![MediaType::Jpeg, MediaType::Png, MediaType::Webp, MediaType::Pdf])
    }
}

impl AllowedTypes {
    /// The types named by these content types.
    ///
    /// # Errors
    /// The first content type the processor does not know, or an empty list.
    pub fn parse<S: AsRef<str>>(content_types: &[S]) -> Result<Self, String> {
        let mut types = Vec::new();
        for content_type in content_types {
            let content_type = content_type.as_ref();
            let known = MediaType::from_content_type(content_type).ok_or_else(|| {
                let known: Vec<_> = MediaType::ALL.iter().map(|t| t.as_str()).collect();
                format!("{content_type} is none of {}", known.join(", "))
            })?;
            if !types.contains(&known) {
                types.push(known);
            }
        }
        if types.is_empty() {
            return Err("no type is allowed".to_owned());
        }
        Ok(Self(types))
    }

    /// Whether `media_type` is kept.
    pub fn allows(&self, media_type: MediaType) -> bool {
        self.0.contains(&media_type)
    }

    /// The allowed types.
    pub fn types(&self) -> &[MediaType] {
        &self.0
    }
}

/// A file as it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// What the bytes are (whatever was declared).
    pub content_type: MediaType,
    /// The file to keep: for an image, encoded again without its metadata; a PDF as it came.
    pub bytes: Vec<u8>,
    /// An image's size and thumbnail; `None` for a PDF.
    pub image: Option<Picture>,
}

/// What is known of a processed image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// Width in pixels, upright (after the EXIF orientation).
    pub width: u32,
    /// Height in pixels, upright.
    pub height: u32,
    /// A JPEG at most [`THUMBNAIL_SIZE`] pixels on its long side, transparency flattened on white.
    pub thumbnail: Vec<u8>,
}

/// Why a file is refused. Its `Display` is the reason shown to the member: plain, short, about the file,
/// never about the processor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Over the size limit.
    #[error("larger than {}", human_size(*max_bytes))]
    TooLarge {
        /// The limit, in bytes.
        max_bytes: u64,
    },
    /// No bytes at all.
    #[error("the file is empty")]
    Empty,
    /// An iPhone photo in its own format, which nothing here can decode.
    #[error("HEIC photos are not supported: send a JPEG")]
    Heic,
    /// A type the processor knows but this deployment does not allow (GIF by default).
    #[error("{} are not accepted", .0.plural())]
    NotAllowed(MediaType),
    /// Something recognised that is not a kept type: what it is, in the plural ("executables").
    #[error("{0} are not supported")]
    Unsupported(&'static str),
    /// Nothing recognised.
    #[error("unknown file type")]
    Unknown,
    /// An image with more pixels than [`MAX_PIXELS`] (or a decompression bomb declaring as many).
    #[error("the image is too large: at most {} megapixels", MAX_PIXELS / 1_000_000)]
    TooManyPixels,
    /// A file whose signature says image but whose content cannot be decoded.
    #[error("the image is damaged or incomplete")]
    Damaged,
}

/// Checks `bytes` and makes what is kept of them: the real type from their signature, images decoded and
/// encoded again (their metadata dropped, their orientation applied) with a thumbnail, PDFs unchanged.
///
/// # Errors
/// [`Refusal`], whose text is for the member: over `max_bytes`, empty, a type `allowed` does not list or
/// the processor does not keep, an image too large or that does not decode.
pub fn process(bytes: &[u8], allowed: &AllowedTypes, max_bytes: u64) -> Result<Processed, Refusal> {
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > max_bytes {
        return Err(Refusal::TooLarge { max_bytes });
    }
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    let media_type = identify(bytes)?;
    if !allowed.allows(media_type) {
        return Err(Refusal::NotAllowed(media_type));
    }
    match media_type {
        MediaType::Pdf => Ok(Processed { content_type: media_type, bytes: bytes.to_vec(), image: None }),
        MediaType::Gif => gif(bytes),
        MediaType::Jpeg | MediaType::Png | MediaType::Webp => still(bytes, media_type),
    }
}

/// The type of `bytes` from their signature, or why they are refused whatever the configuration.
fn identify(bytes: &[u8]) -> Result<MediaType, Refusal> {
    let Some(found) = infer::get(bytes) else {
        return if is_pdf(bytes) {
            Ok(MediaType::Pdf)
        } else if is_text(bytes) {
            Err(Refusal::Unsupported("text files"))
        } else {
            Err(Refusal::Unknown)
        };
    };
    match found.mime_type() {
        "image/jpeg" => Ok(MediaType::Jpeg),
        "image/png" => Ok(MediaType::Png),
        "image/webp" if bytes.starts_with(b"RIFF") => Ok(MediaType::Webp),
        "image/gif" => Ok(MediaType::Gif),
        "application/pdf" if is_pdf(bytes) => Ok(MediaType::Pdf),
        "image/heif" => Err(Refusal::Heic),
        other => Err(Refusal::Unsupported(describe(other, found.matcher_type()))),
    }
}

/// What a member calls a recognised type the processor does not keep, in the plural.
fn describe(mime_type: &str, kind: infer::MatcherType) -> &'static str {
    use infer::MatcherType;
    match (mime_type, kind) {
        ("application/x-x509-ca-cert", _) => "certificates",
        ("image/avif", _) => "AVIF images",
        ("image/tiff", _) => "TIFF images",
        ("image/bmp", _) => "BMP images",
        ("image/jxl", _) => "JPEG XL images",
        ("image/vnd.adobe.photoshop", _) => "Photoshop files",
        (_, MatcherType::App) => "executables",
        (_, MatcherType::Archive) => "archives",
        (_, MatcherType::Audio) => "audio files",
        (_, MatcherType::Video) => "videos",
        (_, MatcherType::Book) => "e-books",
        (_, MatcherType::Font) => "fonts",
        (_, MatcherType::Text) => "text files",
        (_, MatcherType::Doc) => "office documents",
        (_, MatcherType::Image) => "images of this kind",
        (_, MatcherType::Custom) => "files of this kind",
    }
}

/// `%PDF-` within the first [`PDF_SIGNATURE_WINDOW`] bytes, where PDF readers look for it.
fn is_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(PDF_SIGNATURE_WINDOW)].windows(5).any(|w| w == b"%PDF-")
}

/// Whether the start of `bytes` reads as UTF-8 text (a character cut at the end of the sample allowed).
fn is_text(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(PDF_SIGNATURE_WINDOW)];
    let valid = match std::str::from_utf8(sample) {
        Ok(text) => text,
        Err(error) if error.error_len().is_none() => {
            std::str::from_utf8(&sample[..error.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !valid.is_empty() && valid.chars().all(|c| !c.is_control() || c.is_whitespace())
}

/// A JPEG, PNG or WebP: decoded within the limits, turned upright, encoded again, with a thumbnail.
fn still(bytes: &[u8], media_type: MediaType) -> Result<Processed, Refusal> {
    let format = match media_type {
        MediaType::Png => ImageFormat::Png,
        MediaType::Webp => ImageFormat::WebP,
        _ => ImageFormat::Jpeg,
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    // Reads the headers only: the size is known before any pixel buffer exists.
    let mut decoder = reader.into_decoder().map_err(|e| refusal(&e))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS || decoder.total_bytes() > MAX_DECODED_BYTES {
        return Err(Refusal::TooManyPixels);
    }
    // A damaged EXIF block is no reason to refuse the pixels: they are then kept as stored.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| refusal(&e))?;
    image.apply_orientation(orientation);
    let mut out = Vec::new();
    let encoded = match media_type {
        MediaType::Png => image.write_with_encoder(PngEncoder::new_with_quality(
            &mut out,
            CompressionType::Default,
            FilterType::Adaptive,
        )),
        MediaType::Webp => image.write_with_encoder(WebPEncoder::new_lossless(&mut out)),
        _ => image.write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)),
    };
    encoded.map_err(|e| refusal(&e))?;
    let thumbnail = thumbnail(&image)?;
    let picture = Picture { width: image.width(), height: image.height(), thumbnail };
    Ok(Processed { content_type: media_type, bytes: out, image: Some(picture) })
}

/// The decoders' limits: no side longer than a 40-megapixel strip could be, no buffer over
/// [`MAX_DECODED_BYTES`].
fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(65_535);
    limits.max_image_height = Some(65_535);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    limits
}

/// The refusal for an image the decoder or encoder gave up on.
fn refusal(error: &ImageError) -> Refusal {
    match error {
        ImageError::Limits(_) => Refusal::TooManyPixels,
        _ => Refusal::Damaged,
    }
}

/// `image` at most [`THUMBNAIL_SIZE`] on its long side (never enlarged), transparency on white, as JPEG.
fn thumbnail(image: &DynamicImage) -> Result<Vec<u8>, Refusal> {
    let small = if image.width().max(image.height()) > THUMBNAIL_SIZE {
        image.thumbnail(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
    } else {
        image.clone()
    };
    let rgb = if small.color().has_alpha() { on_white(&small) } else { small.into_rgb8() };
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, THUMBNAIL_QUALITY).encode_image(&rgb).map_err(|e| refusal(&e))?;
    Ok(out)
}

/// `image` over a white background.
fn on_white(image: &DynamicImage) -> RgbImage {
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a)) + 127) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

/// A GIF: every frame decoded (bounded) and written again with its palette, delay and disposal, and the
/// loop count; comments and application extensions (XMP among them) are not copied. The thumbnail is the
/// first frame.
fn gif(bytes: &[u8]) -> Result<Processed, Refusal> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    options.set_memory_limit(gif::MemoryLimit::Bytes(NonZeroU64::new(MAX_PIXELS).unwrap_or(NonZeroU64::MIN)));
    let mut decoder = options.read_info(bytes).map_err(|e| gif_refusal(&e))?;
    let (width, height) = (decoder.width(), decoder.height());
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refusal::TooManyPixels);
    }
    let global = decoder.global_palette().map(<[u8]>::to_vec);
    let mut out = Vec::new();
    let mut encoder = gif::Encoder::new(&mut out, width, height, global.as_deref().unwrap_or_default())
        .map_err(|_| Refusal::Damaged)?;
    encoder.set_repeat(decoder.repeat()).map_err(|_| Refusal::Damaged)?;
    let mut first = None;
    let mut pixels = 0u64;
    while let Some(frame) = decoder.read_next_frame().map_err(|e| gif_refusal(&e))? {
        pixels += u64::from(frame.width) * u64::from(frame.height);
        if pixels > MAX_ANIMATION_PIXELS {
            return Err(Refusal::TooManyPixels);
        }
        if first.is_none() {
            first = Some(first_frame(frame, global.as_deref(), width, height));
        }
        encoder.write_frame(frame).map_err(|_| Refusal::Damaged)?;
    }
    encoder.into_inner().map_err(|_| Refusal::Damaged)?;
    let first = first.ok_or(Refusal::Damaged)?;
    let thumbnail = thumbnail(&DynamicImage::ImageRgb8(first))?;
    let picture = Picture { width: u32::from(width), height: u32::from(height), thumbnail };
    Ok(Processed { content_type: MediaType::Gif, bytes: out, image: Some(picture) })
}

/// The refusal for a GIF the decoder gave up on.
fn gif_refusal(error: &gif::DecodingError) -> Refusal {
    match error {
        gif::DecodingError::MemoryLimit => Refusal::TooManyPixels,
        _ => Refusal::Damaged,
    }
}

/// A GIF's first frame on its logical screen, transparent and uncovered pixels white.
fn first_frame(frame: &gif::Frame<'_>, global: Option<&[u8]>, width: u16, height: u16) -> RgbImage {
    let palette = frame.palette.as_deref().or(global).unwrap_or_default();
    let mut canvas = RgbImage::from_pixel(u32::from(width), u32::from(height), image::Rgb([255, 255, 255]));
    let frame_width = usize::from(frame.width);
    for (i, &index) in frame.buffer.iter().enumerate() {
        if frame_width == 0 || Some(index) == frame.transparent {
            continue;
        }
        let (x, y) = (
            u32::from(frame.left) + (i % frame_width) as u32,
            u32::from(frame.top) + (i / frame_width) as u32,
        );
        let start = usize::from(index) * 3;
        if let (Some(rgb), true) = (palette.get(start..start + 3), x < canvas.width() && y < canvas.height())
        {
            canvas.put_pixel(x, y, image::Rgb([rgb[0], rgb[1], rgb[2]]));
        }
    }
    canvas
}

/// A size for a member: "10 MB", "2.5 MB", "500 KB" (binary units, as file managers count).
fn human_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * KB;
    if bytes >= MB {
        let tenths = (bytes * 10 + MB / 2) / MB;
        if tenths.is_multiple_of(10) {
            format!("{} MB", tenths / 10)
        } else {
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    } else if bytes >= KB {
        format!("{} KB", (bytes + KB / 2) / KB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_a_member_counts_them() {
        assert_eq!(human_size(10 * 1024 * 1024), "10 MB");
        assert_eq!(human_size(5 * 1024 * 1024 / 2), "2.5 MB");
        assert_eq!(human_size(500 * 1024), "500 KB");
        assert_eq!(human_size(12), "12 bytes");
        assert_eq!(Refusal::TooLarge { max_bytes: 10_485_760 }.to_string(), "larger than 10 MB");
    }

    #[test]
    fn allowed_types_name_only_what_the_processor_keeps() {
        let allowed = AllowedTypes::parse(&["image/PNG", " application/pdf", "image/png"]).expect("known");
        assert_eq!(allowed.types(), [MediaType::Png, MediaType::Pdf]);
        assert!(AllowedTypes::parse(&["image/heic"]).expect_err("unknown").contains("image/heic"));
        assert!(AllowedTypes::parse::<&str>(&[]).is_err());
        assert!(!AllowedTypes::default().allows(MediaType::Gif));
    }

    #[test]
    fn text_is_told_from_binary() {
        assert!(is_text(b"hello, world\n"));
        assert!(is_text("caf\u{e9}".as_bytes()));
        assert!(!is_text(&[0, 1, 2, 3]));
        assert!(is_pdf(b"\n\n%PDF-1.7\n"));
        assert!(!is_pdf(&[b" ".repeat(1024), b"%PDF-1.7".to_vec()].concat()));
    }
}
