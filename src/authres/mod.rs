//! Authentication-Results (RFC 8601) as a data structure.
