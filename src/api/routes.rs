//! The route table. FHIR URLs have few shapes (`/[type]/[id]/_history/[vid]`…), so requests are
//! routed here by splitting the path, once, instead of trying a regular expression per route —
//! which was the largest single cost of a GET. The interaction lists below are what the
//! CapabilityStatement advertises; they sit next to the routes that implement them.

use actix_web::http::Method;
use actix_web::web::Payload;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use super::compartment as c;
use super::export as x;
use super::handlers as h;
use super::terminology as th;
use super::{State, audited};
use crate::audit::Interaction;
use crate::error::Error;
use crate::interactions::capabilities::{Implemented, TypeCapabilities, TypeOperation};
use crate::interactions::export::Level;
use crate::interactions::terminology::{is_managed, resources::SEARCH_PARAMS};
use crate::messages::InteractionMessage;
use crate::search::ALL_TYPES;

pub const TYPE_INTERACTIONS: &[&str] = &[
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
];
pub const SYSTEM_INTERACTIONS: &[&str] =
    &["transaction", "batch", "history-system", "search-system"];
pub const FORMATS: &[&str] = &[
    "application/fhir+json",
    "json",
    "application/fhir+xml",
    "xml",
];
/// (name, definition) of the operations served at system, type and instance level.
pub const OPERATIONS: &[(&str, &str)] = &[(
    "validate",
    "http://hl7.org/fhir/OperationDefinition/Resource-validate",
)];

const VALIDATE: (&str, &str) = OPERATIONS[0];

const EXPORT_DEFINITION: &str = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export";
/// Operations served at system level only.
pub const SYSTEM_OPERATIONS: &[(&str, &str)] = &[("export", EXPORT_DEFINITION)];
/// The Bulk Data server CapabilityStatement `$export` implements.
pub const INSTANTIATES: &[&str] =
    &["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"];
const EXPORT_DOC: &str = "Bulk Data $export (kick-off needs Prefer: respond-async; 202 with Content-Location of the status URL, polled with GET, cancelled with DELETE): NDJSON files of what the caller may read, one per type, downloadable only by the caller that started the job. _outputFormat (application/fhir+ndjson, application/ndjson, ndjson), _since (meta.lastUpdated after), _type (comma list; an unknown type answers 400); _elements, _typeFilter and includeAssociatedData answer 400.";

/// Operations of one type only.
pub const TYPE_OPERATIONS: &[TypeOperation<'static>] = &[
    TypeOperation {
        res_type: "Patient",
        name: "summary",
        definition: "http://hl7.org/fhir/uv/ips/OperationDefinition/summary",
        documentation: "GET Patient/{id}/$summary: a collection Bundle of the patient's current 6 information (conditions, allergies, infections, labs within a year or the latest 3 per item, prescriptions within 100 days or from the latest 3 occasions); each entry carries its source institution (JP_eCS_InstitutionNumber extension).",
    },
    TypeOperation {
        res_type: "Patient",
        name: "everything",
        definition: "http://hl7.org/fhir/OperationDefinition/Patient-everything",
        documentation: "GET or POST (Parameters) Patient/{id}/$everything: a searchset of the Patient and every resource of its compartment the caller may read (search.mode match, total counted), with the Practitioner, PractitionerRole, Organization, Location, Medication and Encounter resources they reference (search.mode include, per page). _since (instant: meta.lastUpdated at or after), _type (comma list; a name that is not an R4 type answers 400) and _count; start and end are refused with 400. Pages follow in storage order through the next link's _cursor, so resources written or deleted between pages are neither repeated nor skipped.",
    },
    TypeOperation {
        res_type: "Patient",
        name: "export",
        definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
        documentation: EXPORT_DOC,
    },
    TypeOperation {
        res_type: "Group",
        name: "export",
        definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
        documentation: EXPORT_DOC,
    },
    TypeOperation {
        res_type: "Bundle",
        name: "receipt",
        definition: crate::submissions::documents::RECEIPT_DEFINITION,
        documentation: "POST [base]/Bundle/{id}/$receipt with a Parameters holding institution (valueIdentifier of system http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no, or valueString): the addressee of a referral acknowledges receiving it. Another institution gets 403. The first receipt is kept (a repeat answers it again); it starts the referral's retention after receipt. Answers a Parameters: document, institution, received, firstReceipt.",
    },
    TypeOperation {
        res_type: "Bundle",
        name: "document-status",
        definition: crate::interactions::document_status::DEFINITION,
        documentation: "GET [base]/Bundle/$document-status, for a patient: their documents (referrals, checkup reports, patient summaries), each a Parameters part document with identifier, type, version, sender, registered, status (urn:kyoyu:CodeSystem:document-status: viewable 閲覧可, on-hold 閲覧保留, received 取得済), addressee and received for referrals, bundle for the documents the patient reads, viewableBy (institutions that may read it now) and heldFor (institutions whose consent the patient put on hold). Other callers get 403.",
    },
];
const TERMINOLOGY_DOC: &str = "Read-only: served from the imported terminology (`kyoyu codesets import`) and the installed packages; writes answer 405.";
/// CodeSystem and ValueSet are answered from the terminology, not the resource store.
pub const TERMINOLOGY_TYPES: &[TypeCapabilities<'static>] = &[
    TypeCapabilities {
        res_type: "CodeSystem",
        interactions: &["read", "search-type"],
        search_params: SEARCH_PARAMS,
        operations: &[
            (
                "lookup",
                "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup",
            ),
            (
                "validate-code",
                "http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code",
            ),
            VALIDATE,
        ],
        documentation: TERMINOLOGY_DOC,
    },
    TypeCapabilities {
        res_type: "ValueSet",
        interactions: &["read", "search-type"],
        search_params: SEARCH_PARAMS,
        operations: &[
            (
                "expand",
                "http://hl7.org/fhir/OperationDefinition/ValueSet-expand",
            ),
            (
                "validate-code",
                "http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code",
            ),
            VALIDATE,
        ],
        documentation: TERMINOLOGY_DOC,
    },
];

