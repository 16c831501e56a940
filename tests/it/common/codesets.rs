//! Servers started on a store that already holds an imported code set, as after
//! `kyoyu codesets import`.

use kyoyu::config::ConfigArgs;
use kyoyu::terminology::ImportSet;

use super::{Backend, Options, TestServer};

/// A server on `backend` whose store held `set`, imported from the file `file`, before it
/// started.
pub fn imported_server(backend: Backend, file: &str, set: ImportSet) -> TestServer {
    let file = file.to_string();
    TestServer::start_with(
        backend,
        Options {
            configure: Box::new(move |a| store_import(a, file, set)),
            ..Default::default()
        },
    )
}

/// Stores the import in the database `args` name, as `kyoyu codesets import` would.
fn store_import(args: &ConfigArgs, file: String, set: ImportSet) {
    let config = args.resolve().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = kyoyu::store::Store::open(&config.store).unwrap();
        kyoyu::store::terminology_sync::store_imports(&store, vec![(file, set)], 1)
            .await
            .unwrap();
        store.shutdown();
    });
}
