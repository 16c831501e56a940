//! The ingest phase of `kyoyu bench --bundle FILE`: every request posts the given 6-information
//! Bundle as a new report unit (a fresh Bundle-ID and patient member identifier each time), so
//! the server validates, plans and stores a whole unit per request.

use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::http::response;
use hyper::{Method, Request, StatusCode, Uri};
use serde_json::{Value, json};

use super::client::Target;
use super::load::{Error, LoadOptions, Workload, connect_all, run_phase};
use super::report::LoadReport;

const PHASE: &str = "POST Bundle (report unit)";
const MEMBER_ID: &str = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";

struct PostUnits {
    target: Arc<Target>,
    uri: Uri,
    template: Arc<Value>,
    worker: usize,
    sent: u64,
}

impl PostUnits {
    fn body(&mut self) -> Bytes {
        self.sent += 1;
        let mut unit = (*self.template).clone();
        let institution: String = unit["identifier"]["value"]
            .as_str()
            .unwrap_or("1318814790")
            .chars()
            .take(10)
            .collect();
        unit["identifier"]["value"] = json!(format!(
            "{institution}^2024^bench-{}-{}",
            self.worker, self.sent
        ));
        if let Some(ids) = unit["entry"][0]["resource"]["identifier"].as_array_mut() {
            for id in ids.iter_mut().filter(|i| i["system"] == MEMBER_ID) {
                id["value"] = json!(format!("00012345:bench:{}-{}:01", self.worker, self.sent));
            }
        }
        Bytes::from(serde_json::to_vec(&unit).unwrap_or_default())
    }
}

impl Workload for PostUnits {
    fn next_request(&mut self) -> Request<Full<Bytes>> {
        let body = self.body();
        self.target.request(Method::POST, self.uri.clone(), body)
    }

    fn accept(&mut self, head: &response::Parts) -> bool {
        head.status == StatusCode::CREATED
    }
}

/// One phase: report units posted back to back on every connection.
pub async fn run_ingest(opts: &LoadOptions, bundle: Arc<Value>) -> Result<LoadReport, Error> {
    let (target, conns) = connect_all(opts).await?;
    let uri = target.uri("/Bundle").ok_or(Error::InvalidBaseUrl {
        url: opts.base_url.clone(),
        reason: "cannot form the Bundle URL",
    })?;
    let workers = (0..opts.connections)
        .map(|worker| PostUnits {
            target: Arc::clone(&target),
            uri: uri.clone(),
            template: Arc::clone(&bundle),
            worker,
            sent: 0,
        })
        .collect();
    let (phase, _) = run_phase(PHASE, &target, conns, workers, opts).await?;
    Ok(LoadReport {
        phases: vec![phase],
    })
}
