//! The Bundle rules the core invariants cannot say (bdl-1 to bdl-12 are FHIRPath and the walk
//! evaluates them: duplicate `fullUrl`s, document identifier and timestamp, first entry):
//! `fullUrl` absolute and agreeing with the resource's type and id, one resource in two entries,
//! references that must resolve inside the Bundle — every `urn:` reference; in a document each
//! of the Composition's, in a message the MessageHeader's focus — named types that disagree
//! with the entry they resolve to, and document entries nothing links to.
//! Spec: <https://hl7.org/fhir/R4/bundle.html#bundle-unique> and #references, documents.html,
//! messaging.html. Severities are the reference validator's, but for a `urn:` reference that
//! resolves to nothing: an error here (it warns), as nothing outside the Bundle can resolve it.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::fhir::members::field;
use crate::fhir::{Issue, IssueType};
use crate::messages::BundleMessage as M;
use crate::model::BaseModel;

/// One entry, as the rules read it.
struct Entry<'v> {
    full_url: Option<&'v str>,
    resource: Option<&'v Value>,
    /// `resourceType` and `id` of the resource, when it has them.
    key: Option<(&'v str, &'v str)>,
    version: Option<&'v str>,
}

/// A `Reference.reference` found in an entry, with its location.
struct Found<'v> {
    at: String,
    reference: &'v str,
}

/// Where the issues go: no further than the walk's limit, however many references a hostile
/// Bundle holds (the walk then says it stopped).
struct Sink<'o> {
    out: &'o mut Vec<Issue>,
    limit: usize,
}

impl Sink<'_> {
    fn push(&mut self, issue: Issue) {
        if self.out.len() < self.limit {
            self.out.push(issue);
        }
    }
}

/// Appends what breaks the Bundle rules to `out`, up to `limit` issues in all; `at` is where the
/// Bundle sits.
pub(crate) fn check(
    model: &BaseModel,
    bundle: &Value,
    at: &str,
    out: &mut Vec<Issue>,
    limit: usize,
) {
    let out = &mut Sink { out, limit };
    let kind = bundle
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let entries: Vec<Entry<'_>> = bundle
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(entry)
        .collect();
    if entries.is_empty() && matches!(kind, "document" | "message") {
        let first = if kind == "document" {
            "Composition"
        } else {
            "MessageHeader"
        };
        let text = M::NoEntries {
            kind: kind.to_string(),
            first,
        };
        out.push(Issue::error(IssueType::Invalid, text).at(at));
        return;
    }
    let mut by_url: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_key = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if let Some(url) = e.full_url {
            by_url.entry(url).or_default().push(i);
        }
        if let Some(key) = e.key {
            by_key.entry(key).or_insert(i);
        }
    }
    let bundle = Resolver {
        model,
        entries: &entries,
        at,
        by_url,
        by_key,
    };
    bundle.full_urls(kind, out);
    bundle.same_resource(kind, out);
    let found: Vec<Vec<Found<'_>>> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut list = Vec::new();
            if let Some(r) = e.resource {
                references(r, &format!("{at}.entry[{i}].resource"), &mut list);
            }
            list
        })
        .collect();
    let links = bundle.links(kind, &found, out);
    match kind {
        "document" => {
            bundle.composition(out);
            bundle.unlinked(&links, true, out);
        }
        "message" => {
            bundle.focus(out);
            bundle.unlinked(&links, false, out);
        }
        _ => {}
    }
}

fn entry(e: &Value) -> Entry<'_> {
    let resource = e.get("resource").filter(|r| r.is_object());
    fn text<'v>(v: Option<&'v Value>, k: &str) -> Option<&'v str> {
        v.and_then(|v| v.get(k)).and_then(Value::as_str)
    }
    Entry {
        full_url: text(Some(e), "fullUrl"),
        resource,
        key: text(resource, "resourceType").zip(text(resource, "id")),
        version: resource
            .and_then(|r| r.pointer("/meta/versionId"))
            .and_then(Value::as_str),
    }
}

/// Every `Reference.reference` (an object's `reference` string) below `v`, `#` ones aside,
/// without going into a Bundle held inside: its references are its own. The way down is kept
/// as segments and written out only for a reference found: most members lead to none.
fn references<'v>(v: &'v Value, at: &str, out: &mut Vec<Found<'v>>) {
    let mut way = Vec::new();
    descend(v, at, &mut way, out);
}

