//! The FHIRPath of the packages' SearchParameters: every expression parses and calls only
//! implemented functions, and they evaluate on the JP-CLINS examples without an error
//! (they apply `as` and `resolve()` to collections, so the engine's lenient mode must take them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use super::test_model::{self, CORE, CoreModel, JP_CORE};
use super::*;

#[test]
fn every_search_parameter_expression_parses_with_known_functions() {
    let mut total = 0;
    let mut problems = Vec::new();
    // The JP-CLINS and checkup packages define no SearchParameters.
    for tgz in [CORE, JP_CORE] {
        let Some(params) = test_model::package_files(tgz, "SearchParameter") else {
            crate::test_data::missing(format!("packages/{tgz}"));
        };
        for sp in params {
            let Some(src) = sp["expression"].as_str() else {
                continue;
            };
            total += 1;
            match Expression::parse(src) {
                Ok(e) if e.unsupported_functions().is_empty() => {}
                Ok(e) => problems.push(format!(
                    "{tgz} {}: {:?}",
                    sp["id"],
                    e.unsupported_functions()
                )),
                Err(e) => problems.push(format!("{tgz} {}: {src}: {e}", sp["id"])),
            }
        }
    }
    eprintln!("{total} search parameter expressions");
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(total > 1_000);
}

#[test]
fn search_parameters_evaluate_on_the_examples() {
    let mut params = Vec::new();
    for tgz in [CORE, JP_CORE] {
        let Some(found) = test_model::package_files(tgz, "SearchParameter") else {
            crate::test_data::missing(format!("packages/{tgz}"));
        };
        params.extend(found);
    }
    let Some(dir) = test_model::data_path("examples/clins") else {
        return;
    };
    let model = CoreModel::shared().expect("core package");
    let exprs: Vec<(Vec<&str>, &str, Expression)> = params
        .iter()
        .filter_map(|sp| {
            let src = sp["expression"].as_str()?;
            let bases = sp["base"]
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            Some((bases, sp["id"].as_str()?, Expression::parse(src).ok()?))
        })
        .collect();
    let mut evaluated = 0;
    let mut errors = Vec::new();
    for path in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let bundle: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
        let resources = std::iter::once(&bundle).chain(entries.iter().map(|e| &e["resource"]));
        for res in resources {
            let Some(rt) = res["resourceType"].as_str() else {
                continue;
            };
            let env = Env {
                resource: res,
                root: &bundle,
                model: Some(model),
                terminology: None,
                strict: false,
            };
            for (bases, id, expr) in &exprs {
                if !bases
                    .iter()
                    .any(|b| *b == rt || *b == "Resource" || *b == "DomainResource")
                {
                    continue;
                }
                evaluated += 1;
                if let Err(e) = evaluate(expr, res, None, &env) {
                    errors.push(format!("{} {rt} {id}: {e}", path.display()));
                }
            }
        }
    }
    eprintln!("{evaluated} evaluations, {} errors", errors.len());
    errors.sort();
    errors.dedup();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(evaluated > 1_000);
}
