//! `CodeSystem/$lookup`: what the loaded code system says about one code — its name and
//! version, the code's display, and its place in the hierarchy (`parent` and `child`
//! properties). An unknown system or code is a 404 naming the input at fault.
//! Spec: <https://hl7.org/fhir/R4/codesystem-operation-lookup.html>

use std::sync::Arc;

use serde_json::{Value, json};

use super::params::{Inputs, Output};
use crate::error::Error;
use crate::interactions::Services;
use crate::messages::TerminologyMessage as M;
use crate::terminology::canonical_system;
use crate::validation::valuesets::{LookupError, ValueSetEngine};

#[derive(Debug, Clone)]
struct Request {
    system: String,
    code: String,
    version: Option<String>,
    properties: Vec<String>,
    /// The inputs the system and code came from, for the location of an error.
    system_param: &'static str,
    code_param: &'static str,
}

impl Request {
    fn read(inputs: &Inputs) -> Result<Self, Error> {
        inputs.refuse(&["codeSystem"], "$lookup")?;
        let properties = inputs.texts("property")?;
        let version = inputs.text("version")?;
        if let Some(coding) = inputs.coding("coding")? {
            if inputs.has("code") || inputs.has("system") {
                return Err(Error::invalid(M::LookupCodeAndCoding, "coding"));
            }
            return Ok(Request {
                system: coding
                    .system
                    .ok_or_else(|| Error::invalid(M::LookupCodingWithoutSystem, "coding.system"))?,
                code: coding
                    .code
                    .ok_or_else(|| Error::invalid(M::LookupCodingWithoutCode, "coding.code"))?,
                version: coding.version.or(version),
                properties,
                system_param: "coding.system",
                code_param: "coding.code",
            });
        }
        Ok(Request {
            code: inputs
                .text("code")?
                .ok_or_else(|| Error::invalid(M::LookupNeedsCode, "code"))?,
            system: inputs
                .text("system")?
                .ok_or_else(|| Error::invalid(M::LookupNeedsSystem, "system"))?,
            version,
            properties,
            system_param: "system",
            code_param: "code",
        })
    }
}

pub async fn lookup(svc: &Services, inputs: Inputs) -> Result<Value, Error> {
    let request = Request::read(&inputs)?;
    let engine = Arc::clone(&svc.value_sets);
    super::off_thread(move || answer(&engine, &request)).await
}

fn answer(engine: &ValueSetEngine, req: &Request) -> Result<Value, Error> {
    let found = engine
        .lookup(&req.system, req.version.as_deref(), &req.code)
        .map_err(|e| {
            let (detail, parameter) = match e {
                LookupError::UnknownSystem(system) => {
                    (M::CodeSystemNotLoaded { system }, req.system_param)
                }
                LookupError::UnknownCode { system, code } => {
                    (unknown_code(engine, req, system, code), req.code_param)
                }
            };
            Error::InputNotFound {
                detail: detail.into(),
                parameter: parameter.to_string(),
            }
        })?;
    if let (Some(asked), Some(loaded)) = (&req.version, &found.version)
        && asked != loaded
    {
        return Err(Error::InputNotFound {
            detail: M::VersionNotLoaded {
                asked: asked.clone(),
                system: found.system.clone(),
                loaded: loaded.clone(),
            }
            .into(),
            parameter: "version".into(),
        });
    }
    let mut out = Output::default();
    // `name` is required by the operation; a code system loaded without one goes by its URL.
    out.push(
        "name",
        "valueString",
        found.name.clone().unwrap_or_else(|| found.system.clone()),
    );
    if let Some(v) = &found.version {
        out.push("version", "valueString", v.clone());
    }
    if let Some(d) = &found.display {
        out.push("display", "valueString", d.clone());
    }
    // Without a `property` input every property this server knows is returned.
    let wanted = |p: &str| req.properties.is_empty() || req.properties.iter().any(|w| w == p);
    for (property, codes) in [("parent", &found.parents), ("child", &found.children)] {
        if !wanted(property) {
            continue;
        }
        for code in codes {
            out.parts(
                "property",
                vec![
                    json!({"name": "code", "valueCode": property}),
                    json!({"name": "value", "valueCode": code}),
                ],
            );
        }
    }
    Ok(out.into_json())
}

/// Why a code was not found: a definition that lists only part of its system cannot say a
/// code does not exist, and the message says so.
fn unknown_code(engine: &ValueSetEngine, req: &Request, system: String, code: String) -> M {
    let partial = engine
        .code_system(canonical_system(&req.system))
        .and_then(|cs| cs.not_enumerable());
    match partial {
        Some(why) => M::CodeNotInLoadedPart {
            code: req.code.clone(),
            system: req.system.clone(),
            why,
        },
        None => M::CodeNotInSystem { code, system },
    }
}
