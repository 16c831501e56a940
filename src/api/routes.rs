//! The route table. The interaction lists below are what the CapabilityStatement advertises, and
//! they sit next to the routes that implement them so the two change together.

use actix_web::web;

use super::handlers as h;
use crate::interactions::capabilities::Implemented;

pub const TYPE_INTERACTIONS: &[&str] = &[
    "read",
    "vread",
    "update",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
];
pub const SYSTEM_INTERACTIONS: &[&str] = &["transaction", "batch", "history-system"];
pub const FORMATS: &[&str] = &["application/fhir+json", "json"];

pub fn implemented() -> Implemented<'static> {
    Implemented {
        type_interactions: TYPE_INTERACTIONS,
        system_interactions: SYSTEM_INTERACTIONS,
        formats: FORMATS,
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    let not_allowed = || web::to(h::method_not_allowed);
    cfg.service(
        web::resource("/metadata")
            .route(web::get().to(h::metadata))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/")
            .route(web::post().to(h::transaction))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/_history")
            .route(web::get().to(h::history_system))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/{type}")
            .route(web::get().to(h::search))
            .route(web::post().to(h::create))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/{type}/_search")
            .route(web::post().to(h::search_post))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/{type}/_history")
            .route(web::get().to(h::history_type))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/{type}/{id}")
            .route(web::get().to(h::read))
            .route(web::put().to(h::update))
            .route(web::delete().to(h::delete))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/{type}/{id}/_history")
            .route(web::get().to(h::history_instance))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/{type}/{id}/_history/{vid}")
            .route(web::get().to(h::vread))
            .default_service(not_allowed()),
    )
    .default_service(web::to(h::not_found));
}
