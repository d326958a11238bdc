//! The store and recorder the settings file's `[report]` section
//! describes.

use std::sync::Arc;
use std::time::Duration;

use mailauth::session::Settings;
use mailauth::session::settings::StoreKind;

use crate::period::Periods;
use crate::postgres::PostgresStore;
use crate::recorder::{Connect, RecorderConfig};
use crate::sqlite::SqliteStore;
use crate::store::{ReportStore, StoreError};

/// Opens the store of `[report]`: the SQLite file (its folder created
/// when missing) or the PostgreSQL database.
///
/// # Errors
/// [`StoreError`].
pub fn open(settings: &Settings) -> Result<Box<dyn ReportStore>, StoreError> {
    let report = &settings.file().report;
    Ok(match report.store {
        StoreKind::Sqlite => {
            let path = settings.report_store_path();
            if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder).map_err(|e| {
                    StoreError::Config(format!("cannot create {}: {e}", folder.display()))
                })?;
            }
            Box::new(SqliteStore::open(
                path,
                Duration::from_millis(report.busy_timeout_ms),
            )?)
        }
        StoreKind::Postgres => Box::new(PostgresStore::connect(&report.connection)?),
        _ => return Err(StoreError::Config("unknown store kind".to_owned())),
    })
}

/// A [`Connect`] for a [`crate::Recorder`] that opens the store of
/// `[report]` (again after each failure).
pub fn connector(settings: &Arc<Settings>) -> Connect {
    let settings = Arc::clone(settings);
    Box::new(move || open(&settings))
}

/// The reporting periods of `[report]`.
///
/// # Errors
/// [`StoreError::Config`] for a period the settings loader would refuse.
pub fn periods(settings: &Settings) -> Result<Periods, StoreError> {
    Periods::new(settings.file().report.period).map_err(|e| StoreError::Config(e.to_string()))
}

/// The recorder limits and timings of `[report]`.
///
/// # Errors
/// [`StoreError::Config`] for a bad period.
pub fn recorder_config(settings: &Settings) -> Result<RecorderConfig, StoreError> {
    let report = &settings.file().report;
    Ok(RecorderConfig {
        queue_capacity: report.queue_capacity,
        batch_size: report.batch_size,
        flush_interval: Duration::from_millis(report.flush_interval_ms),
        periods: periods(settings)?,
        ..RecorderConfig::default()
    })
}
