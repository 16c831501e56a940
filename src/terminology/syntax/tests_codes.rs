//! Each code rule on good codes and on single defects: the severity and what the message names.

use super::systems::*;
use super::*;

/// The one finding of `findings`, which must have `severity` and contain every fragment.
#[track_caller]
pub(super) fn one(findings: Vec<Finding>, severity: Severity, fragments: &[&str]) {
    assert_eq!(findings.len(), 1, "expected one finding, got {findings:#?}");
    let f = &findings[0];
    assert_eq!(f.severity, severity, "{}", f.text());
    for fragment in fragments {
        assert!(
            f.text().contains(fragment),
            "{:?} lacks {fragment:?}",
            f.text()
        );
    }
}

#[track_caller]
fn clean(system: &str, code: &str) {
    assert_eq!(check_code(system, code), vec![], "{system} {code}");
}

#[test]
fn jlac10_fields() {
    clean(JLAC10, "3A015000002329101");
    clean(JLAC10, "99999999999999999");
    clean("urn:oid:1.2.392.200119.4.504", "3A015000002329101");
    one(
        check_code(JLAC10, "3A01500000232910X"),
        Severity::Error,
        &[
            "JLAC10 code 3A01500000232910X: the result field (characters 16–17) must be 2 digits, \
             found \"0X\"",
        ],
    );
    one(
        check_code(JLAC10, "3A0150000023291"),
        Severity::Error,
        &["must be 17 characters", "found 15"],
    );
    one(
        check_code(JLAC10, "3A015000O02329101"),
        Severity::Error,
        &["identification field (characters 6–9)", "\"000O\""],
    );
    one(
        check_code(JLAC10, "3A01500000A329101"),
        Severity::Error,
        &["material field (characters 10–12)", "3 digits", "\"0A3\""],
    );
    one(
        check_code(JLAC10, "3A015000002329I01"),
        Severity::Error,
        &["method field (characters 13–15)"],
    );
    one(
        check_code(JLAC10, "3a015000002329101"),
        Severity::Error,
        &["analyte field (characters 1–5)", "an uppercase letter"],
    );
    one(
        check_code(JLAC10, "３Ａ０１５０００００２３２９１０１"),
        Severity::Error,
        &["codes are half-width ASCII, found the full-width \"３\" at character 1"],
    );
    // Two defects, two findings.
    assert_eq!(check_code(JLAC10, "3A01500000A32910X").len(), 2);
}

#[test]
fn jlac11_and_the_clins_item_systems() {
    clean(CLINS_CORE_JLAC11, "C1002000025000155");
    clean(CLINS_CORE_JLAC11, "C40011337230537F7");
    clean(CLINS_INFECTION_JLAC11, "C1002000025000155");
    one(
        check_code(CLINS_CORE_JLAC11, "31002000025000155"),
        Severity::Error,
        &["JLAC11 code", "analyte field (characters 1–5)"],
    );
    clean(CLINS_CORE_JLAC10, "3A015000002329101");
    one(
        check_code(CLINS_INFECTION_JLAC10, "5F01614100230515"),
        Severity::Error,
        &["JLAC10 code", "must be 17 characters", "found 16"],
    );
    for item in ["ALB", "HbA1c-NGSP", "HIV-1P2-AB-P24-COI", "U-A/C", ""] {
        clean(CLINS_CORE_JLAC10, item);
        clean(CLINS_CORE_JLAC11, item);
    }
    assert!(has_syntax(CLINS_INFECTION_JLAC11));
}

#[test]
fn yj_check_digit_and_structure() {
    assert_eq!(yj_check_digit("1124030F2021"), Some('5'));
    assert_eq!(yj_check_digit("1124030F202"), Some('5'));
    assert_eq!(yj_check_digit("1121001X1018"), Some('8'));
    assert_eq!(yj_check_digit("1124030F20"), None);
    assert_eq!(yj_check_digit("112403002025"), None);
    assert_eq!(yj_check_digit("1124030f2021"), None);
    clean(YJ, "1124030F2025");
    clean("urn:oid:1.2.392.100495.20.2.73", "1121001X1018");
    one(
        check_code(YJ, "1124030F2021"),
        Severity::Warning,
        &[
            "YJ code 1124030F2021:",
            "check digit is 1, expected 5 (a few historic codes fail it)",
        ],
    );
    one(
        check_code(YJ, "112403002025"),
        Severity::Error,
        &["dosage form field (character 8) must be an uppercase letter, found \"0\""],
    );
    one(
        check_code(YJ, "1124030F202X"),
        Severity::Error,
        &["check digit (character 12) must be a digit, found \"X\""],
    );
    one(
        check_code(YJ, "1124030F202"),
        Severity::Error,
        &["must be 12 characters, found 11"],
    );
}

