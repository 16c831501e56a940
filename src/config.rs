//! Configuration: command-line flags, then `KYOYU_*` environment variables, then an optional TOML
//! file, then defaults — in that precedence. Everything is validated here, at start-up; a bad
//! value stops the server with one line naming the setting.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::FixedOffset;
use serde::Deserialize;

use crate::access::tls::{Tls, TlsError, TlsFiles};
use crate::packages::SHIPPED_DIR;
use crate::retention::Policy;
use crate::store::{DatabaseUrl, StoreOptions};
use crate::validation::ValidatorOptions;

/// Settings as given on the command line or in the environment (clap fills both).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// TOML configuration file (keys as the long flag names, with `_` for `-`).
    #[arg(long, env = "KYOYU_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory where `$export` jobs write their NDJSON files, one subdirectory per job
    /// [default: kyoyu-export in the system's temporary directory].
    #[arg(long, env = "KYOYU_EXPORT_DIR", value_name = "DIR")]
    pub export_dir: Option<PathBuf>,
    /// Seconds an `$export` job's files are kept after it ends [default: 3600].
    #[arg(long, env = "KYOYU_EXPORT_RETENTION_SECS", value_name = "SECONDS")]
    pub export_retention_secs: Option<f64>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "KYOYU_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Database: a SQLite file path (or sqlite://path) or postgres://… [default: kyoyu.db].
    #[arg(long, env = "KYOYU_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Database connections in the pool (SQLite: readers) [default: 8].
    #[arg(long, env = "KYOYU_POOL_SIZE")]
    pub pool_size: Option<u32>,
    /// Seconds `serve` keeps trying to reach the database at start-up before giving up
    /// (0: give up at once) [default: 60].
    #[arg(long, env = "KYOYU_DATABASE_WAIT_SECS", value_name = "SECONDS")]
    pub database_wait_secs: Option<f64>,
    /// HTTP worker threads [default: number of CPUs].
    #[arg(long, env = "KYOYU_WORKERS")]
    pub workers: Option<usize>,
    /// Largest accepted request body in bytes [default: 10485760 = 10 MB].
    #[arg(long, env = "KYOYU_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Deepest accepted JSON nesting [default: 64].
    #[arg(long, env = "KYOYU_MAX_JSON_DEPTH")]
    pub max_json_depth: Option<usize>,
    /// Longest accepted JSON array (or run of a repeating XML element) [default: 10000].
    #[arg(long, env = "KYOYU_MAX_ARRAY_ITEMS", value_name = "N")]
    pub max_array_items: Option<usize>,
    /// Most issues one OperationOutcome lists; validation stops there [default: 100].
    #[arg(long, env = "KYOYU_MAX_ISSUES", value_name = "N")]
    pub max_issues: Option<usize>,
    /// Threads that run validations, off the HTTP workers [default: number of CPUs].
    #[arg(long, env = "KYOYU_CPU_THREADS", value_name = "N")]
    pub cpu_threads: Option<usize>,
    /// Validations that may wait for a validation thread; beyond, 503 with Retry-After
    /// [default: 64].
    #[arg(long, env = "KYOYU_CPU_QUEUE", value_name = "N")]
    pub cpu_queue: Option<usize>,
    /// Seconds a request may take to arrive and be processed [default: 30].
    #[arg(long, env = "KYOYU_REQUEST_TIMEOUT_SECS")]
    pub request_timeout_secs: Option<f64>,
    /// SQLite durability: `full` (fsync per commit) or `normal` [default: full].
    #[arg(long, env = "KYOYU_SQLITE_SYNCHRONOUS")]
    pub sqlite_synchronous: Option<String>,
    /// SQLite: most writes carried by one commit [default: 256].
    #[arg(long, env = "KYOYU_GROUP_COMMIT_MAX")]
    pub group_commit_max: Option<usize>,
    /// Search page size when `_count` is absent [default: 20].
    #[arg(long, env = "KYOYU_DEFAULT_COUNT")]
    pub default_count: Option<usize>,
    /// Largest `_count` honoured [default: 1000].
    #[arg(long, env = "KYOYU_MAX_COUNT")]
    pub max_count: Option<usize>,
    /// Most values one search (or conditional criteria) may carry in all, comma-separated
    /// lists included [default: 5000].
    #[arg(long, env = "KYOYU_SEARCH_MAX_VALUES", value_name = "N")]
    pub search_max_values: Option<usize>,
    /// Most resources `_include` and `_revinclude` add to one search page; past it the page
    /// carries a warning [default: 1000].
    #[arg(long, env = "KYOYU_SEARCH_MAX_INCLUDE", value_name = "N")]
    pub search_max_include: Option<usize>,
    /// Zone assumed for dates without one, e.g. +09:00 [default: +09:00].
    #[arg(long, env = "KYOYU_TIMEZONE")]
    pub timezone: Option<String>,
    /// Public base URL used in Location headers and links (default: `http://<listen>`).
    #[arg(long, env = "KYOYU_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub validation: ValidationArgs,
    /// Validate every create, update and transaction; reject errors with 422 [default: true].
    #[arg(long, env = "KYOYU_VALIDATE_ON_WRITE", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub validate_on_write: Option<bool>,
    /// Refuse writes whose local references name nothing the writer may read (422)
    /// [default: true].
    #[arg(long, env = "KYOYU_REFERENTIAL_INTEGRITY", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub referential_integrity: Option<bool>,
    /// How often the server looks for terminology imported by another process (seconds)
    /// [default: 5].
    #[arg(long, env = "KYOYU_TERMINOLOGY_REFRESH_SECS", value_name = "SECONDS")]
    pub terminology_refresh_secs: Option<f64>,
    /// How often the background purger applies the retention rules (seconds; 0 turns it off)
    /// [default: 3600].
    #[arg(long, env = "KYOYU_PURGE_INTERVAL_SECS", value_name = "SECONDS")]
    pub purge_interval_secs: Option<f64>,
    /// Rows the purger examines per transaction [default: 250].
    #[arg(long, env = "KYOYU_PURGE_BATCH", value_name = "N")]
    pub purge_batch: Option<usize>,
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// TOML file mapping bearer tokens and client certificates to principals (see README,
    /// "Access"). Without it (and without TLS client certificates) the server runs in the open
    /// development mode.
    #[arg(long, env = "KYOYU_PRINCIPALS", value_name = "FILE")]
    pub principals: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (server certificate first); needs --tls-key.
    #[arg(long, env = "KYOYU_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "KYOYU_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// PEM bundle of the CAs trusted to sign client certificates: turns on mutual TLS (needs
    /// --principals to map certificates to principals).
    #[arg(long, env = "KYOYU_TLS_CLIENT_CA", value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// Refuse connections without a client certificate; otherwise bearer-token clients may
    /// connect over TLS too [default: false].
    #[arg(long, env = "KYOYU_TLS_CLIENT_REQUIRED", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub tls_client_required: Option<bool>,
    /// Serve Prometheus metrics at `/metrics`, without authentication like `/health/*` (they
    /// show volumes and timings, nothing about patients) [default: false].
    #[arg(long, env = "KYOYU_METRICS", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub metrics: Option<bool>,
    /// Origins whose browser pages may call the server (CORS), e.g. `https://app.example.jp`;
    /// repeatable [default: none, no CORS headers].
    #[arg(
        long = "cors-origin",
        env = "KYOYU_CORS_ORIGINS",
        value_name = "ORIGIN",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
}

