//! A real `redis-server` on 127.0.0.1 for the tests that need one.
//!
//! Needs `redis-server` on the PATH (`.ci/run` installs Debian's). Without it the tests say
//! so and pass, unless `TOWER_BEARER_REDIS=1`, which CI sets, makes its absence a failure.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server, stopped on drop.
pub(crate) struct RedisServer {
    child: Child,
}

impl RedisServer {
    /// The server's process id (for the benches that read its CPU time).
    #[allow(dead_code)]
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A fresh `redis-server` on 127.0.0.1:`port` with this eviction policy, or `None` when none
/// is installed (and not required).
pub(crate) fn redis_server(port: u16, policy: &str) -> Option<RedisServer> {
    let spawned = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .args(["--maxmemory-policy", policy])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match spawned {
        Ok(c) => c,
        Err(e) if std::env::var("TOWER_BEARER_REDIS").as_deref() == Ok("1") => {
            panic!("TOWER_BEARER_REDIS=1 but redis-server cannot start: {e}")
        }
        Err(e) => {
            eprintln!(
                "skipping: redis-server not available ({e}); set TOWER_BEARER_REDIS=1 to require it"
            );
            return None;
        }
    };
    let server = RedisServer { child };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "redis-server did not listen within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(server)
}
