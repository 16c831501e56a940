//! What an import produces and the database keeps: code systems as flat concept lists (the
//! hierarchy as a parent code per concept), plus ValueSet resources as given.

use serde_json::Value;

/// One concept of an imported code system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterConcept {
    pub code: String,
    pub display: Option<String>,
    /// The code of the parent concept, for hierarchical systems (the CLINS item code systems:
    /// item → JLAC codes).
    pub parent: Option<String>,
}

/// One imported code system (a master list or a FHIR CodeSystem).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterSystem {
    /// Canonical URL (old OID aliases already mapped to their URL form).
    pub url: String,
    pub version: Option<String>,
    /// Computer-friendly name (e.g. the CSV's `codesystem` column or the file stem).
    pub name: String,
    /// `complete` when the list is the whole system (a code missing from it is an error),
    /// `fragment` when it is known to be partial (a missing code is a warning).
    pub content: Content,
    pub case_sensitive: bool,
    /// Value sets defined as "every code of this system" (FHIR `CodeSystem.valueSet`).
    pub value_sets: Vec<String>,
    pub concepts: Vec<MasterConcept>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Complete,
    Fragment,
}

impl Content {
    pub fn as_str(self) -> &'static str {
        match self {
            Content::Complete => "complete",
            Content::Fragment => "fragment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "complete" => Some(Content::Complete),
            "fragment" => Some(Content::Fragment),
            _ => None,
        }
    }
}

/// Everything one import run brings: code systems and ValueSet resources.
#[derive(Debug, Clone, Default)]
pub struct ImportSet {
    pub systems: Vec<MasterSystem>,
    /// ValueSet resources (JSON), each with at least `url`.
    pub value_sets: Vec<Value>,
    /// What the reader recognised but did not import, for the operator (e.g. a summary table).
    pub notes: Vec<String>,
}