/// Which FHIR packages the validator loads; shared by `serve` and `validate`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ValidationArgs {
    /// A FHIR package (.tgz or folder) to load besides the package store; repeatable.
    #[arg(
        long = "package",
        env = "KYOYU_PACKAGES",
        value_name = "P",
        value_delimiter = ','
    )]
    pub packages: Vec<PathBuf>,
    /// The operator's package store folder [default: kyoyu-data/packages].
    #[arg(long, env = "KYOYU_PACKAGE_STORE", value_name = "DIR")]
    pub package_store: Option<PathBuf>,
    /// A meta.profile no loaded package defines: `warning` or `error` [default: warning].
    #[arg(long, env = "KYOYU_UNKNOWN_PROFILE")]
    pub unknown_profile: Option<String>,
    /// The shipped profiles folder; its igs.toml declares the IG contexts [default: profiles].
    #[arg(long, env = "KYOYU_PROFILES", value_name = "DIR")]
    pub profiles: Option<PathBuf>,
    /// The IG release that judges a meta.profile without a version, instead of the newest:
    /// `IG=VERSION` (e.g. `jp-clins=1.5.2`); repeatable, one per IG.
    #[arg(
        long = "ig-version",
        env = "KYOYU_IG_VERSION",
        value_name = "IG=VERSION",
        value_delimiter = ','
    )]
    pub ig_versions: Vec<String>,
}

/// The validation keys of the configuration file that [`ValidationArgs`] merges with.
#[derive(Debug, Default)]
struct FileValidation {
    packages: Option<Vec<PathBuf>>,
    package_store: Option<PathBuf>,
    unknown_profile: Option<String>,
    profiles: Option<PathBuf>,
    ig_version: Option<Vec<String>>,
}

