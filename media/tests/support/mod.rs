//! Real files made for the tests: images encoded by the `image` crate, then given the metadata a phone
//! writes (an EXIF block with a GPS position and an orientation, XMP, comments) by hand, byte for byte as
//! the formats lay them out; and a bucket on moto that announces its uploads on a queue, as Terraform
//! wires them. Shared with dev-stack's end-to-end test.

#![allow(dead_code, unreachable_pub)] // each test binary uses its own share of these

use std::io::Cursor;

use chat_media::process::{Picture, Processed};
use image::{DynamicImage, ImageFormat, ImageReader, Rgb, RgbImage};

/// A GPS position's bytes as the TIFF block stores them: 48° 51' 29.6" (a rational per part).
pub const LATITUDE_RATIONALS: [u32; 6] = [48, 1, 51, 1, 296, 10];

/// The camera's make, as EXIF stores it: found in the input, never in the output.
pub const MAKE: &[u8] = b"SpyCam\0";

/// A 64×32 photo, its top-left 16×16 corner red, the rest blue: where the red lands says how the image
/// was turned.
pub fn photo() -> RgbImage {
    RgbImage::from_fn(64, 32, |x, y| if x < 16 && y < 16 { Rgb([255, 0, 0]) } else { Rgb([0, 0, 255]) })
}

pub fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).expect("encodes");
    out.into_inner()
}

