//! DKIM: tags (to be written).
