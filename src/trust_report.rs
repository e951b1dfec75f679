//! What this machine's trust stores say about wxemu's interception CA:
//! one verdict and one line per store, for every view that shows it (the
//! control API, the `serve` banner, the desktop dashboard).

use std::path::PathBuf;

use serde_json::{json, Value};
use wxemu_certs::Verdict;

/// Asks this machine's trust stores about the interception CA at `path`
/// (blocking): the verdict ([`Report::verdict`](wxemu_certs::Report::verdict))
/// and one line per store. The control API, the `serve` banner and the
/// desktop dashboard all call this, so they cannot disagree.
pub fn intercept_ca_trust(path: PathBuf) -> (Verdict, Vec<Value>) {
    use wxemu_certs::{trust_status, CaCert, TrustTargets};
    let ca = wxemu_certs::read_pem_cert(&path)
        .and_then(|der| CaCert::from_der(wxemu_certs::CaKind::Intercept, path, der));
    let ca = match ca {
        Ok(ca) => ca,
        Err(e) => {
            return (
                Verdict::Unknown,
                vec![json!({"store": "all", "outcome": "failed", "detail": e})],
            )
        }
    };
    let report = trust_status(&ca, &TrustTargets::for_this_os());
    let state = report.verdict();
    let stores = report
        .stores
        .iter()
        .map(|s| json!({"store": s.store, "outcome": s.outcome.as_str(), "detail": s.detail}))
        .collect();
    (state, stores)
}
