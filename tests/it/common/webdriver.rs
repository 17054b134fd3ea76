//! A headless Chromium for the browser tests, driven through a chromedriver each test starts
//! for itself on a free port and kills when it ends (pass or panic).
//!
//! Every wait here has a deadline: a browser test fails, it never hangs.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element, wd::TimeoutConfiguration};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// Names the chromedriver to use; `.ci/run` sets it. Without it, `chromedriver` on PATH.
pub const CHROMEDRIVER_ENV: &str = "ROSTER_TEST_CHROMEDRIVER";

/// How long a page may take to show what a test waits for. Generous: the machine is shared
/// and the other test binaries may be hashing passwords at the same time.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// chromedriver, or None when there is none to run.
fn chromedriver() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(CHROMEDRIVER_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{CHROMEDRIVER_ENV}={} is not a file",
            path.display()
        );
        return Some(path);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join("chromedriver"))
        .find(|candidate| candidate.is_file())
}

/// The chromedriver process, in a process group of its own so that the Chromium it starts
/// goes down with it even when a test panics before closing its session.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free local port")
}

impl Driver {
    /// Starts chromedriver and waits (bounded) until it answers. The port is picked free just
    /// before; if another process takes it in between, a new one is tried.
    async fn start(path: &Path) -> Driver {
        for _ in 0..3 {
            let port = free_port();
            let child = {
                use std::os::unix::process::CommandExt;
                Command::new(path)
                    .arg(format!("--port={port}"))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .process_group(0)
                    .spawn()
                    .unwrap_or_else(|error| panic!("start {}: {error}", path.display()))
            };
            let mut driver = Driver { child, port };
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = driver.child.try_wait() {
                    break;
                }
                if driver.ready().await {
                    return driver;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        panic!("chromedriver did not start ({})", path.display());
    }

    async fn ready(&self) -> bool {
        let url = format!("http://127.0.0.1:{}/status", self.port);
        let Ok(response) = reqwest::get(url).await else {
            return false;
        };
        let Ok(status) = response.json::<serde_json::Value>().await else {
            return false;
        };
        status["value"]["ready"] == true
    }
}

/// One headless Chromium session with its own profile and download folder, which saves a
/// numbered screenshot per step under `tests-output/browser/<test>/`.
pub struct Browser {
    pub client: Client,
    downloads: tempfile::TempDir,
    shots: PathBuf,
    step: AtomicUsize,
    _profile: tempfile::TempDir,
    // Last: the session is dropped before its driver is killed.
    driver: Driver,
}

impl Browser {
    /// A browser with JavaScript on, or None (said loudly) when there is no chromedriver.
    pub async fn start(test: &str) -> Option<Browser> {
        Self::start_with(test, true).await
    }

    pub async fn start_with(test: &str, javascript: bool) -> Option<Browser> {
        let Some(path) = chromedriver() else {
            super::shout(&format!(
                "SKIPPED: browser test {test} did not run: no chromedriver \
                 ({CHROMEDRIVER_ENV} is not set and none is on PATH). \
                 Install it with `apt-get install chromium chromium-driver`; .ci/run does."
            ));
            return None;
        };
        let driver = Driver::start(&path).await;
        let profile = tempfile::tempdir().expect("a profile folder");
        let downloads = tempfile::tempdir().expect("a download folder");
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--window-size=1400,900".to_owned(),
            "--lang=en-US".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut prefs = json!({
            "download.default_directory": downloads.path().display().to_string(),
            "download.prompt_for_download": false,
            "download.directory_upgrade": true,
            "safebrowsing.enabled": false,
        });
        if !javascript {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
            args.push("--blink-settings=scriptEnabled=false".to_owned());
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "args": args, "prefs": prefs },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("an object literal")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("chromedriver opens a Chromium session (is chromium installed?)");
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(10)),
                Some(Duration::from_secs(30)),
                Some(Duration::ZERO),
            ))
            .await
            .expect("set timeouts");

