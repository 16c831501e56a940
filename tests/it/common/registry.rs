//! A FHIR package registry on a loopback port, for `package install NAME#VERSION` tests: it
//! answers GETs from a fixed table of paths (npm registry documents and tarballs) and 404
//! otherwise, one connection at a time, until the test process ends.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{Value, json};

#[derive(Clone, Default)]
pub struct Registry {
    routes: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    requests: Arc<Mutex<Vec<String>>>,
    pub url: String,
}

/// `dist` of a tarball: its URL under the registry and the checksums of `bytes`.
pub fn dist(url: &str, bytes: &[u8]) -> Value {
    let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes);
    let sha512 = ring::digest::digest(&ring::digest::SHA512, bytes);
    json!({
        "tarball": url,
        "shasum": sha1.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "integrity": format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(sha512)),
    })
}

impl Registry {
    pub fn start() -> Registry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let registry = Registry {
            url: format!("http://127.0.0.1:{port}"),
            ..Registry::default()
        };
        let served = registry.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let mut reader = BufReader::new(&stream);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                // The headers are read and ignored.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .to_string();
                served.requests.lock().unwrap().push(path.clone());
                let body = served.routes.lock().unwrap().get(&path).cloned();
                let (status, body) = match body {
                    Some(b) => ("200 OK", b),
                    None => ("404 Not Found", b"{\"error\":\"not found\"}".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let mut out = &stream;
                let _ = out.write_all(head.as_bytes());
                let _ = out.write_all(&body);
            }
        });
        registry
    }

    pub fn serve(&self, path: &str, body: Vec<u8>) {
        self.routes.lock().unwrap().insert(path.to_string(), body);
    }

    /// Publishes `tgz` as `name#version`: the tarball, the version document, and the version in
    /// the package document (`dist` overrides the correct checksums when given).
    pub fn publish(&self, name: &str, version: &str, tgz: &[u8], dist_override: Option<Value>) {
        let version_doc = self.serve_release(name, version, tgz, dist_override);
        let mut routes = self.routes.lock().unwrap();
        let doc_path = format!("/{name}");
        let mut doc: Value = routes
            .get(&doc_path)
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or_else(|| json!({"name": name, "versions": {}}));
        doc["versions"][version] = version_doc;
        routes.insert(doc_path, doc.to_string().into_bytes());
    }

    /// Serves `tgz` and its version document only, as a registry whose list leaves it out.
    pub fn publish_unlisted(&self, name: &str, version: &str, tgz: &[u8]) {
        self.serve_release(name, version, tgz, None);
    }

    /// The tarball and the npm version document; returns the document.
    fn serve_release(
        &self,
        name: &str,
        version: &str,
        tgz: &[u8],
        dist_override: Option<Value>,
    ) -> Value {
        let tarball_path = format!("/{name}/-/{name}-{version}.tgz");
        self.serve(&tarball_path, tgz.to_vec());
        let dist =
            dist_override.unwrap_or_else(|| dist(&format!("{}{tarball_path}", self.url), tgz));
        let version_doc = json!({"name": name, "version": version, "dist": dist});
        self.serve(
            &format!("/{name}/{version}"),
            version_doc.to_string().into_bytes(),
        );
        version_doc
    }

    /// Sets `dist-tags.latest` of a published package.
    pub fn tag_latest(&self, name: &str, version: &str) {
        let mut routes = self.routes.lock().unwrap();
        let doc_path = format!("/{name}");
        let mut doc: Value = serde_json::from_slice(&routes[&doc_path]).unwrap();
        doc["dist-tags"] = json!({ "latest": version });
        routes.insert(doc_path, doc.to_string().into_bytes());
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A package archive made here: `package/package.json` from `manifest` and the given files.
pub fn package_tgz(manifest: &Value, files: &[(&str, Value)]) -> Vec<u8> {
    let mut entries = vec![(
        "package/package.json".to_string(),
        manifest.to_string().into_bytes(),
    )];
    for (name, value) in files {
        entries.push((format!("package/{name}"), value.to_string().into_bytes()));
    }
    let entries: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    tgz(&entries)
}

/// A gzip-compressed tar of the given paths and contents.
pub fn tgz(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, &bytes[..]).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}
