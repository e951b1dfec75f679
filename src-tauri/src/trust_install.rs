//! Trust and Remove from the app (the welcome window, the Certificate
//! tab): the stores are split by who may write them. The per-user ones (NSS
//! databases in the home directory) are changed by the app itself; the
//! system-wide one needs an administrator and goes through the OS's prompt
//! ([`crate::elevate`]). One [`TrustLine`] per store either way.

use std::path::Path;

use wxemu_certs::{install_trust, uninstall_trust, CaCert, Outcome, StoreKind};

use crate::elevate::{self, Action};
use crate::trust::{lines, targets, TrustLine};

/// The system-wide store of this OS: written only by an administrator.
pub fn admin_kinds() -> Vec<StoreKind> {
    targets()
        .kinds
        .into_iter()
        .filter(|k| *k != StoreKind::Nss)
        .collect()
}

/// Installs (or removes) the CA of `data_dir` in every store: the user's
/// own stores directly, the system store through the elevation prompt.
pub fn apply(action: Action, data_dir: &Path) -> Vec<TrustLine> {
    let ca = match action {
        Action::Install => CaCert::ensure(data_dir),
        Action::Uninstall => CaCert::load(data_dir),
    };
    let ca = match ca {
        Ok(ca) => ca,
        Err(e) => return vec![TrustLine::new("CA", Outcome::Failed, e.to_string())],
    };
    let mut out = elevate::run(action, data_dir, &admin_kinds());
    let user = targets().only(&[StoreKind::Nss]);
    out.extend(lines(&match action {
        Action::Install => install_trust(&ca, &user),
        Action::Uninstall => uninstall_trust(&ca, &user),
    }));
    out
}
