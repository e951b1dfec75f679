//! Drawn avatars: webwxgeticon / webwxgetheadimg, and the scanning
//! account's picture in the login poll's 201. Offline, deterministic per
//! name: a colour from the name's hash and a lighter disc.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::web::surfaces::openplatform::query_params;
use wxemu_core::Emulator;

const SIDE: u32 = 132;

/// A 132x132 RGB PNG for `seed`.
pub fn avatar_png(seed: &str) -> Vec<u8> {
    let mut hash: u32 = 0x811c_9dc5;
    for b in seed.bytes() {
        hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let base = [
        (hash >> 16) as u8 | 0x40,
        (hash >> 8) as u8 | 0x40,
        hash as u8 | 0x40,
    ];
    let light = base.map(|c| c.saturating_add(70));
    let side = SIDE as i64;
    let mut pixels = Vec::with_capacity((SIDE * SIDE * 3) as usize);
    for y in 0..side {
        for x in 0..side {
            let (dx, dy) = (x - side / 2, y - side / 3);
            let in_head = dx * dx + dy * dy < (side / 5) * (side / 5);
            let (bx, by) = (x - side / 2, y - side);
            let in_body = bx * bx + by * by < (side * 2 / 5) * (side * 2 / 5);
            pixels.extend_from_slice(if in_head || in_body { &light } else { &base });
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, SIDE, SIDE);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Writing to a Vec with the right number of pixels cannot fail.
    if let Ok(mut writer) = encoder.write_header() {
        let _ = writer.write_image_data(&pixels);
        let _ = writer.finish();
    }
    out
}

/// `GET webwxgeticon?username=..&skey=..` and `webwxgetheadimg`: the
/// avatar of `username` (no secret in it, so no session is needed).
pub async fn icon(State(_emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    let params = query_params(query);
    let name = params.get("username").map(String::as_str).unwrap_or("");
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        avatar_png(name),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn avatars_are_pngs_that_differ_by_name() {
        let a = super::avatar_png("@a");
        assert!(a.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_ne!(a, super::avatar_png("@b"));
        assert_eq!(a, super::avatar_png("@a"));
    }
}
