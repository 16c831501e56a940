//! FHIR Bulk Data `$export` (system, `Patient/$export`, `Group/{id}/$export`): the parameters
//! ([`ExportRequest`]), the walk that streams what the caller may read into NDJSON files
//! ([`ndjson`]), the jobs that run it in the background for the HTTP API ([`jobs`]), and the
//! operator's unscoped source of `kyoyu export` ([`operator`]).
//! Spec: <https://hl7.org/fhir/uv/bulkdata/STU2/export.html>
//!
//! What is exported is exactly what the caller's searches would find: every page is read with
//! the caller's scope, and each page is audited as one read event listing its resources.

pub mod jobs;
pub mod ndjson;
pub mod operator;

use super::everything::{parse_since, push_types};
use crate::error::Error;
use crate::messages::InteractionMessage;

/// The `_outputFormat` values that all mean NDJSON of FHIR resources.
pub const OUTPUT_FORMATS: &[&str] = &["application/fhir+ndjson", "application/ndjson", "ndjson"];

/// Parameters of the spec this server does not implement: ignoring one would export more than
/// was asked for, so each is refused.
const UNSUPPORTED: &[&str] = &[
    "_elements",
    "_typeFilter",
    "includeAssociatedData",
    "patient",
    "organizeOutputBy",
];

/// Which resources the export starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    /// `[base]/$export`: every type.
    System,
    /// `[base]/Patient/$export`: the types of the Patient compartment.
    Patient,
    /// `[base]/Group/{id}/$export`: the compartments of the Group's member Patients.
    Group(String),
}

impl Level {
    /// The type and id the kick-off addresses, for the audit.
    pub fn target(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Level::System => (None, None),
            Level::Patient => (Some("Patient"), None),
            Level::Group(id) => (Some("Group"), Some(id)),
        }
    }
}

/// A kick-off, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRequest {
    pub level: Level,
    /// `_since`: only resources last updated after this instant (µs).
    pub since: Option<i64>,
    /// `_type`: only these types (`None`: every type of the level).
    pub types: Option<Vec<String>>,
}

impl ExportRequest {
    pub fn parse(level: Level, params: &[(String, String)]) -> Result<Self, Error> {
        let mut out = ExportRequest {
            level,
            since: None,
            types: None,
        };
        for (name, value) in params {
            match name.as_str() {
                "_outputFormat" if !OUTPUT_FORMATS.contains(&value.trim()) => {
                    let message = InteractionMessage::ExportOutputFormat {
                        format: value.clone(),
                    };
                    return Err(Error::invalid(message, "_outputFormat"));
                }
                "_since" => out.since = Some(parse_since(value)?),
                "_type" => push_types(out.types.get_or_insert_with(Vec::new), value)?,
                n if UNSUPPORTED.contains(&n) => {
                    let message = InteractionMessage::ExportParameterUnsupported {
                        parameter: n.to_string(),
                    };
                    return Err(Error::NotSupported(message.into()));
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The types exported, in a fixed order: the level's types, narrowed by `_type`. The audit
    /// trail is served from its own store, never exported as resources.
    pub fn types(&self) -> Vec<String> {
        let level: Vec<String> = match self.level {
            Level::System => crate::fhir::resource_types::RESOURCE_TYPES
                .iter()
                .filter(|t| **t != "AuditEvent")
                .map(|t| (*t).to_string())
                .collect(),
            Level::Patient | Level::Group(_) => super::compartment::served_types(),
        };
        level
            .into_iter()
            .filter(|t| {
                self.types
                    .as_ref()
                    .is_none_or(|wanted| wanted.iter().any(|w| w == t))
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn types_are_the_levels_narrowed_by_type() {
        let params = pairs(&[("_type", "Patient,Observation"), ("_type", "Observation")]);
        let request = ExportRequest::parse(Level::Patient, &params).unwrap();
        assert_eq!(request.types(), ["Observation", "Patient"]);
        let all = ExportRequest::parse(Level::System, &[]).unwrap().types();
        assert!(all.iter().any(|t| t == "Organization"));
        assert!(!all.iter().any(|t| t == "AuditEvent"));
        let patient = ExportRequest::parse(Level::Patient, &[]).unwrap().types();
        assert!(!patient.iter().any(|t| t == "Organization"));
    }

    #[test]
    fn formats_types_and_filters_it_cannot_honour_are_refused() {
        for params in [
            pairs(&[("_outputFormat", "text/csv")]),
            pairs(&[("_type", "Patient,Nonsense")]),
            pairs(&[("_since", "yesterday")]),
            pairs(&[("_typeFilter", "Observation?code=x")]),
            pairs(&[("_elements", "id")]),
        ] {
            let e = ExportRequest::parse(Level::System, &params).unwrap_err();
            assert_eq!(e.classify().0.as_u16(), 400, "{params:?}");
        }
        for format in OUTPUT_FORMATS {
            let params = pairs(&[("_outputFormat", format)]);
            assert!(ExportRequest::parse(Level::System, &params).is_ok());
        }
    }
}
