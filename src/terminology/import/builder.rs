//! Assembling one [`MasterSystem`] from rows or FHIR concepts, with the checks every layout
//! shares: no empty or repeated code, every parent a code of the same system, no cycle.

use std::collections::HashMap;

use super::ImportError;
use crate::terminology::{Content, MasterConcept, MasterSystem};

/// Where a concept came from: a CSV line, or a FHIR resource (no line to point at).
pub(super) type Origin = Option<u64>;

pub(super) struct SystemBuilder {
    file: String,
    system: MasterSystem,
    index: HashMap<String, usize>,
    origins: Vec<Origin>,
}

/// The text of a field, `None` when empty.
pub(super) fn text(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl SystemBuilder {
    pub fn new(file: &str, url: &str, name: &str, content: Content) -> Self {
        SystemBuilder {
            file: file.to_string(),
            system: MasterSystem {
                url: url.to_string(),
                version: None,
                name: name.to_string(),
                content,
                case_sensitive: true,
                value_sets: Vec::new(),
                concepts: Vec::new(),
            },
            index: HashMap::new(),
            origins: Vec::new(),
        }
    }

    pub fn version(mut self, version: Option<String>) -> Self {
        self.system.version = version;
        self
    }

    pub fn case_sensitive(mut self, case_sensitive: bool) -> Self {
        self.system.case_sensitive = case_sensitive;
        self
    }

    pub fn value_set(mut self, url: &str) -> Self {
        self.system.value_sets.push(url.to_string());
        self
    }

    pub fn url(&self) -> &str {
        &self.system.url
    }

    pub fn contains(&self, code: &str) -> bool {
        self.index.contains_key(code)
    }

    /// The origin of a code already added.
    pub fn origin_of(&self, code: &str) -> Option<Origin> {
        self.index.get(code).map(|&i| self.origins[i])
    }

    pub fn len(&self) -> usize {
        self.system.concepts.len()
    }

    /// Adds a concept; an empty code, or one already added, fails naming both places.
    pub fn add(
        &mut self,
        origin: Origin,
        code: &str,
        display: Option<String>,
        parent: Option<String>,
    ) -> Result<(), ImportError> {
        // Not trimmed: CSV fields come trimmed, and a FHIR code is what it is (R4 core's
        // v2-0550 has codes ending in a no-break space).
        if code.is_empty() {
            return Err(self.error(origin, "empty code".to_string()));
        }
        if let Some(first) = self.origin_of(code) {
            let message = match first {
                Some(line) => format!("code `{code}` already on line {line}"),
                None => format!("code `{code}` appears twice"),
            };
            return Err(self.error(origin, message));
        }
        self.index
            .insert(code.to_string(), self.system.concepts.len());
        self.origins.push(origin);
        self.system.concepts.push(MasterConcept {
            code: code.to_string(),
            display,
            parent: parent.filter(|p| !p.trim().is_empty()),
        });
        Ok(())
    }

    /// Checks the hierarchy: every parent is a code of this system and no concept is its own
    /// ancestor.
    pub fn finish(self) -> Result<MasterSystem, ImportError> {
        let concepts = &self.system.concepts;
        for (i, concept) in concepts.iter().enumerate() {
            let Some(parent) = &concept.parent else {
                continue;
            };
            if !self.index.contains_key(parent) {
                let message = format!(
                    "parent `{parent}` of `{}` is not a code of {}",
                    concept.code, self.system.url
                );
                return Err(self.error(self.origins[i], message));
            }
            // A walk longer than the system is large has gone round a cycle.
            let mut at = parent;
            for _ in 0..=concepts.len() {
                if at == &concept.code {
                    let message = format!("`{}` is its own ancestor", concept.code);
                    return Err(self.error(self.origins[i], message));
                }
                match self
                    .index
                    .get(at)
                    .and_then(|&j| concepts[j].parent.as_ref())
                {
                    Some(p) => at = p,
                    None => break,
                }
            }
        }
        Ok(self.system)
    }

    fn error(&self, origin: Origin, message: String) -> ImportError {
        match origin {
            Some(line) => ImportError::row(&self.file, line, message),
            None => ImportError::resource(&self.file, format!("{}: {message}", self.system.url)),
        }
    }
}
