//! Tests against the official packages and examples in shared/data (skipped when absent):
//! every constraint expression parses, and the invariants that apply to the JP-CLINS examples
//! (base R4, and the JP profiles they claim) evaluate without a false or an unsupported result.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::test_model::{self, CORE, CoreModel, JP_CHECKUP, JP_CLINS, JP_CORE};
use super::*;

fn constraint_expressions(sd: &Value) -> impl Iterator<Item = (&str, &str)> {
    ["snapshot", "differential"]
        .into_iter()
        .flat_map(move |part| {
            sd[part]["element"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|el| el["constraint"].as_array().into_iter().flatten())
                .filter_map(|c| Some((c["key"].as_str().unwrap_or("?"), c["expression"].as_str()?)))
        })
}

#[test]
fn every_package_constraint_parses() {
    let mut total = 0;
    let mut failures = Vec::new();
    let mut unsupported = Vec::new();
    for tgz in [CORE, JP_CORE, JP_CLINS, JP_CHECKUP] {
        let Some(sds) = test_model::package(tgz) else {
            crate::test_data::missing(format!("packages/{tgz}"));
        };
        let mut count = 0;
        for sd in sds {
            for (key, src) in constraint_expressions(sd) {
                count += 1;
                match Expression::parse(src) {
                    Ok(e) => {
                        if !e.unsupported_functions().is_empty() {
                            unsupported.push(format!("{tgz} {key}: {src}"));
                        }
                    }
                    Err(e) => failures.push(format!("{tgz} {key}: {src}: {e}")),
                }
            }
        }
        eprintln!("{tgz}: {count} constraint expressions parsed");
        total += count;
    }
    eprintln!(
        "total: {total} expressions, {} parse failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(unsupported.is_empty(), "{unsupported:#?}");
    assert!(total > 30_000);
}

#[derive(Default)]
struct Stats {
    evaluated: usize,
    empty: usize,
    unsupported: Vec<String>,
    errors: Vec<String>,
    failed: Vec<String>,
    /// Evaluations of constraints a profile adds (keys not found in the core package).
    own: usize,
    keys: BTreeSet<String>,
    own_keys: BTreeSet<String>,
    /// Constraint keys whose result was empty, with how often.
    empties: BTreeMap<String, usize>,
}

/// StructureDefinitions by type (core) and by URL (profiles).
struct Defs {
    by_type: HashMap<&'static str, &'static Value>,
    core_keys: HashSet<&'static str>,
    profiles: HashMap<&'static str, (&'static str, &'static Value)>,
}

impl Defs {
    fn load() -> Option<Defs> {
        let mut by_type = HashMap::new();
        let mut core_keys = HashSet::new();
        for sd in test_model::package(CORE)? {
            core_keys.extend(constraint_expressions(sd).map(|(k, _)| k));
            let (Some(ty), Some("specialization")) =
                (sd["type"].as_str(), sd["derivation"].as_str())
            else {
                continue;
            };
            by_type.insert(ty, sd);
        }
        let mut profiles = HashMap::new();
        for tgz in [JP_CORE, JP_CLINS] {
            for sd in test_model::package(tgz)? {
                if let Some(url) = sd["url"].as_str() {
                    profiles.insert(url, (tgz, sd));
                }
            }
        }
        Some(Defs {
            by_type,
            core_keys,
            profiles,
        })
    }
}

struct Checker<'a> {
    defs: &'a Defs,
    model: Option<&'a dyn TypeModel>,
    exprs: HashMap<String, Expression>,
    core: Stats,
    per_profile_package: HashMap<&'static str, Stats>,
    label: String,
}

/// `a.b[x].c` relative to the element `prefix`, as a FHIRPath path.
fn rel_path(path: &str, prefix: &str) -> Option<String> {
    if path == prefix {
        return Some(String::new());
    }
    let rest = path.strip_prefix(prefix)?.strip_prefix('.')?;
    Some(
        rest.split('.')
            .map(|s| format!("`{}`", s.trim_end_matches("[x]")))
            .collect::<Vec<_>>()
            .join("."),
    )
}

impl<'a> Checker<'a> {
    fn expr(&mut self, src: &str) -> &Expression {
        self.exprs
            .entry(src.to_string())
            .or_insert_with(|| Expression::parse(src).unwrap())
    }

    fn nodes<'v>(&mut self, focus: &Item<'v>, rel: &str, env: &Env<'v>) -> Vec<Item<'v>> {
        if rel.is_empty() {
            return vec![focus.clone()];
        }
        let e = self.expr(rel);
        evaluate_items(e, std::slice::from_ref(focus), env).unwrap()
    }

    /// Evaluates the error-severity constraints of `sd`'s elements under `prefix` on `focus`.
    /// For the base definitions (`profile_pkg` None) it also checks the data types and
    /// resources found there against their own definitions; profiles add only their own
    /// element constraints.
    fn apply<'v>(
        &mut self,
        sd: &'a Value,
        prefix: &str,
        focus: &Item<'v>,
        env: &Env<'v>,
        profile_pkg: Option<&'static str>,
    ) {
        let recurse = profile_pkg.is_none();
        for el in sd["snapshot"]["element"].as_array().into_iter().flatten() {
            // Slices need discriminator matching to know which nodes they apply to.
            if el["id"].as_str().is_some_and(|id| id.contains(':')) {
                continue;
            }
            let path = el["path"].as_str().unwrap_or("");
            let Some(rel) = rel_path(path, prefix) else {
                continue;
            };
            let constraints: Vec<(String, String)> = el["constraint"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["severity"] == "error")
                .filter_map(|c| {
                    Some((
                        c["key"].as_str()?.to_string(),
                        c["expression"].as_str()?.to_string(),
                    ))
                })
                .collect();
            let types: Vec<&str> = el["type"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["code"].as_str())
                .collect();
            let content_ref = el["contentReference"].as_str();
            if constraints.is_empty() && !(recurse && (!types.is_empty() || content_ref.is_some()))
            {
                continue;
            }
            let nodes = self.nodes(focus, &rel, env);
            if nodes.is_empty() {
                continue;
            }
            for (key, src) in &constraints {
                let label = format!("{} {path} {key}", self.label);
                self.expr(src);
                for n in &nodes {
                    let r = evaluate_bool_items(
                        self.exprs.get(src.as_str()).unwrap(),
                        std::slice::from_ref(n),
                        env,
                    );
                    let stats = match profile_pkg {
                        None => &mut self.core,
                        Some(p) => self.per_profile_package.entry(p).or_default(),
                    };
                    stats.keys.insert(key.clone());
                    if !self.defs.core_keys.contains(key.as_str()) {
                        stats.own += 1;
                        stats.own_keys.insert(key.clone());
                    }
                    match r {
                        Ok(Some(false)) => stats.failed.push(format!("{label}: {src}")),
                        Ok(Some(true)) => stats.evaluated += 1,
                        Ok(None) => {
                            stats.evaluated += 1;
                            stats.empty += 1;
                            *stats.empties.entry(format!("{key}: {src}")).or_default() += 1;
                        }
                        Err(e) if e.is_unsupported() => {
                            stats.unsupported.push(format!("{label}: {e}"))
                        }
                        Err(e) => stats.errors.push(format!("{label}: {src}: {e}")),
                    }
                }
            }
            // The root element is the focus itself: it was checked by whoever recursed here.
            if !recurse || rel.is_empty() {
                continue;
            }
            if let Some(r) = content_ref {
                let target = r.trim_start_matches('#').to_string();
                for n in &nodes {
                    self.apply(sd, &target, n, env, None);
                }
                continue;
            }
            for n in &nodes {
                let actual = n.type_name().unwrap_or("").to_string();
                if types.contains(&"Resource")
                    || n.as_json().is_some_and(|v| v.get("resourceType").is_some())
                {
                    if let Some(res) = n.as_json() {
                        let root = if path.ends_with(".contained") {
                            env.root
                        } else {
                            res
                        };
                        self.check_resource(res, root, env.model);
                    }
                    continue;
                }
                if actual.is_empty() || matches!(actual.as_str(), "BackboneElement" | "Element") {
                    continue;
                }
                if let Some(dt) = self.defs.by_type.get(actual.as_str()).copied() {
                    self.apply(dt, &actual, n, env, None);
                }
            }
        }
    }

    fn check_resource<'v>(
        &mut self,
        res: &'v Value,
        root: &'v Value,
        model: Option<&'v dyn TypeModel>,
    ) {
        let Some(rt) = res["resourceType"].as_str() else {
            return;
        };
        let env = Env {
            resource: res,
            root,
            model,
            terminology: None,
            strict: false,
        };
        let focus = Item::Node(Node::new(Some(res), None, Some(rt)));
        if let Some(sd) = self.defs.by_type.get(rt).copied() {
            self.apply(sd, rt, &focus, &env, None);
        }
        for p in res["meta"]["profile"].as_array().into_iter().flatten() {
            let url = p.as_str().unwrap_or("");
            let url = url.split('|').next().unwrap_or(url);
            if let Some((pkg, sd)) = self.defs.profiles.get(url).copied() {
                self.apply(sd, rt, &focus, &env, Some(pkg));
            }
        }
    }
}

