//! `process` on real files made for the tests ([`support`]): a second EXIF reader (kamadak-exif) confirms
//! that the input carries the GPS position the output must not.

mod support;

use std::io::Cursor;

use chat_media::process::{AllowedTypes, MAX_PIXELS, MediaType, Processed, Refusal, THUMBNAIL_SIZE, process};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Rgb, RgbImage, Rgba, RgbaImage};

use support::*;

const MAX: u64 = 10 * 1024 * 1024;

fn allowed() -> AllowedTypes {
    AllowedTypes::default()
}

#[test]
fn a_phone_jpeg_comes_out_upright_without_its_gps_position_or_any_metadata() {
    let input = phone_jpeg(6);
    // The input really carries them, as another reader sees it.
    let exif = exif::Reader::new().read_from_container(&mut Cursor::new(&input)).expect("EXIF in the input");
    let latitude = exif.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY).expect("a GPS latitude");
    assert_eq!(latitude.display_value().to_string(), "48 deg 51 min 29.6 sec");
    let orientation = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY).expect("an orientation");
    assert_eq!(orientation.value.get_uint(0), Some(6));
    assert!(contains(&input, &gps_bytes()) && contains(&input, COMMENT) && contains(&input, XMP));

    let processed = process(&input, &allowed(), MAX).expect("kept");

    assert_eq!(processed.content_type, MediaType::Jpeg);
    assert_no_metadata(&processed.bytes);
    // Orientation 6: the stored pixels are turned 90° clockwise to be seen upright.
    let picture = image_of(&processed);
    assert_eq!((picture.width, picture.height), (32, 64));
    let mut decoder = ImageReader::new(Cursor::new(&processed.bytes))
        .with_guessed_format()
        .expect("reads")
        .into_decoder()
        .expect("a JPEG");
    assert_eq!(decoder.exif_metadata().expect("reads"), None);
    assert_eq!(decoder.dimensions(), (32, 64));
    let output = decode(&processed.bytes).into_rgb8();
    // The stored top-left corner is now the top-right one.
    let corner = output.get_pixel(28, 4);
    assert!(corner[0] > 200 && corner[2] < 60, "red top-right: {corner:?}");
    let other = output.get_pixel(4, 4);
    assert!(other[2] > 200 && other[0] < 60, "blue top-left: {other:?}");
    assert!(processed.bytes.len() < input.len() * 2, "re-encoded at a sane size");
}

#[test]
fn every_image_gets_a_jpeg_thumbnail_within_320_pixels_keeping_its_shape() {
    let big = DynamicImage::ImageRgb8(RgbImage::from_fn(1000, 400, |x, _| Rgb([(x % 256) as u8, 90, 30])));
    let processed = process(&encode(&big, ImageFormat::Jpeg), &allowed(), MAX).expect("kept");
    let picture = image_of(&processed);
    assert_eq!((picture.width, picture.height), (1000, 400));
    let thumbnail = decode(&picture.thumbnail);
    assert_eq!((thumbnail.width(), thumbnail.height()), (THUMBNAIL_SIZE, 128));
    assert!(picture.thumbnail.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG");

    // Never enlarged.
    let small = process(&phone_jpeg(1), &allowed(), MAX).expect("kept");
    let thumbnail = decode(&image_of(&small).thumbnail);
    assert_eq!((thumbnail.width(), thumbnail.height()), (64, 32));
}

#[test]
fn a_png_loses_its_text_and_exif_chunks_and_is_turned_upright() {
    let png = encode(&DynamicImage::ImageRgb8(photo()), ImageFormat::Png);
    let input = with_chunks(
        &png,
        &[
            chunk(b"tEXt", &[b"Comment\0".as_slice(), COMMENT].concat()),
            chunk(b"eXIf", &exif_tiff(6)),
            chunk(b"iTXt", &[b"XML:com.adobe.xmp\0\0\0\0\0".as_slice(), &XMP[29..]].concat()),
        ],
    );
    let parsed = exif::Reader::new().read_from_container(&mut Cursor::new(&input)).expect("EXIF in the PNG");
    assert!(parsed.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY).is_some());

    let processed = process(&input, &allowed(), MAX).expect("kept");

    assert_eq!(processed.content_type, MediaType::Png);
    for kind in [b"tEXt", b"eXIf", b"iTXt", b"zTXt"] {
        assert!(!contains(&processed.bytes, kind), "{}", String::from_utf8_lossy(kind));
    }
    assert_no_metadata(&processed.bytes);
    assert_eq!((image_of(&processed).width, image_of(&processed).height), (32, 64));
    assert_eq!(decode(&processed.bytes).into_rgb8().get_pixel(31, 0), &Rgb([255, 0, 0]), "lossless, turned");
}

