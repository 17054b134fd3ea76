//! Settings: defaults, then environment (`DATABASE_URL`, `ROSTER_*`), then flags. clap's `env`
//! support gives exactly that order of precedence, so the command line and the server share it.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

use clap::{Args, Parser, Subcommand};

use crate::{
    domain::PasswordPolicy,
    import::{HashPool, Limits, RunSettings},
    storage::ImportMode,
};

#[derive(Debug, Parser)]
#[command(
    name = "roster",
    version,
    about = "Roster: the Admin Center for remote-support teams",
    after_help = "Settings come from the environment (ROSTER_*, DATABASE_URL) or as flags before \
                  the command: roster --bind 0.0.0.0:8080 serve. --database-url and --data-dir \
                  may also follow it."
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default when no command is given).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage administrators.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage agent groups.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Import agents from an .xlsx or .csv file into a group, as the web upload does.
    Import {
        /// The target group's path, e.g. "Support/Tier 1".
        #[arg(long)]
        group: String,
        /// The spreadsheet to import.
        file: PathBuf,
        /// Where to write the result spreadsheet (default: next to FILE, <name>.result.xlsx).
        #[arg(long)]
        result: Option<PathBuf>,
        /// What an email that already belongs to an agent of the group gets: create (the row
        /// fails), update (the agent is updated from the row) or skip.
        #[arg(long, default_value = "create")]
        mode: ImportMode,
        /// Check the file only: every row validated as for real, nothing created or changed.
        #[arg(long)]
        dry_run: bool,
        /// The agents created, and those whose password the file sets, must change their
        /// password at their next sign-in.
        #[arg(long)]
        must_change_password: bool,
    },
    /// Look after imports already queued.
    #[command(subcommand)]
    Imports(ImportsCommand),
    /// Print a group's agents as CSV on standard output (never with passwords).
    Export {
        #[arg(long)]
        group: String,
        /// Include the agents of every group below it.
        #[arg(long)]
        recursive: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an administrator. The password is asked twice, hidden, at a terminal; from a
    /// pipe it is the first line (a second line, if any, must repeat it).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Make a master administrator (everything, including other administrators).
        #[arg(long)]
        master: bool,
        /// A group path this administrator manages; repeat for several.
        #[arg(long = "group")]
        groups: Vec<String>,
    },
    /// Set an administrator's password, read as for `create`, and end their sessions and API
    /// tokens.
    Password {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportsCommand {
    /// Stop a queued or running import after its batch; rows not reached say so in its result.
    Cancel { id: i64 },
    /// Take an ended import back: the agents it created are deleted, the ones it updated get
    /// their earlier values, except agents changed since, which are kept and listed.
    Undo { id: i64 },
    /// List a group's imports, newest first.
    List {
        /// The group's path, e.g. "Support/Tier 1".
        #[arg(long)]
        group: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group by path, e.g. "Support/Tier 1", creating missing parents.
    Create { path: String },
}

#[derive(Clone, Args)]
pub struct Settings {
    /// sqlite://... or postgres://...; default: SQLite in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    #[arg(long, env = "ROSTER_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    #[arg(long, env = "ROSTER_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// The address people reach Roster at, for the setup link (default: http://BIND).
    #[arg(long, env = "ROSTER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Mark cookies Secure; set it when Roster is served over HTTPS.
    #[arg(long, env = "ROSTER_SECURE_COOKIES")]
    pub secure_cookies: bool,
    #[arg(long, env = "ROSTER_MAX_UPLOAD_BYTES", default_value_t = Limits::default().max_upload_bytes)]
    pub max_upload_bytes: u64,
    #[arg(
        long,
        env = "ROSTER_MAX_ROWS",
        default_value_t = Limits::default().max_rows
    )]
    pub max_rows: usize,
    #[arg(long, env = "ROSTER_MAX_UNPACKED_BYTES", default_value_t = Limits::default().max_unpacked_bytes)]
    pub max_unpacked_bytes: u64,
    #[arg(
        long,
        env = "ROSTER_MAX_ARCHIVE_ENTRIES",
        default_value_t = Limits::default().max_archive_entries
    )]
    pub max_archive_entries: usize,
    /// Memory one uploaded sheet may take once read (cells, shared strings, styles), in bytes.
    #[arg(long, env = "ROSTER_MAX_SHEET_BYTES", default_value_t = Limits::default().max_sheet_bytes)]
    pub max_sheet_bytes: u64,
    #[arg(long, env = "ROSTER_PASSWORD_MIN_LENGTH", default_value_t = 8)]
    pub password_min_length: usize,
    /// Character classes every password needs, comma-separated: lower,upper,digit,symbol.
    #[arg(long, env = "ROSTER_PASSWORD_REQUIRE", default_value = "")]
    pub password_require: String,
    /// An API token lasts until it is revoked, its administrator's password changes, or it
    /// goes unused this many days.
    #[arg(long, env = "ROSTER_API_TOKEN_IDLE_DAYS", default_value_t = 30)]
    pub api_token_idle_days: u64,
    #[arg(long, env = "ROSTER_RESULT_RETENTION_DAYS", default_value_t = 30)]
    pub result_retention_days: u32,
    #[arg(long, env = "ROSTER_SESSION_IDLE_MINUTES", default_value_t = 60)]
    pub session_idle_minutes: u64,
    #[arg(long, env = "ROSTER_SESSION_MAX_HOURS", default_value_t = 12)]
    pub session_max_hours: u64,
    /// How long a job stays claimed without a heartbeat before another process takes it over.
    /// A process renews its lease every third of it while it works, so this is also how long
    /// an import waits after its process crashed. Shorter resumes sooner; too short, and a
    /// process stalled that long (a slow database) loses the job to another, which costs
    /// only the batch in flight.
    #[arg(long, env = "ROSTER_JOB_LEASE_SECONDS", default_value_t = 10)]
    pub job_lease_seconds: u64,
    /// Threads a process hashes imported passwords on (hashing is nearly all of an import's
    /// work). Default: one per core; fewer keeps cores free for the pages.
    #[arg(long, env = "ROSTER_HASH_THREADS")]
    pub hash_threads: Option<usize>,
    /// On SIGTERM or Ctrl-C, how long to wait for requests and the batch in progress to finish
    /// before exiting anyway.
    #[arg(long, env = "ROSTER_SHUTDOWN_SECONDS", default_value_t = 10)]
    pub shutdown_seconds: u64,
    /// How long a client may take to send a request's head (request line and headers), from
    /// its first byte; then 408.
    #[arg(long, env = "ROSTER_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    pub header_timeout_seconds: u64,
    /// How long a client may take to send a request's body, from its head (long enough for
    /// the largest upload on a slow line); then 408.
    #[arg(long, env = "ROSTER_BODY_TIMEOUT_SECONDS", default_value_t = 120)]
    pub body_timeout_seconds: u64,
    /// Reverse proxies (comma-separated addresses) whose `X-Forwarded-For` names the client:
    /// the sign-in throttle then counts each client behind them on its own. Requests from any
    /// other address are counted by the address they come from, whatever they claim.
    #[arg(long, env = "ROSTER_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("data_dir", &self.data_dir)
            .field("bind", &self.bind)
            .finish_non_exhaustive()
    }
}

