//! The generated code-list files under `codesets/`: one JSON document per source list, with the
//! source, its licence and the generator named at the top, each code system's header on a line
//! of its own and then one concept per line, so a regeneration diffs by code.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::terminology::{Content, MasterConcept, MasterSystem};

/// Where a generated file came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The source file's name.
    pub file: String,
    pub sha256: String,
    pub publisher: String,
    pub licence: String,
    pub generator: String,
}

/// One generated file: its provenance, its code systems and value sets.
#[derive(Debug, Clone, Deserialize)]
pub struct ShippedFile {
    pub source: Provenance,
    pub value_sets: Vec<Value>,
    pub systems: Vec<ShippedSystem>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ShippedSystem {
    pub url: String,
    pub version: Option<String>,
    pub name: String,
    pub content: String,
    pub case_sensitive: bool,
    pub value_sets: Vec<String>,
    /// `[code, display, parent]`, display and parent empty when absent.
    pub concepts: Vec<[String; 3]>,
}

#[derive(Serialize)]
struct Header<'a> {
    url: &'a str,
    version: Option<&'a str>,
    name: &'a str,
    content: &'a str,
    case_sensitive: bool,
    value_sets: &'a [String],
}

/// The file's text.
pub fn write(
    source: &Provenance,
    systems: &[MasterSystem],
    value_sets: &[Value],
) -> Result<String, serde_json::Error> {
    let mut out = format!("{{\"source\":{},\n", serde_json::to_string(source)?);
    out.push_str("\"value_sets\":[");
    for (i, vs) in value_sets.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&serde_json::to_string(vs)?);
    }
    out.push_str("],\n\"systems\":[");
    for (i, s) in systems.iter().enumerate() {
        let header = serde_json::to_string(&Header {
            url: &s.url,
            version: s.version.as_deref(),
            name: &s.name,
            content: s.content.as_str(),
            case_sensitive: s.case_sensitive,
            value_sets: &s.value_sets,
        })?;
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        // The header object stays open for its concepts.
        out.push_str(header.trim_end_matches('}'));
        out.push_str(",\"concepts\":[");
        for (j, c) in s.concepts.iter().enumerate() {
            let row = [
                c.code.as_str(),
                c.display.as_deref().unwrap_or_default(),
                c.parent.as_deref().unwrap_or_default(),
            ];
            out.push_str(if j == 0 { "\n" } else { ",\n" });
            out.push_str(&serde_json::to_string(&row)?);
        }
        out.push_str("\n]}");
    }
    out.push_str("\n]}\n");
    Ok(out)
}

impl ShippedSystem {
    pub fn into_master(self) -> Result<MasterSystem, String> {
        let content = Content::parse(&self.content)
            .ok_or_else(|| format!("{}: content {}", self.url, self.content))?;
        let text = |s: String| (!s.is_empty()).then_some(s);
        Ok(MasterSystem {
            url: self.url,
            version: self.version,
            name: self.name,
            content,
            case_sensitive: self.case_sensitive,
            value_sets: self.value_sets,
            concepts: self
                .concepts
                .into_iter()
                .map(|[code, display, parent]| MasterConcept {
                    code,
                    display: text(display),
                    parent: text(parent),
                })
                .collect(),
        })
    }
}
