//! The old OIDs Japanese data still names code systems by, and the canonical URL of each: every
//! code-system URL is read through [`canonical_system`] before it is looked up or compared.

/// Old OIDs still found in Japanese data, and the canonical URL of the same code system.
const SYSTEM_ALIASES: &[(&str, &str)] = &[
    (
        "urn:oid:1.2.392.200119.4.504",
        "http://medis.or.jp/CodeSystem/master-JLAC10-17digits",
    ),
    (
        "urn:oid:1.2.392.200119.4.101.2",
        "http://medis.or.jp/CodeSystem/master-disease-keyNumber",
    ),
    (
        "urn:oid:1.2.392.200119.4.101.6",
        "http://medis.or.jp/CodeSystem/master-disease-exCode",
    ),
    (
        "urn:oid:1.2.392.100495.20.2.73",
        "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code",
    ),
    (
        "urn:oid:1.2.392.100495.20.1.73",
        "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code",
    ),
    (
        "urn:oid:1.2.392.100495.20.2.81",
        "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationGeneralOrderCode",
    ),
    (
        "urn:oid:1.2.392.100495.20.1.81",
        "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationGeneralOrderCode",
    ),
    (
        "urn:oid:1.2.392.200119.4.403.1",
        "http://medis.or.jp/CodeSystem/master-HOT9",
    ),
    (
        "urn:oid:1.2.392.200119.4.402.1",
        "http://medis.or.jp/CodeSystem/master-HOT13",
    ),
    (
        "urn:oid:1.2.392.200119.4.403.2",
        "http://medis.or.jp/CodeSystem/master-HOT7",
    ),
];

/// The canonical URL of a code system named by an old OID, or the name itself.
pub fn canonical_system(system: &str) -> &str {
    SYSTEM_ALIASES
        .iter()
        .find(|(alias, _)| *alias == system)
        .map_or(system, |(_, url)| url)
}

/// Every name the system may be defined under: itself and its aliases.
pub(crate) fn system_names(url: &str) -> impl Iterator<Item = &str> {
    std::iter::once(url).chain(
        SYSTEM_ALIASES
            .iter()
            .filter(move |(_, u)| *u == url)
            .map(|(alias, _)| *alias),
    )
}
