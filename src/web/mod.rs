//! The web side of wxemu. For now: [`proxy`], the interception proxy.

pub mod proxy;
