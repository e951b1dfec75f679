//! The tray icon's pictures, drawn from the one app icon so they always
//! match it: green when logged in, grey when logged out, grey with a padlock
//! when locked, and a red dot while a login request waits for an answer.

use tauri::image::Image;
use wxemu::core::ClientState;

/// The 32x32 tray picture (RGBA).
const BASE: &[u8] = include_bytes!("../icons/tray.png");

const RED: [u8; 4] = [0xfa, 0x51, 0x51, 0xff];
const LOCK: [u8; 4] = [0x3a, 0x3a, 0x3a, 0xff];

/// The tray picture for `state`, with the waiting badge when `waiting`.
pub fn picture(state: ClientState, waiting: bool) -> Image<'static> {
    let base = Image::from_bytes(BASE).expect("the tray icon is a valid PNG (compiled in)");
    let (width, height) = (base.width(), base.height());
    let mut rgba = base.rgba().to_vec();
    if state != ClientState::LoggedIn {
        grey(&mut rgba);
    }
    if state == ClientState::Locked {
        padlock(&mut rgba, width, height);
    }
    if waiting {
        badge(&mut rgba, width);
    }
    Image::new_owned(rgba, width, height)
}

/// Desaturated and lighter: "not signed in" in every tray theme.
fn grey(rgba: &mut [u8]) {
    for px in rgba.chunks_exact_mut(4) {
        let luma = (u32::from(px[0]) * 30 + u32::from(px[1]) * 59 + u32::from(px[2]) * 11) / 100;
        let v = (luma + 255) / 2;
        px[..3].fill(v as u8);
    }
}

fn put(rgba: &mut [u8], width: u32, x: u32, y: u32, color: [u8; 4]) {
    let i = ((y * width + x) * 4) as usize;
    if let Some(px) = rgba.get_mut(i..i + 4) {
        px.copy_from_slice(&color);
    }
}

/// A small padlock in the lower right quarter.
fn padlock(rgba: &mut [u8], width: u32, height: u32) {
    let (w, h) = (width * 7 / 16, height * 5 / 16);
    let (x0, y0) = (width - w - 1, height - h - 1);
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            put(rgba, width, x, y, LOCK);
        }
    }
    // The shackle: an arch above the body.
    let (cx, r) = (x0 + w / 2, w / 3);
    for y in y0.saturating_sub(r + 1)..y0 {
        for x in cx - r..=cx + r {
            let dx = x.abs_diff(cx);
            if dx + 1 >= r || y == y0.saturating_sub(r + 1) {
                put(rgba, width, x, y, LOCK);
            }
        }
    }
}

/// A red dot in the upper right corner.
fn badge(rgba: &mut [u8], width: u32) {
    let r = (width / 5).max(3) as i64;
    let (cx, cy) = (i64::from(width) - r - 1, r + 1);
    for y in cy - r..=cy + r {
        for x in cx - r..=cx + r {
            if (x - cx).pow(2) + (y - cy).pow(2) <= r * r && x >= 0 && y >= 0 {
                put(rgba, width, x as u32, y as u32, RED);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixel(image: &Image<'_>, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * image.width() + x) * 4) as usize;
        image.rgba()[i..i + 4].try_into().unwrap()
    }

    fn is_grey(px: [u8; 4]) -> bool {
        px[0] == px[1] && px[1] == px[2]
    }

    #[test]
    fn each_state_has_its_own_picture() {
        let logged_in = picture(ClientState::LoggedIn, false);
        let logged_out = picture(ClientState::LoggedOut, false);
        let locked = picture(ClientState::Locked, false);
        let waiting = picture(ClientState::LoggedIn, true);
        let pictures = [&logged_in, &logged_out, &locked, &waiting];
        for (i, a) in pictures.iter().enumerate() {
            for b in &pictures[i + 1..] {
                assert_ne!(a.rgba(), b.rgba(), "two states share a picture");
            }
        }
        let w = logged_in.width();
        assert!(logged_out
            .rgba()
            .chunks_exact(4)
            .all(|p| is_grey(p.try_into().unwrap())));
        // The badge: red in the upper right corner.
        let r = (w / 5).max(3);
        assert_eq!(pixel(&waiting, w - r - 1, r + 1), RED);
        assert_eq!(pixel(&locked, w - 4, w - 3), LOCK);
    }
}
