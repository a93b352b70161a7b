//! A loopback index each test fills with the pages and files it needs
//! (`simple/<project>.json`, `files/`), a project folder and a private
//! cache, and `reqlock` run against them. Shared by the test files that
//! make their own wheels, sdists and projects.

use std::process::Command;

use super::dists::sha256;
use super::index_server::IndexServer;
pub use super::Run;

pub struct Index {
    pub root: tempfile::TempDir,
    pub server: IndexServer,
    /// The project folder, where `requirements.txt` is.
    pub dir: tempfile::TempDir,
    pub cache: tempfile::TempDir,
}

impl Index {
    pub fn new() -> Index {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("simple")).unwrap();
        std::fs::create_dir_all(root.path().join("files")).unwrap();
        let server = IndexServer::serving(root.path().to_path_buf());
        Index {
            root,
            server,
            dir: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    /// [`Index::new`] with `requirements.txt` holding `text`.
    pub fn with_requirements(text: &str) -> Index {
        let index = Index::new();
        index.requirements(text);
        index
    }

    pub fn requirements(&self, text: &str) {
        std::fs::write(self.dir.path().join("requirements.txt"), text).unwrap();
    }

    /// Put `body` in `files/` without any page naming it: only a URL
    /// reaches it. Returns that URL.
    pub fn host(&self, filename: &str, body: &[u8]) -> String {
        std::fs::write(self.root.path().join("files").join(filename), body).unwrap();
        format!("http://127.0.0.1:{}/files/{filename}", self.server.port)
    }

    /// Serve `body` as the only file of `project` on the index.
    pub fn publish(&self, project: &str, filename: &str, body: &[u8]) {
        self.publish_with_hash(project, filename, body, &sha256(body));
    }

    /// [`Index::publish`] with the page giving `hash` as the file's sha256
    /// (a wrong one, say).
    pub fn publish_with_hash(&self, project: &str, filename: &str, body: &[u8], hash: &str) {
        self.host(filename, body);
        let page = serde_json::json!({
            "meta": {"api-version": "1.1"},
            "name": project,
            "files": [{
                "filename": filename,
                "url": format!("../../files/{filename}"),
                "hashes": {"sha256": hash},
            }],
        });
        std::fs::write(
            self.root
                .path()
                .join("simple")
                .join(format!("{project}.json")),
            page.to_string(),
        )
        .unwrap();
    }

    /// Serve `files` (name and body) as the files of `project`, in order.
    pub fn publish_files(&self, project: &str, files: &[(&str, &[u8])]) {
        let listed: Vec<serde_json::Value> = files
            .iter()
            .map(|(filename, body)| {
                self.host(filename, body);
                serde_json::json!({
                    "filename": filename,
                    "url": format!("../../files/{filename}"),
                    "hashes": {"sha256": sha256(body)},
                })
            })
            .collect();
        let page = serde_json::json!({
            "meta": {"api-version": "1.1"},
            "name": project,
            "files": listed,
        });
        std::fs::write(
            self.root
                .path()
                .join("simple")
                .join(format!("{project}.json")),
            page.to_string(),
        )
        .unwrap();
    }

    /// Make the server answer the served file at `path` (`files/x.whl`,
    /// `simple/x.json`) with `fault` (see `index_server`'s `Fault`).
    pub fn fault(&self, path: &str, fault: &str) {
        std::fs::write(self.root.path().join(format!("{path}.fault")), fault).unwrap();
    }

    /// Serve `page` (PEP 691 JSON) as the page of `project`.
    pub fn local_page(&self, project: &str, page: &str) {
        let path = self
            .root
            .path()
            .join("simple")
            .join(format!("{project}.json"));
        std::fs::write(path, page).unwrap();
    }

    /// Write `body` under the project folder, at `path`.
    pub fn local(&self, path: &str, body: &[u8]) {
        let target = self.dir.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, body).unwrap();
    }

    /// `reqlock COMMAND ARGS FILE` against this index, in the project, not
    /// yet started.
    pub fn command(&self, command: &str, args: &[&str], file: &str) -> Command {
        let mut reqlock = super::reqlock(self.cache.path());
        reqlock
            .arg(command)
            .args([
                "--python-version",
                "3.12",
                "--platform",
                "manylinux_2_28_x86_64",
            ])
            .args(["--index-url", &self.server.url("simple")])
            .args(args)
            .arg(file)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1");
        reqlock
    }

    /// `reqlock COMMAND ARGS FILE`, run to its end.
    pub fn run_on(&self, command: &str, args: &[&str], file: &str) -> Run {
        output(self.command(command, args, file))
    }

    pub fn run(&self, command: &str, args: &[&str]) -> Run {
        self.run_on(command, args, "requirements.txt")
    }

    pub fn lock(&self, args: &[&str]) -> Run {
        self.run("lock", args)
    }

    /// `reqlock lock`, with the command changed by `adjust` first.
    pub fn lock_with(&self, args: &[&str], adjust: impl FnOnce(&mut Command)) -> Run {
        let mut command = self.command("lock", args, "requirements.txt");
        adjust(&mut command);
        output(command)
    }

    /// How many requests asked for `files/<filename>`.
    pub fn file_requests(&self, filename: &str) -> usize {
        let path = format!("/files/{filename}");
        self.server
            .requests()
            .iter()
            .filter(|request| request.path == path)
            .count()
    }

    /// `text` with this server's port replaced, for snapshots.
    pub fn portless(&self, text: &str) -> String {
        text.replace(&self.server.port.to_string(), "[port]")
    }
}

fn output(mut command: Command) -> Run {
    super::run(&mut command)
}
