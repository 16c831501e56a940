//! `capabilities` (GET \[base\]/metadata): the CapabilityStatement is generated from the route
//! table's interaction list and the search parameter registry, so it cannot drift from what the
//! server does. Spec: <https://hl7.org/fhir/R4/capabilitystatement.html>

use serde_json::{Value, json};

use crate::fhir::resource_types::RESOURCE_TYPES;
use crate::search::params_for;

/// What the HTTP layer really serves, handed in by `api::routes`.
pub struct Implemented<'a> {
    pub type_interactions: &'a [&'a str],
    pub system_interactions: &'a [&'a str],
    pub formats: &'a [&'a str],
    pub operations: &'a [(&'a str, &'a str)],
    /// Operations at system level only.
    pub system_operations: &'a [(&'a str, &'a str)],
    /// Canonical CapabilityStatements this server implements (Bulk Data).
    pub instantiates: &'a [&'a str],
    /// Operations of one type only.
    pub type_operations: &'a [TypeOperation<'a>],
    /// Types served from somewhere other than the resource store, with their own interactions.
    pub special_types: &'a [TypeCapabilities<'a>],
    /// Types whose create and update always answer 422 (they enter only as extracted from
    /// documents): listed without those interactions.
    pub extracted_only: &'a [&'a str],
    /// Types the server does not serve: not listed at all.
    pub unserved: &'a [&'a str],
    /// The CompartmentDefinitions whose compartment searches are served.
    pub compartments: &'a [&'a str],
}

/// The interactions that write a resource from its body, which an extracted-only type refuses.
const BODY_WRITES: &[&str] = &["create", "update", "patch"];

/// An operation served on one resource type only, at type or instance level.
pub struct TypeOperation<'a> {
    pub res_type: &'a str,
    pub name: &'a str,
    pub definition: &'a str,
    pub documentation: &'a str,
}

/// The capabilities of one type that does not follow the store's (read-only terminology).
pub struct TypeCapabilities<'a> {
    pub res_type: &'a str,
    pub interactions: &'a [&'a str],
    /// (name, type, documentation).
    pub search_params: &'a [(&'a str, &'a str, &'a str)],
    /// (name, definition), at type and instance level.
    pub operations: &'a [(&'a str, &'a str)],
    pub documentation: &'a str,
}

pub fn statement(base_url: &str, published: &str, implemented: &Implemented<'_>) -> Value {
    let resources: Vec<Value> = RESOURCE_TYPES
        .iter()
        .filter(|t| !implemented.unserved.contains(*t))
        .map(|t| resource_entry(t, implemented))
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": published,
        "publisher": "kyoyu",
        "kind": "instance",
        "instantiates": implemented.instantiates,
        "software": { "name": "kyoyu", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": "kyoyu FHIR R4 server", "url": base_url },
        "fhirVersion": "4.0.1",
        "format": implemented.formats,
        "rest": [{
            "mode": "server",
            "resource": resources,
            "interaction": implemented.system_interactions.iter().map(|c| json!({ "code": c })).collect::<Vec<_>>(),
            "searchParam": system_params(),
            "operation": operations(implemented.operations)
                .into_iter()
                .chain(operations(implemented.system_operations))
                .collect::<Vec<_>>(),
            "compartment": implemented.compartments,
        }]
    })
}

/// Adds `referencePolicy` to every type written through the store: references are stored as
/// written (`literal`, `logical`), and with referential integrity on a local literal one must
/// name a resource the writer may read (`enforced`).
pub fn declare_reference_policy(statement: &mut Value, enforced: bool) {
    let mut policy = vec!["literal", "logical"];
    if enforced {
        policy.push("enforced");
    }
    let Some(resources) = statement["rest"][0]["resource"].as_array_mut() else {
        return;
    };
    for entry in resources {
        let writes = entry["interaction"].as_array().is_some_and(|list| {
            list.iter()
                .any(|i| i["code"] == "create" || i["code"] == "update")
        });
        if writes {
            entry["referencePolicy"] = json!(policy);
        }
    }
}

fn operations(list: &[(&str, &str)]) -> Vec<Value> {
    list.iter()
        .map(|(name, definition)| json!({ "name": name, "definition": definition }))
        .collect()
}

