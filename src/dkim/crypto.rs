//! DKIM: crypto (to be written).