pub fn implemented() -> Implemented<'static> {
    Implemented {
        type_interactions: TYPE_INTERACTIONS,
        system_interactions: SYSTEM_INTERACTIONS,
        formats: FORMATS,
        operations: OPERATIONS,
        system_operations: SYSTEM_OPERATIONS,
        instantiates: INSTANTIATES,
        type_operations: TYPE_OPERATIONS,
        special_types: TERMINOLOGY_TYPES,
        extracted_only: crate::clins::direct_write::EXTRACTED_ONLY_TYPES,
        unserved: crate::interactions::UNSERVED_TYPES,
        compartments: &[crate::access::compartment::DEFINITION],
    }
}

/// Where a request goes, with the path parts it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Metadata,
    Transaction,
    HistorySystem,
    /// `GET [base]?_type=…` and `POST [base]/_search`: a search over several types.
    SearchSystem,
    SearchSystemPost,
    Search(String),
    Create(String),
    SearchPost(String),
    HistoryType(String),
    Read(String, String),
    Update(String, String),
    Delete(String, String),
    /// `DELETE [base]/[type]?criteria`; for Bundle, a report unit by its Bundle-ID.
    ConditionalDelete(String),
    /// `PUT [base]/[type]?criteria`.
    ConditionalUpdate(String),
    /// `PATCH [base]/[type]/[id]`.
    Patch(String, String),
    /// `PATCH [base]/[type]?criteria`.
    ConditionalPatch(String),
    HistoryInstance(String, String),
    Vread(String, String, String),
    /// `Bundle/[id]/$receipt`: the addressee acknowledges a referral.
    Receipt(String),
    /// `Bundle/$document-status`: a patient's documents and their status.
    DocumentStatus,
    /// `$validate` at system (no type), type, or instance level.
    Validate(Option<String>, Option<String>),
    /// `Patient/{id}/$summary`: the patient's current 6 information.
    Summary(String),
    /// `Patient/{id}/[type]` (or `*`): a search in the patient's compartment.
    CompartmentSearch(String, String),
    CompartmentSearchPost(String, String),
    /// `Patient/{id}/$everything`.
    Everything(String),
    /// `CodeSystem/$lookup`.
    Lookup,
    /// `$validate-code` on CodeSystem or ValueSet, at type or instance level.
    ValidateCode(String, Option<String>),
    /// `ValueSet/$expand` at type or instance level.
    Expand(Option<String>),
    /// Read and search of CodeSystem and ValueSet, from the terminology.
    TerminologyRead(String, String),
    TerminologySearch(String),
    TerminologySearchPost(String),
    /// `GET OperationDefinition/Bundle-receipt`: the definition of `$receipt`.
    ReceiptDefinition,
    /// The audit trail: `GET AuditEvent` and `GET AuditEvent/{id}`.
    AuditSearch,
    AuditRead(String),
    /// Bulk Data `$export` kick-off at system, Patient or Group level.
    Export(crate::interactions::export::Level),
    /// The status URL of an export job: `GET` polls, `DELETE` cancels.
    ExportStatus(String),
    ExportCancel(String),
    /// An output file of an export job.
    ExportFile(String, String),
}