enum Step<'v> {
    Member(&'v str),
    Index(usize),
}

fn descend<'v>(v: &'v Value, at: &str, way: &mut Vec<Step<'v>>, out: &mut Vec<Found<'v>>) {
    match v {
        Value::Object(o) => {
            if field(o, "resourceType").and_then(Value::as_str) == Some("Bundle") {
                return;
            }
            if let Some(r) = field(o, "reference").and_then(Value::as_str)
                && !r.starts_with('#')
            {
                let mut path = at.to_string();
                for step in way.iter() {
                    match step {
                        Step::Member(k) => {
                            path.push('.');
                            path.push_str(k);
                        }
                        Step::Index(i) => super::location::push_index(&mut path, *i),
                    }
                }
                path.push_str(".reference");
                out.push(Found {
                    at: path,
                    reference: r,
                });
            }
            for (k, child) in o {
                if child.is_object() || child.is_array() {
                    way.push(Step::Member(k));
                    descend(child, at, way, out);
                    way.pop();
                }
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                if child.is_object() {
                    way.push(Step::Index(i));
                    descend(child, at, way, out);
                    way.pop();
                }
            }
        }
        _ => {}
    }
}

/// `scheme:rest`, as URIs are absolute (RFC 3986 scheme syntax).
fn is_absolute(url: &str) -> bool {
    url.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

fn is_urn(reference: &str) -> bool {
    reference.starts_with("urn:uuid:") || reference.starts_with("urn:oid:")
}

/// The Bundle's entries and what resolves among them.
struct Resolver<'a, 'v> {
    model: &'a BaseModel,
    entries: &'a [Entry<'v>],
    at: &'a str,
    /// fullUrl → the entries holding it, in order; (type, id) → the first entry holding it. A
    /// Bundle may hold ten thousand entries: a reference is found in one look-up, not a scan.
    by_url: HashMap<&'v str, Vec<usize>>,
    by_key: HashMap<(&'v str, &'v str), usize>,
}