/// `jp-clins=1.5.2` → (`jp-clins`, `1.5.2`).
fn ig_default(text: &str) -> Result<(String, String), ConfigError> {
    match text.split_once('=') {
        Some((ig, v)) if !ig.trim().is_empty() && !v.trim().is_empty() => {
            Ok((ig.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(bad(
            "ig_version",
            format!("'{text}' is not IG=VERSION (e.g. jp-clins=1.5.2)"),
        )),
    }
}

impl ValidationArgs {
    /// Merges with the file's values (flags and environment first) into validator options.
    fn resolve(&self, file: FileValidation) -> Result<ValidatorOptions, ConfigError> {
        let FileValidation {
            packages: file_packages,
            package_store: file_store,
            unknown_profile: file_unknown,
            profiles: file_profiles,
            ig_version: file_ig_version,
        } = file;
        let ig_texts = if self.ig_versions.is_empty() {
            file_ig_version.unwrap_or_default()
        } else {
            self.ig_versions.clone()
        };
        let ig_defaults = ig_texts
            .iter()
            .map(|t| ig_default(t))
            .collect::<Result<Vec<_>, _>>()?;
        let unknown = self
            .unknown_profile
            .clone()
            .or(file_unknown)
            .unwrap_or_else(|| "warning".into());
        let unknown_profile_is_error = match unknown.to_ascii_lowercase().as_str() {
            "warning" => false,
            "error" => true,
            other => {
                return Err(bad(
                    "unknown_profile",
                    format!("'{other}' is not 'warning' or 'error'"),
                ));
            }
        };
        let packages = if self.packages.is_empty() {
            file_packages.unwrap_or_default()
        } else {
            self.packages.clone()
        };
        Ok(ValidatorOptions {
            profiles: Some(
                self.profiles
                    .clone()
                    .or(file_profiles)
                    .unwrap_or_else(|| PathBuf::from(SHIPPED_DIR)),
            ),
            ig_defaults,
            store: Some(
                self.package_store
                    .clone()
                    .or(file_store)
                    .unwrap_or_else(|| PathBuf::from(crate::packages::DEFAULT_STORE)),
            ),
            packages,
            unknown_profile_is_error,
        })
    }

    /// For commands without a server configuration (`kyoyu validate`).
    pub fn options(&self) -> Result<ValidatorOptions, ConfigError> {
        self.resolve(FileValidation::default())
    }
}

/// The retention periods (DESIGN §8). The defaults are the law's numbers; a shorter period is
/// for test systems and a longer one for an operator's own policy, so both are accepted within
/// sane bounds.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RetentionArgs {
    /// Years conditions, infections, allergies and checkups are kept after registration
    /// [default: 5].
    #[arg(long, env = "KYOYU_RETENTION_YEARS", value_name = "YEARS")]
    pub retention_years: Option<u32>,
    /// Months a lab result is kept after its effective date [default: 12].
    #[arg(long, env = "KYOYU_RETENTION_LAB_MONTHS", value_name = "MONTHS")]
    pub retention_lab_months: Option<u32>,
    /// Days a prescription is kept after authoredOn [default: 100].
    #[arg(long, env = "KYOYU_RETENTION_PRESCRIPTION_DAYS", value_name = "DAYS")]
    pub retention_prescription_days: Option<u32>,
    /// Months a referral is kept after registration [default: 6].
    #[arg(long, env = "KYOYU_RETENTION_REFERRAL_MONTHS", value_name = "MONTHS")]
    pub retention_referral_months: Option<u32>,
    /// Days a referral is kept after the addressee's receipt [default: 7].
    #[arg(long, env = "KYOYU_RETENTION_RECEIPT_DAYS", value_name = "DAYS")]
    pub retention_receipt_days: Option<u32>,
    /// Latest lab results (per item) and prescribing occasions kept whatever their age
    /// [default: 3].
    #[arg(long, env = "KYOYU_RETENTION_LATEST", value_name = "N")]
    pub retention_latest: Option<u32>,
}

impl RetentionArgs {
    fn resolve(&self, file: &FileConfig) -> Result<Policy, ConfigError> {
        let law = Policy::default();
        let years = within(
            "retention_years",
            self.retention_years.or(file.retention_years),
            law.long_months / 12,
            100,
        )?;
        let days = |key, flag: Option<u32>, from_file: Option<u32>, default: i64| {
            let d = u32::try_from(default).unwrap_or(u32::MAX);
            within(key, flag.or(from_file), d, 36_500).map(i64::from)
        };
        Ok(Policy {
            long_months: years * 12,
            lab_months: within(
                "retention_lab_months",
                self.retention_lab_months.or(file.retention_lab_months),
                law.lab_months,
                1200,
            )?,
            prescription_days: days(
                "retention_prescription_days",
                self.retention_prescription_days,
                file.retention_prescription_days,
                law.prescription_days,
            )?,
            referral_months: within(
                "retention_referral_months",
                self.retention_referral_months
                    .or(file.retention_referral_months),
                law.referral_months,
                1200,
            )?,
            receipt_days: days(
                "retention_receipt_days",
                self.retention_receipt_days,
                file.retention_receipt_days,
                law.receipt_days,
            )?,
            latest: within(
                "retention_latest",
                self.retention_latest.or(file.retention_latest),
                u32::try_from(law.latest).unwrap_or(u32::MAX),
                1000,
            )? as usize,
        })
    }
}

/// A count between 1 and `max`: a zero period would purge data the moment it is written.
fn within(
    key: &'static str,
    value: Option<u32>,
    default: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    let v = value.unwrap_or(default);
    if v == 0 || v > max {
        return Err(bad(key, format!("{v} is not between 1 and {max}")));
    }
    Ok(v)
}

/// The same settings read from the TOML file; unknown keys are errors, not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    export_dir: Option<PathBuf>,
    export_retention_secs: Option<f64>,
    listen: Option<String>,
    database_url: Option<String>,
    pool_size: Option<u32>,
    database_wait_secs: Option<f64>,
    workers: Option<usize>,
    max_body_bytes: Option<usize>,
    max_json_depth: Option<usize>,
    max_array_items: Option<usize>,
    max_issues: Option<usize>,
    cpu_threads: Option<usize>,
    cpu_queue: Option<usize>,
    request_timeout_secs: Option<f64>,
    sqlite_synchronous: Option<String>,
    group_commit_max: Option<usize>,
    default_count: Option<usize>,
    max_count: Option<usize>,
    search_max_values: Option<usize>,
    search_max_include: Option<usize>,
    timezone: Option<String>,
    base_url: Option<String>,
    packages: Option<Vec<PathBuf>>,
    package_store: Option<PathBuf>,
    /// Read by the `package` commands only.
    package_registry: Option<String>,
    unknown_profile: Option<String>,
    profiles: Option<PathBuf>,
    ig_version: Option<Vec<String>>,
    validate_on_write: Option<bool>,
    referential_integrity: Option<bool>,
    terminology_refresh_secs: Option<f64>,
    purge_interval_secs: Option<f64>,
    purge_batch: Option<usize>,
    principals: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_client_ca: Option<PathBuf>,
    tls_client_required: Option<bool>,
    metrics: Option<bool>,
    cors_origins: Option<Vec<String>>,
    retention_years: Option<u32>,
    retention_lab_months: Option<u32>,
    retention_prescription_days: Option<u32>,
    retention_referral_months: Option<u32>,
    retention_receipt_days: Option<u32>,
    retention_latest: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {key}: {message}")]
pub struct ConfigError {
    pub key: &'static str,
    pub message: String,
}

impl From<TlsError> for ConfigError {
    fn from(e: TlsError) -> Self {
        ConfigError {
            key: e.key,
            message: e.message,
        }
    }
}

pub(crate) fn bad(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key,
        message: message.into(),
    }
}

/// Request limits enforced by the HTTP layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_json_depth: usize,
    pub max_array_items: usize,
    pub request_timeout: Duration,
}

