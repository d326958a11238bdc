//! The `--zone FILE` / `--nameserver ADDR:PORT` options: which DNS the
//! command asks.

use std::net::SocketAddr;
use std::path::PathBuf;

use mailauth::dns::{Resolver, StubConfig, StubResolver, ZoneResolver};

use crate::output::Failure;

/// Where DNS answers come from (default: the system's name servers from
/// /etc/resolv.conf).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DnsArgs {
    /// Answer DNS queries from this zone file (RFC 1035 master format) instead of the network.
    #[arg(long, value_name = "FILE", conflicts_with = "nameserver")]
    pub(crate) zone: Option<PathBuf>,
    /// Ask this recursive name server (e.g. 127.0.0.1:53) instead of those in /etc/resolv.conf.
    #[arg(long, value_name = "ADDR:PORT")]
    pub(crate) nameserver: Option<SocketAddr>,
}

impl DnsArgs {
    /// Builds the resolver the options name.
    pub(crate) fn resolver(&self, json: bool) -> Result<Box<dyn Resolver>, Failure> {
        if let Some(path) = &self.zone {
            let text = crate::output::read_file(path, json)?;
            let text = String::from_utf8(text).map_err(|_| {
                Failure::input(format!("{}: zone file is not UTF-8", path.display()), json)
            })?;
            let zone = ZoneResolver::from_zone_text(&text)
                .map_err(|e| Failure::input(format!("{}: {e}", path.display()), json))?;
            return Ok(Box::new(zone));
        }
        if let Some(address) = self.nameserver {
            let config = StubConfig {
                nameservers: vec![address],
                ..StubConfig::default()
            };
            return Ok(Box::new(StubResolver::new(config)));
        }
        StubResolver::from_system()
            .map(|r| Box::new(r) as Box<dyn Resolver>)
            .map_err(|e| Failure::input(e, json))
    }
}
