//! DKIM: keygen (to be written).