        let shots = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests-output/browser")
            .join(test);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).expect("create the screenshot folder");
        Some(Browser {
            client,
            downloads,
            shots,
            step: AtomicUsize::new(0),
            _profile: profile,
            driver,
        })
    }

    /// Checks that no page logged an error (script, CSP, failed request) during the whole
    /// test, then ends the session cleanly; the driver is killed when `self` drops.
    pub async fn close(self) {
        let errors = self.console_errors().await;
        assert!(errors.is_empty(), "the pages logged errors: {errors:#?}");
        let Browser { client, .. } = self;
        let _ = client.close().await;
    }

    /// What the pages wrote to the console as errors since the last call: script errors, CSP
    /// refusals, failed requests. Read from chromedriver's log endpoint, which fantoccini
    /// does not wrap.
    pub async fn console_errors(&self) -> Vec<String> {
        let session = self
            .client
            .session_id()
            .await
            .expect("a session id")
            .expect("an open session");
        let url = format!(
            "http://127.0.0.1:{}/session/{session}/se/log",
            self.driver.port
        );
        let log: serde_json::Value = reqwest::Client::new()
            .post(url)
            .json(&json!({ "type": "browser" }))
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("a JSON log");
        log["value"]
            .as_array()
            .expect("log entries")
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            // Chromium asks every site for an icon; Roster has none.
            .filter(|message| !message.contains("/favicon.ico"))
            .collect()
    }

    /// Takes the errors logged so far, which must all be (and include) the expected one, e.g.
    /// the status of a form shown again with its messages.
    pub async fn expect_logged(&self, fragment: &str) {
        let errors = self.console_errors().await;
        assert!(
            !errors.is_empty() && errors.iter().all(|error| error.contains(fragment)),
            "expected only {fragment:?} in the console, got {errors:#?}"
        );
    }

    /// Resizes the window, as a person with a smaller screen has it.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize the window");
    }

    /// Whether the page, or its workspace pane, is wider than the room it has (a horizontal
    /// scroll bar). A table inside `.table-scroll` may scroll on its own.
    pub async fn overflows(&self) -> bool {
        let wider = self
            .client
            .execute(
                "const wide = (e) => !!e && e.scrollWidth > e.clientWidth + 1; \
                 return wide(document.documentElement) || wide(document.querySelector('.workspace'))",
                vec![],
            )
            .await
            .expect("measure the page");
        wider.as_bool().unwrap_or(true)
    }

    /// Saves the viewport as `NN-step.png`.
    pub async fn shot(&self, step: &str) {
        let number = self.step.fetch_add(1, Ordering::Relaxed) + 1;
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = self.shots.join(format!("{number:02}-{step}.png"));
        std::fs::write(&path, png).expect("save the screenshot");
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|error| panic!("open {url}: {error}"));
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("find {css}: {error}"))
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("find {css}: {error}"))
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self.find_all(css).await.is_empty()
    }

    /// Like `exists`, for polling while a page may be loading: an error counts as "not yet".
    pub async fn present(&self, css: &str) -> bool {
        self.client
            .find_all(Locator::Css(css))
            .await
            .is_ok_and(|found| !found.is_empty())
    }

    /// Whether the element matching `css` is shown (not hidden, not in a closed `<details>`).
    pub async fn shown(&self, css: &str) -> bool {
        self.find(css)
            .await
            .is_displayed()
            .await
            .unwrap_or_else(|error| panic!("is {css} displayed: {error}"))
    }

    /// A form field's current value (what the user sees typed in it).
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .expect("a field value")
            .unwrap_or_default()
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text")
    }

    /// Types into a field after emptying it.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear a field");
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|error| panic!("type into {css}: {error}"));
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|error| panic!("click {css}: {error}"));
    }

    /// Clicks something that loads another page, and waits until the page has changed.
    pub async fn click_and_wait(&self, css: &str) {
        let old = self.find("html").await;
        self.click(css).await;
        self.wait_for_new_page(&old, &format!("the page after clicking {css}"))
            .await;
    }

    /// Presses Enter in a field (submitting its form), and waits for the next page.
    pub async fn enter_and_wait(&self, css: &str) {
        let old = self.find("html").await;
        self.find(css)
            .await
            .send_keys("\u{e007}")
            .await
            .unwrap_or_else(|error| panic!("press Enter in {css}: {error}"));
        self.wait_for_new_page(&old, &format!("the page after Enter in {css}"))
            .await;
    }

    /// Waits until the document whose root was `old` has been replaced by another.
    pub async fn wait_for_new_page(&self, old: &Element, what: &str) {
        self.until_within(PATIENCE, what, async || {
            // The old document's element goes stale once the next page has replaced it.
            old.tag_name().await.is_err()
        })
        .await;
        self.until("the next page to load", async || {
            let ready = self
                .client
                .execute("return document.readyState", vec![])
                .await;
            // With script off the command may be refused; the page is then simply checked
            // by what the caller waits for next.
            ready.map_or(true, |state| state == "complete")
        })
        .await;
    }

    /// Waits (bounded by PATIENCE) until `check` says yes.
    pub async fn until(&self, what: &str, check: impl AsyncFn() -> bool) {
        self.until_within(PATIENCE, what, check).await;
    }

    pub async fn until_within(&self, limit: Duration, what: &str, check: impl AsyncFn() -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            if check().await {
                return;
            }
            if Instant::now() > deadline {
                let page = self.client.source().await.unwrap_or_default();
                panic!("waited {limit:?} for {what}; the page is:\n{page}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until a download named `name` has finished, and returns its bytes.
    pub async fn downloaded(&self, name: &str) -> Vec<u8> {
        let path = self.downloads.path().join(name);
        let partial = self.downloads.path().join(format!("{name}.crdownload"));
        self.until(&format!("the download {name}"), async || {
            path.metadata().is_ok_and(|meta| meta.len() > 0) && !partial.exists()
        })
        .await;
        std::fs::read(&path).expect("read the downloaded file")
    }
}
