//! SPF (RFC 7208).