impl<'v> Resolver<'_, 'v> {
    /// `(base, type, id)` of a RESTful URL (`[base/]Type/id[/_history/v]`, the version dropped)
    /// whose type is a resource type.
    fn restful<'u>(&self, url: &'u str) -> Option<(&'u str, &'u str, &'u str)> {
        let plain = url.split("/_history/").next().unwrap_or(url);
        let (rest, id) = plain.rsplit_once('/')?;
        let (base, ty) = rest.rsplit_once('/').unwrap_or(("", rest));
        let id_ok = (1..=64).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
        (id_ok && self.model.is_resource(ty)).then_some((base, ty, id))
    }

    /// The entry `reference`, written in entry `from`, points to (bundle.html#references): an
    /// absolute one is a `fullUrl`; a relative one is read against the base of `from`'s
    /// RESTful `fullUrl`, else matched by type and id.
    fn resolve(&self, reference: &str, from: Option<usize>) -> Option<usize> {
        let (plain, version) = match reference.split_once("/_history/") {
            Some((p, v)) => (p, Some(v)),
            None => (reference, None),
        };
        let by_url = |url: &str| {
            let found = self.by_url.get(url)?;
            // History Bundles hold several versions under one fullUrl.
            let versioned = version.and_then(|v| {
                found
                    .iter()
                    .copied()
                    .find(|i| self.entries[*i].version == Some(v))
            });
            versioned.or_else(|| found.first().copied())
        };
        if is_absolute(plain) {
            return by_url(plain);
        }
        let base = from
            .and_then(|i| self.entries[i].full_url)
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
            .and_then(|u| self.restful(u))
            .map(|(base, _, _)| base);
        if let Some(found) = base.and_then(|b| by_url(&format!("{b}/{plain}"))) {
            return Some(found);
        }
        let (_, ty, id) = self.restful(plain)?;
        self.by_key.get(&(ty, id)).copied()
    }

    fn entry_at(&self, i: usize) -> String {
        format!("{}.entry[{i}]", self.at)
    }

    /// `fullUrl`: absolute; when RESTful, ending with the resource's `Type/id`; present but in
    /// transactions and batches (where a POST may leave it out).
    fn full_urls(&self, kind: &str, out: &mut Sink<'_>) {
        let optional = matches!(
            kind,
            "transaction" | "batch" | "transaction-response" | "batch-response"
        );
        for (i, e) in self.entries.iter().enumerate() {
            let at = format!("{}.fullUrl", self.entry_at(i));
            let Some(url) = e.full_url else {
                if !optional {
                    let text = M::FullUrlMissing {
                        kind: kind.to_string(),
                    };
                    out.push(Issue::error(IssueType::Required, text).at(self.entry_at(i)));
                }
                continue;
            };
            if !is_absolute(url) {
                let text = M::FullUrlNotAbsolute {
                    url: url.to_string(),
                };
                out.push(Issue::error(IssueType::Invalid, text).at(at));
                continue;
            }
            let restful = (url.starts_with("http://") || url.starts_with("https://"))
                .then(|| self.restful(url))
                .flatten();
            let (Some((_, ty, id)), Some(resource)) = (restful, e.resource) else {
                continue;
            };
            let rt = resource
                .get("resourceType")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let text = match resource.get("id").and_then(Value::as_str) {
                None => M::FullUrlWithoutId {
                    url: url.to_string(),
                    ty: ty.to_string(),
                    id: id.to_string(),
                },
                Some(rid) if (rt, rid) != (ty, id) => M::FullUrlDisagrees {
                    url: url.to_string(),
                    rt: rt.to_string(),
                    rid: rid.to_string(),
                },
                Some(_) => continue,
            };
            out.push(Issue::error(IssueType::Invalid, text).at(at));
        }
    }

    /// One resource (type, id and version) in two entries: a relative reference to it cannot
    /// tell which is meant. A history Bundle holds versions, so only the same version counts.
    fn same_resource(&self, kind: &str, out: &mut Sink<'_>) {
        let mut seen: HashMap<(&str, &str, Option<&str>), usize> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            let Some((ty, id)) = e.key else { continue };
            let version = if kind == "history" { e.version } else { None };
            if let Some(first) = seen.insert((ty, id, version), i) {
                let text = M::SameResource {
                    ty: ty.to_string(),
                    id: id.to_string(),
                    first,
                    again: i,
                };
                out.push(Issue::warning(IssueType::Duplicate, text).at(self.entry_at(i)));
            }
        }
    }

    /// Resolves every reference: a `urn:` one that resolves to nothing is an error; in a
    /// document or message any other is a warning; a reference naming a type that resolves to
    /// another type is an error. Returns, per entry, the entries its references lead to.
    fn links(&self, kind: &str, found: &[Vec<Found<'_>>], out: &mut Sink<'_>) -> Vec<Vec<usize>> {
        let contained_kind = matches!(kind, "document" | "message");
        let mut links = vec![Vec::new(); self.entries.len()];
        for (i, list) in found.iter().enumerate() {
            for f in list {
                match self.resolve(f.reference, Some(i)) {
                    Some(target) => {
                        self.check_type(f, target, out);
                        links[i].push(target);
                    }
                    None if is_urn(f.reference) => {
                        let scheme = if f.reference.starts_with("urn:uuid:") {
                            "urn:uuid:"
                        } else {
                            "urn:oid:"
                        };
                        let text = M::UrnUnresolved {
                            reference: f.reference.to_string(),
                            scheme,
                        };
                        out.push(Issue::error(IssueType::NotFound, text).at(&f.at));
                    }
                    None if contained_kind => {
                        let text = M::Unresolved {
                            reference: f.reference.to_string(),
                            kind: kind.to_string(),
                        };
                        out.push(Issue::warning(IssueType::NotFound, text).at(&f.at));
                    }
                    None => {}
                }
            }
        }
        links
    }

    /// A reference that names a type (`Patient/1`, `http://x/fhir/Patient/1`) must find that type.
    fn check_type(&self, f: &Found<'_>, target: usize, out: &mut Sink<'_>) {
        let Some((_, named, _)) = self.restful(f.reference) else {
            return;
        };
        let actual = self.entries[target]
            .resource
            .and_then(|r| r.get("resourceType"))
            .and_then(Value::as_str);
        if let Some(actual) = actual.filter(|a| *a != named) {
            let text = M::WrongType {
                reference: f.reference.to_string(),
                named: named.to_string(),
                actual: actual.to_string(),
                entry: target,
            };
            out.push(Issue::error(IssueType::Invalid, text).at(&f.at));
        }
    }

    /// The first entry's resource when it is a `resource_type` (bdl-11 and bdl-12 say when not).
    fn first(&self, resource_type: &str) -> Option<&'v Value> {
        self.entries[0]
            .resource
            .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some(resource_type))
    }

    /// documents.html: what the Composition refers to travels in the document.
    fn composition(&self, out: &mut Sink<'_>) {
        let Some(c) = self.first("Composition") else {
            return;
        };
        let at = format!("{}.resource", self.entry_at(0));
        let mut refs = Vec::new();
        for key in ["subject", "author", "encounter", "custodian"] {
            pointed(c, key, &at, &mut refs);
        }
        for (i, a) in list(c, "attester") {
            pointed(a, "party", &format!("{at}.attester[{i}]"), &mut refs);
        }
        for (i, e) in list(c, "event") {
            pointed(e, "detail", &format!("{at}.event[{i}]"), &mut refs);
        }
        sections(c, &at, &mut refs);
        self.must_resolve(refs, |reference| M::NotInDocument { reference }, out);
    }

    /// messaging.html: the focus of the message travels with it.
    fn focus(&self, out: &mut Sink<'_>) {
        let Some(h) = self.first("MessageHeader") else {
            return;
        };
        let mut refs = Vec::new();
        let at = format!("{}.resource", self.entry_at(0));
        pointed(h, "focus", &at, &mut refs);
        self.must_resolve(refs, |reference| M::NotInMessage { reference }, out);
    }

    /// References of the first entry that must find an entry; `missing` says it of one that
    /// does not.
    fn must_resolve(
        &self,
        refs: Vec<(String, &str)>,
        missing: impl Fn(String) -> M,
        out: &mut Sink<'_>,
    ) {
        for (at, reference) in refs {
            if self.resolve(reference, Some(0)).is_none() {
                let text = missing(reference.to_string());
                out.push(Issue::error(IssueType::NotFound, text).at(at));
            }
        }
    }

    /// Entries not reached from the first one (following references forwards, then taking in
    /// entries that refer to one reached, as a Provenance does, and following theirs: so any
    /// chain of references either way): in a document an error, in a message a warning, as the
    /// reference validator has them for R4.
    fn unlinked(&self, links: &[Vec<usize>], document: bool, out: &mut Sink<'_>) {
        let mut either_way = vec![Vec::new(); links.len()];
        for (from, targets) in links.iter().enumerate() {
            for &to in targets {
                either_way[from].push(to);
                either_way[to].push(from);
            }
        }
        let mut reached = HashSet::new();
        let mut stack = vec![0];
        while let Some(i) = stack.pop() {
            if reached.insert(i) {
                stack.extend(either_way[i].iter().copied());
            }
        }
        for (i, e) in self.entries.iter().enumerate() {
            if e.resource.is_none() || reached.contains(&i) {
                continue;
            }
            let text = M::Unreached {
                index: i,
                full_url: e.full_url.map(str::to_string),
                first: if document {
                    "Composition"
                } else {
                    "MessageHeader"
                },
            };
            out.push(if document {
                Issue::error(IssueType::Invalid, text).at(self.entry_at(i))
            } else {
                Issue::warning(IssueType::Informational, text).at(self.entry_at(i))
            });
        }
    }
}