/// Everything the running product needs, resolved from [`Settings`].
#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub public_url: Option<String>,
    pub secure_cookies: bool,
    pub limits: Limits,
    pub password_policy: PasswordPolicy,
    pub result_retention: Duration,
    pub session_idle: Duration,
    pub session_max: Duration,
    /// How long an unused API token lasts.
    pub token_idle: Duration,
    pub job_lease: Duration,
    pub shutdown_grace: Duration,
    /// None: one hashing thread per core.
    pub hash_threads: Option<usize>,
    pub trusted_proxies: Vec<IpAddr>,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
}

impl Config {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Config> {
        let database_url = match &settings.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => {
                std::fs::create_dir_all(&settings.data_dir)?;
                format!(
                    "sqlite://{}/roster.db?mode=rwc",
                    settings.data_dir.display()
                )
            }
        };
        Ok(Config {
            database_url,
            bind: settings.bind,
            public_url: settings.public_url.clone(),
            secure_cookies: settings.secure_cookies,
            limits: Limits {
                max_upload_bytes: settings.max_upload_bytes,
                max_rows: settings.max_rows,
                max_unpacked_bytes: settings.max_unpacked_bytes,
                max_archive_entries: settings.max_archive_entries,
                max_sheet_bytes: settings.max_sheet_bytes,
                ..Limits::default()
            },
            password_policy: PasswordPolicy::new(
                settings.password_min_length,
                &settings.password_require,
            )?,
            result_retention: Duration::from_secs(
                u64::from(settings.result_retention_days) * 86_400,
            ),
            session_idle: Duration::from_secs(settings.session_idle_minutes * 60),
            session_max: Duration::from_secs(settings.session_max_hours * 3_600),
            token_idle: Duration::from_secs(settings.api_token_idle_days.max(1) * 86_400),
            job_lease: Duration::from_secs(settings.job_lease_seconds.max(2)),
            shutdown_grace: Duration::from_secs(settings.shutdown_seconds),
            hash_threads: settings.hash_threads.filter(|&threads| threads > 0),
            trusted_proxies: settings.trusted_proxies.clone(),
            header_timeout: Duration::from_secs(settings.header_timeout_seconds.max(1)),
            body_timeout: Duration::from_secs(settings.body_timeout_seconds.max(1)),
        })
    }

    /// A configuration for tests and tools: defaults everywhere, the given database.
    pub fn for_database(database_url: &str) -> Config {
        let cli = Cli::parse_from(["roster", "--database-url", database_url]);
        let mut config =
            Config::from_settings(&cli.settings).expect("the default settings are valid");
        config.bind = ([127, 0, 0, 1], 0).into();
        config
    }
}

impl From<&Config> for RunSettings {
    fn from(config: &Config) -> RunSettings {
        RunSettings {
            limits: config.limits.clone(),
            policy: config.password_policy.clone(),
            lease: config.job_lease,
            result_retention: config.result_retention,
            hashing: HashPool::new(config.hash_threads),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Hides the password in `postgres://user:secret@host/db` before it reaches a log.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_defaults_are_the_limits_defaults() {
        let config = Config::for_database("sqlite://x.db");
        let limits = Limits::default();
        assert_eq!(config.limits.max_upload_bytes, limits.max_upload_bytes);
        assert_eq!(config.limits.max_rows, limits.max_rows);
        assert_eq!(config.limits.max_unpacked_bytes, limits.max_unpacked_bytes);
        assert_eq!(
            config.limits.max_archive_entries,
            limits.max_archive_entries
        );
        assert_eq!(config.limits.max_sheet_bytes, limits.max_sheet_bytes);
    }

    #[test]
    fn database_password_is_redacted() {
        assert_eq!(
            redact_url("postgres://roster:hunter2@db:5432/roster"),
            "postgres://roster:***@db:5432/roster"
        );
        assert_eq!(
            redact_url("sqlite://data/roster.db"),
            "sqlite://data/roster.db"
        );
    }
}
