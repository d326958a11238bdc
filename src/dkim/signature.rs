//! DKIM: signature (to be written).
