//! The HTTP surface, by floor (each imports only those below it):
//!
//! - transport: [`server`] (listeners, connection discipline with
//!   [`connections`] and [`parking`]), [`tls`], [`ready`];
//! - the front every request passes ([`front`]): [`routes`] (every handler
//!   bound to its route), [`faults`], [`journal`], [`guard`];
//! - the wire surfaces, one module each: [`fastlogin`], [`openplatform`],
//!   [`h5`], [`webwx`], [`avatar`], [`demo`], [`control`];
//! - interception: [`intercept`], [`proxy`];
//! - what they all share: the endpoint [`registry`], request [`body`]
//!   reading, the [`marks`] handlers leave for the layers.

pub mod avatar;
pub mod body;
pub mod connections;
pub mod control;
pub mod demo;
pub mod fastlogin;
pub mod faults;
pub mod front;
pub mod guard;
pub mod h5;
pub mod intercept;
pub mod journal;
pub mod marks;
pub mod openplatform;
pub mod parking;
pub mod proxy;
pub mod ready;
pub mod registry;
pub(crate) mod routes;
pub mod server;
pub mod tls;
pub mod webwx;
