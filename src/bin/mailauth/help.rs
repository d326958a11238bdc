//! The exit-status table of each subcommand, shown at the end of its
//! `--help`. Each table lists exactly the codes its command returns (see
//! `output.rs` for the constants); the CLI tests check them.

/// The pointer at the end of `mailauth --help`.
pub(crate) const TOP: &str = "\
Exit status: 0 means success or a clean result, 2 bad arguments; the other
codes depend on the command: see `mailauth <COMMAND> --help`.";

/// `mailauth authenticate`.
pub(crate) const AUTHENTICATE: &str = "\
Exit status:
  0  the message may be delivered: DMARC asks for no action (SPF or DKIM
     may still have failed; the Authentication-Results field tells), or
     the client is not checked (--authenticated, --internal-network)
  1  DMARC asks to quarantine or reject the message
  2  bad arguments
  3  temporary failure (DNS timeout or server failure) in SPF, DKIM or
     DMARC, and DMARC asks for no action: try again later
  4  input or configuration error (unreadable zone file or message, no
     name server configured, a settings file that cannot be read or holds
     an error)
With --config, the session decides: 1 when it refuses, holds or discards
the message (at HELO, MAIL FROM or the end of the message), 3 when it
defers it, 0 when it accepts it.";

/// `mailauth spf` (the check).
pub(crate) const SPF: &str = "\
Exit status:
  0  pass
  1  fail, softfail, neutral, none or permerror
  2  bad arguments
  3  temperror (DNS timeout or server failure): try again later
  4  input or configuration error (unreadable zone file, no name server
     configured)";

/// `mailauth spf lint`.
pub(crate) const SPF_LINT: &str = "\
Exit status:
  0  the record is clean
  1  problems were found (listed in the output)
  2  bad arguments, or a DNS lookup failed (the report is incomplete)
  4  input or configuration error (unreadable zone file, no name server
     configured)";

/// `mailauth dmarc lint`.
pub(crate) const DMARC_LINT: &str = "\
Exit status:
  0  the policy record is clean and every report destination is authorized
  1  problems were found (listed in the output)
  2  bad arguments, or a DNS lookup failed (the report is incomplete)
  4  input or configuration error (unreadable zone file, no name server
     configured)";

/// `mailauth report parse`.
pub(crate) const REPORT_PARSE: &str = "\
Reads each FILE: a report e-mail (its gzip, zip or XML attachments), a
.xml.gz or .zip file, or bare XML (RFC 9990 or RFC 7489 form), and prints
one line per report and a table per sending source: messages, the share
with an aligned DKIM pass and an aligned SPF pass, and the dispositions.

Exit status:
  0  every file was read
  2  bad arguments
  4  a file could not be read or holds no readable report (the others are
     still summarized; the errors are printed, or listed under \"errors\"
     with --json)";

/// `mailauth verify`.
pub(crate) const VERIFY: &str = "\
Exit status:
  0  at least one signature verified (dkim=pass)
  1  no signature verified: none, fail or permerror
  2  bad arguments
  3  no signature verified and one had a temporary DNS failure: try again
     later
  4  input or configuration error (unreadable zone file or message, no
     name server configured)";

/// `mailauth sign`.
pub(crate) const SIGN: &str = "\
Exit status:
  0  the message was signed and printed
  2  bad arguments (options that do not fit together or do not fit the key)
  4  input or configuration error (unreadable key or signing table, no
     usable From address, no signing table entry, a settings file that
     cannot be read or holds an error, output not writable)";

/// `mailauth genkey`.
pub(crate) const GENKEY: &str = "\
Exit status:
  0  the key pair and the DNS record were written
  2  bad arguments (invalid domain, selector or key size)
  4  a file exists already (without --force) or cannot be written";

/// `mailauth testkey`.
pub(crate) const TESTKEY: &str = "\
Exit status:
  0  the published key matches the private key (every key of the table)
  1  it does not: the record is missing, malformed, revoked, holds another
     key, or the lookup failed permanently
  2  bad arguments
  3  temporary DNS failure: try again later
  4  input or configuration error (unreadable private key, key table,
     configuration or zone file, no name server configured)
With --key-table or -x, the worst over all keys: 4, then 1, then 3.";

/// `mailauth config import`.
pub(crate) const CONFIG_IMPORT: &str = "\
Exit status:
  0  the settings were written; the options not carried over (if any) are
     named on standard error, one a line: file:line: option: why
  2  bad arguments
  4  a configuration file cannot be read";

/// `mailauth config check`.
pub(crate) const CONFIG_CHECK: &str = "\
Exit status:
  0  the settings file loads; the effective settings were printed
  2  bad arguments
  4  the settings file (or a file it names) cannot be read or holds an
     error (named with its file and line)";