impl Route {
    /// The FHIR interaction it performs and the type and id it addresses, for the audit.
    pub(super) fn audit_target(&self) -> (Interaction, Option<&str>, Option<&str>) {
        use Interaction as I;
        match self {
            Route::Read(t, id) => (I::Read, Some(t), Some(id)),
            Route::Vread(t, id, _) => (I::Vread, Some(t), Some(id)),
            Route::Search(t) | Route::SearchPost(t) => (I::SearchType, Some(t), None),
            Route::Create(t) => (I::Create, Some(t), None),
            Route::Update(t, id) => (I::Update, Some(t), Some(id)),
            Route::Delete(t, id) => (I::Delete, Some(t), Some(id)),
            Route::ConditionalDelete(t) => (I::Delete, Some(t), None),
            Route::ConditionalUpdate(t) => (I::Update, Some(t), None),
            Route::Patch(t, id) => (I::Patch, Some(t), Some(id)),
            Route::ConditionalPatch(t) => (I::Patch, Some(t), None),
            Route::HistoryInstance(t, id) => (I::HistoryInstance, Some(t), Some(id)),
            Route::HistoryType(t) => (I::HistoryType, Some(t), None),
            Route::HistorySystem => (I::HistorySystem, None, None),
            Route::SearchSystem | Route::SearchSystemPost => (I::SearchSystem, None, None),
            Route::Transaction => (I::Transaction, None, None),
            Route::Summary(id) => (I::Summary, Some("Patient"), Some(id)),
            Route::CompartmentSearch(_, t) | Route::CompartmentSearchPost(_, t) => {
                (I::SearchType, (t != ALL_TYPES).then_some(t.as_str()), None)
            }
            Route::Everything(id) => (I::Everything, Some("Patient"), Some(id)),
            Route::Receipt(id) => (I::Receipt, Some("Bundle"), Some(id)),
            Route::DocumentStatus => (I::DocumentStatus, Some("Bundle"), None),
            Route::Validate(t, id) => (I::Validate, t.as_deref(), id.as_deref()),
            Route::AuditSearch => (I::SearchType, Some("AuditEvent"), None),
            Route::AuditRead(id) => (I::Read, Some("AuditEvent"), Some(id)),
            Route::Export(level) => {
                let (t, id) = level.target();
                (I::Export, t, id)
            }
            Route::ExportStatus(_) | Route::ExportCancel(_) | Route::ExportFile(..) => {
                (I::Export, None, None)
            }
            _ => (I::Operation, None, None),
        }
    }

    /// Terminology and the CapabilityStatement hold no patient data: their use is not audited.
    fn audited(&self) -> bool {
        !matches!(
            self,
            Route::Metadata
                | Route::Lookup
                | Route::ValidateCode(..)
                | Route::Expand(_)
                | Route::TerminologyRead(..)
                | Route::TerminologySearch(_)
                | Route::TerminologySearchPost(_)
        )
    }
}

