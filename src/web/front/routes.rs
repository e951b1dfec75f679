//! Every handler bound to its registry route, and the per-host-family
//! routers built from them: the one place that knows every wire surface.

use std::sync::Arc;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

use crate::web::registry::{self, Binding, HostFamily, Route};
use crate::web::surfaces::{avatar, control, demo, fastlogin, h5, openplatform, webwx};
use wxemu_core::Emulator;

/// Every handler, bound to its route.
fn bindings() -> Vec<Binding> {
    let mut all: Vec<Binding> = vec![
        (&registry::INDEX, get(index)),
        (&registry::AVATAR, get(avatar::serve)),
        (&registry::CHECK_LOGIN, post(fastlogin::check_login)),
        (&registry::AUTHORIZE, post(fastlogin::authorize)),
    ];
    all.extend(demo::routes());
    all.extend(openplatform::routes());
    all.extend(h5::routes());
    all.extend(control::routes());
    all.extend(webwx::routes());
    all
}

/// One axum router per host family (indexed by [`HostFamily::index`]),
/// holding the handlers of that family's routes. The front has already
/// matched the route, checked the method and run every guard; axum only
/// extracts path parameters and calls the handler.
///
/// Panics if a registry route has no handler or two: a programming error
/// every test that starts a server would show (and `every_route_is_bound`
/// names).
pub(crate) fn family_routers(emu: Arc<Emulator>) -> Vec<Router> {
    let mut routers: Vec<Router<Arc<Emulator>>> =
        HostFamily::ALL.iter().map(|_| Router::new()).collect();
    let mut bound: Vec<&'static Route> = Vec::new();
    for (route, handler) in bindings() {
        assert!(
            registry::ALL.iter().any(|r| std::ptr::eq(*r, route)),
            "{} is bound but not in registry::ALL",
            route.path
        );
        assert!(
            !bound.iter().any(|r| std::ptr::eq(*r, route)),
            "{} is bound twice",
            route.path
        );
        bound.push(route);
        for family in route.hosts {
            let router = &mut routers[family.index()];
            *router = std::mem::take(router).route(route.path, handler.clone());
        }
    }
    for route in registry::ALL {
        assert!(
            bound.iter().any(|r| std::ptr::eq(*r, *route)),
            "{} has no handler",
            route.path
        );
    }
    routers
        .into_iter()
        .map(|r| r.with_state(emu.clone()))
        .collect()
}

async fn index(State(emu): State<Arc<Emulator>>) -> impl IntoResponse {
    format!(
        "wxemu {} is running: a fake WeChat desktop client on port {}.\n",
        env!("CARGO_PKG_VERSION"),
        emu.port()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_bound_once() {
        let emu = std::sync::Arc::new(wxemu_core::Emulator::new(
            Default::default(),
            "/nonexistent/config.toml".into(),
            0,
            wxemu_core::ApprovalMode::Auto,
        ));
        let routers = super::family_routers(emu);
        assert_eq!(routers.len(), super::HostFamily::ALL.len());
    }
}
