//! TLS and the start-up rules of authentication: certificates are made by each test; a client
//! certificate signed by the configured CA maps to its institution, any other is refused in the
//! handshake; without principals the server only runs on loopback.

use crate::common;

use std::sync::Arc;
use std::sync::mpsc;

use actix_web::{App, HttpRequest, HttpServer, web};
use common::pki::{self, Ca, Files, Identity};
use common::{Backend, Options, TestServer};
use kyoyu::access::tls::{self, TlsFiles};
use kyoyu::access::{Authentication, ClientCertificate, Principals};
use kyoyu::api::server::{self, Parts, StartError};
use kyoyu::config::ConfigArgs;

const INSTITUTION: &str = "1311234567";

/// A CA, a server certificate it signed, a client certificate it signed and mapped to
/// [`INSTITUTION`] in a principals file; all as files.
struct Setup {
    ca: Ca,
    client: Identity,
    files: Files,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    client_ca: std::path::PathBuf,
    principals: std::path::PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let ca = Ca::new("kyoyu test CA");
        let server = ca.server();
        let client = ca.client("Sakura Hospital EHR");
        let files = Files::new();
        let principals = files.write(
            "principals.toml",
            &format!(
                "[[principal]]\nname = \"Sakura Hospital EHR\"\nrole = \"system\"\n\
                 institution = \"{INSTITUTION}\"\ncertificate_sha256 = \"{}\"\n",
                tls::fingerprint(&client.der)
            ),
        );
        Setup {
            cert: files.write("server.pem", &server.cert_pem),
            key: files.write("server.key", &server.key_pem),
            client_ca: files.write("ca.pem", &ca.pem()),
            principals,
            ca,
            client,
            files,
        }
    }

    fn configure(&self, client_required: bool) -> impl FnOnce(&mut ConfigArgs) + Send + 'static {
        let (cert, key, client_ca, principals) = (
            self.cert.clone(),
            self.key.clone(),
            self.client_ca.clone(),
            self.principals.clone(),
        );
        move |a: &mut ConfigArgs| {
            a.tls_cert = Some(cert);
            a.tls_key = Some(key);
            a.tls_client_ca = Some(client_ca);
            a.principals = Some(principals);
            a.tls_client_required = Some(client_required);
        }
    }

    fn start(&self, client_required: bool) -> TestServer {
        TestServer::start_with(
            Backend::Sqlite,
            Options {
                configure: Box::new(self.configure(client_required)),
                ..Options::default()
            },
        )
    }
}

fn addr(server: &TestServer) -> &str {
    server
        .base
        .strip_prefix("https://")
        .expect("an https base URL")
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or_default()
}

/// The server's alert, as rustls reports it to the client.
/// The connection ended without an HTTP answer because the server refused the certificate. In
/// TLS 1.3 the client may have finished its side already, so besides the alert itself it may
/// only see the server closing the connection under it.
fn refused_in_handshake(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    error.to_string().contains("received fatal alert")
        || matches!(
            error.kind(),
            BrokenPipe | ConnectionReset | ConnectionAborted
        )
}

#[test]
fn metadata_is_served_over_tls_with_or_without_a_client_certificate() {
    let setup = Setup::new();
    let server = setup.start(false);
    for client in [None, Some(&setup.client)] {
        let response = pki::get(addr(&server), &setup.ca, client, "/metadata").unwrap();
        assert_eq!(status_line(&response), "HTTP/1.1 200 OK", "{response}");
        assert!(response.contains("CapabilityStatement"));
    }
}

#[test]
fn a_client_certificate_from_another_ca_is_refused_in_the_handshake() {
    let setup = Setup::new();
    let server = setup.start(false);
    let stranger = Ca::new("another CA").client("Sakura Hospital EHR");
    let error = pki::get(addr(&server), &setup.ca, Some(&stranger), "/metadata").unwrap_err();
    assert!(refused_in_handshake(&error), "{error}");
}

#[test]
fn a_required_client_certificate_refuses_connections_without_one() {
    let setup = Setup::new();
    let server = setup.start(true);
    let error = pki::get(addr(&server), &setup.ca, None, "/metadata").unwrap_err();
    assert!(refused_in_handshake(&error), "{error}");
    let response = pki::get(addr(&server), &setup.ca, Some(&setup.client), "/metadata").unwrap();
    assert_eq!(status_line(&response), "HTTP/1.1 200 OK");
}

/// The server's own `on_connect` and TLS configuration, with a handler that reads the connection's
/// [`ClientCertificate`] as the access layer does and answers the institution it maps to.
#[test]
fn a_trusted_client_certificate_reaches_requests_as_its_institution() {
    let setup = Setup::new();
    let config = TlsFiles {
        cert: Some(&setup.cert),
        key: Some(&setup.key),
        client_ca: Some(&setup.client_ca),
        client_required: false,
    }
    .load()
    .unwrap()
    .unwrap();
    let authentication =
        Authentication::Required(Arc::new(Principals::load(&setup.principals).unwrap()));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let server = HttpServer::new(move || {
                let authentication = authentication.clone();
                App::new().default_service(web::to(move |req: HttpRequest| {
                    let certificate = req.conn_data::<ClientCertificate>().cloned();
                    let answer = match authentication.principal(None, certificate.as_ref()) {
                        Ok(p) => p.institution().unwrap_or("none").to_string(),
                        Err(e) => e.to_string(),
                    };
                    async move { answer }
                }))
            })
            .workers(1)
            .on_connect(tls::on_connect)
            .listen_rustls_0_23(listener, rustls::ServerConfig::clone(&config.server))
            .unwrap()
            .run();
            tx.send((addr, server.handle())).unwrap();
            server.await.unwrap();
        });
    });
    let (addr, handle) = rx.recv().unwrap();
    let with_certificate =
        pki::get(&addr.to_string(), &setup.ca, Some(&setup.client), "/").unwrap();
    assert!(
        with_certificate.ends_with(&format!("\r\n\r\n{INSTITUTION}")),
        "{with_certificate}"
    );
    let without = pki::get(&addr.to_string(), &setup.ca, None, "/").unwrap();
    assert!(without.contains("authentication required"), "{without}");
    let unmapped = setup.ca.client("unmapped");
    let response = pki::get(&addr.to_string(), &setup.ca, Some(&unmapped), "/").unwrap();
    assert!(response.contains("not mapped"), "{response}");
    actix_web::rt::System::new().block_on(handle.stop(false));
}

