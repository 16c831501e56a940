//! Signed-in callers: a server started with a principals file naming every caller a test uses,
//! and requests sent as one of them with its bearer token.

use std::marker::PhantomData;

use kyoyu::config::ConfigArgs;
use serde_json::Value;

use super::{Backend, Options, TestServer};

/// A caller a test signs in as: usually a fieldless enum, whose `Debug` name makes the token.
pub trait Principal: Copy + std::fmt::Debug {
    /// The principal's grant in the principals file: its `role` and what the role needs.
    fn grant(self) -> String;

    /// The name the audit trail shows for it.
    fn name(self) -> String {
        format!("{self:?}")
    }

    fn token(self) -> String {
        format!("{self:?}-token-0123456789abcdef0123456789")
    }

    /// Headers on every request of this caller (a standing emergency declaration).
    fn headers(self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// The grants of the principals file, by role.
pub mod grant {
    /// A system of the institution `number` (医療機関等コード).
    pub fn institution(number: &str) -> String {
        format!("role = \"system\"\ninstitution = \"{number}\"")
    }

    /// The service's operator, who reads every record and the audit trail.
    pub fn operator() -> String {
        "role = \"operator\"".to_string()
    }

    /// A patient, known by the identifier `system|value` on their Patient records.
    pub fn patient(system: &str, value: &str) -> String {
        format!("role = \"patient\"\npatient = \"{system}|{value}\"")
    }

    /// A practitioner of the institution `number`, without the emergency permission.
    pub fn practitioner(number: &str) -> String {
        format!("role = \"practitioner\"\ninstitution = \"{number}\"")
    }

    /// A practitioner of the institution `number` holding the emergency permission.
    pub fn emergency_practitioner(number: &str) -> String {
        format!("{}\nemergency = true", practitioner(number))
    }

    /// An insurer (保険者), known by its insurer number.
    pub fn insurer(number: &str) -> String {
        format!("role = \"insurer\"\ninsurer = \"{number}\"")
    }
}

/// The headers that declare emergency viewing for `reason` (already fit for a header), with
/// the second factor.
pub fn emergency(reason: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-Emergency-Reason", reason.to_string()),
        ("X-Emergency-2FA", "totp".to_string()),
    ]
}

/// The `[[principal]]` entries of a principals file for `everyone`.
pub fn principals_file<W: Principal>(everyone: &[W]) -> String {
    everyone
        .iter()
        .map(|who| {
            format!(
                "[[principal]]\nname = \"{}\"\ntoken = \"{}\"\n{}\n\n",
                who.name(),
                who.token(),
                who.grant()
            )
        })
        .collect()
}

/// A running server whose principals are `W`'s.
pub struct SignedIn<W> {
    pub srv: TestServer,
    _dir: tempfile::TempDir,
    callers: PhantomData<W>,
}

impl<W: Principal> SignedIn<W> {
    /// Starts a server on `backend` knowing `everyone`; `configure` sets anything else.
    pub fn start(
        backend: Backend,
        everyone: &[W],
        configure: impl FnOnce(&mut ConfigArgs) + Send + 'static,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("principals.toml");
        std::fs::write(&file, principals_file(everyone)).unwrap();
        let srv = TestServer::start_with(
            backend,
            Options {
                configure: Box::new(move |a: &mut ConfigArgs| {
                    a.principals = Some(file);
                    configure(a);
                }),
                ..Options::default()
            },
        );
        SignedIn {
            srv,
            _dir: dir,
            callers: PhantomData,
        }
    }

    /// Runs `test` once per backend of [`backends`](super::backends), each time on a fresh
    /// server knowing `everyone`.
    pub fn on_each_backend(
        everyone: &[W],
        configure: impl FnOnce(&mut ConfigArgs) + Clone + Send + 'static,
        test: impl Fn(&Self),
    ) {
        for backend in super::backends() {
            test(&Self::start(backend, everyone, configure.clone()));
        }
    }

    /// Sends a request as `who`: its status and its JSON body (`Null` when there is none).
    pub fn send(
        &self,
        who: W,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let (status, text) = self.send_text(who, method, path, body, headers);
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// [`send`](Self::send), with the body as the server wrote it.
    pub fn send_text(
        &self,
        who: W,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let mut req = self
            .srv
            .client
            .request(method, self.srv.url(path))
            .bearer_auth(who.token());
        for (k, v) in who.headers() {
            req = req.header(k, v);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", super::FHIR_JSON)
                .body(b.to_string());
        }
        let r = req.send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    }

    pub fn get(&self, who: W, path: &str) -> (u16, Value) {
        self.send(who, reqwest::Method::GET, path, None, &[])
    }

    pub fn post(&self, who: W, path: &str, body: &Value) -> (u16, Value) {
        self.send(who, reqwest::Method::POST, path, Some(body), &[])
    }

    pub fn put(&self, who: W, path: &str, body: &Value) -> (u16, Value) {
        self.send(who, reqwest::Method::PUT, path, Some(body), &[])
    }

    /// A PATCH whose body is a FHIRPath Patch (a Parameters resource).
    pub fn patch(&self, who: W, path: &str, body: &Value) -> (u16, Value) {
        self.send(who, reqwest::Method::PATCH, path, Some(body), &[])
    }

    pub fn delete(&self, who: W, path: &str) -> u16 {
        self.send(who, reqwest::Method::DELETE, path, None, &[]).0
    }

    /// The AuditEvents `who` finds by `AuditEvent?{query}`, in the trail's order; asserts 200.
    pub fn trail(&self, who: W, query: &str) -> Vec<Value> {
        let (status, bundle) = self.get(who, &format!("AuditEvent?{query}"));
        assert_eq!(status, 200, "{who:?} reads the trail: {bundle}");
        bundle["entry"]
            .as_array()
            .map(|es| es.iter().map(|e| e["resource"].clone()).collect())
            .unwrap_or_default()
    }

    /// Creates `body` as `who`, expecting 201; its new id.
    pub fn create(&self, who: W, body: &Value) -> String {
        let t = body["resourceType"].as_str().unwrap();
        let (status, created) = self.post(who, t, body);
        assert_eq!(status, 201, "{who:?} creates {t}: {created}");
        created["id"].as_str().unwrap().to_string()
    }
}