#[test]
fn general_name_code() {
    clean(GENERAL_NAME, "1124030F2ZZZ");
    clean(GENERAL_NAME, "2649729SAZZZ");
    clean("urn:oid:1.2.392.100495.20.1.81", "1124030F2ZZZ");
    one(
        check_code(GENERAL_NAME, "1124030F2ZZY"),
        Severity::Warning,
        &[
            "the suffix (characters 10–12) is ZZZ in all but a few codes",
            "\"ZZY\"",
        ],
    );
    one(
        check_code(GENERAL_NAME, "1124030F2027"),
        Severity::Error,
        &["the suffix (characters 10–12) must be ZZZ, found \"027\""],
    );
    one(
        check_code(GENERAL_NAME, "1124030F2ZZZZ"),
        Severity::Error,
        &["must be 12 characters, found 13"],
    );
}

#[test]
fn jfagy_meta_codes_and_systems() {
    clean(JFAGY_FOOD, "J9FA15000016");
    clean(JFAGY_FOOD, "D9F000000000");
    clean(JFAGY_NON_FOOD, "J9NM11000000");
    clean(JFAGY_NON_FOOD, "00N");
    clean(JFAGY_DRUG_YJ, "YCM1124030F2025");
    clean(JFAGY_DRUG_YJ, "D9M000000000");
    clean(JFAGY_DRUG_GENERAL, "GCM2260701F1ZZZ");
    clean(JFAGY_DRUG_GENERAL, "D9M000000000");
    one(
        check_code(JFAGY_NON_FOOD, "J9FA15000016"),
        Severity::Error,
        &["meta-code J9F", JFAGY_FOOD, "not to", JFAGY_NON_FOOD],
    );
    one(
        check_code(JFAGY_DRUG_YJ, "GCM2260701F1ZZZ"),
        Severity::Error,
        &["meta-code GCM", JFAGY_DRUG_GENERAL],
    );
    one(
        check_code(JFAGY_FOOD, "D9M000000000"),
        Severity::Error,
        &["meta-code D9M", JFAGY_DRUG_YJ, JFAGY_DRUG_GENERAL],
    );
    one(
        check_code(JFAGY_FOOD, "X9FA15000016"),
        Severity::Error,
        &["meta-code (characters 1–3) must be J9F", "found \"X9F\""],
    );
    one(
        check_code(JFAGY_FOOD, "J9FA1500001"),
        Severity::Error,
        &["must be 12 characters", "found 11"],
    );
    one(
        check_code(JFAGY_FOOD, "J9F115000016"),
        Severity::Error,
        &["category field (character 4) must be an uppercase letter"],
    );
    one(
        check_code(JFAGY_FOOD, "D9F000000001"),
        Severity::Error,
        &["D9F000000000"],
    );
    one(
        check_code(JFAGY_DRUG_GENERAL, "GCM2260701F1027"),
        Severity::Error,
        &["the 一般名処方 suffix (characters 13–15) must be ZZZ, found \"027\""],
    );
    one(
        check_code(JFAGY_DRUG_YJ, "YCM112403002025"),
        Severity::Error,
        &["the YJ dosage form field (character 11) must be an uppercase letter"],
    );
    one(
        check_code(JFAGY_DRUG_YJ, "YCM1124030F2021"),
        Severity::Warning,
        &["the YJ check digit is 1, expected 5"],
    );
    one(
        check_code(JFAGY_DRUG_YJ, "YCM1124030F202"),
        Severity::Error,
        &["must be 15 characters (YCM + a 12-character YJ code), found 14"],
    );
}

#[test]
fn disease_codes() {
    clean(DISEASE_KEY_NUMBER, "20054178");
    clean(DISEASE_KEY_NUMBER, "99999999");
    clean("urn:oid:1.2.392.200119.4.101.2", "20054178");
    clean(DISEASE_EXCHANGE, "VQH3");
    clean("urn:oid:1.2.392.200119.4.101.6", "A006");
    clean(MODIFIER_EXCHANGE, "81KE");
    clean(MODIFIER_KEY_NUMBER, "27000358");
    clean(RECEIPT_DISEASE, "0000999");
    clean(RECEIPT_MODIFIER, "8282");
    one(
        check_code(RECEIPT_DISEASE, "848176"),
        Severity::Error,
        &["レセ電 傷病名コード 848176: must be 7 digits, found 6 characters"],
    );
    one(
        check_code(RECEIPT_DISEASE, "84817a6"),
        Severity::Error,
        &["must be 7 digits, found \"a\" at character 6"],
    );
    one(
        check_code(DISEASE_EXCHANGE, "VQH3A"),
        Severity::Error,
        &[
            "MEDIS 病名交換用コード VQH3A: must be 4 uppercase letters or digits, found 5 characters",
        ],
    );
    one(
        check_code(DISEASE_EXCHANGE, "vqh3"),
        Severity::Error,
        &["\"v\" at character 1"],
    );
    one(
        check_code(DISEASE_KEY_NUMBER, "2005417"),
        Severity::Error,
        &["MEDIS 病名管理番号", "8 digits", "found 7 characters"],
    );
    one(
        check_code(RECEIPT_MODIFIER, "828"),
        Severity::Error,
        &["4 digits"],
    );
}

#[test]
fn unknown_systems_have_no_rule() {
    assert!(!has_syntax("http://loinc.org"));
    assert!(check_code("http://loinc.org", "not a jlac code").is_empty());
    assert!(check_identifier("http://example.org/ids", "^^^").is_empty());
    assert!(has_syntax("urn:oid:1.2.392.200119.4.504"));
}
