//! `$validate-code` on CodeSystem and on ValueSet (type and instance level): is this code (or
//! Coding, or any Coding of a CodeableConcept) valid? The answer is a Parameters with `result`,
//! `message` (why not, or what is off — a display that is not the system's) and the system's
//! `display`. A question the loaded terminology cannot decide is answered `false` with a message
//! saying so, never `true`.
//! Spec: <https://hl7.org/fhir/R4/codesystem-operation-validate-code.html>,
//! <https://hl7.org/fhir/R4/valueset-operation-validate-code.html>

use std::sync::Arc;

use serde_json::Value;

use super::params::{Coding, Inputs, Output};
use crate::error::Error;
use crate::interactions::Services;
use crate::messages::TerminologyMessage as M;
use crate::terminology::canonical_system;
use crate::validation::binding_check::{BindingCheck, CodedValue, Finding, Membership};
use crate::validation::valuesets::{LookupError, ValueSetEngine};

/// The verdict on one coding.
#[derive(Debug, Clone, Default)]
struct Verdict {
    valid: bool,
    messages: Vec<String>,
    display: Option<String>,
}

impl Verdict {
    fn invalid(message: String) -> Self {
        Verdict {
            valid: false,
            messages: vec![message],
            display: None,
        }
    }
}

/// What was given to validate: one coding, or the codings of a CodeableConcept.
enum Given {
    One(Coding),
    Concept(Vec<Coding>),
}

/// `res_type` is CodeSystem or ValueSet; `id` is set at instance level.
pub async fn validate_code(
    svc: &Services,
    res_type: &str,
    id: Option<&str>,
    inputs: Inputs,
) -> Result<Value, Error> {
    let engine = Arc::clone(&svc.value_sets);
    let id = id.map(str::to_string);
    if res_type == "CodeSystem" {
        super::off_thread(move || in_code_system(&engine, id.as_deref(), &inputs)).await
    } else {
        super::off_thread(move || in_value_set(&engine, id.as_deref(), &inputs)).await
    }
}

/// Reads the one of `code`, `coding` and `codeableConcept` given; `code` takes its system from
/// `system` and its version from `version_param`.
fn given(inputs: &Inputs, system: Option<String>, version_param: &str) -> Result<Given, Error> {
    let code = inputs.text("code")?;
    let coding = inputs.coding("coding")?;
    let concept = inputs.codeable_concept("codeableConcept")?;
    let display = inputs.text("display")?;
    let forms = [code.is_some(), coding.is_some(), concept.is_some()];
    if forms.iter().filter(|f| **f).count() > 1 {
        return Err(Error::invalid(M::ValidateOneForm, "code"));
    }
    match (code, coding, concept) {
        (Some(code), _, _) => Ok(Given::One(Coding {
            system,
            version: inputs.text(version_param)?,
            code: Some(code),
            display,
        })),
        (_, Some(mut c), _) => {
            c.display = c.display.or(display);
            if c.code.is_none() {
                return Err(Error::invalid(M::ValidateCodingWithoutCode, "coding.code"));
            }
            Ok(Given::One(c))
        }
        (_, _, Some(codings)) if codings.is_empty() => Err(Error::invalid(
            M::ValidateConceptWithoutCoding,
            "codeableConcept.coding",
        )),
        (_, _, Some(codings)) => Ok(Given::Concept(codings)),
        _ => Err(Error::invalid(M::ValidateNeedsCode, "code")),
    }
}

/// The answer: valid when a coding is (the first valid one speaks), else every reason.
fn answer(verdicts: Vec<Verdict>) -> Value {
    let chosen = verdicts.iter().find(|v| v.valid).cloned();
    let (valid, messages, display) = match chosen {
        Some(v) => (true, v.messages, v.display),
        None => {
            let display = verdicts.iter().find_map(|v| v.display.clone());
            let messages = verdicts.into_iter().flat_map(|v| v.messages).collect();
            (false, messages, display)
        }
    };
    let mut out = Output::default();
    out.push("result", "valueBoolean", valid);
    if !messages.is_empty() {
        out.push("message", "valueString", messages.join("; "));
    }
    if let Some(d) = display {
        out.push("display", "valueString", d);
    }
    out.into_json()
}

fn in_code_system(
    engine: &ValueSetEngine,
    id: Option<&str>,
    inputs: &Inputs,
) -> Result<Value, Error> {
    inputs.refuse(&["codeSystem"], "CodeSystem/$validate-code")?;
    // The code system to validate against: the instance, `url`, or `system` (accepted as a
    // synonym, as clients often send it); a coding may carry it instead.
    let (target, param) = match id {
        Some(id) => {
            let cs =
                super::by_id(engine, "CodeSystem", id, false).ok_or_else(|| Error::NotFound {
                    res_type: "CodeSystem".into(),
                    id: id.into(),
                })?;
            let url = cs.get("url").and_then(Value::as_str).map(str::to_string);
            (url, "id")
        }
        None => match (inputs.text("url")?, inputs.text("system")?) {
            (Some(u), Some(s)) if canonical_system(&u) != canonical_system(&s) => {
                return Err(Error::invalid(
                    M::UrlAndSystemDiffer { url: u, system: s },
                    "system",
                ));
            }
            (Some(u), _) => (Some(u), "url"),
            (None, Some(s)) => (Some(s), "system"),
            (None, None) => (None, "url"),
        },
    };
    // A code system named outright must be known; one a coding carries is judged per coding.
    if let Some(t) = &target
        && engine.code_system(canonical_system(t)).is_none()
    {
        return Err(Error::InputNotFound {
            detail: M::CodeSystemNotLoaded { system: t.clone() }.into(),
            parameter: param.into(),
        });
    }
    let codings = match given(inputs, target.clone(), "version")? {
        Given::One(c) if c.system.is_none() && target.is_none() => {
            return Err(Error::invalid(M::ValidateNeedsCodeSystem, "url"));
        }
        Given::One(c) => vec![c],
        Given::Concept(codings) => codings,
    };
    let verdicts = codings
        .iter()
        .map(|c| coding_in_system(engine, target.as_deref(), c))
        .collect();
    Ok(answer(verdicts))
}

