//! `ValueSet/$expand` (type and instance level): the members of a value set, sorted by system
//! then code, optionally filtered (case-insensitive substring of code or display) and paged
//! with `count`/`offset`.
//!
//! When the engine cannot enumerate every member (a code system that is not loaded, a filter it
//! cannot evaluate), a whole expansion would silently be a partial one, so it is refused with
//! 422 and the reason. A request for a page (`count`) gets the members that are known, marked
//! with the `valueset-unclosed` extension and without a `total`. More than
//! [`MAX_COUNT`] members are only given in pages.
//! Spec: <https://hl7.org/fhir/R4/valueset-operation-expand.html>

use std::sync::Arc;

use serde_json::{Value, json};

use super::params::Inputs;
use crate::error::Error;
use crate::fhir::instant::to_fhir_instant;
use crate::fhir::{Issue, IssueType};
use crate::interactions::Services;
use crate::messages::TerminologyMessage as M;
use crate::validation::valuesets::{Member, ValueSetEngine};

/// The largest page, and the largest expansion returned without paging.
pub const MAX_COUNT: usize = 10_000;

const UNCLOSED: &str = "http://hl7.org/fhir/StructureDefinition/valueset-unclosed";

#[derive(Debug)]
struct Request {
    canonical: String,
    resource: Option<Value>,
    filter: Option<String>,
    count: Option<usize>,
    offset: usize,
    /// The inputs that shaped the expansion, echoed in `expansion.parameter`.
    echo: Vec<Value>,
}

pub async fn expand(svc: &Services, id: Option<&str>, inputs: Inputs) -> Result<Value, Error> {
    let engine = Arc::clone(&svc.value_sets);
    let now = to_fhir_instant(svc.clock.now_micros());
    let id = id.map(str::to_string);
    super::off_thread(move || {
        let request = read(&engine, id.as_deref(), &inputs)?;
        run(&engine, request, &now)
    })
    .await
}

fn non_negative(inputs: &Inputs, name: &str) -> Result<Option<usize>, Error> {
    match inputs.integer(name)? {
        None => Ok(None),
        Some(n) => usize::try_from(n).map(Some).map_err(|_| {
            let negative = M::Negative {
                name: name.to_string(),
            };
            Error::invalid(negative, name)
        }),
    }
}

fn read(engine: &ValueSetEngine, id: Option<&str>, inputs: &Inputs) -> Result<Request, Error> {
    inputs.refuse(&["valueSet", "context"], "ValueSet/$expand")?;
    let mut echo = Vec::new();
    let (canonical, resource) = match id {
        Some(id) => {
            let vs =
                super::by_id(engine, "ValueSet", id, false).ok_or_else(|| Error::NotFound {
                    res_type: "ValueSet".into(),
                    id: id.into(),
                })?;
            let canonical = super::canonical_of(&vs)
                .ok_or_else(|| Error::NotSupported(M::NoUrl { id: id.to_string() }.into()))?;
            (canonical, Some(vs))
        }
        None => {
            let url = inputs.text("url")?.ok_or_else(|| {
                Error::invalid(
                    M::NeedsValueSet {
                        operation: "ValueSet/$expand",
                    },
                    "url",
                )
            })?;
            echo.push(json!({"name": "url", "valueUri": url}));
            let canonical = match inputs.text("valueSetVersion")? {
                Some(v) if !url.contains('|') => {
                    echo.push(json!({"name": "valueSetVersion", "valueString": v}));
                    format!("{url}|{v}")
                }
                _ => url,
            };
            let resource =
                super::by_canonical(engine, "ValueSet", &canonical).map(|r| (*r).clone());
            (canonical, resource)
        }
    };
    let filter = inputs.text("filter")?;
    if let Some(f) = &filter {
        echo.push(json!({"name": "filter", "valueString": f}));
    }
    let count = non_negative(inputs, "count")?;
    if let Some(c) = count {
        if c > MAX_COUNT {
            return Err(Error::invalid(
                M::CountTooLarge {
                    count: c,
                    max: MAX_COUNT,
                },
                "count",
            ));
        }
        echo.push(json!({"name": "count", "valueInteger": c}));
    }
    let offset = non_negative(inputs, "offset")?;
    if let Some(o) = offset {
        echo.push(json!({"name": "offset", "valueInteger": o}));
    }
    Ok(Request {
        canonical,
        resource,
        filter,
        count,
        offset: offset.unwrap_or(0),
        echo,
    })
}