/// How much validation work runs at once and how much may wait (`validation::pool`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuLimits {
    pub threads: usize,
    pub queue: usize,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub store: StoreOptions,
    /// How long start-up waits for an unreachable database (zero: not at all).
    pub database_wait: Duration,
    pub workers: usize,
    pub limits: Limits,
    /// Issues per OperationOutcome; validation stops there.
    pub max_issues: usize,
    pub cpu: CpuLimits,
    pub default_count: usize,
    pub max_count: usize,
    pub search_max_values: usize,
    pub search_max_include: usize,
    pub timezone: FixedOffset,
    /// Without a trailing slash.
    pub base_url: Option<String>,
    pub validation: ValidatorOptions,
    pub validate_on_write: bool,
    pub referential_integrity: bool,
    pub terminology_refresh: Duration,
    /// `None`: the background purger is off.
    pub purge_interval: Option<Duration>,
    pub purge_batch: usize,
    /// The retention periods, for writes (expiry instants), receipts and the purger alike.
    pub retention: Policy,
    /// The credentials the server accepts; `None`: no authentication (development mode).
    pub principals: Option<PathBuf>,
    /// `None`: plain HTTP.
    pub tls: Option<Tls>,
    /// Whether `/metrics` answers (404 otherwise).
    pub metrics: bool,
    /// Empty: no CORS headers on any answer.
    pub cors_origins: AllowedOrigins,
    /// Where `$export` writes and how long it keeps the files.
    pub export: crate::interactions::export::jobs::ExportOptions,
}

