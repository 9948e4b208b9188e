//! `esaas serve` as a real process over a test's own database (simulated Kubernetes, a free loopback
//! port), for the tests that need the binary: its signals and its log lines.

use std::time::Duration;

use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

/// A running `esaas serve`.
pub struct Portal {
    /// The process.
    pub child: Child,
    /// Its standard output (the log), line by line, from after the "listening" line.
    pub lines: Lines<BufReader<ChildStdout>>,
    /// The address it listens on.
    pub addr: String,
    /// The log lines read so far (up to and including "listening").
    pub head: Vec<String>,
}

/// The URL of this test's own database (sqlx::test made it on the server of `DATABASE_URL`).
pub fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for database tests");
    let name = pool.connect_options().get_database().unwrap().to_owned();
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&name);
    url.to_string()
}

impl Portal {
    /// Start `esaas serve` with these extra variables and wait until it listens.
    pub async fn start(pool: &PgPool, env: &[(&str, &str)]) -> Portal {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_esaas"));
        command
            .arg("serve")
            .env("DATABASE_URL", database_url(pool))
            .env("ESAAS_LISTEN", "127.0.0.1:0")
            .env("ESAAS_KUBE", "sim")
            .env("ESAAS_SIM_LISTEN", "")
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut head = Vec::new();
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                head.push(line.clone());
                if line.contains("ESaaS Portal listening") {
                    return listening_addr(&line);
                }
            }
            panic!("esaas serve ended before listening: {head:?}");
        })
        .await
        .expect("esaas serve listens within 60 s");
        Portal {
            child,
            lines,
            addr,
            head,
        }
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Send SIGTERM, wait for the exit (at most 20 s) and return its code and every log line.
    pub async fn stop(mut self) -> (Option<i32>, Vec<String>) {
        let pid = self.child.id().unwrap().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("esaas serve stops within 20 s of SIGTERM")
            .unwrap();
        let mut all = self.head;
        while let Some(line) = self.lines.next_line().await.unwrap() {
            all.push(line);
        }
        (status.code(), all)
    }
}

/// The address of the "listening" line, text (`addr=1.2.3.4:5`) or JSON (`"addr":"1.2.3.4:5"`).
fn listening_addr(line: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
        return v["addr"].as_str().expect("a JSON addr field").to_owned();
    }
    let at = line.find("addr=").expect("the address is logged") + 5;
    line[at..].split_whitespace().next().unwrap().to_owned()
}
