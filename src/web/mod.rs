//! The HTTP surface, one folder per floor (each imports only those below it):
//!
//! - [`server`]: the top: a [`server::Server`] binds the listeners and
//!   hands every connection to the front (interception's too);
//! - [`front`]: the one pass every request makes: host check, the route
//!   match, the journal, access ([`front::guard`]), fault injection
//!   ([`front::faults`]), errors in the route's wire format
//!   ([`front::wire`]), then the handler bound to the route
//!   ([`front::routes`]);
//! - [`surfaces`]: the wire surfaces, one module each: fast login, the
//!   Open Platform, H5 (JS-SDK), Web WeChat, avatars, the demo site, the
//!   control API;
//! - [`intercept`]: the proxy and hosts mode, which feed intercepted TLS
//!   connections to the same front;
//! - [`transport`]: TLS, the connection discipline, the ready file,
//!   bounded body reading;
//! - shared by the front and the surfaces: the endpoint [`registry`]
//!   (every route, its access and its [`registry::Wire`]) and the
//!   [`marks`] handlers leave for the layers.

pub mod front;
pub mod intercept;
pub mod marks;
pub mod registry;
pub mod server;
pub mod surfaces;
pub mod transport;
