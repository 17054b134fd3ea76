//! Real Roster processes, started from the built binary and stopped for real: SIGKILL as a
//! crash does it, SIGTERM as `docker stop` does.

use std::{
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

/// How long a process may take to answer `/readyz` once started. Waiting up to this long is
/// no race: the test only goes on once the server answers.
const START_LIMIT: Duration = Duration::from_secs(60);

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs a `roster` command to its end against `database_url`, with `stdin` as its input.
pub fn roster(database_url: &str, args: &[&str], stdin: &str) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "roster {args:?}");
}

/// One `roster serve` process.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    /// Starts a server and waits until it is ready; `env` adds settings.
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_roster"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("ROSTER_BIND", format!("127.0.0.1:{port}"))
            .env("ROSTER_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the roster binary starts");
        let server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        let client = super::browser();
        loop {
            let ready = client.get(format!("{}/readyz", server.url)).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return server;
            }
            assert!(started.elapsed() < START_LIMIT, "the server became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process dies where it stands, as in a crash or an OOM kill.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("the killed process is reaped");
    }

    /// SIGTERM, then waits for the process to exit; returns how it exited and how long it took.
    pub async fn terminate(mut self) -> (ExitStatus, Duration) {
        let sent = Instant::now();
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM runs");
        assert!(status.success());
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the process") {
                return (status, sent.elapsed());
            }
            assert!(
                sent.elapsed() < START_LIMIT,
                "the process exited after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
