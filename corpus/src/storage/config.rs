//! Remote-store settings: AWS credentials, region and endpoint (environment first, then the shared
//! `~/.aws/config` and `~/.aws/credentials` files with profiles), and quarry's retry, timeout and
//! multipart knobs (environment variables, so that every command and every Slurm task agrees).
//!
//! `object_store`'s `AmazonS3Builder::from_env` reads only environment variables; users of the AWS
//! CLI usually keep keys in the shared files instead, so those are read here with the same
//! precedence as the AWS CLI: environment variables win over the credentials file, which wins over
//! the config file, and `AWS_PROFILE` picks the profile (`default` otherwise).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use object_store::{BackoffConfig, ClientOptions, RetryConfig};

/// Credentials, region and endpoint for S3, resolved from the environment and the shared files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
    /// Session token (temporary credentials).
    pub session_token: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Endpoint of an S3-compatible server (`http://127.0.0.1:9000`).
    pub endpoint: Option<String>,
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.trim().is_empty())
}

fn home() -> Option<PathBuf> {
    env("HOME").map(PathBuf::from)
}

impl AwsSettings {
    /// Resolves the settings: environment variables, then the credentials file, then the config
    /// file, for the profile in `AWS_PROFILE` (or `AWS_DEFAULT_PROFILE`, else `default`).
    pub fn resolve() -> AwsSettings {
        let profile = env("AWS_PROFILE")
            .or_else(|| env("AWS_DEFAULT_PROFILE"))
            .unwrap_or_else(|| "default".to_string());
        let creds_path = env("AWS_SHARED_CREDENTIALS_FILE")
            .map(PathBuf::from)
            .or_else(|| home().map(|h| h.join(".aws/credentials")));
        let config_path = env("AWS_CONFIG_FILE")
            .map(PathBuf::from)
            .or_else(|| home().map(|h| h.join(".aws/config")));
        let read = |p: &Option<PathBuf>| {
            p.as_ref()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default()
        };
        let creds = profile_section(&parse_ini(&read(&creds_path)), &profile, false);
        let config = profile_section(&parse_ini(&read(&config_path)), &profile, true);
        let pick = |envs: &[&str], key: &str| -> Option<String> {
            envs.iter()
                .find_map(|k| env(k))
                .or_else(|| creds.get(key).cloned())
                .or_else(|| config.get(key).cloned())
        };
        AwsSettings {
            access_key_id: pick(&["AWS_ACCESS_KEY_ID"], "aws_access_key_id"),
            secret_access_key: pick(&["AWS_SECRET_ACCESS_KEY"], "aws_secret_access_key"),
            session_token: pick(&["AWS_SESSION_TOKEN"], "aws_session_token"),
            region: pick(&["AWS_REGION", "AWS_DEFAULT_REGION"], "region"),
            endpoint: pick(
                &["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"],
                "endpoint_url",
            ),
        }
    }
}

/// `section name → key → value` of an INI-style AWS file. Nested (indented) sub-sections such as
/// `s3 =\n  endpoint_url = ...` are read as `s3.endpoint_url`.
fn parse_ini(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut section: Option<String> = None;
    let mut nested: Option<String> = None;
    for raw in text.lines() {
        let line = raw.split(['#', ';']).next().unwrap_or("");
        if line.trim().is_empty() {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.trim().to_string());
            nested = None;
            continue;
        }
        let Some(sec) = &section else { continue };
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
        if !indented {
            nested = None;
        }
        if v.is_empty() && !indented {
            nested = Some(k);
            continue;
        }
        let key = match (&nested, indented) {
            (Some(n), true) => format!("{n}.{k}"),
            _ => k,
        };
        out.entry(sec.clone()).or_default().insert(key, v);
    }
    out
}

/// The keys of one profile. The config file names profiles `[profile NAME]` (except `[default]`);
/// the credentials file names them `[NAME]`. An `s3.endpoint_url` counts as `endpoint_url`.
fn profile_section(
    ini: &BTreeMap<String, BTreeMap<String, String>>,
    profile: &str,
    config_file: bool,
) -> BTreeMap<String, String> {
    let names = if config_file && profile != "default" {
        vec![format!("profile {profile}")]
    } else if config_file {
        vec!["default".to_string(), "profile default".to_string()]
    } else {
        vec![profile.to_string()]
    };
    let mut m = names
        .iter()
        .find_map(|n| ini.get(n))
        .cloned()
        .unwrap_or_default();
    if let Some(ep) = m.get("s3.endpoint_url").cloned() {
        m.insert("endpoint_url".to_string(), ep);
    }
    m
}

