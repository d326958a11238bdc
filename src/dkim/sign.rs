//! DKIM: sign (to be written).