/// The route template of a request, for the log (never the concrete path: ids stay out of logs).
#[derive(Debug, Clone, Copy)]
pub struct Template(pub &'static str);

/// Resolves a path and method; the error is the 404 or 405 to answer, with the template if the
/// path had a known shape. HEAD resolves as GET (RFC 9110 §9.3.2), so it is scoped and audited
/// as the GET is; actix-web leaves the body out of its answer, keeping the headers.
pub fn resolve(
    method: &Method,
    path: &str,
) -> Result<(Route, &'static str), (Error, &'static str)> {
    let as_get = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let ["AuditEvent", rest @ ..] = segments.as_slice()
        && let Some(resolved) = resolve_audit(method, rest)
    {
        return resolved;
    }
    if let [t, rest @ ..] = segments.as_slice()
        && is_managed(t)
        && let Some(resolved) = resolve_terminology(method, t, rest)
    {
        return resolved;
    }
    let (template, allowed): (&'static str, &[Method]) = match segments.as_slice() {
        [] => ("/", &[Method::GET, Method::POST]),
        ["_search"] => ("/_search", &[Method::POST]),
        ["metadata"] => ("/metadata", &[Method::GET]),
        ["$export"] => ("/$export", &[Method::GET]),
        ["Patient", "$export"] => ("/Patient/$export", &[Method::GET]),
        ["Group", _, "$export"] => ("/Group/{id}/$export", &[Method::GET]),
        [x::STATUS, _] => ("/$export-status/{job}", &[Method::GET, Method::DELETE]),
        [x::FILE, _, _] => ("/$export-file/{job}/{file}", &[Method::GET]),
        ["_history"] => ("/_history", &[Method::GET]),
        ["$validate"] => ("/$validate", &[Method::POST]),
        [_, "$validate"] => ("/{type}/$validate", &[Method::POST]),
        [_, _, "$validate"] => ("/{type}/{id}/$validate", &[Method::GET, Method::POST]),
        ["Patient", _, "$summary"] => ("/Patient/{id}/$summary", &[Method::GET]),
        ["Patient", _, "$everything"] => {
            ("/Patient/{id}/$everything", &[Method::GET, Method::POST])
        }
        ["Patient", _, t] if names_a_type(t) => ("/Patient/{id}/{type}", &[Method::GET]),
        ["Patient", _, t, "_search"] if names_a_type(t) => {
            ("/Patient/{id}/{type}/_search", &[Method::POST])
        }
        ["Bundle", _, "$receipt"] => ("/Bundle/{id}/$receipt", &[Method::POST]),
        ["Bundle", "$document-status"] => ("/Bundle/$document-status", &[Method::GET]),
        ["OperationDefinition", "Bundle-receipt"] => {
            ("/OperationDefinition/Bundle-receipt", &[Method::GET])
        }
        [_] => (
            "/{type}",
            &[
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ],
        ),
        [_, "_search"] => ("/{type}/_search", &[Method::POST]),
        [_, "_history"] => ("/{type}/_history", &[Method::GET]),
        [_, _] => (
            "/{type}/{id}",
            &[Method::GET, Method::PUT, Method::PATCH, Method::DELETE],
        ),
        [_, _, "_history"] => ("/{type}/{id}/_history", &[Method::GET]),
        [_, _, "_history", _] => ("/{type}/{id}/_history/{vid}", &[Method::GET]),
        _ => {
            return Err((
                Error::RouteNotFound(
                    InteractionMessage::NoEndpoint {
                        path: path.to_string(),
                    }
                    .into(),
                ),
                "(unmatched)",
            ));
        }
    };
    if !allowed.contains(as_get) {
        return Err((
            Error::MethodNotAllowed {
                method: method.to_string(),
                path: template.to_string(),
                allow: allow(allowed),
            },
            template,
        ));
    }
    let s = |i: usize| {
        segments
            .get(i)
            .map_or_else(String::new, |v| (*v).to_string())
    };
    let route = match (template, as_get.as_str()) {
        ("/", "GET") => Route::SearchSystem,
        ("/", _) => Route::Transaction,
        ("/_search", _) => Route::SearchSystemPost,
        ("/metadata", _) => Route::Metadata,
        ("/$export", _) => Route::Export(Level::System),
        ("/Patient/$export", _) => Route::Export(Level::Patient),
        ("/Group/{id}/$export", _) => Route::Export(Level::Group(s(1))),
        ("/$export-status/{job}", "GET") => Route::ExportStatus(s(1)),
        ("/$export-status/{job}", _) => Route::ExportCancel(s(1)),
        ("/$export-file/{job}/{file}", _) => Route::ExportFile(s(1), s(2)),
        ("/_history", _) => Route::HistorySystem,
        ("/$validate", _) => Route::Validate(None, None),
        ("/{type}/$validate", _) => Route::Validate(Some(s(0)), None),
        ("/{type}/{id}/$validate", _) => Route::Validate(Some(s(0)), Some(s(1))),
        ("/Patient/{id}/$summary", _) => Route::Summary(s(1)),
        ("/Patient/{id}/$everything", _) => Route::Everything(s(1)),
        ("/Patient/{id}/{type}", _) => Route::CompartmentSearch(s(1), s(2)),
        ("/Patient/{id}/{type}/_search", _) => Route::CompartmentSearchPost(s(1), s(2)),
        ("/Bundle/{id}/$receipt", _) => Route::Receipt(s(1)),
        ("/Bundle/$document-status", _) => Route::DocumentStatus,
        ("/OperationDefinition/Bundle-receipt", _) => Route::ReceiptDefinition,
        ("/{type}", "GET") => Route::Search(s(0)),
        ("/{type}", "DELETE") => Route::ConditionalDelete(s(0)),
        ("/{type}", "PUT") => Route::ConditionalUpdate(s(0)),
        ("/{type}", "PATCH") => Route::ConditionalPatch(s(0)),
        ("/{type}", _) => Route::Create(s(0)),
        ("/{type}/_search", _) => Route::SearchPost(s(0)),
        ("/{type}/_history", _) => Route::HistoryType(s(0)),
        ("/{type}/{id}", "GET") => Route::Read(s(0), s(1)),
        ("/{type}/{id}", "PUT") => Route::Update(s(0), s(1)),
        ("/{type}/{id}", "PATCH") => Route::Patch(s(0), s(1)),
        ("/{type}/{id}", _) => Route::Delete(s(0), s(1)),
        ("/{type}/{id}/_history", _) => Route::HistoryInstance(s(0), s(1)),
        _ => Route::Vread(s(0), s(1), s(3)),
    };
    Ok((route, template))
}

/// Whether the third segment of `Patient/{id}/…` names a type (or `*`) to search in the
/// compartment, rather than an operation (`$…`) or `_history`.
fn names_a_type(segment: &str) -> bool {
    !segment.starts_with('$') && !segment.starts_with('_')
}

type Resolved = Result<(Route, &'static str), (Error, &'static str)>;

/// What a route's `Allow` lists: HEAD wherever GET is.
fn allow(methods: &[Method]) -> String {
    let mut names = Vec::new();
    for m in methods {
        names.push(m.as_str());
        if *m == Method::GET {
            names.push(Method::HEAD.as_str());
        }
    }
    names.join(", ")
}

fn is_get(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// The audit trail is read-only: written by the server as it works, never through the API.
fn resolve_audit(method: &Method, rest: &[&str]) -> Option<Resolved> {
    let read_only = |template: &'static str| -> Resolved {
        Err((
            Error::ManagedType {
                res_type: "AuditEvent".into(),
                method: method.to_string(),
            },
            template,
        ))
    };
    let get = is_get(method);
    Some(match rest {
        [] if get => Ok((Route::AuditSearch, "/AuditEvent")),
        [] => read_only("/AuditEvent"),
        [id] if get && !id.starts_with('$') && !id.starts_with('_') => {
            Ok((Route::AuditRead((*id).to_string()), "/AuditEvent/{id}"))
        }
        [id] if !id.starts_with('$') && !id.starts_with('_') => read_only("/AuditEvent/{id}"),
        _ => return None,
    })
}

/// The routes of CodeSystem and ValueSet, which never reach the resource store; `None` for the
/// shapes they share with every type (`$validate`).
fn resolve_terminology(method: &Method, t: &str, rest: &[&str]) -> Option<Resolved> {
    let (get, post) = (is_get(method), method == Method::POST);
    let not_allowed = |template: &'static str, allow: &str| -> Resolved {
        Err((
            Error::MethodNotAllowed {
                method: method.to_string(),
                path: template.to_string(),
                allow: allow.to_string(),
            },
            template,
        ))
    };
    // Operations that change nothing take GET (query) and POST (Parameters) alike.
    let operation = |template: &'static str, route: Route| -> Resolved {
        if get || post {
            Ok((route, template))
        } else {
            not_allowed(template, "GET, HEAD, POST")
        }
    };
    let managed = |template: &'static str| -> Resolved {
        Err((
            Error::ManagedType {
                res_type: t.to_string(),
                method: method.to_string(),
            },
            template,
        ))
    };
    let (cs, vs) = (t == "CodeSystem", t == "ValueSet");
    let owned = |s: &str| s.to_string();
    Some(match rest {
        ["$validate"] | [_, "$validate"] => return None,
        [] if get => Ok((Route::TerminologySearch(owned(t)), "/{type}")),
        [] => managed("/{type}"),
        ["_search"] if post => Ok((Route::TerminologySearchPost(owned(t)), "/{type}/_search")),
        ["_search"] => not_allowed("/{type}/_search", "POST"),
        ["$lookup"] if cs => operation("/CodeSystem/$lookup", Route::Lookup),
        ["$validate-code"] => operation(
            "/{type}/$validate-code",
            Route::ValidateCode(owned(t), None),
        ),
        [id, "$validate-code"] => operation(
            "/{type}/{id}/$validate-code",
            Route::ValidateCode(owned(t), Some(owned(id))),
        ),
        ["$expand"] if vs => operation("/ValueSet/$expand", Route::Expand(None)),
        [id, "$expand"] if vs => {
            operation("/ValueSet/{id}/$expand", Route::Expand(Some(owned(id))))
        }
        [op] | [_, op] if op.starts_with('$') => Err((
            Error::RouteNotFound(
                InteractionMessage::NoOperation {
                    res_type: t.to_string(),
                    operation: op.to_string(),
                }
                .into(),
            ),
            "(unmatched)",
        )),
        ["_history"] | [_, "_history"] | [_, "_history", _] => Err((
            Error::RouteNotFound(
                InteractionMessage::NoHistory {
                    res_type: t.to_string(),
                }
                .into(),
            ),
            "(unmatched)",
        )),
        [id] if get => Ok((Route::TerminologyRead(owned(t), owned(id)), "/{type}/{id}")),
        [_] => managed("/{type}/{id}"),
        _ => return None,
    })
}

