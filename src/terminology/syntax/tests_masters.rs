//! Every code of the reference masters passes its system's rule: the rules are derived from
//! these lists, and a rule that rejects a listed code is wrong.

use super::systems::*;
use super::*;

const TERMINOLOGY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/terminology");

/// The values of column `name` of a CSV under the terminology folder, empty ones left out.
fn column(file: &str, name: &str) -> Vec<String> {
    let path = format!("{TERMINOLOGY}/{file}");
    // flexible: the HOT9 file ends with a one-field line.
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&path)
        .unwrap();
    let headers = reader.headers().unwrap().clone();
    let index = headers
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("{path} has no column {name}: {headers:?}"));
    reader
        .records()
        .map(|r| r.unwrap().get(index).unwrap_or_default().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Findings of every code under `system`, with the code, for the assertion message.
fn findings(system: &str, codes: &[String]) -> Vec<(String, Finding)> {
    codes
        .iter()
        .flat_map(|code| {
            check_code(system, code)
                .into_iter()
                .map(move |f| (code.clone(), f))
        })
        .collect()
}

#[track_caller]
fn all_clean(system: &str, codes: &[String], at_least: usize) {
    assert!(
        codes.len() >= at_least,
        "{system}: only {} codes",
        codes.len()
    );
    let found = findings(system, codes);
    assert!(
        found.is_empty(),
        "{system}: {} findings, e.g. {:#?}",
        found.len(),
        &found[..found.len().min(5)]
    );
}

#[test]
fn every_jlac10_code_passes() {
    all_clean(
        JLAC10,
        &column("jlac10/medis_jlac10_17digits_codes.csv", "code"),
        8_108,
    );
    all_clean(
        JLAC10,
        &column("clins/CLINS_43items_JLAC10_codes_v1.5.0.csv", "JLAC10_code"),
        437,
    );
    all_clean(
        JLAC10,
        &column(
            "clins/CLINS_infection5_JLAC10_codes_v1.5.0.csv",
            "JLAC10_code",
        ),
        255,
    );
    all_clean(
        JLAC10,
        &column(
            "clins/CLINS_master_JLAC10_JLAC11_20240930.csv",
            "JLAC10コード",
        ),
        7_890,
    );
}

#[test]
fn every_code_of_the_clins_item_systems_passes() {
    for file in [
        "clins/CLINS_JLAC10_CoreLabo_CS.csv",
        "clins/CLINS_JLAC10_InfectionLabo_CS.csv",
    ] {
        let urls = column(file, "url");
        let codes = column(file, "code");
        assert_eq!(urls.len(), codes.len());
        for (url, code) in urls.iter().zip(&codes) {
            assert!(has_syntax(url), "{url}");
            assert_eq!(check_code(url, code), vec![], "{url} {code}");
        }
    }
}

#[test]
fn every_jlac11_code_passes() {
    let codes = column(
        "clins/CLINS_master_JLAC10_JLAC11_20240930.csv",
        "JLAC11コード",
    );
    assert!(codes.iter().all(|c| jlac::looks_like_jlac(c)));
    all_clean(CLINS_CORE_JLAC11, &codes, 7_890);
    all_clean(CLINS_INFECTION_JLAC11, &codes, 7_890);
}

#[test]
fn yj_codes_of_the_price_list_all_pass() {
    let codes = column(
        "medication/mhlw_yakka_kijun_20250716.csv",
        "薬価基準収載医薬品コード",
    );
    all_clean(YJ, &codes, 12_434);
}

/// The HOT9 master (2003) holds 19,558 YJ codes; 11 of them fail the check digit (historic
/// codes: their 薬価基準 codes in the same rows all pass) and none fails the structure.
#[test]
fn yj_codes_of_hot9_pass_but_for_a_few_check_digits() {
    let file = "medication/medis_hot9_20030228.csv";
    let yj = column(file, "個別医薬品コード");
    assert_eq!(yj.len(), 19_558);
    let found = findings(YJ, &yj);
    let errors: Vec<_> = found
        .iter()
        .filter(|(_, f)| f.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let failing: Vec<&str> = found.iter().map(|(code, _)| code.as_str()).collect();
    assert_eq!(failing.len(), 11, "{failing:?}");
    assert!(failing.contains(&"1149003D1073"));
    all_clean(YJ, &column(file, "薬価基準収載医薬品コード"), 19_558);
}

#[test]
fn every_general_name_code_passes() {
    let codes = column(
        "medication/ippanmei_shohou_master_R4.6.17.csv",
        "一般名コード",
    );
    assert!(codes.iter().all(|c| c.ends_with("ZZZ")));
    all_clean(GENERAL_NAME, &codes, 1_589);
}

#[test]
fn every_jfagy_code_passes_under_its_own_system() {
    let codes = column("jfagy/JFAGY_J9FN_20250401_R01.csv", "JFAGYCODE");
    assert_eq!(codes.len(), 1_738);
    for code in &codes {
        let systems: &[&str] = match code.get(..3).unwrap_or_default() {
            "J9F" | "D9F" | "00F" => &[JFAGY_FOOD],
            "J9N" | "D9N" | "00N" => &[JFAGY_NON_FOOD],
            "D9M" => &[JFAGY_DRUG_YJ, JFAGY_DRUG_GENERAL],
            other => panic!("unexpected meta-code {other} in {code}"),
        };
        for system in systems {
            assert_eq!(check_code(system, code), vec![], "{system} {code}");
        }
        // The meta-code ties a code to its system: under another one it is an error.
        let other = if systems[0] == JFAGY_FOOD {
            JFAGY_NON_FOOD
        } else {
            JFAGY_FOOD
        };
        let wrong = check_code(other, code);
        assert!(
            wrong.len() == 1 && wrong[0].severity == Severity::Error,
            "{other} {code}: {wrong:?}"
        );
    }
}

#[test]
fn every_disease_code_passes() {
    let file = "disease/MEDIS_disease_exchange_code_v5.11.csv";
    let urls = column(file, "url");
    assert!(urls.iter().all(|u| u == "urn:oid:1.2.392.200119.4.101.6"));
    all_clean(&urls[0], &column(file, "code"), 26_725);
    all_clean(DISEASE_EXCHANGE, &column(file, "code"), 26_725);
    all_clean(
        MODIFIER_EXCHANGE,
        &column("disease/medis_modifier_exchange_codes.csv", "code"),
        2_434,
    );
    all_clean(
        RECEIPT_DISEASE,
        &column("disease/receipt_masterB_disease_codes.csv", "code"),
        27_437,
    );
    all_clean(
        RECEIPT_MODIFIER,
        &column("disease/receipt_masterZ_modifier_codes.csv", "code"),
        2_349,
    );
}
