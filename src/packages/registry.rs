//! Fetching packages from a FHIR package registry (packages.fhir.org, packages2.fhir.org,
//! Simplifier), which speak the npm registry protocol: `GET {registry}/{name}` lists a package's
//! versions (`versions.{v}.dist.tarball`, `dist-tags.latest`); on an npm registry
//! `GET {registry}/{name}/{version}` is one version's document. A tarball is read into memory under a size limit and checked
//! against the `dist.integrity` / `dist.shasum` the registry gave before anything is installed.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use super::{PackageError, PackageId, compare_versions};

pub const DEFAULT_REGISTRY: &str = "https://packages.fhir.org";

/// Largest tarball downloaded unless configured: the R4 core package is 4.5 MB, the largest
/// implementation guides a few tens.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 200 << 20;

/// A package's registry document lists every version with its manifest; the R4 core one is
/// about a megabyte.
const MAX_DOCUMENT_BYTES: u64 = 32 << 20;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// No byte for this long: the registry is not answering.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// The whole of one request, a tarball download included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("'{0}' is not NAME, NAME#VERSION or NAME#1.x (a package name or version)")]
    BadSpec(String),
    #[error("{registry}: no package named {name}")]
    UnknownPackage { registry: String, name: String },
    #[error("{registry}: {name} has no version {wanted} (versions: {known})")]
    UnknownVersion {
        registry: String,
        name: String,
        wanted: String,
        known: String,
    },
    #[error("{url}: {reason}")]
    Http { url: String, reason: String },
    #[error("{url}: the registry answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: larger than the download limit of {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: not a registry document: {reason}")]
    BadDocument { url: String, reason: String },
    #[error(
        "{url}: {algorithm} checksum does not match (registry: {expected}, downloaded: {actual}); nothing installed"
    )]
    Checksum {
        url: String,
        algorithm: &'static str,
        expected: String,
        actual: String,
    },
    #[error(transparent)]
    Package(#[from] PackageError),
}

/// Which version of a package is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// The registry's `latest` tag, else its newest release.
    Latest,
    Exact(String),
    /// `1.x`, `1.5.x`: the newest release whose version starts with these numbers.
    Line(Vec<u64>),
}

impl Wanted {
    /// `1.x` / `1.5.x` / `1.*` as a line; anything else (pre-releases included) as written.
    pub fn parse(version: &str) -> Wanted {
        let parts: Vec<&str> = version.split('.').collect();
        let wild = |p: &&str| matches!(*p, "x" | "X" | "*");
        let fixed = parts.iter().take_while(|p| !wild(p)).count();
        let line = fixed < parts.len() && parts[fixed..].iter().all(wild);
        let numbers: Option<Vec<u64>> = parts[..fixed].iter().map(|p| p.parse().ok()).collect();
        match numbers {
            Some(numbers) if line && !numbers.is_empty() => Wanted::Line(numbers),
            _ => Wanted::Exact(version.to_string()),
        }
    }

    /// Whether an available version satisfies it (for dependency checks).
    pub fn matches(&self, version: &str) -> bool {
        match self {
            Wanted::Latest => true,
            Wanted::Exact(v) => v == version,
            Wanted::Line(prefix) => in_line(prefix, version),
        }
    }
}

impl fmt::Display for Wanted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wanted::Latest => f.write_str("latest"),
            Wanted::Exact(v) => f.write_str(v),
            Wanted::Line(prefix) => {
                for n in prefix {
                    write!(f, "{n}.")?;
                }
                f.write_str("x")
            }
        }
    }
}

/// `NAME`, `NAME#VERSION` or `NAME#1.x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSpec {
    pub name: String,
    pub wanted: Wanted,
}

impl PackageSpec {
    pub fn parse(text: &str) -> Result<PackageSpec, RegistryError> {
        let bad = || RegistryError::BadSpec(text.to_string());
        let (name, version) = match text.split_once('#') {
            Some((n, v)) => (n, Some(v)),
            None => (text, None),
        };
        if !is_name(name) {
            return Err(bad());
        }
        let wanted = match version {
            None | Some("latest") => Wanted::Latest,
            Some(v) if is_version(v) => Wanted::parse(v),
            Some(_) => return Err(bad()),
        };
        Ok(PackageSpec {
            name: name.to_string(),
            wanted,
        })
    }
}

