//! A real HTTP package index on 127.0.0.1 for the tests, serving the
//! fixture pages under `tests/fixtures/index/` (or another folder laid out
//! the same way): `/<folder>/<project>/` is
//! `<folder>/<project>.json` (PEP 691, when the client accepts JSON) or
//! `<folder>/<project>.html` (PEP 503). A few projects misbehave on
//! purpose: `flaky` fails once with a 500, `slow` answers after a second,
//! `down` always answers 503, `broken` is malformed JSON, `private` wants
//! HTTP basic auth as alice:s3cret, `etagged` sends an ETag with
//! `max-age=0` and answers 304 to a matching `If-None-Match`.
//! `/files/<name>` serves `files/<name>` (distributions and their
//! `.metadata`), honouring `Range: bytes=a-b` and `bytes=-n` with a 206.
//! Anything else is a 404.
//!
//! Faults on demand: a sidecar `<file>.fault` next to a served file
//! (`files/x.whl.fault`, `simple/x.json.fault`) holds words that change
//! how that file is answered (see [`Fault`]): `status 503`,
//! `retry-after 2`, `truncate 100`, `stall 300`, `times 1` (only the first
//! request faults; by default every one does), `for-ms 2000` (only
//! requests in the first two seconds fault), `encoding gzip` (the file
//! holds gzip bytes, sent as they are with `Content-Encoding: gzip`),
//! `content-type image/png` (sent as that type instead of its own).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `alice:s3cret`, base64-encoded.
const ALICE: &str = "Basic YWxpY2U6czNjcmV0";
/// A file of this name in a served `files/` folder makes the server answer
/// 403 instead of 404 for the files it lacks there.
pub const REFUSE_MISSING: &str = ".refuse-missing";

const ETAG: &str = "\"v1\"";

#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub authorization: Option<String>,
    pub if_none_match: Option<String>,
}

pub struct IndexServer {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl IndexServer {
    pub fn start() -> IndexServer {
        IndexServer::serving(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/index"))
    }

    /// A server over another folder laid out like `tests/fixtures/index/`,
    /// for files a test makes as it runs.
    pub fn serving(root: PathBuf) -> IndexServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (root, log, seen) = (root.clone(), log.clone(), seen.clone());
                std::thread::spawn(move || serve(stream, &root, &log, &seen));
            }
        });
        IndexServer { port, requests }
    }

    /// The URL of a fixture folder as an index, e.g. `simple`.
    pub fn url(&self, folder: &str) -> String {
        format!("http://127.0.0.1:{}/{folder}/", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("request log").clone()
    }

    /// The requests for project pages (not for files or their metadata).
    pub fn page_requests(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|request| !request.path.starts_with("/files/"))
            .collect()
    }
}

/// How a file is to be answered instead of plainly, read from its
/// `.fault` sidecar.
#[derive(Debug, Default, Clone, PartialEq)]
struct Fault {
    /// Answer this status (no body) instead of the file.
    status: Option<u16>,
    /// With `status`, a `Retry-After` header of these seconds.
    retry_after: Option<u64>,
    /// Send only this many bytes of the body (the length header stays).
    truncate: Option<usize>,
    /// Wait this many milliseconds before answering.
    stall_ms: Option<u64>,
    /// Fault only the first this many requests for the file.
    times: Option<usize>,
    /// Fault only for this many milliseconds after the file's first
    /// request (a server that is busy for a while).
    for_ms: Option<u64>,
    /// The file the fault is for, to tell when it was first asked for.
    file: PathBuf,
    /// The file is already encoded so: say so in `Content-Encoding`.
    encoding: Option<String>,
    /// Send this `Content-Type` instead of the file's own.
    content_type: Option<String>,
}