#[test]
fn the_fingerprint_is_the_sha256_of_the_der_certificate() {
    let der = Ca::new("x").client("y").der;
    let expected = ring::digest::digest(&ring::digest::SHA256, &der);
    let hex = tls::fingerprint(&der);
    assert_eq!(hex.len(), 64);
    for (i, byte) in expected.as_ref().iter().enumerate() {
        assert_eq!(
            u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap(),
            *byte
        );
    }
    assert_eq!(hex, hex.to_lowercase());
}

#[test]
fn a_key_that_does_not_fit_the_certificate_is_refused() {
    let setup = Setup::new();
    let other = setup.ca.server();
    let wrong_key = setup.files.write("other.key", &other.key_pem);
    let e = ConfigArgs {
        tls_cert: Some(setup.cert.clone()),
        tls_key: Some(wrong_key),
        ..ConfigArgs::default()
    }
    .resolve()
    .unwrap_err();
    assert_eq!(e.key, "tls_key");
    assert!(!e.message.contains("PRIVATE KEY"), "{e}");
}

fn start_error(args: ConfigArgs) -> Option<StartError> {
    let config = args.resolve().unwrap();
    actix_web::rt::System::new().block_on(async move {
        match server::start(&config, Parts::default()).await {
            Ok(running) => {
                running.stop(true).await;
                None
            }
            Err(e) => Some(e),
        }
    })
}

#[test]
fn without_principals_a_non_loopback_address_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let error = start_error(ConfigArgs {
        listen: Some("0.0.0.0:0".into()),
        database_url: Some(dir.path().join("k.db").display().to_string()),
        ..ConfigArgs::default()
    });
    assert!(
        matches!(error, Some(StartError::OpenNotLoopback(_))),
        "{error:?}"
    );
    assert!(
        !dir.path().join("k.db").exists(),
        "refused before opening the database"
    );
}

#[test]
fn without_principals_a_loopback_address_starts_in_open_mode() {
    let server = TestServer::start(Backend::Sqlite);
    assert!(server.base.starts_with("http://127.0.0.1:"));
    assert_eq!(server.get("metadata").status(), 200);
}

#[test]
fn with_principals_a_non_loopback_address_starts() {
    let setup = Setup::new();
    let dir = tempfile::tempdir().unwrap();
    let error = start_error(ConfigArgs {
        listen: Some("0.0.0.0:0".into()),
        database_url: Some(dir.path().join("k.db").display().to_string()),
        principals: Some(setup.principals.clone()),
        ..ConfigArgs::default()
    });
    assert!(error.is_none(), "{error:?}");
}

#[test]
fn a_bad_principals_file_stops_start_up_naming_the_entry() {
    let files = Files::new();
    let secret = "s3cret-s3cret-s3cret-s3cret-s3cret";
    let principals = files.write(
        "principals.toml",
        &format!("[[principal]]\nname = \"ehr\"\nrole = \"system\"\ntoken = \"{secret}\"\n"),
    );
    let error = start_error(ConfigArgs {
        listen: Some("127.0.0.1:0".into()),
        database_url: Some(files.dir.path().join("k.db").display().to_string()),
        principals: Some(principals),
        ..ConfigArgs::default()
    })
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(error.contains("principal 1 (ehr)"), "{error}");
    assert!(!error.contains(secret), "{error}");
}

const BIN: &str = env!("CARGO_BIN_EXE_kyoyu");

/// `kyoyu serve` with the given environment; its stderr up to the "kyoyu listening" line (or its
/// end), and its exit code if it stopped by itself.
fn serve(env: &[(&str, &str)]) -> (String, Option<i32>) {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(BIN)
        .arg("serve")
        .env("KYOYU_DATABASE_URL", dir.path().join("k.db"))
        .env("KYOYU_PURGE_INTERVAL_SECS", "0")
        .env("KYOYU_PROFILES", "/nonexistent")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = String::new();
    for line in BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        log.push_str(&line);
        log.push('\n');
        if line.contains("kyoyu listening") {
            child.kill().unwrap();
            child.wait().unwrap();
            return (log, None);
        }
    }
    (log, child.wait().unwrap().code())
}

#[test]
fn the_binary_warns_of_open_mode_and_refuses_it_off_loopback() {
    let (log, code) = serve(&[("KYOYU_LISTEN", "127.0.0.1:0")]);
    assert_eq!(code, None, "{log}");
    assert!(log.contains("open development mode"), "{log}");
    assert!(
        log.contains("tls=\"off\"") || log.contains("tls=off"),
        "{log}"
    );
    let (log, code) = serve(&[("KYOYU_LISTEN", "0.0.0.0:0")]);
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("without authentication"), "{log}");
}

#[test]
fn the_binary_names_a_bad_tls_setting_and_exits_2() {
    let (log, code) = serve(&[("KYOYU_TLS_CLIENT_CA", "ca.pem")]);
    assert_eq!(code, Some(2), "{log}");
    assert_eq!(log.trim().lines().count(), 1, "{log}");
    assert!(log.contains("tls_client_ca"), "{log}");
}
