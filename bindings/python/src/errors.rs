//! The exception hierarchy, and the one place where errors of the core
//! become Python exceptions.
//!
//! ```text
//! ValueError
//!  +-- MailAuthError            misuse or bad configuration
//!       +-- ConfigError         an option or argument value is invalid
//!       +-- InvalidKeyError     a private key cannot be read or made
//!       +-- SignError           a message cannot be signed
//!       +-- ZoneError           zone-file text does not parse
//!       +-- ResolverError       a Python resolver returned something unusable
//!       +-- ParseError          a header field given to a parser does not parse
//! Exception
//!  +-- DnsError                 raised by resolvers to give an answer kind
//!       +-- NXDomain, NoData, TempFail, PermFail
//! ```
//!
//! Protocol outcomes (an SPF `fail`, a DKIM `permerror`) are results, never
//! exceptions.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;

create_exception!(
    mailauth,
    MailAuthError,
    PyValueError,
    "Base class of the errors of mailauth: misuse or bad configuration."
);
create_exception!(
    mailauth,
    ConfigError,
    MailAuthError,
    "An option or argument has an invalid value."
);
create_exception!(
    mailauth,
    InvalidKeyError,
    MailAuthError,
    "A private key cannot be read or generated."
);
create_exception!(
    mailauth,
    SignError,
    MailAuthError,
    "A message cannot be signed (no From field, header too large, invalid domain or selector)."
);
create_exception!(
    mailauth,
    ZoneError,
    MailAuthError,
    "Zone-file text does not parse."
);
create_exception!(
    mailauth,
    ResolverError,
    MailAuthError,
    "A resolver returned a value that is not a list of records of the asked type."
);
create_exception!(
    mailauth,
    ParseError,
    MailAuthError,
    "A header field given to a parser does not parse."
);
create_exception!(
    mailauth.dns,
    DnsError,
    PyException,
    "Raised by a resolver's lookup to give a DNS answer other than records."
);
create_exception!(mailauth.dns, NXDomain, DnsError, "The name does not exist.");
create_exception!(
    mailauth.dns,
    NoData,
    DnsError,
    "The name exists but has no records of the asked type."
);
create_exception!(
    mailauth.dns,
    TempFail,
    DnsError,
    "A failure that may go away later (timeout, SERVFAIL). The first argument may name the failure."
);
create_exception!(
    mailauth.dns,
    PermFail,
    DnsError,
    "A failure that will not go away by asking again. The first argument may name the failure."
);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("MailAuthError", py.get_type::<MailAuthError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("InvalidKeyError", py.get_type::<InvalidKeyError>())?;
    m.add("SignError", py.get_type::<SignError>())?;
    m.add("ZoneError", py.get_type::<ZoneError>())?;
    m.add("ResolverError", py.get_type::<ResolverError>())?;
    m.add("ParseError", py.get_type::<ParseError>())?;
    m.add("DnsError", py.get_type::<DnsError>())?;
    m.add("NXDomain", py.get_type::<NXDomain>())?;
    m.add("NoData", py.get_type::<NoData>())?;
    m.add("TempFail", py.get_type::<TempFail>())?;
    m.add("PermFail", py.get_type::<PermFail>())?;
    Ok(())
}

/// An error of the core (or of an argument) as a Python exception.
pub(crate) enum Error {
    /// A bad option or argument value.
    Config(String),
    /// A key that cannot be read.
    Key(mailauth::dkim::crypto::KeyError),
    /// A key that cannot be generated.
    Keygen(mailauth::dkim::keygen::KeygenError),
    /// A message or signer that cannot sign.
    Sign(mailauth::dkim::sign::SignError),
    /// Zone text that does not parse.
    Zone(mailauth::dns::ZoneError),
    /// A resolver's answer that is not usable.
    Resolver(String),
    /// An answer supplied for a query the check did not ask.
    Unexpected(mailauth::UnexpectedAnswer),
    /// An ARC sealer that cannot be built, or a message it cannot seal.
    Seal(mailauth::arc::SealError),
}

impl From<Error> for PyErr {
    fn from(error: Error) -> PyErr {
        match error {
            Error::Config(message) => ConfigError::new_err(message),
            Error::Key(e) => InvalidKeyError::new_err(e.to_string()),
            Error::Keygen(e) => InvalidKeyError::new_err(e.to_string()),
            Error::Sign(e) => SignError::new_err(e.to_string()),
            Error::Zone(e) => ZoneError::new_err(e.to_string()),
            Error::Resolver(message) => ResolverError::new_err(message),
            Error::Unexpected(e) => MailAuthError::new_err(e.to_string()),
            Error::Seal(e) => match e {
                mailauth::arc::SealError::Invalid(_)
                | mailauth::arc::SealError::AuthservId(_)
                | mailauth::arc::SealError::ChainMismatch { .. } => {
                    ConfigError::new_err(e.to_string())
                }
                mailauth::arc::SealError::KeyType(_) => InvalidKeyError::new_err(e.to_string()),
                _ => SignError::new_err(e.to_string()),
            },
        }
    }
}

impl From<mailauth::dkim::crypto::KeyError> for Error {
    fn from(e: mailauth::dkim::crypto::KeyError) -> Error {
        Error::Key(e)
    }
}

impl From<mailauth::dkim::keygen::KeygenError> for Error {
    fn from(e: mailauth::dkim::keygen::KeygenError) -> Error {
        Error::Keygen(e)
    }
}

impl From<mailauth::dkim::sign::SignError> for Error {
    fn from(e: mailauth::dkim::sign::SignError) -> Error {
        Error::Sign(e)
    }
}

impl From<mailauth::dkim::sign::InvalidValue> for Error {
    fn from(e: mailauth::dkim::sign::InvalidValue) -> Error {
        Error::Sign(e.into())
    }
}

impl From<mailauth::dns::ZoneError> for Error {
    fn from(e: mailauth::dns::ZoneError) -> Error {
        Error::Zone(e)
    }
}

impl From<mailauth::UnexpectedAnswer> for Error {
    fn from(e: mailauth::UnexpectedAnswer) -> Error {
        Error::Unexpected(e)
    }
}

impl From<mailauth::arc::SealError> for Error {
    fn from(error: mailauth::arc::SealError) -> Error {
        Error::Seal(error)
    }
}
