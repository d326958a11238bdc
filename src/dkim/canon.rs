//! DKIM: canon (to be written).
