//! The Emulator's operations on the state kept in the folders beside this
//! one (QR logins, Web WeChat, web authorization, the JS-SDK): each an `impl Emulator` block, so the state
//! never imports the Emulator that holds it.

mod h5_calls;
mod jssdk;
mod oauth2;
mod qr;
mod webwx;

pub use qr::auto_answer;