fn report(name: &str, s: &Stats) {
    eprintln!(
        "{name}: {} invariant evaluations ({} empty) of {} constraint keys, {} of them by {} \
         profile-specific keys; {} false, {} unsupported, {} errors",
        s.evaluated,
        s.empty,
        s.keys.len(),
        s.own,
        s.own_keys.len(),
        s.failed.len(),
        s.unsupported.len(),
        s.errors.len()
    );
    for (e, n) in &s.empties {
        eprintln!("    empty x{n}: {e}");
    }
    for f in s
        .failed
        .iter()
        .chain(&s.unsupported)
        .chain(&s.errors)
        .take(40)
    {
        eprintln!("    {f}");
    }
}

fn run_examples(with_model: bool) -> Option<(Stats, HashMap<&'static str, Stats>)> {
    let dir = test_model::data_path("examples/clins")?;
    let defs = Defs::load()?;
    let model: Option<&dyn TypeModel> = if with_model {
        Some(CoreModel::shared()? as &dyn TypeModel)
    } else {
        None
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let examples: Vec<(String, Value)> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap(),
            )
        })
        .collect();
    assert_eq!(examples.len(), 50);
    let mut checker = Checker {
        defs: &defs,
        model,
        exprs: HashMap::new(),
        core: Stats::default(),
        per_profile_package: HashMap::new(),
        label: String::new(),
    };
    for (name, ex) in &examples {
        checker.label = name.clone();
        checker.check_resource(ex, ex, checker.model);
    }
    Some((checker.core, checker.per_profile_package))
}

