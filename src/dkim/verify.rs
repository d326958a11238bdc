//! DKIM: verify (to be written).
