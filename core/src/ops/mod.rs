//! The Emulator's operations on the state kept in the folders beside this
//! one (the Open Platform's apps, tokens, QR logins and web authorization;
//! Web WeChat; the JS-SDK; H5 calls): each an `impl Emulator` block, so
//! the state never imports the Emulator that holds it.

pub(crate) mod apps;
mod h5_calls;
mod jssdk;
mod oauth2;
mod qr;
mod tokens;
mod webwx;

pub use qr::auto_answer;
