//! Storage failures. Their detail is for the server log; clients see a generic message.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("cannot connect to the database: {0}")]
    Connection(String),
    #[error("connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("the write was not started before the request deadline")]
    Timeout,
    #[error("the store is shutting down")]
    ShuttingDown,
    #[error("background task failed: {0}")]
    Task(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<diesel::ConnectionError> for StoreError {
    fn from(e: diesel::ConnectionError) -> Self {
        StoreError::Connection(e.to_string())
    }
}
