//! The embedded wxemu server: the same [`wxemu::Server`] the CLI runs, with
//! the same data directory and config, started and stopped by the app.
//!
//! The app owns at most one server. When the port is taken the failure is
//! kept (with the port the real login page tries next) so the dashboard can
//! show it and offer to start on that port instead.

use std::sync::{Arc, Mutex};

use std::time::Duration;
use wxemu::core::lock;

use serde::Serialize;
use tauri::async_runtime::JoinHandle;
use tokio::sync::oneshot;
use wxemu::ServeError;
use wxemu::{Emulator, ServeOptions, Server};

/// How long quitting waits for the server to close its connections.
const STOP_TIMEOUT: Duration = Duration::from_secs(8);

/// What the app knows about its server.
#[derive(Default)]
enum Slot {
    #[default]
    NotStarted,
    Running {
        emulator: Arc<Emulator>,
        stop: oneshot::Sender<()>,
        task: JoinHandle<()>,
    },
    Failed(StartFailure),
    Stopped,
}

/// Why the server did not start, as the dashboard shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StartFailure {
    pub message: String,
    pub port: u16,
    /// Set when the port was taken: the port to offer instead.
    pub suggestion: Option<u16>,
}

pub struct EmbeddedServer {
    options: Mutex<ServeOptions>,
    slot: Mutex<Slot>,
}

impl EmbeddedServer {
    pub fn new(options: ServeOptions) -> EmbeddedServer {
        EmbeddedServer {
            options: Mutex::new(options),
            slot: Mutex::new(Slot::NotStarted),
        }
    }

    pub fn options(&self) -> ServeOptions {
        lock(&self.options).clone()
    }

    /// Binds (on `port` when given, else the configured one) and starts
    /// serving. A server already running is left alone.
    pub async fn start(&self, port: Option<u16>) -> Result<Arc<Emulator>, StartFailure> {
        if let Some(emulator) = self.emulator() {
            return Ok(emulator);
        }
        let options = {
            let mut options = lock(&self.options);
            if let Some(port) = port {
                options.port = port;
            }
            options.clone()
        };
        let bound = match Server::bind(options.clone()).await {
            // The proxy is for the WeChat window only: without it the rest
            // of the app still works.
            Err(ServeError::Intercept(e)) => {
                tracing::warn!("no interception proxy for the WeChat window: {e}");
                let mut without = options.clone();
                without.intercept = Default::default();
                Server::bind(without).await
            }
            other => other,
        };
        match bound {
            Ok(server) => {
                let emulator = server.emulator();
                let (stop, stopped) = oneshot::channel::<()>();
                let task = tauri::async_runtime::spawn(server.run(async move {
                    let _ = stopped.await;
                }));
                tracing::info!(port = emulator.port(), "wxemu server started");
                *lock(&self.slot) = Slot::Running {
                    emulator: emulator.clone(),
                    stop,
                    task,
                };
                Ok(emulator)
            }
            Err(e) => {
                let failure = StartFailure {
                    message: e.to_string(),
                    port: options.port,
                    suggestion: match e {
                        ServeError::PortInUse { suggestion, .. } => Some(suggestion),
                        _ => None,
                    },
                };
                tracing::error!("{}", failure.message);
                *lock(&self.slot) = Slot::Failed(failure.clone());
                Err(failure)
            }
        }
    }

    pub fn emulator(&self) -> Option<Arc<Emulator>> {
        match &*lock(&self.slot) {
            Slot::Running { emulator, .. } => Some(emulator.clone()),
            _ => None,
        }
    }

    pub fn failure(&self) -> Option<StartFailure> {
        match &*lock(&self.slot) {
            Slot::Failed(failure) => Some(failure.clone()),
            _ => None,
        }
    }

    /// Stops serving: pending authorize calls answer 10046 at once, open
    /// connections get a few seconds to finish.
    pub async fn stop(&self) {
        let slot = std::mem::replace(&mut *lock(&self.slot), Slot::Stopped);
        if let Slot::Running { stop, task, .. } = slot {
            let _ = stop.send(());
            if tokio::time::timeout(STOP_TIMEOUT, task).await.is_err() {
                tracing::warn!("the server did not stop within {STOP_TIMEOUT:?}");
            } else {
                tracing::info!("wxemu server stopped");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &std::path::Path, port: u16) -> ServeOptions {
        ServeOptions {
            port,
            ..ServeOptions::new(dir.to_owned())
        }
    }

    #[tokio::test]
    async fn a_taken_port_is_reported_with_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let first = EmbeddedServer::new(options(dir.path(), 0));
        let Ok(emu) = first.start(None).await else {
            panic!("port 0 must bind");
        };
        let taken = emu.port();

        let second = EmbeddedServer::new(options(dir.path(), taken));
        let Err(failure) = second.start(None).await else {
            panic!("a second server bound port {taken}");
        };
        assert_eq!(failure.port, taken);
        assert!(failure.suggestion.is_some(), "{failure:?}");
        assert!(failure.message.contains("already in use"), "{failure:?}");
        assert_eq!(second.failure(), Some(failure));

        // The fix the dashboard offers: start on another port.
        let Ok(emu2) = second.start(Some(0)).await else {
            panic!("port 0 must bind");
        };
        assert_ne!(emu2.port(), taken);
        assert!(second.failure().is_none());

        first.stop().await;
        second.stop().await;
        assert!(first.emulator().is_none());
        // The port is free again once stopped.
        let again = EmbeddedServer::new(options(dir.path(), taken));
        assert!(again.start(None).await.is_ok());
        again.stop().await;
    }

    #[tokio::test]
    async fn a_bad_interception_config_costs_only_the_proxy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[intercept]\nhosts = [\"localhost.weixin.qq.com\"]\n",
        )
        .unwrap();
        let mut with_proxy = options(dir.path(), 0);
        with_proxy.intercept.proxy_port = Some(0);
        let server = EmbeddedServer::new(with_proxy.clone());
        let Ok(emu) = server.start(None).await else {
            panic!("the server must start without its proxy");
        };
        assert!(emu.listening().intercept.is_none());
        server.stop().await;

        // A good config: the proxy runs.
        std::fs::remove_file(dir.path().join("config.toml")).unwrap();
        let server = EmbeddedServer::new(with_proxy);
        let Ok(emu) = server.start(None).await else {
            panic!("the server must start");
        };
        assert!(emu.listening().intercept.as_ref().unwrap().proxy.is_some());
        server.stop().await;
    }
}