impl ConfigArgs {
    /// Merges flags/environment over the file over defaults, and validates the result.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let retention = self.retention.resolve(&file)?;
        let listen_text = self
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            bad(
                "listen",
                format!("'{listen_text}' is not ADDR:PORT (e.g. 127.0.0.1:8080)"),
            )
        })?;
        let url_text = self
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| "kyoyu.db".into());
        let url = DatabaseUrl::parse(&url_text).map_err(|m| bad("database_url", m))?;
        let mut store = StoreOptions::defaults_for(url);
        store.pool_size = positive("pool_size", self.pool_size.or(file.pool_size), 8)?;
        let sync = self
            .sqlite_synchronous
            .clone()
            .or(file.sqlite_synchronous)
            .unwrap_or_else(|| "full".into());
        store.sqlite_synchronous_full = match sync.to_ascii_lowercase().as_str() {
            "full" => true,
            "normal" => false,
            other => {
                return Err(bad(
                    "sqlite_synchronous",
                    format!("'{other}' is not 'full' or 'normal'"),
                ));
            }
        };
        store.group_commit_max = positive(
            "group_commit_max",
            self.group_commit_max.or(file.group_commit_max),
            256,
        )?;
        let wait = self
            .database_wait_secs
            .or(file.database_wait_secs)
            .unwrap_or(60.0);
        if !(wait.is_finite() && (0.0..=86_400.0).contains(&wait)) {
            return Err(bad(
                "database_wait_secs",
                format!("{wait} is not between 0 and 86400 seconds"),
            ));
        }
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        let timeout = self
            .request_timeout_secs
            .or(file.request_timeout_secs)
            .unwrap_or(30.0);
        if !(timeout.is_finite() && timeout > 0.0 && timeout <= 86_400.0) {
            return Err(bad(
                "request_timeout_secs",
                format!("{timeout} is not between 0 and 86400 seconds"),
            ));
        }
        let limits = Limits {
            max_body_bytes: positive(
                "max_body_bytes",
                self.max_body_bytes.or(file.max_body_bytes),
                10 * 1024 * 1024,
            )?,
            max_json_depth: positive(
                "max_json_depth",
                self.max_json_depth.or(file.max_json_depth),
                64,
            )?,
            max_array_items: positive(
                "max_array_items",
                self.max_array_items.or(file.max_array_items),
                10_000,
            )?,
            request_timeout: Duration::from_secs_f64(timeout),
        };
        let cpu = CpuLimits {
            threads: positive("cpu_threads", self.cpu_threads.or(file.cpu_threads), cpus)?,
            // 0 is allowed: no validation waits, a busy pool answers 503 at once.
            queue: self.cpu_queue.or(file.cpu_queue).unwrap_or(64),
        };
        let default_count = positive(
            "default_count",
            self.default_count.or(file.default_count),
            20,
        )?;
        let max_count = positive("max_count", self.max_count.or(file.max_count), 1000)?;
        if default_count > max_count {
            return Err(bad(
                "default_count",
                format!("{default_count} exceeds max_count {max_count}"),
            ));
        }
        let tz_text = self
            .timezone
            .clone()
            .or(file.timezone)
            .unwrap_or_else(|| "+09:00".into());
        let timezone = parse_offset(&tz_text).ok_or_else(|| {
            bad(
                "timezone",
                format!("'{tz_text}' is not an offset like +09:00 or Z"),
            )
        })?;
        let principals = self.principals.clone().or(file.principals);
        let client_ca = self
            .tls_client_ca
            .as_deref()
            .or(file.tls_client_ca.as_deref());
        if client_ca.is_some() && principals.is_none() {
            return Err(bad(
                "tls_client_ca",
                "mutual TLS needs a principals file (principals) to map certificates to principals",
            ));
        }
        let tls = TlsFiles {
            cert: self.tls_cert.as_deref().or(file.tls_cert.as_deref()),
            key: self.tls_key.as_deref().or(file.tls_key.as_deref()),
            client_ca,
            client_required: self
                .tls_client_required
                .or(file.tls_client_required)
                .unwrap_or(false),
        }
        .load()?;
        let base_url = match self.base_url.clone().or(file.base_url) {
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                Some(u.trim_end_matches('/').to_string())
            }
            Some(u) => return Err(bad("base_url", format!("'{u}' is not an http(s) URL"))),
            None => None,
        };
        let validation = self.validation.resolve(FileValidation {
            packages: file.packages,
            package_store: file.package_store,
            unknown_profile: file.unknown_profile,
            profiles: file.profiles,
            ig_version: file.ig_version,
        })?;
        let validate_on_write = self
            .validate_on_write
            .or(file.validate_on_write)
            .unwrap_or(true);
        let refresh = self
            .terminology_refresh_secs
            .or(file.terminology_refresh_secs)
            .unwrap_or(5.0);
        if !(refresh.is_finite() && refresh >= 0.1) {
            return Err(bad(
                "terminology_refresh_secs",
                format!("{refresh} is not a number of seconds ≥ 0.1"),
            ));
        }
        let purge_every = self
            .purge_interval_secs
            .or(file.purge_interval_secs)
            .unwrap_or(3600.0);
        if !(purge_every.is_finite() && purge_every >= 0.0) {
            return Err(bad(
                "purge_interval_secs",
                format!("{purge_every} is not a number of seconds ≥ 0"),
            ));
        }
        let cors_origins = if self.cors_origins.is_empty() {
            file.cors_origins.unwrap_or_default()
        } else {
            self.cors_origins.clone()
        };
        let cors_origins =
            AllowedOrigins::parse(&cors_origins).map_err(|m| bad("cors_origins", m))?;
        let export_retention = self
            .export_retention_secs
            .or(file.export_retention_secs)
            .unwrap_or(3600.0);
        if !(export_retention.is_finite() && (0.0..=31_536_000.0).contains(&export_retention)) {
            return Err(bad(
                "export_retention_secs",
                format!("{export_retention} is not between 0 and 31536000 seconds"),
            ));
        }
        let export = crate::interactions::export::jobs::ExportOptions {
            dir: self
                .export_dir
                .clone()
                .or(file.export_dir)
                .unwrap_or_else(|| std::env::temp_dir().join("kyoyu-export")),
            retention: Duration::from_secs_f64(export_retention),
            page: max_count,
        };
        Ok(Config {
            metrics: self.metrics.or(file.metrics).unwrap_or(false),
            cors_origins,
            export,
            retention,
            validation,
            validate_on_write,
            referential_integrity: self
                .referential_integrity
                .or(file.referential_integrity)
                .unwrap_or(true),
            terminology_refresh: Duration::from_secs_f64(refresh),
            purge_interval: (purge_every > 0.0).then(|| Duration::from_secs_f64(purge_every)),
            purge_batch: positive(
                "purge_batch",
                self.purge_batch.or(file.purge_batch),
                default_purge_batch(&store.url),
            )?,
            principals,
            tls,
            listen,
            store,
            database_wait: Duration::from_secs_f64(wait),
            workers: positive("workers", self.workers.or(file.workers), cpus)?,
            limits,
            max_issues: positive(
                "max_issues",
                self.max_issues.or(file.max_issues),
                crate::fhir::outcome::DEFAULT_MAX_ISSUES,
            )?,
            cpu,
            default_count,
            max_count,
            search_max_values: positive(
                "search_max_values",
                self.search_max_values.or(file.search_max_values),
                DEFAULT_SEARCH_MAX_VALUES,
            )?,
            search_max_include: positive(
                "search_max_include",
                self.search_max_include.or(file.search_max_include),
                DEFAULT_SEARCH_MAX_INCLUDE,
            )?,
            timezone,
            base_url,
        })
    }
}