#[test]
fn a_png_declared_as_a_pdf_is_kept_as_the_png_it_is() {
    // `process` never sees the declared type or the name: what the bytes are is what is kept.
    let png = encode(&DynamicImage::ImageRgb8(photo()), ImageFormat::Png);
    let processed = process(&png, &allowed(), MAX).expect("kept");
    assert_eq!(processed.content_type, MediaType::Png);
    assert_eq!(processed.content_type.as_str(), "image/png");

    let only_pdf = AllowedTypes::parse(&["application/pdf"]).expect("known");
    let refusal = process(&png, &only_pdf, MAX).expect_err("PNG not allowed");
    assert_eq!(refusal, Refusal::NotAllowed(MediaType::Png));
    assert_eq!(refusal.to_string(), "PNG images are not accepted");
}

#[test]
fn a_transparent_png_gets_a_thumbnail_on_white() {
    let clear = DynamicImage::ImageRgba8(RgbaImage::from_pixel(400, 200, Rgba([255, 0, 0, 0])));
    let processed = process(&encode(&clear, ImageFormat::Png), &allowed(), MAX).expect("kept");
    let thumbnail = decode(&image_of(&processed).thumbnail).into_rgb8();
    assert_eq!(thumbnail.dimensions(), (320, 160));
    let pixel = thumbnail.get_pixel(100, 50);
    assert!(pixel.0.iter().all(|&c| c > 245), "white, not black or red: {pixel:?}");
    // The original keeps its transparency.
    assert!(decode(&processed.bytes).color().has_alpha());
}

#[test]
fn a_webp_with_exif_is_encoded_again_without_it() {
    let plain = encode(&DynamicImage::ImageRgb8(photo()), ImageFormat::WebP);
    assert_eq!(&plain[12..16], b"VP8L", "image writes a simple lossless WebP");
    // The extended format: VP8X (EXIF flag, canvas size), the bitstream, then EXIF.
    let mut vp8x = vec![0x08, 0, 0, 0];
    vp8x.extend(&63u32.to_le_bytes()[..3]);
    vp8x.extend(&31u32.to_le_bytes()[..3]);
    let body =
        [b"WEBP".as_slice(), &riff_chunk(b"VP8X", &vp8x), &plain[12..], &riff_chunk(b"EXIF", &exif_tiff(6))]
            .concat();
    let input =
        [b"RIFF".as_slice(), &u32::try_from(body.len()).expect("small").to_le_bytes(), &body].concat();
    let mut decoder = ImageReader::new(Cursor::new(&input))
        .with_guessed_format()
        .expect("reads")
        .into_decoder()
        .expect("a WebP");
    assert!(decoder.exif_metadata().expect("reads").is_some_and(|exif| contains(&exif, &gps_bytes())));

    let processed = process(&input, &allowed(), MAX).expect("kept");

    assert_eq!(processed.content_type, MediaType::Webp);
    assert!(!contains(&processed.bytes, b"EXIF"));
    assert_no_metadata(&processed.bytes);
    assert_eq!((image_of(&processed).width, image_of(&processed).height), (32, 64));
}

#[test]
fn a_pdf_passes_unchanged_even_after_a_few_bytes_of_junk() {
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
    let processed = process(&pdf, &allowed(), MAX).expect("kept");
    assert_eq!(processed, Processed { content_type: MediaType::Pdf, bytes: pdf.clone(), image: None });
    let late = [b"\x00\x01junk\r\n".as_slice(), &pdf].concat();
    assert_eq!(process(&late, &allowed(), MAX).expect("kept").content_type, MediaType::Pdf);
    let too_late = [vec![0u8; 1024], pdf].concat();
    assert_eq!(process(&too_late, &allowed(), MAX), Err(Refusal::Unknown));
}

#[test]
fn text_declared_as_a_jpeg_is_refused_as_text() {
    let refusal = process(b"hello, this is not a photo\n", &allowed(), MAX).expect_err("text");
    assert_eq!(refusal.to_string(), "text files are not supported");
}

#[test]
fn an_iphone_heic_photo_is_refused_with_what_to_send_instead() {
    let mut heic = vec![0, 0, 0, 0x18];
    heic.extend(b"ftypheic\0\0\0\0mif1heic");
    heic.extend([0u8; 64]);
    let refusal = process(&heic, &allowed(), MAX).expect_err("HEIC");
    assert_eq!(refusal, Refusal::Heic);
    assert_eq!(refusal.to_string(), "HEIC photos are not supported: send a JPEG");
}