fn common_params() -> Vec<Value> {
    vec![
        json!({ "name": "_id", "type": "token", "documentation": "logical id" }),
        json!({ "name": "_lastUpdated", "type": "date", "documentation": "when the current version was written" }),
    ]
    .into_iter()
    .chain(crate::search::params::META_PARAMS.iter().map(
        |p| json!({ "name": p.name, "type": p.kind.fhir_type(), "documentation": p.description }),
    ))
    .collect()
}

/// The parameters of `GET [base]?…` (search-system): the common ones, and `_type`.
fn system_params() -> Vec<Value> {
    let mut params = common_params();
    params.push(json!({
        "name": "_type",
        "type": "token",
        "documentation": SYSTEM_SEARCH_DOC,
    }));
    params
}

const SYSTEM_SEARCH_DOC: &str = "Comma list of the types searched by GET [base]?_type=… or POST [base]/_search; without it every type the store holds (AuditEvent, CodeSystem and ValueSet are searched at their own endpoints: naming one answers 400). One type is that type's search, all its parameters included. With several, _id, _lastUpdated, _count, _sort (_id, _lastUpdated, or a date parameter every listed type defines), _summary, _elements, _total, _include and _revinclude apply across them; a type-specific parameter applies only if every listed type defines it with the same meaning, else 400; chains, _has and _list need a single type (400). Pages are ordered by storage order after any _sort, each within the caller's access scope.";

/// `_list` on every stored type: `[type]?_list=id` is `[type]?_has:List:item:_id=id`.
fn list_param() -> Value {
    json!({
        "name": "_list",
        "type": "special",
        "documentation": "The resources of this type that List/[id] (comma list: any of them) holds in entry.item; a List the caller may not read, or none, holds nothing (an empty result). Functional lists ($current-problems…) answer 400.",
    })
}

/// Adds to each reference parameter's documentation the chains it takes: R4's
/// `rest.resource.searchParam` has no element for them (`SearchParameter.chain` would need a
/// SearchParameter resource this server does not serve, and the search-parameter-combination
/// extension says which parameters go together, not which chain), so, as implementation
/// guides render them, chaining is documented as a rule of the reference parameter.
fn describe_chains(res_type: &str, params: &mut [Value]) {
    use crate::search::ParamKind;
    for def in params_for(res_type)
        .iter()
        .filter(|d| d.kind == ParamKind::Reference)
    {
        let Some(entry) = params.iter_mut().find(|p| p["name"] == def.name) else {
            continue;
        };
        let targets = if def.targets.is_empty() {
            "any type with search parameters".to_string()
        } else {
            def.targets.join(", ")
        };
        let doc = format!(
            "{}. Chainable to {targets}: {name}.[param] or {name}:[Type].[param], up to three links, \
             each linked resource within the caller's access scope; also reachable in reverse \
             as _has:{res_type}:{name}:[param]",
            entry["documentation"].as_str().unwrap_or_default(),
            name = def.name,
        );
        entry["documentation"] = json!(doc);
    }
}

