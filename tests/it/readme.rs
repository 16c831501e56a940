//! The README walk-through, run as written against a real server, so it cannot go stale.

use crate::common;

use common::{Backend, TestServer};

#[test]
fn the_readme_walk_through_works() {
    // The walk-through is curl commands: without curl it would prove nothing, so it fails.
    assert!(
        std::process::Command::new("curl")
            .arg("--version")
            .output()
            .is_ok(),
        "curl is not installed: the README walk-through needs it"
    );
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("## Walk-through").nth(1).unwrap();
    let script = section
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    assert!(script.contains("B=http://127.0.0.1:8080"));
    let srv = TestServer::start(Backend::Sqlite);
    let script = script.replace("B=http://127.0.0.1:8080", &format!("B={}", srv.base));
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let codes: Vec<&str> = stdout
        .lines()
        .filter(|l| l.len() == 3 && l.parse::<u16>().is_ok())
        .collect();
    // Observation created, patient updated with If-Match, deleted, then gone.
    assert_eq!(codes, ["201", "200", "204", "410"], "{stdout}");
    assert!(stdout.contains("\"resourceType\":\"CapabilityStatement\""));
    assert!(stdout.contains("\"type\":\"transaction-response\""));
    // Both searches found what was created.
    assert_eq!(
        stdout
            .matches("\"type\":\"searchset\",\"timestamp\"")
            .count(),
        2
    );
    assert_eq!(stdout.matches("\"total\":1").count(), 2, "{stdout}");
}