impl Fault {
    fn of(file: &Path) -> Option<Fault> {
        let mut sidecar = file.as_os_str().to_owned();
        sidecar.push(".fault");
        let text = std::fs::read_to_string(sidecar).ok()?;
        let mut fault = Fault {
            file: file.to_path_buf(),
            ..Fault::default()
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        for pair in words.chunks(2) {
            let value = pair.get(1).copied().unwrap_or_default();
            match pair[0] {
                "status" => fault.status = value.parse().ok(),
                "retry-after" => fault.retry_after = value.parse().ok(),
                "truncate" => fault.truncate = value.parse().ok(),
                "stall" => fault.stall_ms = value.parse().ok(),
                "times" => fault.times = value.parse().ok(),
                "for-ms" => fault.for_ms = value.parse().ok(),
                "encoding" => fault.encoding = Some(value.to_string()),
                "content-type" => fault.content_type = Some(value.to_string()),
                other => panic!(
                    "unknown fault `{other}` in the sidecar of {}",
                    file.display()
                ),
            }
        }
        Some(fault)
    }

    /// Apply this fault to request `attempt` (1-based): a status is
    /// answered here (the stream is taken); otherwise the part of `body`
    /// to send is returned (all of it, or the truncated part).
    fn apply<'a>(
        &self,
        stream: &mut Option<TcpStream>,
        attempt: usize,
        body: &'a [u8],
    ) -> &'a [u8] {
        if self.times.is_some_and(|times| attempt > times) {
            return body;
        }
        if let Some(ms) = self.for_ms {
            static FIRST: Mutex<Option<HashMap<PathBuf, std::time::Instant>>> = Mutex::new(None);
            let mut first = FIRST.lock().expect("first requests");
            let since = *first
                .get_or_insert_with(HashMap::new)
                .entry(self.file.clone())
                .or_insert_with(std::time::Instant::now);
            if since.elapsed() >= Duration::from_millis(ms) {
                return body;
            }
        }
        if let Some(ms) = self.stall_ms {
            std::thread::sleep(Duration::from_millis(ms));
        }
        if let Some(status) = self.status {
            let retry = self
                .retry_after
                .map(|seconds| format!("Retry-After: {seconds}\r\n"))
                .unwrap_or_default();
            if let Some(stream) = stream.take() {
                respond(stream, status, "text/plain", b"fault", &retry);
            }
            return body;
        }
        match self.truncate {
            Some(keep) => &body[..keep.min(body.len())],
            None => body,
        }
    }
}

/// Answer `body` for `file`, through its fault when it has one.
fn respond_faulty(
    stream: TcpStream,
    file: &Path,
    attempt: usize,
    status: u16,
    content_type: &str,
    body: &[u8],
    extra_headers: &str,
) {
    let Some(fault) = Fault::of(file) else {
        return respond(stream, status, content_type, body, extra_headers);
    };
    let encoded;
    let extra_headers = match &fault.encoding {
        Some(encoding) => {
            encoded = format!("{extra_headers}Content-Encoding: {encoding}\r\n");
            encoded.as_str()
        }
        None => extra_headers,
    };
    let content_type = fault.content_type.as_deref().unwrap_or(content_type);
    let mut stream = Some(stream);
    let sent = fault.apply(&mut stream, attempt, body);
    let Some(stream) = stream else { return };
    if sent.len() == body.len() {
        return respond(stream, status, content_type, body, extra_headers);
    }
    // Truncated: the length promises the whole body, the connection ends early.
    respond_cut(
        stream,
        status,
        content_type,
        body.len(),
        sent,
        extra_headers,
    );
}