impl fmt::Display for PackageSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.name, self.wanted)
    }
}

/// Package names as the FHIR registries spell them (`hl7.fhir.r4.core`, `jp-core.r4`): they
/// become a URL path segment and a store folder, so nothing else is let through.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 214
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn is_version(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '*'))
}

fn is_release(version: &str) -> bool {
    !version.contains('-')
}

fn in_line(prefix: &[u64], version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or(version);
    let parts: Vec<&str> = core.split('.').collect();
    is_release(version)
        && parts.len() >= prefix.len()
        && prefix
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.parse::<u64>().ok() == Some(*n))
}

/// One version of a package as the registry describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub id: PackageId,
    pub tarball: String,
    /// `dist.shasum`: SHA-1, hex.
    pub shasum: Option<String>,
    /// `dist.integrity`: Subresource Integrity, e.g. `sha512-<base64>`.
    pub integrity: Option<String>,
}

pub struct Registry {
    base: String,
    agent: ureq::Agent,
    max_download_bytes: u64,
}

impl Registry {
    /// `base` is the registry URL (http or https), with or without a trailing slash.
    pub fn new(base: &str, max_download_bytes: u64) -> Result<Registry, RegistryError> {
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(RegistryError::Http {
                url: base.to_string(),
                reason: "a registry URL starts with https:// or http://".into(),
            });
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(READ_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .user_agent(concat!("kyoyu/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Registry {
            base: base.trim_end_matches('/').to_string(),
            agent,
            max_download_bytes,
        })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// The release `spec` names, from the package's list of versions; an exact version the list
    /// lacks from its own npm version document. The list comes first because the FHIR
    /// registries answer `{name}/{version}` with the tarball itself, without its checksums.
    pub fn resolve(&self, spec: &PackageSpec) -> Result<Release, RegistryError> {
        let url = format!("{}/{}", self.base, spec.name);
        let doc = self
            .get_json(&url)?
            .ok_or_else(|| RegistryError::UnknownPackage {
                registry: self.base.clone(),
                name: spec.name.clone(),
            })?;
        let versions = doc
            .get("versions")
            .and_then(Value::as_object)
            .ok_or_else(|| RegistryError::BadDocument {
                url: url.clone(),
                reason: "no \"versions\" object".into(),
            })?;
        let known: Vec<&str> = versions.keys().map(String::as_str).collect();
        let chosen = match &spec.wanted {
            Wanted::Latest => doc
                .pointer("/dist-tags/latest")
                .and_then(Value::as_str)
                .filter(|v| versions.contains_key(*v))
                .or_else(|| newest(known.iter().copied().filter(|v| is_release(v))))
                .or_else(|| newest(known.iter().copied())),
            Wanted::Exact(v) => versions.contains_key(v).then_some(v.as_str()),
            Wanted::Line(prefix) => newest(known.iter().copied().filter(|v| in_line(prefix, v))),
        };
        if let Some(version) = chosen {
            let version = version.to_string();
            let doc = versions.get(&version).unwrap_or(&Value::Null);
            return release(&url, &spec.name, &version, doc);
        }
        if let Wanted::Exact(version) = &spec.wanted {
            let version_url = format!("{url}/{version}");
            match self.get_json(&version_url) {
                Ok(Some(doc)) => return release(&version_url, &spec.name, version, &doc),
                // Not there, or not a version document: the version is not to be had.
                Ok(None) | Err(RegistryError::BadDocument { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let mut listed = known.clone();
        listed.sort_by(|a, b| compare_versions(b, a));
        Err(RegistryError::UnknownVersion {
            registry: self.base.clone(),
            name: spec.name.clone(),
            wanted: spec.wanted.to_string(),
            known: if listed.is_empty() {
                "none".into()
            } else {
                listed.join(", ")
            },
        })
    }

    /// The release's tarball, checked against every checksum the registry gave.
    pub fn download(&self, release: &Release) -> Result<Vec<u8>, RegistryError> {
        let url = &release.tarball;
        let bytes =
            self.get(url, self.max_download_bytes)?
                .ok_or_else(|| RegistryError::Status {
                    url: url.clone(),
                    status: 404,
                })?;
        if let Some(expected) = &release.shasum {
            let actual = hex(ring::digest::digest(
                &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
                &bytes,
            ));
            if !actual.eq_ignore_ascii_case(expected) {
                return Err(RegistryError::Checksum {
                    url: url.clone(),
                    algorithm: "sha1",
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        if let Some(integrity) = &release.integrity {
            check_integrity(url, integrity, &bytes)?;
        }
        Ok(bytes)
    }

    /// The JSON at `url`; `None` for 404.
    fn get_json(&self, url: &str) -> Result<Option<Value>, RegistryError> {
        let Some(bytes) = self.get(url, MAX_DOCUMENT_BYTES)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| RegistryError::BadDocument {
                url: url.to_string(),
                reason: e.to_string(),
            })
    }

    /// The body at `url` up to `limit` bytes; `None` for 404, an error for any other failure.
    fn get(&self, url: &str, limit: u64) -> Result<Option<Vec<u8>>, RegistryError> {
        let http = |e: ureq::Error| match e {
            ureq::Error::BodyExceedsLimit(_) => RegistryError::TooLarge {
                url: url.to_string(),
                limit,
            },
            other => RegistryError::Http {
                url: url.to_string(),
                reason: other.to_string(),
            },
        };
        let mut response = self
            .agent
            .get(url)
            .header("Accept", "application/json, application/octet-stream")
            .call()
            .map_err(http)?;
        match response.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            status => {
                return Err(RegistryError::Status {
                    url: url.to_string(),
                    status,
                });
            }
        }
        // A declared length over the limit is refused before reading anything.
        if response.body().content_length().is_some_and(|n| n > limit) {
            return Err(RegistryError::TooLarge {
                url: url.to_string(),
                limit,
            });
        }
        response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map(Some)
            .map_err(http)
    }
}

/// A version document: `dist.tarball` required, checksums when present.
fn release(url: &str, name: &str, version: &str, doc: &Value) -> Result<Release, RegistryError> {
    let text = |pointer: &str| doc.pointer(pointer).and_then(Value::as_str);
    let tarball = text("/dist/tarball").ok_or_else(|| RegistryError::BadDocument {
        url: url.to_string(),
        reason: format!("version {version} has no dist.tarball"),
    })?;
    if !(tarball.starts_with("https://") || tarball.starts_with("http://")) {
        return Err(RegistryError::BadDocument {
            url: url.to_string(),
            reason: format!("dist.tarball '{tarball}' is not an http(s) URL"),
        });
    }
    Ok(Release {
        id: PackageId {
            name: name.to_string(),
            version: version.to_string(),
        },
        tarball: tarball.to_string(),
        shasum: text("/dist/shasum").map(str::to_string),
        integrity: text("/dist/integrity").map(str::to_string),
    })
}

fn newest<'a>(versions: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    versions.max_by(|a, b| compare_versions(a, b))
}

/// Subresource Integrity: space-separated `algo-base64` hashes; every one of a known algorithm
/// must match, and at least one must be known.
fn check_integrity(url: &str, integrity: &str, bytes: &[u8]) -> Result<(), RegistryError> {
    let mut checked = false;
    for token in integrity.split_whitespace() {
        let Some((algorithm, expected)) = token.split_once('-') else {
            continue;
        };
        let (name, digest) = match algorithm {
            "sha512" => ("sha512", &ring::digest::SHA512),
            "sha384" => ("sha384", &ring::digest::SHA384),
            "sha256" => ("sha256", &ring::digest::SHA256),
            "sha1" => ("sha1", &ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
            _ => continue,
        };
        // Options after `?` are reserved by the SRI syntax.
        let expected = expected.split('?').next().unwrap_or(expected);
        let actual =
            base64::engine::general_purpose::STANDARD.encode(ring::digest::digest(digest, bytes));
        if actual != expected {
            return Err(RegistryError::Checksum {
                url: url.to_string(),
                algorithm: name,
                expected: expected.to_string(),
                actual,
            });
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(RegistryError::BadDocument {
            url: url.to_string(),
            reason: format!("dist.integrity '{integrity}' names no known hash"),
        })
    }
}

fn hex(digest: ring::digest::Digest) -> String {
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn specs_name_a_package_and_a_version_a_line_or_latest() {
        let spec = PackageSpec::parse("jp-core.r4#1.1.2").unwrap();
        assert_eq!(spec.name, "jp-core.r4");
        assert_eq!(spec.wanted, Wanted::Exact("1.1.2".into()));
        assert_eq!(
            PackageSpec::parse("jp-core.r4").unwrap().wanted,
            Wanted::Latest
        );
        assert_eq!(
            PackageSpec::parse("jp-core.r4#latest").unwrap().wanted,
            Wanted::Latest
        );
        assert_eq!(
            PackageSpec::parse("jp-clins.r4#1.x").unwrap().wanted,
            Wanted::Line(vec![1])
        );
        assert_eq!(
            PackageSpec::parse("jp-clins.r4#1.5.x").unwrap().wanted,
            Wanted::Line(vec![1, 5])
        );
        // A pre-release with an x in it is a version, not a line.
        assert_eq!(
            PackageSpec::parse("jp-eCSCLINS.r4#1.x.x-temp")
                .unwrap()
                .wanted,
            Wanted::Exact("1.x.x-temp".into())
        );
        for bad in [
            "",
            "#1.0",
            "../etc#1",
            "a/b",
            "jp-core.r4#",
            "jp-core.r4#../1",
            ".hidden",
        ] {
            assert!(PackageSpec::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn a_line_matches_releases_that_start_with_its_numbers() {
        let line = Wanted::parse("1.x");
        assert!(line.matches("1.10.0"));
        assert!(line.matches("1.5.2"));
        assert!(!line.matches("2.0.0"));
        assert!(
            !line.matches("1.6.0-snap"),
            "pre-releases are not in a line"
        );
        assert!(!line.matches("10.0.0"));
        assert!(Wanted::parse("1.5.x").matches("1.5.2"));
        assert!(!Wanted::parse("1.5.x").matches("1.50.0"));
        assert_eq!(Wanted::parse("1.5.x").to_string(), "1.5.x");
    }

    #[test]
    fn integrity_checks_the_hash_it_names() {
        let bytes = b"package bytes";
        let sha512 = base64::engine::general_purpose::STANDARD
            .encode(ring::digest::digest(&ring::digest::SHA512, bytes));
        assert!(check_integrity("u", &format!("sha512-{sha512}"), bytes).is_ok());
        let err = check_integrity("u", &format!("sha512-{sha512}"), b"other bytes").unwrap_err();
        assert!(matches!(
            err,
            RegistryError::Checksum {
                algorithm: "sha512",
                ..
            }
        ));
        assert!(matches!(
            check_integrity("u", "md5-abc", bytes),
            Err(RegistryError::BadDocument { .. })
        ));
    }

    #[test]
    fn a_registry_url_must_be_http() {
        assert!(Registry::new("ftp://example.org", 1).is_err());
        assert_eq!(
            Registry::new("https://packages.fhir.org/", 1)
                .unwrap()
                .url(),
            "https://packages.fhir.org"
        );
    }

    #[test]
    fn a_version_document_needs_an_http_tarball() {
        let doc = serde_json::json!({"dist": {"tarball": "file:///etc/passwd"}});
        assert!(release("u", "p", "1.0.0", &doc).is_err());
        let doc =
            serde_json::json!({"dist": {"tarball": "https://r/p/-/p-1.0.0.tgz", "shasum": "ab"}});
        let r = release("u", "p", "1.0.0", &doc).unwrap();
        assert_eq!(r.shasum.as_deref(), Some("ab"));
        assert_eq!(r.id.to_string(), "p#1.0.0");
    }
}
