//! Logins from `~/.netrc` (or `$NETRC`), as pip's requests reads them.

use std::collections::HashMap;

/// Logins from `~/.netrc`, by host.
#[derive(Debug, Default)]
pub(super) struct Netrc {
    pub(super) machines: HashMap<String, (String, String)>,
    pub(super) default: Option<(String, String)>,
}

impl Netrc {
    pub(super) fn from_environment() -> Netrc {
        let path = std::env::var_os("NETRC")
            .map(std::path::PathBuf::from)
            .or_else(|| dirs::home_dir().map(|home| home.join(".netrc")));
        path.and_then(|path| std::fs::read_to_string(path).ok())
            .map(|text| Netrc::parse(&text))
            .unwrap_or_default()
    }

    pub(super) fn parse(text: &str) -> Netrc {
        let mut netrc = Netrc::default();
        let mut tokens = text.split_whitespace();
        // (host or None for `default`, login, password) being read.
        let mut current: Option<(Option<String>, String, String)> = None;
        let finish = |entry: Option<(Option<String>, String, String)>, netrc: &mut Netrc| {
            if let Some((host, login, password)) = entry {
                match host {
                    Some(host) => {
                        netrc.machines.entry(host).or_insert((login, password));
                    }
                    None => netrc.default = Some((login, password)),
                }
            }
        };
        while let Some(token) = tokens.next() {
            match token {
                "machine" => {
                    finish(current.take(), &mut netrc);
                    current = tokens
                        .next()
                        .map(|host| (Some(host.to_string()), String::new(), String::new()));
                }
                "default" => {
                    finish(current.take(), &mut netrc);
                    current = Some((None, String::new(), String::new()));
                }
                "login" | "password" | "account" => {
                    let value = tokens.next().unwrap_or_default().to_string();
                    if let Some(entry) = current.as_mut() {
                        match token {
                            "login" => entry.1 = value,
                            "password" => entry.2 = value,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        finish(current.take(), &mut netrc);
        netrc
    }

    pub(super) fn login_for(&self, host: &str) -> Option<&(String, String)> {
        self.machines.get(host).or(self.default.as_ref())
    }
}
