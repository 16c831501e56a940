//! The layering of `docs/ARCHITECTURE.md`, checked: every `crate::…` path in the library's
//! non-test code names a module of a lower layer, or is one of the upward uses listed in
//! [`UPWARD`] with its reason. A new upward use fails, and so does a listed one that is gone,
//! so the list only shrinks; when it is empty the top-level modules form a DAG.
//!
//! Reads the source as text: comments, string and character literals and `#[cfg(test)]` items
//! are blanked first, so neither a doc link nor a test's import counts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules, from the bottom layer to the top (docs/ARCHITECTURE.md, "The
/// layers"). The first three share the bottom layer and use nothing of ours.
const LAYERS: &[&str] = &[
    "clock",
    "telemetry",
    "metrics",
    "packages",
    "model",
    "clins",
    "messages",
    "fhir",
    "terminology",
    "validation",
    "search",
    "access",
    "store",
    "audit",
    "retention",
    "error",
    "interactions",
    "submissions",
    "config",
    "api",
    "bench",
    "commands",
    "cli",
];

/// The uses that go up today: (from, to, why). Each closes a circle between top-level modules.
const UPWARD: &[(&str, &str, &str)] = &[];

/// Files only compiled for tests, by name; they are left out whole.
fn is_test_file(path: &Path) -> bool {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    stem == "tests"
        || stem.starts_with("tests_")
        || stem.starts_with("test_")
        || stem.ends_with("_tests")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot read {}", dir.display());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && !is_test_file(&path) {
            out.push(path);
        }
    }
}

/// `text` with comments and literals blanked (their line breaks kept), and every item under
/// `#[cfg(test)]` removed.
fn code_only(text: &str) -> String {
    without_test_items(&blank_comments_and_literals(text))
}

