//! RFC 5322 message scanning: header fields, addresses, the header/body split.
