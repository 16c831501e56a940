//! The terminology side of the REST API: `CodeSystem/$lookup`, `$validate-code` on CodeSystem and
//! ValueSet, `ValueSet/$expand`, and read and search of CodeSystem and ValueSet. These answer
//! from the value-set engine (imported terminology first, then the packages), never from the
//! resource store: the definitions are managed by `kyoyu codesets import` and by package
//! installation, so the server refuses to write them.
//! Spec: <https://hl7.org/fhir/R4/terminology-service.html>

pub mod expand;
pub mod lookup;
pub mod params;
pub mod resources;
pub mod validate_code;

use std::sync::Arc;

use serde_json::Value;

use crate::error::Error;
use crate::store::StoreError;
use crate::validation::valuesets::{Origin, ValueSetEngine, imported_id};

pub use params::Inputs;

/// The resource types served from the terminology instead of the resource store.
pub const MANAGED_TYPES: &[&str] = &["CodeSystem", "ValueSet"];

pub fn is_managed(res_type: &str) -> bool {
    MANAGED_TYPES.contains(&res_type)
}

/// Refuses a write (create, update, delete, in a bundle or not) to a managed type.
pub fn check_writable(res_type: &str, method: &str) -> Result<(), Error> {
    if is_managed(res_type) {
        Err(Error::ManagedType {
            res_type: res_type.to_string(),
            method: method.to_string(),
        })
    } else {
        Ok(())
    }
}

/// Runs engine work off the async threads: expansions of large systems take milliseconds.
async fn off_thread<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Store(StoreError::Task(e.to_string())))?
}

/// The id a known resource is served under: its own, or for an imported one without an id, one
/// made from its name (or the last part of its URL).
fn resource_id(resource: &Value) -> String {
    if let Some(id) = resource.get("id").and_then(Value::as_str) {
        return id.to_string();
    }
    let text = |k: &str| resource.get(k).and_then(Value::as_str);
    let name = text("name")
        .or_else(|| text("url").and_then(|u| u.rsplit('/').next()))
        .unwrap_or_default();
    imported_id(name)
}

/// The known resource of `res_type` with id `id` (imported ones first, as the engine lists
/// them); an imported CodeSystem comes with its concepts when `with_concepts` (a read, not an
/// operation that only needs its URL).
fn by_id(engine: &ValueSetEngine, res_type: &str, id: &str, with_concepts: bool) -> Option<Value> {
    let (origin, found) = engine
        .terminology_resources(res_type, false)
        .into_iter()
        .find(|(_, r)| resource_id(r) == id)?;
    let imported_code_system = origin == Origin::Imported && res_type == "CodeSystem";
    let mut resource = if with_concepts && imported_code_system {
        let url = found.get("url").and_then(Value::as_str).unwrap_or_default();
        engine
            .imported_code_system(url)
            .unwrap_or_else(|| Value::clone(&found))
    } else {
        Value::clone(&found)
    };
    if resource.get("id").is_none() {
        resource["id"] = Value::String(id.to_string());
    }
    Some(resource)
}

/// The canonical (`url|version` when the resource has a version) a stored definition is
/// addressed by in the engine.
fn canonical_of(resource: &Value) -> Option<String> {
    let url = resource.get("url").and_then(Value::as_str)?;
    Some(match resource.get("version").and_then(Value::as_str) {
        Some(v) => format!("{url}|{v}"),
        None => url.to_string(),
    })
}

/// The known ValueSet or CodeSystem resource for a canonical (`url` or `url|version`).
fn by_canonical(engine: &ValueSetEngine, res_type: &str, canonical: &str) -> Option<Arc<Value>> {
    let (url, version) = match canonical.split_once('|') {
        Some((u, v)) if !v.is_empty() => (u, Some(v)),
        Some((u, _)) => (u, None),
        None => (canonical, None),
    };
    engine
        .terminology_resources(res_type, false)
        .into_iter()
        .map(|(_, r)| r)
        .find(|r| {
            r.get("url").and_then(Value::as_str) == Some(url)
                && version.is_none_or(|v| r.get("version").and_then(Value::as_str) == Some(v))
        })
}
