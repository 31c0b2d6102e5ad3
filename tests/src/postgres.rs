//! Throwaway PostgreSQL clusters for the tests that need one: `initdb` and `pg_ctl` from the
//! machine's server binaries (on PATH or under `/usr/lib/postgresql/<version>/bin`), a
//! cluster in a temporary directory listening on 127.0.0.1 on a free port, stopped and
//! removed when the [`PgCluster`] drops. As root (where `initdb` refuses to run) the
//! binaries run as the `postgres` user through `runuser`.
//!
//! With `DATABASE_URL` set, no cluster is started: each [`PgCluster`] is a fresh database
//! created on that server (and dropped afterwards), so a CI service container works too.
//!
//! Without binaries and without `DATABASE_URL` the tests fail with a message naming the
//! package to install: they never skip silently.

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A database the test owns, on its own cluster or on `DATABASE_URL`'s server.
pub struct PgCluster {
    /// `postgres://` URL of the test's database.
    pub url: String,
    owned: Option<OwnedCluster>,
    /// With `DATABASE_URL`: the server's admin URL and the database to drop.
    shared: Option<(String, String)>,
}

struct OwnedCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    run_as_postgres: bool,
}

const INSTALL_HINT: &str = "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH nor under /usr/lib/postgresql/<version>/bin. Install them (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf install postgresql-server`; macOS: `brew install postgresql`) or set DATABASE_URL to a server where the tests may create databases.";

impl PgCluster {
    /// Starts a cluster (or creates a database on `DATABASE_URL`); panics with what to
    /// install or what failed.
    pub fn start() -> PgCluster {
        match std::env::var("DATABASE_URL") {
            Ok(admin) if !admin.trim().is_empty() => Self::on_shared_server(admin),
            _ => Self::own_cluster(false).unwrap_or_else(|problem| panic!("{problem}")).0,
        }
    }

    /// A cluster of its own (also with `DATABASE_URL` set) that serves TLS with a server
    /// certificate for 127.0.0.1 from a throwaway CA (made with the `openssl` tool); returns
    /// it and the CA's PEM file.
    pub fn start_with_tls() -> (PgCluster, PathBuf) {
        match Self::own_cluster(true) {
            Ok((cluster, Some(ca))) => (cluster, ca),
            Ok((_, None)) => panic!("the TLS cluster has no CA"),
            Err(problem) => panic!("{problem}"),
        }
    }

    fn own_cluster(tls: bool) -> Result<(PgCluster, Option<PathBuf>), String> {
        let bin = server_binaries().ok_or_else(|| INSTALL_HINT.to_string())?;
        let run_as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("ats-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory for PostgreSQL: {e}"))?;
        if run_as_postgres {
            run(Command::new("chown").arg("-R").arg("postgres:").arg(dir.path()), "chown")?;
        }
        let data = dir.path().join("data");
        let cluster = OwnedCluster { dir, bin, run_as_postgres };
        cluster.run_tool(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=trust".as_ref(),
                "--no-sync".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
            ],
        )?;
        let port = free_port()?;
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            cluster.dir.path().display()
        );
        let ca = if tls {
            let (ca, certificate, key) = cluster.certificates()?;
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                certificate.display(),
                key.display()
            ));
            Some(ca)
        } else {
            None
        };
        let log = cluster.dir.path().join("server.log");
        cluster.run_tool(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "start".as_ref(),
            ],
        )?;
        let cluster = PgCluster {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            owned: Some(cluster),
            shared: None,
        };
        Ok((cluster, ca))
    }

    fn on_shared_server(admin: String) -> PgCluster {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "ats_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        admin_statement(&admin, &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create a test database on DATABASE_URL: {e}"));
        let url = with_database(&admin, &name);
        PgCluster { url, owned: None, shared: Some((admin, name)) }
    }

    /// A client of the test's database, its connection driven on the current runtime.
    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.url));
        tokio::spawn(connection);
        client
    }

    /// The server's log (own clusters only), for failure messages.
    pub fn server_log(&self) -> String {
        self.owned
            .as_ref()
            .and_then(|c| std::fs::read_to_string(c.dir.path().join("server.log")).ok())
            .unwrap_or_default()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some(cluster) = &self.owned {
            let data = cluster.dir.path().join("data");
            let _ = cluster.run_tool(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-m".as_ref(),
                    "immediate".as_ref(),
                    "stop".as_ref(),
                ],
            );
        }
        if let Some((admin, name)) = &self.shared {
            let _ = admin_statement(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

impl OwnedCluster {
    /// A throwaway CA and a server certificate for 127.0.0.1 signed by it, in `tls/`:
    /// (CA PEM, server certificate, server key), readable by the server.
    fn certificates(&self) -> Result<(PathBuf, PathBuf, PathBuf), String> {
        let tls = self.dir.path().join("tls");
        std::fs::create_dir_all(&tls)
            .map_err(|e| format!("cannot create {}: {e}", tls.display()))?;
        std::fs::write(tls.join("san.ext"), "subjectAltName=IP:127.0.0.1\n")
            .map_err(|e| format!("cannot write the certificate extensions: {e}"))?;
        let openssl = |args: &[&str]| {
            run(
                Command::new("openssl").args(args).current_dir(&tls),
                "openssl (to make test certificates)",
            )
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=ats test CA",
        ])?;
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ])?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ])?;
        let key = tls.join("server.key");
        run(Command::new("chmod").arg("600").arg(&key), "chmod")?;
        if self.run_as_postgres {
            run(Command::new("chown").arg("-R").arg("postgres:").arg(&tls), "chown")?;
        }
        Ok((tls.join("ca.pem"), tls.join("server.crt"), key))
    }

    fn run_tool(&self, tool: &str, args: &[&std::ffi::OsStr]) -> Result<(), String> {
        let program = self.bin.join(tool);
        let mut command = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        command.args(args).current_dir(self.dir.path());
        run(&mut command, tool)
    }
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output =
        command.stdin(Stdio::null()).output().map_err(|e| format!("cannot run {what}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The directory holding `initdb` and `pg_ctl`: PATH first, then the newest version under
/// the Debian/Ubuntu layout.
fn server_binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    if let Some(dir) = on_path.into_iter().find(|d| d.join("initdb").is_file()) {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("no free loopback port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.set_path(&format!("/{database}"));
            parsed.to_string()
        }
        Err(_) => format!("{}/{database}", url.trim_end_matches('/')),
    }
}

/// Runs one statement on the admin URL from a runtime of its own (usable from Drop).
fn admin_statement(admin: &str, sql: &str) -> Result<(), String> {
    let admin = admin.to_string();
    let sql = sql.to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            client.batch_execute(&sql).await.map_err(|e| e.to_string())
        })
    })
    .join()
    .map_err(|_| "the admin connection panicked".to_string())?
}
