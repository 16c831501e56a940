//! What the terminology operations ask of the engine: look a code up, list a value set's
//! members, and the CodeSystem and ValueSet resources it knows (imported ones rendered as
//! FHIR resources, package ones as published).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::{Caches, ValueSetEngine, canonical_system};
use crate::terminology::{Masters, SystemInfo};

/// The answer of `$lookup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupResult {
    pub system: String,
    pub name: Option<String>,
    pub version: Option<String>,
    pub display: Option<String>,
    pub parents: Vec<String>,
    pub children: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("code system {0} is not loaded")]
    UnknownSystem(String),
    #[error("code {code} is not in code system {system}")]
    UnknownCode { system: String, code: String },
}

/// One member of an expansion.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Member {
    pub system: String,
    pub code: String,
    pub display: Option<String>,
}

/// A value set's enumerated members, and why it is not the whole story when it is not.
#[derive(Debug, Clone)]
pub struct MemberList {
    pub members: Vec<Member>,
    pub incomplete: Option<String>,
}

/// Where a known CodeSystem or ValueSet resource comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Imported,
    Package,
}

impl ValueSetEngine {
    /// A code in the given edition of its system when that is loaded, else in the newest one
    /// (the answer's `version` says which).
    pub fn lookup(
        &self,
        system: &str,
        version: Option<&str>,
        code: &str,
    ) -> Result<LookupResult, LookupError> {
        let c = self.caches();
        let system = canonical_system(system);
        let cs = self
            .code_system_in(&c, system, version)
            .or_else(|| self.code_system_in(&c, system, None))
            .ok_or_else(|| LookupError::UnknownSystem(system.to_string()))?;
        let concept = cs.find(code).ok_or_else(|| LookupError::UnknownCode {
            system: system.to_string(),
            code: code.to_string(),
        })?;
        let name = c
            .masters
            .system_info(system)
            .map(|i| i.name.clone())
            .or_else(|| self.package_field("CodeSystem", system, "name"));
        Ok(LookupResult {
            system: system.to_string(),
            name,
            version: cs.version.clone(),
            display: concept.display.clone(),
            parents: cs
                .parents_of(code)
                .into_iter()
                .map(str::to_string)
                .collect(),
            children: cs
                .children_of(code)
                .into_iter()
                .map(str::to_string)
                .collect(),
        })
    }

    /// The members of a value set in system then code order, with displays from the code
    /// systems when they are loaded.
    pub fn members(&self, value_set: &str) -> Result<MemberList, String> {
        let c = self.caches();
        let expansion = self.expansion_within(&c, value_set, &mut Vec::new())?;
        let mut members = Vec::with_capacity(expansion.len());
        for (system, part) in &expansion.systems {
            let cs = self.code_system_in(&c, system, None);
            for key in &part.codes {
                let concept = cs.as_ref().and_then(|cs| cs.find(key));
                members.push(Member {
                    system: system.clone(),
                    code: concept.map_or_else(|| key.clone(), |k| k.code.clone()),
                    display: concept.and_then(|k| k.display.clone()).or_else(|| {
                        self.base
                            .and_then(|b| b.display(system, key))
                            .map(str::to_string)
                    }),
                });
            }
        }
        members.sort();
        Ok(MemberList {
            members,
            incomplete: expansion.incomplete_reason().map(str::to_string),
        })
    }

    /// Every CodeSystem (or ValueSet) resource known: imported ones first (rendered without
    /// their concepts when `with_concepts` is false), then the packages'.
    pub fn terminology_resources(
        &self,
        resource_type: &str,
        with_concepts: bool,
    ) -> Vec<(Origin, Arc<Value>)> {
        let c = self.caches();
        let mut out = Vec::new();
        match resource_type {
            "CodeSystem" => {
                let mut infos: Vec<&SystemInfo> = c.masters.systems().collect();
                infos.sort_by(|a, b| a.url.cmp(&b.url));
                for info in infos {
                    out.push((
                        Origin::Imported,
                        Arc::new(render_code_system(&c, info, with_concepts)),
                    ));
                }
            }
            "ValueSet" => {
                let mut sets: Vec<_> = c.masters.value_sets().collect();
                sets.sort_by(|a, b| a.url.cmp(&b.url));
                for vs in sets {
                    out.push((Origin::Imported, Arc::clone(&vs.resource)));
                }
                let mut implicit: BTreeMap<&str, &SystemInfo> = BTreeMap::new();
                for info in c.masters.systems() {
                    for vs in &info.value_sets {
                        implicit.insert(vs, info);
                    }
                }
                for (url, info) in implicit {
                    if c.masters.value_set(url).is_none() {
                        out.push((Origin::Imported, Arc::new(render_all_codes(url, info))));
                    }
                }
            }
            _ => return out,
        }
        if let Some(packages) = &self.packages {
            out.extend(
                packages
                    .resources_of_type(resource_type)
                    .map(|r| (Origin::Package, Arc::clone(r.json()))),
            );
        }
        out
    }

    /// One imported CodeSystem with its concepts, without rendering every other one (a read).
    pub fn imported_code_system(&self, url: &str) -> Option<Value> {
        let c = self.caches();
        let info = c.masters.system_info(url)?;
        Some(render_code_system(&c, info, true))
    }

    fn package_field(&self, resource_type: &str, url: &str, field: &str) -> Option<String> {
        let r = self.packages.as_deref()?.resolve_in(resource_type, url)?;
        r.json()
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// The terminology snapshot answers are currently given from.
    pub fn masters(&self) -> Arc<Masters> {
        Arc::clone(&self.caches().masters)
    }
}

/// A resource id for an imported definition: its name with anything outside FHIR's id
/// alphabet replaced, at most 64 characters.
pub fn imported_id(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' || ch == '.' {
                ch
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if id.is_empty() { "imported".into() } else { id }
}

fn render_code_system(c: &Caches, info: &SystemInfo, with_concepts: bool) -> Value {
    let mut cs = json!({
        "resourceType": "CodeSystem",
        "id": imported_id(&info.name),
        "url": info.url,
        "name": info.name,
        "status": "active",
        "content": info.content.as_str(),
        "count": info.concept_count,
    });
    if let Some(v) = &info.version {
        cs["version"] = json!(v);
    }
    if let Some(vs) = info.value_sets.first() {
        cs["valueSet"] = json!(vs);
    }
    let index = c.masters.code_system(&info.url).filter(|_| with_concepts);
    if let Some(index) = index {
        let concepts: Vec<Value> = index
            .concepts
            .iter()
            .map(|k| {
                let mut concept = json!({"code": k.code});
                if let Some(d) = &k.display {
                    concept["display"] = json!(d);
                }
                let parents = index.parents_of(&k.code);
                if !parents.is_empty() {
                    concept["property"] = Value::Array(
                        parents
                            .into_iter()
                            .map(|p| json!({"code": "parent", "valueCode": p}))
                            .collect(),
                    );
                }
                concept
            })
            .collect();
        if concepts.iter().any(|k| k.get("property").is_some()) {
            cs["property"] = json!([{"code": "parent", "type": "code"}]);
        }
        cs["concept"] = Value::Array(concepts);
    }
    cs
}

/// The value set an import declared as "every code of this system".
fn render_all_codes(url: &str, info: &SystemInfo) -> Value {
    let name = url.rsplit('/').next().unwrap_or(url);
    json!({
        "resourceType": "ValueSet",
        "id": imported_id(name),
        "url": url,
        "name": name,
        "status": "active",
        "compose": {"include": [{"system": info.url}]},
    })
}
