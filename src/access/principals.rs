//! The principals file: which credential stands for which principal. TOML, one `[[principal]]`
//! table per holder, each with a bearer `token`, a client `certificate_sha256` (hex SHA-256 of the
//! DER certificate), or both:
//!
//! ```toml
//! [[principal]]
//! name = "Sakura Hospital EHR"
//! role = "system"              # system | practitioner | patient | insurer | operator
//! institution = "1311234567"   # system and practitioner
//! token = "..."                # at least 32 characters
//! certificate_sha256 = "ab12..."
//!
//! [[principal]]
//! name = "Dr Tanaka"
//! role = "practitioner"
//! institution = "1311234567"
//! emergency = true             # may use emergency viewing (救急時医療情報閲覧)
//! token = "..."
//!
//! [[principal]]
//! name = "patient 1"
//! role = "patient"
//! patient = "urn:oid:1.2.392.100495.20.3.51.11311234567|00012345"   # member identifier
//! token = "..."
//!
//! [[principal]]
//! name = "Sakura Health Insurance Society"
//! role = "insurer"
//! insurer = "06123456"         # 8-digit insurer number (保険者番号)
//! token = "..."
//! ```

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::principal::{InsurerNumber, Principal, Role};

/// Bearer tokens shorter than this are refused at start-up: they could be guessed.
pub const MIN_TOKEN_CHARS: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum PrincipalsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    #[serde(default)]
    principal: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    role: String,
    institution: Option<String>,
    patient: Option<String>,
    insurer: Option<String>,
    #[serde(default)]
    emergency: bool,
    token: Option<String>,
    certificate_sha256: Option<String>,
}

/// The credentials a server accepts, looked up per request.
#[derive(Debug, Clone, Default)]
pub struct Principals {
    by_token: HashMap<String, Principal>,
    by_certificate: HashMap<String, Principal>,
}