#[test]
fn example_invariants_hold_with_core_model() {
    let Some((core, profiles)) = run_examples(true) else {
        crate::test_data::missing("examples/clins or a package");
    };
    report("R4 base (core model)", &core);
    let mut pkgs: Vec<_> = profiles.iter().collect();
    pkgs.sort_by_key(|(k, _)| **k);
    for (pkg, s) in &pkgs {
        report(&format!("{pkg} profiles (core model)"), s);
    }
    assert!(core.evaluated > 1000);
    assert!(core.failed.is_empty(), "{:#?}", core.failed);
    assert!(core.unsupported.is_empty(), "{:#?}", core.unsupported);
    assert!(core.errors.is_empty(), "{:#?}", core.errors);
    for (_, s) in pkgs {
        assert!(s.failed.is_empty(), "{:#?}", s.failed);
        assert!(s.unsupported.is_empty(), "{:#?}", s.unsupported);
        assert!(s.errors.is_empty(), "{:#?}", s.errors);
    }
}

#[test]
fn example_invariants_without_model() {
    let Some((core, profiles)) = run_examples(false) else {
        crate::test_data::missing("examples/clins or a package");
    };
    report("R4 base (no model)", &core);
    for (pkg, s) in &profiles {
        report(&format!("{pkg} profiles (no model)"), s);
    }
    for s in std::iter::once(&core).chain(profiles.values()) {
        assert!(s.failed.is_empty(), "{:#?}", s.failed);
        assert!(s.unsupported.is_empty(), "{:#?}", s.unsupported);
        assert!(s.errors.is_empty(), "{:#?}", s.errors);
    }
}