fn matches(m: &Member, needle: &str) -> bool {
    m.code.to_lowercase().contains(needle)
        || m.display
            .as_deref()
            .is_some_and(|d| d.to_lowercase().contains(needle))
}

fn run(engine: &ValueSetEngine, req: Request, now: &str) -> Result<Value, Error> {
    let list = engine
        .members(&req.canonical)
        .map_err(|why| Error::InputNotFound {
            detail: why.into(),
            parameter: "url".into(),
        })?;
    if let (Some(why), None) = (&list.incomplete, req.count) {
        return Err(Error::Unprocessable(vec![
            Issue::error(
                IssueType::NotSupported,
                M::Incomplete {
                    value_set: req.canonical.clone(),
                    why: why.clone(),
                },
            )
            .at("url"),
        ]));
    }
    let needle = req.filter.as_deref().map(str::to_lowercase);
    let selected: Vec<&Member> = list
        .members
        .iter()
        .filter(|m| needle.as_deref().is_none_or(|n| matches(m, n)))
        .collect();
    if req.count.is_none() && selected.len() > MAX_COUNT {
        return Err(Error::Unprocessable(vec![
            Issue::error(
                IssueType::TooCosty,
                M::TooManyMembers {
                    value_set: req.canonical.clone(),
                    members: selected.len(),
                    filtered: needle.is_some(),
                    max: MAX_COUNT,
                },
            )
            .at("count"),
        ]));
    }
    let contains: Vec<Value> = selected
        .iter()
        .skip(req.offset)
        .take(req.count.unwrap_or(usize::MAX))
        .map(|m| {
            let mut c = json!({"system": m.system, "code": m.code});
            if let Some(d) = &m.display {
                c["display"] = json!(d);
            }
            c
        })
        .collect();
    let mut expansion = json!({
        "identifier": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "timestamp": now,
    });
    if list.incomplete.is_some() {
        expansion["extension"] = json!([{"url": UNCLOSED, "valueBoolean": true}]);
    } else {
        expansion["total"] = json!(selected.len());
    }
    if req.count.is_some() || req.offset > 0 {
        expansion["offset"] = json!(req.offset);
    }
    if !req.echo.is_empty() {
        expansion["parameter"] = Value::Array(req.echo);
    }
    if !contains.is_empty() {
        expansion["contains"] = Value::Array(contains);
    }
    let mut out = header(req.resource.as_ref(), &req.canonical);
    out["expansion"] = expansion;
    Ok(out)
}

/// The ValueSet the expansion is returned in: the definition's metadata without its compose
/// (the expansion replaces it) and narrative; a value set known only from the embedded code
/// sets gets its url and version.
fn header(resource: Option<&Value>, canonical: &str) -> Value {
    let mut vs = json!({"resourceType": "ValueSet"});
    if let Some(obj) = resource.and_then(Value::as_object) {
        for (k, v) in obj {
            if !matches!(k.as_str(), "compose" | "expansion" | "text" | "meta") {
                vs[k] = v.clone();
            }
        }
    } else {
        let (url, version) = canonical.split_once('|').unwrap_or((canonical, ""));
        vs["url"] = json!(url);
        if !version.is_empty() {
            vs["version"] = json!(version);
        }
    }
    if vs.get("status").is_none() {
        vs["status"] = json!("unknown");
    }
    vs
}