impl Principals {
    pub fn load(path: &Path) -> Result<Self, PrincipalsError> {
        let text = std::fs::read_to_string(path).map_err(|source| PrincipalsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|message| PrincipalsError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses the TOML text; the message names the entry (by position and name), never a secret.
    pub fn parse(text: &str) -> Result<Self, String> {
        let shape: FileShape = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let mut out = Principals::default();
        for (i, entry) in shape.principal.into_iter().enumerate() {
            let at = format!("principal {} ({})", i + 1, entry.name);
            let principal = principal_of(&entry).map_err(|m| format!("{at}: {m}"))?;
            if entry.token.is_none() && entry.certificate_sha256.is_none() {
                return Err(format!("{at}: has neither token nor certificate_sha256"));
            }
            if let Some(token) = entry.token {
                if token.chars().count() < MIN_TOKEN_CHARS {
                    return Err(format!(
                        "{at}: token is shorter than {MIN_TOKEN_CHARS} characters"
                    ));
                }
                if out.by_token.insert(token, principal.clone()).is_some() {
                    return Err(format!("{at}: token is used by another principal"));
                }
            }
            if let Some(fingerprint) = entry.certificate_sha256 {
                let fingerprint = normalise_fingerprint(&fingerprint)
                    .ok_or_else(|| format!("{at}: certificate_sha256 is not 64 hex digits"))?;
                if out.by_certificate.insert(fingerprint, principal).is_some() {
                    return Err(format!(
                        "{at}: certificate_sha256 is used by another principal"
                    ));
                }
            }
        }
        Ok(out)
    }

    pub fn by_token(&self, token: &str) -> Option<&Principal> {
        self.by_token.get(token)
    }

    /// `fingerprint`: SHA-256 of the DER certificate, hex, any case, `:` separators allowed.
    pub fn by_certificate(&self, fingerprint: &str) -> Option<&Principal> {
        normalise_fingerprint(fingerprint).and_then(|f| self.by_certificate.get(&f))
    }

    pub fn is_empty(&self) -> bool {
        self.by_token.is_empty() && self.by_certificate.is_empty()
    }

    pub fn has_certificates(&self) -> bool {
        !self.by_certificate.is_empty()
    }
}

fn principal_of(entry: &Entry) -> Result<Principal, String> {
    let role = Role::parse(&entry.role).ok_or_else(|| {
        format!(
            "role '{}' is not one of system, practitioner, patient, insurer, operator",
            entry.role
        )
    })?;
    let name = entry.name.clone();
    let institution = || -> Result<String, String> {
        match &entry.institution {
            Some(n) if n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit()) => Ok(n.clone()),
            Some(n) => Err(format!("institution '{n}' is not a 10-digit number")),
            None => Err(format!("a {} needs an institution", role.as_str())),
        }
    };
    if entry.emergency && role != Role::Practitioner {
        return Err("only a practitioner may hold the emergency permission".into());
    }
    if entry.patient.is_some() && role != Role::Patient {
        return Err("only a patient principal names a patient".into());
    }
    if entry.insurer.is_some() && role != Role::Insurer {
        return Err("only an insurer principal names an insurer number".into());
    }
    if entry.institution.is_some() && !matches!(role, Role::System | Role::Practitioner) {
        return Err(format!("a {} has no institution", role.as_str()));
    }
    Ok(match role {
        Role::System => Principal::System {
            institution: institution()?,
            name,
        },
        Role::Practitioner => Principal::Practitioner {
            institution: institution()?,
            name,
            emergency: entry.emergency,
        },
        Role::Patient => {
            let identifier = entry
                .patient
                .clone()
                .filter(|p| {
                    p.split_once('|')
                        .is_some_and(|(s, v)| !s.is_empty() && !v.is_empty())
                })
                .ok_or("a patient needs patient = \"system|value\" (the member identifier)")?;
            Principal::Patient { identifier, name }
        }
        Role::Insurer => {
            let insurer = match &entry.insurer {
                Some(n) => InsurerNumber::parse(n)
                    .ok_or_else(|| format!("insurer '{n}' is not an 8-digit insurer number"))?,
                None => {
                    return Err("an insurer needs insurer = \"<8-digit insurer number>\"".into());
                }
            };
            Principal::Insurer { insurer, name }
        }
        Role::Operator => Principal::Operator { name },
    })
}

fn normalise_fingerprint(s: &str) -> Option<String> {
    let hex: String = s
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn reads_each_role() {
        let p = Principals::parse(&format!(
            r#"
            [[principal]]
            name = "ehr"
            role = "system"
            institution = "1311234567"
            token = "{TOKEN}"
            certificate_sha256 = "{}"

            [[principal]]
            name = "pt"
            role = "patient"
            patient = "urn:oid:1.2|42"
            token = "{TOKEN}x"

            [[principal]]
            name = "kenpo"
            role = "insurer"
            insurer = "06123456"
            token = "{TOKEN}y"
            "#,
            "AB:".repeat(31) + "AB"
        ))
        .expect("valid");
        assert_eq!(
            p.by_token(TOKEN).and_then(Principal::institution),
            Some("1311234567")
        );
        assert!(p.by_certificate(&"ab".repeat(32)).is_some());
        assert!(matches!(
            p.by_token(&format!("{TOKEN}x")),
            Some(Principal::Patient { .. })
        ));
        assert!(matches!(
            p.by_token(&format!("{TOKEN}y")),
            Some(Principal::Insurer { insurer, .. }) if insurer.as_str() == "06123456"
        ));
        assert!(p.by_token("nope").is_none());
    }

    #[test]
    fn refuses_weak_or_inconsistent_entries() {
        let cases = [
            (
                "role = \"system\"\ninstitution = \"1311234567\"\ntoken = \"short\"",
                "shorter",
            ),
            (
                "role = \"system\"\ntoken = \"TOKEN\"",
                "needs an institution",
            ),
            (
                "role = \"system\"\ninstitution = \"13\"\ntoken = \"TOKEN\"",
                "10-digit",
            ),
            (
                "role = \"operator\"\nemergency = true\ntoken = \"TOKEN\"",
                "emergency",
            ),
            ("role = \"patient\"\ntoken = \"TOKEN\"", "member identifier"),
            (
                "role = \"insurer\"\ntoken = \"TOKEN\"",
                "8-digit insurer number",
            ),
            (
                "role = \"insurer\"\ninsurer = \"123456\"\ntoken = \"TOKEN\"",
                "not an 8-digit",
            ),
            (
                "role = \"system\"\ninstitution = \"1311234567\"\ninsurer = \"06123456\"\ntoken = \"TOKEN\"",
                "only an insurer",
            ),
            ("role = \"admin\"\ntoken = \"TOKEN\"", "not one of"),
            ("role = \"operator\"", "neither token"),
        ];
        for (body, expected) in cases {
            let text = format!(
                "[[principal]]\nname = \"x\"\n{}",
                body.replace("TOKEN", TOKEN)
            );
            let err = Principals::parse(&text).expect_err(body);
            assert!(err.contains(expected), "{body}: {err}");
            assert!(!err.contains(TOKEN), "secret in message: {err}");
        }
    }
}
