//! `transaction` and `batch` (POST \[base\] with a Bundle).
//! A transaction is one database transaction: every entry applies or none does, `urn:uuid:`
//! references between entries are rewritten to the ids the server assigns, and entries run in
//! the spec's order (DELETE, POST, PUT, GET). A batch runs each entry on its own. A `PUT
//! [type]?criteria` entry is a conditional update: its criteria settle its target (under the
//! criteria's lock, in the caller's scope) before any reference is rewritten. GET entries
//! read, vread or search (`GET [type]?params`): through the caller's scope and audited as the
//! direct interactions are, a search answering its searchset Bundle as the entry's resource.
//! Spec: <https://hl7.org/fhir/R4/http.html#transaction>

use std::collections::HashMap;
use std::time::Instant;

use serde_json::Value;

use super::fhirpath_patch::FhirPathPatch;
use super::patch::{JsonPatch, PatchDocument, Target};
use super::write::{Prepared, check_body, check_id, parse_criteria, validate_for_write};
use super::write_tx::{Did, WriteTx};
use super::{Services, Written, check_type};
use crate::audit::Action as AuditAction;
use crate::audit::Interaction;
use crate::error::Error;
use crate::messages::InteractionMessage as M;
use crate::search::SearchQuery;
use crate::store::{SearchPage, StoredResource};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    Transaction,
    Batch,
}

/// What one entry produced, in the order of the request's entries.
#[derive(Debug)]
pub enum EntryResult {
    Created(Written),
    Updated(Written),
    /// A conditional create that found its match.
    Existing(StoredResource),
    Deleted,
    Read(StoredResource),
    /// A search entry: the query (for the searchset's links) and the page it found.
    Searched(Box<(SearchQuery, SearchPage)>),
    Failed(Error),
}

#[derive(Debug)]
enum Action {
    Create {
        res_type: String,
        resource: Value,
        criteria: Option<SearchQuery>,
    },
    Update {
        res_type: String,
        id: String,
        resource: Value,
        if_match: Option<i64>,
        /// A transaction's conditional PATCH, once applied: its criteria must still pick `id`.
        still_matching: Option<SearchQuery>,
    },
    /// `PATCH [type]/[id]` or `PATCH [type]?criteria` (`id` `None`) with a Binary's JSON Patch
    /// or a Parameters' FHIRPath Patch.
    /// In a transaction it becomes an `Update` of the patched resource before the write starts.
    Patch {
        res_type: String,
        id: Option<String>,
        criteria: String,
        query: Option<SearchQuery>,
        patch: PatchDocument,
        if_match: Option<i64>,
    },
    /// `PUT [type]?criteria`: `criteria` as written, for a batch entry's direct call.
    ConditionalUpdate {
        criteria: String,
        query: SearchQuery,
        resource: Value,
        if_match: Option<i64>,
    },
    Delete {
        res_type: String,
        id: String,
    },
    Read {
        res_type: String,
        id: String,
        version: Option<String>,
    },
    Search {
        query: SearchQuery,
    },
}

#[derive(Debug)]
struct Planned {
    index: usize,
    full_url: Option<String>,
    action: Action,
}

/// Reads the Bundle's type; anything but `transaction` or `batch` is refused.
pub fn kind_of(bundle: &Value) -> Result<BundleKind, Error> {
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Err(Error::invalid(M::NotABundle, "resourceType"));
    }
    match bundle.get("type").and_then(Value::as_str) {
        Some("transaction") => Ok(BundleKind::Transaction),
        Some("batch") => Ok(BundleKind::Batch),
        Some(other) => Err(Error::invalid(
            M::BundleTypeNotProcessed {
                found: other.to_string(),
            },
            "Bundle.type",
        )),
        None => Err(Error::invalid(M::BundleTypeMissing, "Bundle.type")),
    }
}