/// Items of array `key` of `v`, with their indexes.
fn list<'v>(v: &'v Value, key: &str) -> impl Iterator<Item = (usize, &'v Value)> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// The references of element `key` of `v` (one Reference or an array of them), located.
fn pointed<'v>(v: &'v Value, key: &str, at: &str, out: &mut Vec<(String, &'v str)>) {
    let reference = |r: &'v Value| {
        r.get("reference")
            .and_then(Value::as_str)
            .filter(|s| !s.starts_with('#'))
    };
    match v.get(key) {
        Some(Value::Array(items)) => {
            for (i, r) in items.iter().enumerate() {
                if let Some(s) = reference(r) {
                    out.push((format!("{at}.{key}[{i}].reference"), s));
                }
            }
        }
        Some(r) => {
            if let Some(s) = reference(r) {
                out.push((format!("{at}.{key}.reference"), s));
            }
        }
        None => {}
    }
}

/// A section's author, focus and entries, and its subsections'.
fn sections<'v>(v: &'v Value, at: &str, out: &mut Vec<(String, &'v str)>) {
    for (i, s) in list(v, "section") {
        let here = format!("{at}.section[{i}]");
        for key in ["author", "focus", "entry"] {
            pointed(s, key, &here, out);
        }
        sections(s, &here, out);
    }
}