fn resource_entry(res_type: &str, implemented: &Implemented<'_>) -> Value {
    if let Some(special) = implemented
        .special_types
        .iter()
        .find(|s| s.res_type == res_type)
    {
        return special_entry(special);
    }
    let mut params = common_params();
    params.extend(params_for(res_type).iter().map(
        |p| json!({ "name": p.name, "type": p.kind.fhir_type(), "documentation": p.description }),
    ));
    if !crate::search::include::NOT_STORED.contains(&res_type) {
        params.push(list_param());
    }
    describe_chains(res_type, &mut params);
    let mut sorts = vec!["_id".to_string(), "_lastUpdated".to_string()];
    sorts.extend(
        params_for(res_type)
            .iter()
            .filter(|p| p.kind == crate::search::ParamKind::Date)
            .map(|p| p.name.to_string()),
    );
    let mut documentation = format!("_sort supports: {}{SEARCH_DOC}", sorts.join(", "));
    documentation.push_str(HISTORY_DOC);
    let writable = !implemented.extracted_only.contains(&res_type);
    let interactions: Vec<Value> = implemented
        .type_interactions
        .iter()
        .filter(|c| writable || !BODY_WRITES.contains(*c))
        .map(|c| json!({ "code": c }))
        .collect();
    let mut entry = json!({
        "type": res_type,
        "interaction": interactions,
        "versioning": "versioned-update",
        "readHistory": true,
        "updateCreate": writable,
        "conditionalCreate": writable,
        // read and vread answer 304 to If-None-Match and to If-Modified-Since.
        "conditionalRead": "full-support",
        "conditionalUpdate": writable,
        "conditionalDelete": "single",
        "searchParam": params,
        "operation": operations(implemented.operations),
    });
    let includes = crate::search::include::search_include(res_type);
    if !includes.is_empty() {
        entry["searchInclude"] = json!(includes);
    }
    let rev_includes = crate::search::include::search_rev_include(res_type);
    if !rev_includes.is_empty() {
        entry["searchRevInclude"] = json!(rev_includes);
    }
    for op in implemented
        .type_operations
        .iter()
        .filter(|op| op.res_type == res_type)
    {
        if let Some(list) = entry["operation"].as_array_mut() {
            list.push(json!({
                "name": op.name,
                "definition": op.definition,
                "documentation": op.documentation,
            }));
        }
    }
    if res_type == "Bundle" {
        let mut profiles = vec![crate::clins::kinds::BUNDLE_CLINS];
        profiles.extend(crate::clins::kinds::supported_profiles());
        entry["supportedProfile"] = json!(profiles);
        documentation.push_str(BUNDLE_DOC);
    }
    if !writable {
        documentation.push_str(
            ". No create or update: prescriptions enter the record only as extracted from referral and discharge-summary documents, so POST and PUT, also as transaction or batch entries, answer 422 and are not listed.",
        );
    }
    entry["documentation"] = json!(documentation);
    entry
}

/// The history parameters, which no element of the statement lists.
const HISTORY_DOC: &str = ". _history (instance, type, system) takes _count, _offset, _since (written at or after) and _at (the versions current at some point of the date given; prefixes eq, ne, gt, lt, ge, le, sa, eb; ap answers 400)";

/// What a client cannot learn from `searchParam`: which result parameters apply and which
/// syntax is refused rather than ignored (`search::query::cannot_ignore`).
const SEARCH_DOC: &str = ". _summary supports true, text, data, count (the total, no entries) and false, and _elements names top-level elements, on search, read and vread; a resource shown in part is tagged SUBSETTED. _include and _revinclude (:iterate, :recurse) take the values searchInclude and searchRevInclude list, others answer 400; included resources follow the matches with search.mode include, within the caller's access scope, at most search_max_include per page (past it a warning entry says so). Unknown parameter names are ignored with a warning entry (400 with Prefer: handling=strict). Chained parameters (ref.param, ref:Type.param) and _has:Type:ref:param, nested, follow at most three references, each linked resource within the caller's access scope; deeper chains and unknown chained parameters answer 400. _text, _content, _query, _filter and modifiers a parameter does not list are refused with 400, since ignoring them would return resources the search excludes. Number and quantity values take the prefixes eq, ne, gt, lt, ge, le, sa, eb and ap, eq meaning within the precision written (100 is 99.5 to 100.5); a quantity number|http://unitsofmeasure.org|unit is compared in UCUM base units (5.4 mg finds 0.0054 g). Composite values are code$value, both of one element. uri parameters take :above and :below; token parameters take :not, :missing, :above and :below (subsumption in a loaded code system), :in and :not-in (a value set the server can expand whole), otherwise 400";

const BUNDLE_DOC: &str = ". POST of a JP_Bundle_CLINS collection registers a 6-information report unit keyed by the patient's member identifier and the Bundle-ID: 201 for a new unit, 200 for a re-send, which replaces the unit whole (an identical re-send writes nothing). DELETE Bundle?identifier=<Bundle-ID system>|<value>[&patient-identifier=<system>|<value>] deletes a unit whole. \
POST of a CLINS document Bundle (JP_Bundle_eReferral, JP_Bundle_eCheckupGeneral, JP_Bundle_ePCS; a JP_Bundle_eDischargeSummary only attached to a referral, in section 210 and an entry holding its Bundle) registers the document under its sender (the Bundle-ID's institution) and document identifier (Composition.identifier), with its version (extension composition-clinicaldocument-versionNumber): 201 when new; a re-post of the same identifier replaces the document and its extracted resources atomically (200; same or higher version, identical content writes nothing; an older version answers 409). \
Cancel (取消): DELETE Bundle?document-identifier=<value> or DELETE Bundle/<id> of the document: the Bundle and its extracted resources are purged and the document leaves the inbox; re-posting it (status final) undoes the cancel under the same Bundle id (201). \
The Conditions, AllergyIntolerances, lab and infection Observations (CLINS CoreLabo/InfectionLabo item codes) and MedicationRequests of referrals and their discharge summaries are also stored as resources of the patient (found by member identifier), classified for retention. \
Inbox: Bundle?recipient=<institution number> lists the active referrals addressed to that institution (section 910); Bundle?patient=<id>&document-type=53576-5&document-date=ge2024 finds a patient's checkup reports. $receipt records the addressee's receipt.";

