//! `kyoyu package install NAME#VERSION` against a FHIR package registry served on loopback by the
//! test itself, the store's default location, and `package list` with shipped and installed
//! versions side by side. No network beyond 127.0.0.1.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::registry::{Registry, dist, package_tgz, tgz};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_kyoyu");

fn kyoyu(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(cwd)
        .env_remove("KYOYU_PACKAGE_STORE")
        .env_remove("KYOYU_PACKAGE_REGISTRY")
        .env_remove("KYOYU_CONFIG")
        .env_remove("KYOYU_PROFILES")
        .env("NO_PROXY", "127.0.0.1")
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Everything in the store folder, hidden entries included.
fn store_entries(store: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(store)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn shared_tgz(file: &str) -> Vec<u8> {
    std::fs::read(common::shared_data(&format!("packages/{file}"))).unwrap()
}

/// A small package of our own: one CodeSystem, the given dependencies.
fn small_package(name: &str, version: &str, dependencies: serde_json::Value) -> Vec<u8> {
    let manifest = json!({
        "name": name, "version": version, "fhirVersions": ["4.0.1"], "dependencies": dependencies
    });
    let code_system = json!({
        "resourceType": "CodeSystem", "id": "cs", "url": format!("http://example.org/{name}/cs"),
        "status": "active", "content": "complete", "concept": [{"code": "a"}]
    });
    package_tgz(&manifest, &[("CodeSystem-cs.json", code_system)])
}

fn install(cwd: &Path, store: &Path, registry: &Registry, extra: &[&str]) -> Output {
    let store = store.to_str().unwrap();
    let mut args = vec![
        "package",
        "install",
        "--package-store",
        store,
        "--registry",
        &registry.url,
    ];
    args.extend_from_slice(extra);
    kyoyu(cwd, &args)
}

#[test]
fn installs_an_exact_version_the_latest_and_a_line_from_the_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let registry = Registry::start();
    registry.publish(
        "jp-eCheckupReport.r4",
        "1.5.0",
        &shared_tgz("jp-eCheckupReport.r4-1.5.0-snap.tgz"),
        None,
    );
    for (version, file) in [
        ("1.6.0", "jp-eCSCLINS.r4-1.6.0-snap.tgz"),
        ("1.10.0", "jp-eCSCLINS.r4-1.10.0-snap.tgz"),
    ] {
        registry.publish("jp-eCSCLINS.r4", version, &shared_tgz(file), None);
    }

    let out = install(
        tmp.path(),
        &store,
        &registry,
        &["jp-eCheckupReport.r4#1.5.0"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("installed jp-eCheckupReport.r4#1.5.0"));
    assert!(
        store
            .join("jp-eCheckupReport.r4#1.5.0/package/package.json")
            .is_file()
    );
    // Found in the package's list of versions: the FHIR registries answer `{name}/{version}`
    // with the tarball, so that is not asked for.
    assert_eq!(
        registry.requests(),
        [
            "/jp-eCheckupReport.r4",
            "/jp-eCheckupReport.r4/-/jp-eCheckupReport.r4-1.5.0.tgz"
        ]
    );
    // The base R4 package is built in: not reported as a missing dependency.
    assert!(
        !text(&out).contains("dependency not installed"),
        "{}",
        text(&out)
    );

    // No dist-tags: the newest release, 1.10.0 ranking above 1.6.0 as a number.
    let out = install(tmp.path(), &store, &registry, &["jp-eCSCLINS.r4"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("installed jp-eCSCLINS.r4#1.10.0"),
        "{}",
        text(&out)
    );

    let out = install(tmp.path(), &store, &registry, &["jp-eCSCLINS.r4#1.6.x"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("installed jp-eCSCLINS.r4#1.6.0"),
        "{}",
        text(&out)
    );

    assert_eq!(
        store_entries(&store),
        [
            "jp-eCSCLINS.r4#1.10.0",
            "jp-eCSCLINS.r4#1.6.0",
            "jp-eCheckupReport.r4#1.5.0"
        ]
    );
    let out = kyoyu(
        tmp.path(),
        &[
            "package",
            "list",
            "--package-store",
            store.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("jp-eCSCLINS.r4 "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.ends_with("1.10.0 (store), 1.6.0 (store)"), "{line}");
}

#[test]
fn refuses_what_the_registry_cannot_give_and_installs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let registry = Registry::start();
    let checkup = shared_tgz("jp-eCheckupReport.r4-1.5.0-snap.tgz");
    registry.publish("jp-eCheckupReport.r4", "1.5.0", &checkup, None);
    registry.tag_latest("jp-eCheckupReport.r4", "1.5.0");
    let good = small_package("example.sum", "1.0.0", json!({}));
    let tarball = format!("{}/example.sum/-/example.sum-1.0.0.tgz", registry.url);
    // The checksums of other bytes than the tarball served.
    registry.publish(
        "example.sum",
        "1.0.0",
        &good,
        Some(dist(&tarball, b"other bytes")),
    );
    let mut integrity_only = dist(&tarball, b"other bytes");
    integrity_only.as_object_mut().unwrap().remove("shasum");
    registry.publish("example.sum", "1.0.1", &good, Some(integrity_only));
    registry.publish("example.html", "1.0.0", b"<html>not a package</html>", None);
    let no_manifest = tgz(&[("package/other.json", b"{}".to_vec())]);
    registry.publish("example.empty", "1.0.0", &no_manifest, None);
    registry.publish("example.other", "1.0.0", &checkup, None);

    let cases: [(&[&str], &str); 9] = [
        (&["nosuch.package#1.0.0"], "no package named nosuch.package"),
        (&["nosuch.package"], "no package named nosuch.package"),
        (
            &["jp-eCheckupReport.r4#9.9.9"],
            "jp-eCheckupReport.r4 has no version 9.9.9 (versions: 1.5.0)",
        ),
        (&["jp-eCheckupReport.r4#2.x"], "has no version 2.x"),
        (&["example.sum#1.0.0"], "sha1 checksum does not match"),
        (&["example.sum#1.0.1"], "sha512 checksum does not match"),
        (
            &["example.html#1.0.0"],
            "not a readable gzip-compressed tar",
        ),
        (&["example.empty#1.0.0"], "no package/package.json"),
        (
            &["example.other#1.0.0"],
            "is jp-eCheckupReport.r4#1.5.0, not the example.other#1.0.0 asked for",
        ),
    ];
    for (args, expected) in cases {
        let out = install(tmp.path(), &store, &registry, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {}", text(&out));
    }
    let out = install(
        tmp.path(),
        &store,
        &registry,
        &["--max-download-bytes", "1000", "jp-eCheckupReport.r4"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("larger than the download limit of 1000 bytes"),
        "{}",
        text(&out)
    );
    let out = install(tmp.path(), &store, &registry, &["not/a#name?"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = install(tmp.path(), &store, &registry, &["Bad Name"]);
    assert!(
        text(&out).contains("is not NAME, NAME#VERSION"),
        "{}",
        text(&out)
    );

    // Nothing reached the store, not even a staging folder.
    assert!(
        store_entries(&store).is_empty(),
        "{:?}",
        store_entries(&store)
    );

    // A registry that is not there: a clear error, not a hang.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let out = kyoyu(
        tmp.path(),
        &[
            "package",
            "install",
            "--package-store",
            store.to_str().unwrap(),
            "--registry",
            &format!("http://127.0.0.1:{closed}"),
            "jp-eCheckupReport.r4",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("127.0.0.1:{closed}")),
        "{}",
        text(&out)
    );
}

#[test]
fn reports_missing_dependencies_and_fetches_them_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let registry = Registry::start();
    let dependent = small_package(
        "example.dependent",
        "1.0.0",
        json!({"hl7.fhir.r4.core": "4.0.1", "example.base": "1.0.x"}),
    );
    registry.publish("example.dependent", "1.0.0", &dependent, None);
    for version in ["1.0.0", "1.0.1", "2.0.0"] {
        let base = small_package("example.base", version, json!({"example.root": version}));
        registry.publish("example.base", version, &base, None);
    }
    let root = small_package("example.root", "1.0.1", json!({}));
    registry.publish("example.root", "1.0.1", &root, None);
    // A version the list leaves out comes from its npm version document.
    let unlisted = small_package("example.root", "3.0.0", json!({}));
    registry.publish_unlisted("example.root", "3.0.0", &unlisted);

    let out = install(tmp.path(), &store, &registry, &["example.dependent"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(
            "dependency not installed: example.base#1.0.x (needed by example.dependent#1.0.0"
        ),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("hl7.fhir.r4.core"), "{}", text(&out));
    assert_eq!(store_entries(&store), ["example.dependent#1.0.0"]);

    let out = install(
        tmp.path(),
        &store,
        &registry,
        &["--with-dependencies", "example.dependent#1.0.0"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !text(&out).contains("dependency not installed"),
        "{}",
        text(&out)
    );
    assert_eq!(
        store_entries(&store),
        [
            "example.base#1.0.1",
            "example.dependent#1.0.0",
            "example.root#1.0.1"
        ]
    );

    let out = install(tmp.path(), &store, &registry, &["example.root#3.0.0"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(store.join("example.root#3.0.0").is_dir(), "{}", text(&out));
    // Still unknown when neither the list nor a version document has it.
    let out = install(tmp.path(), &store, &registry, &["example.root#4.0.0"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("example.root has no version 4.0.0 (versions: 1.0.1)"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_store_defaults_to_a_data_folder_and_list_shows_shipped_versions_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("example.base-1.0.0.tgz");
    std::fs::write(&archive, small_package("example.base", "1.0.0", json!({}))).unwrap();
    let out = kyoyu(
        tmp.path(),
        &["package", "install", archive.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        tmp.path()
            .join("kyoyu-data/packages/example.base#1.0.0/package/package.json")
            .is_file(),
        "{}",
        text(&out)
    );

    // Shipped packages: a folder and an archive in profiles/.
    let shipped = tmp.path().join("profiles");
    let unpacked = shipped.join("example.base#2.0.0/package");
    std::fs::create_dir_all(&unpacked).unwrap();
    std::fs::write(
        unpacked.join("package.json"),
        json!({"name": "example.base", "version": "2.0.0"}).to_string(),
    )
    .unwrap();
    std::fs::write(
        shipped.join("example.other-0.9.0.tgz"),
        small_package("example.other", "0.9.0", json!({})),
    )
    .unwrap();
    let out = kyoyu(tmp.path(), &["package", "list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().skip(1).map(str::trim_end).collect();
    assert_eq!(
        lines,
        [
            "example.base   2.0.0 (shipped), 1.0.0 (store)",
            "example.other  0.9.0 (shipped)"
        ],
        "{stdout}"
    );

    // The configuration file names another store and another shipped folder.
    std::fs::write(
        tmp.path().join("kyoyu.toml"),
        "package_store = \"elsewhere\"\nprofiles = \"shipped-elsewhere\"\n",
    )
    .unwrap();
    let out = kyoyu(tmp.path(), &["package", "list", "--config", "kyoyu.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "store: elsewhere; shipped: shipped-elsewhere\nno packages\n"
    );
}

#[test]
fn list_shows_the_packages_that_ship_in_profiles() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let out = kyoyu(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "package",
            "list",
            "--package-store",
            store.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| panic!("no {name} in {stdout}"))
    };
    assert_eq!(
        line("jp-core.r4"),
        "1.1.2-url (shipped), 1.1.2-clins (shipped)"
    );
    assert_eq!(line("jp-eCheckupReport.r4"), "1.5.0 (shipped)");
    assert!(
        line("jp-eCSCLINS.r4").starts_with("1.10.0 (shipped)"),
        "{stdout}"
    );
}