fn blank_comments_and_literals(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if c[i] == 'r' && (i == 0 || !ident(c[i - 1]) || c[i - 1] == 'b') && {
            let mut j = i + 1;
            while c.get(j) == Some(&'#') {
                j += 1;
            }
            c.get(j) == Some(&'"')
        } {
            // A raw string: r"…", r#"…"#, br"…".
            let mut j = i + 1;
            let mut hashes = 0;
            while c[j] == '#' {
                hashes += 1;
                j += 1;
            }
            j += 1;
            while j < c.len() {
                if c[j] == '"' && (1..=hashes).all(|k| c.get(j + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                blank(&mut out, c[j]);
                j += 1;
            }
            i = j;
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                if let Some(&ch) = c.get(i) {
                    blank(&mut out, ch);
                }
                i += 1;
            }
            i += 1;
        } else if c[i] == '\'' && next == Some('\\') {
            // An escaped character literal: '\n', '\'', '\u{1f}'.
            i += 2;
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else if c[i] == '\'' && c.get(i + 2) == Some(&'\'') {
            i += 3;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Removes each item an attribute `#[cfg(test)]` puts on (a `mod`, `fn`, `impl`, `use`…).
fn without_test_items(code: &str) -> String {
    const CFG_TEST: &str = "#[cfg(test)]";
    let mut rest = code;
    let mut out = String::with_capacity(code.len());
    while let Some(at) = rest.find(CFG_TEST) {
        out.push_str(&rest[..at]);
        let item = &rest[at + CFG_TEST.len()..];
        rest = &item[item_len(item)..];
    }
    out.push_str(rest);
    out
}

/// The length of the item that starts `s` (after further attributes): up to its `;`, or to
/// the brace that closes its first block.
fn item_len(s: &str) -> usize {
    let mut depth = 0usize;
    let mut brackets = 0usize;
    for (i, ch) in s.char_indices() {
        match ch {
            '[' => brackets += 1,
            ']' => brackets = brackets.saturating_sub(1),
            ';' if depth == 0 && brackets == 0 => return i + 1,
            '{' if brackets == 0 => depth += 1,
            '}' if brackets == 0 => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    s.len()
}

/// The top-level modules `code` names through `crate::x` or `crate::{x, y::…}`.
fn crate_uses(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // The first name of each item of the group, at its top level.
            let mut depth = 0usize;
            let mut item = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(first_name(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(ch);
            }
            found.insert(first_name(&item));
        } else {
            found.insert(first_name(rest));
        }
    }
    found.retain(|n| !n.is_empty());
    found
}

fn first_name(path: &str) -> String {
    path.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// from → to → the files (relative to `src/`) that make the use.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn module_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = Graph::new();
    for path in files {
        let Ok(rel) = path.strip_prefix(&src) else {
            continue;
        };
        let Some(first) = rel.components().next() else {
            continue;
        };
        let first = first.as_os_str().to_string_lossy();
        let from = first.trim_end_matches(".rs").to_string();
        if from == "lib" || from == "main" {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!("cannot read {}", path.display());
        };
        for to in crate_uses(&code_only(&text)) {
            if to != from && LAYERS.contains(&to.as_str()) {
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(rel.to_string_lossy().into_owned());
            }
        }
    }
    graph
}

fn rank(module: &str) -> usize {
    // The three leaves share the bottom layer.
    LAYERS
        .iter()
        .position(|m| *m == module)
        .map_or(usize::MAX, |r| r.max(2))
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let graph = module_graph();
    let allowed: BTreeSet<(&str, &str)> = UPWARD.iter().map(|(f, t, _)| (*f, *t)).collect();
    let mut unexpected = Vec::new();
    let mut upward = BTreeSet::new();
    for (from, uses) in &graph {
        for (to, files) in uses {
            if rank(to) < rank(from) {
                continue;
            }
            upward.insert((from.as_str(), to.as_str()));
            if !allowed.contains(&(from.as_str(), to.as_str())) {
                unexpected.push(format!("{from} -> {to} in {files:?}"));
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "uses of a higher layer (docs/ARCHITECTURE.md): move the name down, or list the use \
         in UPWARD with its reason:\n{}",
        unexpected.join("\n")
    );
    let gone: Vec<_> = allowed.difference(&upward).collect();
    assert!(
        gone.is_empty(),
        "listed in UPWARD but no longer used, remove them: {gone:?}"
    );
}

#[test]
fn every_top_level_module_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let Ok(entries) = std::fs::read_dir(&src) else {
        panic!("cannot read {}", src.display());
    };
    let mut missing = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() && (path.extension().is_none_or(|e| e != "rs") || is_test_file(&path)) {
            continue;
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !matches!(name.as_str(), "lib" | "main" | "architecture_tests")
            && !LAYERS.contains(&name.as_str())
        {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "not in LAYERS: {missing:?}");
}

#[test]
fn uses_are_read_from_code_not_comments_literals_or_tests() {
    let text = r##"
//! See [`crate::api`].
use crate::store::{Conn, StoreError};
use crate::{error::Error, fhir::{self, json}, search};
/* crate::bench */ let s = "crate::cli"; let r = r#"crate::config"#; let c = '"';
fn f() -> crate::clock::Instant { crate :: x; todo!() }
#[cfg(test)]
use crate::metrics;
#[cfg(test)]
mod tests {
    use crate::retention;
    fn g() { let _ = crate::validation::x(); }
}
fn after() { crate::access::Scope::open(); }
"##;
    let uses: Vec<String> = crate_uses(&code_only(text)).into_iter().collect();
    assert_eq!(
        uses,
        ["access", "clock", "error", "fhir", "search", "store"],
        "{}",
        code_only(text)
    );
}

/// The deliberately unscoped reads (`store::SystemUse`), by file (relative to `src/`): a new
/// unscoped path fails until it is listed here, where a review sees it, and a listed one that
/// is gone fails until it is removed. Reads for a caller go through `store::Scoped`.
const UNSCOPED: &[(&str, &[&str])] = &[
    ("interactions/access.rs", &["Ownership"]),
    ("interactions/audit_events.rs", &["AuditTrail"]),
    ("interactions/conditional_update.rs", &["WriteCurrent"]),
    ("interactions/export/operator.rs", &["OperatorExport"]),
    ("interactions/session.rs", &["CallerScope"]),
    (
        "interactions/write.rs",
        &["Identity", "Ownership", "Submission", "WriteCurrent"],
    ),
    ("retention/purge.rs", &["Purge"]),
    ("submissions/apply.rs", &["Submission"]),
    ("submissions/delete.rs", &["Submission"]),
    ("submissions/documents/apply.rs", &["Submission"]),
    ("submissions/documents/cancel.rs", &["Submission"]),
    ("submissions/documents/receipt.rs", &["Submission"]),
    ("submissions/members.rs", &["Identity", "WriteCurrent"]),
];

/// The `SystemUse::…` names `code` uses.
fn system_uses(code: &str) -> BTreeSet<String> {
    const MARK: &str = "SystemUse::";
    code.match_indices(MARK)
        .map(|(at, _)| {
            code[at + MARK.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// What `detect` finds in the code (comments and strings left out) of each file under `src/`
/// but those `skip` names, by path relative to `src/`; files where it finds nothing are left
/// out.
fn found_per_file(
    skip: impl Fn(&str) -> bool,
    detect: impl Fn(&str) -> BTreeSet<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = BTreeMap::new();
    for path in files {
        let Ok(rel) = path.strip_prefix(&src) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if skip(&rel) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!("cannot read {}", path.display());
        };
        let hits = detect(&code_only(&text));
        if !hits.is_empty() {
            found.insert(rel, hits);
        }
    }
    found
}

#[test]
fn unscoped_reads_are_the_listed_ones() {
    // Where the reasons are declared is not a use.
    let found = found_per_file(|rel| rel == "store/system.rs", system_uses);
    let listed: BTreeMap<String, BTreeSet<String>> = UNSCOPED
        .iter()
        .map(|(file, uses)| {
            let uses = uses.iter().map(|u| (*u).to_string()).collect();
            ((*file).to_string(), uses)
        })
        .collect();
    assert_eq!(
        found, listed,
        "the unscoped reads changed: a read for a caller goes through store::Scoped; a \
         deliberate unscoped one names its reason (SystemUse) and is listed in UNSCOPED"
    );
    let used: BTreeSet<String> = found.values().flatten().cloned().collect();
    let declared: BTreeSet<String> = crate::store::SystemUse::ALL
        .iter()
        .map(|u| format!("{u:?}"))
        .filter(|u| u != "Test")
        .collect();
    assert_eq!(
        used, declared,
        "every SystemUse reason is used by some path, and no other"
    );
}

/// Where a caller's scope is built, or a connection bound to one, outside `store/`: (file,
/// what it builds, why). A write reads for its caller through its write kernel
/// (`interactions::write_tx::WriteTx::scoped`), a read through its request's `Session`; a
/// new place that builds a scope of its own fails until it is listed here.
const SCOPE_BUILDERS: &[(&str, &[&str], &str)] = &[
    (
        "interactions/session.rs",
        &[".scope(…)", "Scoped::new", "Scoped::owning", "scope_of"],
        "the request's scope, built once a read, or kept for a request's later reads \
         (Session::keep_scope: the patient's view of the audit trail)",
    ),
    (
        "interactions/write_tx.rs",
        &[".scope(…)", "Scoped::new"],
        "the write kernel: the caller's scope, built once a write transaction",
    ),
];

/// What `code` builds of a scope: a call of `Scoped::new` or `Scoped::owning`, of `scope_of`,
/// or of a `scope` method with arguments (`Session::scope(conn)`, `Caller::scope(ids)`; the
/// accessor `Scoped::scope()` takes none).
fn scope_builders(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for name in ["Scoped::new(", "Scoped::owning(", "scope_of("] {
        let hit = code.match_indices(name).any(|(at, _)| {
            !code[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        });
        if hit {
            found.insert(name.trim_end_matches('(').to_string());
        }
    }
    if code
        .match_indices(".scope(")
        .any(|(at, m)| !code[at + m.len()..].trim_start().starts_with(')'))
    {
        found.insert(".scope(…)".to_string());
    }
    found
}

#[test]
fn scopes_are_built_where_listed() {
    // The store binds its own connections (`System::unscoped`).
    let found = found_per_file(|rel| rel.starts_with("store/"), scope_builders);
    let listed: BTreeMap<String, BTreeSet<String>> = SCOPE_BUILDERS
        .iter()
        .map(|(file, builds, _)| {
            let builds = builds.iter().map(|b| (*b).to_string()).collect();
            ((*file).to_string(), builds)
        })
        .collect();
    assert_eq!(
        found, listed,
        "scopes are built in other places than listed: a write reads for its caller through \
         its write kernel (WriteTx::scoped), a read through its Session (Session::scoped); a \
         deliberate exception is listed in SCOPE_BUILDERS with its reason"
    );
}

#[test]
fn scope_builders_are_read_from_calls() {
    let code = "let s = Scoped::new(c, &x, 1); let t = scoped.scope().clone(); \
                let u = session.scope(conn)?; let v = my_scope_of(c); MyScoped::new(c);";
    let found: Vec<String> = scope_builders(code).into_iter().collect();
    assert_eq!(found, [".scope(…)", "Scoped::new"]);
}

/// Where a lock is taken on something other than a write kernel (`tx`) outside `store/`:
/// (file, the receivers of its `.lock(…)` calls, why). A write takes its typed locks
/// (`store::LockKey`) through its kernel (`WriteTx::lock`), which alone calls `Conn::lock`.
const LOCK_TAKERS: &[(&str, &[&str], &str)] = &[(
    "interactions/write_tx.rs",
    &["self", "self.conn"],
    "the write kernel: WriteTx::lock over the transaction's connection",
)];

/// The receivers of the `.lock(…)` calls with arguments in `code` (a mutex's `.lock()` takes
/// none) other than `tx`, a write kernel by the code's convention. A receiver is the chain of
/// names, calls and fields before the call, across line breaks before a `.`.
fn lock_receivers(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, m) in code.match_indices(".lock(") {
        if code[at + m.len()..].trim_start().starts_with(')') {
            continue;
        }
        // Back over names, dots, spaces and balanced calls; an open parenthesis is the
        // receiver's enclosing call (`Ok(self.conn.lock(k)?)`), not part of it.
        let (mut start, mut depth) = (at, 0usize);
        for (i, c) in code[..at].char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' if depth == 0 => break,
                '(' => depth -= 1,
                c if depth > 0 || c.is_alphanumeric() || c.is_whitespace() => {}
                '_' | '.' => {}
                _ => break,
            }
            start = i;
        }
        let mut parts: Vec<&str> = Vec::new();
        for part in code[start..at].split_whitespace().rev() {
            parts.push(part);
            if !part.starts_with('.') {
                break;
            }
        }
        let receiver: String = parts.into_iter().rev().collect();
        if receiver != "tx" {
            found.insert(receiver);
        }
    }
    found
}

#[test]
fn writes_lock_through_the_kernel() {
    // The store takes its own (the purgers', the access rule's installation).
    let found = found_per_file(|rel| rel.starts_with("store/"), lock_receivers);
    let listed: BTreeMap<String, BTreeSet<String>> = LOCK_TAKERS
        .iter()
        .map(|(file, takers, _)| {
            let takers = takers.iter().map(|t| (*t).to_string()).collect();
            ((*file).to_string(), takers)
        })
        .collect();
    assert_eq!(
        found, listed,
        "a lock is taken outside the write kernel: a write takes its locks through its \
         WriteTx (tx.lock), never on the connection; a deliberate exception is listed in \
         LOCK_TAKERS with its reason"
    );
}

#[test]
fn lock_receivers_are_read_from_calls() {
    let code = "tx.lock(LockKey::Purge)?; let g = m.lock().unwrap(); conn.lock(k)?; \
                match tx\n    .conn()\n    .lock(LockKey::Document(k)) {} Ok(self.conn.lock(key)?)";
    let found: Vec<String> = lock_receivers(code).into_iter().collect();
    assert_eq!(found, ["conn", "self.conn", "tx.conn()"]);
}

/// The connection's queries that return stored content, or tell whether something exists, to
/// a caller: private to `store/`, reached through `Scoped` (or `System`) only.
const CALLER_READS: &[&str] = &[
    "read_current",
    "read_current_row",
    "read_current_owned",
    "current",
    "current_of_patient",
    "document",
    "document_by_bundle_id",
    "documents_by_identifier",
    "documents_of_patients",
    "document_members",
    "unit",
    "unit_by_bundle_id",
    "units_by_bundle_identifier",
    "unit_members",
    "units_of",
    "audit_event",
    "audit_events",
    "oldest_audit_records",
    "owner_of",
    "person_of_patient",
    "own_patients",
    "patients_of_person",
    "consents_of_person",
    "search",
    "history",
    "read_version",
    "visible",
    "visible_among",
    "includes",
];

#[test]
fn the_connection_reads_nothing_for_a_caller_outside_the_store() {
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let mut files = Vec::new();
    rust_files(&store, &mut files);
    let mut public = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // The handles themselves, which apply the scope or name their reason.
        if name == "scoped.rs" || name == "system.rs" {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!("cannot read {}", path.display());
        };
        for method in CALLER_READS {
            for vis in ["pub", "pub(crate)"] {
                if text.contains(&format!("{vis} fn {method}(")) {
                    public.push(format!("{name}: {vis} fn {method}"));
                }
            }
        }
    }
    assert!(
        public.is_empty(),
        "these connection queries must stay private to store/ (pub(super)) and be reached \
         through store::Scoped or store::System: {public:?}"
    );
}

/// `store::Conn`'s public methods (`pub`, `pub(crate)`), each with why it is on the connection:
/// the rest of the store's queries are private to `store/` and reached through a handle of
/// their concern. A new public method fails until it is listed here, where a review sees it;
/// a listed one that is gone fails until it is removed.
const CONN_SURFACE: &[(&str, &str)] = &[
    // The handles, one a concern.
    (
        "system",
        "the deliberately unscoped reads, by reason (store::System)",
    ),
    (
        "retention",
        "the purger's bookkeeping (store::RetentionRepo)",
    ),
    ("documents", "CLINS documents' rows (store::DocumentRepo)"),
    ("units", "report units' rows (store::UnitRepo)"),
    ("audit", "the audit trail's writes (store::AuditRepo)"),
    (
        "maintenance",
        "ANALYZE, CHECKPOINT and the row count (store::MaintenanceRepo)",
    ),
    // The transaction's own controls.
    (
        "lock",
        "serialises contending writers until the transaction ends (outside store/, only the \
         write kernel calls it: writes_lock_through_the_kernel)",
    ),
    (
        "cede",
        "lets waiting readers run between a long write's statements",
    ),
    // The write path of resources (the write kernel's, and the purger's `purge`).
    ("insert_new", "stores a new resource's first version"),
    (
        "write_version",
        "stores a new version of an existing resource (a Patient's rows follow its person)",
    ),
    ("write_deletion", "stores a deletion marker"),
    ("purge", "removes a resource with its versions"),
];

/// The names of the `pub` and `pub(crate)` functions declared in `impl … Conn<…>` blocks (not
/// trait impls) in `code`; outside `store/` (`in_store` false) only where the impl names
/// `store::Conn`, since other modules may have a `Conn` of their own.
fn conn_public_methods(code: &str, in_store: bool) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("impl") {
        let before = rest[..at].chars().next_back();
        let after = rest[at + "impl".len()..].chars().next();
        rest = &rest[at + "impl".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            || after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let Some(open) = rest.find('{') else {
            break;
        };
        let header: String = rest[..open]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        // The type after the impl's own generics, its path dropped.
        let target = match header.strip_prefix('<') {
            Some(generics) => generics.split_once("> ").map_or("", |(_, t)| t),
            None => header.as_str(),
        };
        let qualified = target.contains("store::");
        let target = target.rsplit("::").next().unwrap_or_default();
        if header.contains(" for ")
            || !(target.starts_with("Conn<") || target == "Conn")
            || !(in_store || qualified)
        {
            continue;
        }
        let body = &rest[open..open + item_len(&rest[open..])];
        let tokens: Vec<&str> = body.split_whitespace().collect();
        for (i, token) in tokens.iter().enumerate() {
            if *token != "pub" && *token != "pub(crate)" {
                continue;
            }
            let mut next = tokens[i + 1..]
                .iter()
                .skip_while(|t| matches!(**t, "async" | "const" | "unsafe"));
            if next.next() == Some(&"fn")
                && let Some(name) = next.next()
            {
                found.insert(first_name(name));
            }
        }
    }
    found
}

#[test]
fn the_connection_offers_only_the_listed_methods() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = BTreeSet::new();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!("cannot read {}", path.display());
        };
        let in_store = path.starts_with(src.join("store"));
        found.extend(conn_public_methods(&code_only(&text), in_store));
    }
    let listed: BTreeSet<String> = CONN_SURFACE.iter().map(|(m, _)| (*m).to_string()).collect();
    assert_eq!(
        found, listed,
        "store::Conn's public methods changed: a query belongs to the handle of its concern \
         (Conn::retention, documents, units, audit, maintenance, system) or to store::Scoped, \
         private to store/ on the connection (pub(super)); a method that must be on the \
         connection is listed in CONN_SURFACE with its reason"
    );
}

#[test]
fn the_connections_methods_are_read_from_its_inherent_impls() {
    let text = r#"
impl Conn<'_> {
    pub fn lock(&mut self) {}
    pub(super) fn hidden(&mut self) {}
    fn private(&mut self) {}
    pub(crate) async fn shared(&mut self) {}
}
impl<'a> crate::store::Conn<'a> {
    /// A doc.
    pub fn other(&mut self) {}
}
impl From<X> for Conn<'_> {
    fn from(x: X) -> Self { todo!() }
}
impl Scoped<'_> {
    pub fn search(&mut self) {}
}
impl Connector {
    pub fn open() {}
}
"#;
    let found: Vec<String> = conn_public_methods(&code_only(text), true)
        .into_iter()
        .collect();
    assert_eq!(found, ["lock", "other", "shared"]);
    // Outside the store, another module's own `Conn` is not the store's.
    let found: Vec<String> = conn_public_methods(&code_only(text), false)
        .into_iter()
        .collect();
    assert_eq!(found, ["other"]);
}