fn coding_in_system(engine: &ValueSetEngine, target: Option<&str>, c: &Coding) -> Verdict {
    let Some(code) = c.code.as_deref() else {
        return Verdict::invalid("a coding has no code".into());
    };
    let Some(system) = c.system.as_deref().or(target) else {
        return Verdict::invalid(format!("coding {code} has no system"));
    };
    if let Some(t) = target
        && canonical_system(t) != canonical_system(system)
    {
        return Verdict::invalid(format!(
            "code {code} is from {system}, not from code system {t}"
        ));
    }
    let value = CodedValue {
        system: Some(system),
        version: c.version.as_deref(),
        code,
        display: c.display.as_deref(),
    };
    let findings = engine.coding(value);
    let has_error = findings.iter().any(Finding::is_error);
    let mut messages: Vec<String> = findings.iter().map(Finding::text).collect();
    match engine.lookup(system, c.version.as_deref(), code) {
        Ok(found) => {
            if let (Some(asked), Some(loaded)) = (&c.version, &found.version)
                && asked != loaded
            {
                return Verdict::invalid(format!(
                    "version {asked} of code system {system} is not loaded (version {loaded} is)"
                ));
            }
            Verdict {
                valid: !has_error,
                messages,
                display: found.display,
            }
        }
        Err(LookupError::UnknownSystem(_)) => {
            messages.push(format!(
                "code system {system} is not loaded here: code {code} could not be checked"
            ));
            Verdict {
                valid: false,
                messages,
                display: None,
            }
        }
        Err(e @ LookupError::UnknownCode { .. }) => {
            // A partial definition cannot say the code does not exist: undecided, still false.
            if !has_error {
                let why = engine
                    .code_system(canonical_system(system))
                    .and_then(|cs| cs.not_enumerable())
                    .unwrap_or_else(|| e.to_string());
                messages.push(format!(
                    "whether code {code} is in code system {system} could not be decided: {why}"
                ));
            }
            Verdict {
                valid: false,
                messages,
                display: None,
            }
        }
    }
}

fn in_value_set(
    engine: &ValueSetEngine,
    id: Option<&str>,
    inputs: &Inputs,
) -> Result<Value, Error> {
    inputs.refuse(&["valueSet", "context"], "ValueSet/$validate-code")?;
    let value_set = match id {
        Some(id) => super::by_id(engine, "ValueSet", id, false)
            .and_then(|vs| super::canonical_of(&vs))
            .ok_or_else(|| Error::NotFound {
                res_type: "ValueSet".into(),
                id: id.into(),
            })?,
        None => {
            let url = inputs.text("url")?.ok_or_else(|| {
                Error::invalid(
                    M::NeedsValueSet {
                        operation: "ValueSet/$validate-code",
                    },
                    "url",
                )
            })?;
            match inputs.text("valueSetVersion")? {
                Some(v) if !url.contains('|') => format!("{url}|{v}"),
                _ => url,
            }
        }
    };
    // At the top level the engine fails only for a value set it does not have.
    engine
        .expansion(&value_set)
        .map_err(|why| Error::InputNotFound {
            detail: why.into(),
            parameter: "url".into(),
        })?;
    let codings = match given(inputs, inputs.text("system")?, "systemVersion")? {
        Given::One(c) => vec![c],
        Given::Concept(codings) => codings,
    };
    let verdicts = codings
        .iter()
        .map(|c| coding_in_value_set(engine, &value_set, c))
        .collect();
    Ok(answer(verdicts))
}

fn coding_in_value_set(engine: &ValueSetEngine, value_set: &str, c: &Coding) -> Verdict {
    let Some(code) = c.code.as_deref() else {
        return Verdict::invalid("a coding has no code".into());
    };
    let value = CodedValue {
        system: c.system.as_deref(),
        version: c.version.as_deref(),
        code,
        display: c.display.as_deref(),
    };
    let label = match &c.system {
        Some(s) => format!("{s}#{code}"),
        None => code.to_string(),
    };
    let display = c
        .system
        .as_deref()
        .and_then(|s| engine.lookup(s, c.version.as_deref(), code).ok())
        .and_then(|r| r.display);
    let findings = engine.coding(value);
    let has_error = findings.iter().any(Finding::is_error);
    let mut messages: Vec<String> = findings.iter().map(Finding::text).collect();
    let valid = match engine.check(value_set, value).membership {
        Membership::Member => !has_error,
        Membership::NotMember => {
            messages.insert(0, format!("code {label} is not in value set {value_set}"));
            false
        }
        Membership::Unknown(why) => {
            messages.insert(
                0,
                format!(
                    "whether code {label} is in value set {value_set} could not be decided: {why}"
                ),
            );
            false
        }
    };
    Verdict {
        valid,
        messages,
        display,
    }
}
