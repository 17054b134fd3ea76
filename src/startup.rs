//! Building and running the server: storage, the first-start setup link, the HTTP app, and the
//! import worker beside it. Tests start exactly this on port 0.

use std::{future::Future, net::SocketAddr};

use tokio::{net::TcpListener, sync::watch};

use crate::{
    config::Config,
    domain::Clock,
    http::{
        self, AppState, session,
        timeouts::{Peer, TimedListener},
    },
    jobs::{Worker, WorkerStatus},
    storage::Storage,
};

pub struct Application {
    listener: TcpListener,
    state: AppState,
    setup_url: Option<String>,
    worker: WorkerMode,
}

/// Whether the import worker runs beside the server. Tests that drive jobs step by step turn
/// it off and call [`Worker::step`] themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkerMode {
    #[default]
    Background,
    Off,
}

impl WorkerMode {
    fn status(self) -> WorkerStatus {
        match self {
            WorkerMode::Background => WorkerStatus::expected(),
            WorkerMode::Off => WorkerStatus::not_expected(),
        }
    }
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        Self::build_with(config, Clock::system(), WorkerMode::Background).await
    }

    /// As [`Application::build`], with the clock every lease and session reads, and the worker
    /// on or off.
    pub async fn build_with(
        config: Config,
        clock: Clock,
        worker: WorkerMode,
    ) -> anyhow::Result<Application> {
        let storage = Storage::connect(&config.database_url)
            .await?
            .with_clock(clock);
        storage.migrate().await?;
        let listener = TcpListener::bind(config.bind).await?;
        let address = listener.local_addr()?;
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        let setup_url = announce_setup(&storage, &base_url).await?;
        Ok(Application {
            listener,
            state: AppState::new(storage, config, worker.status()),
            setup_url,
            worker,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn storage(&self) -> &Storage {
        &self.state.storage
    }

    /// The one-time link printed at first start, while no master administrator exists.
    pub fn setup_url(&self) -> Option<&str> {
        self.setup_url.as_deref()
    }

    /// Serves until `shutdown` completes, with the import worker running beside the server.
    /// Then the server stops taking connections, the worker finishes the batch it is on and
    /// gives its job back, and both are waited for at most the configured grace
    /// (`ROSTER_SHUTDOWN_SECONDS`), so a stop never hangs on a slow client.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stopping, stop_requested) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stopping.send(true);
        });
        let worker = (self.worker == WorkerMode::Background).then(|| {
            let worker = Worker::new(self.state.storage.clone(), (*self.state.config).clone());
            tokio::spawn(worker.run(self.state.worker.clone(), stop_requested.clone()))
        });
        let app = http::router(self.state.clone());
        tracing::info!(address = %self.address(), "Roster is serving");
        let listener = TimedListener {
            inner: self.listener,
            head_limit: self.state.config.header_timeout,
        };
        let serve = axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
            .with_graceful_shutdown(requested(stop_requested.clone()));
        let everything = async {
            serve.await?;
            if let Some(worker) = worker {
                let _ = worker.await;
            }
            anyhow::Ok(())
        };
        let grace = self.state.config.shutdown_grace;
        let deadline = async {
            requested(stop_requested).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = everything => result?,
            _ = deadline => tracing::warn!(?grace, "stopping without waiting any longer"),
        }
        // Closing waits for every connection to come back; one held by a task that will never
        // return it (a request or a job step stuck past the grace) must not keep the process up.
        if tokio::time::timeout(grace, self.state.storage.close())
            .await
            .is_err()
        {
            tracing::warn!(?grace, "stopping with database connections still in use");
        }
        tracing::info!("Roster stopped");
        Ok(())
    }
}

/// Resolves once a stop was asked for.
async fn requested(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// With no master administrator yet, makes a one-time link and logs it. The token's hash is
/// stored, so any process sharing the database accepts it, and it dies when used.
async fn announce_setup(storage: &Storage, base_url: &str) -> anyhow::Result<Option<String>> {
    if storage.master_admin_exists().await? {
        return Ok(None);
    }
    let token = session::random_token();
    storage
        .add_setup_token(&session::token_hash(&token))
        .await?;
    let url = format!("{}/setup/{token}", base_url.trim_end_matches('/'));
    tracing::warn!("No master administrator yet. Open this one-time link to create one: {url}");
    eprintln!("\n  Create the first master administrator: {url}\n");
    Ok(Some(url))
}

/// Ctrl-C or SIGTERM (what `docker stop` sends).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