#[test]
fn executables_archives_and_unknown_bytes_are_refused_naming_what_they_are() {
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.extend([0u8; 56]);
    assert_eq!(process(&elf, &allowed(), MAX).expect_err("ELF").to_string(), "executables are not supported");
    let mut exe = b"MZ\x90\0".to_vec();
    exe.extend([0u8; 60]);
    assert_eq!(process(&exe, &allowed(), MAX).expect_err("PE").to_string(), "executables are not supported");
    let zip = b"PK\x03\x04\x14\0\0\0\0\0".repeat(4);
    assert_eq!(process(&zip, &allowed(), MAX).expect_err("zip").to_string(), "archives are not supported");
    let noise: Vec<u8> = (0..256u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80).collect();
    assert_eq!(process(&noise, &allowed(), MAX).expect_err("noise").to_string(), "unknown file type");
    assert_eq!(process(b"", &allowed(), MAX), Err(Refusal::Empty));
}

#[test]
fn a_gif_is_refused_unless_allowed_and_then_keeps_its_frames_without_its_comment() {
    let mut gif = Vec::new();
    {
        let palette = [255, 0, 0, 0, 0, 255];
        let mut encoder = gif::Encoder::new(&mut gif, 40, 20, &palette).expect("encoder");
        encoder.set_repeat(gif::Repeat::Infinite).expect("loops");
        for colour in [0u8, 1] {
            let mut frame = gif::Frame::default();
            (frame.width, frame.height, frame.delay) = (40, 20, 10);
            frame.buffer = vec![colour; 800].into();
            encoder.write_frame(&frame).expect("frame");
        }
    }
    // A comment extension after the global palette (header 6 + screen 7 + palette 6).
    let comment = [&[0x21, 0xFE, COMMENT.len() as u8][..], COMMENT, &[0]].concat();
    let input = [&gif[..19], &comment, &gif[19..]].concat();

    let refusal = process(&input, &allowed(), MAX).expect_err("GIF off by default");
    assert_eq!(refusal.to_string(), "GIF images are not accepted");

    let with_gif = AllowedTypes::parse(&["image/jpeg", "image/gif"]).expect("known");
    let processed = process(&input, &with_gif, MAX).expect("kept");
    assert_eq!(processed.content_type, MediaType::Gif);
    assert!(!contains(&processed.bytes, COMMENT));
    let mut decoder = gif::DecodeOptions::new().read_info(processed.bytes.as_slice()).expect("a GIF");
    let mut frames = 0;
    while decoder.read_next_frame().expect("decodes").is_some() {
        frames += 1;
    }
    assert_eq!((frames, decoder.repeat()), (2, gif::Repeat::Infinite));
    let thumbnail = decode(&image_of(&processed).thumbnail).into_rgb8();
    assert_eq!(thumbnail.dimensions(), (40, 20));
    assert!(thumbnail.get_pixel(20, 10)[0] > 200, "the first frame, red");
}

#[test]
fn a_decompression_bomb_is_refused_from_its_header() {
    // A valid PNG header declaring 100000 × 100000 RGBA (40 GB decoded) and one tiny IDAT.
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    let idat = chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    let bomb =
        [b"\x89PNG\r\n\x1a\n".as_slice(), &chunk(b"IHDR", &ihdr), &idat, &chunk(b"IEND", &[])].concat();
    assert_eq!(process(&bomb, &allowed(), MAX), Err(Refusal::TooManyPixels));

    // Within the decoders' side limits but over the pixel budget: refused before decoding too.
    let side = (MAX_PIXELS as f64).sqrt() as u32 + 10;
    let mut ihdr = side.to_be_bytes().to_vec();
    ihdr.extend(side.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let bomb =
        [b"\x89PNG\r\n\x1a\n".as_slice(), &chunk(b"IHDR", &ihdr), &idat, &chunk(b"IEND", &[])].concat();
    let refusal = process(&bomb, &allowed(), MAX).expect_err("too many pixels");
    assert_eq!(refusal.to_string(), "the image is too large: at most 40 megapixels");
}

#[test]
fn a_file_over_the_limit_is_refused_naming_the_limit() {
    let jpeg = phone_jpeg(1);
    let limit = u64::try_from(jpeg.len()).expect("small") - 1;
    assert_eq!(process(&jpeg, &allowed(), limit), Err(Refusal::TooLarge { max_bytes: limit }));
    let huge = vec![0xFFu8; 10 * 1024 * 1024 + 1];
    assert_eq!(process(&huge, &allowed(), MAX).expect_err("over").to_string(), "larger than 10 MB");
}

#[test]
fn a_truncated_image_is_refused_as_damaged() {
    let png = encode(&DynamicImage::ImageRgb8(photo()), ImageFormat::Png);
    let refusal = process(&png[..png.len() / 2], &allowed(), MAX).expect_err("truncated");
    assert_eq!(refusal.to_string(), "the image is damaged or incomplete");
}
