//! One question to an index host, with its credentials and the usual
//! retries: a project page (stored in the cache as it streams in), or a
//! file or part of one (HTTP range reads), bounded in size.

use reqwest::header::{
    ACCEPT, CONTENT_RANGE, CONTENT_TYPE, IF_MODIFIED_SINCE, IF_NONE_MATCH, RANGE,
};
use reqwest::{StatusCode, Url};

use crate::index::cache::{Answer, Grouping, Validators};
use crate::index::page::{self, FileView, Unreadable, VersionFilter};

/// PEP 691 content negotiation: JSON preferred, HTML accepted.
use super::*;

impl IndexClient {
    /// The bytes at `url` (a distribution file's `.metadata`, say), or
    /// `None` for a 404; with the index's credentials and the usual retries.
    /// With `range` (an HTTP `Range` value such as `bytes=-65536`) a server
    /// that honours it sends only that part. A body longer than `limit`
    /// bytes is refused as soon as it is known to be, not after it filled
    /// the memory.
    pub fn fetch_bytes(
        &self,
        url: &str,
        range: Option<&str>,
        limit: u64,
    ) -> Result<Option<Bytes>, FetchError> {
        let parsed = Url::parse(url).map_err(|err| FetchError::Malformed {
            url: url.to_string(),
            message: err.to_string(),
        })?;
        let public = crate::redact::url(&parsed);
        if self.settings.mode == CacheMode::Offline {
            return Err(FetchError::NotCached {
                url: public.to_string(),
            });
        }
        let network = |message: String| FetchError::Network {
            url: public.to_string(),
            message,
        };
        let runtime = self.runtime().map_err(&network)?;
        runtime.block_on(async {
            let http = self.http().map_err(&network)?;
            let credentials = self.credentials(&parsed);
            let mut last_error = None;
            let mut asked_wait = None;
            for attempt in 0..=self.settings.retries {
                if attempt > 0 {
                    tokio::time::sleep(self.retry_wait(attempt, asked_wait.take())).await;
                }
                let mut request = http.get(public.clone());
                if let Some(range) = range {
                    request = request.header(RANGE, range);
                }
                if let Some((user, password)) = &credentials {
                    request = request.basic_auth(user, Some(password));
                }
                let response = match request.send().await {
                    Ok(response) => response,
                    Err(err) => {
                        last_error = Some(network_error(&public, err));
                        continue;
                    }
                };
                let status = response.status();
                if status == StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                    asked_wait = retry_after(response.headers());
                    last_error = Some(FetchError::Status {
                        url: public.to_string(),
                        status: status.as_u16(),
                    });
                    continue;
                }
                if !status.is_success() {
                    return Err(FetchError::Status {
                        url: public.to_string(),
                        status: status.as_u16(),
                    });
                }
                let content_range = response
                    .headers()
                    .get(CONTENT_RANGE)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_string);
                let partial = status == StatusCode::PARTIAL_CONTENT;
                let too_large = || FetchError::TooLarge {
                    url: public.to_string(),
                    limit,
                };
                if response
                    .content_length()
                    .is_some_and(|length| length > limit)
                {
                    return Err(too_large());
                }
                return match read_capped(response, limit).await {
                    Ok(None) => Err(too_large()),
                    Ok(Some(body)) if !partial => {
                        let total = body.len() as u64;
                        Ok(Some(Bytes {
                            start: 0,
                            total,
                            body,
                        }))
                    }
                    Ok(Some(body)) => {
                        // `bytes START-END/TOTAL`, as RFC 9110 writes it; a
                        // part whose place or file length is not given
                        // (`/*`) cannot be used.
                        let span = content_range.as_deref().and_then(|value| {
                            let (span, total) = value.strip_prefix("bytes ")?.split_once('/')?;
                            let start: u64 = span.split_once('-')?.0.parse().ok()?;
                            Some((start, total.parse::<u64>().ok()?))
                        });
                        match span {
                            Some((start, total)) => Ok(Some(Bytes { start, total, body })),
                            None => Err(FetchError::Malformed {
                                url: public.to_string(),
                                message: format!(
                                    "a partial answer whose Content-Range ({}) does not say where it lies in the file",
                                    content_range.as_deref().unwrap_or("none")
                                ),
                            }),
                        }
                    }
                    Err(err) => Err(network_error(&public, err)),
                };
            }
            Err(last_error.unwrap_or_else(|| task_failed(public.as_str())))
        })
    }

    /// Ask the index for a page, store what it answers, and give the files
    /// of the releases `filter` wants.
    pub(super) async fn fetch(
        &self,
        url: &Url,
        public: &Url,
        project: Option<&str>,
        filter: &VersionFilter,
        mut stale: Option<Validators>,
    ) -> Result<Answer, FetchError> {
        let credentials = self.credentials(url);
        let malformed = |message: String| FetchError::Malformed {
            url: public.to_string(),
            message,
        };
        let unreadable = |why: Unreadable| FetchError::Unreadable {
            url: public.to_string(),
            why,
        };
        let mut last_error = None;
        let mut asked_wait = None;
        for attempt in 0..=self.settings.retries {
            if attempt > 0 {
                tokio::time::sleep(self.retry_wait(attempt, asked_wait.take())).await;
            }
            let http = self.http().map_err(|message| FetchError::Network {
                url: public.to_string(),
                message,
            })?;
            let mut request = http.get(public.clone()).header(ACCEPT, ACCEPT_PAGES);
            if let Some((user, password)) = &credentials {
                request = request.basic_auth(user, Some(password));
            }
            if let Some(validators) = &stale {
                if let Some(etag) = &validators.etag {
                    request = request.header(IF_NONE_MATCH, etag);
                }
                if let Some(modified) = &validators.last_modified {
                    request = request.header(IF_MODIFIED_SINCE, modified);
                }
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(err) => {
                    last_error = Some(network_error(public, err));
                    continue;
                }
            };
            let status = response.status();
            let headers = response.headers().clone();
            let base = crate::redact::url(response.url());
            match status {
                StatusCode::NOT_MODIFIED => {
                    if let (Some(mut validators), Some(cache)) = (stale.take(), &self.cache) {
                        refresh_validators(&mut validators, &headers);
                        let reread = cache
                            .revalidate(public, &validators)
                            .ok()
                            .and_then(|()| cache.load(public, filter));
                        if let Some(entry) = reread {
                            return Ok(entry.answer);
                        }
                    }
                    // The entry went away meanwhile (or was never sent):
                    // the next attempt asks for the whole page.
                    last_error = Some(malformed(
                        "HTTP 304 to a request whose cached page is gone".into(),
                    ));
                }
                StatusCode::NOT_FOUND | StatusCode::GONE => {
                    let mut validators = Validators::new();
                    refresh_validators(&mut validators, &headers);
                    if let Some(cache) = &self.cache {
                        // A cache that cannot be written only costs the next run time.
                        let _ = cache.store(public, &validators, None);
                    }
                    return Ok(Answer::NotFound);
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    return Err(FetchError::Denied {
                        url: public.to_string(),
                        status: status.as_u16(),
                    })
                }
                status if status.is_success() => {
                    let body = match read_body(response, self.settings.max_page).await {
                        Ok(Some(body)) => body,
                        // Asking again would only inflate the bomb again.
                        Ok(None) => {
                            return Err(unreadable(Unreadable::TooLarge {
                                limit: self.settings.max_page,
                            }))
                        }
                        Err(err) => {
                            last_error = Some(network_error(public, err));
                            continue;
                        }
                    };
                    // No Content-Type is read as HTML, leniently; any type
                    // but HTML and JSON is refused, as pip refuses it.
                    let content_type = headers.get(CONTENT_TYPE).map(|value| {
                        String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase()
                    });
                    let is_json = match content_type.as_deref() {
                        Some(value) if value.contains("json") => true,
                        None => false,
                        Some(value) if value.contains("html") => false,
                        Some(value) => {
                            let essence = value.split(';').next().unwrap_or_default().trim();
                            return Err(unreadable(Unreadable::ContentType(essence.to_string())));
                        }
                    };
                    let mut grouping =
                        Grouping::new(project, filter, self.cache.is_some(), body.len());
                    if is_json {
                        page::parse_json(&body, &base, |file| grouping.push(&file))
                            .map_err(|err| unreadable(Unreadable::Json(err.0.to_string())))?;
                    } else {
                        let page = page::parse_html(&String::from_utf8_lossy(&body), &base);
                        if page.files.is_empty() {
                            if let Some(why) = page::empty_html_problem(&body) {
                                return Err(unreadable(why));
                            }
                        }
                        for file in &page.files {
                            grouping.push(&FileView::from(file));
                        }
                    }
                    let (stored, found) = grouping.finish();
                    // Nothing borrows the page any more: its megabytes go
                    // before the entry is written.
                    drop(body);
                    let mut validators = Validators::new();
                    refresh_validators(&mut validators, &headers);
                    if let Some(cache) = &self.cache {
                        let _ = cache.store(public, &validators, Some(&stored));
                    }
                    return Ok(Answer::Found(found));
                }
                status if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS => {
                    asked_wait = retry_after(&headers);
                    last_error = Some(FetchError::Status {
                        url: public.to_string(),
                        status: status.as_u16(),
                    });
                }
                status => {
                    return Err(FetchError::Status {
                        url: public.to_string(),
                        status: status.as_u16(),
                    })
                }
            }
        }
        Err(last_error.unwrap_or_else(|| FetchError::Network {
            url: public.to_string(),
            message: "no attempt was made".into(),
        }))
    }
}

/// The longest `Retry-After` honoured: an index asking for more is not
/// waited for (the attempt fails as any other would).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A `Retry-After` of delta-seconds (RFC 9110 §10.2.3), within
/// [`MAX_RETRY_AFTER`]. The HTTP-date form is not honoured.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds)).filter(|wait| *wait <= MAX_RETRY_AFTER)
}

impl IndexClient {
    /// How long to wait before retry `attempt` (1-based): the backoff,
    /// doubling each time, or longer when the index asked for it.
    fn retry_wait(&self, attempt: u32, asked: Option<Duration>) -> Duration {
        let factor = 2u32.saturating_pow(attempt - 1);
        let backoff = self.settings.backoff.saturating_mul(factor);
        asked.map_or(backoff, |asked| asked.max(backoff))
    }
}
