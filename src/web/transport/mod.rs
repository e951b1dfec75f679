//! Transport: what sits between a socket and the front. TLS
//! ([`tls`]), the connection discipline: a bounded number of connections,
//! idle ones parked ([`connections`], [`parking`]), the ready file a
//! started server writes ([`ready`]), and bounded request-body reading
//! ([`body`]) for the front and the handlers.

pub mod body;
pub mod connections;
pub mod parking;
pub mod ready;
pub mod tls;
