//! DKIM: table (to be written).