pub async fn process(
    svc: &Services,
    bundle: Value,
    base_url: &str,
    deadline: Option<Instant>,
) -> Result<(BundleKind, Vec<EntryResult>), Error> {
    let kind = kind_of(&bundle)?;
    let entries = match bundle.get("entry") {
        None => Vec::new(),
        Some(Value::Array(entries)) => entries.clone(),
        Some(_) => {
            return Err(Error::invalid(M::EntryNotArray, "Bundle.entry"));
        }
    };
    match kind {
        BundleKind::Transaction => {
            // Malformed requests first (400, naming the entry), then the content: the whole
            // Bundle at once, so references between entries resolve for the checks (422).
            let planned = entries
                .into_iter()
                .enumerate()
                .map(|(index, entry)| {
                    plan(svc, index, entry, base_url).map_err(|e| in_entry(index, e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            check_unique_full_urls(&planned)?;
            validate_for_write(svc, bundle).await?;
            let planned = patched_as_updates(svc, planned).await?;
            let session = svc.session();
            let record = svc.audit_record(AuditAction::Execute, Interaction::Transaction);
            let results = svc
                .write_tx(session, deadline, record, move |tx| {
                    run_transaction(tx, planned)
                })
                .await?;
            Ok((kind, results))
        }
        BundleKind::Batch => {
            let mut results = Vec::with_capacity(entries.len());
            for (index, entry) in entries.into_iter().enumerate() {
                let result = match plan(svc, index, entry, base_url) {
                    Ok(p) => {
                        let target = p.action.audit_target();
                        match run_single(svc, p, deadline).await {
                            EntryResult::Failed(e) => {
                                EntryResult::Failed(record_refused_entry(svc, target, e).await)
                            }
                            done => done,
                        }
                    }
                    Err(e) => {
                        let target = (AuditAction::Execute, Interaction::Batch, None, None);
                        EntryResult::Failed(record_refused_entry(svc, target, e).await)
                    }
                };
                results.push(result);
            }
            Ok((kind, results))
        }
    }
}

/// A transaction's PATCH entries applied to the versions the caller reads now and validated,
/// each then written as an update pinned to that version: a change in between is 412.
async fn patched_as_updates(svc: &Services, planned: Vec<Planned>) -> Result<Vec<Planned>, Error> {
    let mut ready = Vec::with_capacity(planned.len());
    for p in planned {
        let action = match p.action {
            Action::Patch {
                res_type,
                id,
                criteria,
                query,
                patch,
                if_match,
            } => {
                let target = Target::of(id.as_deref(), &criteria);
                let applied = async {
                    let current =
                        super::patch::current_of(svc, &res_type, target, query.clone()).await?;
                    super::patch::prepare(svc, &current, &patch, if_match).await
                };
                let patched = applied.await.map_err(|e| in_entry(p.index, e))?;
                Action::Update {
                    res_type,
                    id: patched.id,
                    resource: patched.resource,
                    if_match: Some(patched.version),
                    still_matching: query,
                }
            }
            action => action,
        };
        ready.push(Planned { action, ..p });
    }
    Ok(ready)
}

/// What an entry does, for its audit record: the action, the interaction, the type and id.
type EntryTarget = (AuditAction, Interaction, Option<String>, Option<String>);

impl Action {
    fn audit_target(&self) -> EntryTarget {
        let owned = |t: &str, id: Option<&String>| (Some(t.to_string()), id.cloned());
        let (action, interaction, (t, id)) = match self {
            Action::Create { res_type, .. } => (
                AuditAction::Create,
                Interaction::Create,
                owned(res_type, None),
            ),
            Action::Update { res_type, id, .. } => (
                AuditAction::Update,
                Interaction::Update,
                owned(res_type, Some(id)),
            ),
            Action::Patch { res_type, id, .. } => (
                AuditAction::Update,
                Interaction::Patch,
                owned(res_type, id.as_ref()),
            ),
            Action::ConditionalUpdate { query, .. } => (
                AuditAction::Update,
                Interaction::Update,
                owned(&query.resource_type, None),
            ),
            Action::Delete { res_type, id } => (
                AuditAction::Delete,
                Interaction::Delete,
                owned(res_type, Some(id)),
            ),
            Action::Read {
                res_type,
                id,
                version,
            } => {
                let interaction = if version.is_some() {
                    Interaction::Vread
                } else {
                    Interaction::Read
                };
                (AuditAction::Read, interaction, owned(res_type, Some(id)))
            }
            Action::Search { query } => (
                AuditAction::Read,
                Interaction::SearchType,
                owned(&query.resource_type, None),
            ),
        };
        (action, interaction, t, id)
    }
}

/// Records a batch entry's refusal or failure as a request of its own (each entry of a batch
/// is one), naming what it addressed; returns the entry's answer, which becomes the 503 of an
/// unstored record if this one cannot be stored either.
async fn record_refused_entry(svc: &Services, target: EntryTarget, e: Error) -> Error {
    if matches!(e, Error::AuditNotStored(_)) {
        return e;
    }
    let (action, interaction, t, id) = target;
    let status = e.classify().0.as_u16();
    let issues = e.outcome().issues.len();
    let record = svc.audit_record(action, interaction).map(|r| {
        let mut r = r.target(t.as_deref(), id.as_deref()).failed(status, issues);
        if let (Some(t), Some(id)) = (t, id) {
            r.entities.push(crate::audit::Touch::named(t, id));
        }
        r
    });
    match svc.audit(record).await {
        Ok(()) => e,
        Err(unstored) => unstored,
    }
}

fn in_entry(index: usize, e: Error) -> Error {
    Error::InEntry {
        index,
        source: Box::new(e),
    }
}

fn plan(svc: &Services, index: usize, entry: Value, base_url: &str) -> Result<Planned, Error> {
    let request = entry
        .get("request")
        .ok_or_else(|| Error::invalid(M::RequestMissing, "Bundle.entry.request"))?;
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let url_text = request
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let url = url_text
        .strip_prefix(base_url)
        .map_or(url_text, |u| u.trim_start_matches('/'));
    if method != "GET" {
        super::access::check_may_write(&svc.caller)?;
    }
    if url.is_empty() {
        return Err(Error::invalid(
            M::RequestUrlMissing,
            "Bundle.entry.request.url",
        ));
    }
    let (path, query) = url
        .split_once('?')
        .map_or((url, None), |(p, q)| (p, Some(q)));
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let full_url = entry
        .get("fullUrl")
        .and_then(Value::as_str)
        .map(str::to_string);
    let resource = entry.get("resource").cloned();
    let if_match = request
        .get("ifMatch")
        .and_then(Value::as_str)
        .map(parse_etag)
        .transpose()?;
    let action = match (method.as_str(), segments.as_slice(), query) {
        ("POST", [t], None) => {
            check_type(t)?;
            super::check_served(t)?;
            super::terminology::check_writable(t, "POST")?;
            let resource = resource.ok_or_else(|| {
                Error::invalid(
                    M::EntryWithoutResource { method: "POST" },
                    "Bundle.entry.resource",
                )
            })?;
            check_body(t, &resource, None)?;
            super::direct_write::refuse_direct_write(t, &resource, "a transaction")?;
            let criteria = request
                .get("ifNoneExist")
                .and_then(Value::as_str)
                .map(|c| parse_criteria(svc, t, c))
                .transpose()
                .map_err(|e| Error::invalid(e.to_string(), "Bundle.entry.request.ifNoneExist"))?;
            Action::Create {
                res_type: t.to_string(),
                resource,
                criteria,
            }
        }
        ("PUT", [t, id], None) => {
            check_type(t)?;
            super::check_served(t)?;
            super::terminology::check_writable(t, "PUT")?;
            check_id(t, id)?;
            let resource = resource.ok_or_else(|| {
                Error::invalid(
                    M::EntryWithoutResource { method: "PUT" },
                    "Bundle.entry.resource",
                )
            })?;
            check_body(t, &resource, Some(id))?;
            super::direct_write::refuse_direct_write(t, &resource, "a transaction")?;
            Action::Update {
                res_type: t.to_string(),
                id: id.to_string(),
                resource,
                if_match,
                still_matching: None,
            }
        }
        ("PATCH", [t, rest @ ..], criteria)
            if rest.len() + usize::from(criteria.is_some()) == 1 =>
        {
            let id = rest.first().map(|id| id.to_string());
            let criteria = criteria.unwrap_or_default().to_string();
            let target = Target::of(id.as_deref(), &criteria);
            let query = super::patch::check_request(svc, t, target)?;
            Action::Patch {
                res_type: t.to_string(),
                patch: patch_of(resource.as_ref())?,
                id,
                criteria,
                query,
                if_match,
            }
        }
        ("PUT", [t], Some(criteria)) => {
            let resource = resource.ok_or_else(|| {
                Error::invalid(
                    M::EntryWithoutResource { method: "PUT" },
                    "Bundle.entry.resource",
                )
            })?;
            let query = super::conditional_update::check_request(
                svc,
                t,
                criteria,
                &resource,
                "a transaction",
            )?;
            Action::ConditionalUpdate {
                criteria: criteria.to_string(),
                query,
                resource,
                if_match,
            }
        }
        ("DELETE", [t, id], None) => {
            check_type(t)?;
            super::terminology::check_writable(t, "DELETE")?;
            check_id(t, id)?;
            Action::Delete {
                res_type: t.to_string(),
                id: id.to_string(),
            }
        }
        // Bundles read the resource store; these types are answered from the terminology and
        // the audit trail, which a search of the store would wrongly find empty.
        ("GET" | "HEAD", [t, ..], _) if super::terminology::is_managed(t) || *t == "AuditEvent" => {
            return Err(Error::NotSupported(
                M::NotReadInBundles {
                    url: url.to_string(),
                    res_type: t.to_string(),
                }
                .into(),
            ));
        }
        ("GET", [t, id], None) => Action::Read {
            res_type: t.to_string(),
            id: id.to_string(),
            version: None,
        },
        ("GET", [t, id, "_history", v], None) => Action::Read {
            res_type: t.to_string(),
            id: id.to_string(),
            version: Some(v.to_string()),
        },
        // `GET [type]?params`, parsed as a direct search's query string is: parameters the
        // server does not know are ignored and noted in the searchset, as without
        // `Prefer: handling=strict`.
        ("GET", [t], params) if !t.starts_with(['_', '$']) => {
            let params: Vec<(String, String)> = params
                .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default();
            Action::Search {
                query: super::search::parse(svc, t, &params, false)?,
            }
        }
        ("GET" | "HEAD", _, _) => {
            return Err(Error::NotSupported(
                M::OnlyReadInBundles {
                    url: url.to_string(),
                }
                .into(),
            ));
        }
        ("POST" | "PUT" | "DELETE" | "PATCH", _, _) => {
            return Err(Error::NotSupported(
                M::NotSupportedInEntry {
                    method: method.to_string(),
                    url: url.to_string(),
                }
                .into(),
            ));
        }
        _ => {
            return Err(Error::invalid(
                M::UnknownMethod {
                    method: method.to_string(),
                },
                "Bundle.entry.request.method",
            ));
        }
    };
    Ok(Planned {
        index,
        full_url,
        action,
    })
}

/// A PATCH entry's patch: a Parameters is a FHIRPath Patch, else a Binary holds a JSON Patch.
fn patch_of(resource: Option<&Value>) -> Result<PatchDocument, Error> {
    match resource {
        Some(r) if r.get("resourceType").and_then(Value::as_str) == Some("Parameters") => {
            FhirPathPatch::parse(r).map(PatchDocument::FhirPath)
        }
        other => JsonPatch::from_binary(other).map(PatchDocument::Json),
    }
}

fn parse_etag(tag: &str) -> Result<i64, Error> {
    let inner = tag.trim().trim_start_matches("W/").trim_matches('"');
    inner.parse().map_err(|_| {
        Error::invalid(
            M::NotAnETag {
                tag: tag.to_string(),
            },
            "Bundle.entry.request.ifMatch",
        )
    })
}

fn check_unique_full_urls(planned: &[Planned]) -> Result<(), Error> {
    let mut seen = HashMap::new();
    for p in planned {
        if let Some(url) = &p.full_url
            && let Some(first) = seen.insert(url.as_str(), p.index)
        {
            return Err(in_entry(
                p.index,
                Error::invalid(
                    M::FullUrlTwice {
                        url: url.to_string(),
                        first,
                    },
                    "Bundle.entry.fullUrl",
                ),
            ));
        }
    }
    Ok(())
}

/// The spec's processing order: DELETE, then POST, then PUT, then GET.
fn order(action: &Action) -> u8 {
    match action {
        Action::Delete { .. } => 0,
        Action::Create { .. } => 1,
        Action::Update { .. } | Action::ConditionalUpdate { .. } | Action::Patch { .. } => 2,
        Action::Read { .. } | Action::Search { .. } => 3,
    }
}

fn run_transaction(
    tx: &mut WriteTx<'_, '_>,
    mut planned: Vec<Planned>,
) -> Result<Vec<EntryResult>, Error> {
    let (svc, now) = (tx.services(), tx.now());
    // The caller's scope before any entry runs: a failure to read it is the transaction's,
    // not an entry's.
    tx.scoped()?;
    let count = planned.len();
    planned.sort_by_key(|p| (order(&p.action), p.index));
    let mut touched = check_overlaps(&planned)?;
    let mut results: Vec<Option<EntryResult>> = (0..count).map(|_| None).collect();
    let mut rest = Vec::with_capacity(planned.len());
    // DELETEs first, so that conditional creates below see the store without them.
    for p in planned {
        match p.action {
            Action::Delete { res_type, id } => {
                tx.entry(p.index);
                tx.delete(&res_type, &id)
                    .map_err(|e| in_entry(p.index, e))?;
                set(&mut results, p.index, EntryResult::Deleted);
            }
            action => rest.push(Planned { action, ..p }),
        }
    }
    // Then settle every id (new ids for creates, existing ones for conditional matches), so all
    // references can be rewritten before anything is indexed.
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut assigned: Vec<Option<Result<String, StoredResource>>> = Vec::with_capacity(rest.len());
    for p in &rest {
        tx.entry(p.index);
        let slot = match &p.action {
            Action::Create {
                res_type, criteria, ..
            } => {
                let target = match criteria {
                    Some(q) => match conditional_match(tx, q).map_err(|e| in_entry(p.index, e))? {
                        Some(existing) => {
                            if !touched.insert(format!("{res_type}/{}", existing.id)) {
                                return Err(in_entry(
                                    p.index,
                                    Error::invalid(
                                        M::IfNoneExistChangedElsewhere {
                                            reference: format!("{res_type}/{}", existing.id),
                                        },
                                        "Bundle.entry.request.ifNoneExist",
                                    ),
                                ));
                            }
                            Err(existing)
                        }
                        None => Ok(svc.ids.new_id()),
                    },
                    None => Ok(svc.ids.new_id()),
                };
                let id = match &target {
                    Ok(id) => id.clone(),
                    Err(r) => r.id.clone(),
                };
                if let Some(url) = &p.full_url {
                    ids.insert(url.clone(), format!("{res_type}/{id}"));
                }
                Some(target)
            }
            Action::Update { res_type, id, .. } => {
                if let Some(url) = &p.full_url {
                    ids.insert(url.clone(), format!("{res_type}/{id}"));
                }
                None
            }
            Action::ConditionalUpdate {
                query, resource, ..
            } => {
                let id = super::conditional_update::target_in_tx(tx, query, resource)
                    .map_err(|e| in_entry(p.index, e))?
                    .unwrap_or_else(|| svc.ids.new_id());
                let identity = format!("{}/{id}", query.resource_type);
                if !touched.insert(identity.clone()) {
                    return Err(in_entry(
                        p.index,
                        Error::invalid(M::ChangedTwice { identity }, "Bundle.entry.request.url"),
                    ));
                }
                if let Some(url) = &p.full_url {
                    ids.insert(url.clone(), format!("{}/{id}", query.resource_type));
                }
                Some(Ok(id))
            }
            _ => None,
        };
        assigned.push(slot);
    }
    // Then the references: to other entries, and conditional ones against the store as it is
    // before this transaction's creates and updates (so that their order does not matter).
    let mut checks = Vec::new();
    for (p, slot) in rest.iter_mut().zip(&assigned) {
        let (res_type, resource) = match (&mut p.action, slot) {
            (
                Action::Create {
                    res_type, resource, ..
                },
                Some(Ok(_)),
            )
            | (
                Action::Update {
                    res_type, resource, ..
                },
                _,
            ) => (res_type.as_str(), resource),
            (
                Action::ConditionalUpdate {
                    query, resource, ..
                },
                Some(Ok(_)),
            ) => (query.resource_type.as_str(), resource),
            _ => continue,
        };
        rewrite_references(resource, &ids);
        tx.resolve_conditional(resource)
            .map_err(|e| in_entry(p.index, e))?;
        checks.push((
            p.index,
            super::references::to_check(svc, res_type, resource, true),
        ));
    }
    for (p, slot) in rest.into_iter().zip(assigned) {
        let index = p.index;
        tx.entry(index);
        let result = match (p.action, slot) {
            (Action::Create { .. }, Some(Err(existing))) => EntryResult::Existing(existing),
            (
                Action::Create {
                    res_type, resource, ..
                },
                Some(Ok(id)),
            ) => {
                let prepared = Prepared::new(svc, &res_type, &id, 1, now, resource)
                    .map_err(|e| in_entry(index, e))?;
                EntryResult::Created(tx.insert(prepared).map_err(|e| in_entry(index, e))?)
            }
            (
                Action::Update {
                    res_type,
                    id,
                    resource,
                    if_match,
                    still_matching,
                },
                _,
            ) => {
                if let Some(query) = &still_matching {
                    super::patch::still_the_match(tx, query, &id)
                        .map_err(|e| in_entry(index, e))?;
                }
                put_entry(tx.put(&res_type, &id, resource, if_match))
                    .map_err(|e| in_entry(index, e))?
            }
            (
                Action::ConditionalUpdate {
                    query,
                    resource,
                    if_match,
                    ..
                },
                Some(Ok(id)),
            ) => {
                let t = &query.resource_type;
                put_entry(tx.put(t, &id, resource, if_match)).map_err(|e| in_entry(index, e))?
            }
            (
                Action::Read {
                    res_type,
                    id,
                    version,
                },
                _,
            ) => {
                let read = tx
                    .scoped()
                    .and_then(|mut scoped| {
                        super::read::read_in(&mut scoped, &res_type, &id, version.as_deref())
                    })
                    .map_err(|e| in_entry(index, e))?;
                tx.note(Did::Read, [crate::audit::touch_of(&read)]);
                EntryResult::Read(read)
            }
            // Inside the transaction, so it sees the entries written before it; the caller's
            // scope applies as to a direct search.
            (Action::Search { query }, _) => {
                let page = tx
                    .scoped()
                    .and_then(|mut scoped| Ok(scoped.search(&query)?))
                    .map_err(|e| in_entry(index, e))?;
                tx.note(Did::Read, page.shown().map(crate::audit::touch_of));
                EntryResult::Searched(Box::new((query, page)))
            }
            (Action::Delete { .. }, _)
            | (Action::Create { .. }, None)
            | (Action::ConditionalUpdate { .. }, _)
            | (Action::Patch { .. }, _) => {
                return Err(in_entry(
                    index,
                    Error::Conflict(M::EntryPlanning { twice: true }.into()),
                ));
            }
        };
        set(&mut results, index, result);
    }
    // At the end, when every entry has been written: what the transaction creates or deletes
    // counts, whatever the entries' order.
    for (index, found) in checks {
        tx.check_references(&found)
            .map_err(|e| in_entry(index, e))?;
    }
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.ok_or_else(|| in_entry(i, Error::Conflict(M::EntryPlanning { twice: false }.into())))
        })
        .collect()
}

/// A PUT's entry result: created or updated, as the write says.
fn put_entry(written: Result<Written, Error>) -> Result<EntryResult, Error> {
    written.map(|w| {
        if w.created {
            EntryResult::Created(w)
        } else {
            EntryResult::Updated(w)
        }
    })
}

fn set(results: &mut [Option<EntryResult>], index: usize, result: EntryResult) {
    if let Some(slot) = results.get_mut(index) {
        *slot = Some(result);
    }
}

/// The spec: a transaction fails if two DELETE/POST/PUT entries act on the same resource.
/// Returns the identities that the DELETE and PUT entries change.
fn check_overlaps(planned: &[Planned]) -> Result<std::collections::HashSet<String>, Error> {
    let mut touched = std::collections::HashSet::new();
    for p in planned {
        let identity = match &p.action {
            Action::Delete { res_type, id } | Action::Update { res_type, id, .. } => {
                format!("{res_type}/{id}")
            }
            _ => continue,
        };
        if !touched.insert(identity.clone()) {
            return Err(in_entry(
                p.index,
                Error::invalid(
                    M::ChangedTwice {
                        identity: identity.to_string(),
                    },
                    "Bundle.entry.request.url",
                ),
            ));
        }
    }
    Ok(touched)
}

/// The one match of an entry's `ifNoneExist` within the caller's scope. A resource the caller
/// may not read is no match: the entry creates the caller's own resource, as it would if that
/// resource did not exist, and nothing about the other one is revealed.
fn conditional_match(
    tx: &mut WriteTx<'_, '_>,
    query: &SearchQuery,
) -> Result<Option<StoredResource>, Error> {
    let mut found = tx.if_none_exist(query)?;
    if found.len() > 1 {
        return Err(Error::MultipleMatches(M::IfNoneExistMatchesSeveral.into()));
    }
    Ok(found.pop())
}

async fn run_single(svc: &Services, p: Planned, deadline: Option<Instant>) -> EntryResult {
    let mut action = p.action;
    if let Action::Create { resource, .. } | Action::Update { resource, .. } = &mut action {
        match super::references::resolved_for_batch(svc, std::mem::take(resource)).await {
            Ok(resolved) => *resource = resolved,
            Err(e) => return EntryResult::Failed(e),
        }
    }
    let outcome = match action {
        Action::Create {
            res_type,
            resource,
            criteria,
        } => {
            let criteria_text = criteria.map(|q| {
                q.applied
                    .iter()
                    .map(|(k, v)| format!("{k}={}", urlencode(v)))
                    .collect::<Vec<_>>()
                    .join("&")
            });
            super::create::create(svc, &res_type, resource, criteria_text.as_deref(), deadline)
                .await
                .map(|w| {
                    if w.created {
                        EntryResult::Created(w)
                    } else {
                        EntryResult::Existing(w.resource)
                    }
                })
        }
        Action::Update {
            res_type,
            id,
            resource,
            if_match,
            ..
        } => put_entry(
            super::update::update(svc, &res_type, &id, resource, if_match, deadline).await,
        ),
        Action::ConditionalUpdate {
            criteria,
            query,
            resource,
            if_match,
        } => put_entry(
            super::conditional_update::conditional_update(
                svc,
                &query.resource_type,
                &criteria,
                resource,
                if_match,
                deadline,
            )
            .await,
        ),
        Action::Patch {
            res_type,
            id,
            criteria,
            patch,
            if_match,
            ..
        } => {
            let target = Target::of(id.as_deref(), &criteria);
            put_entry(super::patch::patch(svc, &res_type, target, &patch, if_match, deadline).await)
        }
        Action::Delete { res_type, id } => super::delete::delete(svc, &res_type, &id, deadline)
            .await
            .map(|_| EntryResult::Deleted),
        Action::Read {
            res_type,
            id,
            version: None,
        } => super::read::read(svc, &res_type, &id)
            .await
            .map(EntryResult::Read),
        Action::Read {
            res_type,
            id,
            version: Some(v),
        } => super::read::vread(svc, &res_type, &id, &v)
            .await
            .map(EntryResult::Read),
        // The direct search: scoped, and audited with every resource of its page.
        Action::Search { query } => super::search::search(svc, query.clone())
            .await
            .map(|page| EntryResult::Searched(Box::new((query, page)))),
    };
    outcome.unwrap_or_else(EntryResult::Failed)
}

fn urlencode(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// Replaces every `reference` that names another entry's fullUrl with that entry's `Type/id`.
pub(crate) fn rewrite_references(value: &mut Value, ids: &HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "reference"
                    && let Value::String(s) = v
                {
                    if let Some(target) = ids.get(s.as_str()) {
                        *s = target.clone();
                    }
                    continue;
                }
                rewrite_references(v, ids);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_references(v, ids)),
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_to_entries_are_rewritten_everywhere() {
        let mut ids = HashMap::new();
        ids.insert("urn:uuid:p".to_string(), "Patient/42".to_string());
        let mut r = json!({
            "subject": {"reference": "urn:uuid:p"},
            "contained": [{"performer": [{"reference": "urn:uuid:p"}]}],
            "other": {"reference": "urn:uuid:unknown"}
        });
        rewrite_references(&mut r, &ids);
        assert_eq!(r["subject"]["reference"], "Patient/42");
        assert_eq!(r["contained"][0]["performer"][0]["reference"], "Patient/42");
        assert_eq!(r["other"]["reference"], "urn:uuid:unknown");
    }

    #[test]
    fn only_transaction_and_batch_bundles_are_processed() {
        assert_eq!(
            kind_of(&json!({"resourceType": "Bundle", "type": "batch"})).unwrap(),
            BundleKind::Batch
        );
        assert!(kind_of(&json!({"resourceType": "Bundle", "type": "collection"})).is_err());
        assert!(kind_of(&json!({"resourceType": "Patient"})).is_err());
    }
}
