//! DKIM: key (to be written).