/// Retries, timeouts and multipart sizes for remote I/O, from `QUARRY_*` environment variables.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `QUARRY_RETRIES` | 10 | retries of one request (5xx, 429, SlowDown, resets) |
/// | `QUARRY_RETRY_TIMEOUT` | 180 | seconds after which a request is not retried any more |
/// | `QUARRY_RETRY_BACKOFF_MS` | 100 | first backoff; doubles each retry, with jitter |
/// | `QUARRY_RETRY_MAX_BACKOFF_MS` | 15000 | backoff cap |
/// | `QUARRY_IO_TIMEOUT` | 60 | seconds without any bytes before a request fails (and is retried) |
/// | `QUARRY_S3_PART_SIZE` | 16 MiB | multipart part size (S3 needs at least 5 MiB) |
/// | `QUARRY_S3_MULTIPART_THRESHOLD` | part size | objects at least this large use multipart upload |
/// | `QUARRY_S3_CONCURRENCY` | 4 | parts in flight per multipart upload |
#[derive(Debug, Clone)]
pub struct RemoteSettings {
    /// Retry policy handed to `object_store`.
    pub retry: RetryConfig,
    /// Read (stall) timeout per request.
    pub io_timeout: Duration,
    /// Multipart part size in bytes.
    pub part_size: usize,
    /// Objects at least this large are uploaded in parts.
    pub multipart_threshold: u64,
    /// Parts in flight per upload.
    pub concurrency: usize,
}

/// Minimum S3 part size (every part but the last).
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

impl Default for RemoteSettings {
    /// The defaults of the table above.
    fn default() -> Self {
        RemoteSettings {
            retry: RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_millis(15_000),
                    base: 2.0,
                },
                max_retries: 10,
                retry_timeout: Duration::from_secs(180),
            },
            io_timeout: Duration::from_secs(60),
            part_size: 16 * 1024 * 1024,
            multipart_threshold: 16 * 1024 * 1024,
            concurrency: 4,
        }
    }
}

impl RemoteSettings {
    /// Reads the `QUARRY_*` variables; an unparsable value is an error naming the variable.
    pub fn from_env() -> Result<RemoteSettings, String> {
        fn num<T: std::str::FromStr>(k: &str, default: T) -> Result<T, String> {
            match env(k) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| format!("{k}={v} is not a number")),
            }
        }
        let part_size: usize = num("QUARRY_S3_PART_SIZE", 16 * 1024 * 1024)?;
        if part_size < MIN_PART_SIZE {
            return Err(format!(
                "QUARRY_S3_PART_SIZE={part_size} is below S3's minimum part size of {MIN_PART_SIZE} bytes"
            ));
        }
        Ok(RemoteSettings {
            retry: RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(num("QUARRY_RETRY_BACKOFF_MS", 100)?),
                    max_backoff: Duration::from_millis(num("QUARRY_RETRY_MAX_BACKOFF_MS", 15_000)?),
                    base: 2.0,
                },
                max_retries: num("QUARRY_RETRIES", 10)?,
                retry_timeout: Duration::from_secs(num("QUARRY_RETRY_TIMEOUT", 180)?),
            },
            io_timeout: Duration::from_secs(num("QUARRY_IO_TIMEOUT", 60)?),
            part_size,
            multipart_threshold: num("QUARRY_S3_MULTIPART_THRESHOLD", part_size as u64)?,
            concurrency: num("QUARRY_S3_CONCURRENCY", 4usize)?.max(1),
        })
    }

    /// HTTP client options: no cap on a whole request (objects can be large and slow), but a
    /// stall of `io_timeout` without bytes fails the request so that it is retried.
    pub fn client_options(&self) -> ClientOptions {
        ClientOptions::new()
            .with_timeout_disabled()
            .with_read_timeout(self.io_timeout)
            .with_connect_timeout(Duration::from_secs(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_profiles_like_the_aws_cli() {
        let config = "[default]\nregion = eu-west-1\n\n[profile lab]\nregion = us-west-2 # comment\ns3 =\n  endpoint_url = http://127.0.0.1:9000\n";
        let creds =
            "[default]\naws_access_key_id = AK1\naws_secret_access_key = SK1\n[lab]\naws_access_key_id=AK2\naws_secret_access_key=SK2\n";
        let c = parse_ini(config);
        let k = parse_ini(creds);
        let lab = profile_section(&c, "lab", true);
        assert_eq!(lab["region"], "us-west-2");
        assert_eq!(lab["endpoint_url"], "http://127.0.0.1:9000");
        assert_eq!(profile_section(&c, "default", true)["region"], "eu-west-1");
        assert_eq!(
            profile_section(&k, "lab", false)["aws_access_key_id"],
            "AK2"
        );
        assert_eq!(
            profile_section(&k, "default", false)["aws_secret_access_key"],
            "SK1"
        );
        assert!(profile_section(&k, "nope", false).is_empty());
    }
}
