//! A small multi-host web site on loopback for the crawler tests: one listener per 127.0.0.x
//! address, a thread per connection, every request logged (host, path, user agent).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One response of the site.
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers besides Content-Length / Connection.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Send no Content-Length (the body ends when the connection closes).
    pub no_length: bool,
}

impl Reply {
    /// A 200 with the given type and body.
    pub fn ok(ct: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), ct.into())],
            body: body.into(),
            delay: Duration::ZERO,
            no_length: false,
        }
    }
    /// An HTML page.
    pub fn html(body: &str) -> Reply {
        Reply::ok("text/html; charset=utf-8", body)
    }
    /// A status with an empty text body.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            ..Reply::ok("text/plain", "")
        }
    }
    /// A redirect.
    pub fn redirect(status: u16, to: &str) -> Reply {
        let mut r = Reply::status(status);
        r.headers.push(("Location".into(), to.into()));
        r
    }
}

/// The routing function: (host index, path with query) → reply.
pub type Handler = dyn Fn(usize, &str) -> Reply + Send + Sync;

/// One logged request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// Index of the host (listener) that got it.
    pub host: usize,
    /// Path and query.
    pub path: String,
    /// `User-Agent` header.
    pub user_agent: String,
}

/// The running site.
pub struct Site {
    /// `http://127.0.0.x:port` of each host, in order.
    pub origins: Vec<String>,
    /// Every request so far.
    pub log: Arc<Mutex<Vec<Logged>>>,
    stop: Arc<AtomicBool>,
    addrs: Vec<SocketAddr>,
}

impl Site {
    /// Starts one listener per address (`127.0.0.2`, ...) on an ephemeral port.
    pub fn start(ips: &[&str], handler: Arc<Handler>) -> Site {
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut origins = Vec::new();
        let mut addrs = Vec::new();
        for (i, ip) in ips.iter().enumerate() {
            let l = TcpListener::bind((*ip, 0)).expect("bind loopback address");
            let addr = l.local_addr().unwrap();
            origins.push(format!("http://{addr}"));
            addrs.push(addr);
            let (log, stop, handler) = (log.clone(), stop.clone(), handler.clone());
            thread::spawn(move || {
                for s in l.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(s) = s else { continue };
                    let (log, handler) = (log.clone(), handler.clone());
                    thread::spawn(move || serve(i, s, &*handler, &log));
                }
            });
        }
        Site {
            origins,
            log,
            stop,
            addrs,
        }
    }

    /// Paths requested from host `i`.
    pub fn paths(&self, i: usize) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.host == i)
            .map(|l| l.path.clone())
            .collect()
    }

    /// Every logged request.
    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for a in &self.addrs {
            let _ = TcpStream::connect_timeout(a, Duration::from_millis(100));
        }
    }
}

fn serve(host: usize, s: TcpStream, handler: &Handler, log: &Mutex<Vec<Logged>>) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    // Keep-alive: serve requests until the client closes or a reply has no length.
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut ua = String::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("user-agent") {
                    ua = v.trim().to_string();
                }
            }
        }
        log.lock().unwrap().push(Logged {
            host,
            path: path.clone(),
            user_agent: ua,
        });
        let reply = handler(host, &path);
        if !reply.delay.is_zero() {
            thread::sleep(reply.delay);
        }
        let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if reply.no_length {
            head.push_str("Connection: close\r\n\r\n");
        } else {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
        }
        if w.write_all(head.as_bytes()).is_err() {
            return;
        }
        // Large bodies go in pieces so a client that gives up closes the connection early.
        for c in reply.body.chunks(64 * 1024) {
            if w.write_all(c).is_err() {
                return;
            }
        }
        let _ = w.flush();
        if reply.no_length {
            return;
        }
    }
}