fn serve(
    stream: TcpStream,
    root: &Path,
    log: &Mutex<Vec<Request>>,
    seen: &Mutex<HashMap<String, usize>>,
) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let authorization = headers.get("authorization").cloned();
    let if_none_match = headers.get("if-none-match").cloned();
    log.lock().expect("request log").push(Request {
        path: path.clone(),
        authorization: authorization.clone(),
        if_none_match: if_none_match.clone(),
    });
    let attempt = {
        let mut seen = seen.lock().expect("attempts");
        let count = seen.entry(path.clone()).or_insert(0);
        *count += 1;
        *count
    };
    let accepts_json = headers
        .get("accept")
        .is_some_and(|accept| accept.contains("application/vnd.pypi.simple.v1+json"));
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if let ["files", name] = parts.as_slice() {
        // The private project's files want the same login as its page.
        if name.starts_with("private-") && authorization.as_deref() != Some(ALICE) {
            return respond(stream, 401, "text/plain", b"who are you?", "");
        }
        return serve_file(
            stream,
            &root.join("files").join(name),
            headers.get("range"),
            attempt,
        );
    }
    let (folder, project) = match parts.as_slice() {
        [folder, project] => (*folder, *project),
        _ => return respond(stream, 404, "text/plain", b"not found", ""),
    };
    let mut extra_headers = "";
    if project == "etagged" {
        if if_none_match.as_deref() == Some(ETAG) {
            return respond(stream, 304, "text/plain", b"", "");
        }
        extra_headers = "ETag: \"v1\"\r\nCache-Control: max-age=0\r\n";
    }
    match project {
        "flaky" if attempt == 1 => return respond(stream, 500, "text/plain", b"try again", ""),
        "down" => return respond(stream, 503, "text/plain", b"down", ""),
        "slow" => std::thread::sleep(Duration::from_secs(1)),
        "private" if authorization.as_deref() != Some(ALICE) => {
            return respond(stream, 401, "text/plain", b"who are you?", "")
        }
        _ => {}
    }
    let file =
        |extension: &str| -> PathBuf { root.join(folder).join(format!("{project}.{extension}")) };
    let json = file("json");
    let html = file("html");
    if (accepts_json || !html.exists()) && json.exists() {
        let body = std::fs::read(&json).expect("fixture");
        respond_faulty(
            stream,
            &json,
            attempt,
            200,
            "application/vnd.pypi.simple.v1+json",
            &body,
            extra_headers,
        )
    } else if html.exists() {
        let body = std::fs::read(&html).expect("fixture");
        respond_faulty(
            stream,
            &html,
            attempt,
            200,
            "text/html; charset=utf-8",
            &body,
            extra_headers,
        )
    } else {
        respond(stream, 404, "text/plain", b"not found", "")
    }
}

fn serve_file(stream: TcpStream, path: &Path, range: Option<&String>, attempt: usize) {
    let Ok(body) = std::fs::read(path) else {
        if let Some(fault) = Fault::of(path) {
            // A fault on a file that does not exist still answers as told.
            let mut stream = Some(stream);
            fault.apply(&mut stream, attempt, b"");
            if let Some(stream) = stream {
                respond(stream, 404, "text/plain", b"not here", "");
            }
            return;
        }
        // Like a storage bucket that hides what it does not have.
        let refuses = path
            .parent()
            .is_some_and(|folder| folder.join(REFUSE_MISSING).exists());
        let status = if refuses { 403 } else { 404 };
        return respond(stream, status, "text/plain", b"not here", "");
    };
    let total = body.len();
    let wanted = range.and_then(|range| {
        let spec = range.strip_prefix("bytes=")?;
        let (start, end) = spec.split_once('-')?;
        if start.is_empty() {
            let suffix: usize = end.parse().ok()?;
            Some((total.saturating_sub(suffix), total.saturating_sub(1)))
        } else {
            let start: usize = start.parse().ok()?;
            let end = end
                .parse::<usize>()
                .map_or(total - 1, |end| end.min(total - 1));
            (start <= end).then_some((start, end))
        }
    });
    // A file named `*unsized*` is served without its length, as RFC 9110
    // allows (`/*`).
    let length = if path.to_string_lossy().contains("unsized") {
        "*".to_string()
    } else {
        total.to_string()
    };
    match wanted {
        Some((start, end)) => respond_faulty(
            stream,
            path,
            attempt,
            206,
            "application/octet-stream",
            &body[start..=end],
            &format!("Content-Range: bytes {start}-{end}/{length}\r\n"),
        ),
        None => respond_faulty(
            stream,
            path,
            attempt,
            200,
            "application/octet-stream",
            &body,
            "",
        ),
    }
}

fn respond(
    mut stream: TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    extra_headers: &str,
) {
    let reason = match status {
        200 => "OK",
        206 => "Partial Content",
        304 => "Not Modified",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Service Unavailable",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra_headers}Connection: close\r\n\r\n",
        body.len()
    );
    // The client may have given up (a timeout test); that is fine here.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// A response whose `Content-Length` promises `length` bytes but whose
/// connection closes after `sent`.
fn respond_cut(
    mut stream: TcpStream,
    status: u16,
    content_type: &str,
    length: usize,
    sent: &[u8],
    extra_headers: &str,
) {
    let head = format!(
        "HTTP/1.1 {status} OK\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n{extra_headers}Connection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(sent);
}