/// The JP-CLINS constraint `key` of the profile `url` (root element).
fn jp_constraint(url: &str, key: &str) -> Option<Expression> {
    let sd = test_model::package(JP_CLINS)?
        .iter()
        .find(|sd| sd["url"] == url)
        .unwrap_or_else(|| panic!("no profile {url}"));
    let src = constraint_expressions(sd)
        .find(|(k, _)| *k == key)
        .unwrap_or_else(|| panic!("no constraint {key} in {url}"))
        .1;
    Some(Expression::parse(src).unwrap())
}

/// The official JP constraints are not trivially true: a targeted change to an example makes
/// each of these fail.
#[test]
fn jp_profile_constraints_detect_violations() {
    let (Some(model), Some(dir)) = (CoreModel::shared(), test_model::data_path("examples/clins"))
    else {
        crate::test_data::missing("examples/clins or a package");
    };
    let load = |f: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.join(f)).unwrap()).unwrap()
    };
    let check = |res: &Value, url: &str, key: &str| -> Option<bool> {
        let expr = jp_constraint(url, key).unwrap();
        let env = Env {
            resource: res,
            root: res,
            model: Some(model),
            terminology: None,
            strict: false,
        };
        evaluate_bool(&expr, res, None, &env).unwrap()
    };
    let patient_url = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Patient_eCS";
    let bundle_url = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS";
    let medreq_url = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_MedicationRequest_eCS";

    let mut p = load("Patient-Example-JP-Patient-eCS-MAKINO.json");
    for key in [
        "kanjiName-kanaName-donot-contain-ZenkakuKuuhaku",
        "valid-value-insurance-patientIdentifier",
    ] {
        assert_eq!(check(&p, patient_url, key), Some(true), "{key}");
    }
    p["name"][0]["text"] = "牧野　爛漫".into();
    assert_eq!(
        check(
            &p,
            patient_url,
            "kanjiName-kanaName-donot-contain-ZenkakuKuuhaku"
        ),
        Some(false)
    );
    p["identifier"][1]["value"] = "00012345:あいう:１８７:5".into();
    assert_eq!(
        check(&p, patient_url, "valid-value-insurance-patientIdentifier"),
        Some(false)
    );

    let mut b = load("Bundle-Bundle-CLINS-Observations-Example-01.json");
    let keys = [
        "first-bundle-entry-is-Patient",
        "valid-value-bundleIdenfifier",
        "bundle-meta-tag-resourceType-valid",
        "all-entries-needs-valid-institutionNumber",
    ];
    for key in keys {
        assert_eq!(check(&b, bundle_url, key), Some(true), "{key}");
    }
    b["identifier"]["value"] = "1318814790^1999^x".into();
    b["meta"]["tag"][0]["code"] = "Patient".into();
    b["entry"][1]["resource"]["extension"][0]["valueIdentifier"]["value"] = "13188".into();
    b["entry"].as_array_mut().unwrap().swap(0, 1);
    for key in keys {
        assert_eq!(check(&b, bundle_url, key), Some(false), "{key}");
    }

    let mut m = load("MedicationRequest-Example-JP-MedReq-PO-SID-28days.json");
    assert_eq!(
        check(&m, medreq_url, "needs-anyOfStandardCode-medication"),
        Some(true)
    );
    m["medicationCodeableConcept"]["coding"] =
        serde_json::json!([{"system": "http://example.org", "code": "x"}]);
    assert_eq!(
        check(&m, medreq_url, "needs-anyOfStandardCode-medication"),
        Some(false)
    );
}
