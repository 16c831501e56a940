//! Handlers of Bulk Data `$export`: the kick-off (system, `Patient`, `Group/{id}`), the status
//! URL (`GET` polls, `DELETE` cancels) and the output files, each served only to the caller
//! that started the job.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use super::State;
use super::handlers::within;
use super::negotiate::{self, query_pairs};
use crate::audit::Interaction;
use crate::error::Error;
use crate::fhir::instant::to_fhir_instant;
use crate::interactions::export::jobs::Status;
use crate::interactions::export::ndjson::group_members;
use crate::interactions::export::{ExportRequest, Level};
use crate::messages::InteractionMessage;
use crate::store::StoreError;

type Reply = Result<HttpResponse, Error>;

/// Where the status of job `id` is polled.
pub const STATUS: &str = "$export-status";
/// Where the files of job `id` are downloaded: `$export-file/{id}/{name}`.
pub const FILE: &str = "$export-file";

pub async fn kick_off(state: State, req: HttpRequest, level: Level) -> Reply {
    if !negotiate::prefer(&req).respond_async {
        return Err(Error::invalid(
            InteractionMessage::ExportNeedsRespondAsync,
            "Prefer",
        ));
    }
    let request = ExportRequest::parse(level, &query_pairs(req.query_string()))?;
    let svc = &state.services;
    let (members, group) = match &request.level {
        Level::Group(id) => {
            let (members, group) = within(&state, group_members(svc, id)).await?;
            (members, Some(group))
        }
        Level::System | Level::Patient => (Vec::new(), None),
    };
    let (t, id) = request.level.target();
    // The kick-off is recorded before it is answered; each exported page is recorded as read.
    svc.audit_read(Interaction::Export, t, id, group.iter())
        .await?;
    let url = format!("{}{}", state.base_url, req.uri());
    let job = state.exports.start(svc.clone(), request, members, url)?;
    Ok(HttpResponse::Accepted()
        .insert_header((
            "Content-Location",
            format!("{}/{STATUS}/{job}", state.base_url),
        ))
        .finish())
}

pub async fn status(state: State, job: String) -> Reply {
    let found = state.exports.get(&job, &state.services.caller.principal)?;
    match found.status() {
        Status::Running { exported } => Ok(HttpResponse::Accepted()
            .insert_header(("X-Progress", format!("{exported} resources exported")))
            .insert_header(("Retry-After", "1"))
            .finish()),
        Status::Done(files) => {
            let base = &state.base_url;
            let output: Vec<_> = files
                .iter()
                .map(|f| {
                    json!({
                        "type": f.res_type,
                        "url": format!("{base}/{FILE}/{job}/{}", f.name),
                        "count": f.count,
                    })
                })
                .collect();
            let manifest = json!({
                "transactionTime": to_fhir_instant(found.transaction_time),
                "request": found.request_url,
                "requiresAccessToken": !state.services.caller.is_open(),
                "output": output,
                "error": [],
            });
            Ok(HttpResponse::build(StatusCode::OK)
                .content_type("application/json")
                .insert_header(("Expires", "0"))
                .body(manifest.to_string()))
        }
        Status::Failed => Err(Error::Store(StoreError::Task("export failed".into()))),
    }
}

pub async fn cancel(state: State, job: String) -> Reply {
    state
        .exports
        .cancel(&job, &state.services.caller.principal)?;
    Ok(HttpResponse::Accepted().finish())
}

/// Streams the file from disk in chunks: a file of any size costs one buffer.
pub async fn file(state: State, job: String, name: String) -> Reply {
    let path = state
        .exports
        .file(&job, &name, &state.services.caller.principal)?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| Error::RouteNotFound(InteractionMessage::ExportJobUnknown.into()))?;
    let chunks = futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(actix_web::web::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/fhir+ndjson")
        .streaming(chunks))
}