/// The origins whose pages may call the server (`cors_origins`), validated at start-up; empty:
/// CORS is off. The HTTP layer (`api::cors`) answers them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// Each an origin as browsers send it: `scheme://host[:port]`, http or https, no path. `*`
    /// and `null` are refused: a server of medical records names the pages it trusts.
    pub fn parse(texts: &[String]) -> Result<Self, String> {
        let mut origins = Vec::new();
        for text in texts.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            let lower = text.to_ascii_lowercase();
            let host = lower
                .strip_prefix("https://")
                .or_else(|| lower.strip_prefix("http://"));
            let valid = host.is_some_and(|h| {
                !h.is_empty()
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
            });
            if !valid {
                return Err(format!(
                    "'{text}' is not an origin like https://app.example.jp (scheme, host, optional port; no path, no *)"
                ));
            }
            origins.push(lower);
        }
        Ok(AllowedOrigins(origins))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `origin`, as a request's `Origin` header gives it, is one of these.
    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }
}

/// What the `package` commands take from a configuration file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PackageSettings {
    pub package_store: Option<PathBuf>,
    pub package_registry: Option<String>,
    pub profiles: Option<PathBuf>,
}

/// The package settings of `path` (none without a file).
pub fn package_settings(path: Option<&PathBuf>) -> Result<PackageSettings, ConfigError> {
    let Some(path) = path else {
        return Ok(PackageSettings::default());
    };
    let file = read_file(path)?;
    Ok(PackageSettings {
        package_store: file.package_store,
        package_registry: file.package_registry,
        profiles: file.profiles,
    })
}

fn read_file(path: &PathBuf) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad("config", format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| bad("config", format!("{}: {}", path.display(), e.message())))
}

