//! DKIM (RFC 6376, with RFC 8301 and RFC 8463).

pub mod canon;
pub mod crypto;
pub mod key;
pub mod keygen;
pub mod sign;
pub mod signature;
pub mod table;
pub mod tags;
pub mod verify;
