//! What processing a phone photo costs: a 12-megapixel JPEG (4000 × 3000, quality 92, photo-like
//! gradients and sensor noise), upright and turned by its EXIF orientation, through
//! `chat_media::process::process`; prints the time and the peak memory of each.
//!
//! `cargo run --release -p chat-media --example photo_cost` (Linux: the peak is the process's `VmHWM`,
//! reset before each run through `/proc/self/clear_refs`).

use std::io::Cursor;
use std::time::Instant;

use chat_media::process::{AllowedTypes, process};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

fn main() {
    let photo = photo_jpeg();
    println!("input: 4000 x 3000 JPEG, {:.1} MB", mb(photo.len()));
    for orientation in [1u16, 6] {
        let input = with_orientation(&photo, orientation);
        let baseline = reset_peak();
        let started = Instant::now();
        let processed = process(&input, &AllowedTypes::default(), 20 * 1024 * 1024).expect("kept");
        let elapsed = started.elapsed();
        let peak = peak_kb();
        let picture = processed.image.as_ref().expect("an image");
        println!(
            "orientation {orientation}: {} ms, peak RSS {} MB (was {} MB before), output {}x{} {:.1} MB, thumbnail {} KB",
            elapsed.as_millis(),
            peak.map_or("?".into(), |kb| (kb / 1024).to_string()),
            baseline.map_or("?".into(), |kb| (kb / 1024).to_string()),
            picture.width,
            picture.height,
            mb(processed.bytes.len()),
            picture.thumbnail.len() / 1024,
        );
    }
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// A 12 MP photo-like JPEG: smooth light, some texture, and noise as a sensor has, which is what makes a
/// photo's JPEG a few megabytes.
fn photo_jpeg() -> Vec<u8> {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let image = RgbImage::from_fn(4000, 3000, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let noise = (seed % 24) as f32 - 12.0;
        let (fx, fy) = (x as f32 / 4000.0, y as f32 / 3000.0);
        let texture = ((x as f32 / 9.0).sin() * (y as f32 / 13.0).cos()) * 20.0;
        let channel = |base: f32| (base + texture + noise).clamp(0.0, 255.0) as u8;
        Rgb([channel(60.0 + 150.0 * fx), channel(90.0 + 100.0 * fy), channel(140.0 - 80.0 * fx * fy)])
    });
    let mut out = Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92);
    DynamicImage::ImageRgb8(image).write_with_encoder(encoder).expect("encodes");
    let bytes = out.into_inner();
    assert_eq!(image::guess_format(&bytes).ok(), Some(ImageFormat::Jpeg));
    bytes
}

/// `jpeg` with an APP1 EXIF segment holding only an orientation.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00".to_vec();
    tiff.extend(orientation.to_le_bytes());
    tiff.extend([0, 0, 0, 0, 0, 0]);
    let payload = [b"Exif\0\0".as_slice(), &tiff].concat();
    let length = u16::try_from(payload.len() + 2).expect("small").to_be_bytes();
    [&jpeg[..2], &[0xFF, 0xE1], &length, &payload, &jpeg[2..]].concat()
}

/// Resets the peak resident set size to the current one; answers the current one, in KB.
fn reset_peak() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kb("VmRSS:")
}

/// The peak resident set size since the last reset, in KB.
fn peak_kb() -> Option<u64> {
    status_kb("VmHWM:")
}

fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