/// The single actix service: resolve, note the template for the log, identify the caller, run
/// the handler. Every request of an authenticated caller leaves an audit record (DESIGN §9),
/// refused ones included: an unknown route or method, a refused emergency declaration, any
/// error of the handler, and a success its interaction did not record itself. A failure a
/// concurrent transaction caused is counted and logged (`api::contention`).
pub async fn dispatch(
    state: State,
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, Error> {
    let answer = answer(state.clone(), req.clone(), payload).await;
    if let Err(e) = &answer {
        super::contention::note(&state, &req, e);
    }
    answer
}

async fn answer(state: State, req: HttpRequest, payload: Payload) -> Result<HttpResponse, Error> {
    let resolved = resolve(req.method(), req.path());
    let template = match &resolved {
        Ok((_, t)) | Err((_, t)) => *t,
    };
    req.extensions_mut().insert(Template(template));
    // What the server is and which operations it defines is public.
    if let Ok((Route::Metadata | Route::ReceiptDefinition, _)) = &resolved {
        let route = resolved.map_err(|(e, _)| e)?.0;
        return serve(state, req, payload, route).await;
    }
    let principal = match super::identify::principal(&state, &req) {
        Ok(principal) => principal,
        // Without a credential, a route that does not exist answers as before any check.
        Err(e) => return Err(resolved.err().map_or(e, |(route_error, _)| route_error)),
    };
    if principal == crate::access::Principal::Open {
        let route = resolved.map_err(|(e, _)| e)?.0;
        return serve(state, req, payload, route).await;
    }
    let route = match resolved {
        Ok((route, _)) => route,
        Err((e, template)) => {
            let caller =
                super::identify::caller(&req, principal).unwrap_or_else(|refused| refused.0);
            let state = state.for_caller(caller);
            let (t, id) = audited::error_target(req.path(), template);
            return audited::refused(&state, &req, Interaction::Operation, t, id, e).await;
        }
    };
    let caller = match super::identify::caller(&req, principal) {
        Ok(caller) => caller,
        Err(refusal) => {
            let (declared, e) = *refusal;
            let state = state.for_caller(declared);
            let (interaction, t, id) = route.audit_target();
            let (t, id) = (t.map(str::to_string), id.map(str::to_string));
            return audited::refused(&state, &req, interaction, t, id, e).await;
        }
    };
    let state = state.for_caller(caller);
    if !route.audited() {
        return serve(state, req, payload, route).await;
    }
    let (interaction, t, id) = route.audit_target();
    let (t, id) = (t.map(str::to_string), id.map(str::to_string));
    match serve(state.clone(), req.clone(), payload, route).await {
        Ok(answer) if state.services.recorded.is_marked() => Ok(answer),
        // An interaction that records nothing itself (`$validate` of a submitted resource) is
        // recorded here, before its answer leaves.
        Ok(answer) => {
            let record = audited::record_of(&state, &req, interaction, t, id);
            state.services.audit(record).await?;
            Ok(answer)
        }
        Err(e) => audited::refused(&state, &req, interaction, t, id, e).await,
    }
}

async fn serve(
    state: State,
    req: HttpRequest,
    payload: Payload,
    route: Route,
) -> Result<HttpResponse, Error> {
    match route {
        Route::Metadata => h::metadata(state, req).await,
        Route::ReceiptDefinition => super::documents::receipt_definition(req).await,
        Route::Transaction => h::transaction(state, req, payload).await,
        Route::HistorySystem => h::history_system(state, req).await,
        Route::SearchSystem => h::search_system(state, req).await,
        Route::SearchSystemPost => h::search_system_post(state, req, payload).await,
        Route::Search(t) => h::search(state, req, t).await,
        Route::Create(t) => h::create(state, req, t, payload).await,
        Route::SearchPost(t) => h::search_post(state, req, t, payload).await,
        Route::HistoryType(t) => h::history_type(state, req, t).await,
        Route::Read(t, id) => h::read(state, req, t, id).await,
        Route::Update(t, id) => h::update(state, req, t, Some(id), payload).await,
        Route::Delete(t, id) => h::delete(state, req, t, id).await,
        Route::ConditionalDelete(t) => h::conditional_delete(state, req, t).await,
        Route::ConditionalUpdate(t) => h::update(state, req, t, None, payload).await,
        Route::Patch(t, id) => super::patch::patch(state, req, t, Some(id), payload).await,
        Route::ConditionalPatch(t) => super::patch::patch(state, req, t, None, payload).await,
        Route::Summary(id) => h::summary(state, req, id).await,
        Route::CompartmentSearch(id, t) => c::search(state, req, id, t).await,
        Route::CompartmentSearchPost(id, t) => c::search_post(state, req, id, t, payload).await,
        Route::Everything(id) => c::everything(state, req, id, payload).await,
        Route::HistoryInstance(t, id) => h::history_instance(state, req, t, id).await,
        Route::Vread(t, id, v) => h::vread(state, req, t, id, v).await,
        Route::Validate(t, id) => h::validate(state, req, t, id, payload).await,
        Route::Receipt(id) => super::documents::receipt(state, req, id, payload).await,
        Route::DocumentStatus => super::documents::document_status(state, req).await,
        Route::Lookup => th::lookup(state, req, payload).await,
        Route::ValidateCode(t, id) => th::validate_code(state, req, t, id, payload).await,
        Route::Expand(id) => th::expand(state, req, id, payload).await,
        Route::TerminologyRead(t, id) => th::read(state, req, t, id).await,
        Route::TerminologySearch(t) => th::search(state, req, t).await,
        Route::TerminologySearchPost(t) => th::search_post(state, req, t, payload).await,
        Route::AuditSearch => super::audit::search(state, req).await,
        Route::AuditRead(id) => super::audit::read(state, req, id).await,
        Route::Export(level) => x::kick_off(state, req, level).await,
        Route::ExportStatus(job) => x::status(state, job).await,
        Route::ExportCancel(job) => x::cancel(state, job).await,
        Route::ExportFile(job, name) => x::file(state, job, name).await,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn route(method: Method, path: &str) -> Route {
        resolve(&method, path).unwrap().0
    }

    #[test]
    fn every_shape_resolves_to_its_interaction() {
        assert_eq!(route(Method::GET, "/metadata"), Route::Metadata);
        assert_eq!(route(Method::POST, "/"), Route::Transaction);
        assert_eq!(route(Method::GET, "/_history"), Route::HistorySystem);
        assert_eq!(route(Method::GET, "/"), Route::SearchSystem);
        assert_eq!(route(Method::HEAD, "/"), Route::SearchSystem);
        assert_eq!(route(Method::POST, "/_search"), Route::SearchSystemPost);
        assert_eq!(
            route(Method::GET, "/Patient"),
            Route::Search("Patient".into())
        );
        assert_eq!(
            route(Method::POST, "/Patient"),
            Route::Create("Patient".into())
        );
        assert_eq!(
            route(Method::POST, "/Patient/_search"),
            Route::SearchPost("Patient".into())
        );
        assert_eq!(
            route(Method::GET, "/Patient/_history"),
            Route::HistoryType("Patient".into())
        );
        assert_eq!(
            route(Method::GET, "/Patient/1"),
            Route::Read("Patient".into(), "1".into())
        );
        assert_eq!(
            route(Method::PUT, "/Patient/1"),
            Route::Update("Patient".into(), "1".into())
        );
        assert_eq!(
            route(Method::DELETE, "/Patient/1"),
            Route::Delete("Patient".into(), "1".into())
        );
        assert_eq!(
            route(Method::PATCH, "/Patient/1"),
            Route::Patch("Patient".into(), "1".into())
        );
        assert_eq!(
            route(Method::PUT, "/Patient"),
            Route::ConditionalUpdate("Patient".into())
        );
        assert_eq!(
            route(Method::PATCH, "/Patient"),
            Route::ConditionalPatch("Patient".into())
        );
        assert_eq!(
            route(Method::GET, "/Patient/1/_history"),
            Route::HistoryInstance("Patient".into(), "1".into())
        );
        assert_eq!(
            route(Method::GET, "/Patient/1/_history/2"),
            Route::Vread("Patient".into(), "1".into(), "2".into())
        );
        assert_eq!(
            route(Method::POST, "/Bundle/b1/$receipt"),
            Route::Receipt("b1".into())
        );
        assert_eq!(
            route(Method::GET, "/Bundle/$document-status"),
            Route::DocumentStatus
        );
        assert_eq!(
            route(Method::GET, "/Patient/1/Observation"),
            Route::CompartmentSearch("1".into(), "Observation".into())
        );
        assert_eq!(
            route(Method::GET, "/Patient/1/*"),
            Route::CompartmentSearch("1".into(), "*".into())
        );
        assert_eq!(
            route(Method::POST, "/Patient/1/Condition/_search"),
            Route::CompartmentSearchPost("1".into(), "Condition".into())
        );
        assert_eq!(route(Method::GET, "/$export"), Route::Export(Level::System));
        assert_eq!(
            route(Method::GET, "/Patient/$export"),
            Route::Export(Level::Patient)
        );
        assert_eq!(
            route(Method::GET, "/Group/g/$export"),
            Route::Export(Level::Group("g".into()))
        );
        assert_eq!(
            route(Method::DELETE, "/$export-status/j"),
            Route::ExportCancel("j".into())
        );
        assert_eq!(
            route(Method::GET, "/$export-file/j/Patient.ndjson"),
            Route::ExportFile("j".into(), "Patient.ndjson".into())
        );
        for method in [Method::GET, Method::POST] {
            assert_eq!(
                route(method, "/Patient/1/$everything"),
                Route::Everything("1".into())
            );
        }
        // History and operations keep their own shapes.
        assert_eq!(
            route(Method::GET, "/Patient/1/_history/2"),
            Route::Vread("Patient".into(), "1".into(), "2".into())
        );
        let (e, _) = resolve(&Method::GET, "/Patient/1/Observation/_search").unwrap_err();
        assert!(matches!(e, Error::MethodNotAllowed { .. }));
        let (e, _) = resolve(&Method::GET, "/Bundle/b1/$receipt").unwrap_err();
        assert!(matches!(e, Error::MethodNotAllowed { .. }));
        let (e, _) = resolve(&Method::POST, "/Patient/1/$receipt").unwrap_err();
        assert!(matches!(e, Error::RouteNotFound(_)));
    }

    #[test]
    fn terminology_types_never_reach_the_resource_store() {
        let cs = || "CodeSystem".to_string();
        assert_eq!(
            route(Method::GET, "/CodeSystem"),
            Route::TerminologySearch(cs())
        );
        assert_eq!(
            route(Method::POST, "/ValueSet/_search"),
            Route::TerminologySearchPost("ValueSet".into())
        );
        assert_eq!(
            route(Method::GET, "/CodeSystem/x"),
            Route::TerminologyRead(cs(), "x".into())
        );
        assert_eq!(route(Method::POST, "/CodeSystem/$lookup"), Route::Lookup);
        assert_eq!(
            route(Method::GET, "/ValueSet/v/$validate-code"),
            Route::ValidateCode("ValueSet".into(), Some("v".into()))
        );
        assert_eq!(route(Method::GET, "/ValueSet/$expand"), Route::Expand(None));
        assert_eq!(
            route(Method::POST, "/CodeSystem/$validate"),
            Route::Validate(Some(cs()), None)
        );
        for (method, path) in [
            (Method::POST, "/CodeSystem"),
            (Method::PUT, "/ValueSet/x"),
            (Method::DELETE, "/CodeSystem/x"),
            (Method::DELETE, "/CodeSystem"),
        ] {
            let (e, _) = resolve(&method, path).unwrap_err();
            assert!(matches!(e, Error::ManagedType { .. }), "{method} {path}");
        }
        for path in [
            "/CodeSystem/x/_history",
            "/ValueSet/_history",
            "/ValueSet/$lookup",
        ] {
            let (e, _) = resolve(&Method::GET, path).unwrap_err();
            assert!(matches!(e, Error::RouteNotFound(_)), "{path}");
        }
        let (e, _) = resolve(&Method::GET, "/CodeSystem/_search").unwrap_err();
        assert!(matches!(e, Error::MethodNotAllowed { .. }));
    }

    #[test]
    fn head_resolves_wherever_get_does_and_nowhere_else() {
        for path in [
            "/metadata",
            "/_history",
            "/Patient",
            "/Patient/_history",
            "/Patient/1",
            "/Patient/1/_history",
            "/Patient/1/_history/2",
            "/Patient/1/$summary",
            "/CodeSystem",
            "/ValueSet/v",
            "/AuditEvent",
            "/AuditEvent/a",
        ] {
            assert_eq!(
                route(Method::HEAD, path),
                route(Method::GET, path),
                "{path}"
            );
        }
        let (e, _) = resolve(&Method::HEAD, "/Bundle/b1/$receipt").unwrap_err();
        assert_eq!(e.allow(), Some("POST"));
        assert!(e.to_string().contains("HEAD"), "{e}");
    }

    #[test]
    fn wrong_methods_and_shapes_are_405_and_404() {
        let (e, t) = resolve(&Method::POST, "/Patient/1").unwrap_err();
        assert!(matches!(e, Error::MethodNotAllowed { .. }));
        assert_eq!(t, "/{type}/{id}");
        assert_eq!(e.allow(), Some("GET, HEAD, PUT, PATCH, DELETE"));
        let (e, _) = resolve(&Method::GET, "/Patient/1/_history/2/x").unwrap_err();
        assert!(matches!(e, Error::RouteNotFound(_)));
        let (e, _) = resolve(&Method::PUT, "/").unwrap_err();
        assert!(matches!(e, Error::MethodNotAllowed { .. }));
        assert_eq!(e.allow(), Some("GET, HEAD, POST"));
    }

    #[test]
    fn every_405_names_the_methods_its_route_takes() {
        for (method, path, allow) in [
            (Method::POST, "/metadata", "GET, HEAD"),
            (Method::DELETE, "/Patient/_history", "GET, HEAD"),
            (
                Method::OPTIONS,
                "/Patient",
                "GET, HEAD, POST, PUT, PATCH, DELETE",
            ),
            (Method::GET, "/Patient/_search", "POST"),
            (Method::GET, "/Bundle/b1/$receipt", "POST"),
            (Method::PUT, "/Patient/1/$validate", "GET, HEAD, POST"),
            (Method::POST, "/CodeSystem", "GET, HEAD"),
            (Method::DELETE, "/ValueSet/x", "GET, HEAD"),
            (Method::GET, "/CodeSystem/_search", "POST"),
            (Method::PUT, "/CodeSystem/$lookup", "GET, HEAD, POST"),
            (Method::POST, "/AuditEvent", "GET, HEAD"),
            (Method::DELETE, "/", "GET, HEAD, POST"),
            (Method::GET, "/_search", "POST"),
            (Method::HEAD, "/Patient/_search", "POST"),
        ] {
            let (e, _) = resolve(&method, path).unwrap_err();
            assert_eq!(e.classify().0.as_u16(), 405, "{method} {path}");
            assert_eq!(e.allow(), Some(allow), "{method} {path}");
        }
    }
}