/// Rows per purge transaction unless configured. On SQLite a batch's commit writes its pages to
/// the WAL in one burst on the writer's core, which GETs woken there wait out: 100 rows kept the
/// purge bench's p99 within 1.8-2.9× its value before the purge (10 runs) against 2.1-4.5× for
/// 250, at 36-47k rows/s. On PostgreSQL every batch costs its round trips and a WAL flush:
/// 100 rows fell to 19.7k rows/s, 250 gives 32-40k.
fn default_purge_batch(url: &DatabaseUrl) -> usize {
    match url {
        DatabaseUrl::Sqlite(_) => 100,
        DatabaseUrl::Postgres(_) => 250,
    }
}

/// Values per search unless configured. Each value becomes a bind variable or an array element
/// of one statement (SQLite allows 32,766 bind variables, PostgreSQL 65,535, and a date value
/// takes up to three): the bound keeps a statement's size, and the work it asks for, in hand.
const DEFAULT_SEARCH_MAX_VALUES: usize = 5000;
const DEFAULT_SEARCH_MAX_INCLUDE: usize = 1000;

fn positive<T>(key: &'static str, value: Option<T>, default: T) -> Result<T, ConfigError>
where
    T: PartialOrd + Default + std::fmt::Display + Copy,
{
    let v = value.unwrap_or(default);
    if v <= T::default() {
        return Err(bad(key, format!("{v} must be greater than 0")));
    }
    Ok(v)
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    if s == "Z" || s.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn defaults_are_the_embedded_server() {
        let c = ConfigArgs::default().resolve().unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.store.url, DatabaseUrl::Sqlite("kyoyu.db".into()));
        assert_eq!(c.limits.max_body_bytes, 10 * 1024 * 1024);
        assert_eq!(c.timezone.local_minus_utc(), 9 * 3600);
    }

    #[test]
    fn ig_versions_come_from_flags_or_the_file_and_must_be_ig_equals_version() {
        let c = ConfigArgs::default().resolve().unwrap();
        assert_eq!(c.validation.profiles, Some(PathBuf::from("profiles")));
        assert!(c.validation.ig_defaults.is_empty());
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, "ig_version = [\"jp-clins=1.5.2\"]\nprofiles = \"ig\"").unwrap();
        let from_file = ConfigArgs {
            config: Some(f.path().to_path_buf()),
            ..ConfigArgs::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(
            from_file.validation.ig_defaults,
            [("jp-clins".to_string(), "1.5.2".to_string())]
        );
        assert_eq!(from_file.validation.profiles, Some(PathBuf::from("ig")));
        let mut bad = ConfigArgs::default();
        bad.validation.ig_versions = vec!["jp-clins".into()];
        let e = bad.resolve().unwrap_err().to_string();
        assert!(e.contains("ig_version") && e.contains("IG=VERSION"), "{e}");
    }

    #[test]
    fn the_purge_batch_defaults_to_the_backend_s_and_a_setting_wins() {
        let batch = |url: &str, set: Option<usize>| {
            ConfigArgs {
                database_url: Some(url.into()),
                purge_batch: set,
                ..ConfigArgs::default()
            }
            .resolve()
            .unwrap()
            .purge_batch
        };
        assert_eq!(batch("kyoyu.db", None), 100);
        assert_eq!(batch("postgres://localhost/kyoyu", None), 250);
        assert_eq!(batch("kyoyu.db", Some(400)), 400);
        assert_eq!(batch("postgres://localhost/kyoyu", Some(50)), 50);
    }

    #[test]
    fn flags_win_over_the_file() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            f,
            "listen = \"127.0.0.1:9000\"\nmax_count = 50\ndefault_count = 10"
        )
        .unwrap();
        let args = ConfigArgs {
            config: Some(f.path().to_path_buf()),
            listen: Some("127.0.0.1:9100".into()),
            ..ConfigArgs::default()
        };
        let c = args.resolve().unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.max_count, 50);
    }

    #[test]
    fn bad_values_name_their_setting() {
        let e = ConfigArgs {
            listen: Some("nowhere".into()),
            ..ConfigArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(e.key, "listen");
        let e = ConfigArgs {
            database_url: Some("mysql://x".into()),
            ..ConfigArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(e.key, "database_url");
        let e = ConfigArgs {
            timezone: Some("JST".into()),
            ..ConfigArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(e.key, "timezone");
        let e = ConfigArgs {
            pool_size: Some(0),
            ..ConfigArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(e.key, "pool_size");
    }

    #[test]
    fn tls_settings_must_be_complete() {
        let path = |p: &str| Some(PathBuf::from(p));
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "tls_cert = \"server.pem\"").unwrap();
        let cases = [
            (
                ConfigArgs {
                    config: Some(file.path().to_path_buf()),
                    ..ConfigArgs::default()
                },
                "tls_key",
            ),
            (
                ConfigArgs {
                    tls_cert: path("server.pem"),
                    ..ConfigArgs::default()
                },
                "tls_key",
            ),
            (
                ConfigArgs {
                    tls_key: path("server.key"),
                    ..ConfigArgs::default()
                },
                "tls_cert",
            ),
            (
                ConfigArgs {
                    tls_client_ca: path("ca.pem"),
                    principals: path("principals.toml"),
                    ..ConfigArgs::default()
                },
                "tls_client_ca",
            ),
            (
                ConfigArgs {
                    tls_client_required: Some(true),
                    ..ConfigArgs::default()
                },
                "tls_client_required",
            ),
        ];
        for (args, key) in cases {
            assert_eq!(args.resolve().unwrap_err().key, key, "{args:?}");
        }
    }

    #[test]
    fn mutual_tls_needs_principals() {
        let e = ConfigArgs {
            tls_cert: Some("server.pem".into()),
            tls_key: Some("server.key".into()),
            tls_client_ca: Some("ca.pem".into()),
            ..ConfigArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(e.key, "tls_client_ca");
        assert!(e.message.contains("principals"), "{}", e.message);
    }

    #[test]
    fn unreadable_or_invalid_pem_names_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let missing = dir.path().join("missing.pem");
        for (cert, key, expected) in [(&missing, &junk, "tls_cert"), (&junk, &junk, "tls_cert")] {
            let e = ConfigArgs {
                tls_cert: Some(cert.clone()),
                tls_key: Some(key.clone()),
                ..ConfigArgs::default()
            }
            .resolve()
            .unwrap_err();
            assert_eq!(e.key, expected);
            assert!(e.message.contains(&cert.display().to_string()), "{e}");
        }
    }

    #[test]
    fn retention_periods_default_to_the_law_and_are_validated() {
        let c = ConfigArgs::default().resolve().unwrap();
        assert_eq!(c.retention, Policy::default());
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, "retention_years = 3\nretention_lab_months = 6").unwrap();
        let args = ConfigArgs {
            config: Some(f.path().to_path_buf()),
            retention: RetentionArgs {
                retention_lab_months: Some(2),
                retention_latest: Some(1),
                ..RetentionArgs::default()
            },
            ..ConfigArgs::default()
        };
        let p = args.resolve().unwrap().retention;
        assert_eq!((p.long_months, p.lab_months, p.latest), (36, 2, 1));
        assert_eq!(p.prescription_days, 100);
        for (args, key) in [
            (
                RetentionArgs {
                    retention_prescription_days: Some(0),
                    ..RetentionArgs::default()
                },
                "retention_prescription_days",
            ),
            (
                RetentionArgs {
                    retention_referral_months: Some(5000),
                    ..RetentionArgs::default()
                },
                "retention_referral_months",
            ),
        ] {
            let e = ConfigArgs {
                retention: args,
                ..ConfigArgs::default()
            }
            .resolve()
            .unwrap_err();
            assert_eq!(e.key, key);
        }
    }

    fn origins(texts: &[&str]) -> Result<AllowedOrigins, String> {
        AllowedOrigins::parse(&texts.iter().map(|t| t.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        let parsed = origins(&["https://App.example.jp", "http://localhost:3000", ""]).unwrap();
        assert_eq!(
            parsed,
            AllowedOrigins(vec![
                "https://app.example.jp".into(),
                "http://localhost:3000".into()
            ])
        );
        for bad in [
            "*",
            "null",
            "app.example.jp",
            "https://app.example.jp/",
            "https://app.example.jp/fhir",
            "ftp://app.example.jp",
            "https://",
        ] {
            assert!(origins(&[bad]).is_err(), "{bad}");
        }
        assert!(origins(&[]).unwrap().is_empty());
    }

    #[test]
    fn metrics_are_off_and_cors_origins_none_unless_set() {
        let c = ConfigArgs::default().resolve().unwrap();
        assert!(!c.metrics);
        assert!(c.cors_origins.is_empty());
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            f,
            "metrics = true\ncors_origins = [\"https://app.example.jp\"]"
        )
        .unwrap();
        let c = ConfigArgs {
            config: Some(f.path().to_path_buf()),
            ..ConfigArgs::default()
        }
        .resolve()
        .unwrap();
        assert!(c.metrics);
        assert_eq!(
            c.cors_origins,
            AllowedOrigins::parse(&["https://app.example.jp".into()]).unwrap()
        );
        let e = ConfigArgs {
            cors_origins: vec!["*".into()],
            ..ConfigArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(e.key, "cors_origins");
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, "lisen = \"127.0.0.1:9000\"").unwrap();
        let e = ConfigArgs {
            config: Some(f.path().to_path_buf()),
            ..ConfigArgs::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(e.key, "config");
        assert!(e.message.contains("lisen"), "{}", e.message);
    }
}