fn special_entry(t: &TypeCapabilities<'_>) -> Value {
    json!({
        "type": t.res_type,
        "interaction": t.interactions.iter().map(|c| json!({ "code": c })).collect::<Vec<_>>(),
        "versioning": "no-version",
        "readHistory": false,
        "updateCreate": false,
        "conditionalCreate": false,
        "conditionalRead": "not-supported",
        "conditionalUpdate": false,
        "conditionalDelete": "not-supported",
        "searchParam": t.search_params.iter().map(
            |(name, kind, doc)| json!({ "name": name, "type": kind, "documentation": doc }),
        ).collect::<Vec<_>>(),
        "operation": operations(t.operations),
        "documentation": t.documentation,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn implemented<'a>(extracted_only: &'a [&'a str], unserved: &'a [&'a str]) -> Implemented<'a> {
        Implemented {
            type_interactions: &["read", "update", "patch", "delete", "create", "search-type"],
            system_interactions: &[],
            formats: &[],
            operations: &[],
            system_operations: &[],
            instantiates: &[],
            type_operations: &[],
            special_types: &[],
            extracted_only,
            unserved,
            compartments: &[],
        }
    }

    fn entry<'v>(statement: &'v Value, t: &str) -> Option<&'v Value> {
        statement["rest"][0]["resource"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == t)
    }

    #[test]
    fn an_extracted_only_type_lists_no_body_writes() {
        let s = statement(
            "http://x",
            "2026",
            &implemented(&["MedicationRequest"], &[]),
        );
        let rx = entry(&s, "MedicationRequest").unwrap();
        let codes: Vec<&str> = rx["interaction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["read", "delete", "search-type"]);
        assert_eq!(rx["updateCreate"], false);
        assert_eq!(rx["conditionalCreate"], false);
        assert_eq!(rx["conditionalUpdate"], false);
        let patient = entry(&s, "Patient").unwrap();
        assert_eq!(patient["interaction"].as_array().unwrap().len(), 6);
        assert_eq!(patient["conditionalCreate"], true);
        assert_eq!(patient["conditionalUpdate"], true);
    }

    #[test]
    fn the_reference_policy_says_whether_writes_are_checked() {
        let mut s = statement("http://x", "2026", &implemented(&[], &[]));
        declare_reference_policy(&mut s, true);
        let policy = &entry(&s, "Observation").unwrap()["referencePolicy"];
        assert_eq!(policy, &json!(["literal", "logical", "enforced"]));
        declare_reference_policy(&mut s, false);
        let policy = &entry(&s, "Observation").unwrap()["referencePolicy"];
        assert_eq!(policy, &json!(["literal", "logical"]));
    }

    #[test]
    fn an_unserved_type_is_not_listed() {
        let s = statement("http://x", "2026", &implemented(&[], &["Subscription"]));
        assert!(entry(&s, "Subscription").is_none());
        assert!(entry(&s, "Patient").is_some());
    }

    #[test]
    fn includes_are_listed_from_the_parameter_table() {
        let s = statement("http://x", "2026-01-01", &implemented(&[], &[]));
        let obs = entry(&s, "Observation").unwrap();
        let includes = obs["searchInclude"].as_array().unwrap();
        assert!(includes.contains(&json!("Observation:subject")));
        assert!(!includes.contains(&json!("Observation:code")));
        let patient = entry(&s, "Patient").unwrap();
        let rev = patient["searchRevInclude"].as_array().unwrap();
        assert!(rev.contains(&json!("Observation:subject")));
        assert!(rev.contains(&json!("Condition:patient")));
        assert!(entry(&s, "Basic").unwrap().get("searchInclude").is_none());
    }
}
