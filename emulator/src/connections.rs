//! The emulator's live connections, shared by the WebSocket side and the Management API.
//!
//! A connection is *connecting* while its `$connect` integration runs and *open* once the upgrade is done.
//! As on AWS, the Management API answers 410 Gone for a connection that is connecting, closed or unknown.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use tokio::sync::mpsc;

use crate::ids::now_ms;

/// How many frames may wait for one client before posts are throttled (429).
const QUEUE: usize = 1024;

/// Something to do on a client's socket.
#[derive(Debug)]
pub enum Outbound {
    /// Send a text frame.
    Text(String),
    /// Send a binary frame.
    Binary(Vec<u8>),
    /// Close with a code and a reason.
    Close(u16, String),
}

/// What `GetConnection` tells about a connection.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// When the handshake began, epoch ms.
    pub connected_at: i64,
    /// When a frame last went either way, epoch ms.
    pub last_active_at: i64,
    /// The client's address.
    pub source_ip: String,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
}

struct Entry {
    info: ConnectionInfo,
    sender: Option<mpsc::Sender<Outbound>>,
}

/// Why the Management API refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown, closed, or still connecting: 410.
    Gone,
    /// The client's queue is full: 429.
    Throttled,
}

/// The registry.
#[derive(Default)]
pub struct Connections {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection whose `$connect` is running.
    pub fn begin(&self, id: &str, info: ConnectionInfo) {
        self.lock().insert(id.to_owned(), Entry { info, sender: None });
    }

    /// Marks a connection open; frames for it arrive on the returned receiver.
    pub fn open(&self, id: &str) -> mpsc::Receiver<Outbound> {
        let (sender, receiver) = mpsc::channel(QUEUE);
        if let Some(entry) = self.lock().get_mut(id) {
            entry.sender = Some(sender);
        }
        receiver
    }

    /// Forgets a connection.
    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Notes traffic on a connection.
    pub fn touch(&self, id: &str) {
        if let Some(entry) = self.lock().get_mut(id) {
            entry.info.last_active_at = now_ms();
        }
    }

    /// Queues something for an open connection.
    ///
    /// # Errors
    /// [`Refusal::Gone`] unless the connection is open; [`Refusal::Throttled`] when its queue is full.
    pub fn send(&self, id: &str, outbound: Outbound) -> Result<(), Refusal> {
        let entries = self.lock();
        let sender = entries.get(id).and_then(|e| e.sender.as_ref()).ok_or(Refusal::Gone)?;
        sender.try_send(outbound).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Refusal::Throttled,
            mpsc::error::TrySendError::Closed(_) => Refusal::Gone,
        })
    }

    /// What `GetConnection` answers, for an open connection.
    pub fn info(&self, id: &str) -> Option<ConnectionInfo> {
        self.lock().get(id).filter(|e| e.sender.is_some()).map(|e| e.info.clone())
    }
}