/// A little-endian TIFF block as EXIF lays it out: IFD0 with Make, Orientation and the GPS IFD's
/// pointer; the GPS IFD with its version, latitude and longitude.
pub fn exif_tiff(orientation: u16) -> Vec<u8> {
    // Layout: header (8), IFD0 at 8 (2 + 3 × 12 + 4 = 42), GPS IFD at 50 (2 + 5 × 12 + 4 = 66), then the
    // values that do not fit in an entry: Make at 116 (8 bytes), latitude at 124 (24), longitude at 148.
    let (ifd0, gps, make, latitude, longitude) = (8u32, 50u32, 116u32, 124u32, 148u32);
    let mut t = b"II\x2a\x00".to_vec();
    t.extend(ifd0.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend(tag.to_le_bytes());
        t.extend(kind.to_le_bytes());
        t.extend(count.to_le_bytes());
        t.extend(value);
    };
    let (ascii, short, long, rational, byte) = (2, 3, 4, 5, 1);
    t.extend(3u16.to_le_bytes());
    entry(&mut t, 0x010F, ascii, MAKE.len() as u32, make.to_le_bytes());
    let [o0, o1] = orientation.to_le_bytes();
    entry(&mut t, 0x0112, short, 1, [o0, o1, 0, 0]);
    entry(&mut t, 0x8825, long, 1, gps.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    assert_eq!(t.len() as u32, gps);
    t.extend(5u16.to_le_bytes());
    entry(&mut t, 0x0000, byte, 4, [2, 3, 0, 0]);
    entry(&mut t, 0x0001, ascii, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, rational, 3, latitude.to_le_bytes());
    entry(&mut t, 0x0003, ascii, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, rational, 3, longitude.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    assert_eq!(t.len() as u32, make);
    t.extend(MAKE);
    t.push(0);
    assert_eq!(t.len() as u32, latitude);
    for n in LATITUDE_RATIONALS.into_iter().chain([2, 1, 21, 1, 45, 10]) {
        t.extend(n.to_le_bytes());
    }
    assert_eq!(t.len() as u32, longitude + 24);
    t
}

/// The latitude rationals as they appear in the TIFF block: a GPS position in the bytes.
pub fn gps_bytes() -> Vec<u8> {
    LATITUDE_RATIONALS.iter().flat_map(|n| n.to_le_bytes()).collect()
}

/// A JPEG segment: marker, big-endian length (itself included), payload.
pub fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend(u16::try_from(payload.len() + 2).expect("a segment is small").to_be_bytes());
    s.extend(payload);
    s
}

pub const XMP: &[u8] =
    b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>48,51.49N</exif:GPSLatitude></x:xmpmeta>";
pub const COMMENT: &[u8] = b"taken at 12 Secret Street";

/// A phone's JPEG: the photo with an APP1 EXIF segment (GPS, orientation), an APP1 XMP segment and a
/// comment right after the start-of-image marker.
pub fn phone_jpeg(orientation: u16) -> Vec<u8> {
    let plain = encode(&DynamicImage::ImageRgb8(photo()), ImageFormat::Jpeg);
    assert_eq!(plain[..2], [0xFF, 0xD8]);
    let mut jpeg = plain[..2].to_vec();
    jpeg.extend(segment(0xE1, &[b"Exif\0\0".as_slice(), &exif_tiff(orientation)].concat()));
    jpeg.extend(segment(0xE1, XMP));
    jpeg.extend(segment(0xFE, COMMENT));
    jpeg.extend(&plain[2..]);
    jpeg
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Asserts that no metadata of the phone's came through.
pub fn assert_no_metadata(bytes: &[u8]) {
    assert!(!contains(bytes, b"Exif\0\0"), "an EXIF block");
    assert!(!contains(bytes, &gps_bytes()), "the GPS position");
    assert!(!contains(bytes, MAKE), "the camera's make");
    assert!(!contains(bytes, b"xmpmeta") && !contains(bytes, b"GPSLatitude"), "XMP");
    assert!(!contains(bytes, COMMENT), "the comment");
    assert!(exif::Reader::new().read_from_container(&mut Cursor::new(bytes)).is_err(), "EXIF readable");
}

pub fn decode(bytes: &[u8]) -> DynamicImage {
    ImageReader::new(Cursor::new(bytes)).with_guessed_format().expect("reads").decode().expect("decodes")
}

pub fn image_of(processed: &Processed) -> &Picture {
    processed.image.as_ref().expect("an image")
}

/// A PNG chunk: length, type, data, CRC-32 of type and data.
pub fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = u32::try_from(data.len()).expect("small").to_be_bytes().to_vec();
    c.extend(kind);
    c.extend(data);
    c.extend(crc32(&[kind.as_slice(), data].concat()).to_be_bytes());
    c
}

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// `png` with chunks inserted before its first IDAT.
pub fn with_chunks(png: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let idat = png.windows(4).position(|w| w == b"IDAT").expect("an IDAT") - 4;
    [&png[..idat], &chunks.concat(), &png[idat..]].concat()
}

/// A RIFF chunk: type, little-endian length, data padded to an even length.
pub fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = kind.to_vec();
    c.extend(u32::try_from(data.len()).expect("small").to_le_bytes());
    c.extend(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// A bucket and a queue named `name` on moto (`sdk`'s endpoint), S3 announcing each object created under
/// `uploads/` on the queue, as Terraform wires them: the S3 client, the SQS client and the queue's URL.
pub async fn bucket_announcing_uploads(
    sdk: &aws_config::SdkConfig,
    name: &str,
) -> (aws_sdk_s3::Client, aws_sdk_sqs::Client, String) {
    use aws_sdk_s3::types::{
        Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
        QueueConfiguration, S3KeyFilter,
    };
    let s3 =
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build());
    let sqs = aws_sdk_sqs::Client::new(sdk);
    s3.create_bucket().bucket(name).send().await.expect("bucket");
    let queue_url = sqs.create_queue().queue_name(name).send().await.expect("queue").queue_url.expect("url");
    let prefix =
        FilterRule::builder().name(FilterRuleName::Prefix).value(chat_files::keys::UPLOADS_PREFIX).build();
    let uploads_only = NotificationConfigurationFilter::builder()
        .key(S3KeyFilter::builder().filter_rules(prefix).build())
        .build();
    let queue = QueueConfiguration::builder()
        .queue_arn(format!("arn:aws:sqs:us-east-1:123456789012:{name}"))
        .events(Event::from("s3:ObjectCreated:*"))
        .filter(uploads_only)
        .build()
        .expect("queue configuration");
    s3.put_bucket_notification_configuration()
        .bucket(name)
        .notification_configuration(NotificationConfiguration::builder().queue_configurations(queue).build())
        .send()
        .await
        .expect("notification");
    (s3, sqs, queue_url)
}
